// Simulated TCP bulk transfer over a 10 GbE path (issue 6 "Benchmarks"): two TCP engines
// behind NICs joined by a 10 Gb/s link with 5 us delay, run by the kernel
// (tests/traffic/tcp_nic_world.hpp). One iteration runs 10 ms of simulated time; the
// counter `sim_bytes_per_s` is simulated TCP payload delivered per wall-clock second.
// Variants: TSO (super-segments of up to 64 KiB, segmented by the NIC in hardware),
// TSO segmented by the NIC model in software, and no TSO (one engine segment per frame).
// Checksums are offloaded to the NIC in all three. The `_stack` variants run the same
// transfer through the endpoint stack (traffic::endpoint_set with ARP and IPv4, and
// tcp::tcp_set) on two NICs joined by the link. The `_vm_bond` variants send from a VM
// behind an ESX host's 2-member bond through a switch (tests/traffic/host_world.hpp), with
// TSO (both members offer it) and without (one member lacks it, so the bond has none).
#include <benchmark/benchmark.h>

#include "../tests/traffic/host_world.hpp"
#include "../tests/traffic/tcp_nic_world.hpp"
#include "vnetsim/traffic/endpoint.hpp"
#include "vnetsim/traffic/tcp_set.hpp"

using namespace vnetsim;

namespace {

/// Warms up for 20 ms (slow start done, pools grown), then simulates 10 ms per iteration;
/// sets the throughput counters from `delivered()` (payload bytes so far) before and after.
template <class Delivered>
void measure(benchmark::State& state, kernel::simulator& sim, Delivered delivered) {
  constexpr sim_time step = sim_time::from_ms(10);
  sim.run_until(sim_time::from_ms(20));
  const std::uint64_t start = delivered();
  sim_time t = sim.now();
  for (auto _ : state) {
    t += step;
    sim.run_until(t);
  }
  const std::uint64_t bytes = delivered() - start;
  state.counters["sim_bytes_per_s"] =
      benchmark::Counter(static_cast<double>(bytes), benchmark::Counter::kIsRate);
  state.counters["sim_Gbps"] = static_cast<double>(bytes) * 8 /
                               (static_cast<double>(state.iterations()) * step.seconds()) / 1e9;
}

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
  measure(state, w.sim, [&] { return w.ends[1].delivered; });
  if (w.a().counters().tcpRetransSegs != 0 || w.b().counters().bad_payload != 0) {
    state.SkipWithError("unexpected retransmissions or bad payload");
  }
}

void BM_tcp_bulk_10g_tso(benchmark::State& state) { run(state, true, true); }
void BM_tcp_bulk_10g_tso_software(benchmark::State& state) { run(state, true, false); }
void BM_tcp_bulk_10g_no_tso(benchmark::State& state) { run(state, false, true); }

/// Two endpoints of an endpoint_set on NICs joined by one 10 Gb/s link, one bulk session.
void run_stack(benchmark::State& state, bool tso) {
  kernel::simulator sim;
  kernel::rng_streams streams{1};
  dev::frame_pool pool;
  dev::link_set links{sim, streams};
  dev::nic_set nics{sim, pool, links};
  traffic::endpoint_set eps{sim, pool, streams};
  tcp::tcp_set tcps{sim, eps, streams};
  dev::link_config lc;
  lc.bandwidth_bps = 10'000'000'000;
  lc.delay = sim_time::from_us(5);
  std::array<dev::nic_id, 2> nic{};
  for (std::uint32_t i = 0; i < 2; ++i) {
    traffic::endpoint_config c;
    c.name = i == 0 ? "a" : "b";
    c.mac = wire::mac_address::from_u64(0x005056000010ULL + i);
    c.ip = wire::ipv4_address(10, 0, 0, static_cast<std::uint8_t>(i + 1));
    const auto ep = eps.add(c);
    dev::nic_config nc;
    nc.mac = c.mac;
    nc.speed_bps = lc.bandwidth_bps;
    nc.caps.tso = tso;
    nic[i] = nics.add(c.name, nc);
    eps.attach_nic(ep, nics, nic[i]);
  }
  const auto link = links.add("wire", lc, eps.nic_endpoint(nic[0]), eps.nic_endpoint(nic[1]));
  nics.attach(nic[0], link, dev::link_side::a);
  nics.attach(nic[1], link, dev::link_side::b);
  tcp::bulk_session_config b;
  b.name = "bulk";
  b.client = 0;
  b.server = 1;
  b.client_tcp.recv_buffer = b.server_tcp.recv_buffer = 1024 * 1024;
  b.client_tcp.send_buffer = 4 * 1024 * 1024;
  b.app.expected_duration = sim_time::from_s(600);
  const auto s = tcps.add_tcp_bulk(b);
  measure(state, sim, [&] { return tcps.report(s).app.bytes_delivered; });
  const auto r = tcps.report(s);
  if (r.client.tcpRetransSegs != 0 || r.server.bad_payload != 0) {
    state.SkipWithError("unexpected retransmissions or bad payload");
  }
}

void BM_tcp_stack_10g_tso(benchmark::State& state) { run_stack(state, true); }
void BM_tcp_stack_10g_no_tso(benchmark::State& state) { run_stack(state, false); }

/// A VM behind an ESX host's 2-member bond (tests/traffic/host_world.hpp) sends to a peer
/// on a switch, 10 GbE everywhere. `tso`: both members offer TSO, so the VM's stack hands
/// super-segments (automatic mode) and the member NIC segments them; otherwise one member
/// lacks TSO, the bond has none [AG2] and the VM's stack sends MSS segments.
void run_vm_bond(benchmark::State& state, bool tso) {
  test::host_world_config hc;
  hc.members[1].tso = tso;
  test::host_world w(hc);
  tcp::tcp_set tcps{w.sim, w.eps, w.streams};
  tcp::bulk_session_config b;
  b.name = "bulk";
  b.client = w.vm_ep;
  b.server = w.peer;
  b.client_tcp.recv_buffer = b.server_tcp.recv_buffer = 1024 * 1024;
  b.client_tcp.send_buffer = 4 * 1024 * 1024;
  b.app.expected_duration = sim_time::from_s(600);
  const auto s = tcps.add_tcp_bulk(b);
  measure(state, w.sim, [&] { return tcps.report(s).app.bytes_delivered; });
  const auto r = tcps.report(s);
  if (r.client.tcpRetransSegs != 0 || r.server.bad_payload != 0 ||
      (r.client.tso_super_segments != 0) != tso) {
    state.SkipWithError("unexpected retransmissions, bad payload or TSO use");
  }
}

void BM_tcp_vm_bond_10g_tso(benchmark::State& state) { run_vm_bond(state, true); }
void BM_tcp_vm_bond_10g_no_tso(benchmark::State& state) { run_vm_bond(state, false); }

}  // namespace

BENCHMARK(BM_tcp_vm_bond_10g_tso)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_tcp_vm_bond_10g_no_tso)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_tcp_stack_10g_tso)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_tcp_stack_10g_no_tso)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_tcp_bulk_10g_tso)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_tcp_bulk_10g_tso_software)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_tcp_bulk_10g_no_tso)->Unit(benchmark::kMillisecond);
