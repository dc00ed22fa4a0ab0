// End-to-end UDP flow cost (issue 6 "Benchmarks": frames per wall second through host,
// bond, link and switch): endpoint -> nic -> 10 GbE link -> switch -> 10 GbE link -> nic ->
// endpoint, and (bm_udp_flow_vm_bond) from a VM through the host's vswitch and bond first. Each iteration runs the simulator for 1 ms of simulated time; items are the
// frames the receiving endpoint's flow accounting delivered in it, so items_per_second
// is delivered frames per wall second, everything included (flow send event, UDP/IPv4/
// Ethernet headers, checksum requests and the NIC filling them, two link hops with their
// arrival events, the switch, the receive path with sequence and latency accounting).
#include <benchmark/benchmark.h>

#include "vnetsim/dev/link.hpp"
#include "vnetsim/dev/nic.hpp"
#include "vnetsim/net/switch.hpp"
#include "vnetsim/traffic/endpoint.hpp"
#include "../tests/traffic/host_world.hpp"
#include "bench_world.hpp"

using namespace vnetsim;
using namespace vnetsim::literals;

namespace {

struct bench_world : bench::world {
  traffic::flow_id flow = 0;

  bench_world(std::uint64_t pps, traffic::arrival_process process, std::uint32_t payload) {
    const auto sw = add_switch(2);
    const auto lc = bench::ten_gig_link();
    for (std::uint32_t i = 0; i < 2; ++i) {
      traffic::endpoint_config c;
      c.name = fmt::format("ep{}", i);
      c.mac = wire::mac_address::from_u64(0x0050'5600'1000ULL + i);
      c.ip = wire::ipv4_address{10, 0, 0, static_cast<std::uint8_t>(i + 1)};
      add_station(c, sw, static_cast<net::port_no>(i), lc);
    }
    // Stops at 120 s: far beyond what an iteration count reaches.
    auto f = bench::udp_flow("f", 0, wire::ipv4_address{10, 0, 0, 2}, payload, pps, 120_s);
    f.process = process;
    flow = eps.add_udp_flow(f);
    sim.reserve(1 << 12);
    sim.run_for(10_ms);  // ARP, pool slabs, rings
  }
};

void run(benchmark::State& state, traffic::arrival_process process) {
  const auto pps = static_cast<std::uint64_t>(state.range(0));
  const auto payload = static_cast<std::uint32_t>(state.range(1));
  bench_world w(pps, process, payload);
  std::uint64_t before = w.eps.flow_stats(w.flow).delivered;
  for (auto _ : state) w.sim.run_for(1_ms);
  const auto& s = w.eps.flow_stats(w.flow);
  state.SetItemsProcessed(static_cast<std::int64_t>(s.delivered - before));
  state.counters["lost"] = static_cast<double>(s.lost);
  state.counters["sim_ms"] = static_cast<double>(w.sim.now().ns()) / 1e6;
}

void bm_udp_flow_constant(benchmark::State& state) { run(state, traffic::arrival_process::constant); }
void bm_udp_flow_poisson(benchmark::State& state) { run(state, traffic::arrival_process::poisson); }

/// The same flow from a VM behind an ESX host (tests/traffic/host_world.hpp): VM endpoint ->
/// vswitch -> 2-member out-mac bond -> vmnic -> 10 GbE link -> switch -> 10 GbE link -> NIC
/// -> peer endpoint. Checksums are requested from the vNIC (the bond offers them) and filled
/// by the member NIC.
void bm_udp_flow_vm_bond(benchmark::State& state) {
  test::host_world w;
  const auto f = bench::udp_flow("f", w.vm_ep, w.eps.config(w.peer).ip, static_cast<std::uint32_t>(state.range(1)),
                                 static_cast<std::uint64_t>(state.range(0)), 120_s);
  const auto flow = w.eps.add_udp_flow(f);
  w.sim.reserve(1 << 12);
  w.sim.run_for(10_ms);  // ARP, pool slabs, rings, the bond's start
  const std::uint64_t before = w.eps.flow_stats(flow).delivered;
  for (auto _ : state) w.sim.run_for(1_ms);
  const auto& s = w.eps.flow_stats(flow);
  state.SetItemsProcessed(static_cast<std::int64_t>(s.delivered - before));
  state.counters["lost"] = static_cast<double>(s.lost);
  state.counters["sim_ms"] = static_cast<double>(w.sim.now().ns()) / 1e6;
  if (s.delivered == before || w.bond().tx_frames == 0) state.SkipWithError("nothing crossed the bond");
}

}  // namespace

BENCHMARK(bm_udp_flow_vm_bond)->Args({1'000'000, 64})->Args({500'000, 1400})->Unit(benchmark::kMicrosecond);

// Args: packets per second, UDP payload bytes.
BENCHMARK(bm_udp_flow_constant)->Args({1'000'000, 64})->Args({500'000, 1400})->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_udp_flow_poisson)->Args({1'000'000, 64})->Unit(benchmark::kMicrosecond);
