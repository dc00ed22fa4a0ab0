#include "vnetsim/net/fdb.hpp"

#include <doctest/doctest.h>

using namespace vnetsim;
using namespace vnetsim::literals;
using net::learn_result;

namespace {
wire::mac_address mac(std::uint64_t v) { return wire::mac_address::from_u64(0x0050'5600'0000ULL | v); }
}  // namespace

TEST_CASE("fdb: learn, lookup per VLAN, refresh") {
  net::fdb t;
  CHECK(t.learn(10, mac(1), 3, 0_s).what == learn_result::kind::learned);
  CHECK(t.lookup(10, mac(1), 1_s) == net::port_no{3});
  CHECK_FALSE(t.lookup(20, mac(1), 1_s));  // independent VLAN learning
  CHECK(t.learn(10, mac(1), 3, 2_s).what == learn_result::kind::refreshed);
  CHECK(t.size() == 1);
  CHECK(t.stats().learned == 1);
  CHECK(t.stats().refreshed == 1);
}

TEST_CASE("fdb: ageing at exactly the ageing time (default 300 s, 802.1Q-2018 8.8.3)") {
  net::fdb t;
  CHECK(t.config().ageing_time == 300_s);
  t.learn(1, mac(1), 0, 5_s);
  CHECK(t.lookup(1, mac(1), 5_s + 300_s - 1_ns) == net::port_no{0});
  CHECK_FALSE(t.lookup(1, mac(1), 5_s + 300_s));
  CHECK(t.size() == 0);  // erased lazily
  CHECK(t.stats().aged == 1);
}

TEST_CASE("fdb: short ageing while a topology change is in force") {
  net::fdb t;
  t.learn(1, mac(1), 0, 0_s);
  t.learn(1, mac(2), 1, 0_s);
  t.set_topology_change(true);
  CHECK(t.ageing_time_in_force() == 15_s);
  CHECK(t.lookup(1, mac(1), 14_s) == net::port_no{0});
  CHECK_FALSE(t.lookup(1, mac(2), 15_s));
  t.set_topology_change(false);
  CHECK(t.lookup(1, mac(1), 100_s) == net::port_no{0});
}

TEST_CASE("fdb: sweep removes only expired entries, across wrapped clusters") {
  net::fdb_config cfg;
  cfg.capacity = 64;
  net::fdb t(cfg);
  for (std::uint64_t i = 0; i < 64; ++i) t.learn(1, mac(i), static_cast<net::port_no>(i % 4), sim_time::from_s(static_cast<sim_time::rep>(i)));
  CHECK(t.size() == 64);
  t.sweep(300_s + 31_s);  // entries seen at 0..31 s expire
  CHECK(t.size() == 32);
  for (std::uint64_t i = 0; i < 64; ++i) {
    CHECK(t.peek(1, mac(i)).has_value() == (i >= 32));
  }
}

TEST_CASE("fdb: overflow means not learned") {
  net::fdb_config cfg;
  cfg.capacity = 2;
  net::fdb t(cfg);
  CHECK(t.learn(1, mac(1), 0, 0_s).what == learn_result::kind::learned);
  CHECK(t.learn(1, mac(2), 1, 0_s).what == learn_result::kind::learned);
  CHECK(t.learn(1, mac(3), 2, 0_s).what == learn_result::kind::table_full);
  CHECK_FALSE(t.lookup(1, mac(3), 0_s));
  CHECK(t.stats().table_full == 1);
  // An expired entry frees its place once erased.
  CHECK_FALSE(t.lookup(1, mac(1), 300_s));
  CHECK(t.learn(1, mac(3), 2, 300_s).what == learn_result::kind::learned);
}

TEST_CASE("fdb: a move reports both ports; the move guard pins the MAC") {
  SUBCASE("no guard") {
    net::fdb t;
    t.learn(5, mac(1), 1, 0_s);
    const auto r = t.learn(5, mac(1), 2, 1_ms);
    CHECK(r.what == learn_result::kind::moved);
    CHECK(r.old_port == 1);
    CHECK(t.lookup(5, mac(1), 1_ms) == net::port_no{2});
    CHECK(t.stats().moves == 1);
  }
  SUBCASE("guard: 3 moves in 10 s stop learning for 60 s") {
    net::fdb_config cfg;
    cfg.move_limit = 3;
    net::fdb t(cfg);
    t.learn(5, mac(1), 1, 0_s);
    CHECK(t.learn(5, mac(1), 2, 1_s).what == learn_result::kind::moved);
    CHECK(t.learn(5, mac(1), 1, 2_s).what == learn_result::kind::moved);
    const auto r = t.learn(5, mac(1), 2, 3_s);
    CHECK(r.what == learn_result::kind::moved);
    CHECK(r.pinned_now);
    const auto g = t.learn(5, mac(1), 1, 4_s);
    CHECK(g.what == learn_result::kind::guarded);
    CHECK(g.old_port == 2);
    CHECK(t.lookup(5, mac(1), 4_s) == net::port_no{2});
    CHECK(t.learn(5, mac(1), 1, 63_s).what == learn_result::kind::moved);  // hold over
    CHECK(t.stats().guarded == 1);
  }
}

TEST_CASE("fdb: flush all, per port, per VLAN") {
  net::fdb t;
  t.learn(1, mac(1), 0, 0_s);
  t.learn(1, mac(2), 1, 0_s);
  t.learn(2, mac(3), 1, 0_s);
  t.learn(2, mac(4), 2, 0_s);
  CHECK(t.flush_port(1) == 2);
  CHECK(t.peek(1, mac(1)));
  CHECK_FALSE(t.peek(1, mac(2)));
  CHECK(t.flush_vlan(2) == 1);
  CHECK(t.size() == 1);
  CHECK(t.flush_all() == 1);
  CHECK(t.size() == 0);
  CHECK(t.stats().flushed == 4);
}

