#pragma once
// The external switch under test, for tests/net: net::switch_set switches, dev::link_set
// links, and test hosts that record every frame they receive. Host h is side a of its link,
// the switch port side b. Also the two bridges "A" (priority 4096, the root) and "B" that the
// loop tests of switch_test.cpp and topology_test.cpp join with two links.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "vnetsim/dev/frame_pool.hpp"
#include "vnetsim/dev/link.hpp"
#include "vnetsim/kernel/rng.hpp"
#include "vnetsim/kernel/simulator.hpp"
#include "vnetsim/net/switch.hpp"

namespace vnetsim::test {

/// Test host h's MAC: 00:50:56:00:00:(h+1).
inline wire::mac_address host_mac(std::uint32_t h) {
  return wire::mac_address::from_u64(0x0050'5600'0000ULL + h + 1);
}

/// Configurations of bridge "A" (address 02:00:00:00:00:0a, priority 4096: the root) and
/// bridge "B" (02:00:00:00:00:0b, priority 32768), same values for STP and RSTP, `mode` on both.
inline std::pair<net::switch_config, net::switch_config> bridge_pair(net::stp_mode mode) {
  net::switch_config ca;
  ca.name = "A";
  ca.stp = mode;
  ca.stp_bridge.address = ca.rstp_bridge.address = wire::mac_address::from_u64(0x0200'0000'000aULL);
  ca.stp_bridge.priority = ca.rstp_bridge.priority = 4096;
  net::switch_config cb = ca;
  cb.name = "B";
  cb.stp_bridge.address = cb.rstp_bridge.address = wire::mac_address::from_u64(0x0200'0000'000bULL);
  cb.stp_bridge.priority = cb.rstp_bridge.priority = 32768;
  return {ca, cb};
}

/// Switches, links, and test hosts (side a of their link) that record what they receive.
struct switch_world {
  kernel::simulator sim;
  kernel::rng_streams streams;
  dev::frame_pool pool;
  dev::link_set links{sim, streams};
  net::switch_set sws{sim, links, pool};
  kernel::event_kind host_kind = 0;

  struct rx {
    sim_time at;
    std::uint32_t host;
    std::vector<std::uint8_t> bytes;
    const std::byte* data;
    dev::frame_ref frame;  // set when keep_frames: the buffer is not recycled during a test
  };
  std::vector<rx> got;
  std::vector<dev::link_id> host_link;
  bool record = true;  // false: count deliveries only (no allocation in the handler)
  bool keep_frames = true;
  std::uint64_t delivered = 0;

  explicit switch_world(std::uint64_t seed) : streams(seed) {
    host_kind = sim.register_kind(
        "test/host",
        [](void* ctx, kernel::simulator& s, const kernel::event& ev) {
          auto& w = *static_cast<switch_world*>(ctx);
          auto a = w.links.take_arrival(ev.target);
          if (!a.frame) return;
          ++w.delivered;
          if (!w.record) return;
          std::vector<std::uint8_t> b(a.frame.size());
          std::memcpy(b.data(), a.frame.data().data(), b.size());
          const std::byte* data = a.frame.data().data();
          w.got.push_back({s.now(), a.device, std::move(b), data, w.keep_frames ? a.frame : dev::frame_ref{}});
        },
        this);
  }

  net::switch_id add_switch(std::uint16_t ports, net::switch_config cfg = {}) {
    cfg.ports = ports;
    if (cfg.name.empty()) cfg.name = fmt::format("sw{}", sws.size() + 1);
    return sws.add(cfg);
  }

  /// Connects a new host to (sw, port); returns the host number.
  std::uint32_t connect(net::switch_id sw, net::port_no port, const dev::link_config& cfg = {}) {
    const auto h = static_cast<std::uint32_t>(host_link.size());
    const auto id = links.add(fmt::format("h{}-{}/{}", h, sw, port), cfg,
                              {host_kind, 0, h, 0}, sws.endpoint(sw, port));
    sws.attach(sw, port, id, dev::link_side::b);
    host_link.push_back(id);
    return h;
  }

  /// Connects two switch ports with a link.
  dev::link_id trunk(net::switch_id a, net::port_no pa, net::switch_id b, net::port_no pb) {
    const auto id = links.add(fmt::format("sw{}/{}-sw{}/{}", a, pa, b, pb), {}, sws.endpoint(a, pa),
                              sws.endpoint(b, pb));
    sws.attach(a, pa, id, dev::link_side::a);
    sws.attach(b, pb, id, dev::link_side::b);
    return id;
  }

  /// Frame bytes: dst, src, [8100 tci], type, payload (filled with 0xaa) up to `len`.
  static std::vector<std::uint8_t> bytes(wire::mac_address dst, wire::mac_address src,
                                         std::uint16_t type, std::size_t len = 60,
                                         std::optional<std::uint16_t> tci = std::nullopt) {
    std::vector<std::uint8_t> b(len, 0xaa);
    auto d = dst.octets(), s = src.octets();
    std::copy(d.begin(), d.end(), b.begin());
    std::copy(s.begin(), s.end(), b.begin() + 6);
    std::size_t off = 12;
    if (tci) {
      b[12] = 0x81;
      b[13] = 0x00;
      b[14] = static_cast<std::uint8_t>(*tci >> 8);
      b[15] = static_cast<std::uint8_t>(*tci & 0xff);
      off = 16;
    }
    b[off] = static_cast<std::uint8_t>(type >> 8);
    b[off + 1] = static_cast<std::uint8_t>(type & 0xff);
    return b;
  }

  /// Host h sends a copy of `b` on its link.
  dev::send_result send(std::uint32_t h, std::span<const std::byte> b) {
    auto f = pool.allocate_copy(b, sim.now());
    REQUIRE(f);
    return links.send(host_link[h], dev::link_side::a, std::move(f));
  }
  dev::send_result send(std::uint32_t h, const std::vector<std::uint8_t>& b) {
    return send(h, std::as_bytes(std::span(b)));
  }
  /// A broadcast ARP-typed frame from host h.
  void bcast(std::uint32_t h, std::uint16_t type = 0x0806) {
    send(h, bytes(wire::mac_address::broadcast(), host_mac(h), type));
  }
  void ucast(std::uint32_t from, std::uint32_t to) {
    send(from, bytes(host_mac(to), host_mac(from), 0x0800));
  }

  /// The hosts that received frames so far, sorted (one entry a frame).
  std::vector<std::uint32_t> receivers() const {
    std::vector<std::uint32_t> r;
    for (const auto& x : got) r.push_back(x.host);
    std::sort(r.begin(), r.end());
    return r;
  }
  /// receivers(), then forgets what was received.
  std::vector<std::uint32_t> take() {
    auto r = receivers();
    got.clear();
    return r;
  }

  /// How many switch events of kind `k` switch `sw` logged.
  std::size_t count(net::switch_id sw, net::switch_event::kind k) const {
    return static_cast<std::size_t>(std::count_if(sws.events().begin(), sws.events().end(),
                                                   [&](const auto& e) { return e.sw == sw && e.what == k; }));
  }
  /// Time of the last event of kind `k` for (sw, port), or nullopt.
  std::optional<sim_time> last_event(net::switch_id sw, net::port_no port,
                                     net::switch_event::kind k) const {
    std::optional<sim_time> t;
    for (const auto& e : sws.events()) {
      if (e.sw == sw && e.port == port && e.what == k) t = e.at;
    }
    return t;
  }
};

}  // namespace vnetsim::test
