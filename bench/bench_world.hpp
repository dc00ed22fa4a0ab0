#pragma once
// The devices the end-to-end benchmarks build their worlds from (traffic_bench.cpp,
// console_bench.cpp and the vnetsim side of bench/compare): a simulator with RNG seed 1, a
// frame pool, links, NICs, external switches and endpoints; stations (an endpoint on its own
// NIC, cabled to a switch port); the UDP flows they send; and the totals the compare
// programs print. Free of Google Benchmark, so that bench/compare can use it too.
#include <cstdint>
#include <span>
#include <string>
#include <utility>

#include "vnetsim/dev/frame_pool.hpp"
#include "vnetsim/dev/link.hpp"
#include "vnetsim/dev/nic.hpp"
#include "vnetsim/kernel/rng.hpp"
#include "vnetsim/kernel/simulator.hpp"
#include "vnetsim/net/switch.hpp"
#include "vnetsim/traffic/endpoint.hpp"

namespace vnetsim::bench {

/// Simulator, pool, links, NICs, switches and endpoints, for a world to add its devices to.
struct world {
  kernel::simulator sim;
  kernel::rng_streams streams{1};
  dev::frame_pool pool;
  dev::link_set links{sim, streams};
  dev::nic_set nics{sim, pool, links};
  net::switch_set sws{sim, links, pool};
  traffic::endpoint_set eps{sim, pool, streams};

  /// A switch "sw" with `ports` ports, net::switch_config's defaults otherwise.
  net::switch_id add_switch(std::uint16_t ports) {
    net::switch_config sc;
    sc.name = "sw";
    sc.ports = ports;
    return sws.add(sc);
  }

  /// Endpoint `c` on a new NIC (named c.name, MAC c.mac, speed lc.bandwidth_bps), cabled by
  /// a link named c.name (NIC side a) to port `port` of switch `sw`.
  traffic::endpoint_id add_station(const traffic::endpoint_config& c, net::switch_id sw, net::port_no port,
                                   const dev::link_config& lc) {
    const auto ep = eps.add(c);
    dev::nic_config nc;
    nc.mac = c.mac;
    nc.speed_bps = lc.bandwidth_bps;
    const auto nic = nics.add(c.name, nc);
    eps.attach_nic(ep, nics, nic);
    const auto link = links.add(c.name, lc, eps.nic_endpoint(nic), sws.endpoint(sw, port));
    nics.attach(nic, link, dev::link_side::a);
    sws.attach(sw, port, link, dev::link_side::b);
    return ep;
  }
};

/// A 10 GbE link, dev::link_config's defaults otherwise.
inline dev::link_config ten_gig_link() {
  dev::link_config lc;
  lc.bandwidth_bps = 10'000'000'000;
  return lc;
}

/// A constant-rate UDP flow `name` from endpoint `src`, port 40000, to `dst` port 5001:
/// `payload` bytes at `pps` packets per second from time zero until `stop`.
inline traffic::udp_flow_config udp_flow(std::string name, traffic::endpoint_id src, wire::ipv4_address dst,
                                         std::uint32_t payload, std::uint64_t pps, sim_time stop) {
  traffic::udp_flow_config f;
  f.name = std::move(name);
  f.src = src;
  f.dst = dst;
  f.src_port = 40000;
  f.dst_port = 5001;
  f.payload_len = payload;
  f.rate_pps = pps;
  f.stop = stop;
  return f;
}

/// Datagrams sent and delivered, summed over flows.
struct flow_totals {
  std::uint64_t sent = 0;
  std::uint64_t delivered = 0;
};
inline flow_totals totals(const traffic::endpoint_set& eps, std::span<const traffic::flow_id> flows) {
  flow_totals t;
  for (const auto f : flows) {
    const auto& s = eps.flow_stats(f);
    t.sent += s.sent;
    t.delivered += s.delivered;
  }
  return t;
}

/// Frame-hops: frames delivered at the far end of a link, summed over both directions of
/// every link.
inline std::uint64_t frame_hops(const dev::link_set& links) {
  std::uint64_t hops = 0;
  for (dev::link_id l = 0; l < links.size(); ++l) {
    hops += links.stats(l, dev::link_side::a).delivered + links.stats(l, dev::link_side::b).delivered;
  }
  return hops;
}

}  // namespace vnetsim::bench
