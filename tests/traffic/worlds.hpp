#pragma once
// Small worlds for the traffic tests:
// - hub_world: endpoints attached with attach_custom to a test "hub" that records every
//   transmitted frame (time, sender, bytes) and delivers it to every other endpoint after a
//   fixed delay (or holds it, for tests that inject frames themselves);
// - net_world: endpoints on physical NICs, each NIC linked to a port of one net::switch_set
//   switch (endpoint -> nic -> link -> switch -> link -> nic -> endpoint).

#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "vnetsim/dev/frame_pool.hpp"
#include "vnetsim/dev/link.hpp"
#include "vnetsim/dev/nic.hpp"
#include "vnetsim/kernel/rng.hpp"
#include "vnetsim/kernel/simulator.hpp"
#include "vnetsim/net/switch.hpp"
#include "vnetsim/report/pcap_writer.hpp"
#include "vnetsim/traffic/endpoint.hpp"

namespace vnetsim::test {

inline wire::mac_address ep_mac(std::uint32_t i) {
  return wire::mac_address::from_u64(0x0050'5600'1000ULL + i);
}
inline wire::ipv4_address ep_ip(std::uint32_t i) { return wire::ipv4_address{10, 0, 0, static_cast<std::uint8_t>(i + 1)}; }

inline traffic::endpoint_config ep_config(std::uint32_t i) {
  traffic::endpoint_config c;
  c.name = fmt::format("ep{}", i);
  c.mac = ep_mac(i);
  c.ip = ep_ip(i);
  c.prefix_len = 24;
  return c;
}

/// A constant-rate UDP flow `name` from endpoint `src`, port 40000, to ep_ip(dst) port 5001:
/// `pps` packets per second until `stop`, udp_flow_config's defaults otherwise.
inline traffic::udp_flow_config flow_cfg(std::string name, traffic::endpoint_id src, std::uint32_t dst,
                                         std::uint64_t pps, sim_time stop) {
  traffic::udp_flow_config f;
  f.name = std::move(name);
  f.src = src;
  f.dst = ep_ip(dst);
  f.src_port = 40000;
  f.dst_port = 5001;
  f.rate_pps = pps;
  f.stop = stop;
  return f;
}

/// A ping "p" from endpoint `src` to ep_ip(dst): `count` probes, ping_config's defaults
/// otherwise.
inline traffic::ping_config ping_cfg(traffic::endpoint_id src, std::uint32_t dst, std::uint32_t count) {
  traffic::ping_config c;
  c.name = "p";
  c.src = src;
  c.dst = ep_ip(dst);
  c.count = count;
  return c;
}

struct hub_world {
  kernel::simulator sim;
  kernel::rng_streams streams;
  dev::frame_pool pool;
  traffic::endpoint_set eps;
  sim_time delay = sim_time::from_us(10);
  bool hold = false;  ///< record but do not deliver
  std::optional<report::pcap_writer> pcap;

  struct tx {
    sim_time at;
    traffic::endpoint_id from;
    std::vector<std::byte> bytes;
    dev::frame_ref frame;
    dev::frame_meta meta;
  };
  std::vector<tx> sent;

  explicit hub_world(std::uint64_t seed = 1) : streams(seed), eps(sim, pool, streams) {}

  traffic::endpoint_id add(const traffic::endpoint_config& c, bool offload_honoured = false) {
    const auto id = eps.add(c);
    eps.attach_custom(id, &hub_world::on_tx, this, id, offload_honoured);
    return id;
  }

  static void on_tx(void* ctx, std::uint32_t port, dev::frame_ref f) {
    auto& w = *static_cast<hub_world*>(ctx);
    const auto d = f.cdata();
    w.sent.push_back({w.sim.now(), port, std::vector<std::byte>(d.begin(), d.end()), f, f.meta()});
    if (w.pcap) w.pcap->write(w.sim.now(), f);
    if (w.hold) return;
    for (traffic::endpoint_id to = 0; to < w.eps.size(); ++to) {
      if (to == port) continue;
      w.sim.schedule_in(w.delay, [&w, f, to](kernel::simulator&) { w.eps.receive(to, f); });
    }
  }

  /// Frames sent by `from` with EtherType `type` (untagged).
  std::vector<const tx*> frames(traffic::endpoint_id from, std::uint16_t type) const {
    std::vector<const tx*> r;
    for (const auto& t : sent) {
      if (t.from == from && t.bytes.size() >= 14 && wire::get_u16(t.bytes, 12) == type) r.push_back(&t);
    }
    return r;
  }

  /// Delivers a copy of `bytes` to endpoint `to` now.
  void inject(traffic::endpoint_id to, std::span<const std::byte> bytes) {
    auto f = pool.allocate_copy(bytes, sim.now());
    REQUIRE(f);
    eps.receive(to, std::move(f));
  }
};

struct net_world {
  kernel::simulator sim;
  kernel::rng_streams streams;
  dev::frame_pool pool;
  dev::link_set links;
  dev::nic_set nics;
  net::switch_set sws;
  traffic::endpoint_set eps;
  net::switch_id sw = 0;
  std::vector<dev::nic_id> nic_of;
  std::vector<dev::link_id> link_of;

  explicit net_world(std::uint16_t ports = 8, std::uint64_t seed = 1, net::switch_config cfg = {})
      : streams(seed), links(sim, streams), nics(sim, pool, links), sws(sim, links, pool),
        eps(sim, pool, streams) {
    cfg.ports = ports;
    cfg.name = "sw";
    sw = sws.add(cfg);
  }

  /// An endpoint on a new NIC linked to switch port = its index.
  traffic::endpoint_id add(const traffic::endpoint_config& c, const dev::link_config& lc = {},
                           dev::nic_config nc = {}) {
    const auto id = eps.add(c);
    nc.mac = c.mac;
    const auto nic = nics.add(c.name + "/nic", nc);
    eps.attach_nic(id, nics, nic);
    const auto port = static_cast<net::port_no>(id);
    const auto link = links.add(c.name + "-link", lc, eps.nic_endpoint(nic), sws.endpoint(sw, port));
    nics.attach(nic, link, dev::link_side::a);
    sws.attach(sw, port, link, dev::link_side::b);
    nic_of.push_back(nic);
    link_of.push_back(link);
    return id;
  }
};

}  // namespace vnetsim::test
