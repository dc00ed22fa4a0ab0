// Options beyond ESX 2.x (updelay/downdelay, failback off, notify-switches RARP), scheduled
// configuration changes, software checksums, the rx ring [LB][KB90045][VS65].
#include <algorithm>

#include <doctest/doctest.h>

#include "host_world.hpp"
#include "vnetsim/wire/ipv4.hpp"
#include "vnetsim/wire/tcp.hpp"

using namespace host_test;
using namespace vnetsim::literals;
using host::host_event;
using host::tx_result;

namespace {

/// Two vmnics wired to stations (exact bytes), standby bond1 with home vmnic0, one VM.
struct pair_world {
  world w;
  host::host_id h = 0;
  std::uint32_t s0 = 0, s1 = 0;
  host::vnic_id a = 0;

  pair_world() {
    h = w.add_host("esx1", 2);
    s0 = w.station_at(h, 0);
    s1 = w.station_at(h, 1);
    const unsigned members[] = {0, 1};
    w.hs.add_bond(h, 1, members);
    w.hs.set_nicteam(h, "nicteam.bond1.home_link", "vmnic0");
    w.hs.add_vswitch(h, "net", host::bond_binding{1});
    a = w.add_vm(h, "a", "net", vm_mac(1));
  }
  dev::link_id link(unsigned n) const { return w.stations[n].link; }
  void carrier_at(sim_time t, unsigned n, bool up) {
    w.sim.schedule_at(t, [this, n, up](kernel::simulator&) { w.links.set_carrier(link(n), up); });
  }
  std::vector<sim_time> times(host_event::kind k) const {
    std::vector<sim_time> r;
    for (const auto& e : w.events(k)) r.push_back(e.at);
    return r;
  }
};

}  // namespace

TEST_CASE("options: updelay holds a restored member back; skipped when no member is up") {
  pair_world p;
  p.w.hs.set_nicteam(p.h, "nicteam.bond1.updelay", "5000");
  p.carrier_at(1_s, 0, false);
  p.carrier_at(2_s, 0, true);
  p.w.sim.run_until(10_s);
  CHECK(p.times(host_event::kind::failover) == std::vector<sim_time>{1_s});
  CHECK(p.times(host_event::kind::failback) == std::vector<sim_time>{7_s});  // 2 s + updelay 5 s

  // Both down; the first to return is used at once (Linux skips updelay then [LB]).
  p.carrier_at(11_s, 0, false);
  p.carrier_at(12_s, 1, false);
  p.carrier_at(13_s, 1, true);
  p.w.sim.run_until(14_s);
  CHECK(p.w.hs.bond_policy(p.h, 1).active() == bond::member{1});
  const auto act = p.w.events(host_event::kind::active_changed);
  REQUIRE(!act.empty());
  CHECK(act.back().at == 13_s);
  CHECK(act.back().to_vmnic == 1u);
}

TEST_CASE("options: the host-wide Net.TeamPolicyUpDelay applies to bonds without their own updelay") {
  pair_world p;
  p.w.hs.set_advanced(p.h, "Net.TeamPolicyUpDelay", "2s");
  p.carrier_at(1_s, 0, false);
  p.carrier_at(2_s, 0, true);
  p.w.sim.run_until(10_s);
  CHECK(p.times(host_event::kind::failback) == std::vector<sim_time>{4_s});
  p.w.hs.set_nicteam(p.h, "nicteam.bond1.updelay", "0");  // the bond's own value wins
  p.carrier_at(11_s, 0, false);
  p.carrier_at(12_s, 0, true);
  p.w.sim.run_until(20_s);
  CHECK(p.times(host_event::kind::failback) == std::vector<sim_time>{4_s, 12_s});
}

