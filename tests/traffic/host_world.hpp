// A VM behind an ESX host's bond, and a physical peer, for traffic over the host engine:
//
//   vm (endpoint 1, attach_custom with host_set::vnic_capabilities)
//     -> vswitch "net" -> bond1 (vmnic0 .. vmnic{n-1}) -> links -> switch ports 1..n
//   switch port 0 -> link -> peer (endpoint 0 on its own NIC)
//
// Used by tests/traffic/tcp_host_test.cpp and bench/traffic_bench.cpp.
#pragma once

#include <functional>
#include <vector>

#include <fmt/format.h>

#include "vnetsim/dev/link.hpp"
#include "vnetsim/dev/nic.hpp"
#include "vnetsim/host/host.hpp"
#include "vnetsim/net/switch.hpp"
#include "vnetsim/traffic/endpoint.hpp"

namespace vnetsim::test {

struct host_world_config {
  /// One entry per bond member: its NIC's capabilities.
  std::vector<dev::nic_capabilities> members = std::vector<dev::nic_capabilities>(2);
  std::uint64_t speed_bps = 10'000'000'000;
  sim_time delay = sim_time::from_us(5);
  /// The VM's endpoint asks for checksum offload when its vNIC offers it.
  bool vm_checksum_offload = true;
  /// The members' carrier-loss detection delay (dev::nic_config::detect_down).
  sim_time detect_down = sim_time::zero();
};

struct host_world {
  kernel::simulator sim;
  kernel::rng_streams streams{1};
  dev::frame_pool pool;
  dev::link_set links{sim, streams};
  dev::nic_set nics{sim, pool, links};
  net::switch_set sws{sim, links, pool};
  host::host_set hosts{sim, pool, links, nics, streams};
  traffic::endpoint_set eps{sim, pool, streams};
  net::switch_id sw = 0;
  host::host_id esx = 0;
  host::vm_id vm = 0;
  host::vnic_id vnic = 0;
  traffic::endpoint_id peer = 0, vm_ep = 0;
  dev::nic_id peer_nic = 0;
  std::vector<dev::nic_id> vmnic;
  std::vector<dev::link_id> uplink;
  dev::link_id peer_link = 0;
  /// Called with every frame the VM sends (before the host) and receives (from the host):
  /// what a capture inside the guest sees.
  std::function<void(bool from_vm, sim_time at, const dev::frame_ref& f)> vm_tap;

  explicit host_world(const host_world_config& c = {}) {
    net::switch_config sc;
    sc.name = "sw";
    sc.ports = static_cast<std::uint16_t>(c.members.size() + 1);
    sw = sws.add(sc);
    dev::link_config lc;
    lc.bandwidth_bps = c.speed_bps;
    lc.delay = c.delay;

    traffic::endpoint_config pc;
    pc.name = "peer";
    pc.mac = wire::mac_address::from_u64(0x0200'0000'0100ULL);
    pc.ip = wire::ipv4_address{10, 0, 0, 1};
    peer = eps.add(pc);
    dev::nic_config pn;
    pn.mac = pc.mac;
    pn.speed_bps = c.speed_bps;
    peer_nic = nics.add("peer/nic", pn);
    eps.attach_nic(peer, nics, peer_nic);
    peer_link = links.add("peer-link", lc, eps.nic_endpoint(peer_nic), sws.endpoint(sw, 0));
    nics.attach(peer_nic, peer_link, dev::link_side::a);
    sws.attach(sw, 0, peer_link, dev::link_side::b);

    esx = hosts.add_host("esx1");
    std::vector<unsigned> numbers;
    for (std::size_t i = 0; i < c.members.size(); ++i) {
      dev::nic_config nc;
      nc.mac = wire::mac_address::from_u64(0x0200'0000'0200ULL + i);
      nc.speed_bps = c.speed_bps;
      nc.caps = c.members[i];
      nc.detect_down = c.detect_down;
      const auto nic = hosts.add_vmnic(esx, nc);
      const auto port = static_cast<net::port_no>(i + 1);
      const auto l = links.add(fmt::format("uplink{}", i), lc, hosts.uplink_endpoint(nic), sws.endpoint(sw, port));
      nics.attach(nic, l, dev::link_side::a);
      sws.attach(sw, port, l, dev::link_side::b);
      vmnic.push_back(nic);
      uplink.push_back(l);
      numbers.push_back(static_cast<unsigned>(i));
    }
    hosts.add_bond(esx, 1, numbers);
    hosts.add_vswitch(esx, "net", host::bond_binding{1});
    vm = hosts.add_vm(esx, "vm1");
    host::vnic_config vc;
    vc.network = "net";
    vc.delivery.kind = sim.register_kind(
        "test/vnic-delivery",
        [](void* ctx, kernel::simulator&, const kernel::event& ev) {
          auto& w = *static_cast<host_world*>(ctx);
          dev::frame_ref f = w.hosts.take_delivery(static_cast<host::vnic_id>(ev.arg));
          if (!f) return;
          if (w.vm_tap) w.vm_tap(false, w.sim.now(), f);
          w.eps.receive(w.vm_ep, std::move(f));
        },
        this);
    vnic = hosts.add_vnic(vm, vc);
    traffic::endpoint_config ec;
    ec.name = "vm1";
    ec.mac = hosts.vnic_mac(vnic);
    ec.ip = wire::ipv4_address{10, 0, 0, 2};
    ec.tx_checksum_offload = c.vm_checksum_offload;
    vm_ep = eps.add(ec);
    eps.attach_custom(vm_ep, &host_world::vm_tx, this, vnic, hosts.vnic_capabilities(vnic));
  }

  static void vm_tx(void* ctx, std::uint32_t vnic, dev::frame_ref f) {
    auto& w = *static_cast<host_world*>(ctx);
    if (w.vm_tap) w.vm_tap(true, w.sim.now(), f);
    (void)w.hosts.vnic_transmit(vnic, std::move(f));
  }

  const host::bond_counters& bond() const { return hosts.bond_stats(esx, 1); }
};

}  // namespace vnetsim::test
