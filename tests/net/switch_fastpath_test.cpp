// The switch's unicast fast path (switch_set::receive handles an untagged unicast to a
// learned port itself): each way out of it must count, log and deliver exactly as the
// general path does.
#include "vnetsim/net/switch.hpp"

#include <algorithm>
#include <vector>

#include <doctest/doctest.h>

#include "switch_world.hpp"

using namespace vnetsim;
using namespace vnetsim::literals;
using dev::link_side;
using test::host_mac;

namespace {

/// One switch "sw" with a host on each port (host h on port h, side a of its link).
struct world : test::switch_world {
  net::switch_id sw = 0;

  explicit world(std::uint16_t ports, net::switch_config cfg = {}) : switch_world(11) {
    cfg.name = "sw";
    sw = add_switch(ports, cfg);
    for (net::port_no p = 0; p < ports; ++p) connect(sw, p);
  }

  dev::frame_ref frame(wire::mac_address dst, wire::mac_address src, std::uint16_t type = 0x0800) {
    const auto b = bytes(dst, src, type);
    auto f = pool.allocate_copy(std::as_bytes(std::span(b)), sim.now());
    REQUIRE(f);
    return f;
  }
  /// Host `from` sends a unicast of EtherType `type` to host `to`'s MAC.
  void ucast(std::uint32_t from, std::uint32_t to, std::uint16_t type = 0x0800) {
    send(from, bytes(host_mac(to), host_mac(from), type));
  }
  /// Hosts 0..n-1 each send one broadcast, so that all are learned.
  void learn_all(std::uint32_t n) {
    for (std::uint32_t h = 0; h < n; ++h) bcast(h);
    sim.run();
    got.clear();
  }
  std::vector<std::uint32_t> run_and_take() {
    sim.run();
    return take();
  }
};

using hosts = std::vector<std::uint32_t>;

}  // namespace

TEST_CASE("switch fast path: a learned unicast arrives at the model's exact nanosecond") {
  world w(3);
  w.learn_all(3);
  const sim_time t0 = w.sim.now();
  w.ucast(0, 2);
  w.sim.run();
  REQUIRE(w.got.size() == 1);
  CHECK(w.got[0].host == 2);
  // 1 Gb/s links, 500 ns: 672 ns serialization + 500 ns, 5 us store-and-forward, 672 + 500.
  CHECK(w.got[0].at == t0 + 1172_ns + 5_us + 1172_ns);
  const auto want = world::bytes(host_mac(2), host_mac(0), 0x0800);
  CHECK(w.got[0].bytes == want);
  CHECK(w.sws.counters(w.sw, 0).in_ucast_pkts == 1);
  CHECK(w.sws.counters(w.sw, 0).in_octets == 60 + 60);  // the broadcast, then the unicast
  CHECK(w.sws.counters(w.sw, 2).out_ucast_pkts == 1);
  CHECK(w.sws.counters(w.sw, 2).tp_out_frames == 3);  // two floods, one unicast
  CHECK(w.sws.fdb(w.sw).stats().refreshed == 1);
}

TEST_CASE("switch fast path: a trapped EtherType in a learned unicast is swallowed before learning") {
  world w(3);
  w.learn_all(3);
  w.sws.set_trap_ether_type(w.sw, 0x8005);
  w.ucast(0, 2, 0x8005);
  CHECK(w.run_and_take().empty());
  CHECK(w.sws.counters(w.sw).trapped == 1);
  // From host 1's port with host 0's MAC: trapped, so host 0's MAC does not move.
  w.links.send(w.host_link[1], link_side::a, w.frame(host_mac(2), host_mac(0), 0x8005));
  CHECK(w.run_and_take().empty());
  CHECK(w.sws.counters(w.sw).trapped == 2);
  CHECK(w.sws.counters(w.sw).mac_flaps == 0);
  CHECK(w.sws.fdb(w.sw).peek(1, host_mac(0)) == net::port_no{0});
  w.ucast(0, 2, 0x0800);  // another type goes through
  CHECK(w.run_and_take() == hosts{2});
  w.sws.set_trap_ether_type(w.sw, std::nullopt);
  w.ucast(0, 2, 0x8005);
  CHECK(w.run_and_take() == hosts{2});
  CHECK(w.sws.counters(w.sw).trapped == 2);
}

