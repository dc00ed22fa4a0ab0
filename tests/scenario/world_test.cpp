#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <fmt/format.h>

#include "vnetsim/report/pcap_writer.hpp"
#include "vnetsim/report/run_report.hpp"
#include "vnetsim/scenario/loader.hpp"
#include "vnetsim/scenario/world.hpp"

using namespace vnetsim;
using namespace vnetsim::literals;

namespace {

/// The 802.1D triangle of scenarios/stp_root_port_failover.json, built in code.
void triangle(scenario::world& w, net::stp_mode mode) {
  auto sw = [&](const char* name, const char* mac, std::uint16_t prio) {
    scenario::switch_spec s;
    s.cfg.name = name;
    s.cfg.ports = 4;
    s.cfg.stp = mode;
    s.cfg.stp_bridge.address = s.cfg.rstp_bridge.address = *wire::mac_address::parse(mac);
    s.cfg.stp_bridge.priority = s.cfg.rstp_bridge.priority = prio;
    net::port_config edge;
    edge.edge = true;
    s.ports.emplace_back(3, edge);
    w.add_switch(s);
  };
  sw("sw1", "02:00:00:00:01:00", 4096);
  sw("sw2", "02:00:00:00:02:00", 8192);
  sw("sw3", "02:00:00:00:03:00", 32768);
  scenario::station_spec h1{"h1", {}}, h3{"h3", {}};
  h1.nic.mac = *wire::mac_address::parse("02:00:00:00:00:01");
  h3.nic.mac = *wire::mac_address::parse("02:00:00:00:00:03");
  w.add_station(h1);
  w.add_station(h3);
  dev::link_config c;
  c.delay = 1_us;
  w.add_link({"sw1-sw2", {"sw1", 0}, {"sw2", 0}, c});
  w.add_link({"sw1-sw3", {"sw1", 1}, {"sw3", 0}, c});
  w.add_link({"sw2-sw3", {"sw2", 1}, {"sw3", 1}, c});
  w.add_link({"h1-sw1", {"h1", 0}, {"sw1", 3}, {}});
  w.add_link({"h3-sw3", {"h3", 0}, {"sw3", 3}, {}});
  w.add_probe({"h3-to-h1", "h3", "h1", std::nullopt, std::nullopt, 10_ms, 35_s, 85_s, 64});
  scenario::action_spec cut;
  cut.at = 40_s;
  cut.kind = scenario::action_kind::link_down;
  cut.target = "sw1-sw3";
  w.schedule(cut);
}

}  // namespace

