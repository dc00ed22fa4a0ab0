#!/usr/bin/env bash
# README command 2: set up, build, and run the whole test suite under one preset
# (release by default; .ci/run also runs asan).
set -euo pipefail
preset="${1:-release}"
cd "$(dirname "$0")/.."
bash scripts/build.sh "$preset"
ctest --preset "$preset" --parallel "$(nproc)"
