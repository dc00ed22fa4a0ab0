// Virtual switches: local forwarding, uplinks, reflections, vmnet, VLAN modes, limits and
// the in-use rules [AG2][SEED][VLANWP].
#include <algorithm>

#include <doctest/doctest.h>

#include "host_world.hpp"
#include "../kernel/alloc_counter.hpp"

using namespace host_test;
using namespace vnetsim::literals;
using host::tx_result;

TEST_CASE("vswitch: local unicast stays on the host, at memory speed or the configured latency") {
  world w;
  const auto h = w.add_host("esx1", 1);
  const auto st = w.station_at(h, 0);
  w.hs.add_vswitch(h, "net", host::vmnic_binding{0});
  const auto a = w.add_vm(h, "a", "net", vm_mac(1));
  const auto b = w.add_vm(h, "b", "net", vm_mac(2));
  w.sim.run_until(1_us);
  const auto f = world::frame(vm_mac(2), vm_mac(1));
  CHECK(w.vm_send(a, f) == tx_result::sent);
  w.sim.run_until(1_ms);
  REQUIRE(w.guest_rx.size() == 1);
  CHECK(w.guest_rx[0].who == b);
  CHECK(w.guest_rx[0].at == 1_us);  // latency 0: delivered at the time sent
  CHECK(w.guest_rx[0].bytes == f);
  CHECK(w.station_count(st) == 0);
  CHECK(w.nics.stats(w.nic(h, 0)).ifOutUcastPkts == 0);
  CHECK(w.hs.vnic_stats(b).rx_taken == 1);
  CHECK(w.hs.pending_deliveries(b) == 0);

  // A guest with a delivery latency gets its event that much later.
  const auto vm = w.hs.add_vm(h, "c");
  host::vnic_config c;
  c.mac = vm_mac(3);
  c.network = "net";
  c.delivery = {w.guest_kind, 0, 3_us};
  const auto cv = w.hs.add_vnic(vm, c);
  w.guest_rx.clear();
  CHECK(w.vm_send(a, world::frame(vm_mac(3), vm_mac(1))) == tx_result::sent);
  w.sim.run_until(2_ms);
  REQUIRE(w.guest_rx.size() == 1);
  CHECK(w.guest_rx[0].who == cv);
  CHECK(w.guest_rx[0].at == 1_ms + 3_us);
}

TEST_CASE(
    "vswitch: unknown unicast leaves through the vmnic; broadcast to every other local port and one uplink") {
  world w;
  const auto h = w.add_host("esx1", 1);
  const auto st = w.station_at(h, 0);
  const auto vs = w.hs.add_vswitch(h, "net", host::vmnic_binding{0});
  CHECK(w.hs.vswitch_device(vs) == "vmnic0");
  const auto a = w.add_vm(h, "a", "net", vm_mac(1));
  const auto b = w.add_vm(h, "b", "net", vm_mac(2));
  const auto c = w.add_vm(h, "c", "net", vm_mac(3));
  w.sim.run_until(0_ns);
  const auto f = world::frame(mac(0x0200'0000'0099ULL), vm_mac(1));
  CHECK(w.vm_send(a, f) == tx_result::sent);
  w.sim.run_until(1_ms);
  REQUIRE(w.station_rx.size() == 1);
  CHECK(w.station_rx[0].at == sim_time::from_ns(hop60_ns));
  CHECK(w.station_rx[0].bytes == f);
  CHECK(w.guest_rx.empty());

  w.station_rx.clear();
  const auto bc = world::frame(wire::mac_address::broadcast(), vm_mac(1));
  CHECK(w.vm_send(a, bc) == tx_result::sent);
  w.sim.run_until(2_ms);
  CHECK(w.station_count(st) == 1);
  CHECK(w.guest_count(a) == 0);
  CHECK(w.guest_count(b) == 1);
  CHECK(w.guest_count(c) == 1);
  CHECK(w.hs.vswitch_stats(vs).floods == 1);
  CHECK(w.hs.vswitch_stats(vs).uplink_tx == 2);
}

