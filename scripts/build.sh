#!/usr/bin/env bash
# Configures and builds one CMake preset (release, debug or asan) after setup.sh.
set -euo pipefail
preset="${1:-release}"
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset "$preset"
cmake --build --preset "$preset" --parallel "$(nproc)"
