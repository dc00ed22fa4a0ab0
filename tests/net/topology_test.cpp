#include "vnetsim/net/topology.hpp"

#include <map>
#include <set>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "vnetsim/dev/frame_pool.hpp"
#include "vnetsim/dev/link.hpp"
#include "vnetsim/kernel/rng.hpp"
#include "vnetsim/kernel/simulator.hpp"
#include "vnetsim/net/switch.hpp"
#include "switch_world.hpp"

using namespace vnetsim;
using namespace vnetsim::literals;
using net::node_id;
using net::node_kind;
using net::topo_port;
using net::topology;

namespace {

using names = std::vector<std::string>;

/// Port states for hand-built checks: every bridge port forwards every VLAN unless told.
struct port_table {
  std::set<std::pair<node_id, topo_port>> blocked;
  /// VLANs a port is a member of; a port not listed is a member of none.
  std::map<std::pair<node_id, topo_port>, std::set<net::vlan_id>> member;

  net::port_forwarding_fn forwarding() const {
    return [this](node_id n, topo_port p) { return !blocked.contains({n, p}); };
  }
  net::vlan_forwarding_fn vlan_forwarding() const {
    return [this](node_id n, topo_port p, net::vlan_id v) {
      if (blocked.contains({n, p})) return false;
      auto it = member.find({n, p});
      return it != member.end() && it->second.contains(v);
    };
  }
};

/// s1..s4 in a ring: s<i>/1 -- s<i+1>/0.
struct ring4 {
  topology t;
  node_id s[4] = {};
  net::edge_id e[4] = {};
  ring4() {
    for (int i = 0; i < 4; ++i) s[i] = t.add_node(fmt::format("s{}", i + 1), node_kind::bridge);
    for (int i = 0; i < 4; ++i) e[i] = t.add_link(s[i], 1, s[(i + 1) % 4], 0);
  }
};

}  // namespace

TEST_CASE("topology: the description names links and rejects bad input") {
  topology t;
  const auto a = t.add_node("A", node_kind::bridge);
  const auto h = t.add_node("h", node_kind::host);
  const auto e = t.add_link(a, 3, h, 0);
  CHECK(t.edge(e).name == "A/3-h/0");
  CHECK(t.link_at(h, 0) == e);
  CHECK_FALSE(t.link_at(h, 1));
  CHECK(t.find("h") == h);
  CHECK_FALSE(t.find("x"));
  CHECK_THROWS_WITH_AS(t.add_node("A", node_kind::hub), doctest::Contains("duplicate node name 'A'"),
                       net::topology_error);
  CHECK_THROWS_WITH_AS(t.add_node("", node_kind::hub), doctest::Contains("needs a name"),
                       net::topology_error);
  CHECK_THROWS_WITH_AS(t.add_link(a, 3, h, 1), doctest::Contains("A/3 already has link 'A/3-h/0'"),
                       net::topology_error);
  CHECK_THROWS_AS(t.add_link(a, 1, 7, 0), net::topology_error);
  CHECK_THROWS_WITH_AS(t.add_link(a, 1, a, 1), doctest::Contains("A/1 to itself"),
                       net::topology_error);
}

TEST_CASE("topology: a ring of 4 switches is a bridge loop, given as a path") {
  ring4 r;
  auto loop = net::find_bridge_loop(r.t);
  REQUIRE(loop);
  CHECK(loop->path(r.t) == names{"s1", "s2", "s3", "s4", "s1"});
  CHECK(loop->describe(r.t) == "s1/1 -> s2/0, s2/1 -> s3/0, s3/1 -> s4/0, s4/1 -> s1/0");
  CHECK(loop->edges.size() == 4);

  SUBCASE("carrier down on one link breaks the loop") {
    r.t.set_carrier(r.e[2], false);
    CHECK_FALSE(net::find_bridge_loop(r.t));
    r.t.set_carrier(r.e[2], true);
    CHECK(net::find_bridge_loop(r.t));
  }
}

