#!/usr/bin/env bash
# The benchmark suite (README command 1 before `simulate` existed): set up, build release,
# run every benchmark; each prints its figures and the run exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh release
for b in build/release/bench/*_bench; do
  echo "== ${b##*/}"
  "$b" --benchmark_counters_tabular=true
done