TEST_CASE("vswitch: frames from the uplink reach local ports only; a reflection is dropped and counted") {
  world w;
  const auto h = w.add_host("esx1", 1);
  const auto st = w.station_at(h, 0);
  const auto vs = w.hs.add_vswitch(h, "net", host::vmnic_binding{0});
  const auto a = w.add_vm(h, "a", "net", vm_mac(1));
  const auto b = w.add_vm(h, "b", "net", vm_mac(2));
  w.sim.run_until(0_ns);
  w.station_send(st, world::frame(vm_mac(2), mac(0x0200'0000'0099ULL)));
  w.sim.run_until(1_ms);
  REQUIRE(w.guest_rx.size() == 1);
  CHECK(w.guest_rx[0].who == b);
  CHECK(w.guest_rx[0].at == sim_time::from_ns(hop60_ns));

  w.guest_rx.clear();
  w.station_send(st, world::frame(wire::mac_address::broadcast(), mac(0x0200'0000'0099ULL)));
  w.sim.run_until(2_ms);
  CHECK(w.guest_count(a) == 1);
  CHECK(w.guest_count(b) == 1);
  CHECK(w.station_count(st) == 0);  // never back out of an uplink

  // Our own source MAC back from the network: a reflection.
  w.guest_rx.clear();
  w.station_send(st, world::frame(wire::mac_address::broadcast(), vm_mac(1)));
  w.station_send(st, world::frame(vm_mac(2), vm_mac(1)));
  w.sim.run_until(3_ms);
  CHECK(w.guest_rx.empty());
  CHECK(w.hs.vswitch_stats(vs).reflections == 2);
  const auto refl = w.events(host::host_event::kind::reflection);
  REQUIRE(refl.size() == 1);  // logged once, then counted
  CHECK(w.hs.to_string(refl[0]).find("reflection of 00:50:56:00:00:01") != std::string::npos);

  // Unicast for nobody here is dropped (never forwarded to another uplink), counted.
  w.station_send(st, world::frame(vm_mac(9), mac(0x0200'0000'0099ULL)));
  w.sim.run_until(4_ms);
  CHECK(w.hs.vswitch_stats(vs).dropped_unknown_dst == 1);
}

TEST_CASE("vswitch: an internal vmnet switch never touches a NIC") {
  world w;
  const auto h = w.add_host("esx1", 1);
  const auto st = w.station_at(h, 0);
  const auto vs = w.hs.add_vswitch(h, "internal", std::monostate{});
  const auto vs2 = w.hs.add_vswitch(h, "internal2", std::monostate{});
  CHECK(w.hs.vswitch_device(vs) == "vmnet_0");
  CHECK(w.hs.vswitch_device(vs2) == "vmnet_1");
  const auto a = w.add_vm(h, "a", "internal", vm_mac(1));
  const auto b = w.add_vm(h, "b", "internal", vm_mac(2));
  CHECK(w.vm_send(a, world::frame(vm_mac(2), vm_mac(1))) == tx_result::sent);
  CHECK(w.vm_send(a, world::frame(wire::mac_address::broadcast(), vm_mac(1))) == tx_result::sent);
  CHECK(w.vm_send(a, world::frame(vm_mac(7), vm_mac(1))) == tx_result::dropped_unknown_dst);
  w.sim.run_until(1_ms);
  CHECK(w.guest_count(b) == 2);
  CHECK(w.station_count(st) == 0);
  CHECK(w.nics.stats(w.nic(h, 0)).ifOutOctets == 0);
  CHECK(w.hs.vswitch_stats(vs).dropped_unknown_dst == 1);
}

