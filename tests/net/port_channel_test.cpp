// Port-channels (EtherChannel / LACP) on net::switch_set: one logical port for learning,
// flooding and split horizon; deterministic egress hashing; member failure; LACP between two
// switches [VS67][LK3AD]; one spanning tree port on STP and RSTP switches (802.1AX-2014 6.1).
#include "vnetsim/net/switch.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "vnetsim/net/topology.hpp"
#include "vnetsim/wire/bytes.hpp"
#include "vnetsim/wire/lacp.hpp"
#include "../kernel/alloc_counter.hpp"
#include "switch_world.hpp"

using namespace vnetsim;
using namespace vnetsim::literals;
using dev::link_side;

namespace {

constexpr wire::mac_address mac(std::uint64_t v) { return wire::mac_address::from_u64(v); }

/// The shared test world (switch_world.hpp) with RNG seed 11, not holding received frames;
/// every send must be queued, and run_and_take() runs 1 ms.
struct world : test::switch_world {
  world() : switch_world(11) { keep_frames = false; }

  static std::vector<std::uint8_t> frame(wire::mac_address dst, wire::mac_address src,
                                         std::uint16_t type = 0x0800, std::size_t len = 60) {
    return bytes(dst, src, type, len);
  }
  /// An IPv4 frame (version/IHL 0x45) from `sip` to `dip`.
  static std::vector<std::uint8_t> ip_frame(wire::mac_address dst, wire::mac_address src,
                                            std::uint32_t sip, std::uint32_t dip) {
    auto b = frame(dst, src, 0x0800);
    b[14] = 0x45;
    for (int i = 0; i < 4; ++i) {
      b[26 + i] = static_cast<std::uint8_t>(sip >> (24 - 8 * i));
      b[30 + i] = static_cast<std::uint8_t>(dip >> (24 - 8 * i));
    }
    return b;
  }
  void send(std::uint32_t h, const std::vector<std::uint8_t>& b) {
    REQUIRE(switch_world::send(h, b) == dev::send_result::queued);
  }
  std::vector<std::uint32_t> run_and_take() {
    sim.run_for(sim_time::from_ms(1));
    return take();
  }
};

using hosts = std::vector<std::uint32_t>;

net::port_channel_config static_channel(std::vector<net::port_no> members,
                                        net::channel_hash h = net::channel_hash::src_dst_mac) {
  net::port_channel_config c;
  c.members = std::move(members);
  c.mode = net::channel_mode::on;
  c.hash = h;
  return c;
}

// The ESX out-ip host: one MAC (X) transmitting on two NICs, each cabled to a switch port.
constexpr auto X = mac(0x0050'5600'0001ULL);
constexpr auto Y = mac(0x0050'5600'0002ULL);
constexpr auto Z = mac(0x0050'5600'0003ULL);

}  // namespace

TEST_CASE("port-channel: one MAC on two ports flaps without a channel, not with one") {
  world w;
  const auto sw = w.add_switch(4);
  const auto nic0 = w.connect(sw, 0), nic1 = w.connect(sw, 1), other = w.connect(sw, 2);
  (void)other;
  SUBCASE("no channel: every move is a MACFLAP") {
    for (int i = 0; i < 4; ++i) {
      w.send(i % 2 == 0 ? nic0 : nic1, world::frame(Y, X));
      w.run_and_take();
    }
    CHECK(w.sws.counters(sw).mac_flaps == 3);
    CHECK(w.count(sw, net::switch_event::kind::mac_flap) == 3);
    CHECK(w.sws.fdb(sw).peek(1, X) == net::port_no{1});
  }
  SUBCASE("static channel: learned on the channel, no flap") {
    const auto ch = w.sws.add_port_channel(sw, static_channel({1, 0}));
    CHECK(ch == 0);
    CHECK(w.sws.channel_port(sw, ch) == 4);  // port_count + channel index
    CHECK(w.sws.channel_of(sw, 0) == net::channel_id{0});
    CHECK(w.sws.channel_of(sw, 2) == std::nullopt);
    CHECK(w.sws.channel_config(sw, ch).name == "Po1");
    for (int i = 0; i < 4; ++i) {
      w.send(i % 2 == 0 ? nic0 : nic1, world::frame(Y, X));
      w.run_and_take();
    }
    CHECK(w.sws.counters(sw).mac_flaps == 0);
    CHECK(w.count(sw, net::switch_event::kind::mac_flap) == 0);
    CHECK(w.sws.fdb(sw).peek(1, X) == net::port_no{4});
    // Unicast to X leaves one member only: the hashed one.
    const auto f = world::frame(X, Z);
    const auto m = w.sws.channel_member_for(sw, ch, std::as_bytes(std::span(f)));
    REQUIRE(m);
    w.send(2, f);
    CHECK(w.run_and_take() == hosts{*m});
  }
}

TEST_CASE("port-channel: flooding sends one copy into the channel; split horizon") {
  world w;
  const auto sw = w.add_switch(5);
  for (net::port_no p = 0; p < 5; ++p) w.connect(sw, p);  // host p on port p
  const auto ch = w.sws.add_port_channel(sw, static_channel({0, 1, 2}));
  REQUIRE(w.sws.channel_active(sw, ch).size() == 3);

  SUBCASE("a broadcast from outside reaches exactly one member, the hashed one") {
    const auto f = world::frame(wire::mac_address::broadcast(), Z, 0x0806);
    // src-dst-mac: key = Z ^ ff:ff:ff:ff:ff:ff = 0x0000'ffaf'a9ff'fffc, folded by XOR of its
    // bytes = 0xff^0xaf^0xa9^0xff^0xff^0xfc = 0xfb = 251; 251 % 3 = 2 -> active[2] = port 2.
    CHECK(w.sws.channel_member_for(sw, ch, std::as_bytes(std::span(f))) == net::port_no{2});
    w.send(3, f);
    CHECK(w.run_and_take() == hosts{2, 4});
    CHECK(w.sws.counters(sw, 0).out_broadcast_pkts == 0);
    CHECK(w.sws.counters(sw, 1).out_broadcast_pkts == 0);
    CHECK(w.sws.counters(sw, 2).out_broadcast_pkts == 1);
  }
  SUBCASE("a broadcast from a member never goes back into the channel") {
    const auto f = world::frame(wire::mac_address::broadcast(), X, 0x0806);
    // The hash picks member 1 (X ^ broadcast folds to 7; 7 % 3 = 1), not the ingress port 0:
    // only split horizon keeps the frame out of the channel.
    REQUIRE(w.sws.channel_member_for(sw, ch, std::as_bytes(std::span(f))) == net::port_no{1});
    w.send(0, f);
    CHECK(w.run_and_take() == hosts{3, 4});
  }
  SUBCASE("unknown unicast from a member: flooded outside the channel only") {
    const auto f = world::frame(Y, X);
    REQUIRE(w.sws.channel_member_for(sw, ch, std::as_bytes(std::span(f))) == net::port_no{0});
    w.send(1, f);  // X ^ Y = 3; 3 % 3 = 0: member 0, not the ingress port 1
    CHECK(w.run_and_take() == hosts{3, 4});
  }
  SUBCASE("a unicast to a MAC learned on the ingress channel is filtered") {
    w.send(0, world::frame(Z, X));  // X learned on the channel (from member 0)
    w.run_and_take();
    w.send(2, world::frame(X, Y));  // from member 2, to X: same logical port
    CHECK(w.run_and_take().empty());
    CHECK(w.sws.counters(sw, 2).tp_in_discards == 1);
  }
}

