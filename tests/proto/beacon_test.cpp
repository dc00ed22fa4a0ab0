// Beacon monitor (ESX 2.x beacon probing [AG2][SEED], "shotgun" ambiguity [VS65]) with no
// kernel: a harness of N members where every beacon sent is delivered, as real bytes, to
// every other member unless a scripted fault drops it; run by calling on_timer at
// next_deadline().
#include "vnetsim/proto/beacon.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "vnetsim/proto/bond_policy.hpp"

using namespace vnetsim;
using namespace vnetsim::literals;
using beacon::member;
using beacon::member_state;

namespace {

wire::mac_address nic_mac(unsigned i) { return wire::mac_address::from_u64(0x0002'b3aa'0000ULL + i); }

beacon::config make_config(unsigned n, unsigned threshold,
                           beacon::threshold_rule rule = beacon::threshold_rule::exceeds) {
  beacon::config c;
  for (unsigned i = 0; i < n; ++i) c.members.push_back(nic_mac(i));
  c.bond_id = 1;
  c.switch_failover_threshold = threshold;
  c.rule = rule;
  return c;
}

/// N members on a broadcast domain with scripted faults. Beacons sent during a call are
/// emitted to bytes, then parsed and delivered after the call returns.
struct harness : beacon::sink {
  explicit harness(beacon::config c) : mon(std::move(c)) {}

  beacon::monitor mon;
  sim_time now{};
  std::vector<std::pair<member, std::vector<std::byte>>> in_flight;
  std::set<std::pair<member, member>> dropped_paths;  // (from, to)
  std::set<member> isolated;                          // every beacon from or to it is lost
  std::set<member> trapping;  // the member's switch port traps trap_type frames both ways
  std::uint16_t trap_type = wire::beacon_default_ether_type;
  std::vector<std::string> events;
  std::vector<std::string> lines;
  std::vector<wire::beacon_frame_repr> sent;

  void transmit(sim_time t, member m, const wire::beacon_frame_repr& f) override {
    CHECK(t == now);
    sent.push_back(f);
    std::vector<std::byte> bytes(f.buffer_len());
    f.emit(bytes);
    in_flight.emplace_back(m, std::move(bytes));
  }
  void state_changed(sim_time t, member m, member_state from, member_state to) override {
    events.push_back(fmt::format("{} member {} {}=>{}", t, m, beacon::to_string(from),
                                 beacon::to_string(to)));
  }
  void log(sim_time t, std::string_view line) override {
    lines.push_back(fmt::format("{} {}", t, line));
  }

  bool lost(member from, member to, std::uint16_t type) const {
    if (dropped_paths.count({from, to}) || isolated.count(from) || isolated.count(to)) {
      return true;
    }
    return type == trap_type && (trapping.count(from) || trapping.count(to));
  }
  void deliver() {
    auto batch = std::move(in_flight);
    in_flight.clear();
    const auto type = mon.configuration().ether_type;
    for (const auto& [from, bytes] : batch) {
      const auto parsed = wire::beacon_frame_repr::parse(bytes, type);
      REQUIRE(parsed);
      CHECK(parsed->src == mon.configuration().members[from]);
      for (member to = 0; to < mon.member_count(); ++to) {
        if (to == from || lost(from, to, parsed->ether_type)) continue;
        mon.on_beacon(to, parsed->beacon, now, *this);
      }
    }
  }
  void start(sim_time t) {
    now = t;
    mon.start(t, *this);
    deliver();
  }
  void run_until(sim_time end) {
    while (auto d = mon.next_deadline()) {
      if (*d > end) break;
      now = *d;
      mon.on_timer(now, *this);
      deliver();
    }
    now = end;
  }
  /// The verdict table as "ok,ok,failed".
  std::string verdicts() const {
    std::string out;
    for (auto v : mon.verdicts()) {
      if (!out.empty()) out += ',';
      out += bond::to_string(v);
    }
    return out;
  }
};

}  // namespace

TEST_CASE("all paths fine: no false failure") {
  harness h(make_config(3, 2));
  h.start(0_s);
  h.run_until(100_s);
  CHECK(h.events.empty());
  for (member m = 0; m < 3; ++m) {
    CHECK(h.mon.state(m) == member_state::ok);
    CHECK(h.mon.counters(m).beacons_tx == 101);  // rounds at 0, 1, ..., 100 s
    CHECK(h.mon.counters(m).beacons_rx == 2 * 101);
    CHECK(h.mon.counters(m).missed_rounds == 0);
  }
  CHECK(h.verdicts() == "ok,ok,ok");
}