TEST_CASE("topology: a tree has no loop, even with a host on two switches") {
  topology t;
  const auto root = t.add_node("root", node_kind::bridge);
  const auto a = t.add_node("a", node_kind::bridge);
  const auto b = t.add_node("b", node_kind::bridge);
  const auto c = t.add_node("c", node_kind::bridge);
  t.add_link(root, 0, a, 0);
  t.add_link(root, 1, b, 0);
  t.add_link(b, 1, c, 0);
  // A host with one NIC on a and one on c does not relay: no loop through it.
  const auto h = t.add_node("esx1", node_kind::host);
  t.add_link(h, 0, a, 5);
  t.add_link(h, 1, c, 5);
  CHECK_FALSE(net::find_bridge_loop(t));

  SUBCASE("a link from a to c closes a loop") {
    t.add_link(a, 1, c, 1);
    auto loop = net::find_bridge_loop(t);
    REQUIRE(loop);
    CHECK(loop->path(t) == names{"root", "a", "c", "b", "root"});
  }
}

TEST_CASE("topology: parallel links and a link looped back into one switch are loops") {
  topology t;
  const auto a = t.add_node("A", node_kind::bridge);
  const auto b = t.add_node("B", node_kind::bridge);
  t.add_link(a, 0, b, 0);
  CHECK_FALSE(net::find_bridge_loop(t));
  SUBCASE("parallel") {
    t.add_link(a, 1, b, 1);
    auto loop = net::find_bridge_loop(t);
    REQUIRE(loop);
    CHECK(loop->path(t) == names{"A", "B", "A"});
    CHECK(loop->describe(t) == "A/0 -> B/0, B/1 -> A/1");
  }
  SUBCASE("looped back") {
    t.add_link(b, 2, b, 3);
    auto loop = net::find_bridge_loop(t);
    REQUIRE(loop);
    CHECK(loop->path(t) == names{"B", "B"});
    CHECK(loop->describe(t) == "B/2 -> B/3");
  }
}

TEST_CASE("topology: a hub joining 3 switches closes a loop with a direct link") {
  topology t;
  const auto hub = t.add_node("lan1", node_kind::hub);
  node_id s[3];
  for (int i = 0; i < 3; ++i) {
    s[i] = t.add_node(fmt::format("s{}", i + 1), node_kind::bridge);
    t.add_link(hub, static_cast<topo_port>(i), s[i], 0);
  }
  CHECK_FALSE(net::find_bridge_loop(t));  // a star through the hub
  const auto direct = t.add_link(s[1], 1, s[2], 1);
  auto loop = net::find_bridge_loop(t);
  REQUIRE(loop);
  CHECK(loop->path(t) == names{"lan1", "s2", "s3", "lan1"});
  CHECK(loop->describe(t) == "lan1/1 -> s2/0, s2/1 -> s3/1, s3/0 -> lan1/2");
  t.set_carrier(direct, false);
  CHECK_FALSE(net::find_bridge_loop(t));
}

