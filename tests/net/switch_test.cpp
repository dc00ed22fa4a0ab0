#include "vnetsim/net/switch.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "vnetsim/wire/beacon.hpp"
#include "vnetsim/wire/bytes.hpp"
#include "../kernel/alloc_counter.hpp"
#include "switch_world.hpp"

using namespace vnetsim;
using namespace vnetsim::literals;
using dev::link_side;

namespace {

using test::host_mac;

/// The shared test world (switch_world.hpp) with RNG seed 7; run_and_take() runs the
/// simulator until it has nothing left to do.
struct world : test::switch_world {
  world() : switch_world(7) {}
  std::vector<std::uint32_t> run_and_take() {
    sim.run();
    return take();
  }
};

using hosts = std::vector<std::uint32_t>;

}  // namespace

TEST_CASE("switch: learning, then known unicast goes to one port only") {
  world w;
  const auto sw = w.add_switch(4);
  for (net::port_no p = 0; p < 4; ++p) w.connect(sw, p);
  w.ucast(0, 1);  // unknown: flooded
  CHECK(w.run_and_take() == hosts{1, 2, 3});
  CHECK(w.sws.counters(sw).unknown_unicast_floods == 1);
  w.ucast(1, 0);  // host 0 learned on port 0
  CHECK(w.run_and_take() == hosts{0});
  w.ucast(0, 1);  // host 1 learned on port 1
  CHECK(w.run_and_take() == hosts{1});
  CHECK(w.sws.fdb(sw).size() == 2);
  CHECK(w.sws.counters(sw, 0).in_ucast_pkts == 2);
  CHECK(w.sws.counters(sw, 0).tp_in_frames == 2);
  CHECK(w.sws.counters(sw, 1).out_ucast_pkts == 2);
  CHECK(w.sws.counters(sw, 1).out_octets == 120);
  CHECK(w.sws.counters(sw, 2).out_ucast_pkts == 1);
  SUBCASE("a frame to a MAC learned on the ingress port is filtered") {
    w.send(0, world::bytes(host_mac(0), host_mac(0) /* any */, 0x0800));
    CHECK(w.run_and_take().empty());
    CHECK(w.sws.counters(sw, 0).tp_in_discards == 1);
  }
}

