// Simulated TCP bulk transfer over a 10 GbE path (issue 6 "Benchmarks"): two TCP engines
// behind NICs joined by a 10 Gb/s link with 5 us delay, run by the kernel
// (tests/traffic/tcp_nic_world.hpp). One iteration runs 10 ms of simulated time; the
// counter `sim_bytes_per_s` is simulated TCP payload delivered per wall-clock second.
// Variants: TSO (super-segments of up to 64 KiB, segmented by the NIC in hardware),
// TSO segmented by the NIC model in software, and no TSO (one engine segment per frame).
// Checksums are offloaded to the NIC in all three.
#include <benchmark/benchmark.h>

#include "../tests/traffic/tcp_nic_world.hpp"

using namespace vnetsim;

namespace {

void run(benchmark::State& state, bool tcp_tso, bool nic_tso) {
  test_tcp::nic_world_config c;
  c.link.bandwidth_bps = 10'000'000'000;
  c.link.delay = sim_time::from_us(5);
  c.caps.tso = nic_tso;
  c.tcp_a.tso = tcp_tso;
  c.tcp_a.recv_buffer = c.tcp_b.recv_buffer = 1024 * 1024;
  c.tcp_a.send_buffer = 4 * 1024 * 1024;
  test_tcp::nic_world w(c);
  w.connect();
  w.sim.run_until(sim_time::from_ms(20));  // warm up: slow start done, pools grown
  const std::uint64_t start = w.ends[1].delivered;
  sim_time t = w.sim.now();
  for (auto _ : state) {
    t += sim_time::from_ms(10);
    w.sim.run_until(t);
  }
  const std::uint64_t bytes = w.ends[1].delivered - start;
  state.counters["sim_bytes_per_s"] =
      benchmark::Counter(static_cast<double>(bytes), benchmark::Counter::kIsRate);
  state.counters["sim_Gbps"] = static_cast<double>(bytes) * 8 /
                               (static_cast<double>(state.iterations()) * 0.01) / 1e9;
  if (w.a().counters().tcpRetransSegs != 0 || w.b().counters().bad_payload != 0) {
    state.SkipWithError("unexpected retransmissions or bad payload");
  }
}

void BM_tcp_bulk_10g_tso(benchmark::State& state) { run(state, true, true); }
void BM_tcp_bulk_10g_tso_software(benchmark::State& state) { run(state, true, false); }
void BM_tcp_bulk_10g_no_tso(benchmark::State& state) { run(state, false, true); }

}  // namespace

BENCHMARK(BM_tcp_bulk_10g_tso)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_tcp_bulk_10g_tso_software)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_tcp_bulk_10g_no_tso)->Unit(benchmark::kMillisecond);
