// Bond policy (ESX 2.x NIC teaming, [AG2][SEED]) with no kernel: selection per mode,
// failover/failback event sequences, receive admission, capabilities and config errors.
#include "vnetsim/proto/bond_policy.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

using namespace vnetsim;
using namespace vnetsim::literals;
using bond::member;
using bond::member_state;
using bond::probe_verdict;

namespace {

wire::mac_address vm_mac(unsigned i) { return wire::mac_address::from_u64(0x0050'5600'0000ULL + i); }

bond::frame_key mac_key(unsigned i, std::uint32_t len = 100) {
  bond::frame_key k;
  k.src_mac = vm_mac(i);
  k.length = len;
  return k;
}

bond::frame_key ip_key(wire::ipv4_address src, wire::ipv4_address dst) {
  bond::frame_key k;
  k.src_mac = vm_mac(1);
  k.ipv4 = true;
  k.src_ip = src;
  k.dst_ip = dst;
  k.length = 100;
  return k;
}

bond::config make_config(std::vector<std::uint16_t> vmnics, std::string mode = "out-mac") {
  bond::config c;
  for (auto v : vmnics) c.members.push_back({v, {}, true});
  c.load_balance_mode = std::move(mode);
  return c;
}

std::string opt(std::optional<member> m) { return m ? std::to_string(*m) : "none"; }

/// Records every event as a line.
struct recorder : bond::sink {
  std::vector<std::string> events;  // member and active changes
  std::vector<std::string> moves;   // bucket moves
  std::vector<std::string> lines;   // log lines

  void member_changed(sim_time now, member m, member_state from, member_state to) override {
    events.push_back(fmt::format("{} member {} {}=>{}", now, m, bond::to_string(from),
                                 bond::to_string(to)));
  }
  void bucket_moved(sim_time now, std::size_t b, std::optional<member> from,
                    std::optional<member> to) override {
    moves.push_back(fmt::format("{} bucket {} {}->{}", now, b, opt(from), opt(to)));
  }
  void active_changed(sim_time now, std::optional<member> from,
                      std::optional<member> to) override {
    events.push_back(fmt::format("{} active {}->{}", now, opt(from), opt(to)));
  }
  void log(sim_time now, std::string_view line) override {
    lines.push_back(fmt::format("{} {}", now, line));
  }
};

std::array<int, 4> spread(bond::policy& p, const std::vector<bond::frame_key>& keys) {
  std::array<int, 4> c{};
  for (const auto& k : keys) {
    const auto m = p.select(k);
    REQUIRE(m.has_value());
    REQUIRE(*m < 4);
    ++c[*m];
  }
  return c;
}

}  // namespace

TEST_CASE("out-mac: each source MAC sticks to one member, 64 MACs spread evenly") {
  bond::policy p(make_config({0, 1, 2, 3}));
  CHECK(p.current_mode() == bond::mode::out_mac);

  SUBCASE("stickiness") {
    for (unsigned i = 1; i <= 64; ++i) {
      const auto first = p.select(mac_key(i));
      REQUIRE(first);
      for (int rep = 0; rep < 5; ++rep) CHECK(p.select(mac_key(i, 60 + 100 * rep)) == first);
      CHECK(p.select_broadcast(vm_mac(i)) == first);
      CHECK(p.select_out_mac(bond::mac_bucket(vm_mac(i))) == first);  // the host's cached-bucket path
    }
    // The bucket is the XOR of the octets: 00:50:56:00:00:01 -> 0x50^0x56^0x01 = 7 -> 7 mod 4.
    CHECK(bond::mac_bucket(vm_mac(1)) == 7);
    CHECK(p.select(mac_key(1)) == member{3});
    CHECK(p.select(mac_key(2)) == member{0});
  }
  SUBCASE("select_out_mac follows every bucket move; none when no member is healthy") {
    recorder r;
    p.set_link(1, false, 1_s, r);
    for (std::size_t b = 0; b < bond::bucket_count; ++b) CHECK(p.select_out_mac(b) == p.bucket_owner(b));
    for (member m = 0; m < 4; ++m) p.set_link(m, false, 2_s, r);
    CHECK_FALSE(p.select_out_mac(7).has_value());
  }
  SUBCASE("distribution") {
    std::vector<bond::frame_key> keys;
    for (unsigned i = 1; i <= 64; ++i) keys.push_back(mac_key(i));
    CHECK(spread(p, keys) == std::array<int, 4>{16, 16, 16, 16});
  }
  SUBCASE("IP addresses do not matter") {
    auto k = mac_key(5);
    const auto m = p.select(k);
    k.ipv4 = true;
    for (std::uint8_t d = 1; d < 50; ++d) {
      k.dst_ip = wire::ipv4_address(10, 0, 1, d);
      CHECK(p.select(k) == m);
    }
  }
}