TEST_CASE("vswitch: VLAN isolation in EST, VST and VGT port groups, with the bytes on the wire") {
  world w;
  const auto h = w.add_host("esx1", 1);
  const auto st = w.station_at(h, 0);
  const auto vs = w.hs.add_vswitch(h, "trunk", host::vmnic_binding{0});
  w.hs.add_port_group(h, vs, "v10", 10);
  w.hs.add_port_group(h, vs, "v10b", 10);
  w.hs.add_port_group(h, vs, "v20", 20);
  w.hs.add_port_group(h, vs, "est", std::nullopt);
  w.hs.add_port_group(h, vs, "vgt", 4095);
  const auto A = w.add_vm(h, "A", "v10", vm_mac(1));
  const auto B = w.add_vm(h, "B", "v10b", vm_mac(2));
  const auto C = w.add_vm(h, "C", "v20", vm_mac(3));
  const auto D = w.add_vm(h, "D", "vgt", vm_mac(4));
  const auto E = w.add_vm(h, "E", "est", vm_mac(5));
  w.sim.run_until(0_ns);
  auto take = [&](sim_time until) {
    w.sim.run_until(until);
    auto g = w.guest_rx;
    w.guest_rx.clear();
    return g;
  };

  SUBCASE("VST: the switch tags on the way out, strips on the way in; other VLANs see nothing") {
    const auto f = world::frame(wire::mac_address::broadcast(), vm_mac(1));
    CHECK(w.vm_send(A, f) == tx_result::sent);
    const auto g = take(1_ms);
    REQUIRE(g.size() == 2);
    CHECK(g[0].who == B);
    CHECK(g[0].bytes == f);
    CHECK(g[1].who == D);
    CHECK(g[1].bytes == world::tagged(f, 10));  // a VGT guest sees the tag
    REQUIRE(w.station_rx.size() == 1);
    CHECK(w.station_rx[0].bytes == world::tagged(f, 10));
    CHECK(w.station_rx[0].at == sim_time::from_ns(hop64_ns));
    // Unicast from VLAN 10 to a VM in VLAN 20 is isolated.
    CHECK(w.vm_send(A, world::frame(vm_mac(3), vm_mac(1))) == tx_result::dropped_vlan);
    // Ingress: tagged 10 goes to VLAN 10 untagged, to VGT tagged.
    const auto in = world::tagged(world::frame(wire::mac_address::broadcast(), mac(0x0200'0000'0099ULL)), 10);
    w.station_send(st, in);
    const auto g2 = take(2_ms);
    REQUIRE(g2.size() == 3);
    CHECK(g2[0].who == A);
    CHECK(g2[0].bytes == world::frame(wire::mac_address::broadcast(), mac(0x0200'0000'0099ULL)));
    CHECK(g2[1].who == B);
    CHECK(g2[2].who == D);
    CHECK(g2[2].bytes == in);
    (void)C;
  }
  SUBCASE("EST: untagged in and out; only EST and VGT ports share it") {
    const auto f = world::frame(wire::mac_address::broadcast(), vm_mac(5));
    CHECK(w.vm_send(E, f) == tx_result::sent);
    const auto g = take(1_ms);
    REQUIRE(g.size() == 1);
    CHECK(g[0].who == D);
    CHECK(g[0].bytes == f);
    REQUIRE(w.station_rx.size() == 1);
    CHECK(w.station_rx[0].bytes == f);
    // A guest tag on an EST or VST port is not passed.
    CHECK(w.vm_send(E, world::tagged(f, 10)) == tx_result::dropped_vlan);
    CHECK(w.vm_send(A, world::tagged(world::frame(wire::mac_address::broadcast(), vm_mac(1)), 10)) ==
          tx_result::dropped_vlan);
    CHECK(w.hs.vswitch_stats(vs).dropped_vlan == 2);
  }
  SUBCASE("VGT: guest tags pass through; a VST port of that VLAN gets the frame untagged") {
    const auto f = world::tagged(world::frame(wire::mac_address::broadcast(), vm_mac(4)), 20);
    CHECK(w.vm_send(D, f) == tx_result::sent);
    const auto g = take(1_ms);
    REQUIRE(g.size() == 1);
    CHECK(g[0].who == C);
    CHECK(g[0].bytes == world::frame(wire::mac_address::broadcast(), vm_mac(4)));
    REQUIRE(w.station_rx.size() == 1);
    CHECK(w.station_rx[0].bytes == f);  // the guest's tag, unchanged
    // VID 4095 is reserved, never forwarded.
    CHECK(w.vm_send(D, world::tagged(world::frame(wire::mac_address::broadcast(), vm_mac(4)), 4095)) ==
          tx_result::dropped_vlan);
  }
}