TEST_CASE("fdb: many keys in a small table stay findable through deletions") {
  net::fdb_config cfg;
  cfg.capacity = 1000;
  net::fdb t(cfg);
  for (std::uint64_t i = 0; i < 1000; ++i) t.learn(static_cast<net::vlan_id>(1 + i % 7), mac(i * 7919), static_cast<net::port_no>(i % 13), 0_s);
  CHECK(t.size() == 1000);
  CHECK(t.flush_port(3) > 0);
  for (std::uint64_t i = 0; i < 1000; ++i) {
    const auto p = t.peek(static_cast<net::vlan_id>(1 + i % 7), mac(i * 7919));
    if (i % 13 == 3) {
      CHECK_FALSE(p);
    } else {
      REQUIRE(p);
      CHECK(*p == i % 13);
    }
  }
}

TEST_CASE("fdb: refresh() is learn() of an address seen again on its port, and nothing else") {
  net::fdb t;
  CHECK_FALSE(t.refresh(10, mac(1), 3, 0_s));  // unknown: nothing learned
  CHECK(t.size() == 0);
  t.learn(10, mac(1), 3, 0_s);
  CHECK(t.refresh(10, mac(1), 3, 1_s));
  CHECK(t.stats().refreshed == 1);
  CHECK_FALSE(t.refresh(10, mac(1), 4, 2_s));  // another port: the move is learn()'s to make
  CHECK_FALSE(t.refresh(20, mac(1), 3, 2_s));  // another VLAN
  CHECK(t.lookup(10, mac(1), 2_s) == net::port_no{3});
  CHECK(t.stats().moves == 0);
  CHECK(t.stats().refreshed == 1);
  CHECK(t.refresh(10, mac(1), 3, 300_s));  // 299 s after the refresh at 1 s
  CHECK_FALSE(t.refresh(10, mac(1), 3, 600_s));  // 300 s old: expired, left to learn()
  CHECK(t.size() == 1);  // refresh() erases nothing
  CHECK(t.stats().refreshed == 2);
  CHECK(t.learn(10, mac(1), 3, 600_s).what == learn_result::kind::learned);
  CHECK(t.stats().aged == 1);
}

TEST_CASE("fdb: a pinned entry is refreshed and found past the ageing time until its hold ends") {
  net::fdb_config cfg;
  cfg.move_limit = 1;
  cfg.move_hold = 400_s;
  net::fdb t(cfg);
  t.learn(5, mac(1), 1, 0_s);
  CHECK(t.learn(5, mac(1), 2, 1_s).pinned_now);  // pinned until 401 s
  CHECK(t.lookup(5, mac(1), 350_s) == net::port_no{2});  // 349 s old, pinned: kept
  CHECK(t.stats().aged == 0);
  CHECK(t.refresh(5, mac(1), 2, 360_s));  // 359 s old, pinned: refreshed
  CHECK(t.lookup(5, mac(1), 659_s) == net::port_no{2});  // 299 s after the refresh
  CHECK_FALSE(t.lookup(5, mac(1), 660_s));  // 300 s, hold over: aged out and erased
  CHECK(t.stats().aged == 1);
  CHECK(t.size() == 0);
}

TEST_CASE("fdb: VLAN 0 with MAC 00:00:00:00:00:00 is a key like any other, not the empty slot") {
  net::fdb t;
  const auto zero = wire::mac_address::from_u64(0);
  CHECK_FALSE(t.lookup(0, zero, 0_s));
  CHECK_FALSE(t.refresh(0, zero, 7, 0_s));
  CHECK(t.learn(0, zero, 7, 0_s).what == learn_result::kind::learned);
  CHECK(t.lookup(0, zero, 1_s) == net::port_no{7});
  CHECK(t.refresh(0, zero, 7, 1_s));
  CHECK(t.size() == 1);
  CHECK(t.flush_vlan(0) == 1);
  CHECK_FALSE(t.peek(0, zero));
}

TEST_CASE("fdb: refresh and lookup find entries pushed past their home slot") {
  // 64 entries in a 128-slot table: collisions are certain, and some clusters wrap.
  net::fdb_config cfg;
  cfg.capacity = 64;
  net::fdb t(cfg);
  auto port_of = [](std::uint64_t i) { return static_cast<net::port_no>(i % 5); };
  for (std::uint64_t i = 0; i < 64; ++i) t.learn(1, mac(i * 131), port_of(i), 0_s);
  REQUIRE(t.size() == 64);
  for (std::uint64_t i = 0; i < 64; ++i) {
    CHECK(t.refresh(1, mac(i * 131), port_of(i), 1_s));
    CHECK_FALSE(t.refresh(1, mac(i * 131), static_cast<net::port_no>(port_of(i) + 1), 1_s));
    CHECK(t.lookup(1, mac(i * 131), 2_s) == port_of(i));
  }
  CHECK(t.stats().refreshed == 64);
  CHECK(t.flush_port(0) == 13);  // i % 5 == 0 for 13 of 0..63
  for (std::uint64_t i = 0; i < 64; ++i) {
    CHECK(t.refresh(1, mac(i * 131), port_of(i), 3_s) == (port_of(i) != 0));
  }
}