TEST_CASE("out-ip: one MAC's flows spread by IP pair; non-IP cycles by volume") {
  auto c = make_config({0, 1, 2, 3}, "out-ip");
  c.ip_rr_volume = 3000;
  bond::policy p(c);
  CHECK(p.current_mode() == bond::mode::out_ip);
  const wire::ipv4_address a(10, 0, 0, 1);

  SUBCASE("IP pairs") {
    std::vector<bond::frame_key> keys;
    for (unsigned d = 1; d <= 64; ++d) {
      keys.push_back(ip_key(a, wire::ipv4_address(10, 0, 1, static_cast<std::uint8_t>(d))));
    }
    CHECK(spread(p, keys) == std::array<int, 4>{16, 16, 16, 16});
    // Same pair, same member; the pair is symmetric.
    const auto b = wire::ipv4_address(10, 0, 1, 9);
    const auto m = p.select(ip_key(a, b));
    for (int rep = 0; rep < 4; ++rep) CHECK(p.select(ip_key(a, b)) == m);
    CHECK(p.select(ip_key(b, a)) == m);
    // 10.0.0.1 ^ 10.0.1.9 = 0.0.1.8 -> bucket 1^8 = 9 -> member 1.
    CHECK(m == member{1});
    // Broadcasts still go by source MAC.
    CHECK(p.select_broadcast(vm_mac(1)) == member{3});
  }
  SUBCASE("non-IP: fixed-volume sequential cycle") {
    std::string seq;
    for (int i = 0; i < 14; ++i) seq += std::to_string(*p.select(mac_key(1, 1000)));
    CHECK(seq == "00011122233300");
    // A frame that crosses the volume still goes whole on the current member.
    bond::policy q(c);
    seq.clear();
    for (int i = 0; i < 6; ++i) seq += std::to_string(*q.select(mac_key(1, 1400)));
    CHECK(seq == "000111");
  }
  SUBCASE("non-IP cycle skips an unhealthy member and restarts at the lowest healthy one") {
    recorder r;
    p.set_link(1, false, 1_s, r);
    std::string seq;
    for (int i = 0; i < 12; ++i) seq += std::to_string(*p.select(mac_key(1, 1000)));
    CHECK(seq == "000222333000");
  }
}

TEST_CASE("load-balance failover and failback: exact bucket moves") {
  bond::policy p(make_config({0, 1, 2, 3}));
  recorder r;
  const auto untouched = p.select(mac_key(1));  // bucket 7, home member 3
  REQUIRE(untouched == member{3});

  p.set_link(1, false, 5_s, r);
  CHECK(r.events == std::vector<std::string>{"5s member 1 UP=>LINK_DOWN"});
  CHECK(r.lines == std::vector<std::string>{"5s vmnic1: UP=>LINK_DOWN"});
  // Buckets 1, 5, 9, ... (home member 1) go to healthy[(b div 4) mod 3] of {0, 2, 3}.
  REQUIRE(r.moves.size() == 64);
  CHECK(r.moves[0] == "5s bucket 1 1->0");
  CHECK(r.moves[1] == "5s bucket 5 1->2");
  CHECK(r.moves[2] == "5s bucket 9 1->3");
  CHECK(r.moves[3] == "5s bucket 13 1->0");
  CHECK(r.moves[63] == "5s bucket 253 1->0");
  std::array<int, 4> to{};
  for (std::size_t b = 1; b < bond::bucket_count; b += 4) ++to[*p.bucket_owner(b)];
  CHECK(to == std::array<int, 4>{22, 0, 21, 21});
  CHECK(p.select(mac_key(1)) == untouched);
  CHECK(p.stats().failovers == 1);
  CHECK(p.stats().failbacks == 0);
  CHECK(p.stats().bucket_moves == 64);

  SUBCASE("the member comes back: exactly its buckets return") {
    r.moves.clear();
    p.set_link(1, true, 7_s, r);
    REQUIRE(r.moves.size() == 64);
    CHECK(r.moves[0] == "7s bucket 1 0->1");
    CHECK(r.moves[1] == "7s bucket 5 2->1");
    for (std::size_t b = 0; b < bond::bucket_count; ++b) CHECK(*p.bucket_owner(b) == b % 4);
    CHECK(r.events.back() == "7s member 1 LINK_DOWN=>UP");
    CHECK(p.stats().failbacks == 1);
    CHECK(p.stats().bucket_moves == 128);
  }
  SUBCASE("a second failure re-spreads the first member's buckets over the two left") {
    r.moves.clear();
    p.set_link(2, false, 6_s, r);
    // Member 2's 64 buckets move, and member 1's buckets that were on 2 or whose
    // healthy[(b div 4) mod 2] index changed also move.
    for (std::size_t b = 0; b < bond::bucket_count; ++b) {
      const auto o = *p.bucket_owner(b);
      CHECK((o == 0 || o == 3));
    }
    CHECK(p.stats().failovers == 2);
    CHECK(r.moves.front() == "6s bucket 2 2->0");
  }
  SUBCASE("all members down: nothing is selected") {
    p.set_link(0, false, 6_s, r);
    p.set_link(2, false, 6_s, r);
    p.set_link(3, false, 6_s, r);
    CHECK_FALSE(p.select(mac_key(1)).has_value());
    CHECK_FALSE(p.select_broadcast(vm_mac(1)).has_value());
    CHECK(r.moves.back() == "6s bucket 255 3->none");
    for (std::size_t b = 0; b < bond::bucket_count; ++b) CHECK_FALSE(p.bucket_owner(b));
    p.set_link(3, true, 8_s, r);
    CHECK(p.select(mac_key(2)) == member{3});
  }
}

