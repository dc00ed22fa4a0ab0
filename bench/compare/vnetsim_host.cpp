// Workload C on vnetsim (bench/compare, issue 9): the host path. One host_set host with V
// VMs (default 64), each VM a traffic::endpoint on its vNIC, one virtual switch bound to
// bond1 of 4 vmnics in out-mac mode (the ESX 2.x default [AG2]); vmnic0-1 are cabled to
// external switch A, vmnic2-3 to switch B, A and B are joined by a trunk, and one sink
// endpoint hangs off each switch on its own NIC. Every link is 10 Gb/s with 500 ns delay.
// VM i sends UDP (1000 payload bytes, or --payload) to sink i mod 2; the VMs share an aggregate rate
// (default 1,000,000 packets/s, ~8.5 Gb/s of frames: a loaded 10 GbE uplink's worth), so
// the work per simulated second is the same at every VM count and frames per wall second
// show how the per-frame cost scales with the number of VMs.
// Prints one "key=value" line; frames = UDP packets delivered to the sinks.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <vector>

#include "../bench_world.hpp"
#include "compare_common.hpp"
#include "vnetsim/dev/link.hpp"
#include "vnetsim/dev/nic.hpp"
#include "vnetsim/host/host.hpp"
#include "vnetsim/net/switch.hpp"
#include "vnetsim/traffic/endpoint.hpp"

using namespace vnetsim;

namespace {

constexpr unsigned bond_members = 4;

struct host_world : bench::world {
  host::host_set hs{sim, pool, links, nics, streams};
  kernel::event_kind guest_kind = 0;
  std::vector<host::vnic_id> vnic_of_ep;  // endpoint id -> vNIC (VMs only)
  std::vector<traffic::endpoint_id> ep_of_vnic;
  std::vector<traffic::flow_id> flows;

  /// A VM's endpoint sends: the frame goes into the host through the VM's vNIC.
  static void vm_tx(void* ctx, std::uint32_t port, dev::frame_ref f) {
    auto& w = *static_cast<host_world*>(ctx);
    (void)w.hs.vnic_transmit(w.vnic_of_ep[port], std::move(f));
  }
  /// The host delivered a frame to a vNIC: the guest's stack takes it.
  static void guest_rx(void* ctx, kernel::simulator&, const kernel::event& ev) {
    auto& w = *static_cast<host_world*>(ctx);
    const auto v = static_cast<host::vnic_id>(ev.arg);
    if (auto f = w.hs.take_delivery(v)) w.eps.receive(w.ep_of_vnic[v], std::move(f));
  }