TEST_CASE("port-channel: egress hashing picks a fixed member per flow") {
  world w;
  const auto sw = w.add_switch(5);
  for (net::port_no p = 0; p < 5; ++p) w.connect(sw, p);
  const auto ch = w.sws.add_port_channel(sw, static_channel({2, 0, 1}));
  CHECK(std::vector<net::port_no>(w.sws.channel_active(sw, ch).begin(),
                                  w.sws.channel_active(sw, ch).end()) ==
        std::vector<net::port_no>{0, 1, 2});
  const auto S = mac(0x0050'5600'0010ULL);
  // Destinations learned on the channel (sent in through member 0).
  for (std::uint64_t d = 0x21; d <= 0x24; ++d) w.send(0, world::frame(S, mac(0x0050'5600'0000ULL + d)));
  w.run_and_take();
  // src-dst-mac: S ^ D = 0x31..0x34 (the rest cancels); % 3 -> 1, 2, 0, 1.
  const std::vector<net::port_no> expect3 = {1, 2, 0, 1};
  for (int round = 0; round < 2; ++round) {  // twice: deterministic
    for (std::uint64_t d = 0x21; d <= 0x24; ++d) {
      w.send(3, world::frame(mac(0x0050'5600'0000ULL + d), S));
      CHECK(w.run_and_take() == hosts{expect3[d - 0x21]});
    }
  }

  SUBCASE("hash fields") {
    auto member = [&](const std::vector<std::uint8_t>& f) {
      return w.sws.channel_member_for(sw, ch, std::as_bytes(std::span(f)));
    };
    net::switch_set& sws = w.sws;
    (void)sws;
    // Independent channels on a second switch, two members each, to compare fields.
    world v;
    const auto s2 = v.add_switch(8);
    for (net::port_no p = 0; p < 8; ++p) v.connect(s2, p);
    const auto by_src = v.sws.add_port_channel(s2, static_channel({0, 1}, net::channel_hash::src_mac));
    const auto by_dst = v.sws.add_port_channel(s2, static_channel({2, 3}, net::channel_hash::dst_mac));
    const auto by_ip = v.sws.add_port_channel(s2, static_channel({4, 5}, net::channel_hash::src_dst_ip));
    auto pick = [&](net::channel_id c, const std::vector<std::uint8_t>& f) {
      return v.sws.channel_member_for(s2, c, std::as_bytes(std::span(f)));
    };
    const auto f1 = world::frame(mac(4), mac(7));
    CHECK(pick(by_src, f1) == net::port_no{1});  // 7 % 2
    CHECK(pick(by_dst, f1) == net::port_no{2});  // 4 % 2 = 0 -> port 2
    // src-dst-ip: 10.0.0.1 ^ 10.0.0.2 = 3 -> odd -> port 5; 10.0.0.1 ^ 10.0.0.3 = 2 -> port 4.
    CHECK(pick(by_ip, world::ip_frame(mac(4), mac(7), 0x0a00'0001, 0x0a00'0002)) == net::port_no{5});
    CHECK(pick(by_ip, world::ip_frame(mac(4), mac(7), 0x0a00'0001, 0x0a00'0003)) == net::port_no{4});
    // 10.1.0.1 ^ 10.0.0.2 = 0x0001'0003; folded: 0x01 ^ 0x00 ^ 0x03 = 2 -> port 4 (the fold
    // matters: the low byte alone would say odd).
    CHECK(pick(by_ip, world::ip_frame(mac(4), mac(7), 0x0a01'0001, 0x0a00'0002)) == net::port_no{4});
    // Non-IP under src-dst-ip: src-dst-mac, 4 ^ 7 = 3 -> port 5; 4 ^ 6 = 2 -> port 4.
    CHECK(pick(by_ip, world::frame(mac(4), mac(7), 0x0806)) == net::port_no{5});
    CHECK(pick(by_ip, world::frame(mac(4), mac(6), 0x0806)) == net::port_no{4});
    CHECK(member(world::frame(mac(0x0050'5600'0021ULL), S)) == net::port_no{1});
  }
}