TEST_CASE("beacon frames: broadcast from the member's MAC, VLAN, EtherType, sequence") {
  auto c = make_config(2, 2);
  c.vlan_id = 42;
  c.ether_type = 0x9000;
  c.bond_id = 7;
  harness h(c);
  h.start(3_s);
  CHECK(h.mon.next_deadline() == 4_s);
  h.run_until(4_s);
  REQUIRE(h.sent.size() == 4);
  CHECK(h.sent[0].src == nic_mac(0));
  CHECK(h.sent[1].src == nic_mac(1));
  REQUIRE(h.sent[0].tag);
  CHECK(h.sent[0].tag->vid == 42);
  CHECK(h.sent[0].ether_type == 0x9000);
  CHECK(h.sent[1].beacon.member_index == 1);
  CHECK(h.sent[1].beacon.bond_id == 7);
  CHECK(h.sent[1].beacon.sender_mac == nic_mac(1));
  CHECK(h.sent[0].beacon.sequence == 0);
  CHECK(h.sent[2].beacon.sequence == 1);
  CHECK(h.mon.counters(0).beacons_rx == 2);

  SUBCASE("a member with link down sends nothing") {
    h.mon.set_link(1, false);
    h.run_until(5_s);
    REQUIRE(h.sent.size() == 5);
    CHECK(h.sent[4].src == nic_mac(0));
  }
}

TEST_CASE("one isolated member is failed after interval x (threshold+1) with \"exceeds\"") {
  for (unsigned t : {2u, 3u, 5u}) {
    for (sim_time interval : {1_s, 250_ms}) {
      CAPTURE(t);
      CAPTURE(interval);
      auto c = make_config(3, t);
      c.interval = interval;
      harness h(c);
      h.start(0_s);
      h.run_until(interval);
      h.isolated = {2};  // from the round at 2 x interval on
      const sim_time expected = 2 * interval + interval * (t + 1);
      h.run_until(expected - 1_ns);
      CHECK(h.mon.state(2) == member_state::ok);
      CHECK(h.mon.missed(2) == t);
      h.run_until(expected);
      CHECK(h.mon.state(2) == member_state::failed);
      CHECK(h.events == std::vector<std::string>{fmt::format("{} member 2 OK=>FAILED", expected)});
      CHECK(h.verdicts() == "ok,ok,failed");
      CHECK(h.mon.counters(2).failures == 1);
    }
  }
}

TEST_CASE("with \"reaches\" the failure comes after interval x threshold [SEED]") {
  harness h(make_config(3, 3, beacon::threshold_rule::reaches));
  h.start(0_s);
  h.run_until(1_s);
  h.isolated = {1};  // first lost beacon: the round at 2 s
  h.run_until(5_s - 1_ns);
  CHECK(h.mon.state(1) == member_state::ok);
  h.run_until(5_s);
  CHECK(h.events == std::vector<std::string>{"5s member 1 OK=>FAILED"});
  CHECK(h.lines == std::vector<std::string>{"5s member 1: OK=>FAILED"});
}

TEST_CASE("recovery: the member is ok again at the first beacon that gets through") {
  harness h(make_config(3, 2));
  h.start(0_s);
  h.isolated = {0};
  h.run_until(10_s);
  CHECK(h.mon.state(0) == member_state::failed);
  h.isolated.clear();
  h.run_until(10_s + 500_ms);
  CHECK(h.mon.state(0) == member_state::failed);
  h.run_until(11_s);
  CHECK(h.mon.state(0) == member_state::ok);
  CHECK(h.mon.missed(0) == 0);
  // The round at 0 s got through; rounds 1, 2, 3 s are missed, counted at 2, 3, 4 s.
  CHECK(h.events == std::vector<std::string>{"4s member 0 OK=>FAILED", "11s member 0 FAILED=>OK"});
  CHECK(h.verdicts() == "ok,ok,ok");
}