/// The bucket rule of the file comment for a given set of members that carry traffic.
std::array<std::optional<member>, bond::bucket_count> expected_buckets(std::size_t n,
                                                                       const std::vector<member>& carrying) {
  std::array<std::optional<member>, bond::bucket_count> e{};
  for (std::size_t b = 0; b < bond::bucket_count; ++b) {
    const auto home = static_cast<member>(b % n);
    if (std::find(carrying.begin(), carrying.end(), home) != carrying.end()) {
      e[b] = home;
    } else if (!carrying.empty()) {
      e[b] = carrying[(b / n) % carrying.size()];
    }
  }
  return e;
}

bool buckets_are(const bond::policy& p, const std::vector<member>& carrying) {
  const auto e = expected_buckets(p.member_count(), carrying);
  for (std::size_t b = 0; b < bond::bucket_count; ++b) {
    if (p.bucket_owner(b) != e[b]) return false;
  }
  return true;
}

TEST_CASE("load-balance failback off [VS65]: a recovered member stays inactive until it replaces a failed one") {
  auto c = make_config({0, 1, 2, 3});
  c.failback = false;
  bond::policy p(c);
  recorder r;
  p.set_link(1, false, 5_s, r);
  CHECK(r.moves.size() == 64);  // as with failback on
  CHECK(buckets_are(p, {0, 2, 3}));
  // vm_mac(3): bucket 6^3 = 5, home member 1, moved to healthy[(5 div 4) mod 3] = member 2.
  CHECK(p.select(mac_key(3)) == member{2});

  r.moves.clear();
  r.events.clear();
  p.set_link(1, true, 7_s, r);
  CHECK(r.events == std::vector<std::string>{"7s member 1 LINK_DOWN=>INACTIVE"});
  CHECK(r.lines.back() == "7s vmnic1: LINK_DOWN=>INACTIVE");
  CHECK(r.moves.empty());  // the traffic that moved stays where it is
  CHECK(p.state(1) == member_state::inactive);
  CHECK(p.status(1).held);
  CHECK_FALSE(bond::healthy(p.state(1)));
  CHECK(p.select(mac_key(3)) == member{2});
  CHECK(p.stats().failbacks == 0);
  CHECK(p.stats().failovers == 1);
  // accept_all: frames arriving on the inactive member are accepted and counted.
  CHECK(p.admit(1, false) == bond::rx_verdict::accept);
  CHECK(p.stats().rx_inactive == 1);

  SUBCASE("another member fails: the inactive one replaces it") {
    p.set_link(2, false, 9_s, r);
    CHECK(r.events == std::vector<std::string>{"7s member 1 LINK_DOWN=>INACTIVE", "9s member 1 INACTIVE=>UP",
                                               "9s member 2 UP=>LINK_DOWN"});
    CHECK(buckets_are(p, {0, 1, 3}));
    CHECK(p.select(mac_key(3)) == member{1});  // home again
    CHECK(p.stats().failovers == 2);
    CHECK(p.stats().failbacks == 1);
    // Member 2 returns while 0, 1 and 3 carry: inactive in its turn.
    p.set_link(2, true, 11_s, r);
    CHECK(p.state(2) == member_state::inactive);
    CHECK(buckets_are(p, {0, 1, 3}));
  }
  SUBCASE("a beacon failure of an active member releases it too; one replacement per failure") {
    p.set_link(3, false, 8_s, r);
    p.set_link(3, true, 8_s, r);  // 3 recovers while 0 and 1 carry: held
    CHECK(p.state(3) == member_state::inactive);
    CHECK(buckets_are(p, {0, 1, 2}));
    p.set_probe(0, probe_verdict::failed, 10_s, r);  // 3, the only inactive member, replaces 0
    CHECK(p.state(3) == member_state::up);
    CHECK(buckets_are(p, {1, 2, 3}));
  }
  SUBCASE("the inactive member fails again: just failed, then held again on recovery") {
    p.set_link(1, false, 8_s, r);
    CHECK(p.state(1) == member_state::link_down);
    CHECK_FALSE(p.status(1).held);
    CHECK(r.moves.empty());
    CHECK(p.stats().failovers == 1);  // it carried nothing
    p.set_link(1, true, 9_s, r);
    CHECK(p.state(1) == member_state::inactive);
  }
  SUBCASE("every active member fails at once: replacements one for one") {
    const std::array<probe_verdict, 4> table{probe_verdict::failed, probe_verdict::ok, probe_verdict::failed,
                                             probe_verdict::failed};
    p.apply_probes(table, 9_s, r);
    CHECK(p.state(1) == member_state::up);
    CHECK(buckets_are(p, {1}));
  }
  SUBCASE("out-ip: the inactive member is out of the non-IP cycle too") {
    auto ci = make_config({0, 1, 2, 3}, "out-ip");
    ci.failback = false;
    ci.ip_rr_volume = 1000;
    bond::policy q(ci);
    q.set_link(1, false, 1_s, r);
    q.set_link(1, true, 2_s, r);
    std::string seq;
    for (int i = 0; i < 8; ++i) seq += std::to_string(*q.select(mac_key(1, 1000)));
    CHECK(seq == "02302302");
  }
}