TEST_CASE("switch: a learned unicast is forwarded, tagged and counted right on every port kind") {
  // receive() handles an untagged unicast to a learned port itself (the fast path) and
  // leaves everything else to the general path; both must give the same bytes and counts.
  world w;
  const auto sw = w.add_switch(5);
  net::port_config v10, v20, trunk_n10, trunk_n1;
  v10.access_vlan = 10;
  v20.access_vlan = 20;
  trunk_n10.mode = trunk_n1.mode = net::port_mode::trunk;
  trunk_n10.allowed_vlans = {10, 20};
  trunk_n10.native_vlan = 10;
  trunk_n1.allowed_vlans = {1, 10};
  trunk_n1.native_vlan = 1;
  w.sws.configure_port(sw, 0, v10);
  w.sws.configure_port(sw, 1, v10);
  w.sws.configure_port(sw, 2, trunk_n10);
  w.sws.configure_port(sw, 3, trunk_n1);
  w.sws.configure_port(sw, 4, v20);
  for (net::port_no p = 0; p < 5; ++p) w.connect(sw, p);
  // Everybody speaks once: h2 untagged (native 10), h3 tagged 10.
  for (std::uint32_t h : {0u, 1u, 2u, 4u}) w.bcast(h);
  w.send(3, world::bytes(wire::mac_address::broadcast(), host_mac(3), 0x0806, 60, 10));
  w.run_and_take();
  REQUIRE(w.sws.fdb(sw).peek(10, host_mac(3)) == net::port_no{3});
  REQUIRE(w.sws.fdb(sw).peek(20, host_mac(4)) == net::port_no{4});
  const auto refreshed = w.sws.fdb(sw).stats().refreshed;
  const auto floods = w.sws.counters(sw).unknown_unicast_floods;

  const auto sent = world::bytes(host_mac(1), host_mac(0), 0x0800);
  w.send(0, sent);  // access -> access
  w.sim.run();
  REQUIRE(w.receivers() == hosts{1});
  CHECK(w.got[0].bytes == sent);
  w.got.clear();
  w.send(0, world::bytes(host_mac(2), host_mac(0), 0x0800));  // -> trunk, native 10: untagged
  w.sim.run();
  REQUIRE(w.receivers() == hosts{2});
  CHECK(w.got[0].bytes == world::bytes(host_mac(2), host_mac(0), 0x0800));
  w.got.clear();
  w.send(0, world::bytes(host_mac(3), host_mac(0), 0x0800));  // -> trunk, native 1: tagged 10
  w.sim.run();
  REQUIRE(w.receivers() == hosts{3});
  CHECK(w.got[0].bytes == world::bytes(host_mac(3), host_mac(0), 0x0800, 64, 10));
  w.got.clear();
  CHECK(w.sws.counters(sw, 0).in_ucast_pkts == 3);
  CHECK(w.sws.counters(sw, 0).in_octets == 60 + 3 * 60);  // the broadcast, then 3 x 60
  CHECK(w.sws.counters(sw, 0).tp_in_frames == 4);
  CHECK(w.sws.counters(sw, 1).out_ucast_pkts == 1);
  CHECK(w.sws.counters(sw, 1).tp_out_frames == 4);  // broadcasts of h0, h2, h3; the unicast
  // Broadcasts of h0, h1 (60), h4 (VLAN 20 tagged: 64), h3 (tag stripped: 56); the unicast.
  CHECK(w.sws.counters(sw, 2).out_octets == 60 + 60 + 64 + 56 + 60);
  CHECK(w.sws.counters(sw, 3).out_ucast_pkts == 1);
  CHECK(w.sws.fdb(sw).stats().refreshed == refreshed + 3);
  CHECK(w.sws.counters(sw).unknown_unicast_floods == floods);

  // h4 is known in VLAN 20 only: from VLAN 10 it is unknown, flooded in VLAN 10.
  w.ucast(0, 4);
  CHECK(w.run_and_take() == hosts{1, 2, 3});
  CHECK(w.sws.counters(sw).unknown_unicast_floods == floods + 1);
  // To a MAC learned on the ingress port: filtered.
  w.send(1, world::bytes(host_mac(1), host_mac(7), 0x0800));
  CHECK(w.run_and_take().empty());
  CHECK(w.sws.counters(sw, 1).tp_in_discards == 1);
  // h1's MAC now on port 0: a move, logged as a flap, and frames follow it.
  w.send(0, world::bytes(host_mac(2), host_mac(1), 0x0800));
  CHECK(w.run_and_take() == hosts{2});
  CHECK(w.sws.counters(sw).mac_flaps == 1);
  CHECK(w.sws.fdb(sw).peek(10, host_mac(1)) == net::port_no{0});
  w.ucast(2, 1);
  CHECK(w.run_and_take() == hosts{0});
  // The egress port goes down: its entries are flushed, the unicast floods.
  w.sws.set_admin(sw, 2, false);
  w.ucast(0, 2);
  CHECK(w.run_and_take() == hosts{1, 3});
  // The trap EtherType applies to learned unicasts too.
  w.sws.set_trap_ether_type(sw, 0x0800);
  w.ucast(0, 3);
  CHECK(w.run_and_take().empty());
  CHECK(w.sws.counters(sw).trapped == 1);
}

TEST_CASE("switch: broadcast and unknown unicast flood within the VLAN only") {
  world w;
  net::switch_config cfg;
  const auto sw = w.add_switch(6, cfg);
  for (net::port_no p = 0; p < 6; ++p) {
    net::port_config pc;
    pc.access_vlan = p < 3 ? 10 : 20;
    w.sws.configure_port(sw, p, pc);
    w.connect(sw, p);
  }
  w.bcast(0);
  CHECK(w.run_and_take() == hosts{1, 2});
  w.bcast(4);
  CHECK(w.run_and_take() == hosts{3, 5});
  w.ucast(3, 1);  // host 1's MAC is known only in VLAN 10: flood VLAN 20
  CHECK(w.run_and_take() == hosts{4, 5});
  w.send(0, world::bytes(wire::mac_address::from_u64(0x0100'5e00'0001ULL), host_mac(0), 0x0800));
  CHECK(w.run_and_take() == hosts{1, 2});  // multicast floods too
  CHECK(w.sws.counters(sw, 0).in_multicast_pkts == 1);
  CHECK(w.sws.counters(sw, 0).in_broadcast_pkts == 1);
}