TEST_CASE("threshold 0 (the default [AG2]) sends no beacon at all") {
  SUBCASE("host-wide default") {
    auto c = make_config(3, 0);
    c.switch_failover_threshold.reset();
    harness h(c);
    CHECK(h.mon.threshold() == 0);
    CHECK_FALSE(h.mon.enabled());
    h.start(0_s);
    CHECK_FALSE(h.mon.next_deadline());
    h.run_until(60_s);
    CHECK(h.sent.empty());
    CHECK(h.verdicts() == "ok,ok,ok");
  }
  SUBCASE("per-bond 0 overrides a host-wide threshold") {
    auto c = make_config(3, 0);
    c.host_threshold = 4;
    harness h(c);
    h.start(0_s);
    CHECK(h.sent.empty());
  }
  SUBCASE("per-bond threshold turns it on over a host-wide 0") {
    auto c = make_config(3, 3);
    c.host_threshold = 0;
    harness h(c);
    CHECK(h.mon.threshold() == 3);
    h.start(0_s);
    CHECK(h.sent.size() == 3);
  }
  SUBCASE("a single-member bond has nobody to hear") {
    harness h(make_config(1, 2));
    h.start(0_s);
    CHECK(h.sent.empty());
    CHECK_FALSE(h.mon.next_deadline());
  }
}

TEST_CASE("two members, one broken path: ambiguous on both, never failed [VS65]") {
  harness h(make_config(2, 2));
  h.start(0_s);
  h.dropped_paths = {{0, 1}, {1, 0}};
  h.run_until(3_s);
  CHECK(h.verdicts() == "ok,ok");
  h.run_until(4_s);  // lost from the round at 1 s: counted at 2, 3, 4 s
  CHECK(h.events == std::vector<std::string>{"4s member 0 OK=>AMBIGUOUS", "4s member 1 OK=>AMBIGUOUS"});
  CHECK(h.verdicts() == "suspect,suspect");
  h.run_until(30_s);
  CHECK(h.mon.counters(0).failures == 0);

  SUBCASE("the bond policy keeps both members and the host may shotgun") {
    bond::config bc;
    bc.members = {{0, {}, true}, {1, {}, true}};
    bond::policy p(bc);
    struct : bond::sink {} quiet;
    p.apply_probes(h.mon.verdicts(), h.now, quiet);
    CHECK(p.state(0) == bond::member_state::suspect);
    CHECK(p.state(1) == bond::member_state::suspect);
    CHECK(p.stats().bucket_moves == 0);
  }
  SUBCASE("the path returns") {
    h.dropped_paths.clear();
    h.run_until(31_s);
    CHECK(h.verdicts() == "ok,ok");
  }
}

TEST_CASE("n members survive n-2 failures; a one-way path is still evidence") {
  SUBCASE("four members, two isolated") {
    harness h(make_config(4, 2));
    h.start(0_s);
    h.isolated = {1, 3};
    h.run_until(4_s);
    CHECK(h.verdicts() == "ok,failed,ok,failed");
  }
  SUBCASE("three members, one broken pair: the third hears both, nobody fails") {
    harness h(make_config(3, 2));
    h.start(0_s);
    h.dropped_paths = {{0, 1}, {1, 0}};
    h.run_until(20_s);
    CHECK(h.events.empty());
  }
  SUBCASE("a member that hears nobody but is heard is ok") {
    harness h(make_config(3, 2));
    h.start(0_s);
    h.dropped_paths = {{0, 2}, {1, 2}};
    h.run_until(20_s);
    CHECK(h.events.empty());
  }
  SUBCASE("three members all partitioned: ambiguous; one pair recovers: the third fails") {
    harness h(make_config(3, 2));
    h.start(0_s);
    h.isolated = {0, 1, 2};
    h.run_until(4_s);
    CHECK(h.verdicts() == "suspect,suspect,suspect");
    h.isolated = {2};
    h.run_until(5_s);
    CHECK(h.verdicts() == "ok,ok,failed");
  }
}

TEST_CASE("trapped beacons: a switch that swallows beacons causes a false failure [AG2]") {
  // vmnic0 and vmnic1 on one switch, vmnic2 on a second switch whose port traps the beacon
  // EtherType. Data would still flow through vmnic2: only beacons are lost.
  harness h(make_config(3, 2));
  h.trapping = {2};
  h.start(0_s);
  h.run_until(3_s);
  CHECK(h.events == std::vector<std::string>{"3s member 2 OK=>FAILED"});

  // The bond fails vmnic2 over although its link works: the false failover whose
  // duplicates the docs warn about.
  bond::config bc;
  bc.members = {{0, {}, true}, {1, {}, true}, {2, {}, true}};
  bc.home_link = 2;
  bond::policy p(bc);
  struct : bond::sink {} quiet;
  p.apply_probes(h.mon.verdicts(), h.now, quiet);
  CHECK(p.active() == bond::member{0});
  CHECK(p.status(2).link_up);
  // Frames that still arrive on vmnic2 are accepted (and counted), as on the real host.
  CHECK(p.admit(2, false) == bond::rx_verdict::accept);
  CHECK(p.stats().rx_inactive == 1);

  SUBCASE("choosing another SwitchFailoverBeaconEtherType avoids the trap [AG2]") {
    auto c = make_config(3, 2);
    c.ether_type = 0x9000;
    harness g(c);
    g.trapping = {2};
    g.start(0_s);
    g.run_until(30_s);
    CHECK(g.events.empty());
  }
}