TEST_CASE("load-balance failback off: recovery with no member carrying is immediate; config::inactive") {
  auto c = make_config({0, 1, 2});
  c.failback = false;
  SUBCASE("all down, one returns: it carries at once") {
    bond::policy p(c);
    recorder r;
    for (member m = 0; m < 3; ++m) p.set_link(m, false, 1_s, r);
    p.set_link(2, true, 2_s, r);
    CHECK(p.state(2) == member_state::up);
    CHECK(buckets_are(p, {2}));
    p.set_link(0, true, 3_s, r);  // now 2 carries: 0 waits
    CHECK(p.state(0) == member_state::inactive);
    CHECK(p.stats().failbacks == 1);
  }
  SUBCASE("a rebuilt policy keeps the inactive members; failback on releases them") {
    c.inactive = {1};
    bond::policy p(c);
    CHECK(p.state(1) == member_state::inactive);
    CHECK(buckets_are(p, {0, 2}));
    c.inactive = {0, 1, 2};  // nobody would carry: the lowest is released
    bond::policy q(c);
    CHECK(q.state(0) == member_state::up);
    CHECK(q.state(1) == member_state::inactive);
    c.members[1].link_up = false;  // a held member whose link is down is simply down
    c.inactive = {1};
    bond::policy d(c);
    CHECK(d.state(1) == member_state::link_down);
    CHECK_FALSE(d.status(1).held);
  }
  SUBCASE("errors") {
    auto bad = make_config({0, 1});
    bad.inactive = {1};
    CHECK_THROWS_WITH_AS(bond::policy{bad},
                         "bond: inactive[0] = vmnic1: applies only with failback off in out-mac or out-ip mode",
                         bond::config_error);
    bad.failback = false;
    bad.inactive = {5};
    CHECK_THROWS_WITH_AS(bond::policy{bad}, "bond: inactive[0] = vmnic5: must be one of the bond's adapters",
                         bond::config_error);
    bad.inactive = {1};
    bad.home_link = 0;
    CHECK_THROWS_AS(bond::policy{bad}, bond::config_error);
  }
}