TEST_CASE("vswitch: a 33rd adapter on 32 ports, bad VLANs, bad MACs and labels are clear errors") {
  world w;
  const auto h = w.add_host("esx1", 1);
  const auto vs = w.hs.add_vswitch(h, "net", host::vmnic_binding{0});
  for (unsigned i = 0; i < 32; ++i) w.add_vm(h, fmt::format("vm{}", i), "net");
  CHECK(w.hs.vswitch_ports_used(vs) == 32);
  CHECK_THROWS_WITH_AS(w.add_vm(h, "vm32", "net"),
                       doctest::Contains("virtual switch \"net\" has all its 32 ports in use"),
                       host::host_error);
  CHECK_THROWS_WITH_AS(w.hs.add_port_group(h, vs, "bad", 4096), doctest::Contains("VLAN 4096"),
                       host::host_error);
  CHECK_THROWS_WITH_AS(w.hs.add_port_group(h, vs, "net", 5), doctest::Contains("already used"),
                       host::host_error);
  const auto vs2 = w.hs.add_vswitch(h, "other", std::monostate{});
  (void)vs2;
  CHECK_THROWS_WITH_AS(w.add_vm(h, "x", "other", mac(0x0050'5640'0000ULL)),
                       doctest::Contains("00:50:56:00:00:00-00:50:56:3f:ff:ff"), host::host_error);
  CHECK_THROWS_WITH_AS(w.add_vm(h, "y", "other", mac(0x0200'0000'0001ULL)),
                       doctest::Contains("static address"), host::host_error);
  w.add_vm(h, "z", "other", vm_mac(0x3fffff));
  CHECK_THROWS_WITH_AS(w.add_vm(h, "z2", "other", vm_mac(0x3fffff)), doctest::Contains("already used"),
                       host::host_error);
  CHECK_THROWS_WITH_AS(w.add_vm(h, "q", "nowhere"),
                       doctest::Contains("network label \"nowhere\" does not exist"), host::host_error);
  CHECK_THROWS_AS(w.hs.add_vswitch(h, "x2", host::vmnic_binding{0}),
                  host::host_error);  // vmnic0 already bound
  CHECK_THROWS_AS(w.hs.add_vswitch(h, "x3", host::vmnic_binding{5}), host::host_error);  // no vmnic5
  CHECK_THROWS_AS(w.hs.add_host("esx1"), host::host_error);
}

TEST_CASE("vswitch: static MACs: the manual range's bounds, other OUIs, uniqueness over the host [AG2]") {
  world w;
  const auto h = w.add_host("esx1", 0);
  w.hs.add_vswitch(h, "s1", std::monostate{});
  w.hs.add_vswitch(h, "s2", std::monostate{});
  const auto lo = w.add_vm(h, "lo", "s1", mac(0x0050'5600'0000ULL));  // first manual address
  const auto hi = w.add_vm(h, "hi", "s1", mac(0x0050'563f'ffffULL));  // last manual address
  CHECK(w.hs.vnic_mac(lo) == mac(0x0050'5600'0000ULL));
  CHECK(w.hs.vnic_mac(hi) == mac(0x0050'563f'ffffULL));
  for (const std::uint64_t bad : {0x0050'55ff'ffffULL, 0x0050'5640'0000ULL, 0x0050'56ff'ffffULL,
                                  0x000c'2900'0001ULL}) {
    CHECK_THROWS_WITH_AS(w.add_vm(h, fmt::format("bad{:x}", bad), "s1", mac(bad)),
                         doctest::Contains("a static address must lie in 00:50:56:00:00:00-00:50:56:3f:ff:ff"),
                         host::host_error);
  }
  // Unique over the whole host (another vswitch too), a powered-off VM's address included.
  w.hs.set_vm_running(*w.hs.find_vm(h, "lo"), false);
  CHECK_THROWS_WITH_AS(w.add_vm(h, "dup", "s2", mac(0x0050'5600'0000ULL)),
                       doctest::Contains("MAC 00:50:56:00:00:00 is already used on this host"), host::host_error);
  // Another host may use it (each host tracks its own [AG2]).
  const auto h2 = w.add_host("esx2", 0);
  w.hs.add_vswitch(h2, "s1", std::monostate{});
  CHECK_NOTHROW(w.add_vm(h2, "lo", "s1", mac(0x0050'5600'0000ULL)));
}

