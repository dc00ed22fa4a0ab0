// Bonds: carrier failover and failback (home_link), beacon detection times and the counting
// rule, threshold 0 and upstream black holes, the ambiguous policy, trapped beacons, load
// balancing (out-mac, out-ip, the non-IP cycle, MAC flaps), the 802.1D failback black hole,
// capability intersection, binding errors [AG2][SEED][VS65].
#include <algorithm>
#include <map>
#include <memory>

#include <doctest/doctest.h>

#include "host_world.hpp"

using namespace host_test;
using namespace vnetsim::literals;
using host::host_event;
using host::tx_result;

namespace {

constexpr wire::mac_address station_mac = mac(0x0200'00ff'0001ULL);

/// A VM that sends one unicast frame to `dst` every `period` from `first`; byte 14..17 of
/// each frame carry its sequence number.
struct sender {
  sender(world* w_, host::vnic_id v_, wire::mac_address src_, wire::mac_address dst_, sim_time period_)
      : w(w_), v(v_), src(src_), dst(dst_), period(period_) {}
  world* w;
  host::vnic_id v;
  wire::mac_address src, dst;
  sim_time period;
  std::uint32_t seq = 0;
  std::vector<tx_result> results;

  void start(sim_time first) {
    w->sim.schedule_at(first, [this](kernel::simulator&) { tick(); });
  }
  void tick() {
    auto b = world::frame(dst, src);
    for (int i = 0; i < 4; ++i) b[14 + i] = static_cast<std::uint8_t>(seq >> (24 - 8 * i));
    ++seq;
    results.push_back(w->vm_send(v, b));
    w->sim.schedule_in(period, [this](kernel::simulator&) { tick(); });
  }
};

std::uint32_t seq_of(const bytes_t& b) {
  return (std::uint32_t{b[14]} << 24) | (std::uint32_t{b[15]} << 16) | (std::uint32_t{b[16]} << 8) | b[17];
}

bool to_station(const bytes_t& b) {
  return wire::mac_address::read(std::as_bytes(std::span(b)), 0) == station_mac;
}

/// Frames for the station (not beacons or BPDUs flooded to it) received in [from, to).
std::size_t received_between(const world& w, std::uint32_t st, sim_time from, sim_time to) {
  std::size_t n = 0;
  for (const auto& r : w.station_rx) n += r.who == st && r.at >= from && r.at < to && to_station(r.bytes);
  return n;
}

std::optional<sim_time> first_event(const world& w, host_event::kind k, unsigned vmnic, std::uint8_t to) {
  for (const auto& e : w.hs.events()) {
    if (e.what == k && e.vmnic == vmnic && e.to == to) return e.at;
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("bond: carrier loss fails over after the NIC's detection delay; restore fails back to home_link") {
  world w;
  dev::nic_config nc;
  nc.detect_down = 2_ms;
  nc.detect_up = 1_ms;
  const auto h = w.add_host("esx1", 2, nc);
  const auto sw = w.add_switch(3);
  const auto l0 = w.wire_vmnic(h, 0, sw, 0);
  w.wire_vmnic(h, 1, sw, 1);
  const auto st = w.station_on(sw, 2);
  const unsigned members[] = {0, 1};
  w.hs.add_bond(h, 1, members);
  w.hs.set_nicteam(h, "nicteam.bond1.home_link", "vmnic0");
  const auto vs = w.hs.add_vswitch(h, "net", host::bond_binding{1});
  CHECK(w.hs.vswitch_device(vs) == "bond1");
  const auto a = w.add_vm(h, "a", "net", vm_mac(1));
  sender s(&w, a, vm_mac(1), station_mac, 1_ms);
  s.start(1_ms);
  w.sim.schedule_at(sim_time::from_us(10'500), [&](kernel::simulator&) { w.links.set_carrier(l0, false); });
  w.sim.schedule_at(sim_time::from_us(20'500), [&](kernel::simulator&) { w.links.set_carrier(l0, true); });
  w.sim.run_until(sim_time::from_us(30'500));

  const auto& p = w.hs.bond_policy(h, 1);
  CHECK(p.current_mode() == bond::mode::standby);
  const auto failovers = w.events(host_event::kind::failover);
  const auto failbacks = w.events(host_event::kind::failback);
  REQUIRE(failovers.size() == 1);
  REQUIRE(failbacks.size() == 1);
  CHECK(failovers[0].at == sim_time::from_us(12'500));  // loss + detect_down
  CHECK(failovers[0].vmnic == 0u);
  CHECK(failbacks[0].at == sim_time::from_us(21'500));  // restore + detect_up
  CHECK(failbacks[0].vmnic == 0u);
  CHECK(*first_event(w, host_event::kind::member_state, 0,
                     static_cast<std::uint8_t>(bond::member_state::link_down)) == sim_time::from_us(12'500));
  // Frames at 11 and 12 ms: the NIC still saw link up, the cable was cut: lost, counted.
  CHECK(s.results.size() == 30);
  CHECK(std::count(s.results.begin(), s.results.end(), tx_result::dropped_nic) == 2);
  CHECK(w.hs.vswitch_stats(vs).dropped_nic == 2);
  CHECK(w.station_count(st) == 28);
  // vmnic1 carried the frames of 13..21 ms.
  CHECK(w.nics.stats(w.nic(h, 1)).ifOutUcastPkts == 9);
  CHECK(w.hs.bond_stats(h, 1).failovers == 1);
  CHECK(w.hs.bond_stats(h, 1).failbacks == 1);
  CHECK(p.active() == bond::member{0});
  const auto act = w.events(host_event::kind::active_changed);
  REQUIRE(act.size() == 2);
  CHECK(w.hs.to_string(act[0]) == "0.0125s esx1 bond1: active vmnic0->vmnic1");
}

namespace {

/// Three members on one switch, beacons on, a VM on the bond; member 0's link black-holed
/// in both directions at 10.5 s. Returns when vmnic0 was declared FAILED.
std::optional<sim_time> beacon_detection(unsigned threshold, const char* rule, bool per_bond) {
  world w;
  const auto h = w.add_host("esx1", 3);
  const auto sw = w.add_switch(4);
  const auto l0 = w.wire_vmnic(h, 0, sw, 0);
  w.wire_vmnic(h, 1, sw, 1);
  w.wire_vmnic(h, 2, sw, 2);
  const unsigned members[] = {0, 1, 2};
  w.hs.add_bond(h, 1, members);
  w.hs.set_advanced(h, "SwitchFailoverBeaconInterval", "1");
  w.hs.set_advanced(h, "SwitchFailoverThresholdRule", rule);
  if (per_bond) {
    w.hs.set_nicteam(h, "nicteam.bond1.switch_failover_threshold", std::to_string(threshold));
  } else {
    w.hs.set_advanced(h, "SwitchFailoverThreshold", std::to_string(threshold));
  }
  w.hs.add_vswitch(h, "net", host::bond_binding{1});
  const auto a = w.add_vm(h, "a", "net", vm_mac(1));
  w.sim.schedule_at(10'500_ms, [&](kernel::simulator&) {
    w.links.set_black_hole(l0, dev::link_side::a, true);
    w.links.set_black_hole(l0, dev::link_side::b, true);
  });
  // The boundary: half a second after the T-th counted miss (at 11 + T s).
  w.sim.run_until(sim_time::from_s(11 + threshold) + 500_ms);
  REQUIRE(w.hs.beacon_monitor(h, 1) != nullptr);
  CHECK(w.hs.beacon_monitor(h, 1)->missed(0) == threshold);
  CHECK(w.hs.beacon_monitor(h, 1)->state(0) ==
        (std::string_view(rule) == "exceeds" ? beacon::member_state::ok : beacon::member_state::failed));
  w.sim.run_until(30_s);
  CHECK(w.hs.beacon_monitor(h, 1)->threshold() == threshold);
  CHECK(w.guest_count(a) == 0);  // beacons never reach a VM
  CHECK(w.hs.bond_stats(h, 1).beacons_rx > 0);
  CHECK(w.hs.bond_policy(h, 1).state(0) == bond::member_state::beacon_failed);
  CHECK(w.hs.bond_policy(h, 1).state(1) == bond::member_state::up);
  return first_event(w, host_event::kind::beacon_state, 0,
                     static_cast<std::uint8_t>(beacon::member_state::failed));
}

}  // namespace

TEST_CASE("bond: beacon detection time, interval 1 s, thresholds 2, 3, 5 (the 'exceeds' rule)") {
  // The first lost beacon is round 11 (sent at 11 s); misses are counted at each boundary
  // (12, 13, ...); FAILED when misses exceed T: at 11 + T + 1 s [AG2]. That is interval x
  // (T + 1) after the first lost beacon, and interval x T after the first missed boundary.
  CHECK(beacon_detection(2, "exceeds", false) == 14_s);
  CHECK(beacon_detection(3, "exceeds", true) == 15_s);
  CHECK(beacon_detection(5, "exceeds", false) == 17_s);
  // The "reaches" reading: interval x T after the first lost beacon [SEED].
  CHECK(beacon_detection(2, "reaches", false) == 13_s);
  CHECK(beacon_detection(3, "reaches", true) == 14_s);
}

namespace {

/// vmnic0 on switch A, vmnic1 (and vmnic2 when three) on switch B, A-B trunk, the station
/// on B; standby with home vmnic0; the trunk black-holed at 5.5 s. A VM sends to the
/// station every 100 ms (at 50 ms past).
struct upstream {
  world w;
  host::host_id h = 0;
  net::switch_id A = 0, B = 0;
  dev::link_id trunk = 0;
  std::uint32_t st = 0;
  host::vswitch_id vs = 0;
  std::unique_ptr<sender> s;

  upstream(unsigned members, unsigned threshold, const char* ambiguous = "keep", bool trap = false) {
    h = w.add_host("esx1", members);
    A = w.add_switch(4);
    B = w.add_switch(4);
    w.wire_vmnic(h, 0, A, 0);
    w.wire_vmnic(h, 1, B, 0);
    if (members == 3) w.wire_vmnic(h, 2, B, 3);
    trunk = w.trunk(A, 1, B, 1);
    st = w.station_on(B, 2);
    std::vector<unsigned> m;
    for (unsigned i = 0; i < members; ++i) m.push_back(i);
    w.hs.add_bond(h, 1, m);
    w.hs.set_nicteam(h, "nicteam.bond1.home_link", "vmnic0");
    w.hs.set_nicteam(h, "nicteam.bond1.switch_failover_threshold", std::to_string(threshold));
    w.hs.set_nicteam(h, "nicteam.bond1.ambiguous_policy", ambiguous);
    vs = w.hs.add_vswitch(h, "net", host::bond_binding{1});
    const auto a = w.add_vm(h, "a", "net", vm_mac(1));
    s = std::make_unique<sender>(&w, a, vm_mac(1), station_mac, 100_ms);
    s->start(50_ms);
    if (trap) {
      w.sws.set_trap_ether_type(A, wire::beacon_default_ether_type);
    } else {
      w.sim.schedule_at(5'500_ms, [this](kernel::simulator&) {
        w.links.set_black_hole(trunk, dev::link_side::a, true);
        w.links.set_black_hole(trunk, dev::link_side::b, true);
      });
    }
  }
};

}  // namespace

TEST_CASE("bond: threshold 0 never detects an upstream black hole; link state stays up") {
  upstream u(2, 0);
  u.w.sim.run_until(60_s);
  CHECK(u.w.hs.beacon_monitor(u.h, 1) == nullptr);
  CHECK(u.w.events(host_event::kind::failover).empty());
  CHECK(received_between(u.w, u.st, 0_s, 5'500_ms) == 55);
  CHECK(received_between(u.w, u.st, 5'500_ms, 60_s) == 0);
  CHECK(u.w.hs.bond_stats(u.h, 1).beacons_tx == 0);
}

TEST_CASE("bond: two members, beacons lost both ways: the ambiguous case, keep vs send_all") {
  SUBCASE("keep: traffic stays on the home link and is lost") {
    upstream u(2, 2, "keep");
    u.w.sim.run_until(20_s);
    // First lost beacon round 6; AMBIGUOUS at 6 + 2 + 1 = 9 s for both members.
    CHECK(first_event(u.w, host_event::kind::beacon_state, 0,
                      static_cast<std::uint8_t>(beacon::member_state::ambiguous)) == 9_s);
    CHECK(first_event(u.w, host_event::kind::beacon_state, 1,
                      static_cast<std::uint8_t>(beacon::member_state::ambiguous)) == 9_s);
    CHECK(u.w.hs.bond_policy(u.h, 1).active() == bond::member{0});
    CHECK(received_between(u.w, u.st, 5'500_ms, 20_s) == 0);
    CHECK(u.w.hs.bond_stats(u.h, 1).duplicates_sent == 0);
  }
  SUBCASE("send_all: every frame also goes out of the other suspect member, and gets through") {
    upstream u(2, 2, "send_all");
    u.w.sim.run_until(20_s);
    CHECK(received_between(u.w, u.st, 5'500_ms, 9_s) == 0);
    CHECK(received_between(u.w, u.st, 9_s, 20_s) == 110);
    CHECK(u.w.hs.bond_stats(u.h, 1).duplicates_sent == 110);
  }
}

TEST_CASE("bond: three members find the upstream black hole at interval x (T + 1) and fail over") {
  upstream u(3, 2);
  u.w.sim.run_until(20_s);
  CHECK(first_event(u.w, host_event::kind::beacon_state, 0,
                    static_cast<std::uint8_t>(beacon::member_state::failed)) == 9_s);
  const auto fo = u.w.events(host_event::kind::failover);
  REQUIRE(fo.size() == 1);
  CHECK(fo[0].at == 9_s);
  CHECK(u.w.hs.bond_policy(u.h, 1).active() == bond::member{1});  // lowest-numbered healthy
  CHECK(received_between(u.w, u.st, 5'500_ms, 9_s) == 0);
  CHECK(received_between(u.w, u.st, 9_s, 20_s) == 110);
  CHECK(u.w.nics.link_up(u.w.nic(u.h, 0)));  // the link never went down
}

TEST_CASE("bond: a switch that traps beacons causes a false failover, and duplicates at the receiver") {
  SUBCASE("three members: vmnic0 declared failed while its path works") {
    upstream u(3, 2, "keep", true);
    u.w.sim.run_until(10_s);
    // vmnic0 hears nothing from round 0 on: FAILED at 0 + 2 + 1 = 3 s.
    const auto fo = u.w.events(host_event::kind::failover);
    REQUIRE(fo.size() == 1);
    CHECK(fo[0].at == 3_s);
    CHECK(u.w.sws.counters(u.A).trapped > 0);
    // Nothing was lost: the old path worked all along (a false failover).
    CHECK(received_between(u.w, u.st, 0_s, 10_s) == 100);
  }
  SUBCASE("two members, send_all: the receiver gets every frame twice") {
    upstream u(2, 2, "send_all", true);
    u.w.sim.run_until(10_s);
    std::map<std::uint32_t, int> copies;
    for (const auto& r : u.w.station_rx) {
      if (r.at >= 3_s && to_station(r.bytes)) ++copies[seq_of(r.bytes)];
    }
    REQUIRE(copies.size() == 70);
    for (const auto& [seq, n] : copies) CHECK(n == 2);
    CHECK(received_between(u.w, u.st, 0_s, 3_s) == 30);
  }
}

TEST_CASE("bond: out-mac spreads many VMs evenly and keeps each VM on one NIC") {
  world w;
  const auto h = w.add_host("esx1", 4);
  const auto sw = w.add_switch(5);
  std::vector<dev::link_id> l;
  for (unsigned i = 0; i < 4; ++i) l.push_back(w.wire_vmnic(h, i, sw, static_cast<net::port_no>(i)));
  const auto st = w.station_on(sw, 4);
  const unsigned members[] = {0, 1, 2, 3};
  w.hs.add_bond(h, 1, members);
  w.hs.add_vswitch(h, "net", host::bond_binding{1});
  std::vector<host::vnic_id> vms;
  for (unsigned i = 1; i <= 32; ++i) vms.push_back(w.add_vm(h, fmt::format("vm{}", i), "net", vm_mac(i)));
  w.sim.run_until(1_ms);
  for (int round = 0; round < 3; ++round) {
    for (unsigned i = 0; i < vms.size(); ++i) w.vm_send(vms[i], world::frame(station_mac, vm_mac(i + 1)));
  }
  w.sim.run_until(10_ms);
  for (unsigned i = 0; i < 4; ++i) CHECK(w.nics.stats(w.nic(h, i)).ifOutUcastPkts == 24);  // 8 VMs x 3
  CHECK(w.station_count(st) == 96);
  CHECK(w.sws.counters(sw).mac_flaps == 0);  // each VM stays on one port
  // vmnic1 fails: its VMs spread over the three others.
  w.links.set_carrier(l[1], false);
  w.sim.run_until(11_ms);
  for (unsigned i = 0; i < vms.size(); ++i) w.vm_send(vms[i], world::frame(station_mac, vm_mac(i + 1)));
  w.sim.run_until(20_ms);
  std::vector<std::uint64_t> n;
  for (unsigned i = 0; i < 4; ++i) n.push_back(w.nics.stats(w.nic(h, i)).ifOutUcastPkts);
  CHECK(n[1] == 24);
  CHECK(n[0] + n[2] + n[3] == 72 + 32);
  for (unsigned i : {0u, 2u, 3u}) CHECK((n[i] - 24 >= 10 && n[i] - 24 <= 11));
}

TEST_CASE("bond: out-ip spreads flows by address pair; non-IP frames take a fixed-volume cycle") {
  world w;
  const auto h = w.add_host("esx1", 4);
  const auto sw = w.add_switch(5);
  for (unsigned i = 0; i < 4; ++i) w.wire_vmnic(h, i, sw, static_cast<net::port_no>(i));
  const auto st = w.station_on(sw, 4);
  const unsigned members[] = {0, 1, 2, 3};
  w.hs.add_bond(h, 1, members);
  w.hs.set_nicteam(h, "nicteam.bond1.load_balance_mode", "out-ip");
  w.hs.set_nicteam(h, "nicteam.bond1.out_ip_volume", "600");
  w.hs.add_vswitch(h, "net", host::bond_binding{1});
  const auto a = w.add_vm(h, "a", "net", vm_mac(1));
  w.sim.run_until(1_ms);
  for (std::uint32_t i = 1; i <= 64; ++i) {
    CHECK(w.vm_send(a, world::ip_frame(station_mac, vm_mac(1), 0x0a00'0101, 0x0a00'0000 + i)) ==
          tx_result::sent);
  }
  w.sim.run_until(5_ms);
  for (unsigned i = 0; i < 4; ++i) CHECK(w.nics.stats(w.nic(h, i)).ifOutUcastPkts == 16);
  // Non-IP: 600 bytes (ten 60-byte frames) per member, then the next, in member order.
  for (int i = 0; i < 10; ++i) w.vm_send(a, world::frame(station_mac, vm_mac(1)));
  w.sim.run_until(6_ms);
  CHECK(w.nics.stats(w.nic(h, 0)).ifOutUcastPkts == 26);
  CHECK(w.nics.stats(w.nic(h, 1)).ifOutUcastPkts == 16);
  for (int i = 0; i < 30; ++i) w.vm_send(a, world::frame(station_mac, vm_mac(1)));
  w.sim.run_until(7_ms);
  for (unsigned i = 0; i < 4; ++i) CHECK(w.nics.stats(w.nic(h, i)).ifOutUcastPkts == 26);
  CHECK(w.station_count(st) == 104);
  // Without EtherChannel the switch sees the VM's MAC on every port: MAC flaps [AG2].
  CHECK(w.sws.counters(sw).mac_flaps > 0);
}

TEST_CASE("bond: out-ip towards a static EtherChannel gives no MAC flap") {
  world w;
  const auto h = w.add_host("esx1", 2);
  const auto sw = w.add_switch(3);
  w.wire_vmnic(h, 0, sw, 0);
  w.wire_vmnic(h, 1, sw, 1);
  net::port_channel_config pc;
  pc.members = {0, 1};
  w.sws.add_port_channel(sw, pc);
  const auto st = w.station_on(sw, 2);
  const unsigned members[] = {0, 1};
  w.hs.add_bond(h, 1, members);
  w.hs.set_nicteam(h, "nicteam.bond1.load_balance_mode", "out-ip");
  w.hs.add_vswitch(h, "net", host::bond_binding{1});
  const auto a = w.add_vm(h, "a", "net", vm_mac(1));
  w.sim.run_until(1_ms);
  for (std::uint32_t i = 1; i <= 16; ++i)
    w.vm_send(a, world::ip_frame(station_mac, vm_mac(1), 0x0a00'0101, 0x0a00'0000 + i));
  w.sim.run_until(5_ms);
  CHECK(w.nics.stats(w.nic(h, 0)).ifOutUcastPkts == 8);
  CHECK(w.nics.stats(w.nic(h, 1)).ifOutUcastPkts == 8);
  CHECK(w.station_count(st) == 16);
  CHECK(w.sws.counters(sw).mac_flaps == 0);
}

namespace {

/// 802.1D switch: host ports 0 and 1 (edge = portfast or not), station on port 2 (edge).
/// Standby bond home vmnic0; vmnic0's cable cut at 40 s and restored at 50 s. Returns the
/// world after 100 s; the VM sends every 100 ms from 31.05 s.
struct stp_failback {
  world w;
  host::host_id h = 0;
  net::switch_id sw = 0;
  std::uint32_t st = 0;
  std::unique_ptr<sender> s;

  explicit stp_failback(bool portfast) {
    h = w.add_host("esx1", 2);
    net::switch_config c;
    c.stp = net::stp_mode::stp;
    c.stp_bridge.address = mac(0x0200'0000'0a00ULL);
    sw = w.add_switch(3, c);
    net::port_config hp;
    hp.edge = portfast;
    w.sws.configure_port(sw, 0, hp);
    w.sws.configure_port(sw, 1, hp);
    net::port_config edge;
    edge.edge = true;
    w.sws.configure_port(sw, 2, edge);
    const auto l0 = w.wire_vmnic(h, 0, sw, 0);
    w.wire_vmnic(h, 1, sw, 1);
    st = w.station_on(sw, 2);
    const unsigned members[] = {0, 1};
    w.hs.add_bond(h, 1, members);
    w.hs.set_nicteam(h, "nicteam.bond1.home_link", "vmnic0");
    w.hs.add_vswitch(h, "net", host::bond_binding{1});
    const auto a = w.add_vm(h, "a", "net", vm_mac(1));
    s = std::make_unique<sender>(&w, a, vm_mac(1), station_mac, 100_ms);
    s->start(31'050_ms);
    w.sim.schedule_at(40_s, [this, l0](kernel::simulator&) { w.links.set_carrier(l0, false); });
    w.sim.schedule_at(50_s, [this, l0](kernel::simulator&) { w.links.set_carrier(l0, true); });
    w.sim.run_until(100_s);
  }
};

}  // namespace

TEST_CASE("bond: failback onto an 802.1D port black-holes for 2 x forward delay; portfast removes the gap") {
  SUBCASE("802.1D: listening 15 s + learning 15 s while the host already sends there") {
    stp_failback t(false);
    const auto fb = t.w.events(host_event::kind::failback);
    REQUIRE(fb.size() == 1);
    CHECK(fb[0].at == 50_s);  // the host sees only the link
    CHECK(received_between(t.w, t.st, 40_s, 50_s) == 100);
    CHECK(received_between(t.w, t.st, 50_s, 80_s) == 0);
    CHECK(received_between(t.w, t.st, 80_s, 100_s) == 200);
    CHECK(t.w.sws.counters(t.sw, 0).in_discards >= 300);
  }
  SUBCASE("portfast: no gap") {
    stp_failback t(true);
    CHECK(t.w.events(host_event::kind::failback).size() == 1);
    CHECK(received_between(t.w, t.st, 50_s, 80_s) == 300);
  }
}

TEST_CASE("bond: a member without VLAN tagging makes the whole bond tag in software, at a counted cost") {
  world w;
  const auto h = w.hs.add_host("esx1");
  dev::nic_config full;
  full.mac = mac(0x0200'0000'0100ULL);
  dev::nic_config lacking = full;
  lacking.mac = mac(0x0200'0000'0101ULL);
  lacking.caps.vlan_insert = false;
  w.hs.add_vmnic(h, full);
  w.hs.add_vmnic(h, lacking);
  const auto s0 = w.station_at(h, 0);
  const auto s1 = w.station_at(h, 1);
  const unsigned members[] = {0, 1};
  w.hs.add_bond(h, 1, members);
  const auto vs = w.hs.add_vswitch(h, "net", host::bond_binding{1});
  w.hs.add_port_group(h, vs, "v10", 10);
  CHECK_FALSE(w.hs.bond_policy(h, 1).bond_capabilities().vlan);
  std::vector<host::vnic_id> v;
  for (unsigned i = 1; i <= 4; ++i) v.push_back(w.add_vm(h, fmt::format("vm{}", i), "v10", vm_mac(i)));
  w.sim.run_until(1_ms);
  for (unsigned i = 0; i < 4; ++i) w.vm_send(v[i], world::frame(station_mac, vm_mac(i + 1)));
  w.sim.run_until(2_ms);
  REQUIRE(w.station_count(s0) + w.station_count(s1) == 4);
  CHECK(w.station_count(s0) > 0);
  CHECK(w.station_count(s1) > 0);
  for (const auto& r : w.station_rx) {
    const auto src = wire::mac_address::read(std::as_bytes(std::span(r.bytes)), 6);
    CHECK(r.bytes == world::tagged(world::frame(station_mac, src), 10));
  }
  const auto& work = w.hs.bond_stats(h, 1).work;
  const auto vi = static_cast<std::size_t>(dev::nic_work::vlan_insert);
  CHECK(work.sw_ops[vi] == 4);
  CHECK(work.sw_cpu_ns == 4 * 50);  // nic_cost_model default: 50 ns per vlan_insert
  // The member that has the feature did none of it in hardware.
  CHECK(w.nics.work(w.nic(h, 0)).hw_ops[vi] == 0);
  CHECK(w.nics.work(w.nic(h, 1)).sw_ops[vi] == 0);
}

TEST_CASE("bond: with VLAN tagging on every member, the NIC inserts the tag in hardware") {
  world w;
  const auto h = w.add_host("esx1", 1);
  const auto s0 = w.station_at(h, 0);
  const unsigned members[] = {0};
  w.hs.add_bond(h, 1, members);
  const auto vs = w.hs.add_vswitch(h, "net", host::bond_binding{1});
  w.hs.add_port_group(h, vs, "v10", 10);
  const auto a = w.add_vm(h, "a", "v10", vm_mac(1));
  w.sim.run_until(1_ms);
  const auto f = world::frame(station_mac, vm_mac(1));
  w.vm_send(a, f);
  w.sim.run_until(2_ms);
  REQUIRE(w.station_count(s0) == 1);
  CHECK(w.station_rx[0].bytes == world::tagged(f, 10));
  const auto vi = static_cast<std::size_t>(dev::nic_work::vlan_insert);
  CHECK(w.nics.work(w.nic(h, 0)).hw_ops[vi] == 1);
  CHECK(w.hs.bond_stats(h, 1).work.sw_ops[vi] == 0);
}

TEST_CASE("bond: 1 to 10 adapters; binding changes refused while a running VM uses the switch") {
  world w;
  const auto h = w.add_host("esx1", 12);
  std::vector<unsigned> eleven{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  CHECK_THROWS_WITH_AS(w.hs.add_bond(h, 1, eleven), doctest::Contains("a bond binds 1 to 10 adapters"),
                       host::host_error);
  CHECK_THROWS_AS(w.hs.add_bond(h, 1, std::span<const unsigned>{}), host::host_error);
  eleven.pop_back();
  w.hs.add_bond(h, 1, eleven);
  CHECK(w.hs.bond_policy(h, 1).member_count() == 10);
  CHECK_THROWS_WITH_AS(w.hs.bond_add_member(h, 1, 10), doctest::Contains("at most 10 adapters"),
                       host::host_error);
  const unsigned two[] = {10, 0};
  CHECK_THROWS_WITH_AS(w.hs.add_bond(h, 2, two), doctest::Contains("vmnic0 is already bound to bond1"),
                       host::host_error);
  w.hs.add_vswitch(h, "net", host::bond_binding{1});
  const auto v = w.add_vm(h, "a", "net", vm_mac(1));
  (void)v;
  CHECK_THROWS_WITH_AS(
      w.hs.bond_remove_member(h, 1, 3),
      doctest::Contains("cannot detach vmnic3 while a running virtual machine uses the virtual "
                        "switch \"net\""),
      host::host_error);
  CHECK(w.hs.bond_policy(h, 1).member_count() == 10);  // nothing changed
  const auto vm = *w.hs.find_vm(h, "a");
  w.hs.set_vm_running(vm, false);
  w.hs.bond_remove_member(h, 1, 3);
  CHECK(w.hs.bond_policy(h, 1).member_count() == 9);
  CHECK_FALSE(w.hs.bond_policy(h, 1).find_vmnic(3));
  w.hs.bond_add_member(h, 1, 11);
  CHECK(w.hs.bond_policy(h, 1).find_vmnic(11));
  w.hs.set_vm_running(vm, true);
  CHECK_THROWS_WITH_AS(w.hs.bond_add_member(h, 1, 3), doctest::Contains("cannot bind vmnic3"),
                       host::host_error);
}

TEST_CASE("bond: configuration keys are validated with the key, the value and the rule") {
  world w;
  const auto h = w.add_host("esx1", 3);
  const unsigned members[] = {0, 1};
  w.hs.add_bond(h, 1, members);
  CHECK_THROWS_WITH_AS(
      w.hs.set_nicteam(h, "nicteam.bond1.switch_failover_threshold", "1"),
      doctest::Contains("nicteam.bond1.switch_failover_threshold = \"1\": 0 turns beacon monitoring "
                        "off, 2 or more turns it on"),
      host::host_error);
  CHECK_THROWS_WITH_AS(w.hs.set_advanced(h, "SwitchFailoverThreshold", "1"),
                       doctest::Contains("SwitchFailoverThreshold = \"1\""), host::host_error);
  CHECK_THROWS_AS(w.hs.set_nicteam(h, "nicteam.bond1.home_link", "vmnic2"),
                  host::host_error);  // not a member
  CHECK_THROWS_AS(w.hs.set_nicteam(h, "nicteam.bond1.home_link", "eth0"), host::host_error);
  CHECK_THROWS_AS(w.hs.set_nicteam(h, "nicteam.bond1.load_balance_mode", "round-robin"), host::host_error);
  CHECK_THROWS_AS(w.hs.set_nicteam(h, "nicteam.bond2.load_balance_mode", "out-ip"), host::host_error);
  CHECK_THROWS_AS(w.hs.set_nicteam(h, "nicteam.bond1.colour", "blue"), host::host_error);
  CHECK_THROWS_AS(w.hs.set_nicteam(h, "nicteam.bond1.notify_count", "9"), host::host_error);
  CHECK_THROWS_AS(w.hs.set_advanced(h, "SwitchFailoverBeaconEtherType", "0x8100"), host::host_error);
  CHECK_THROWS_AS(w.hs.set_advanced(h, "SwitchFailoverBeaconEtherType", "0x05ff"), host::host_error);
  CHECK_THROWS_AS(w.hs.set_advanced(h, "SwitchFailoverBeaconVlanID", "4095"), host::host_error);
  CHECK_THROWS_AS(w.hs.set_advanced(h, "SwitchFailoverBeaconInterval", "0"), host::host_error);
  CHECK_THROWS_AS(w.hs.set_advanced(h, "NoSuchSetting", "1"), host::host_error);
  w.hs.set_advanced(h, "SwitchFailoverBeaconEtherType", "0x8888");
  CHECK(w.hs.advanced(h).beacon_ether_type == 0x8888);
  w.hs.set_advanced(h, "SwitchFailoverBeaconInterval", "500ms");
  CHECK(w.hs.advanced(h).beacon_interval == 500_ms);
  w.hs.set_nicteam(h, "nicteam.bond1.updelay", "200");
  CHECK(w.hs.bond_config(h, 1).updelay == 200_ms);
  // Nothing changed by the refused calls.
  CHECK(w.hs.bond_config(h, 1).load_balance_mode == "out-mac");
  CHECK_FALSE(w.hs.bond_config(h, 1).home_link);
}

TEST_CASE(
    "bond: receive admission: accept_all (2.x) delivers a flooded broadcast once per member; active_only "
    "once") {
  for (const char* filter : {"accept_all", "active_only"}) {
    world w;
    const auto h = w.add_host("esx1", 2);
    const auto sw = w.add_switch(3);
    w.wire_vmnic(h, 0, sw, 0);
    w.wire_vmnic(h, 1, sw, 1);
    const auto st = w.station_on(sw, 2);
    const unsigned members[] = {0, 1};
    w.hs.add_bond(h, 1, members);
    w.hs.set_nicteam(h, "nicteam.bond1.home_link", "vmnic0");
    w.hs.set_nicteam(h, "nicteam.bond1.rx_filter", filter);
    const auto vs = w.hs.add_vswitch(h, "net", host::bond_binding{1});
    const auto a = w.add_vm(h, "a", "net", vm_mac(1));
    w.sim.run_until(1_ms);
    w.station_send(st, world::frame(wire::mac_address::broadcast(), station_mac));
    w.sim.run_until(2_ms);
    const bool all = std::string_view(filter) == "accept_all";
    CHECK(w.guest_count(a) == (all ? 2u : 1u));
    CHECK(w.hs.vswitch_stats(vs).dropped_not_admitted == (all ? 0u : 1u));
  }
}

TEST_CASE("bond: home_link overrides load_balance_mode") {
  world w;
  const auto h = w.add_host("esx1", 2);
  const unsigned members[] = {0, 1};
  w.hs.add_bond(h, 1, members);
  w.hs.set_nicteam(h, "nicteam.bond1.load_balance_mode", "out-ip");
  CHECK(w.hs.bond_policy(h, 1).current_mode() == bond::mode::out_ip);
  w.hs.set_nicteam(h, "nicteam.bond1.home_link", "vmnic1");
  CHECK(w.hs.bond_policy(h, 1).current_mode() == bond::mode::standby);
  w.hs.set_nicteam(h, "nicteam.bond1.home_link", "");
  CHECK(w.hs.bond_policy(h, 1).current_mode() == bond::mode::out_ip);
}

TEST_CASE("bond: a run is reproducible: the same events, frames and times twice") {
  auto run = [] {
    upstream u(3, 2, "keep", true);
    u.w.hs.set_nicteam(u.h, "nicteam.bond1.notify_switches", "yes");
    u.w.sim.run_until(12_s);
    std::vector<std::string> log;
    for (const auto& e : u.w.hs.events()) log.push_back(u.w.hs.to_string(e));
    for (const auto& r : u.w.station_rx) log.push_back(fmt::format("{} {} {}", r.at, r.who, r.bytes.size()));
    return log;
  };
  const auto a = run();
  const auto b = run();
  CHECK(a.size() > 100);
  CHECK(a == b);
}

TEST_CASE("bond: with beacons, n members survive n - 2 failures [VS65]") {
  world w;
  const auto h = w.add_host("esx1", 4);
  const auto sw = w.add_switch(5);
  std::vector<dev::link_id> l;
  for (unsigned i = 0; i < 4; ++i) l.push_back(w.wire_vmnic(h, i, sw, static_cast<net::port_no>(i)));
  const auto st = w.station_on(sw, 4);
  const unsigned members[] = {0, 1, 2, 3};
  w.hs.add_bond(h, 1, members);
  w.hs.set_advanced(h, "SwitchFailoverThreshold", "2");
  w.hs.add_vswitch(h, "net", host::bond_binding{1});
  std::vector<host::vnic_id> vms;
  for (unsigned i = 1; i <= 8; ++i) vms.push_back(w.add_vm(h, fmt::format("vm{}", i), "net", vm_mac(i)));
  w.sim.schedule_at(2'500_ms, [&](kernel::simulator&) {
    for (unsigned i : {0u, 1u}) {
      w.links.set_black_hole(l[i], dev::link_side::a, true);
      w.links.set_black_hole(l[i], dev::link_side::b, true);
    }
  });
  w.sim.run_until(10_s);
  const auto& p = w.hs.bond_policy(h, 1);
  CHECK(p.state(0) == bond::member_state::beacon_failed);
  CHECK(p.state(1) == bond::member_state::beacon_failed);
  CHECK(p.state(2) == bond::member_state::up);
  CHECK(p.state(3) == bond::member_state::up);
  CHECK(w.hs.bond_stats(h, 1).failovers == 2);
  const auto before = received_between(w, st, 0_s, 11_s);
  for (unsigned i = 0; i < vms.size(); ++i) w.vm_send(vms[i], world::frame(station_mac, vm_mac(i + 1)));
  w.sim.run_until(11_s);
  CHECK(received_between(w, st, 0_s, 11_s) - before == 8);  // every VM still gets out
}