TEST_CASE("options: downdelay delays the failover; frames meanwhile are lost and counted") {
  pair_world p;
  p.w.hs.set_nicteam(p.h, "nicteam.bond1.downdelay", "300ms");
  p.carrier_at(1_s, 0, false);
  p.w.sim.run_until(1'100_ms);
  CHECK(p.w.vm_send(p.a, world::frame(mac(0x0200'00ff'0001ULL), vm_mac(1))) == tx_result::dropped_nic);
  p.w.sim.run_until(2_s);
  CHECK(p.times(host_event::kind::failover) == std::vector<sim_time>{1'300_ms});
  CHECK(p.w.vm_send(p.a, world::frame(mac(0x0200'00ff'0001ULL), vm_mac(1))) == tx_result::sent);
}

TEST_CASE("options: failback off keeps traffic on the member that took over") {
  pair_world p;
  p.w.hs.set_nicteam(p.h, "nicteam.bond1.failback", "no");
  p.carrier_at(1_s, 0, false);
  p.carrier_at(2_s, 0, true);
  p.carrier_at(3_s, 1, false);
  p.w.sim.run_until(2'500_ms);
  CHECK(p.w.hs.bond_policy(p.h, 1).active() == bond::member{1});
  CHECK(p.w.events(host_event::kind::failback).empty());
  p.w.sim.run_until(4_s);
  CHECK(p.w.hs.bond_policy(p.h, 1).active() == bond::member{0});
  CHECK(p.times(host_event::kind::failover) == std::vector<sim_time>{1_s, 3_s});
  // With failback on (the default), the same sequence fails back at 2 s.
  pair_world q;
  q.carrier_at(1_s, 0, false);
  q.carrier_at(2_s, 0, true);
  q.w.sim.run_until(2'500_ms);
  CHECK(q.times(host_event::kind::failback) == std::vector<sim_time>{2_s});
}

namespace {

/// Four vmnics wired to stations (exact bytes and times), out-mac bond1, VMs a (vm_mac(2):
/// bucket 6^2 = 4, home member 0) and c (vm_mac(3): bucket 5, home member 1; while
/// member 1 is out, bucket 5 goes to healthy[(5 div 4) mod 3] of {0, 2, 3} = member 2).
struct quad_world {
  world w;
  host::host_id h = 0;
  std::vector<std::uint32_t> st;
  host::vnic_id a = 0, c = 0;

  explicit quad_world(bool failback) {
    h = w.add_host("esx1", 4);
    for (unsigned i = 0; i < 4; ++i) st.push_back(w.station_at(h, i));
    const unsigned members[] = {0, 1, 2, 3};
    w.hs.add_bond(h, 1, members);
    if (!failback) w.hs.set_nicteam(h, "nicteam.bond1.failback", "no");
    w.hs.add_vswitch(h, "net", host::bond_binding{1});
    a = w.add_vm(h, "a", "net", vm_mac(2));
    c = w.add_vm(h, "c", "net", vm_mac(3));
  }
  void carrier_at(sim_time t, unsigned n, bool up) {
    w.sim.schedule_at(t, [this, n, up](kernel::simulator&) { w.links.set_carrier(w.stations[n].link, up); });
  }
  void send_at(sim_time t, host::vnic_id v, std::uint64_t n) {
    w.sim.schedule_at(t, [this, v, n](kernel::simulator&) {
      CHECK(w.vm_send(v, world::frame(mac(0x0200'00ff'0001ULL), vm_mac(n))) == tx_result::sent);
    });
  }
  /// (arrival time, station) of every frame the stations received from VM MAC n.
  std::vector<std::pair<sim_time, std::uint32_t>> arrivals(std::uint64_t n) const {
    std::vector<std::pair<sim_time, std::uint32_t>> r;
    const auto o = vm_mac(n).octets();
    for (const auto& x : w.station_rx) {
      if (std::equal(o.begin(), o.end(), x.bytes.begin() + 6)) r.emplace_back(x.at, x.who);
    }
    return r;
  }
  std::vector<std::string> log(host_event::kind k) const {
    std::vector<std::string> r;
    for (const auto& e : w.events(k)) r.push_back(w.hs.to_string(e));
    return r;
  }
};

constexpr sim_time hop60 = sim_time::from_ns(hop60_ns);

}  // namespace

TEST_CASE("options: failback off in an out-mac bond holds the restored member inactive until it replaces one [VS65]") {
  quad_world q(false);
  q.carrier_at(1_s, 1, false);
  q.carrier_at(2_s, 1, true);
  q.send_at(1'500_ms, q.c, 3);  // vmnic1 down: bucket 5 on vmnic2
  q.send_at(3_s, q.c, 3);       // vmnic1 back but INACTIVE: still vmnic2
  q.send_at(3_s + 1_ms, q.a, 2);
  q.carrier_at(4_s, 3, false);  // an active member fails: vmnic1 replaces it
  q.send_at(5_s, q.c, 3);       // home again: vmnic1
  q.w.sim.run_until(6_s);
  using arrival = std::pair<sim_time, std::uint32_t>;
  CHECK(q.arrivals(3) == std::vector<arrival>{{1'500_ms + hop60, q.st[2]}, {3_s + hop60, q.st[2]},
                                              {5_s + hop60, q.st[1]}});
  CHECK(q.arrivals(2) == std::vector<arrival>{{3_s + 1_ms + hop60, q.st[0]}});
  CHECK(q.log(host_event::kind::member_state) ==
        std::vector<std::string>{"1s esx1 bond1 vmnic1: UP=>LINK_DOWN", "2s esx1 bond1 vmnic1: LINK_DOWN=>INACTIVE",
                                 "4s esx1 bond1 vmnic1: INACTIVE=>UP", "4s esx1 bond1 vmnic3: UP=>LINK_DOWN"});
  CHECK(q.log(host_event::kind::failover) ==
        std::vector<std::string>{"1s esx1 bond1: failover from vmnic1", "4s esx1 bond1: failover from vmnic3"});
  CHECK(q.log(host_event::kind::failback) == std::vector<std::string>{"4s esx1 bond1: failback to vmnic1"});
  CHECK(q.w.hs.bond_stats(q.h, 1).failbacks == 1);
  CHECK(q.w.hs.bond_policy(q.h, 1).state(1) == bond::member_state::up);
  CHECK(q.w.hs.bond_policy(q.h, 1).state(3) == bond::member_state::link_down);

  // The same sequence with failback on (the ESX 2.x behaviour [AG2]): back on vmnic1 at 2 s.
  quad_world on(true);
  on.carrier_at(1_s, 1, false);
  on.carrier_at(2_s, 1, true);
  on.send_at(3_s, on.c, 3);
  on.w.sim.run_until(4_s);
  CHECK(on.arrivals(3) == std::vector<arrival>{{3_s + hop60, on.st[1]}});
  CHECK(on.log(host_event::kind::failback) == std::vector<std::string>{"2s esx1 bond1: failback to vmnic1"});
}

TEST_CASE("options: failback off survives other configuration changes; failback yes releases the inactive member") {
  quad_world q(false);
  q.carrier_at(1_s, 1, false);
  q.carrier_at(2_s, 1, true);
  q.w.sim.schedule_at(2'500_ms, [&](kernel::simulator&) {
    q.w.hs.set_nicteam(q.h, "nicteam.bond1.notify_count", "3");  // rebuilds the policy
    q.w.hs.set_advanced(q.h, "SwitchFailoverBeaconInterval", "2");  // rebuilds policy and monitor
  });
  q.send_at(2'600_ms, q.c, 3);
  q.w.sim.schedule_at(3_s, [&](kernel::simulator&) { q.w.hs.set_nicteam(q.h, "nicteam.bond1.failback", "yes"); });
  q.send_at(3'100_ms, q.c, 3);
  q.w.sim.run_until(4_s);
  using arrival = std::pair<sim_time, std::uint32_t>;
  CHECK(q.arrivals(3) == std::vector<arrival>{{2'600_ms + hop60, q.st[2]}, {3'100_ms + hop60, q.st[1]}});
  const auto states = q.log(host_event::kind::member_state);
  REQUIRE(!states.empty());
  CHECK(states.back() == "3s esx1 bond1 vmnic1: INACTIVE=>UP");
  CHECK(q.w.hs.bond_policy(q.h, 1).state(1) == bond::member_state::up);
}

TEST_CASE("options: notify switches sends 5 RARP frames per VM from the new member after failover") {
  pair_world p;
  p.w.hs.set_nicteam(p.h, "nicteam.bond1.notify_switches", "yes");
  const auto b = p.w.add_vm(p.h, "b", "net", vm_mac(2));
  (void)b;
  p.carrier_at(1_s, 0, false);
  p.w.sim.run_until(3_s);
  std::vector<world::rx> rarps;
  for (const auto& r : p.w.station_rx) {
    if (r.who == p.s1 && r.bytes[12] == 0x80 && r.bytes[13] == 0x35) rarps.push_back(r);
  }
  REQUIRE(rarps.size() == 10);  // 5 per VM [KB90045]
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(rarps[2 * i].at ==
          1_s + sim_time::from_ms(100) * static_cast<std::int64_t>(i) + sim_time::from_ns(hop60_ns));
  }
  // The exact bytes for VM a: broadcast, from its MAC, 0x8035, RFC 903 reverse request
  // "who is 00:50:56:00:00:01 tell 00:50:56:00:00:01", padded to 60 bytes.
  const bytes_t expect{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x50, 0x56, 0x00, 0x00, 0x01,
                       0x80, 0x35, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x03, 0x00, 0x50,
                       0x56, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x50, 0x56, 0x00,
                       0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0,    0,    0,    0,    0,    0,
                       0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0};
  CHECK(rarps[0].bytes == expect);
  CHECK(p.w.hs.bond_stats(p.h, 1).rarp_sent == 10);
  CHECK(p.w.events(host_event::kind::notify).size() == 2);
  // None on the failed member; none without the option.
  pair_world q;
  q.carrier_at(1_s, 0, false);
  q.w.sim.run_until(3_s);
  CHECK(q.w.hs.bond_stats(q.h, 1).rarp_sent == 0);
}

TEST_CASE("options: a scheduled home_link change moves the traffic at that simulated time") {
  pair_world p;
  p.w.sim.schedule_at(
      5_s, [&](kernel::simulator&) { p.w.hs.set_nicteam(p.h, "nicteam.bond1.home_link", "vmnic1"); });
  p.w.sim.run_until(4_s);
  const auto f = world::frame(mac(0x0200'00ff'0001ULL), vm_mac(1));
  p.w.vm_send(p.a, f);
  p.w.sim.run_until(6_s);
  p.w.vm_send(p.a, f);
  p.w.sim.run_until(7_s);
  CHECK(p.w.station_count(p.s0) == 1);
  CHECK(p.w.station_count(p.s1) == 1);
  const auto act = p.w.events(host_event::kind::active_changed);
  REQUIRE(act.size() == 1);
  CHECK(act[0].at == 5_s);
  CHECK(p.w.hs.to_string(act[0]) == "5s esx1 bond1: active vmnic0->vmnic1 (configuration)");
  const auto cfg = p.w.events(host_event::kind::config);
  CHECK(p.w.hs.to_string(cfg.back()) == "5s esx1 bond1: config nicteam.bond1.home_link = \"vmnic1\"");
  // A scheduled threshold change starts beacons at that time.
  p.w.sim.schedule_at(8_s, [&](kernel::simulator&) {
    p.w.hs.set_nicteam(p.h, "nicteam.bond1.switch_failover_threshold", "2");
  });
  p.w.sim.run_until(8_s);
  CHECK(p.w.hs.beacon_monitor(p.h, 1) != nullptr);
  CHECK(p.w.hs.bond_stats(p.h, 1).beacons_tx == 2);  // round 0, both members, at 8 s
}

TEST_CASE("options: a bond without checksum offload fills checksums in software") {
  world w;
  const auto h = w.hs.add_host("esx1");
  dev::nic_config c;
  c.mac = mac(0x0200'0000'0100ULL);
  c.caps.tx_checksum = false;
  w.hs.add_vmnic(h, c);
  const auto st = w.station_at(h, 0);
  const unsigned members[] = {0};
  w.hs.add_bond(h, 1, members);
  w.hs.add_vswitch(h, "net", host::bond_binding{1});
  const auto a = w.add_vm(h, "a", "net", vm_mac(1));
  w.sim.run_until(1_ms);
  auto b = world::ip_frame(mac(0x0200'00ff'0001ULL), vm_mac(1), 0x0a00'0001, 0x0a00'0002);
  b[22] = 64;    // TTL
  b[23] = 0xfd;  // a protocol with no L4 checksum
  auto f = w.make(b);
  f.meta().csum = dev::csum_offload::ipv4_header;
  CHECK(w.hs.vnic_transmit(a, std::move(f)) == tx_result::sent);
  w.sim.run_until(2_ms);
  REQUIRE(w.station_count(st) == 1);
  const wire::ipv4_packet_const ip{std::as_bytes(std::span(w.station_rx[0].bytes)).subspan(14)};
  CHECK(ip.verify_checksum());
  const auto ci = static_cast<std::size_t>(dev::nic_work::tx_checksum);
  CHECK(w.hs.bond_stats(h, 1).work.sw_ops[ci] == 1);
  CHECK(w.hs.bond_stats(h, 1).work.sw_bytes[ci] == 20);
  CHECK(w.nics.work(w.nic(h, 0)).sw_ops[ci] == 0);
}

TEST_CASE("options: a full rx ring drops and counts; take_delivery is FIFO") {
  world w;
  const auto h = w.add_host("esx1", 1);
  w.hs.add_vswitch(h, "net", std::monostate{});
  const auto a = w.add_vm(h, "a", "net", vm_mac(1));
  const auto vm = w.hs.add_vm(h, "b");
  host::vnic_config c;
  c.mac = vm_mac(2);
  c.network = "net";
  c.rx_ring = 2;
  c.delivery.kind = 0;  // no guest handler: frames counted, not stored
  const auto nb = w.hs.add_vnic(vm, c);
  c.mac = vm_mac(3);
  c.delivery.kind = w.guest_kind;
  c.delivery.target = 0;
  const auto vm2 = w.hs.add_vm(h, "c");
  const auto nc = w.hs.add_vnic(vm2, c);
  for (std::uint8_t i = 0; i < 3; ++i) {
    auto f = world::frame(vm_mac(3), vm_mac(1));
    f[20] = i;
    w.vm_send(a, f);
  }
  CHECK(w.hs.pending_deliveries(nc) == 2);
  CHECK(w.hs.vnic_stats(nc).rx_ring_full == 1);
  const auto f0 = w.hs.take_delivery(nc);
  REQUIRE(f0);
  CHECK(std::to_integer<int>(f0.cdata()[20]) == 0);
  w.vm_send(a, world::frame(vm_mac(2), vm_mac(1)));
  CHECK(w.hs.vnic_stats(nb).rx_delivered == 1);
  CHECK(w.hs.pending_deliveries(nb) == 0);
}

TEST_CASE("options: a bond without TSO segments super-frames in software; no member does it in hardware") {
  world w;
  const auto h = w.hs.add_host("esx1");
  dev::nic_config full;
  full.mac = mac(0x0200'0000'0100ULL);
  dev::nic_config no_tso = full;
  no_tso.mac = mac(0x0200'0000'0101ULL);
  no_tso.caps.tso = false;
  w.hs.add_vmnic(h, full);
  w.hs.add_vmnic(h, no_tso);
  const auto s0 = w.station_at(h, 0);
  w.station_at(h, 1);
  const unsigned members[] = {0, 1};
  w.hs.add_bond(h, 1, members);
  w.hs.set_nicteam(h, "nicteam.bond1.home_link", "vmnic0");  // the member WITH TSO carries it
  w.hs.add_vswitch(h, "net", host::bond_binding{1});
  const auto a = w.add_vm(h, "a", "net", vm_mac(1));
  w.sim.run_until(1_ms);
  // 14 + 20 + 20 + 2500 bytes of payload, MSS 1000 -> 3 segments.
  const std::size_t pay = 2500;
  bytes_t b = world::frame(mac(0x0200'00ff'0001ULL), vm_mac(1), 0x0800, 14 + 40 + pay);
  const bytes_t hdr{0x45,
                    0,
                    static_cast<std::uint8_t>((40 + pay) >> 8),
                    static_cast<std::uint8_t>((40 + pay) & 0xff),
                    0x12,
                    0x34,
                    0x40,
                    0,
                    64,
                    6,
                    0,
                    0,
                    10,
                    0,
                    0,
                    1,
                    10,
                    0,
                    0,
                    2,
                    0x04,
                    0x00,
                    0x00,
                    0x50,
                    0,
                    0,
                    0x10,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0x50,
                    0x18,
                    0xff,
                    0xff,
                    0,
                    0,
                    0,
                    0};
  std::copy(hdr.begin(), hdr.end(), b.begin() + 14);
  auto f = w.make(b);
  f.meta().tso_mss = 1000;
  CHECK(w.hs.vnic_transmit(a, std::move(f)) == tx_result::sent);
  w.sim.run_until(2_ms);
  REQUIRE(w.station_count(s0) == 3);
  const std::size_t sizes[] = {14 + 40 + 1000, 14 + 40 + 1000, 14 + 40 + 500};
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& r = w.station_rx[i].bytes;
    CHECK(r.size() == sizes[i]);
    const wire::ipv4_packet_const ip{std::as_bytes(std::span(r)).subspan(14)};
    CHECK(ip.verify_checksum());
    CHECK(ip.ident() == 0x1234 + i);
    const wire::tcp_packet_const tcp{ip.payload()};
    CHECK(tcp.seq_number() == 0x1000 + 1000 * i);
    CHECK(tcp.verify_checksum(ip.src_addr(), ip.dst_addr()));
    CHECK(wire::has(tcp.flags(), wire::tcp_flags::psh) == (i == 2));
  }
  const auto si = static_cast<std::size_t>(dev::nic_work::segmentation);
  CHECK(w.hs.bond_stats(h, 1).work.sw_ops[si] == 1);
  CHECK(w.hs.bond_stats(h, 1).work.sw_bytes[si] == pay + 3 * 54);
  CHECK(w.nics.work(w.nic(h, 0)).hw_ops[si] == 0);
}

TEST_CASE("options: beacons carry SwitchFailoverBeaconVlanID and SwitchFailoverBeaconEtherType on the wire") {
  world w;
  const auto h = w.add_host("esx1", 2);
  const auto s0 = w.station_at(h, 0);
  w.station_at(h, 1);
  const unsigned members[] = {0, 1};
  w.hs.add_bond(h, 3, members);
  w.hs.set_advanced(h, "SwitchFailoverBeaconVlanID", "5");
  w.hs.set_advanced(h, "SwitchFailoverBeaconEtherType", "0x8888");
  w.hs.set_advanced(h, "SwitchFailoverThreshold", "2");
  w.hs.add_vswitch(h, "net", host::bond_binding{3});
  w.sim.run_until(1_ms);
  REQUIRE(w.station_count(s0) == 1);
  const auto& r = w.station_rx[0].bytes;
  REQUIRE(r.size() == 64);
  const bytes_t head{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x81, 0x00,
                     0x00, 0x05, 0x88, 0x88, 'V',  'N',  'S',  'B',  1,    0,    0x00, 0x03, 0x00, 0x00};
  CHECK(bytes_t(r.begin(), r.begin() + 28) == head);
  CHECK(w.station_rx[0].at == sim_time::from_ns(hop64_ns));
  // Tagged by the NICs in hardware (the bond has VLAN tagging).
  CHECK(w.nics.work(w.nic(h, 0)).hw_ops[static_cast<std::size_t>(dev::nic_work::vlan_insert)] == 1);
}