TEST_CASE("port-channel: a member's carrier loss moves its flows at that instant") {
  world w;
  const auto sw = w.add_switch(4);
  for (net::port_no p = 0; p < 4; ++p) w.connect(sw, p);
  const auto ch = w.sws.add_port_channel(sw, static_channel({0, 1}));
  const auto S = mac(0x0050'5600'0010ULL);
  for (std::uint64_t d = 0x21; d <= 0x24; ++d) w.send(0, world::frame(S, mac(0x0050'5600'0000ULL + d)));
  w.run_and_take();
  // S ^ D = 0x31..0x34, % 2 -> 1, 0, 1, 0.
  for (std::uint64_t d = 0x21; d <= 0x24; ++d) {
    w.send(2, world::frame(mac(0x0050'5600'0000ULL + d), S));
    CHECK(w.run_and_take() == hosts{d % 2 == 1 ? 1u : 0u});
  }
  const sim_time t_fail = w.sim.now();
  w.links.set_carrier(w.host_link[1], false);
  w.sim.run_until(t_fail);  // the carrier event, same instant
  CHECK(w.sws.channel_active(sw, ch).size() == 1);
  CHECK(w.last_event(sw, 1, net::switch_event::kind::channel_member_inactive) == t_fail);
  CHECK(w.sws.to_string(w.sws.events().back()) ==
        fmt::format("{} sw1: port 1 inactive in port-channel Po1", t_fail));
  for (std::uint64_t d = 0x21; d <= 0x24; ++d) {
    w.send(2, world::frame(mac(0x0050'5600'0000ULL + d), S));
    CHECK(w.run_and_take() == hosts{0});
  }
  CHECK(w.sws.fdb(sw).peek(1, mac(0x0050'5600'0021ULL)) == net::port_no{4});  // still learned
  SUBCASE("all members down: the channel is down, its entries flushed, frames dropped") {
    w.links.set_carrier(w.host_link[0], false);
    w.sim.run_until(w.sim.now());
    CHECK_FALSE(w.sws.channel_up(sw, ch));
    CHECK(w.sws.fdb(sw).peek(1, mac(0x0050'5600'0021ULL)) == std::nullopt);
    w.send(2, world::frame(wire::mac_address::broadcast(), S, 0x0806));
    CHECK(w.run_and_take() == hosts{3});
  }
  SUBCASE("the member returns: flows go back to their old member") {
    w.links.set_carrier(w.host_link[1], true);
    w.sim.run_until(w.sim.now());
    CHECK(w.sws.channel_active(sw, ch).size() == 2);
    w.send(2, world::frame(mac(0x0050'5600'0021ULL), S));
    CHECK(w.run_and_take() == hosts{1});
  }
}

TEST_CASE("port-channel: configuration errors name the switch, channel and rule") {
  world w;
  net::switch_config c;
  c.name = "core";
  const auto sw = w.add_switch(4, c);
  auto msg = [&](const net::port_channel_config& pc) -> std::string {
    try {
      w.sws.add_port_channel(sw, pc);
    } catch (const net::switch_error& e) {
      return e.what();
    }
    return "no error";
  };
  CHECK(msg(static_channel({})) == "switch 0 (core) port-channel Po1: no member ports");
  CHECK(msg(static_channel({1, 9})) ==
        "switch 0 (core) port-channel Po1: member port 9 does not exist (the switch has 4)");
  CHECK(msg(static_channel({1, 1})) == "switch 0 (core) port-channel Po1: member port 1 listed twice");
  net::port_config v20;
  v20.access_vlan = 20;
  w.sws.configure_port(sw, 3, v20);
  CHECK(msg(static_channel({2, 3})) ==
        "switch 0 (core) port-channel Po1: member port 3 has a VLAN configuration different "
        "from port 2 (members must be identical)");
  auto lacp_pc = static_channel({2});
  lacp_pc.mode = net::channel_mode::lacp;
  CHECK(msg(lacp_pc) == "switch 0 (core) port-channel Po1: mode lacp needs "
                        "switch_config::lacp_system to be a unicast MAC, not 00:00:00:00:00:00");
  CHECK(w.sws.channel_count(sw) == 0);
  CHECK(w.sws.add_port_channel(sw, static_channel({0, 1})) == 0);
  CHECK(msg(static_channel({1, 2})) ==
        "switch 0 (core) port-channel Po2: member port 1 is already in port-channel Po1");
  // A member's VLAN configuration cannot change on its own.
  CHECK_THROWS_WITH_AS(w.sws.configure_port(sw, 0, v20),
                       "switch 0 (core) port 0: member of port-channel Po1: its VLAN configuration "
                       "must stay identical to the other members'",
                       net::switch_error);
  net::port_config same;
  same.edge = true;  // not a VLAN field: allowed
  CHECK_NOTHROW(w.sws.configure_port(sw, 0, same));

  SUBCASE("a channel path cost the spanning tree engine rejects") {
    net::switch_config sc;
    sc.name = "stp";
    sc.stp = net::stp_mode::stp;  // 802.1D-1998 costs: 1-65535
    sc.stp_bridge.address = mac(0x0200'0000'0001ULL);
    const auto s2 = w.add_switch(4, sc);
    auto pc = static_channel({0, 1});
    pc.path_cost = 70'000;
    CHECK_THROWS_WITH_AS(w.sws.add_port_channel(s2, pc),
                         doctest::Contains("switch 1 (stp) port-channel Po1: spanning tree: "),
                         net::switch_error);
    CHECK(w.sws.channel_count(s2) == 0);  // rolled back, the engine rebuilt without it
    REQUIRE(w.sws.stp_engine(s2) != nullptr);
    CHECK(w.sws.stp_engine(s2)->port_count() == 4);
    CHECK(w.sws.channel_of(s2, 0) == std::nullopt);
    pc.path_cost = 0;
    CHECK(w.sws.add_port_channel(s2, pc) == 0);
    CHECK(w.sws.stp_engine(s2)->port_count() == 5);  // 4 physical + Po1
  }
  SUBCASE("lacp needs a frame pool") {
    kernel::simulator sim;
    kernel::rng_streams st{1};
    dev::link_set links{sim, st};
    net::switch_set nopool{sim, links};
    net::switch_config sc;
    sc.name = "np";
    sc.lacp_system = mac(0x0200'0000'0009ULL);
    const auto s3 = nopool.add(sc);
    auto pc = static_channel({0, 1});
    pc.mode = net::channel_mode::lacp;
    CHECK_THROWS_WITH_AS(nopool.add_port_channel(s3, pc),
                         "switch 0 (np) port-channel Po1: mode lacp needs the switch_set to have "
                         "a frame pool",
                         net::switch_error);
  }
}

namespace {

/// Two switches A and B joined by two links (A port i <-> B port i, i = 0, 1), an lacp
/// channel {0, 1} on each, a host on port 2 of each.
struct lacp_pair {
  world w;
  net::switch_id a = 0, b = 0;
  dev::link_id l0 = 0, l1 = 0;
  std::uint32_t ha = 0, hb = 0;