TEST_CASE("vswitch: at most 256 generated MACs per host [AG2]; static ones lift the limit") {
  world w;
  const auto h = w.add_host("esx1", 0);
  std::vector<std::string> nets;
  for (unsigned s = 0; s < 9; ++s) {
    nets.push_back(fmt::format("n{}", s));
    w.hs.add_vswitch(h, nets.back(), std::monostate{});
  }
  for (unsigned i = 0; i < 256; ++i) w.add_vm(h, fmt::format("g{}", i), nets[i / 32]);
  CHECK_THROWS_WITH_AS(w.add_vm(h, "g256", nets[8]),
                       doctest::Contains("generated MAC addresses limit a host to 256 virtual adapters [AG2]"),
                       host::host_error);
  CHECK_NOTHROW(w.add_vm(h, "s256", nets[8], vm_mac(1)));
  std::vector<std::uint64_t> seen;
  for (host::vnic_id v = 0; v < 256; ++v) {
    CHECK(w.hs.vnic_mac(v).oui() == 0x000c29);
    seen.push_back(w.hs.vnic_mac(v).to_u64());
  }
  std::sort(seen.begin(), seen.end());
  CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
}

TEST_CASE("vswitch: generated MACs are 00:0c:29, deterministic and unique") {
  world w1, w2;
  for (auto* w : {&w1, &w2}) {
    const auto h = w->add_host("esx1", 1);
    w->hs.add_vswitch(h, "net", std::monostate{});
    w->add_vm(h, "a", "net");
    w->add_vm(h, "b", "net");
  }
  CHECK(w1.hs.vnic_mac(0).oui() == 0x000c29);
  CHECK(w1.hs.vnic_mac(0) == w2.hs.vnic_mac(0));
  CHECK(w1.hs.vnic_mac(1) == w2.hs.vnic_mac(1));
  CHECK(w1.hs.vnic_mac(0) != w1.hs.vnic_mac(1));
}

TEST_CASE("vswitch: a label changes only while no running VM uses it") {
  world w;
  const auto h = w.add_host("esx1", 1);
  const auto vs = w.hs.add_vswitch(h, "net", host::vmnic_binding{0});
  w.hs.add_port_group(h, vs, "pg", 7);
  const auto v = w.add_vm(h, "a", "pg", vm_mac(1));
  const auto vm = *w.hs.find_vm("esx1/a");
  CHECK(*w.hs.find_vnic(vm, 0) == v);
  CHECK_THROWS_WITH_AS(w.hs.rename_label(h, "pg", "pg2"),
                       doctest::Contains("cannot be changed while the running virtual machine \"a\" uses it"),
                       host::host_error);
  w.hs.rename_label(h, "net", "net2");  // the switch label is not what the VM uses
  CHECK(w.hs.vswitch_label(vs) == "net2");
  w.hs.set_vm_running(vm, false);
  w.hs.rename_label(h, "pg", "pg2");
  CHECK_THROWS_AS(w.hs.rename_label(h, "pg", "pg3"), host::host_error);  // gone
  w.hs.set_vm_running(vm, true);
  // vmnic0 has no link: the NIC refuses the frame, and that is counted.
  CHECK(w.vm_send(v, world::frame(wire::mac_address::broadcast(), vm_mac(1))) == tx_result::dropped_nic);
  CHECK(w.hs.vswitch_stats(vs).dropped_nic == 1);
  CHECK(w.nics.stats(w.nic(h, 0)).ifOutDiscards == 1);
  // Powered off: frames neither leave nor arrive.
  w.hs.set_vm_running(vm, false);
  CHECK(w.vm_send(v, world::frame(wire::mac_address::broadcast(), vm_mac(1))) == tx_result::dropped_vm_off);
}