TEST_CASE("received beacons that prove nothing are ignored") {
  harness h(make_config(3, 2));
  h.start(0_s);
  h.isolated = {0, 1, 2};
  h.run_until(3_s + 500_ms);
  REQUIRE(h.mon.missed(1) == 2);
  wire::beacon_repr b;
  b.bond_id = 1;
  b.member_index = 1;
  b.sender_mac = nic_mac(1);
  SUBCASE("control: a valid beacon from member 1 on member 0 is evidence for both") {
    h.mon.on_beacon(0, b, h.now, h);
    h.run_until(4_s);
    CHECK(h.verdicts() == "ok,ok,failed");
    return;
  }
  SUBCASE("own beacon looped back") { h.mon.on_beacon(1, b, h.now, h); }
  SUBCASE("another bond") {
    b.bond_id = 2;
    h.mon.on_beacon(0, b, h.now, h);
  }
  SUBCASE("MAC does not match the index") {
    b.sender_mac = nic_mac(2);
    h.mon.on_beacon(0, b, h.now, h);
  }
  SUBCASE("index out of range") {
    b.member_index = 9;
    h.mon.on_beacon(0, b, h.now, h);
  }
  std::uint64_t ignored = 0;
  for (member m = 0; m < 3; ++m) ignored += h.mon.counters(m).rx_ignored;
  CHECK(ignored == 1);
  h.run_until(4_s);
  CHECK(h.verdicts() == "suspect,suspect,suspect");
}

TEST_CASE("config errors name the parameter, the value and the rule") {
  auto expect = [](const beacon::config& c, const char* param, const char* value,
                   const char* message) {
    try {
      beacon::monitor m(c);
      FAIL("accepted");
    } catch (const beacon::config_error& e) {
      CHECK(e.parameter() == param);
      CHECK(e.value() == value);
      CHECK(std::string(e.what()) == message);
    }
  };
  expect(make_config(2, 1), "switch_failover_threshold", "1",
         "beacon: switch_failover_threshold = 1: 0 turns beacon monitoring off and 2 or more "
         "turns it on; 1 is not described [AG2], so vnetsim rejects it");
  auto host = make_config(2, 0);
  host.switch_failover_threshold.reset();
  host.host_threshold = 1;
  expect(host, "SwitchFailoverThreshold", "1",
         "beacon: SwitchFailoverThreshold = 1: 0 turns beacon monitoring off and 2 or more "
         "turns it on; 1 is not described [AG2], so vnetsim rejects it");
  expect(make_config(11, 2), "members", "11", "beacon: members = 11: at most 10 adapters per bond [AG2]");
  expect(make_config(0, 2), "members", "0", "beacon: members = 0: a bond needs at least one adapter");
  auto dup = make_config(2, 2);
  dup.members[1] = dup.members[0];
  expect(dup, "members[1]", "00:02:b3:aa:00:00",
         "beacon: members[1] = 00:02:b3:aa:00:00: members[0] has the same MAC; beacons could "
         "not tell the senders apart");
  auto vlan = make_config(2, 2);
  vlan.vlan_id = 4095;
  expect(vlan, "SwitchFailoverBeaconVlanID", "4095",
         "beacon: SwitchFailoverBeaconVlanID = 4095: must be 1..4094 (802.1Q-2018 Table 9-2); "
         "leave it unset for untagged beacons");
  auto iv = make_config(2, 2);
  iv.interval = sim_time::zero();
  expect(iv, "SwitchFailoverBeaconInterval", "0s",
         "beacon: SwitchFailoverBeaconInterval = 0s: must be greater than 0");
  auto et = make_config(2, 2);
  et.ether_type = 0x8100;
  expect(et, "SwitchFailoverBeaconEtherType", "0x8100",
         "beacon: SwitchFailoverBeaconEtherType = 0x8100: must be an EtherType (0x0600 or more, "
         "IEEE 802.3-2018 3.2.6) and not a VLAN TPID");
  CHECK_NOTHROW(beacon::monitor(make_config(10, 2)));
}
