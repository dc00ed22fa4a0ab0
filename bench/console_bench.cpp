// The service console's receive path (issue 8): a UDP flow from a station to the console's
// eth0, either the console's own NIC or a vmxnet_console device over vmnic0 (station ->
// nic -> 10 GbE link -> switch -> link -> vmnic0 -> vswitch -> console vNIC delivery
// event -> console_stack -> endpoint). Each iteration runs 1 ms of simulated time; items
// are the frames the console's endpoint delivered, so items_per_second is delivered frames
// per wall second, everything included.
#include <benchmark/benchmark.h>

#include "vnetsim/dev/link.hpp"
#include "vnetsim/dev/nic.hpp"
#include "vnetsim/host/console.hpp"
#include "vnetsim/host/host.hpp"
#include "vnetsim/net/switch.hpp"
#include "vnetsim/traffic/console_stack.hpp"
#include "vnetsim/traffic/endpoint.hpp"
#include "bench_world.hpp"

using namespace vnetsim;
using namespace vnetsim::literals;

namespace {

struct bench_world : bench::world {
  host::host_set hs{sim, pool, links, nics, streams};
  std::optional<host::console> con;
  std::optional<traffic::console_stack> stack;
  traffic::flow_id flow = 0;

  bench_world(std::uint64_t pps, bool shared) {
    const auto sw = add_switch(2);
    const auto lc = bench::ten_gig_link();
    traffic::endpoint_config c;
    c.name = "station";
    c.mac = wire::mac_address::from_u64(0x0050'5600'1000ULL);
    c.ip = wire::ipv4_address{10, 0, 0, 1};
    const auto ep = add_station(c, sw, 0, lc);

    const auto h = hs.add_host("esx1");
    con.emplace(hs, nics, h);
    stack.emplace(sim, hs, eps, *con);
    dev::nic_config nc;
    nc.mac = wire::mac_address::from_u64(0x0200'0000'0001ULL);
    nc.speed_bps = lc.bandwidth_bps;
    dev::link_id l = 0;
    if (shared) {
      const auto vmnic = hs.add_vmnic(h, nc);
      l = links.add("vmnic0", lc, hs.uplink_endpoint(vmnic), sws.endpoint(sw, 1));
      nics.attach(vmnic, l, dev::link_side::a);
      con->set_file("/etc/modules.conf", "alias eth0 vmxnet_console\noptions vmxnet_console devName=vmnic0\n");
    } else {
      const auto cos = nics.add("cos0", nc);
      con->add_console_nic(cos, "e100");
      l = links.add("cos0", lc, stack->nic_endpoint(cos), sws.endpoint(sw, 1));
      nics.attach(cos, l, dev::link_side::a);
    }
    sws.attach(sw, 1, l, dev::link_side::b);
    con->set_file("/etc/sysconfig/network-scripts/ifcfg-eth0", "DEVICE=eth0\nIPADDR=10.0.0.10\nNETMASK=255.255.255.0\nONBOOT=yes\n");
    con->boot(sim_time::zero());

    const auto f = bench::udp_flow("f", ep, wire::ipv4_address{10, 0, 0, 10}, 64, pps, 120_s);
    flow = eps.add_udp_flow(f);
    sim.reserve(1 << 12);
    sim.run_for(10_ms);
  }
};

void run(benchmark::State& state, bool shared) {
  bench_world w(static_cast<std::uint64_t>(state.range(0)), shared);
  const std::uint64_t before = w.eps.flow_stats(w.flow).delivered;
  for (auto _ : state) w.sim.run_for(1_ms);
  const auto& s = w.eps.flow_stats(w.flow);
  state.SetItemsProcessed(static_cast<std::int64_t>(s.delivered - before));
  state.counters["lost"] = static_cast<double>(s.lost);
}

void bm_console_own_nic(benchmark::State& state) { run(state, false); }
void bm_console_vmxnet(benchmark::State& state) { run(state, true); }

}  // namespace

BENCHMARK(bm_console_own_nic)->Arg(100'000)->Arg(1'000'000);
BENCHMARK(bm_console_vmxnet)->Arg(100'000)->Arg(1'000'000);