TEST_CASE("vswitch: the frame path allocates nothing once warmed up") {
  world w;
  std::uint64_t taken = 0, arrived = 0;
  struct ctx_t {
    world* w;
    std::uint64_t* taken;
    std::uint64_t* arrived;
  } ctx{&w, &taken, &arrived};
  const auto count_guest = w.sim.register_kind(
      "test/count-guest",
      [](void* c, kernel::simulator&, const kernel::event& ev) {
        auto& x = *static_cast<ctx_t*>(c);
        if (x.w->hs.take_delivery(static_cast<host::vnic_id>(ev.arg))) ++*x.taken;
      },
      &ctx);
  const auto count_sink = w.sim.register_kind(
      "test/count-sink",
      [](void* c, kernel::simulator&, const kernel::event& ev) {
        auto& x = *static_cast<ctx_t*>(c);
        if (x.w->links.take_arrival(ev.target).frame) ++*x.arrived;
      },
      &ctx);
  const auto h = w.add_host("esx1", 2);
  std::vector<dev::link_id> l;
  for (unsigned i = 0; i < 2; ++i) {
    l.push_back(
        w.links.add(fmt::format("l{}", i), {}, w.hs.uplink_endpoint(w.nic(h, i)), {count_sink, 0, i, 0}));
    w.nics.attach(w.nic(h, i), l.back(), dev::link_side::a);
  }
  const unsigned members[] = {0, 1};
  w.hs.add_bond(h, 1, members);
  const auto vs = w.hs.add_vswitch(h, "net", host::bond_binding{1});
  w.hs.add_port_group(h, vs, "v10", 10);
  std::vector<host::vnic_id> v;
  for (unsigned i = 1; i <= 3; ++i) {
    const auto vm = w.hs.add_vm(h, fmt::format("vm{}", i));
    host::vnic_config c;
    c.mac = vm_mac(i);
    c.network = "v10";
    c.delivery.kind = count_guest;
    v.push_back(w.hs.add_vnic(vm, c));
  }
  w.sim.run();
  const auto local = world::frame(vm_mac(2), vm_mac(1));
  const auto out = world::frame(mac(0x0200'00ff'0001ULL), vm_mac(1));
  const auto bc = world::frame(wire::mac_address::broadcast(), vm_mac(3));
  const auto in = world::tagged(world::frame(vm_mac(2), mac(0x0200'00ff'0001ULL)), 10);
  auto round = [&] {
    for (int i = 0; i < 50; ++i) {
      w.hs.vnic_transmit(v[0], w.make(local));
      w.hs.vnic_transmit(v[0], w.make(out));
      w.hs.vnic_transmit(v[2], w.make(bc));  // two local ports + one uplink (tag: a copy)
      w.links.send(l[1], dev::link_side::b, w.make(in));
    }
    w.sim.run();
  };
  round();
  const auto before_taken = taken, before_arrived = arrived;
  const auto before = test::allocation_count();
  round();
  CHECK(test::allocation_count() == before);
  CHECK(taken - before_taken == 50 * (1 + 2 + 1));
  CHECK(arrived - before_arrived == 50 * 2);
}

TEST_CASE("vswitch: two hosts through a switch: VM to VM across, exact arrival time") {
  world w;
  const auto h1 = w.add_host("esx1", 1);
  const auto h2 = w.add_host("esx2", 1);
  const auto sw = w.add_switch(2);
  w.wire_vmnic(h1, 0, sw, 0);
  w.wire_vmnic(h2, 0, sw, 1);
  w.hs.add_vswitch(h1, "net", host::vmnic_binding{0});
  w.hs.add_vswitch(h2, "net", host::vmnic_binding{0});
  const auto a = w.add_vm(h1, "a", "net", vm_mac(1));
  const auto b = w.add_vm(h2, "b", "net", vm_mac(2));
  CHECK(w.hs.find_vm("a") == w.hs.find_vm("esx1/a"));
  CHECK_FALSE(w.hs.find_vm("esx2/a"));
  w.sim.run_until(1_ms);
  const auto f = world::frame(vm_mac(2), vm_mac(1));
  CHECK(w.vm_send(a, f) == tx_result::sent);
  w.sim.run_until(2_ms);
  REQUIRE(w.guest_rx.size() == 1);
  CHECK(w.guest_rx[0].who == b);
  CHECK(w.guest_rx[0].bytes == f);
  // Two hops and the switch's store-and-forward latency (5 us default).
  CHECK(w.guest_rx[0].at == 1_ms + sim_time::from_ns(2 * hop60_ns) + net::default_forwarding_latency);
}