  explicit lacp_pair(lacp::lacp_timeout rate,
                     lacp::activity act_b = lacp::activity::active) {
    net::switch_config ca;
    ca.name = "A";
    ca.lacp_system = mac(0x0200'0000'000aULL);
    net::switch_config cb = ca;
    cb.name = "B";
    cb.lacp_system = mac(0x0200'0000'000bULL);
    a = w.add_switch(4, ca);
    b = w.add_switch(4, cb);
    l0 = w.trunk(a, 0, b, 0);
    l1 = w.trunk(a, 1, b, 1);
    ha = w.connect(a, 2);
    hb = w.connect(b, 2);
    auto pc = static_channel({0, 1});
    pc.mode = net::channel_mode::lacp;
    pc.rate = rate;
    w.sws.add_port_channel(a, pc);
    pc.activity = act_b;
    w.sws.add_port_channel(b, pc);
  }
  bool distributing(net::switch_id s, net::port_no p) const {
    return w.sws.lacp_engine(s)->port_table()[*w.sws.lacp_port(s, p)].distributing;
  }
};

// One LACPDU frame on a 1 Gb/s link: (124 + 4 FCS + 8 preamble + 12 IFG) * 8 ns = 1184 ns of
// serialization, then 500 ns of propagation (link_config defaults).
constexpr sim_time lacpdu_hop = sim_time::from_ns(1184 + 500);

}  // namespace

TEST_CASE("port-channel: LACP between two switches") {
  lacp_pair p(lacp::lacp_timeout::short_timeout);
  auto& w = p.w;
  REQUIRE(w.sws.lacp_engine(p.a) != nullptr);
  CHECK(w.sws.lacp_port(p.a, 1) == lacp::port_index{1});
  CHECK(w.sws.lacp_port(p.a, 2) == std::nullopt);
  w.sim.run_until(sim_time::from_ms(1999));
  CHECK_FALSE(w.sws.channel_up(p.a, 0));
  CHECK_FALSE(p.distributing(p.a, 0));
  w.sim.run_until(sim_time::from_s(3));
  // Both ends send at t = 0; each selects its aggregator when the partner's LACPDU arrives
  // (one hop), waits Aggregate_Wait_Time (2 s, 802.1AX-2014 6.4.4), attaches and sends an
  // in-sync LACPDU, which arrives one hop later: COLLECTING_DISTRIBUTING at 2 s + 2 hops
  // (the proto engine test sees the same: 2.002 s with 1 ms links).
  const sim_time formed = sim_time::from_s(2) + lacpdu_hop + lacpdu_hop;
  for (auto s : {p.a, p.b}) {
    for (net::port_no m : {0, 1}) {
      CHECK(p.distributing(s, m));
      CHECK(w.last_event(s, m, net::switch_event::kind::channel_member_active) == formed);
    }
    CHECK(w.sws.channel_active(s, 0).size() == 2);
  }
  CHECK(w.sws.counters(p.a).lacpdus_in > 0);
  CHECK(w.sws.counters(p.a).lacpdus_bad == 0);

  SUBCASE("LACPDUs are never forwarded; traffic crosses the channel, no flap") {
    CHECK(w.got.empty());  // the hosts on port 2 saw no LACPDU
    CHECK(w.sws.counters(p.a, 2).out_multicast_pkts == 0);
    for (std::uint64_t i = 0; i < 8; ++i) {
      w.send(p.ha, world::frame(wire::mac_address::broadcast(), mac(0x0050'5600'0100ULL + i), 0x0806));
    }
    CHECK(w.run_and_take() == hosts(8, p.hb));
    CHECK(w.sws.counters(p.b).mac_flaps == 0);
    // A LACPDU sent by a host into a non-member port is not forwarded either.
    std::vector<std::uint8_t> pdu(124, 0);
    auto f = world::frame(wire::slow_protocols_address, mac(0x0050'5600'0009ULL), 0x8809, 124);
    std::fill(f.begin() + 14, f.end(), 0);
    f[14] = 1;
    f[15] = 1;
    w.send(p.ha, f);
    CHECK(w.run_and_take().empty());
    CHECK(w.sws.counters(p.a).control_frames == 1);
  }
  SUBCASE("fast rate: a one-way black hole removes the member 3 s after the last LACPDU") {
    // Stop just after a LACPDU from A reached B on link 0.
    const auto& st = w.links.stats(p.l0, link_side::a);
    const auto before = st.delivered;
    while (st.delivered == before) w.sim.run_for(sim_time::from_us(1));
    const sim_time t_bh = w.sim.now();  // the LACPDU arrived in (t_bh - 1 us, t_bh]
    w.links.set_black_hole(p.l0, link_side::a, true);
    w.sim.run_until(t_bh + sim_time::from_s(7));
    const auto gone_b = w.last_event(p.b, 0, net::switch_event::kind::channel_member_inactive);
    const auto gone_a = w.last_event(p.a, 0, net::switch_event::kind::channel_member_inactive);
    REQUIRE(gone_b);
    REQUIRE(gone_a);
    // Short_Timeout_Time = 3 s (802.1AX-2014 6.4.4) [LK3AD].
    CHECK(*gone_b > t_bh + sim_time::from_s(3) - sim_time::from_us(1));
    CHECK(*gone_b <= t_bh + sim_time::from_s(3));
    // A keeps the member until B stops claiming sync: B's port goes EXPIRED at 3 s (its
    // Mux drops to ATTACHED, Actor.Sync still TRUE, 802.1AX-2014 6.4.15), DEFAULTED a
    // Short_Timeout_Time later (6.4.12), then unselected and detached; that LACPDU reaches
    // A one hop later.
    CHECK(*gone_a == *gone_b + sim_time::from_s(3) + lacpdu_hop);
    CHECK(w.sws.channel_active(p.a, 0).size() == 1);
    CHECK(w.sws.channel_active(p.b, 0).size() == 1);
    CHECK(w.sws.channel_active(p.a, 0)[0] == 1);
    // Traffic keeps flowing, all of it over member 1.
    const auto d1 = w.links.stats(p.l1, link_side::a).delivered;
    w.got.clear();
    for (std::uint64_t i = 0; i < 8; ++i) {
      w.send(p.ha, world::frame(wire::mac_address::broadcast(), mac(0x0050'5600'0100ULL + i), 0x0806));
    }
    CHECK(w.run_and_take() == hosts(8, p.hb));
    CHECK(w.links.stats(p.l1, link_side::a).delivered - d1 >= 8);
  }
}