TEST_CASE("switch: access/trunk tagging puts exact bytes on the wire") {
  world w;
  const auto sw = w.add_switch(3);
  net::port_config access10;
  access10.access_vlan = 10;
  net::port_config trunk;
  trunk.mode = net::port_mode::trunk;
  trunk.allowed_vlans = {1, 10, 20};
  trunk.native_vlan = 1;
  w.sws.configure_port(sw, 0, access10);
  w.sws.configure_port(sw, 1, trunk);
  // port 2: access VLAN 1 (the default)
  for (net::port_no p = 0; p < 3; ++p) w.connect(sw, p);

  SUBCASE("untagged in on access, tag inserted on the trunk") {
    const auto in = world::bytes(wire::mac_address::broadcast(), host_mac(0), 0x0806, 60);
    w.send(0, in);
    w.sim.run();
    REQUIRE(w.got.size() == 1);
    CHECK(w.got[0].host == 1);
    auto expect = world::bytes(wire::mac_address::broadcast(), host_mac(0), 0x0806, 64, 10);
    CHECK(w.got[0].bytes == expect);
    CHECK(w.sws.counters(sw, 1).out_octets == 64);
  }
  SUBCASE("tagged in on the trunk, tag stripped on access") {
    const auto in = world::bytes(wire::mac_address::broadcast(), host_mac(1), 0x0806, 64, 0x200a);
    w.send(1, in);
    w.sim.run();
    REQUIRE(w.got.size() == 1);
    CHECK(w.got[0].host == 0);
    CHECK(w.got[0].bytes == world::bytes(wire::mac_address::broadcast(), host_mac(1), 0x0806, 60));
  }
  SUBCASE("untagged in on the trunk belongs to the native VLAN and leaves untagged") {
    const auto in = world::bytes(wire::mac_address::broadcast(), host_mac(1), 0x0806, 60);
    w.send(1, in);
    w.sim.run();
    REQUIRE(w.got.size() == 1);
    CHECK(w.got[0].host == 2);
    CHECK(w.got[0].bytes == in);
  }
  SUBCASE("priority-tagged in on access: the VID is filled in on the trunk, PCP kept") {
    const auto in = world::bytes(wire::mac_address::broadcast(), host_mac(0), 0x0806, 64, 0xa000);
    w.send(0, in);
    w.sim.run();
    REQUIRE(w.got.size() == 1);
    CHECK(w.got[0].bytes == world::bytes(wire::mac_address::broadcast(), host_mac(0), 0x0806, 64, 0xa00a));
  }
  SUBCASE("wrong VLANs are dropped and counted") {
    w.send(0, world::bytes(wire::mac_address::broadcast(), host_mac(0), 0x0806, 64, 10));  // tag on access
    w.send(1, world::bytes(wire::mac_address::broadcast(), host_mac(1), 0x0806, 64, 30));  // not allowed
    w.send(1, world::bytes(wire::mac_address::broadcast(), host_mac(1), 0x0806, 64, 4095));  // reserved
    w.sim.run();
    CHECK(w.got.empty());
    CHECK(w.sws.counters(sw, 0).in_discards == 1);
    CHECK(w.sws.counters(sw, 0).vlan_discards == 1);
    CHECK(w.sws.counters(sw, 1).in_discards == 2);
    CHECK(w.sws.counters(sw, 1).vlan_discards == 2);
    CHECK(w.sws.fdb(sw).size() == 0);  // not learned either
  }
}