TEST_CASE("topology: VLAN broadcast domains over a trunk") {
  // s1/0 -- s2/0 is a trunk carrying VLANs 10 and 20; on each switch, port 1 is an access
  // port in VLAN 10 and port 2 one in VLAN 20.
  topology t;
  const auto s1 = t.add_node("s1", node_kind::bridge);
  const auto s2 = t.add_node("s2", node_kind::bridge);
  const auto h1 = t.add_node("h1", node_kind::host);  // s1, VLAN 10
  const auto h2 = t.add_node("h2", node_kind::host);  // s1, VLAN 20
  const auto h3 = t.add_node("h3", node_kind::host);  // s2, VLAN 10
  const auto h4 = t.add_node("h4", node_kind::host);  // s2, VLAN 20
  t.add_link(s1, 0, s2, 0);
  t.add_link(h1, 0, s1, 1);
  t.add_link(h2, 0, s1, 2);
  t.add_link(h3, 0, s2, 1);
  t.add_link(h4, 0, s2, 2);
  port_table pt;
  pt.member[{s1, 0}] = pt.member[{s2, 0}] = {10, 20};
  pt.member[{s1, 1}] = pt.member[{s2, 1}] = {10};
  pt.member[{s1, 2}] = pt.member[{s2, 2}] = {20};

  auto d10 = net::vlan_broadcast_domains(t, 10, pt.vlan_forwarding());
  auto d20 = net::vlan_broadcast_domains(t, 20, pt.vlan_forwarding());
  CHECK(d10.vlan == 10);
  CHECK(d10.same_domain(h1, h3));
  CHECK(d10.same_domain(s1, s2));
  CHECK_FALSE(d10.same_domain(h1, h2));
  CHECK(d10.host_groups == std::vector<std::vector<node_id>>{{h1, h3}, {h2}, {h4}});
  CHECK(d20.host_groups == std::vector<std::vector<node_id>>{{h1}, {h2, h4}, {h3}});
  const node_id team[] = {h1, h3};
  CHECK(net::check_same_domain(t, d10, team));
  const node_id mixed[] = {h1, h2};
  auto v = net::check_same_domain(t, d10, mixed);
  CHECK_FALSE(v);
  CHECK(v.reason == "host 'h1' and host 'h2' are in different broadcast domains of VLAN 10");

  SUBCASE("VLAN 20 not allowed on the trunk") {
    pt.member[{s2, 0}] = {10};
    d20 = net::vlan_broadcast_domains(t, 20, pt.vlan_forwarding());
    CHECK_FALSE(d20.same_domain(h2, h4));
    CHECK(net::vlan_broadcast_domains(t, 10, pt.vlan_forwarding()).same_domain(h1, h3));
  }
  SUBCASE("a blocked trunk port splits the domain") {
    pt.blocked.insert({s2, 0});
    d10 = net::vlan_broadcast_domains(t, 10, pt.vlan_forwarding());
    CHECK_FALSE(d10.same_domain(h1, h3));
    CHECK(d10.host_groups == std::vector<std::vector<node_id>>{{h1}, {h2}, {h3}, {h4}});
    CHECK_FALSE(net::check_same_domain(t, d10, team));
  }
  SUBCASE("carrier down on the trunk splits the domain") {
    t.set_carrier(0, false);
    CHECK_FALSE(net::vlan_broadcast_domains(t, 10, pt.vlan_forwarding()).same_domain(h1, h3));
  }
}

TEST_CASE("topology: a hub is one segment for every VLAN") {
  topology t;
  const auto s1 = t.add_node("s1", node_kind::bridge);
  const auto hub = t.add_node("hub", node_kind::hub);
  const auto h1 = t.add_node("h1", node_kind::host);
  const auto h2 = t.add_node("h2", node_kind::host);
  const auto h3 = t.add_node("h3", node_kind::host);
  t.add_link(s1, 0, hub, 0);
  t.add_link(h1, 0, hub, 1);
  t.add_link(h2, 0, hub, 2);
  t.add_link(h3, 0, s1, 1);
  port_table pt;
  pt.member[{s1, 0}] = {10};
  pt.member[{s1, 1}] = {20};
  auto d10 = net::vlan_broadcast_domains(t, 10, pt.vlan_forwarding());
  CHECK(d10.host_groups == std::vector<std::vector<node_id>>{{h1, h2}, {h3}});
  auto d20 = net::vlan_broadcast_domains(t, 20, pt.vlan_forwarding());
  CHECK(d20.same_domain(h1, h2));  // the hub repeats everything
  CHECK(d20.same_domain(h3, s1));
  CHECK_FALSE(d20.same_domain(h1, h3));
}

