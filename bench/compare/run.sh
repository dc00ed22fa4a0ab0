#!/usr/bin/env bash
# vnetsim vs ns-3 on this machine, back to back (issue 9). Installs Debian's libns3-dev
# (ns-3.37) if it is missing (apt-get update once, only what is missing), builds the ns-3
# programs of this folder and the vnetsim release build, runs every workload RUNS times
# per side (default 3) pinned to one CPU with taskset where available, and prints a table
# of medians with min and max and the ratio vnetsim / ns-3. Asserts nothing about speed:
# exits 0 when every program ran.
#
#   bash bench/compare/run.sh            # full size (several minutes)
#   QUICK=1 bash bench/compare/run.sh    # 1/10 of the events / simulated time
#   RUNS=5 CPU=1 WORKLOADS="A B" bash bench/compare/run.sh
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
runs="${RUNS:-3}"
cpu="${CPU:-1}"
workloads="${WORKLOADS:-A B C}"
out="${OUT:-$root/build/compare}"
mkdir -p "$out"

# ---- set-up: libns3-dev and the project's own packages, only what is missing ----------
bash "$root/scripts/setup.sh"
ns3_packages=(libns3-dev)
missing=()
for p in "${ns3_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "compare: missing packages: ${missing[*]}; run as root (or install them) and try again" >&2
    exit 1
  fi
  echo "compare: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
fi

# ---- build ---------------------------------------------------------------------------
(cd "$root" && cmake --preset release >/dev/null &&
  cmake --build build/release --parallel "$(nproc)" --target vnetsim_hold vnetsim_lan vnetsim_host >/dev/null)
vn="$root/build/release/bench/compare"
# ns-3.37's headers do not compile as C++20; its Debian libraries are built as C++17.
ns3_libs=(-lns3-core -lns3-network -lns3-csma -lns3-bridge -lns3-internet -lns3-applications)
for p in ns3_hold ns3_lan ns3_host; do
  if [ ! -x "$out/$p" ] || [ "$here/$p.cc" -nt "$out/$p" ] || [ "$here/compare_common.hpp" -nt "$out/$p" ]; then
    g++ -O2 -std=c++17 -o "$out/$p" "$here/$p.cc" "${ns3_libs[@]}"
  fi
done

pin=()
if command -v taskset >/dev/null && taskset -c "$cpu" true 2>/dev/null; then pin=(taskset -c "$cpu"); fi

# ---- run -----------------------------------------------------------------------------
results="$out/results.txt"
: >"$results"
# run_case <label> <metric> <command...>: RUNS runs, one "label metric value line" each.
run_case() {
  local label="$1" metric="$2" r
  shift 2
  for ((r = 1; r <= runs; ++r)); do
    local line
    line="$("${pin[@]}" "$@")"
    echo "$label | $line" >>"$results"
    echo "  $label run $r: $(echo "$line" | tr ' ' '\n' | grep "^$metric=" | cut -d= -f2) $metric" >&2
  done
}

scale=1
if [ -n "${QUICK:-}" ]; then scale=10; fi
events=$((10000000 / scale))
lan_ms=$((10000 / scale))
host_ms=$((1000 / scale))
# ns-3 runs workload C about 50x slower; it simulates 1/10 of the time (rates are per
# wall second, so the table stays comparable; its start-up share is larger).
ns3_host_ms=$((100 / scale))