TEST_CASE("switch: an entry ages out at exactly 300 s, and the frame floods again") {
  world w;
  const auto sw = w.add_switch(3);
  for (net::port_no p = 0; p < 3; ++p) w.connect(sw, p);
  const sim_time hop = dev::serialization_time(60, 1'000'000'000) + 500_ns;  // 672 + 500 ns
  w.ucast(0, 1);  // host 0 learned at `hop`
  CHECK(w.run_and_take() == hosts{1, 2});
  const sim_time learned_at = hop;
  // Host 1's frame to host 0 reaches the switch at learned + 300 s - 1 ns (still known:
  // unicast to host 0 only); host 2's reaches it 1 ns later (aged: flooded to hosts 0 and 1).
  w.sim.schedule_at(learned_at + 300_s - 1_ns - hop, [&w](kernel::simulator&) { w.ucast(1, 0); });
  w.sim.schedule_at(learned_at + 300_s - hop, [&w](kernel::simulator&) { w.ucast(2, 0); });
  w.sim.run();
  CHECK(w.receivers() == hosts{0, 0, 1});
  CHECK(w.sws.fdb(sw).stats().aged >= 1);
}

TEST_CASE("switch: short ageing (forward delay) while a topology change is in force") {
  world w;
  const auto sw = w.add_switch(3);
  for (net::port_no p = 0; p < 3; ++p) w.connect(sw, p);
  w.ucast(0, 1);
  w.run_and_take();
  w.sws.set_topology_change(sw, true);
  w.sim.schedule_at(16_s, [&w](kernel::simulator&) { w.ucast(1, 0); });
  w.sim.run();
  CHECK(w.receivers() == hosts{0, 2});  // 15 s short ageing: host 0 forgotten
}

TEST_CASE("switch: a full fdb does not learn, and frames to the unlearned MAC flood") {
  world w;
  net::switch_config cfg;
  cfg.fdb.capacity = 2;
  const auto sw = w.add_switch(4, cfg);
  for (net::port_no p = 0; p < 4; ++p) w.connect(sw, p);
  w.bcast(0);
  w.bcast(1);
  w.bcast(2);  // not learned
  w.sim.run();
  w.got.clear();
  CHECK(w.sws.fdb(sw).size() == 2);
  CHECK(w.sws.counters(sw).learn_table_full == 1);
  w.ucast(0, 2);
  CHECK(w.run_and_take() == hosts{1, 2, 3});
  CHECK(w.sws.counters(sw).fdb_overflow_floods == 1);
  w.ucast(0, 1);
  CHECK(w.run_and_take() == hosts{1});
}

TEST_CASE("switch: a MAC seen on two ports is logged as a MAC flap with both ports and the VLAN") {
  // ESX out-ip without EtherChannel: one VM MAC leaves by both uplinks [CiscoFlap][ESX2].
  world w;
  const auto sw = w.add_switch(3);
  net::port_config pc;
  pc.access_vlan = 10;
  for (net::port_no p = 0; p < 3; ++p) {
    w.sws.configure_port(sw, p, pc);
    w.connect(sw, p);
  }
  const auto vm = wire::mac_address::from_u64(0x0050'5600'00aaULL);
  w.send(0, world::bytes(host_mac(2), vm, 0x0800));
  w.sim.run();
  w.send(1, world::bytes(host_mac(2), vm, 0x0800));
  w.sim.run();
  CHECK(w.sws.counters(sw).mac_flaps == 1);
  CHECK(w.sws.fdb(sw).peek(10, vm) == net::port_no{1});
  const auto ev = w.sws.events();
  const auto it = std::find_if(ev.begin(), ev.end(), [](const net::switch_event& e) {
    return e.what == net::switch_event::kind::mac_flap;
  });
  REQUIRE(it != ev.end());
  CHECK(it->other_port == 0);
  CHECK(it->port == 1);
  CHECK(it->vlan == 10);
  CHECK(it->mac == vm);
  const auto line = w.sws.to_string(*it);
  CHECK(line.find("%SW_MATM-4-MACFLAP_NOTIF: Host 00:50:56:00:00:aa in vlan 10 is flapping "
                  "between port 0 and port 1") != std::string::npos);
}

TEST_CASE("switch: the trap EtherType swallows only that EtherType") {
  world w;
  const auto sw = w.add_switch(3);
  for (net::port_no p = 0; p < 3; ++p) w.connect(sw, p);
  w.sws.set_trap_ether_type(sw, wire::beacon_default_ether_type);
  w.bcast(0, wire::beacon_default_ether_type);
  CHECK(w.run_and_take().empty());
  w.bcast(0, 0x0806);
  CHECK(w.run_and_take() == hosts{1, 2});
  CHECK(w.sws.counters(sw).trapped == 1);
  w.sws.set_trap_ether_type(sw, std::nullopt);
  w.bcast(0, wire::beacon_default_ether_type);
  CHECK(w.run_and_take() == hosts{1, 2});
}

TEST_CASE("switch: reserved group frames (BPDU, LACP) are never forwarded") {
  world w;
  const auto sw = w.add_switch(3);
  for (net::port_no p = 0; p < 3; ++p) w.connect(sw, p);
  w.send(0, world::bytes(wire::mac_address::from_u64(0x0180'c200'0000ULL), host_mac(0), 0x0026));
  w.send(0, world::bytes(wire::mac_address::from_u64(0x0180'c200'0002ULL), host_mac(0), 0x8809));
  w.send(0, world::bytes(wire::mac_address::from_u64(0x0180'c200'0010ULL), host_mac(0), 0x0800));
  CHECK(w.run_and_take() == hosts{1, 2});  // only 01:80:c2:00:00:10 (not reserved) floods
  CHECK(w.sws.counters(sw).control_frames == 2);
}

TEST_CASE("switch: shutdown and power off") {
  world w;
  const auto sw = w.add_switch(3);
  for (net::port_no p = 0; p < 3; ++p) w.connect(sw, p);
  w.bcast(1);
  w.run_and_take();
  CHECK(w.sws.fdb(sw).peek(1, host_mac(1)));
  SUBCASE("shutdown") {
    w.sws.set_admin(sw, 1, false);
    CHECK_FALSE(w.sws.port_up(sw, 1));
    CHECK_FALSE(w.sws.fdb(sw).peek(1, host_mac(1)));  // flushed with the port
    w.bcast(0);
    CHECK(w.run_and_take() == hosts{2});
    w.bcast(1);
    CHECK(w.run_and_take().empty());
    CHECK(w.sws.counters(sw, 1).in_discards == 1);
    w.sws.set_admin(sw, 1, true);
    w.bcast(0);
    CHECK(w.run_and_take() == hosts{1, 2});
  }
  SUBCASE("power off and on") {
    w.sws.set_power(sw, false);
    w.sim.run();
    CHECK(w.sws.fdb(sw).size() == 0);
    for (std::uint32_t h = 0; h < 3; ++h) CHECK_FALSE(w.links.carrier(w.host_link[h]));
    CHECK_FALSE(w.sws.port_up(sw, 0));
    CHECK(w.send(0, world::bytes(wire::mac_address::broadcast(), host_mac(0), 0x0806)) ==
          dev::send_result::no_carrier);
    // A frame already on the wire when power goes is lost with the carrier.
    w.sws.set_power(sw, true);
    w.sim.run();
    CHECK(w.sws.port_up(sw, 0));
    w.bcast(0);
    CHECK(w.run_and_take() == hosts{1, 2});
    int offs = 0, ons = 0;
    for (const auto& e : w.sws.events()) {
      offs += e.what == net::switch_event::kind::power_off;
      ons += e.what == net::switch_event::kind::power_on;
    }
    CHECK(offs == 1);
    CHECK(ons == 1);
  }
  SUBCASE("frames arriving while powered off are dropped and counted") {
    w.sws.set_power(sw, false);
    const auto b = world::bytes(wire::mac_address::broadcast(), host_mac(0), 0x0806);
    w.sws.receive(sw, 0, w.pool.allocate_copy(std::as_bytes(std::span(b)), w.sim.now()));
    CHECK(w.sws.counters(sw).powered_off_drops == 1);
  }
}

TEST_CASE("switch: carrier changes take effect after the link detection delay") {
  world w;
  net::switch_config cfg;
  cfg.link_detect_delay = 300_ms;
  const auto sw = w.add_switch(2, cfg);
  w.connect(sw, 0);
  w.connect(sw, 1);
  w.sim.schedule_at(1_s, [&w](kernel::simulator&) { w.links.set_carrier(w.host_link[1], false); });
  w.sim.run_until(1_s + 300_ms - 1_ns);
  CHECK(w.sws.port_up(sw, 1));
  w.sim.run_until(1_s + 300_ms);
  CHECK_FALSE(w.sws.port_up(sw, 1));
  // A bounce shorter than the delay: only the last state counts.
  w.links.set_carrier(w.host_link[1], true);
  w.sim.run_until(1_s + 400_ms);
  w.links.set_carrier(w.host_link[1], false);
  w.sim.run_until(1_s + 500_ms);
  w.links.set_carrier(w.host_link[1], true);
  w.sim.run_until(2_s);
  CHECK(w.sws.port_up(sw, 1));
}

TEST_CASE("switch: latency is store-and-forward + serialization + propagation on each hop") {
  world w;
  net::switch_config cfg;
  const auto s1 = w.add_switch(2, cfg);
  const auto s2 = w.add_switch(2, cfg);
  dev::link_config host_cfg;
  host_cfg.delay = 1_us;
  w.connect(s1, 0, host_cfg);
  w.trunk(s1, 1, s2, 0);  // default: 500 ns
  w.connect(s2, 1, host_cfg);
  const std::size_t len = 1514;
  const sim_time ser = dev::serialization_time(len, 1'000'000'000);
  CHECK(ser == 12304_ns);
  w.send(0, world::bytes(host_mac(1), host_mac(0), 0x0800, len));
  w.sim.run();
  REQUIRE(w.got.size() == 1);
  CHECK(w.got[0].host == 1);
  CHECK(w.got[0].at == (ser + 1_us) + (5_us + ser + 500_ns) + (5_us + ser + 1_us));
  CHECK(net::default_forwarding_latency == 5_us);
}

TEST_CASE("switch: a flood to 8 ports with the same tagging shares one buffer") {
  world w;
  const auto sw = w.add_switch(9);
  for (net::port_no p = 0; p < 9; ++p) w.connect(sw, p);
  const auto before = w.pool.stats(dev::frame_class::standard).allocated;
  w.bcast(0);
  w.sim.run();
  REQUIRE(w.got.size() == 8);
  for (const auto& r : w.got) CHECK(r.data == w.got[0].data);
  CHECK(w.got[0].frame.use_count() == 8);
  CHECK(w.pool.stats(dev::frame_class::standard).allocated - before == 1);  // the sender's only
}

TEST_CASE("switch: a mixed flood makes one tagged copy shared by all trunk ports") {
  world w;
  const auto sw = w.add_switch(9);
  net::port_config trunk;
  trunk.mode = net::port_mode::trunk;
  for (net::port_no p = 5; p < 9; ++p) w.sws.configure_port(sw, p, trunk);  // native 1: untagged
  net::port_config a10;
  a10.access_vlan = 10;
  net::port_config t10 = trunk;
  t10.allowed_vlans = {1, 10};
  w.sws.configure_port(sw, 0, a10);
  w.sws.configure_port(sw, 1, a10);
  w.sws.configure_port(sw, 2, a10);
  for (net::port_no p = 5; p < 9; ++p) w.sws.configure_port(sw, p, t10);
  for (net::port_no p = 0; p < 9; ++p) w.connect(sw, p);
  const auto before = w.pool.stats(dev::frame_class::standard).allocated;
  w.bcast(0);
  w.sim.run();
  REQUIRE(w.got.size() == 6);  // 2 access ports in VLAN 10 + 4 trunks
  const std::byte* untagged = nullptr;
  const std::byte* tagged = nullptr;
  for (const auto& r : w.got) {
    const bool t = r.bytes.size() == 64;
    const std::byte*& ref = t ? tagged : untagged;
    if (!ref) ref = r.data;
    CHECK(r.data == ref);
  }
  CHECK(untagged != nullptr);
  CHECK(tagged != nullptr);
  CHECK(w.pool.stats(dev::frame_class::standard).allocated - before == 2);  // sender + one copy
}

TEST_CASE("switch: bad configuration throws switch_error naming switch, port and rule") {
  world w;
  net::switch_config cfg;
  cfg.name = "core";
  const auto sw = w.add_switch(2, cfg);
  net::port_config pc;
  pc.access_vlan = 0;
  CHECK_THROWS_WITH_AS(w.sws.configure_port(sw, 1, pc),
                       doctest::Contains("switch 0 (core) port 1: access VLAN 0 outside 1-4094"),
                       net::switch_error);
  pc.access_vlan = 4095;
  CHECK_THROWS_AS(w.sws.configure_port(sw, 1, pc), net::switch_error);
  net::port_config tr;
  tr.mode = net::port_mode::trunk;
  tr.allowed_vlans = {10, 20};
  tr.native_vlan = 1;
  CHECK_THROWS_WITH_AS(w.sws.configure_port(sw, 0, tr), doctest::Contains("native VLAN 1 is not in the allowed list"),
                       net::switch_error);
  CHECK_THROWS_WITH_AS(w.sws.configure_port(sw, 2, {}), doctest::Contains("port 2: no such port"),
                       net::switch_error);
  CHECK_THROWS_AS(w.sws.endpoint(5, 0), net::switch_error);
  w.connect(sw, 0);
  const auto l = w.links.add("extra", {}, {w.host_kind, 0, 99, 0}, w.sws.endpoint(sw, 0));
  CHECK_THROWS_WITH_AS(w.sws.attach(sw, 0, l, link_side::b), doctest::Contains("port 0: already attached"),
                       net::switch_error);
  net::switch_config zero;
  zero.ports = 0;
  CHECK_THROWS_AS(w.sws.add(zero), net::switch_error);
}

TEST_CASE("switch: the frame path allocates nothing once warmed up") {
  world w;
  const auto sw = w.add_switch(6);
  net::port_config trunk;
  trunk.mode = net::port_mode::trunk;
  net::port_config a10;
  a10.access_vlan = 10;
  w.sws.configure_port(sw, 0, a10);
  w.sws.configure_port(sw, 1, a10);
  w.sws.configure_port(sw, 2, trunk);
  w.sws.configure_port(sw, 3, trunk);
  for (net::port_no p = 0; p < 6; ++p) w.connect(sw, p);
  w.record = false;
  const auto ucast01 = world::bytes(host_mac(1), host_mac(0), 0x0800);
  const auto ucast10 = world::bytes(host_mac(0), host_mac(1), 0x0800);
  const auto bc = world::bytes(wire::mac_address::broadcast(), host_mac(0), 0x0806);
  const auto tagged = world::bytes(wire::mac_address::broadcast(), host_mac(2), 0x0806, 64, 10);
  auto round = [&] {
    for (int i = 0; i < 50; ++i) {
      w.send(0, ucast01);
      w.send(1, ucast10);
      w.send(0, bc);      // flood: untagged access + tag inserted towards trunks
      w.send(2, tagged);  // flood: tag stripped towards access, as is to the other trunk
    }
    w.sim.run();
  };
  round();  // warm-up: rings and the event heap reach their working size
  const auto before_delivered = w.delivered;
  const auto before = test::allocation_count();
  round();
  CHECK(test::allocation_count() == before);
  CHECK(w.delivered - before_delivered == 50 * (1 + 1 + 3 + 3));
}

namespace {

/// Two switches joined by two parallel links (ports 0 and 1), a host on port 2 of each
/// (an edge port). Switch A (bridge priority 4096) becomes the root.
struct loop {
  world w;
  net::switch_id a = 0, b = 0;
  dev::link_id l0 = 0, l1 = 0;
  std::uint32_t ha = 0, hb = 0;

  explicit loop(net::stp_mode mode) {
    const auto [ca, cb] = test::bridge_pair(mode);
    a = w.add_switch(3, ca);
    b = w.add_switch(3, cb);
    net::port_config edge;
    edge.edge = true;
    w.sws.configure_port(a, 2, edge);
    w.sws.configure_port(b, 2, edge);
    l0 = w.trunk(a, 0, b, 0);
    l1 = w.trunk(a, 1, b, 1);
    ha = w.connect(a, 2);
    hb = w.connect(b, 2);
  }
  /// Broadcast data frames (not BPDUs) each host received.
  std::size_t broadcasts_at(std::uint32_t h) const {
    std::size_t n = 0;
    for (const auto& r : w.got) n += r.host == h && r.bytes[0] == 0xff;
    return n;
  }
};

}  // namespace

TEST_CASE("switch: without a spanning tree, two parallel links make a broadcast storm") {
  loop t(net::stp_mode::none);
  t.w.bcast(t.ha);
  t.w.sim.run_until(1_ms);
  CHECK(t.broadcasts_at(t.hb) > 10);
}

TEST_CASE("switch: STP blocks one parallel link; it forwards 30 s after the active link fails") {
  loop t(net::stp_mode::stp);
  auto& w = t.w;
  w.sim.run_until(29_s);
  CHECK_FALSE(w.sws.port_forwarding(t.a, 0));  // listening + learning: 2 x 15 s
  CHECK(w.sws.port_forwarding(t.a, 2));         // edge (portfast): at once
  w.sim.run_until(60_s);
  const auto* eb = w.sws.stp_engine(t.b);
  REQUIRE(eb != nullptr);
  CHECK(w.sws.stp_engine(t.a)->is_root_bridge());
  CHECK(eb->root_port() == stp::port_index{0});
  CHECK(eb->state(1) == stp::port_state::blocking);
  CHECK(w.sws.port_forwarding(t.a, 0));
  CHECK(w.sws.port_forwarding(t.a, 1));
  CHECK(w.sws.port_forwarding(t.b, 0));
  CHECK_FALSE(w.sws.port_forwarding(t.b, 1));
  CHECK(w.sws.counters(t.a).bpdus_out > 0);
  CHECK(w.sws.counters(t.b).bpdus_in > 0);
  CHECK(w.sws.counters(t.b).bpdus_bad == 0);

  w.got.clear();
  w.bcast(t.ha);
  w.sim.run_until(61_s);
  CHECK(t.broadcasts_at(t.hb) == 1);  // no storm: exactly one copy
  CHECK(t.broadcasts_at(t.ha) == 0);

  w.sim.schedule_at(100_s, [&t](kernel::simulator&) { t.w.links.set_carrier(t.l0, false); });
  w.sim.run_until(100_s + 30_s - 1_ns);
  CHECK_FALSE(w.sws.port_forwarding(t.b, 1));
  CHECK(eb->root_port() == stp::port_index{1});
  w.sim.run_until(100_s + 30_s);
  CHECK(w.sws.port_forwarding(t.b, 1));  // Listening 15 s + Learning 15 s
  w.got.clear();
  w.bcast(t.ha);
  w.sim.run_until(131_s);
  CHECK(t.broadcasts_at(t.hb) == 1);
  // B's port entering Forwarding is a topology change (802.1D-1998 8.6.14): B's TCN reaches
  // the root, which sets Topology Change: short ageing (Forward Delay) [Cabletron].
  CHECK(w.sws.fdb(t.a).topology_change());
  CHECK(w.sws.fdb(t.a).ageing_time_in_force() == 15_s);
}

TEST_CASE("switch: RSTP blocks one parallel link; the alternate takes over in under a second") {
  loop t(net::stp_mode::rstp);
  auto& w = t.w;
  w.sim.run_until(1_s);  // proposal/agreement on point-to-point links: no timers
  const auto* eb = w.sws.rstp_engine(t.b);
  REQUIRE(eb != nullptr);
  CHECK(eb->role(0) == rstp::port_role::root);
  CHECK(eb->role(1) == rstp::port_role::alternate);
  CHECK(w.sws.port_forwarding(t.a, 0));
  CHECK(w.sws.port_forwarding(t.a, 1));
  CHECK(w.sws.port_forwarding(t.b, 0));
  CHECK_FALSE(w.sws.port_forwarding(t.b, 1));

  w.got.clear();
  w.bcast(t.ha);
  w.sim.run_until(2_s);
  CHECK(t.broadcasts_at(t.hb) == 1);
  CHECK(t.broadcasts_at(t.ha) == 0);

  w.sim.schedule_at(10_s, [&t](kernel::simulator&) { t.w.links.set_carrier(t.l0, false); });
  w.sim.run_until(10_s);
  // Alternate -> Root Port with no timer (802.1D-2004 17.29.2): same instant as the carrier loss.
  CHECK(eb->role(1) == rstp::port_role::root);
  CHECK(w.sws.port_forwarding(t.b, 1));
  w.got.clear();
  w.bcast(t.ha);
  w.sim.run_until(11_s);
  CHECK(t.broadcasts_at(t.hb) == 1);
}

TEST_CASE("switch: a spanning tree needs a bridge address") {
  world w;
  net::switch_config c;
  c.stp = net::stp_mode::rstp;
  CHECK_THROWS_WITH_AS(w.add_switch(2, c), doctest::Contains("bridge address"), net::switch_error);
}

TEST_CASE("switch: a physical port's default path cost comes from its link's speed") {
  // 802.1D-1998 Table 8-5 (STP's default method): 100 Mb/s 19, 1 Gb/s 4, 10 Gb/s 2;
  // 802.1D-2004 Table 17-3 (RSTP): 20,000,000,000,000 / speed.
  auto build = [](net::stp_mode mode, world& w, net::switch_id& a, net::switch_id& b) {
    const auto [ca, cb] = test::bridge_pair(mode);
    a = w.add_switch(4, ca);
    b = w.add_switch(4, cb);
    // Port 0: 100 Mb/s, port 1: 1 Gb/s, port 2: 10 Gb/s; port 3 not attached.
    const std::uint64_t speeds[] = {100'000'000, 1'000'000'000, 10'000'000'000};
    for (net::port_no p = 0; p < 3; ++p) {
      dev::link_config lc;
      lc.bandwidth_bps = speeds[p];
      const auto id = w.links.add(fmt::format("ab{}", p), lc, w.sws.endpoint(a, p), w.sws.endpoint(b, p));
      w.sws.attach(a, p, id, link_side::a);
      w.sws.attach(b, p, id, link_side::b);
    }
  };
  SUBCASE("STP, 802.1D-1998 table: the 10 Gb/s link is the root port, not the lowest port number") {
    world w;
    net::switch_id a = 0, b = 0;
    build(net::stp_mode::stp, w, a, b);
    const auto* eb = w.sws.stp_engine(b);
    REQUIRE(eb != nullptr);
    CHECK(eb->config(0).path_cost == 19);
    CHECK(eb->config(1).path_cost == 4);
    CHECK(eb->config(2).path_cost == 2);
    CHECK(eb->config(3).path_cost == stp::port_config{}.path_cost);  // speed unknown: the default
    w.sim.run_until(60_s);
    CHECK(eb->root_port() == stp::port_index{2});
    CHECK(eb->root_path_cost() == 2);
    CHECK(w.sws.port_forwarding(b, 2));
    CHECK_FALSE(w.sws.port_forwarding(b, 0));
    CHECK_FALSE(w.sws.port_forwarding(b, 1));
    // A configured cost wins; configuring 0 again goes back to the link's speed.
    net::port_config pc;
    pc.path_cost = 1;
    w.sws.configure_port(b, 0, pc);
    CHECK(eb->config(0).path_cost == 1);
    pc.path_cost = 0;
    w.sws.configure_port(b, 0, pc);
    CHECK(eb->config(0).path_cost == 19);
  }
  SUBCASE("RSTP, 802.1D-2004 table") {
    world w;
    net::switch_id a = 0, b = 0;
    build(net::stp_mode::rstp, w, a, b);
    const auto* eb = w.sws.rstp_engine(b);
    REQUIRE(eb != nullptr);
    CHECK(eb->config(0).path_cost == 200'000);
    CHECK(eb->config(1).path_cost == 20'000);
    CHECK(eb->config(2).path_cost == 2'000);
    CHECK(eb->config(3).path_cost == rstp::port_config{}.path_cost);
    w.sim.run_until(10_s);
    CHECK(eb->root_path_cost() == 2'000);
    CHECK(w.sws.port_forwarding(b, 2));
  }
  SUBCASE("STP with the 802.1D-2004 method: long costs; power off and on keeps them") {
    world w;
    net::switch_config ca;
    ca.name = "A";
    ca.stp = net::stp_mode::stp;
    ca.stp_bridge.cost_method = proto::path_cost_method::ieee2004;
    ca.stp_bridge.address = wire::mac_address::from_u64(0x0200'0000'000aULL);
    const auto a = w.add_switch(2, ca);
    dev::link_config lc;
    lc.bandwidth_bps = 10'000'000'000;
    w.connect(a, 0, lc);
    CHECK(w.sws.stp_engine(a)->config(0).path_cost == 2'000);
    w.sws.set_power(a, false);
    w.sws.set_power(a, true);  // a fresh engine, built with the attached link's speed
    CHECK(w.sws.stp_engine(a)->config(0).path_cost == 2'000);
    CHECK(w.sws.stp_engine(a)->config(1).path_cost == stp::port_config{}.path_cost);
  }
}