TEST_CASE("topology: spanning tree verdicts") {
  // A triangle s1-s2-s3 with a host on s1.
  topology t;
  const auto s1 = t.add_node("s1", node_kind::bridge);
  const auto s2 = t.add_node("s2", node_kind::bridge);
  const auto s3 = t.add_node("s3", node_kind::bridge);
  const auto h = t.add_node("h", node_kind::host);
  t.add_link(s1, 1, s2, 0);
  t.add_link(s2, 1, s3, 0);
  t.add_link(s3, 1, s1, 0);
  t.add_link(h, 0, s1, 2);
  port_table pt;
  pt.blocked.insert({h, 0});  // host ports do not count

  SUBCASE("all forwarding: a forwarding loop") {
    auto v = net::check_spanning_tree(t, pt.forwarding());
    CHECK_FALSE(v);
    CHECK(v.reason == "forwarding loop: s1/1 -> s2/0, s2/1 -> s3/0, s3/1 -> s1/0");
  }
  SUBCASE("one blocked port: a correct tree") {
    pt.blocked.insert({s3, 1});
    auto v = net::check_spanning_tree(t, pt.forwarding());
    CHECK(v);
    CHECK(v.reason == "");
    CHECK(net::find_bridge_loop(t));  // the physical loop is still there
  }
  SUBCASE("s3 blocked on both links: a partition") {
    pt.blocked.insert({s3, 1});
    pt.blocked.insert({s3, 0});
    auto v = net::check_spanning_tree(t, pt.forwarding());
    CHECK_FALSE(v);
    CHECK(v.reason ==
          "partition: switch 's2' and switch 's3' are joined physically but not by forwarding "
          "ports (link 's2/1-s3/0': s3/0 does not forward)");
  }
  SUBCASE("s3 cut off physically: no partition to report") {
    pt.blocked.insert({s3, 1});
    pt.blocked.insert({s3, 0});
    t.set_carrier(1, false);
    t.set_carrier(2, false);
    CHECK(net::check_spanning_tree(t, pt.forwarding()));
  }
  SUBCASE("a hub segment must be served") {
    const auto hub = t.add_node("lan", node_kind::hub);
    t.add_link(hub, 0, s2, 2);
    t.add_link(hub, 1, s3, 2);
    pt.blocked.insert({s3, 1});
    pt.blocked.insert({s3, 2});
    CHECK(net::check_spanning_tree(t, pt.forwarding()));
    pt.blocked.insert({s2, 2});
    auto v = net::check_spanning_tree(t, pt.forwarding());
    CHECK_FALSE(v);
    CHECK(v.reason.starts_with("partition: "));
    CHECK(v.reason.find("hub 'lan'") != std::string::npos);
    pt.blocked.erase({s2, 2});
    pt.blocked.erase({s3, 2});
    v = net::check_spanning_tree(t, pt.forwarding());
    CHECK_FALSE(v);
    CHECK(v.reason.starts_with("forwarding loop: "));
    CHECK(v.reason.find("lan/") != std::string::npos);
  }
}

namespace {

/// Two switches A and B joined by two parallel links (ports 0 and 1), a host on port 2 of
/// each (an edge port), as in switch_test's `loop`; switch A is the root. The hosts
/// (switch_world.hpp, RNG seed 7) count what they receive and keep nothing.
struct live_loop : test::switch_world {
  net::switch_id a = 0, b = 0;

  explicit live_loop(net::stp_mode mode) : switch_world(7) {
    record = false;
    auto [ca, cb] = test::bridge_pair(mode);
    ca.ports = cb.ports = 3;
    a = sws.add(ca);
    b = sws.add(cb);
    net::port_config edge;
    edge.edge = true;
    sws.configure_port(a, 2, edge);
    sws.configure_port(b, 2, edge);
    for (net::port_no p = 0; p < 2; ++p) {
      const auto id = links.add(fmt::format("A/{}-B/{}", p, p), {}, sws.endpoint(a, p),
                                sws.endpoint(b, p));
      sws.attach(a, p, id, dev::link_side::a);
      sws.attach(b, p, id, dev::link_side::b);
    }
    for (auto sw : {a, b}) {
      const auto id = links.add(fmt::format("h{}", sw), {}, {host_kind, 0, sw, 0},
                                sws.endpoint(sw, 2));
      sws.attach(sw, 2, id, dev::link_side::b);
    }
  }

