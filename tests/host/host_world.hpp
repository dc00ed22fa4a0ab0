#pragma once
// A small test world for the host layer: simulator, frame pool, links, NICs, external
// switches, hosts; "stations" (test endpoints on a link end that record what they receive)
// and a tiny test guest (a registered event kind that calls take_delivery and records).
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "vnetsim/dev/frame_pool.hpp"
#include "vnetsim/dev/link.hpp"
#include "vnetsim/dev/nic.hpp"
#include "vnetsim/host/host.hpp"
#include "vnetsim/kernel/simulator.hpp"
#include "vnetsim/net/switch.hpp"

namespace host_test {

using namespace vnetsim;
using bytes_t = std::vector<std::uint8_t>;

constexpr wire::mac_address mac(std::uint64_t v) { return wire::mac_address::from_u64(v); }
/// Static VM MAC 00:50:56:00:00:nn [AG2].
constexpr wire::mac_address vm_mac(std::uint64_t n) { return mac(0x0050'5600'0000ULL + n); }

/// One 1 Gb/s hop with the default 500 ns delay, for a 60-byte frame: 84 bytes on the wire
/// (+ preamble 8, FCS 4, gap 12) = 672 ns, + 500 ns.
inline constexpr std::int64_t hop60_ns = 1172;
inline constexpr std::int64_t hop64_ns = 1204;

struct world {
  kernel::simulator sim;
  kernel::rng_streams streams{5};
  dev::frame_pool pool;
  dev::link_set links{sim, streams};
  dev::nic_set nics{sim, pool, links};
  net::switch_set sws{sim, links, pool};
  host::host_set hs{sim, pool, links, nics, streams};
  kernel::event_kind guest_kind = 0;
  kernel::event_kind station_kind = 0;

  struct rx {
    sim_time at;
    std::uint32_t who;  // vnic id (guests) or station index
    bytes_t bytes;
  };
  std::vector<rx> guest_rx;
  std::vector<rx> station_rx;
  struct station {
    dev::link_id link;
    dev::link_side side;  // the side the station transmits from
  };
  std::vector<station> stations;

  world() {
    guest_kind = sim.register_kind(
        "test/guest",
        [](void* ctx, kernel::simulator& s, const kernel::event& ev) {
          auto& w = *static_cast<world*>(ctx);
          auto f = w.hs.take_delivery(static_cast<host::vnic_id>(ev.arg));
          REQUIRE(f);
          bytes_t b(f.size());
          std::memcpy(b.data(), f.data().data(), b.size());
          w.guest_rx.push_back({s.now(), static_cast<std::uint32_t>(ev.arg), std::move(b)});
        },
        this);
    station_kind = sim.register_kind(
        "test/station",
        [](void* ctx, kernel::simulator& s, const kernel::event& ev) {
          auto& w = *static_cast<world*>(ctx);
          auto a = w.links.take_arrival(ev.target);
          if (!a.frame) return;
          bytes_t b(a.frame.size());
          std::memcpy(b.data(), a.frame.data().data(), b.size());
          w.station_rx.push_back({s.now(), a.device, std::move(b)});
        },
        this);
  }

  host::host_id add_host(std::string name, unsigned vmnics, dev::nic_config base = {}) {
    const auto h = hs.add_host(name);
    for (unsigned i = 0; i < vmnics; ++i) {
      dev::nic_config c = base;
      c.mac = mac(0x0200'0000'0000ULL + (std::uint64_t{h} << 8) + i);
      hs.add_vmnic(h, c);
    }
    return h;
  }
  dev::nic_id nic(host::host_id h, unsigned n) const { return *hs.vmnic_nic(h, n); }

