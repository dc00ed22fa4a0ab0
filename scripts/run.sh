#!/usr/bin/env bash
# README command 1: set up, build, and run `simulate` on the most telling bundled scenario:
# an ESX host whose home link loses its path to the core while its carrier stays up. Link
# state cannot see it; beacon probing (interval 1 s, threshold 3) declares vmnic0 failed at 9 s
# and the bond fails over: the VM's UDP flow shows a 4 s gap. Prints the summary, writes the
# JSON report next to the build, and exits with simulate's status (0: every
# expectation met). The benchmarks are in scripts/bench.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh release
out=build/release/run
mkdir -p "$out"
build/release/sim/simulate scenarios/esx_beacon_upstream_failure.json \
  --report "$out/esx_beacon_upstream_failure.report.json" --pcap-dir "$out"