TEST_CASE("builder: 802.1D root port failover takes 2 x forward delay") {
  scenario::world w(1);
  triangle(w, net::stp_mode::stp);
  const auto sw3 = *w.find_switch("sw3");
  w.run_until(39_s);
  CHECK(w.port_state(sw3, 1) == "blocking");
  CHECK(w.port_state(sw3, 0) == "forwarding");
  // Carrier loss at 40 s: the blocked port listens, learns at 55 s, forwards at 70 s
  // (Forward Delay 15 s, 802.1D-1998 Table 8-3).
  w.run_until(55_s - 1_ns);
  CHECK(w.port_state(sw3, 1) == "listening");
  w.run_until(55_s);
  CHECK(w.port_state(sw3, 1) == "learning");
  w.run_until(70_s - 1_ns);
  CHECK(w.port_state(sw3, 1) == "learning");
  w.run_until(70_s);
  CHECK(w.port_state(sw3, 1) == "forwarding");
  w.run_until(90_s);
  const auto& ps = w.probe_results(*w.find_probe("h3-to-h1"));
  CHECK(ps.sent == 5001);
  CHECK(ps.duplicates == 0);
  // The last frame before the cut left h3 at 39.99 s; the first after it at 70 s. One hop
  // h3->sw3 at 1 Gb/s: 64+24 bytes = 704 ns + 500 ns; 5 us store and forward per switch;
  // sw3->sw2->sw1 (1 us each) or sw3->sw1; then sw1->h1.
  CHECK(ps.gap_from == 39_s + 990_ms + 14'112_ns);
  CHECK(ps.gap_to == 70_s + 20'816_ns);
  CHECK(ps.max_gap == ps.gap_to - ps.gap_from);
  CHECK(ps.lost() == 3000);  // 40.00 .. 69.99 s
}

TEST_CASE("builder: RSTP moves the alternate port to root port at once") {
  scenario::world w(1);
  triangle(w, net::stp_mode::rstp);
  w.run_until(90_s);
  const auto& ps = w.probe_results(*w.find_probe("h3-to-h1"));
  CHECK(ps.lost() == 0);
  CHECK(ps.max_gap < 11_ms);
  CHECK(w.port_state(*w.find_switch("sw3"), 1) == "forwarding");
}

TEST_CASE("builder: expectations report the measured value next to the bound") {
  scenario::world w(1);
  triangle(w, net::stp_mode::stp);
  scenario::expectation_spec e;
  e.name = "gap";
  e.kind = scenario::expectation_kind::probe_max_gap;
  e.target = "h3-to-h1";
  e.op = scenario::comparison::le;
  e.value = (5_s).ns();
  w.expect(e);
  scenario::expectation_spec s;
  s.name = "state";
  s.kind = scenario::expectation_kind::port_state;
  s.target = "sw3";
  s.port = 1;
  s.state = "forwarding";
  s.by = 71_s;
  s.after = 40_s;
  w.expect(s);
  w.run_until(90_s);
  const auto r = w.evaluate();
  REQUIRE(r.size() == 2);
  CHECK_FALSE(r[0].pass);
  CHECK(r[0].measured == "30.010006704s");
  CHECK(r[0].bound == "<= 5s");
  CHECK(r[1].pass);
  CHECK(r[1].measured == "forwarding at 70s");
}

TEST_CASE("builder: misuse names the thing and the rule") {
  scenario::world w(1);
  CHECK_THROWS_WITH_AS(w.add_link({"x", {"a", 0}, {"b", 0}, {}}),
                       "link \"x\": no switch, hub, station or endpoint named \"a\"", scenario::scenario_error);
  scenario::switch_spec s;
  s.cfg.name = "sw";
  s.cfg.ports = 2;
  w.add_switch(s);
  CHECK_THROWS_AS(w.add_switch(s), scenario::scenario_error);
  CHECK_THROWS_WITH_AS(w.add_link({"y", {"sw", 5}, {"sw", 0}, {}}), "link \"y\": switch \"sw\" has no port 5",
                       scenario::scenario_error);
  scenario::action_spec a;
  a.kind = scenario::action_kind::link_down;
  a.target = "nope";
  CHECK_THROWS_WITH_AS(w.schedule(a), "no link named \"nope\"", scenario::scenario_error);
}

TEST_CASE("capture: the link tap writes every delivered frame of both directions") {
  const std::filesystem::path dir = std::filesystem::path(VNETSIM_TEST_TMPDIR) / "world_capture";
  std::filesystem::create_directories(dir);
  {
    scenario::world w(1);
    scenario::switch_spec s;
    s.cfg.name = "sw";
    s.cfg.ports = 2;
    w.add_switch(s);
    scenario::station_spec a{"a", {}}, b{"b", {}};
    a.nic.mac = *wire::mac_address::parse("02:00:00:00:00:0a");
    b.nic.mac = *wire::mac_address::parse("02:00:00:00:00:0b");
    w.add_station(a);
    w.add_station(b);
    w.add_link({"a-sw", {"a", 0}, {"sw", 0}, {}});
    w.add_link({"b-sw", {"b", 0}, {"sw", 1}, {}});
    scenario::probe_spec p{"p", "a", "b", std::nullopt, std::nullopt, 1_ms, 1_ms, 3_ms, 100};
    w.add_probe(p);
    scenario::probe_spec q{"q", "b", "a", std::nullopt, std::nullopt, 1_ms, 1_ms, 2_ms, 60};
    w.add_probe(q);
    w.capture({"b-sw", "b.pcap"}, dir);
    w.run_until(10_ms);
    w.close_captures();
    CHECK(w.probe_results(0).unique == 3);
    CHECK(w.probe_results(1).unique == 2);
    CHECK(w.station_counters(1).probe_frames == 3);
  }
  auto rd = report::pcap_reader::open(dir / "b.pcap");
  const auto recs = rd.records();
  REQUIRE(recs.size() == 5);  // 3 from the switch to b, 2 from b to the switch
  CHECK(recs[0].data.size() == 60);   // b -> sw at 1 ms, arrives first
  CHECK(recs[0].ts == 1_ms + 1'172_ns);  // (60+24) bytes at 1 Gb/s = 672 ns, plus 500 ns
  CHECK(recs[1].data.size() == 100);  // a -> sw -> b
  for (std::size_t i = 1; i < recs.size(); ++i) CHECK(recs[i - 1].ts <= recs[i].ts);
}

TEST_CASE("report: the same seed gives the same bytes") {
  auto once = [] {
    scenario::world w(7);
    triangle(w, net::stp_mode::stp);
    w.run_until(45_s);
    const report::run_info info{"triangle", "0", 7, 45_s, {}};
    return report::json_report(w, info, w.evaluate()) + report::human_summary(w, info, w.evaluate());
  };
  const std::string a = once();
  CHECK(a == once());
  CHECK(a.find("\"seed\": 7") != std::string::npos);
  CHECK(a.find("\"in_flight\"") != std::string::npos);
}

TEST_CASE("trace: one line per delivery, action and state change") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  {
    scenario::world w(1);
    w.set_trace(f);
    triangle(w, net::stp_mode::stp);
    w.run_until(40_s + 2_ms);
  }
  std::rewind(f);
  std::string text;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  std::fclose(f);
  CHECK(text.find("0s stp sw1 port 0: disabled=>listening\n") != std::string::npos);
  CHECK(text.find("40s timeline link sw1-sw3 carrier down\n") != std::string::npos);
  CHECK(text.find("40s stp sw3 port 1: blocking=>listening\n") != std::string::npos);
  // Probe frames at 35 s: h3 -> sw3, type 0x88b6.
  CHECK(text.find("35.000001204s deliver h3-sw3 from a len 64 02:00:00:00:00:03 > 02:00:00:00:00:01 type 0x88b6\n") !=
        std::string::npos);
}

TEST_CASE("builder: IPv4 endpoints with a UDP flow and pings across a switch") {
  scenario::world w(1);
  scenario::switch_spec s;
  s.cfg.name = "sw";
  s.cfg.ports = 2;
  w.add_switch(s);
  for (int i = 1; i <= 2; ++i) {
    scenario::endpoint_spec e;
    e.cfg.name = fmt::format("e{}", i);
    e.cfg.mac = e.nic.mac = wire::mac_address::from_u64(0x0200'0000'0000ULL + static_cast<std::uint64_t>(i));
    e.cfg.ip = *wire::ipv4_address::parse(fmt::format("10.0.0.{}", i));
    e.cfg.prefix_len = 24;
    w.add_endpoint(e);
    w.add_link({fmt::format("e{}-sw", i), {e.cfg.name, 0}, {"sw", static_cast<std::uint32_t>(i - 1)}, {}});
  }
  scenario::flow_spec f{"f", "e1", "e2", 49152, 9, 64, traffic::arrival_process::constant, 100, 1_s, 2_s};
  w.add_flow(f);
  scenario::ping_spec p{"p", "e1", "e2", 1_s, 100_ms, 1_s, 5};
  w.add_ping(p);
  scenario::action_spec cut{};
  cut.at = 1500_ms;
  cut.kind = scenario::action_kind::link_down;
  cut.target = "e2-sw";
  w.schedule(cut);
  w.run_until(3_s);
  const auto& fs = w.endpoints().flow_stats(0);
  CHECK(fs.sent == 100);
  CHECK(fs.delivered == 50);  // 1.00 .. 1.49 s
  CHECK(fs.lost == 50);
  CHECK(w.ping_lost(0) == 0);  // 1.0 .. 1.4 s, all before the cut
  CHECK_THROWS_AS(w.add_flow({"g", "e1", "sw", 1, 9, 64, traffic::arrival_process::constant, 1, 4_s, 5_s}),
                  scenario::scenario_error);
}

namespace {

/// esx1 (bond0 = vmnic0 + vmnic1, home_link vmnic0) to sw1 ports 0 and 1; VM web on
/// Network0 sends a UDP flow to the endpoint db on sw1 port 2.
void esx_pair(scenario::world& w) {
  scenario::switch_spec s;
  s.cfg.name = "sw1";
  s.cfg.ports = 4;
  w.add_switch(s);
  scenario::endpoint_spec db;
  db.cfg.name = "db";
  db.cfg.mac = db.nic.mac = *wire::mac_address::parse("02:00:00:00:00:02");
  db.cfg.ip = *wire::ipv4_address::parse("10.0.0.2");
  w.add_endpoint(db);
  scenario::host_spec h;
  h.name = "esx1";
  h.pointer = "/hosts/0";
  for (const char* mac : {"00:50:56:00:01:00", "00:50:56:00:01:01"}) {
    dev::nic_config n;
    n.mac = *wire::mac_address::parse(mac);
    h.vmnics.push_back(n);
  }
  h.bonds.push_back({0, {0, 1}, {{"home_link", "vmnic0"}}});
  h.vswitches.push_back({"Network0", host::bond_binding{0}, 32, {}});
  scenario::vm_spec vm;
  vm.name = "web";
  scenario::vnic_spec v;
  v.cfg.network = "Network0";
  v.ep.name = "web";
  v.ep.ip = *wire::ipv4_address::parse("10.0.0.1");
  vm.vnics.push_back(v);
  h.vms.push_back(vm);
  w.add_host(h);
  dev::link_config c;
  c.delay = 1_us;
  w.add_link({"u0", {"esx1", 0}, {"sw1", 0}, c});
  w.add_link({"u1", {"esx1", 1}, {"sw1", 1}, c});
  w.add_link({"d", {"db", 0}, {"sw1", 2}, c});
  scenario::flow_spec f;
  f.name = "web-db";
  f.from = "web";
  f.to = "db";
  f.rate_pps = 100;
  f.start = 1_s;
  f.stop = 5_s;
  w.add_flow(f);
}

}  // namespace

TEST_CASE("builder: a VM's flow fails over from vmnic0 to vmnic1 on carrier loss") {
  scenario::world w;
  esx_pair(w);
  scenario::action_spec down;
  down.at = 2_s;
  down.kind = scenario::action_kind::link_down;
  down.target = "u0";
  w.schedule(down);
  scenario::expectation_spec e;
  e.name = "moved";
  e.kind = scenario::expectation_kind::bond_failover;
  e.target = "esx1";
  e.port = 0;
  e.from_vmnic = 0;
  e.to_vmnic = 1;
  e.after = 1_s;
  e.by = 2_s + 1_ms;
  w.expect(e);
  w.run_until(6_s);
  const auto r = w.evaluate();
  REQUIRE(r.size() == 1);
  // The NIC's detection delay is 0: the bond moves at the carrier loss itself.
  CHECK(r[0].pass);
  CHECK(r[0].measured.starts_with("moved at 2"));
  const auto& fs = w.endpoints().flow_stats(*w.endpoints().find_flow("web-db"));
  CHECK(fs.sent == 400);
  CHECK(fs.delivered >= 398);
  CHECK(w.hosts().bond_stats(0, 0).failovers == 1);
  bool seen = false;
  for (const auto& t : w.timeline()) seen = seen || (t.source == "host" && t.what == "active_changed");
  CHECK(seen);
}

TEST_CASE("builder: vnic_uplink reads the member the bond picks for a vNIC at a time") {
  scenario::world w;
  esx_pair(w);  // standby bond0 = vmnic0 (home) + vmnic1; VM web on Network0
  scenario::action_spec down;
  down.at = 2_s;
  down.kind = scenario::action_kind::link_down;
  down.target = "u0";
  w.schedule(down);
  const auto uplink = [&](const char* name, sim_time at, unsigned vmnic) {
    scenario::expectation_spec e;
    e.name = name;
    e.kind = scenario::expectation_kind::vnic_uplink;
    e.target = "esx1";
    e.port = 0;
    e.vnic = "web";
    e.to_vmnic = vmnic;
    e.at = at;
    w.expect(e);
  };
  uplink("home", 1_s, 0);
  uplink("moved", 2_s + 1_ns, 1);
  uplink("wrong", 3_s, 0);  // must fail: web is on vmnic1 by then
  uplink("late", 7_s, 1);   // after the end of the run
  w.run_until(6_s);
  const auto r = w.evaluate();
  REQUIRE(r.size() == 4);
  CHECK(r[0].pass);
  CHECK(r[0].measured == "vmnic0");
  CHECK(r[1].pass);
  CHECK(r[1].measured == "vmnic1");
  CHECK_FALSE(r[2].pass);
  CHECK(r[2].measured == "vmnic1");
  CHECK(r[2].bound == "vmnic0 at 3s");
  CHECK_FALSE(r[3].pass);
  CHECK(r[3].measured == "not reached (the run ended earlier)");
}

TEST_CASE("builder: vnic_uplink names what is wrong with its references") {
  scenario::world w;
  esx_pair(w);
  scenario::expectation_spec e;
  e.name = "x";
  e.kind = scenario::expectation_kind::vnic_uplink;
  e.target = "esx1";
  e.port = 0;
  e.vnic = "web";
  e.to_vmnic = 1;
  CHECK_THROWS_WITH_AS(w.expect(e), "expectation x: vnic_uplink needs \"at\"", scenario::scenario_error);
  e.at = 1_s;
  e.vnic = "db";  // an endpoint, but not a VM's vNIC
  CHECK_THROWS_WITH_AS(w.expect(e), "expectation x: no VM vNIC named \"db\"", scenario::scenario_error);
  e.vnic = "web";
  e.to_vmnic = 2;
  CHECK_THROWS_WITH_AS(w.expect(e), "expectation x: vmnic2 is not a member of bond0", scenario::scenario_error);
  e.to_vmnic = 1;
  e.target = "esx9";
  CHECK_THROWS_WITH_AS(w.expect(e), "expectation x: no host named \"esx9\"", scenario::scenario_error);
}

TEST_CASE("builder: host errors name the JSON pointer; a bad scheduled change is a timeline entry") {
  scenario::world w;
  esx_pair(w);
  scenario::host_spec bad;
  bad.name = "esx2";
  bad.pointer = "/hosts/1";
  bad.advanced.push_back({"SwitchFailoverThreshold", "1"});
  CHECK_THROWS_WITH_AS(w.add_host(bad), doctest::Contains("/hosts/1/advanced/SwitchFailoverThreshold: host \"esx2\""),
                       scenario::scenario_error);
  scenario::action_spec a;
  a.at = 1_s;
  a.kind = scenario::action_kind::set_nicteam;
  a.target = "esx1";
  a.key = "nicteam.bond0.load_balance_mode";
  a.value = "round-robin";
  w.schedule(a);
  w.run_until(2_s);
  bool rejected = false;
  for (const auto& t : w.timeline()) rejected = rejected || (t.what == "rejected" && t.at == 1_s);
  CHECK(rejected);
}

TEST_CASE("build: a host_error from a loaded file names the JSON pointer of the object") {
  // The loader leaves nicteam values to the host layer (Advanced Settings it checks itself,
  // loader_test.cpp); the build reports where they came from.
  const auto r = scenario::load_scenario(R"({"vnetsim": 1, "name": "t", "duration": "1s",
    "hosts": [ { "name": "esx1", "vswitches": [ { "label": "I", "binding": "vmnet_0" } ] },
               { "name": "esx2", "vmnics": [ { "mac": "00:50:56:00:01:00" } ],
                 "bonds": [ { "number": 0, "members": [0], "nicteam": { "load_balance_mode": "round-robin" } } ] } ] })");
  REQUIRE(r.ok());
  scenario::world w;
  CHECK_THROWS_WITH_AS(scenario::build(w, *r.model),
                       doctest::Contains("/hosts/1/bonds/0/nicteam/load_balance_mode: host \"esx2\": "),
                       scenario::scenario_error);
}

TEST_CASE("build: a guest's VLAN tag reaches the virtual switch: VGT passes it, VST drops it [VLANWP]") {
  // One vswitch on vmnic0 (a trunk carrying VLANs 20 and 30) with a VGT and a VST port group.
  // Guest g tags VLAN 30 on the VGT port group: its tag crosses the trunk and it reaches
  // e30 (access VLAN 30). Guest t tags VLAN 20 on the VST port group: the vswitch drops each
  // of its frames (dropped_vlan); before the fix the tag rode in the frame metadata past the
  // vswitch, which tagged the frame again for VST, and the NIC sent it double-tagged.
  const auto r = scenario::load_scenario(R"({"vnetsim": 1, "name": "t", "duration": "3s",
    "switches": [ { "name": "sw1", "ports": 3, "port_config": [
      { "port": 0, "mode": "trunk", "allowed_vlans": [1, 20, 30] }, { "port": 1, "vlan": 30 }, { "port": 2, "vlan": 20 } ] } ],
    "endpoints": [ { "name": "e30", "mac": "02:00:00:00:00:30", "ip": "10.0.30.2/24" },
                   { "name": "e20", "mac": "02:00:00:00:00:20", "ip": "10.0.20.2/24" } ],
    "hosts": [ { "name": "esx1", "vmnics": [ { "mac": "00:50:56:00:01:00" } ],
      "vswitches": [ { "label": "N", "binding": "vmnic0",
                       "port_groups": [ { "label": "All", "vlan": 4095 }, { "label": "V20", "vlan": 20 } ] } ],
      "vms": [ { "name": "g", "vnics": [ { "network": "All", "ip": "10.0.30.1/24", "vlan": 30 } ] },
               { "name": "t", "vnics": [ { "network": "V20", "ip": "10.0.20.1/24", "vlan": 20 } ] } ] } ],
    "links": [ { "name": "u0", "a": "esx1:vmnic0", "b": "sw1:0" }, { "name": "l30", "a": "e30", "b": "sw1:1" },
               { "name": "l20", "a": "e20", "b": "sw1:2" } ],
    "flows": [ { "name": "g-e30", "from": "g", "to": "e30", "pps": 10, "start": "1s", "stop": "2s" },
               { "name": "t-e20", "from": "t", "to": "e20", "pps": 10, "start": "1s", "stop": "2s" } ] })");
  for (const auto& d : r.diagnostics) MESSAGE(d.pointer << ": " << d.message);
  REQUIRE(r.ok());
  scenario::world w;
  scenario::build(w, *r.model);
  w.run_until(3_s);
  const auto& g = w.endpoints().flow_stats(*w.endpoints().find_flow("g-e30"));
  CHECK(g.sent == 10);
  CHECK(g.delivered == 10);
  const auto& t = w.endpoints().flow_stats(*w.endpoints().find_flow("t-e20"));
  CHECK(t.delivered == 0);
  // Every frame t sent (its ARP requests: it never learns e20's MAC) died in the vswitch.
  const auto vs = *w.hosts().find_vswitch(0, "N");
  CHECK(w.hosts().vswitch_stats(vs).dropped_vlan > 0);
  CHECK(w.hosts().vswitch_stats(vs).dropped_vlan == w.hosts().vnic_stats(1).tx_frames);
  CHECK(w.hosts().vnic_stats(1).tx_dropped == w.hosts().vnic_stats(1).tx_frames);
  // e20 never heard of t; the trunk carried only g's frames (the ARP request and 10 datagrams) out of the host.
  CHECK(w.links().stats(0, dev::link_side::a).out_frames == 11);
}