  host_world(unsigned vms, std::uint64_t total_pps, sim_time duration, std::uint16_t payload) {
    guest_kind = sim.register_kind("compare/guest", &guest_rx, this);
    dev::link_config lc;
    lc.bandwidth_bps = 10'000'000'000;
    lc.delay = sim_time::from_ns(500);
    net::switch_config sc;
    sc.ports = 4;
    sc.latency = sim_time::zero();
    sc.name = "swA";
    const auto sw_a = sws.add(sc);
    sc.name = "swB";
    const auto sw_b = sws.add(sc);
    const auto trunk = links.add("swA-swB", lc, sws.endpoint(sw_a, 3), sws.endpoint(sw_b, 3));
    sws.attach(sw_a, 3, trunk, dev::link_side::a);
    sws.attach(sw_b, 3, trunk, dev::link_side::b);

    const auto h = hs.add_host("esx1");
    std::vector<unsigned> members;
    for (unsigned i = 0; i < bond_members; ++i) {
      dev::nic_config c;
      c.mac = wire::mac_address::from_u64(0x0200'0000'0000ULL + i);
      c.speed_bps = lc.bandwidth_bps;
      const auto nic = hs.add_vmnic(h, c);
      const auto sw = i < 2 ? sw_a : sw_b;
      const auto port = static_cast<net::port_no>(i % 2);
      const auto l = links.add(fmt::format("vmnic{}", i), lc, hs.uplink_endpoint(nic), sws.endpoint(sw, port));
      nics.attach(nic, l, dev::link_side::a);
      sws.attach(sw, port, l, dev::link_side::b);
      members.push_back(i);
    }
    hs.add_bond(h, 1, members);
    hs.add_vswitch(h, "net", host::bond_binding{1}, vms);

    // The two sinks: endpoints 0 and 1, on switch A port 2 and switch B port 2.
    for (std::uint32_t s = 0; s < 2; ++s) {
      traffic::endpoint_config c;
      c.name = fmt::format("sink{}", s);
      c.mac = wire::mac_address::from_u64(0x0200'00ff'0000ULL + s);
      c.ip = wire::ipv4_address{10, 1, 0, static_cast<std::uint8_t>(s + 1)};
      c.prefix_len = 16;
      add_station(c, s == 0 ? sw_a : sw_b, 2, lc);
      vnic_of_ep.push_back(0);  // not a VM
    }
    for (unsigned i = 0; i < vms; ++i) {
      const auto vm = hs.add_vm(h, fmt::format("vm{}", i));
      host::vnic_config vc;
      vc.mac = wire::mac_address::from_u64(0x0050'5600'0000ULL + i + 1);  // static range [AG2]
      vc.network = "net";
      vc.delivery.kind = guest_kind;
      const auto v = hs.add_vnic(vm, vc);
      traffic::endpoint_config c;
      c.name = fmt::format("vm{}", i);
      c.mac = *vc.mac;
      c.ip = wire::ipv4_address{10, 1, static_cast<std::uint8_t>(1 + (i >> 8)), static_cast<std::uint8_t>(i & 0xff)};
      c.prefix_len = 16;
      const auto ep = eps.add(c);
      eps.attach_custom(ep, &vm_tx, this, ep, false);
      vnic_of_ep.push_back(v);
      if (ep_of_vnic.size() <= v) ep_of_vnic.resize(v + 1);
      ep_of_vnic[v] = ep;
    }
    const std::uint64_t per_vm = total_pps / vms;
    for (unsigned i = 0; i < vms; ++i) {
      auto f = bench::udp_flow(fmt::format("f{}", i), 2 + i,
                               wire::ipv4_address{10, 1, 0, static_cast<std::uint8_t>(1 + i % 2)}, payload,
                               per_vm, duration);
      f.dst_port = static_cast<std::uint16_t>(5001 + i);  // one receive port per flow
      // Spread the VMs' first packets over one interval so they do not all start at once.
      f.start = sim_time::from_ns(static_cast<sim_time::rep>(1'000'000'000ULL / per_vm * i / vms));
      flows.push_back(eps.add_udp_flow(f));
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  const auto vms = static_cast<unsigned>(bench_compare::arg_u64(argc, argv, "--vms", 64));
  const std::uint64_t pps = bench_compare::arg_u64(argc, argv, "--pps", 1'000'000);
  const std::uint64_t ms = bench_compare::arg_u64(argc, argv, "--seconds-ms", 1000);
  // UDP payload bytes: 1000 (default) gives 1042-byte frames (10 GbE line rate 1.17 M
  // frames/s with FCS, preamble and gap); 24, the flow header (traffic::udp_flow_header_len),
  // gives 66-byte frames, 70 with the FCS: 13.89 M frames/s at line rate (the 64-byte
  // minimum, 14.88 M frames/s, cannot carry a sequence number and send time).
  const std::uint64_t payload = bench_compare::arg_u64(argc, argv, "--payload", 1000);
  if (vms < 1 || vms > host::max_vswitch_ports || pps < vms || ms == 0 || payload < 24 || payload > 1472) {
    std::fprintf(stderr,
                 "vnetsim_host: --vms must be in 1..%u, --pps >= --vms, --seconds-ms >= 1, --payload 24..1472\n",
                 host::max_vswitch_ports);
    return 2;
  }
  const double t_setup = bench_compare::wall_s();
  auto w = std::make_unique<host_world>(vms, pps, sim_time::from_ms(static_cast<sim_time::rep>(ms)),
                                       static_cast<std::uint16_t>(payload));
  const double t0 = bench_compare::wall_s();
  const double c0 = bench_compare::cpu_s();
  w->sim.run_until(sim_time::from_ms(static_cast<sim_time::rep>(ms + 1)));
  const double secs = bench_compare::wall_s() - t0;
  const double cpu_secs = bench_compare::cpu_s() - c0;
  const auto [sent, delivered] = bench::totals(w->eps, w->flows);
  const std::uint64_t hops = bench::frame_hops(w->links);
  const double events = static_cast<double>(w->sim.events_run());
  const double sim_s = static_cast<double>(ms) / 1000.0;
  std::printf("side=vnetsim workload=C vms=%u payload=%u sent=%llu delivered=%llu lost=%llu frame_hops=%llu events=%.0f "
              "seconds=%.6f cpu_seconds=%.6f setup_seconds=%.6f frames_per_s=%.0f frame_hops_per_s=%.0f events_per_packet=%.2f "
              "real_time_factor=%.2f peak_rss_kib=%ld\n",
              vms, static_cast<unsigned>(payload), static_cast<unsigned long long>(sent), static_cast<unsigned long long>(delivered),
              static_cast<unsigned long long>(sent - delivered), static_cast<unsigned long long>(hops), events, secs, cpu_secs,
              t0 - t_setup, static_cast<double>(delivered) / secs, static_cast<double>(hops) / secs,
              events / static_cast<double>(delivered), sim_s / secs, bench_compare::peak_rss_kib());
  return 0;
}