for w in $workloads; do
  case "$w" in
    A)
      for n in 1000 1000000; do
        echo "workload A, N=$n" >&2
        # Alternate the sides run by run so that drifting machine load hits both alike.
        for ((r = 1; r <= runs; ++r)); do
          runs=1 run_case "A N=$n vnetsim" events_per_s "$vn/vnetsim_hold" --pending $n --events $events
          runs=1 run_case "A N=$n ns-3 PriorityQueue" events_per_s "$out/ns3_hold" --pending $n --events $events --scheduler ns3::PriorityQueueScheduler
          # ns-3's default scheduler (a std::map) is an order of magnitude slower at 1 M
          # pending: it runs a tenth of the events there (a rate either way).
          map_events=$events
          if [ "$n" -ge 1000000 ]; then map_events=$((events / 10)); fi
          runs=1 run_case "A N=$n ns-3 Map(default)" events_per_s "$out/ns3_hold" --pending $n --events $map_events --scheduler ns3::MapScheduler
        done
      done
      ;;
    B)
      echo "workload B" >&2
      for ((r = 1; r <= runs; ++r)); do
        runs=1 run_case "B vnetsim" frame_hops_per_s "$vn/vnetsim_lan" --seconds-ms $lan_ms
        runs=1 run_case "B ns-3" frame_hops_per_s "$out/ns3_lan" --seconds-ms $lan_ms
      done
      ;;
    C)
      echo "workload C" >&2
      for vms in 8 64 512; do
        for ((r = 1; r <= runs; ++r)); do
          runs=1 run_case "C VMs=$vms vnetsim" frames_per_s "$vn/vnetsim_host" --vms $vms --seconds-ms $host_ms
          runs=1 run_case "C VMs=$vms ns-3" frames_per_s "$out/ns3_host" --vms $vms --seconds-ms $ns3_host_ms
        done
      done
      ;;
    *) echo "compare: unknown workload $w" >&2 ;;
  esac
done

# ---- table ---------------------------------------------------------------------------
python3 - "$results" <<'PY'
import sys, statistics
rows = {}
order = []
for line in open(sys.argv[1]):
    label, kv = line.split(" | ", 1)
    d = dict(x.split("=", 1) for x in kv.split())
    if label not in rows:
        rows[label] = []
        order.append(label)
    rows[label].append(d)

def metric(label):
    w = label.split()[0]
    return {"A": "events_per_s", "B": "frame_hops_per_s", "C": "frames_per_s"}[w]

def med(label, key):
    vals = [float(d[key]) for d in rows[label] if key in d]
    return (statistics.median(vals), min(vals), max(vals)) if vals else None

def fmt(v):
    return f"{v/1e6:.2f} M" if v >= 1e5 else f"{v:.0f}"

def cpu_rate(label, key):
    # The same work divided by CPU seconds instead of wall seconds.
    vals = [float(d[key]) * float(d["seconds"]) / float(d["cpu_seconds"]) for d in rows[label]
            if "cpu_seconds" in d and float(d["cpu_seconds"]) > 0]
    return statistics.median(vals) if vals else None

print()
print("| case | runs | median /s (wall) | min | max | vnetsim / this (wall) | vnetsim / this (CPU time) | peak RSS MiB | events/packet | bytes/pending |")
print("|---|---|---|---|---|---|---|---|---|---|")
for label in order:
    m = metric(label)
    med_, lo, hi = med(label, m)
    prefix = " ".join(label.split()[:2]) if label.split()[0] in ("A", "C") else label.split()[0]
    vn_label = prefix + " vnetsim"
    ratio = ""
    ratio_cpu = ""
    if "ns-3" in label and vn_label in rows:
        ratio = f"{med(vn_label, m)[0] / med_:.1f}x"
        a, b = cpu_rate(vn_label, m), cpu_rate(label, m)
        if a and b:
            ratio_cpu = f"{a / b:.1f}x"
    rss = med(label, "peak_rss_kib")
    epp = med(label, "events_per_packet")
    bpp = med(label, "bytes_per_pending")
    print(f"| {label} | {len(rows[label])} | {fmt(med_)} | {fmt(lo)} | {fmt(hi)} | {ratio} | {ratio_cpu} | "
          f"{rss[0]/1024:.1f} | {'' if epp is None else f'{epp[0]:.2f}'} | {'' if bpp is None else f'{bpp[0]:.0f}'} |")
PY
echo
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs, $(uname -r); pinned: ${pin[*]:-no}; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "raw results: $results"
exit 0