namespace {

/// esx1 (bond0 = vmnic0 (+ VMNIC0 keys) and vmnic1, nicteam NICTEAM: out-mac when empty) and
/// endpoint db on sw1; VM web sends a 100 packet/s UDP flow to db from 1 s to 9 s. SETTINGS, TIMELINE, TCP, EXPECT fill in.
constexpr std::string_view esx_doc = R"({"vnetsim": 1, "name": "e", "duration": "10s",
  "settings": { SETTINGS },
  "switches": [ { "name": "sw1", "ports": 4 } ],
  "endpoints": [ { "name": "db", "mac": "02:00:00:00:00:02", "ip": "10.0.0.2/24" } ],
  "hosts": [ { "name": "esx1",
    "vmnics": [ { "mac": "00:50:56:00:01:00" VMNIC0 }, { "mac": "00:50:56:00:01:01" } ],
    "bonds": [ { "number": 0, "members": [0, 1], "nicteam": { NICTEAM } } ],
    "vswitches": [ { "label": "Network0", "binding": "bond0" } ],
    "vms": [ { "name": "web", "vnics": [ { "network": "Network0", "mac": "00:50:56:00:02:01", "ip": "10.0.0.1/24" } ] } ] } ],
  "links": [ { "name": "u0", "a": "esx1:vmnic0", "b": "sw1:0", "delay": "1us" },
             { "name": "u1", "a": "esx1:vmnic1", "b": "sw1:1", "delay": "1us" },
             { "name": "d", "a": "db", "b": "sw1:2", "delay": "1us" } ],
  "flows": [ { "name": "web-db", "from": "web", "to": "db", "pps": 100, "start": "1s", "stop": "9s" } ],
  "tcp": [ TCP ],
  "timeline": [ TIMELINE ],
  "expectations": [ EXPECT ]
})";

