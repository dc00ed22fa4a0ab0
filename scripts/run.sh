#!/usr/bin/env bash
# README command 1: set up, build, and run `simulate` on the most telling bundled scenario:
# a station link that fails and comes back, onto a portfast port (traffic back in 5 s) and
# onto an ordinary 802.1D port (35 s: Listening and Learning, 2 x 15 s). Prints the summary,
# writes the JSON report and a pcap next to the build, and exits with simulate's status
# (0: every expectation met). The benchmarks are in scripts/bench.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh release
out=build/release/run
mkdir -p "$out"
build/release/sim/simulate scenarios/stp_portfast_vs_8021d_port.json \
  --report "$out/stp_portfast_vs_8021d_port.report.json" --pcap-dir "$out"