TEST_CASE("member state: link loss overrides beacons; suspect still carries traffic") {
  bond::policy p(make_config({0, 1}));
  recorder r;
  SUBCASE("beacon failure, then link loss, then recovery") {
    p.set_probe(0, probe_verdict::failed, 1_s, r);
    p.set_link(0, false, 2_s, r);
    p.set_probe(0, probe_verdict::ok, 3_s, r);  // beacons alone cannot revive a dead link
    p.set_link(0, true, 4_s, r);
    CHECK(r.events == std::vector<std::string>{"1s member 0 UP=>BEACON_FAILED",
                                               "2s member 0 BEACON_FAILED=>LINK_DOWN",
                                               "4s member 0 LINK_DOWN=>UP"});
    CHECK(p.stats().failovers == 1);
    CHECK(p.stats().failbacks == 1);
  }
  SUBCASE("suspect (ambiguous beacons) moves nothing") {
    const std::array<probe_verdict, 2> table{probe_verdict::suspect, probe_verdict::suspect};
    p.apply_probes(table, 1_s, r);
    CHECK(p.state(0) == member_state::suspect);
    CHECK(p.state(1) == member_state::suspect);
    CHECK(r.moves.empty());
    CHECK(p.select(mac_key(2)) == member{0});
    CHECK(p.stats().failovers == 0);
  }
  SUBCASE("wrong table size and member index are errors") {
    const std::array<probe_verdict, 3> bad{};
    CHECK_THROWS_AS(p.apply_probes(bad, 1_s, r), bond::config_error);
    CHECK_THROWS_AS(p.set_link(2, false, 1_s, r), bond::config_error);
  }
}

TEST_CASE("standby (home_link): failover to the lowest healthy secondary, immediate failback") {
  auto c = make_config({0, 1, 2, 3}, "out-ip");  // load_balance_mode is ignored [SEED]
  c.home_link = 2;
  bond::policy p(c);
  recorder r;
  CHECK(p.current_mode() == bond::mode::standby);
  CHECK(p.active() == member{2});
  for (unsigned i = 1; i <= 16; ++i) CHECK(p.select(mac_key(i)) == member{2});
  CHECK(p.select(ip_key(wire::ipv4_address(10, 0, 0, 1), wire::ipv4_address(10, 0, 0, 2))) ==
        member{2});

  p.set_link(2, false, 10_s, r);
  CHECK(p.active() == member{0});
  CHECK(p.select(mac_key(3)) == member{0});
  p.set_link(0, false, 11_s, r);
  CHECK(p.active() == member{1});
  p.set_link(0, true, 12_s, r);  // a secondary returning does not take over from another
  CHECK(p.active() == member{0});
  p.set_link(2, true, 13_s, r);
  CHECK(p.active() == member{2});
  CHECK(r.events == std::vector<std::string>{
                        "10s member 2 UP=>LINK_DOWN", "10s active 2->0",
                        "11s member 0 UP=>LINK_DOWN", "11s active 0->1",
                        "12s member 0 LINK_DOWN=>UP", "12s active 1->0",
                        "13s member 2 LINK_DOWN=>UP", "13s active 0->2"});
  CHECK(r.lines[1] == "10s active: vmnic2=>vmnic0");
  CHECK(r.moves.empty());
  CHECK(p.stats().failovers == 3);
  CHECK(p.stats().failbacks == 1);

  SUBCASE("beacon failure of the home link fails over too; failback when it is healthy") {
    p.set_probe(2, probe_verdict::failed, 20_s, r);
    CHECK(p.select(mac_key(1)) == member{0});
    p.set_probe(2, probe_verdict::ok, 21_s, r);
    CHECK(p.select(mac_key(1)) == member{2});
  }
  SUBCASE("all down: nullopt") {
    for (member m = 0; m < 4; ++m) p.set_link(m, false, 30_s, r);
    CHECK_FALSE(p.active());
    CHECK_FALSE(p.select(mac_key(1)));
    CHECK_FALSE(p.select_broadcast(vm_mac(1)));
    CHECK(r.events.back() == "30s active 3->none");
  }
}

TEST_CASE("standby: secondary order and vmnic numbering") {
  SUBCASE("unsorted members: lowest vmnic number, not lowest index") {
    bond::config c = make_config({5, 3, 1});
    c.home_link = 5;
    bond::policy p(c);
    recorder r;
    p.set_link(0, false, 1_s, r);
    CHECK(p.active() == member{2});  // vmnic1
    CHECK(p.find_vmnic(1) == member{2});
  }
  SUBCASE("configured order") {
    bond::config c = make_config({0, 1, 2, 3});
    c.home_link = 0;
    c.secondary_order = {3};
    bond::policy p(c);
    recorder r;
    p.set_link(0, false, 1_s, r);
    CHECK(p.active() == member{3});
    p.set_link(3, false, 2_s, r);
    CHECK(p.active() == member{1});  // then the rest, lowest-numbered first
  }
}