  /// The topology of the live world, through a device map.
  struct built {
    topology t;
    std::vector<net::switch_id> switch_of;  // index = node_id; hosts: unused
  };
  built build() const {
    built r;
    net::device_map map;
    const auto sw_kind = sws.endpoint(a, 0).arrive_kind;
    for (auto sw : {a, b}) {
      const auto n = r.t.add_node(sws.name(sw), node_kind::bridge);
      map.add(sw_kind, sw, n);
      r.switch_of.push_back(sw);
    }
    for (auto sw : {a, b}) {
      const auto n = r.t.add_node(fmt::format("host{}", sw), node_kind::host);
      map.add(host_kind, sw, n);
      r.switch_of.push_back(0);
    }
    net::add_links(r.t, links, map);
    return r;
  }
  net::port_forwarding_fn forwarding(const built& r) const {
    return [this, &r](node_id n, topo_port p) {
      const auto sw = r.switch_of.at(n);
      const auto port = static_cast<net::port_no>(p);
      return sws.port_up(sw, port) && sws.port_forwarding(sw, port);
    };
  }
};

}  // namespace

TEST_CASE("topology: a live STP world converges to a loop-free tree over a physical loop") {
  live_loop w(net::stp_mode::stp);
  auto r = w.build();
  REQUIRE(r.t.edge_count() == 4);
  CHECK(r.t.edge(0).name == "A/0-B/0");
  CHECK(r.t.port_name(r.t.edge(3).a, r.t.edge(3).port_a) == "host1/0");
  CHECK(r.t.port_name(r.t.edge(3).b, r.t.edge(3).port_b) == "B/2");

  auto loop = net::find_bridge_loop(r.t);
  REQUIRE(loop);
  CHECK(loop->path(r.t) == names{"A", "B", "A"});
  CHECK(loop->describe(r.t) == "A/0 -> B/0, B/1 -> A/1");

  w.sim.run_until(29_s);  // Listening + Learning, 2 x 15 s: the switches are still apart
  auto v = net::check_spanning_tree(r.t, w.forwarding(r));
  CHECK_FALSE(v);
  CHECK(v.reason.starts_with("partition: switch 'A' and switch 'B'"));

  w.sim.run_until(60_s);
  v = net::check_spanning_tree(r.t, w.forwarding(r));
  CHECK(v);
  CHECK(v.reason == "");
  CHECK_FALSE(w.sws.port_forwarding(w.b, 1));  // the tree blocks B/1

  SUBCASE("after a carrier loss the physical loop is gone and the tree re-forms") {
    w.links.set_carrier(0, false);
    w.sim.run_until(100_s);
    auto r2 = w.build();
    CHECK_FALSE(net::find_bridge_loop(r2.t));
    CHECK(net::check_spanning_tree(r2.t, w.forwarding(r2)));
  }
}

TEST_CASE("topology: without a spanning tree the live parallel links are a forwarding loop") {
  live_loop w(net::stp_mode::none);
  auto r = w.build();
  auto v = net::check_spanning_tree(r.t, w.forwarding(r));
  CHECK_FALSE(v);
  CHECK(v.reason == "forwarding loop: A/0 -> B/0, B/1 -> A/1");
}

TEST_CASE("topology: add_links names an unmapped end") {
  live_loop w(net::stp_mode::none);
  topology t;
  net::device_map map;
  map.add(w.sws.endpoint(w.a, 0).arrive_kind, w.a, t.add_node("A", node_kind::bridge));
  CHECK_THROWS_WITH_AS(net::add_links(t, w.links, map),
                       doctest::Contains("link 'A/0-B/0' end b: device 1"), net::topology_error);
  CHECK_THROWS_AS(map.add(w.sws.endpoint(w.a, 0).arrive_kind, w.a, 0), net::topology_error);
}

TEST_CASE("topology: a live RSTP world is a loop-free tree within a second") {
  live_loop w(net::stp_mode::rstp);
  auto r = w.build();
  w.sim.run_until(1_s);
  auto v = net::check_spanning_tree(r.t, w.forwarding(r));
  CHECK(v);
  CHECK(v.reason == "");
  CHECK(net::find_bridge_loop(r.t));
  // Both host edges share VLAN 1's broadcast domain over the tree.
  auto d = net::vlan_broadcast_domains(r.t, 1, [&](node_id n, topo_port p, net::vlan_id) {
    return w.forwarding(r)(n, p);
  });
  CHECK(d.host_groups == std::vector<std::vector<node_id>>{{2, 3}});
}