/// esx_doc with its placeholders filled (those not given: empty).
scenario::scenario_model esx_model(std::initializer_list<std::pair<std::string_view, std::string>> parts) {
  std::string s(esx_doc);
  for (std::string_view key : {"SETTINGS", "NICTEAM", "TCP", "TIMELINE", "EXPECT", "VMNIC0"}) {
    std::string value;
    for (const auto& [k, v] : parts) {
      if (k == key) value = v;
    }
    s.replace(s.find(key), key.size(), value);
  }
  auto r = scenario::load_scenario(s);
  for (const auto& d : r.diagnostics) MESSAGE(d.pointer << ": " << d.message);
  REQUIRE(r.ok());
  return *r.model;
}

bool has_entry(const scenario::world& w, std::string_view what, sim_time at, std::string_view detail_part = {}) {
  for (const auto& t : w.timeline()) {
    if (t.what == what && t.at == at && t.detail.find(detail_part) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("settings: applied to every host before its own advanced settings") {
  auto m = esx_model({{"SETTINGS", R"("SwitchFailoverThreshold": 3, "SwitchFailoverBeaconInterval": "500ms")"}});
  m.hosts[0].advanced.push_back({"SwitchFailoverBeaconInterval", "2"});  // the host's own wins
  scenario::world w;
  scenario::build(w, m);
  CHECK(w.hosts().advanced(0).threshold == 3);
  CHECK(w.hosts().advanced(0).beacon_interval == 2_s);
  CHECK(w.hosts().beacon_monitor(0, 0) != nullptr);  // threshold 3 turns beacon monitoring on
  // Given after a host exists, settings apply to it too; a bad one names /settings/<key>.
  CHECK_THROWS_WITH_AS(w.set_settings({{"SwitchFailoverThreshold", "1"}}),
                       doctest::Contains("/settings/SwitchFailoverThreshold: host \"esx1\""), scenario::scenario_error);
  w.set_settings({{"SwitchFailoverThreshold", "0"}});
  CHECK(w.hosts().advanced(0).threshold == 0);
}

TEST_CASE("timeline: vm_power disconnects the VM's vNIC; binding changes wait for it") {
  const auto m = esx_model({{"TIMELINE", R"(
      { "at": "2s", "action": "bond_remove_member", "host": "esx1", "bond": "bond0", "vmnic": "vmnic1" },
      { "at": "3s", "action": "vm_power", "host": "esx1", "vm": "web", "on": false },
      { "at": "3500ms", "action": "rename_label", "host": "esx1", "label": "Network0", "to": "Web" },
      { "at": "4s", "action": "bond_remove_member", "host": "esx1", "bond": "bond0", "vmnic": "vmnic1" },
      { "at": "5s", "action": "vm_power", "host": "esx1", "vm": "web", "on": true })"},
                            {"EXPECT", R"({ "type": "flow_max_gap", "flow": "web-db", "op": "<=", "value": "2010ms" },
      { "type": "host_counter", "host": "esx1", "counter": "uplink_tx", "op": ">=", "value": 1 })"}});
  scenario::world w;
  scenario::build(w, m);
  w.run_until(10_s);
  // A running VM uses the bond's vswitch: the 2 s change is rejected [AG2][SEED].
  CHECK(has_entry(w, "rejected", 2_s, "host esx1 bond0 remove member vmnic1 rejected: "));
  CHECK(has_entry(w, "vm_power", 3_s, "host esx1 VM web power off"));
  CHECK(has_entry(w, "rename_label", 3500_ms, "host esx1 label Network0 renamed Web"));
  CHECK(has_entry(w, "bond_member", 4_s, "host esx1 bond0 remove member vmnic1"));
  CHECK(has_entry(w, "vm_power", 5_s));
  CHECK(w.hosts().bond_vmnics(0, 0) == std::vector<unsigned>{0});
  CHECK(w.hosts().vswitch_label(w.host_vswitches(0)[0]) == "Web");
  // Off from 3 s to 5 s: the datagrams of 3.00 s .. 4.99 s are dropped at the vNIC.
  const auto& fs = w.endpoints().flow_stats(*w.endpoints().find_flow("web-db"));
  CHECK(fs.sent == 800);
  CHECK(fs.delivered == 600);
  CHECK(fs.longest_gap == 2010_ms);  // 2.99 s -> 5.00 s
  const auto r = w.evaluate();
  CHECK(r[0].pass);
  CHECK(r[1].pass);
  // The report names the vswitch by its label now.
  const auto json = report::json_report(w, {"e", "0", 1, 10_s, {}}, r);
  CHECK(json.find("\"label\": \"Web\"") != std::string::npos);
}

TEST_CASE("bond_failover: a member leaves the active set of an out-mac bond; a VM's frames move") {
  // out-mac (no home_link): both members carry traffic; web's MAC hashes to one of them.
  const auto probe = esx_model({{"NICTEAM", R"("load_balance_mode": "out-mac")"},
                                {"EXPECT", R"({ "type": "frames_lost", "op": ">=", "value": 0 })"}});
  unsigned used = 0;
  {
    scenario::world w;
    scenario::build(w, probe);
    w.run_until(2_s);
    used = w.links().stats(*w.links().find("u1"), dev::link_side::a).out_frames >
                   w.links().stats(*w.links().find("u0"), dev::link_side::a).out_frames
               ? 1
               : 0;
  }
  const unsigned other = 1 - used;
  const auto m = esx_model({{"NICTEAM", R"("load_balance_mode": "out-mac")"},
                            {"TIMELINE", fmt::format(R"({{ "at": "3s", "action": "link_down", "link": "u{}" }})", used)},
                            {"EXPECT", fmt::format(R"({{ "name": "leaves", "type": "bond_failover", "host": "esx1", "bond": "bond0",
                                 "member": "vmnic{0}", "after": "2s", "by": "3s" }},
                              {{ "name": "moves", "type": "bond_failover", "host": "esx1", "bond": "bond0", "vm": "web",
                                 "from": "vmnic{0}", "to": "vmnic{1}", "after": "2s", "by": "3011ms" }},
                              {{ "name": "other_stays", "type": "bond_failover", "host": "esx1", "bond": "bond0",
                                 "member": "vmnic{1}", "after": "2s", "by": "9s" }})",
                                        used, other)}});
  scenario::world w;
  scenario::build(w, m);
  w.run_until(10_s);
  const auto r = w.evaluate();
  REQUIRE(r.size() == 3);
  CHECK(r[0].pass);
  CHECK(r[0].measured == "left at 3s");  // detect_down 0: at the carrier loss
  CHECK(r[0].bound == "in (2s, 3s]");
  CHECK(r[0].text == fmt::format("vmnic{} leaves the active set of bond0 on host esx1 after 2s", used));
  CHECK(r[1].pass);
  // The datagram of 3.00 s is refused (no carrier); the one of 3.01 s leaves over the other
  // vmnic (the time is its delivery at sw1, the far end of the link).
  CHECK(r[1].measured.starts_with("moved at 3.01"));
  CHECK_FALSE(r[2].pass);
  CHECK(r[2].measured == "stayed in the active set");
}

TEST_CASE("tcp: a bulk transfer from a VM, with the failover in its report") {
  const auto m = esx_model({{"NICTEAM", R"("home_link": "vmnic0")"},
                            {"TCP", R"({ "name": "bulk", "from": "web", "to": "db", "bytes": 100000000, "start": "1s" })"},
                            {"TIMELINE", R"({ "at": "1300ms", "action": "link_down", "link": "u0" })"},
                            {"EXPECT", R"({ "type": "tcp_bytes", "tcp": "bulk", "op": "==", "value": 100000000 },
                               { "type": "tcp_retransmits", "tcp": "bulk", "op": ">=", "value": 1 },
                               { "type": "tcp_max_stall", "tcp": "bulk", "op": "<=", "value": "1500ms" })"},
                            {"VMNIC0", R"(, "detect_down": "100ms")"}});
  scenario::world w;
  scenario::build(w, m);
  w.run_until(10_s);
  REQUIRE(w.tcp() != nullptr);
  const auto rep = w.tcp()->report(0);
  CHECK(rep.app.complete);
  CHECK(rep.app.bytes_delivered == 100'000'000);
  const auto r = w.evaluate();
  CHECK(r[0].pass);
  CHECK(r[1].pass);  // segments sent on vmnic0 before it notices the cut (100 ms) are lost
  // The stall: the 100 ms until vmnic0 reports link down, then the retransmission timer
  // (RTO at least 1 s, RFC 6298 2.4) runs out: the model's exact value.
  CHECK(r[2].pass);
  CHECK(r[2].measured == "1.200039952s");
  CHECK(w.tcp_goodput_bps(0) > 100'000'000);  // a 1 Gbit/s path
  const auto json = report::json_report(w, {"e", "0", 1, 10_s, {}}, r);
  CHECK(json.find("\"tcp\": [") != std::string::npos);
  CHECK(json.find("\"tcpRetransSegs\"") != std::string::npos);
  const auto text = report::human_summary(w, {"e", "0", 1, 10_s, {}}, r);
  CHECK(text.find("TCP bulk transfers") != std::string::npos);
}

TEST_CASE("tcp: stop ends a transfer of no fixed size") {
  const auto m = esx_model({{"TCP", R"({ "name": "bulk", "from": "db", "to": "web", "start": "1s", "stop": "2s" })"},
                            {"EXPECT", R"({ "type": "tcp_bytes", "tcp": "bulk", "op": ">", "value": 0 })"}});
  scenario::world w;
  scenario::build(w, m);
  w.run_until(2_s);
  const std::uint64_t at_stop = w.tcp()->report(0).app.bytes_delivered;
  w.run_until(10_s);
  CHECK(has_entry(w, "stop", 2_s, "tcp bulk: the client stops writing"));
  const auto rep = w.tcp()->report(0);
  CHECK(rep.app.complete);
  CHECK(rep.app.bytes_delivered > at_stop);       // what was written is still delivered
  CHECK(rep.app.bytes_delivered < at_stop + 2'000'000);  // within a send buffer of the stop
}

TEST_CASE("trace: host events go to the live trace") {
  const auto m = esx_model({{"TIMELINE", R"({ "at": "3s", "action": "link_down", "link": "u0" })"},
                            {"EXPECT", R"({ "type": "frames_lost", "op": ">=", "value": 0 })"}});
  const auto path = std::filesystem::path(VNETSIM_TEST_TMPDIR) / "host_trace.txt";
  std::FILE* f = std::fopen(path.string().c_str(), "wb");
  REQUIRE(f != nullptr);
  {
    scenario::world w;
    w.set_trace(f);
    scenario::build(w, m);
    w.run_until(4_s);
  }
  std::fclose(f);
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // An out-mac bond here (no home_link): a member failover, no active_changed.
  const auto action = text.find("\n3s timeline link u0 carrier down\n");
  const auto member = text.find("\n3s host member_state esx1 bond0 vmnic0: UP=>LINK_DOWN\n");
  const auto failover = text.find("\n3s host failover esx1 bond0: failover from vmnic0\n");
  REQUIRE(action != std::string::npos);
  CHECK(member == action + 33);  // written in the order they happened
  CHECK(failover > member);
  CHECK(text.starts_with("0s host config esx1 bond0: config bond0 = 2 vmnics\n"));
}

TEST_CASE("port states: a change after a switch's carrier-detection delay is seen at its exact time") {
  // The 802.1D triangle of stp_root_port_failover.json, sw3 detecting carrier changes 3.5 ms
  // late, and a fallback watch of 1 s that would see the change up to 1 s late.
  std::ifstream in(std::filesystem::path(VNETSIM_SOURCE_DIR) / "scenarios" / "stp_root_port_failover.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto loaded = scenario::load_scenario(text);
  REQUIRE(loaded.ok());
  auto m = *loaded.model;
  m.observe_interval = 1_s;
  m.switches[2].cfg.link_detect_delay = 3500_us;
  scenario::world w(m.seed, m.observe_interval);
  scenario::build(w, m);
  w.run_until(41_s);
  std::vector<std::string> sw3;
  for (const auto& t : w.timeline()) {
    if (t.source == "stp" && t.at >= 40_s && t.detail.starts_with("sw3 port 0:")) sw3.push_back(fmt::format("{} {}", t.at, t.detail));
  }
  REQUIRE_FALSE(sw3.empty());
  CHECK(sw3[0] == "40.0035s sw3 port 0: forwarding=>disabled");
}