TEST_CASE("receive admission") {
  recorder r;
  SUBCASE("ESX 2.x accept_all: inactive members accept (duplicates stay visible), counted") {
    bond::config c = make_config({0, 1});
    c.home_link = 0;
    bond::policy p(c);
    CHECK(p.admit(0, false) == bond::rx_verdict::accept);
    CHECK(p.admit(1, true) == bond::rx_verdict::accept);
    CHECK(p.admit(1, false) == bond::rx_verdict::accept);
    CHECK(p.stats().rx_inactive == 2);
    p.set_link(1, false, 1_s, r);
    CHECK(p.admit(1, false) == bond::rx_verdict::drop);
    CHECK(p.stats().rx_dropped == 1);
  }
  SUBCASE("active_only option") {
    bond::config c = make_config({0, 1});
    c.home_link = 0;
    c.rx = bond::rx_policy::active_only;
    bond::policy p(c);
    CHECK(p.admit(0, true) == bond::rx_verdict::accept);
    CHECK(p.admit(1, false) == bond::rx_verdict::drop);
    bond::config l = make_config({0, 1});
    l.rx = bond::rx_policy::active_only;
    bond::policy q(l);
    CHECK(q.admit(0, true) == bond::rx_verdict::accept);
    CHECK(q.admit(1, true) == bond::rx_verdict::drop_if_moved);
    CHECK(q.admit(1, false) == bond::rx_verdict::accept);
    q.set_probe(1, probe_verdict::failed, 1_s, r);
    CHECK(q.admit(1, false) == bond::rx_verdict::drop);
  }
}

TEST_CASE("capabilities: the intersection of the members' [AG2]") {
  bond::config c;
  c.members = {{0, {true, true, true}, true}, {1, {true, false, true}, true},
               {2, {true, true, false}, true}};
  bond::policy p(c);
  CHECK(p.bond_capabilities() == bond::capabilities{true, false, false});
  c.members.resize(1);
  CHECK(bond::policy(c).bond_capabilities() == bond::capabilities{true, true, true});
  const std::array<bond::capabilities, 2> two{{{false, true, true}, {true, true, true}}};
  CHECK(bond::intersect(two) == bond::capabilities{false, true, true});
  CHECK(bond::intersect({}) == bond::capabilities{true, true, true});
}

TEST_CASE("config errors name the parameter, the value and the rule") {
  auto expect = [](const bond::config& c, const char* param, const char* value,
                   const char* message) {
    try {
      bond::policy p(c);
      FAIL("accepted");
    } catch (const bond::config_error& e) {
      CHECK(e.parameter() == param);
      CHECK(e.value() == value);
      CHECK(std::string(e.what()) == message);
    }
  };
  expect(make_config({}), "members", "0", "bond: members = 0: a bond needs at least one adapter");
  expect(make_config({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}), "members", "11",
         "bond: members = 11: at most 10 adapters per bond [AG2]");
  CHECK_NOTHROW(bond::policy(make_config({0, 1, 2, 3, 4, 5, 6, 7, 8, 9})));
  expect(make_config({0, 4, 4}), "members[2]", "vmnic4",
         "bond: members[2] = vmnic4: an adapter can be bound only once; members[1] is the same "
         "adapter");
  expect(make_config({0, 1}, "out-port"), "load_balance_mode", "\"out-port\"",
         "bond: load_balance_mode = \"out-port\": must be \"out-mac\" (the default) or "
         "\"out-ip\" [AG2]");
  auto h = make_config({0, 1});
  h.home_link = 2;
  expect(h, "home_link", "vmnic2", "bond: home_link = vmnic2: must be one of the bond's adapters [SEED]");
  h.home_link = 0;
  h.secondary_order = {0};
  expect(h, "secondary_order[0]", "vmnic0", "bond: secondary_order[0] = vmnic0: is the home_link");
  h.secondary_order = {1, 1};
  expect(h, "secondary_order[1]", "vmnic1", "bond: secondary_order[1] = vmnic1: listed twice");
  auto v = make_config({0, 1}, "out-ip");
  v.ip_rr_volume = 0;
  expect(v, "ip_rr_volume", "0",
         "bond: ip_rr_volume = 0: the non-IP cycle volume must be at least 1 byte");
}
