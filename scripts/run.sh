#!/usr/bin/env bash
# README command 1: set up, build, and run the project's main job.
# Until the `simulate` executable lands (the scenarios issue), the main job is the
# benchmark suite; each benchmark prints its figures and the run exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh release
for b in build/release/bench/*_bench; do
  echo "== ${b##*/}"
  "$b" --benchmark_counters_tabular=true
done