TEST_CASE("switch fast path: powered off, a unicast handed to receive() is dropped and counted") {
  world w(3);
  w.learn_all(3);
  w.sws.set_power(w.sw, false);
  const auto in_octets = w.sws.counters(w.sw, 0).in_octets;
  w.sws.receive(w.sw, 0, w.frame(host_mac(2), host_mac(0)));
  w.sim.run();
  CHECK(w.got.empty());
  CHECK(w.sws.counters(w.sw).powered_off_drops == 1);
  CHECK(w.sws.counters(w.sw, 0).in_octets == in_octets);
  CHECK(w.sws.counters(w.sw, 2).out_ucast_pkts == 0);
}

TEST_CASE("switch fast path: a source that moves, a full table and the move guard are counted") {
  SUBCASE("a move is logged as a MAC flap and the unicast still goes out") {
    world w(3);
    w.learn_all(3);
    w.links.send(w.host_link[1], link_side::a, w.frame(host_mac(2), host_mac(0)));
    CHECK(w.run_and_take() == hosts{2});
    CHECK(w.sws.counters(w.sw).mac_flaps == 1);
    CHECK(w.sws.fdb(w.sw).peek(1, host_mac(0)) == net::port_no{1});
    const auto ev = w.sws.events();
    const auto it = std::find_if(ev.begin(), ev.end(), [](const net::switch_event& e) {
      return e.what == net::switch_event::kind::mac_flap;
    });
    REQUIRE(it != ev.end());
    CHECK(it->port == 1);
    CHECK(it->other_port == 0);
    CHECK(it->mac == host_mac(0));
  }
  SUBCASE("a full table does not learn the source; the learned destination is still served") {
    net::switch_config cfg;
    cfg.fdb.capacity = 2;
    world w(3, cfg);
    w.learn_all(2);
    w.ucast(2, 1);
    CHECK(w.run_and_take() == hosts{1});
    CHECK(w.sws.counters(w.sw).learn_table_full == 1);
    CHECK_FALSE(w.sws.fdb(w.sw).peek(1, host_mac(2)));
  }
  SUBCASE("the move guard refuses the move; frames still go to the destination") {
    net::switch_config cfg;
    cfg.fdb.move_limit = 1;
    world w(3, cfg);
    w.learn_all(3);
    w.links.send(w.host_link[1], link_side::a, w.frame(host_mac(2), host_mac(0)));  // pins on 1
    CHECK(w.run_and_take() == hosts{2});
    w.ucast(0, 2);  // host 0's MAC back on port 0: guarded
    CHECK(w.run_and_take() == hosts{2});
    CHECK(w.sws.counters(w.sw).mac_flaps == 1);
    CHECK(w.sws.counters(w.sw).move_guard_blocks == 1);
    CHECK(w.sws.fdb(w.sw).peek(1, host_mac(0)) == net::port_no{1});
  }
}

TEST_CASE("switch fast path: a unicast learned on a port-channel leaves by the hashed member") {
  world w(4);
  net::port_channel_config pc;
  pc.members = {2, 3};
  pc.hash = net::channel_hash::src_mac;
  const auto ch = w.sws.add_port_channel(w.sw, pc);
  const auto po = w.sws.channel_port(w.sw, ch);
  const auto y = wire::mac_address::from_u64(0x0050'5600'00b0ULL);
  // Y speaks from member 3: learned on the channel.
  w.links.send(w.host_link[3], link_side::a, w.frame(wire::mac_address::broadcast(), y, 0x0806));
  w.learn_all(2);
  REQUIRE(w.sws.fdb(w.sw).peek(1, y) == po);
  for (std::uint32_t h = 0; h < 2; ++h) {
    const auto f = w.frame(y, host_mac(h));
    const auto member = w.sws.channel_member_for(w.sw, ch, f.cdata());
    REQUIRE(member);
    w.links.send(w.host_link[h], link_side::a, f);
    CHECK(w.run_and_take() == hosts{*member});
    CHECK(w.sws.counters(w.sw, *member).out_ucast_pkts >= 1);
  }
  // Y seen on the other member is on the same logical port: a refresh, not a flap.
  w.links.send(w.host_link[2], link_side::a, w.frame(host_mac(0), y));
  CHECK(w.run_and_take() == hosts{0});
  CHECK(w.sws.counters(w.sw).mac_flaps == 0);
}