TEST_CASE("vswitch: a vswitch bound to one vmnic drops and counts when that vmnic has no link") {
  world w;
  const auto h = w.add_host("esx1", 1);
  const auto st = w.station_at(h, 0);
  const auto vs = w.hs.add_vswitch(h, "net", host::vmnic_binding{0});
  const auto a = w.add_vm(h, "a", "net", vm_mac(1));
  w.sim.run_until(1_ms);
  w.links.set_carrier(w.stations[st].link, false);
  w.sim.run_until(2_ms);
  CHECK(w.vm_send(a, world::frame(vm_mac(9), vm_mac(1))) == tx_result::dropped_no_uplink);
  CHECK(w.hs.vswitch_stats(vs).dropped_no_uplink == 1);
  CHECK(w.hs.vnic_stats(a).tx_dropped == 1);
}

TEST_CASE("vswitch: the uplink path reads the addresses of a bare 14-byte header and picks the member by source") {
  // Four members, each wired to its own station: the member a frame leaves on is the station
  // that sees it. out-mac: the bucket of the frame's source MAC, the VM's own (kept in the
  // vNIC) or any other (hashed per frame) [AG2].
  world w;
  const auto h = w.add_host("esx1", 4);
  std::vector<std::uint32_t> st;
  for (unsigned i = 0; i < 4; ++i) st.push_back(w.station_at(h, i));
  const std::vector<unsigned> members{0, 1, 2, 3};
  w.hs.add_bond(h, 1, members);
  w.hs.add_vswitch(h, "net", host::bond_binding{1});
  const auto a = w.add_vm(h, "a", "net", vm_mac(1));
  w.sim.run_until(1_us);
  const auto& p = w.hs.bond_policy(h, 1);
  const auto member_of = [&](wire::mac_address src) { return *p.select_broadcast(src); };
  // Sources that land on different members: the VM's own and a foreign one.
  auto foreign = mac(0x0200'0000'0100ULL);
  while (member_of(foreign) == member_of(vm_mac(1))) foreign = mac(foreign.to_u64() + 1);
  const auto dst = mac(0x0200'00ff'0001ULL);
  const bytes_t bare = world::frame(dst, vm_mac(1), 0x88b6, 14);  // addresses and type only
  const bytes_t spoofed = world::frame(dst, foreign);
  const bytes_t group = world::frame(mac(0x0100'5e00'0001ULL), vm_mac(1));
  const bytes_t bcast = world::frame(wire::mac_address::broadcast(), vm_mac(1));
  CHECK(w.vm_send(a, bare) == tx_result::sent);
  CHECK(w.vm_send(a, spoofed) == tx_result::sent);
  CHECK(w.vm_send(a, group) == tx_result::sent);
  CHECK(w.vm_send(a, bcast) == tx_result::sent);
  w.sim.run_until(1_ms);
  REQUIRE(w.station_rx.size() == 4);
  const std::uint32_t own = st[member_of(vm_mac(1))];
  CHECK(w.station_rx[0].who == own);
  CHECK(w.station_rx[0].bytes == bare);
  CHECK(w.station_rx[1].who == st[member_of(foreign)]);
  CHECK(w.station_rx[1].bytes == spoofed);
  CHECK(w.station_rx[2].who == own);
  CHECK(w.station_rx[2].bytes == group);
  CHECK(w.station_rx[3].who == own);
  CHECK(w.station_rx[3].bytes == bcast);
  // IF-MIB counts by destination kind on the member NIC (RFC 2863).
  const auto& s = w.nics.stats(w.nic(h, member_of(vm_mac(1))));
  CHECK(s.ifOutUcastPkts == 1);
  CHECK(s.ifOutMulticastPkts == 1);
  CHECK(s.ifOutBroadcastPkts == 1);
  CHECK(s.ifOutOctets == 14 + 60 + 60);
  CHECK(w.nics.stats(w.nic(h, member_of(foreign))).ifOutUcastPkts == 1);
  CHECK(w.hs.vswitch_stats(0).uplink_tx == 4);
  CHECK(w.hs.bond_stats(h, 1).tx_frames == 4);
  CHECK(w.hs.vnic_stats(a).tx_dropped == 0);
}