  /// Links vmnicN of host h to a switch port.
  dev::link_id wire_vmnic(host::host_id h, unsigned n, net::switch_id sw, net::port_no port) {
    const auto id = links.add(fmt::format("h{}/vmnic{}-sw{}/{}", h, n, sw, port), {},
                              hs.uplink_endpoint(nic(h, n)), sws.endpoint(sw, port));
    nics.attach(nic(h, n), id, dev::link_side::a);
    sws.attach(sw, port, id, dev::link_side::b);
    return id;
  }
  /// A station on a switch port; returns its index.
  std::uint32_t station_on(net::switch_id sw, net::port_no port) {
    const auto st = static_cast<std::uint32_t>(stations.size());
    const auto id = links.add(fmt::format("st{}-sw{}/{}", st, sw, port), {}, {station_kind, 0, st, 0},
                              sws.endpoint(sw, port));
    sws.attach(sw, port, id, dev::link_side::b);
    stations.push_back({id, dev::link_side::a});
    return st;
  }
  /// A station wired straight to vmnicN (sees the exact bytes the NIC sends).
  std::uint32_t station_at(host::host_id h, unsigned n) {
    const auto st = static_cast<std::uint32_t>(stations.size());
    const auto id = links.add(fmt::format("h{}/vmnic{}-st{}", h, n, st), {}, hs.uplink_endpoint(nic(h, n)),
                              {station_kind, 0, st, 0});
    nics.attach(nic(h, n), id, dev::link_side::a);
    stations.push_back({id, dev::link_side::b});
    return st;
  }
  net::switch_id add_switch(std::uint16_t ports, net::switch_config cfg = {}) {
    cfg.ports = ports;
    if (cfg.name.empty()) cfg.name = fmt::format("sw{}", sws.size());
    return sws.add(cfg);
  }
  dev::link_id trunk(net::switch_id a, net::port_no pa, net::switch_id b, net::port_no pb) {
    const auto id =
        links.add(fmt::format("sw{}/{}-sw{}/{}", a, pa, b, pb), {}, sws.endpoint(a, pa), sws.endpoint(b, pb));
    sws.attach(a, pa, id, dev::link_side::a);
    sws.attach(b, pb, id, dev::link_side::b);
    return id;
  }

  host::vnic_id add_vm(host::host_id h, std::string name, std::string network,
                       std::optional<wire::mac_address> m = std::nullopt) {
    const auto vm = hs.add_vm(h, name);
    host::vnic_config c;
    c.mac = m;
    c.network = std::move(network);
    c.delivery.kind = guest_kind;
    return hs.add_vnic(vm, c);
  }

  static bytes_t frame(wire::mac_address dst, wire::mac_address src, std::uint16_t type = 0x88b6,
                       std::size_t len = 60) {
    bytes_t b(len, 0);
    for (std::size_t i = 14; i < len; ++i) b[i] = static_cast<std::uint8_t>(i);
    const auto d = dst.octets(), s = src.octets();
    std::copy(d.begin(), d.end(), b.begin());
    std::copy(s.begin(), s.end(), b.begin() + 6);
    b[12] = static_cast<std::uint8_t>(type >> 8);
    b[13] = static_cast<std::uint8_t>(type & 0xff);
    return b;
  }
  /// The frame with an 802.1Q tag (PCP 0) for `vid` after the addresses.
  static bytes_t tagged(bytes_t b, std::uint16_t vid) {
    const bytes_t tag{0x81, 0x00, static_cast<std::uint8_t>(vid >> 8), static_cast<std::uint8_t>(vid & 0xff)};
    b.insert(b.begin() + 12, tag.begin(), tag.end());
    return b;
  }
  /// An IPv4 frame (header only as far as the addresses) from `sip` to `dip`.
  static bytes_t ip_frame(wire::mac_address dst, wire::mac_address src, std::uint32_t sip,
                          std::uint32_t dip) {
    auto b = frame(dst, src, 0x0800);
    b[14] = 0x45;
    b[16] = 0;
    b[17] = 46;  // total length
    for (int i = 0; i < 4; ++i) {
      b[26 + i] = static_cast<std::uint8_t>(sip >> (24 - 8 * i));
      b[30 + i] = static_cast<std::uint8_t>(dip >> (24 - 8 * i));
    }
    return b;
  }

  dev::frame_ref make(const bytes_t& b) {
    auto f = pool.allocate_copy(std::as_bytes(std::span(b)), sim.now());
    REQUIRE(f);
    return f;
  }
  host::tx_result vm_send(host::vnic_id v, const bytes_t& b) { return hs.vnic_transmit(v, make(b)); }
  void station_send(std::uint32_t st, const bytes_t& b) {
    REQUIRE(links.send(stations[st].link, stations[st].side, make(b)) == dev::send_result::queued);
  }

  std::size_t guest_count(host::vnic_id v) const {
    std::size_t n = 0;
    for (const auto& r : guest_rx) n += r.who == v;
    return n;
  }
  std::size_t station_count(std::uint32_t st) const {
    std::size_t n = 0;
    for (const auto& r : station_rx) n += r.who == st;
    return n;
  }
  /// Events of one kind, in order.
  std::vector<host::host_event> events(host::host_event::kind k) const {
    std::vector<host::host_event> r;
    for (const auto& e : hs.events()) {
      if (e.what == k) r.push_back(e);
    }
    return r;
  }
};

}  // namespace host_test