TEST_CASE("port-channel: LACP slow rate: the black-holed member leaves after 90 s") {
  lacp_pair p(lacp::lacp_timeout::long_timeout);
  auto& w = p.w;
  w.sim.run_until(sim_time::from_s(40));
  REQUIRE(w.sws.channel_active(p.b, 0).size() == 2);
  const auto& st = w.links.stats(p.l0, link_side::a);
  const auto before = st.delivered;
  while (st.delivered == before) w.sim.run_for(sim_time::from_us(1));
  const sim_time t_bh = w.sim.now();
  w.links.set_black_hole(p.l0, link_side::a, true);
  w.sim.run_until(t_bh + sim_time::from_s(89));
  CHECK(w.sws.channel_active(p.b, 0).size() == 2);  // still there after 89 s
  w.sim.run_until(t_bh + sim_time::from_s(91));
  const auto gone_b = w.last_event(p.b, 0, net::switch_event::kind::channel_member_inactive);
  REQUIRE(gone_b);
  // Long_Timeout_Time = 90 s (802.1AX-2014 6.4.4) [LK3AD].
  CHECK(*gone_b > t_bh + sim_time::from_s(90) - sim_time::from_us(1));
  CHECK(*gone_b <= t_bh + sim_time::from_s(90));
  CHECK(w.sws.channel_active(p.b, 0).size() == 1);
  CHECK(w.sws.channel_active(p.a, 0).size() == 2);  // A: see the fast-rate test
  w.sim.run_until(*gone_b + sim_time::from_s(3) + lacpdu_hop);
  CHECK(w.sws.channel_active(p.a, 0).size() == 1);
  w.got.clear();
  for (std::uint64_t i = 0; i < 8; ++i) {
    w.send(p.hb, world::frame(wire::mac_address::broadcast(), mac(0x0050'5600'0200ULL + i), 0x0806));
  }
  CHECK(w.run_and_take() == hosts(8, p.ha));
}

TEST_CASE("port-channel: LACPDU bytes on the wire and passive partners") {
  world w;
  net::switch_config c;
  c.name = "S";
  c.lacp_system = mac(0x0200'0000'00aaULL);
  c.lacp_system_priority = 0x1234;
  const auto sw = w.add_switch(3, c);
  w.connect(sw, 0);
  w.connect(sw, 1);
  auto pc = static_channel({0, 1});
  pc.mode = net::channel_mode::lacp;
  pc.rate = lacp::lacp_timeout::short_timeout;
  SUBCASE("active: the first LACPDU at t = 0, 124 bytes") {
    w.sws.add_port_channel(sw, pc);
    w.sim.run_until(sim_time::from_ms(10));
    REQUIRE(w.got.size() == 2);
    for (const auto& r : w.got) {
      const auto& b = r.bytes;
      REQUIRE(b.size() == 124);
      CHECK(std::vector<std::uint8_t>(b.begin(), b.begin() + 6) ==
            std::vector<std::uint8_t>{0x01, 0x80, 0xc2, 0x00, 0x00, 0x02});
      CHECK(std::vector<std::uint8_t>(b.begin() + 6, b.begin() + 12) ==
            std::vector<std::uint8_t>{0x02, 0x00, 0x00, 0x00, 0x00, 0xaa});
      CHECK(b[12] == 0x88);
      CHECK(b[13] == 0x09);
      CHECK(b[14] == 0x01);  // subtype LACP
      CHECK(b[15] == 0x01);  // version 1
      CHECK(b[16] == 0x01);  // actor TLV
      CHECK(b[17] == 20);
      CHECK(b[18] == 0x12);  // system priority
      CHECK(b[19] == 0x34);
      CHECK(b[26] == 0x00);  // key = channel index + 1
      CHECK(b[27] == 0x01);
      CHECK(b[30] == 0x00);  // port number = switch port + 1
      CHECK(b[31] == r.host + 1);
      CHECK((b[32] & 0x03) == 0x03);  // Activity + short Timeout
      const auto pdu = wire::lacp_repr::parse(std::as_bytes(std::span(b)).subspan(14));
      REQUIRE(pdu);
      CHECK(pdu.value().actor.system == c.lacp_system);
    }
    CHECK(w.sws.counters(sw).lacpdus_out == 2);
    CHECK(w.sws.counters(sw, 0).out_multicast_pkts == 1);
  }
  SUBCASE("passive with a silent partner: nothing sent, channel down, traffic dropped") {
    pc.activity = lacp::activity::passive;
    w.sws.add_port_channel(sw, pc);
    w.sim.run_until(sim_time::from_s(10));
    CHECK(w.got.empty());
    CHECK_FALSE(w.sws.channel_up(sw, 0));
    w.send(0, world::frame(wire::mac_address::broadcast(), X, 0x0806));
    w.run_and_take();
    CHECK(w.sws.counters(sw).channel_not_collecting_drops == 1);
    CHECK(w.sws.counters(sw, 0).in_discards == 1);
  }
}

TEST_CASE("port-channel: LACP active with passive partner forms; power cycle restarts it") {
  lacp_pair p(lacp::lacp_timeout::short_timeout, lacp::activity::passive);
  auto& w = p.w;
  w.sim.run_until(sim_time::from_s(4));
  CHECK(w.sws.channel_active(p.a, 0).size() == 2);
  CHECK(w.sws.channel_active(p.b, 0).size() == 2);
  w.sws.set_power(p.b, false);
  w.sim.run_until(w.sim.now());
  CHECK_FALSE(w.sws.channel_up(p.a, 0));
  CHECK_FALSE(w.sws.channel_up(p.b, 0));
  w.sws.set_power(p.b, true);
  w.sim.run_for(sim_time::from_s(4));
  CHECK(w.sws.channel_active(p.a, 0).size() == 2);
  CHECK(w.sws.channel_active(p.b, 0).size() == 2);
}

TEST_CASE("port-channel: the frame path allocates nothing once warmed up") {
  world w;
  const auto sw = w.add_switch(5);
  for (net::port_no p = 0; p < 5; ++p) w.connect(sw, p);
  w.sws.add_port_channel(sw, static_channel({0, 1, 2}, net::channel_hash::src_dst_ip));
  w.record = false;
  const auto in_member = world::ip_frame(Z, X, 0x0a00'0001, 0x0a00'0002);  // X on the channel
  const auto to_channel = world::ip_frame(X, Z, 0x0a00'0002, 0x0a00'0001);
  const auto bc = world::frame(wire::mac_address::broadcast(), Y, 0x0806);
  auto round = [&] {
    for (int i = 0; i < 50; ++i) {
      w.send(1, in_member);   // learned on the channel, to port 3
      w.send(3, to_channel);  // hashed to one member
      w.send(4, bc);          // flood: one member + port 3
    }
    w.sim.run();
  };
  round();
  const auto before_delivered = w.delivered;
  const auto before = test::allocation_count();
  round();
  CHECK(test::allocation_count() == before);
  CHECK(w.delivered - before_delivered == 50 * (1 + 1 + 2));
  CHECK(w.sws.counters(sw).mac_flaps == 0);
}

// ---- spanning tree on port-channels -------------------------------------------------------

namespace {

using namespace vnetsim::literals;

/// Two switches in a loop: A/0 -- B/0 one link, A/{2,3} -- B/{2,3} a static 2-member
/// channel Po1 (engine port 5 = port_count + 0), a host on port 1 (edge) of each. A is the
/// root (priority 4096). Port 0's cost is set to the Table 17-3 cost of 1 Gb/s (20,000);
/// the channel's comes from its 2 Gb/s aggregate: 20,000,000,000,000 / 2e9 = 10,000
/// (802.1D-2004 Table 17-3); STP uses the same table (cost_method ieee2004). Carrier changes
/// are detected 2 ms late (link_detect_delay).
struct stp_channel_pair {
  world w;
  net::switch_id a = 0, b = 0;
  dev::link_id l0 = 0, m2 = 0, m3 = 0;
  std::uint32_t ha = 0, hb = 0;
  static constexpr net::port_no po = 5;  // the channel's logical (and engine) port
  static constexpr sim_time detect = sim_time::from_ms(2);

  explicit stp_channel_pair(net::stp_mode mode) {
    auto [ca, cb] = test::bridge_pair(mode);
    ca.link_detect_delay = cb.link_detect_delay = detect;
    ca.stp_bridge.cost_method = cb.stp_bridge.cost_method = proto::path_cost_method::ieee2004;
    a = w.add_switch(5, ca);
    b = w.add_switch(5, cb);
    net::port_config edge;
    edge.edge = true;
    net::port_config single;
    single.path_cost = proto::long_path_cost(1'000'000'000);  // 20,000
    for (auto s : {a, b}) {
      w.sws.configure_port(s, 1, edge);
      w.sws.configure_port(s, 0, single);
    }
    l0 = w.trunk(a, 0, b, 0);
    m2 = w.trunk(a, 2, b, 2);
    m3 = w.trunk(a, 3, b, 3);
    ha = w.connect(a, 1);
    hb = w.connect(b, 1);
    for (auto s : {a, b}) {
      REQUIRE(w.sws.add_port_channel(s, static_channel({2, 3})) == 0);
      REQUIRE(w.sws.channel_port(s, 0) == po);
    }
  }

  /// The logical topology (the channel as one link, up when both ends' channel is up) and
  /// its spanning tree verdict (net/topology.hpp).
  net::topology_verdict tree() const {
    net::topology t;
    const auto na = t.add_node("A", net::node_kind::bridge);
    const auto nb = t.add_node("B", net::node_kind::bridge);
    const auto xa = t.add_node("hostA", net::node_kind::host);
    const auto xb = t.add_node("hostB", net::node_kind::host);
    t.add_link(na, 0, nb, 0, w.links.carrier(l0), "A/0-B/0");
    t.add_link(na, po, nb, po, w.sws.channel_up(a, 0) && w.sws.channel_up(b, 0), "Po1");
    t.add_link(xa, 0, na, 1);
    t.add_link(xb, 0, nb, 1);
    return net::check_spanning_tree(t, [&](net::node_id n, net::topo_port p) {
      const auto s = n == na ? a : b;
      if (p == po) return w.sws.port_forwarding(s, 2);  // a member reads its channel's state
      const auto port = static_cast<net::port_no>(p);
      return w.sws.port_up(s, port) && w.sws.port_forwarding(s, port);
    });
  }
  /// Host A and host B exchange one frame each; returns the hosts that received them
  /// (not counting the BPDUs their edge ports send them).
  hosts exchange() {
    w.send(ha, world::frame(Y, X));
    w.send(hb, world::frame(X, Y));
    w.sim.run_for(sim_time::from_ms(1));
    hosts r;
    for (const auto& x : w.got) {
      if ((x.bytes[0] & 1) == 0) r.push_back(x.host);
    }
    std::sort(r.begin(), r.end());
    w.got.clear();
    return r;
  }
  /// BPDUs (multicast frames: the hosts send only unicast here) sent by a port so far.
  std::uint64_t bpdus_out(net::switch_id s, net::port_no p) const {
    return w.sws.counters(s, p).out_multicast_pkts;
  }
};

}  // namespace

TEST_CASE("port-channel + STP: the channel is one spanning tree port with the aggregate cost") {
  stp_channel_pair p(net::stp_mode::stp);
  auto& w = p.w;
  const auto* ea = w.sws.stp_engine(p.a);
  const auto* eb = w.sws.stp_engine(p.b);
  REQUIRE(ea != nullptr);
  REQUIRE(eb != nullptr);
  CHECK(eb->port_count() == 6);  // ports 0-4, then Po1
  CHECK(eb->config(p.po).path_cost == 10'000);
  CHECK(eb->config(0).path_cost == 20'000);

  // Converged: Listening + Learning, 2 x 15 s, on both of B's candidate ports.
  w.sim.run_until(29_s);
  CHECK_FALSE(w.sws.port_forwarding(p.b, 2));
  CHECK_FALSE(p.tree());  // still apart
  w.sim.run_until(60_s);
  CHECK(ea->is_root_bridge());
  CHECK(eb->root_port() == stp::port_index{p.po});  // 10,000 < 20,000
  CHECK(eb->root_path_cost() == 10'000);
  CHECK(eb->state(p.po) == stp::port_state::forwarding);
  CHECK(eb->state(0) == stp::port_state::blocking);
  CHECK(eb->state(2) == stp::port_state::disabled);  // members' own engine ports: never used
  CHECK(eb->state(3) == stp::port_state::disabled);
  for (net::port_no m : {2, 3}) {
    CHECK(w.sws.port_forwarding(p.b, m));
    CHECK(w.sws.port_learning(p.b, m));
  }
  CHECK_FALSE(w.sws.port_forwarding(p.b, 0));
  CHECK(w.sws.port_forwarding(p.a, 0));
  CHECK(p.tree());
  // The root's BPDUs for Po1 leave by the first active member only.
  CHECK(p.bpdus_out(p.a, 2) >= 29);  // one every 2 s (Hello Time) since t = 0
  CHECK(p.bpdus_out(p.a, 3) == 0);
  // Data crosses the channel, exactly one copy each way.
  CHECK(p.exchange() == hosts{p.ha, p.hb});
  CHECK(w.sws.fdb(p.a).peek(1, Y) == p.po);
  CHECK(w.sws.fdb(p.b).peek(1, X) == p.po);

  w.sim.run_until(200_s);  // the topology change of the initial convergence is long over
  REQUIRE_FALSE(ea->topology_change());
  REQUIRE_FALSE(eb->topology_change());
  p.exchange();  // refresh the entries
  const auto tc_a = ea->counters().top_changes, tc_b = eb->counters().top_changes;
  const auto ft_a = ea->forward_transitions(p.po), ft_b = eb->forward_transitions(p.po);
  const auto rx_b = eb->counters().config_rx;
  const auto flushed_a = w.sws.fdb(p.a).stats().flushed;
  const auto flushed_b = w.sws.fdb(p.b).stats().flushed;
  const auto bpdus_a2 = p.bpdus_out(p.a, 2);

  // One member fails (the one carrying the BPDUs): the channel stays up, STP sees nothing.
  const sim_time t1 = w.sim.now();
  w.links.set_carrier(p.m2, false);
  w.sim.run_until(t1 + p.detect);
  CHECK(w.sws.channel_active(p.a, 0).size() == 1);
  CHECK(w.sws.channel_active(p.b, 0).size() == 1);
  CHECK(w.last_event(p.a, 2, net::switch_event::kind::channel_member_inactive) == t1 + p.detect);
  // 100 s (5 x Max Age): BPDUs reach B by member 3 now, or B's information would age out.
  w.sim.run_until(t1 + 100_s);
  CHECK(ea->counters().top_changes == tc_a);
  CHECK(eb->counters().top_changes == tc_b);
  CHECK_FALSE(ea->topology_change());
  CHECK_FALSE(eb->topology_change());
  CHECK(ea->forward_transitions(p.po) == ft_a);
  CHECK(eb->forward_transitions(p.po) == ft_b);
  CHECK(eb->root_port() == stp::port_index{p.po});
  CHECK(eb->state(p.po) == stp::port_state::forwarding);
  CHECK(eb->state(0) == stp::port_state::blocking);
  CHECK(eb->counters().config_rx >= rx_b + 49);  // one per Hello Time, through member 3
  CHECK(p.bpdus_out(p.a, 2) == bpdus_a2);
  CHECK(p.bpdus_out(p.a, 3) >= 49);
  CHECK(w.sws.fdb(p.a).stats().flushed == flushed_a);
  CHECK(w.sws.fdb(p.b).stats().flushed == flushed_b);
  CHECK(w.sws.fdb(p.a).peek(1, Y) == p.po);
  CHECK(p.tree());
  CHECK(p.exchange() == hosts{p.ha, p.hb});

  // The second member fails: Po1 goes down at detection; B's blocked port 0 becomes the
  // Root Port and forwards after Listening + Learning, 2 x Forward Delay (802.1D-1998
  // 8.6.11, 8.7.7): at 400 s + 2 ms + 30 s exactly.
  w.sim.run_until(400_s);
  w.links.set_carrier(p.m3, false);
  const sim_time detected = 400_s + p.detect;
  w.sim.run_until(detected - 1_ns);
  CHECK(w.sws.channel_up(p.b, 0));
  CHECK(eb->root_port() == stp::port_index{p.po});
  w.sim.run_until(detected);
  CHECK_FALSE(w.sws.channel_up(p.b, 0));
  CHECK(eb->state(p.po) == stp::port_state::disabled);
  CHECK(eb->root_port() == stp::port_index{0});
  CHECK(eb->state(0) == stp::port_state::listening);
  CHECK(w.sws.fdb(p.a).peek(1, Y) == std::nullopt);  // the channel's entries are gone
  w.sim.run_until(detected + 30_s - 1_ns);
  CHECK(eb->state(0) == stp::port_state::learning);
  CHECK_FALSE(w.sws.port_forwarding(p.b, 0));
  w.sim.run_until(detected + 30_s);
  CHECK(w.sws.port_forwarding(p.b, 0));
  CHECK(p.tree());
  CHECK(p.exchange() == hosts{p.ha, p.hb});
  CHECK(w.sws.fdb(p.a).peek(1, Y) == net::port_no{0});

  SUBCASE("a member returns: the channel is enabled again and wins back the root port") {
    w.sim.run_until(500_s);
    w.links.set_carrier(p.m3, true);
    const sim_time up = 500_s + p.detect;
    w.sim.run_until(up);
    CHECK(w.sws.channel_up(p.b, 0));
    // Enabled as a Designated Port in Listening (802.1D-1998 8.8.2); the root's next
    // Configuration BPDU (within a Hello Time) makes it the Root Port again.
    CHECK(eb->state(p.po) == stp::port_state::listening);
    CHECK(eb->root_port() == stp::port_index{0});
    w.sim.run_until(up + 2_s);
    CHECK(eb->root_port() == stp::port_index{p.po});
    CHECK(eb->state(0) == stp::port_state::blocking);
    w.sim.run_until(up + 30_s - 1_ns);
    CHECK_FALSE(w.sws.port_forwarding(p.b, 3));
    w.sim.run_until(up + 30_s);  // Forward Delay twice from the enable
    CHECK(eb->state(p.po) == stp::port_state::forwarding);
    CHECK(w.sws.port_forwarding(p.b, 3));
    CHECK(p.tree());
  }
}

TEST_CASE("port-channel + RSTP: a member failure changes nothing, losing both fails over at once") {
  stp_channel_pair p(net::stp_mode::rstp);
  auto& w = p.w;
  const auto* ea = w.sws.rstp_engine(p.a);
  const auto* eb = w.sws.rstp_engine(p.b);
  REQUIRE(ea != nullptr);
  REQUIRE(eb != nullptr);
  CHECK(eb->config(p.po).path_cost == 10'000);
  w.sim.run_until(1_s);  // proposal/agreement: no timers
  CHECK(eb->role(p.po) == rstp::port_role::root);
  CHECK(eb->role(0) == rstp::port_role::alternate);
  CHECK(eb->role(2) == rstp::port_role::disabled);
  CHECK(eb->root_path_cost() == 10'000);
  CHECK(w.sws.port_forwarding(p.b, 2));
  CHECK(w.sws.port_forwarding(p.b, 3));
  CHECK_FALSE(w.sws.port_forwarding(p.b, 0));
  CHECK(p.tree());
  CHECK(p.exchange() == hosts{p.ha, p.hb});

  w.sim.run_until(100_s);
  p.exchange();
  REQUIRE_FALSE(ea->topology_change(w.sim.now()));
  REQUIRE_FALSE(eb->topology_change(w.sim.now()));
  const auto ft_b = eb->counters(p.po).forward_transitions;
  const auto ft_a = ea->counters(p.po).forward_transitions;
  const auto flushed_a = w.sws.fdb(p.a).stats().flushed;
  const auto flushed_b = w.sws.fdb(p.b).stats().flushed;
  const auto bpdus_a2 = p.bpdus_out(p.a, 2), bpdus_b2 = p.bpdus_out(p.b, 2);

  const sim_time t1 = w.sim.now();
  w.links.set_carrier(p.m2, false);
  w.sim.run_until(t1 + p.detect);
  CHECK(w.sws.channel_active(p.b, 0).size() == 1);
  CHECK_FALSE(ea->topology_change(w.sim.now()));
  CHECK_FALSE(eb->topology_change(w.sim.now()));
  // 30 s (5 x the 6 s information lifetime, 3 x Hello Time): BPDUs still arrive by member 3.
  w.sim.run_until(t1 + 30_s);
  CHECK_FALSE(ea->topology_change(w.sim.now()));
  CHECK_FALSE(eb->topology_change(w.sim.now()));
  CHECK(eb->role(p.po) == rstp::port_role::root);
  CHECK(eb->role(0) == rstp::port_role::alternate);
  CHECK(eb->counters(p.po).forward_transitions == ft_b);
  CHECK(ea->counters(p.po).forward_transitions == ft_a);
  CHECK(w.sws.fdb(p.a).stats().flushed == flushed_a);
  CHECK(w.sws.fdb(p.b).stats().flushed == flushed_b);
  CHECK(p.bpdus_out(p.a, 2) == bpdus_a2);
  CHECK(p.bpdus_out(p.b, 2) == bpdus_b2);
  CHECK(p.bpdus_out(p.a, 3) >= 14);  // the Designated Port's, every Hello Time for 30 s
  CHECK(p.tree());
  CHECK(p.exchange() == hosts{p.ha, p.hb});

  // Both lost: the Alternate Port becomes the Root Port and forwards at the instant the
  // channel goes down (802.1D-2004 17.29.2: no timer for an Alternate -> Root change).
  w.sim.run_until(200_s);
  w.links.set_carrier(p.m3, false);
  const sim_time detected = 200_s + p.detect;
  w.sim.run_until(detected - 1_ns);
  CHECK_FALSE(w.sws.port_forwarding(p.b, 0));
  w.sim.run_until(detected);
  CHECK_FALSE(w.sws.channel_up(p.b, 0));
  CHECK(eb->role(p.po) == rstp::port_role::disabled);
  CHECK(eb->role(0) == rstp::port_role::root);
  CHECK(w.sws.port_forwarding(p.b, 0));
  CHECK(p.tree());
  CHECK(p.exchange() == hosts{p.ha, p.hb});
}

TEST_CASE("port-channel + RSTP: a power cycle rebuilds the engine with the channel's port") {
  stp_channel_pair p(net::stp_mode::rstp);
  auto& w = p.w;
  w.sim.run_until(10_s);
  w.sws.set_power(p.b, false);
  w.sim.run_until(10_s + p.detect);  // A detects the carrier loss of both members
  CHECK(w.sws.rstp_engine(p.b) == nullptr);
  CHECK_FALSE(w.sws.channel_up(p.a, 0));
  CHECK(w.sws.rstp_engine(p.a)->role(p.po) == rstp::port_role::disabled);
  w.sws.set_power(p.b, true);
  w.sim.run_until(11_s);
  const auto* eb = w.sws.rstp_engine(p.b);
  REQUIRE(eb != nullptr);
  CHECK(eb->port_count() == 6);
  CHECK(w.sws.channel_active(p.b, 0).size() == 2);
  CHECK(eb->role(p.po) == rstp::port_role::root);
  CHECK(eb->role(0) == rstp::port_role::alternate);
  CHECK(eb->config(p.po).path_cost == 10'000);
  CHECK(p.tree());
  CHECK(p.exchange() == hosts{p.ha, p.hb});
}

TEST_CASE("port-channel + STP: an lacp channel is enabled in the engine once it distributes") {
  world w;
  net::switch_config ca;
  ca.name = "A";
  ca.stp = net::stp_mode::rstp;
  ca.rstp_bridge.address = ca.lacp_system = mac(0x0200'0000'000aULL);
  ca.rstp_bridge.priority = 4096;
  net::switch_config cb = ca;
  cb.name = "B";
  cb.rstp_bridge.address = cb.lacp_system = mac(0x0200'0000'000bULL);
  cb.rstp_bridge.priority = 32768;
  const auto a = w.add_switch(3, ca), b = w.add_switch(3, cb);
  w.trunk(a, 0, b, 0);
  w.trunk(a, 1, b, 1);
  auto pc = static_channel({0, 1});
  pc.mode = net::channel_mode::lacp;
  pc.rate = lacp::lacp_timeout::short_timeout;
  w.sws.add_port_channel(a, pc);
  w.sws.add_port_channel(b, pc);
  const auto* eb = w.sws.rstp_engine(b);
  REQUIRE(eb != nullptr);
  w.sim.run_until(sim_time::from_ms(1999));  // LACP waits 2 s (Aggregate_Wait_Time)
  CHECK_FALSE(w.sws.channel_up(b, 0));
  CHECK(eb->role(3) == rstp::port_role::disabled);
  CHECK_FALSE(w.sws.port_forwarding(b, 0));
  w.sim.run_until(sim_time::from_s(3));
  CHECK(w.sws.channel_up(b, 0));
  CHECK(eb->role(3) == rstp::port_role::root);
  CHECK(w.sws.port_forwarding(b, 0));
  CHECK(w.sws.port_forwarding(b, 1));
  CHECK(eb->config(3).path_cost == 10'000);  // 2 x 1 Gb/s
  CHECK(w.sws.counters(b).lacpdus_bad == 0);
  CHECK(w.sws.counters(b).bpdus_bad == 0);
}
