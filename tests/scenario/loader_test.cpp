#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "vnetsim/scenario/loader.hpp"

using namespace vnetsim;
using namespace vnetsim::literals;
using scenario::load_scenario;

namespace {

const scenario::diagnostic* find(const scenario::load_result& r, std::string_view pointer) {
  for (const auto& d : r.diagnostics) {
    if (d.pointer == pointer) return &d;
  }
  return nullptr;
}

constexpr std::string_view minimal = R"({
  "vnetsim": 1,
  "name": "m",
  "duration": "2.5s",
  "switches": [ { "name": "sw1", "ports": 2 } ],
  "stations": [ { "name": "h1", "mac": "02:00:00:00:00:01" } ],
  "links": [ { "name": "l1", "a": "h1", "b": "sw1:1", "speed": "100Mbps", "delay": "250ns" } ]
})";

}  // namespace

TEST_CASE("parse_rate reads SI rates exactly") {
  CHECK(scenario::parse_rate("1Gbps") == 1'000'000'000u);
  CHECK(scenario::parse_rate("10Mbps") == 10'000'000u);
  CHECK(scenario::parse_rate("2.5Gbps") == 2'500'000'000u);
  CHECK(scenario::parse_rate("100kbps") == 100'000u);
  CHECK(scenario::parse_rate("9600bps") == 9600u);
  CHECK_FALSE(scenario::parse_rate("1.5bps"));
  CHECK_FALSE(scenario::parse_rate("1 Gbps"));
  CHECK_FALSE(scenario::parse_rate("Gbps"));
  CHECK_FALSE(scenario::parse_rate("1GBps"));
  CHECK_FALSE(scenario::parse_rate("-1Mbps"));
}

TEST_CASE("a minimal scenario loads into the model") {
  const auto r = load_scenario(minimal);
  REQUIRE(r.ok());
  CHECK(r.diagnostics.empty());
  const auto& m = *r.model;
  CHECK(m.name == "m");
  CHECK(m.duration == 2500_ms);
  CHECK(m.seed == 1);
  REQUIRE(m.switches.size() == 1);
  CHECK(m.switches[0].cfg.ports == 2);
  REQUIRE(m.links.size() == 1);
  CHECK(m.links[0].a == scenario::port_ref{"h1", 0});
  CHECK(m.links[0].b == scenario::port_ref{"sw1", 1});
  CHECK(m.links[0].cfg.bandwidth_bps == 100'000'000u);
  CHECK(m.links[0].cfg.delay == 250_ns);
  CHECK(m.stations[0].nic.mac == *wire::mac_address::parse("02:00:00:00:00:01"));
}

TEST_CASE("every error is listed with its pointer, line and column") {
  const std::string text = R"({
  "vnetsim": 1,
  "name": "e",
  "duration": "10",
  "switches": [
    { "name": "sw1", "ports": 4, "colour": "red",
      "port_config": [ { "port": 7, "vlan": 4095 } ] }
  ],
  "links": [ { "name": "l1", "a": "sw1:0", "b": "ghost:1" } ]
})";
  const auto r = load_scenario(text);
  CHECK_FALSE(r.ok());
  CHECK(r.errors() == 5);
  const auto* d = find(r, "/duration");
  REQUIRE(d != nullptr);
  CHECK(d->line == 4);
  CHECK(d->column == 3);
  d = find(r, "/switches/0/colour");
  REQUIRE(d != nullptr);
  CHECK(d->line == 6);
  CHECK(d->column == 34);
  CHECK(d->message.find("unknown key \"colour\"") != std::string::npos);
  d = find(r, "/switches/0/port_config/0/port");
  REQUIRE(d != nullptr);
  CHECK(d->line == 7);
  CHECK(d->message == "7 is out of range [0, 3]");
  d = find(r, "/switches/0/port_config/0/vlan");
  REQUIRE(d != nullptr);
  CHECK(d->line == 7);
  CHECK(d->message.find("4095 is reserved") != std::string::npos);
  d = find(r, "/links/0/b");
  REQUIRE(d != nullptr);
  CHECK(d->line == 9);
  CHECK(d->message == "no switch, hub, station or endpoint named \"ghost\"");
  CHECK(d->to_string("f.json") == "f.json:9:44: error: /links/0/b: no switch, hub, station or endpoint named \"ghost\"");
  // Sorted by position.
  CHECK(std::is_sorted(r.diagnostics.begin(), r.diagnostics.end(),
                       [](const auto& a, const auto& b) { return a.line < b.line; }));
}

TEST_CASE("syntax errors carry the line of the problem") {
  const auto r = load_scenario("{\n  \"vnetsim\": 1,\n  \"name\": \"x\" \"duration\": \"1s\"\n}");
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].line == 3);
  CHECK(r.diagnostics[0].message.starts_with("not valid JSON"));
}

TEST_CASE("duplicate keys, names and MACs are errors") {
  const auto r = load_scenario(R"({"vnetsim": 1, "name": "d", "duration": "1s", "duration": "2s",
    "switches": [ { "name": "a", "ports": 2, "stp": "stp", "bridge": { "mac": "02:00:00:00:00:01" } } ],
    "stations": [ { "name": "a", "mac": "02:00:00:00:00:01" } ]})");
  CHECK_FALSE(r.ok());
  REQUIRE(find(r, "/duration") != nullptr);
  CHECK(find(r, "/duration")->message == "duplicate key \"duration\"");
  REQUIRE(find(r, "/stations/0/name") != nullptr);
  CHECK(find(r, "/stations/0/name")->message == "duplicate device name \"a\"");
  REQUIRE(find(r, "/stations/0/mac") != nullptr);
  CHECK(find(r, "/stations/0/mac")->message.find("duplicate MAC 02:00:00:00:00:01 (also at /switches/0/bridge/mac)") == 0);
  CHECK(find(r, "/stations/0/mac")->line == 3);
}

TEST_CASE("802.1D timer relations are checked") {
  auto with_times = [](std::string_view hello, std::string_view age, std::string_view fwd) {
    return load_scenario(fmt::format(R"({{"vnetsim": 1, "name": "t", "duration": "1s",
      "switches": [ {{ "name": "s", "ports": 2, "stp": "stp",
        "bridge": {{ "mac": "02:00:00:00:00:01", "hello_time": "{}", "max_age": "{}", "forward_delay": "{}" }} }} ]}})",
                                     hello, age, fwd));
  };
  CHECK(with_times("2s", "20s", "15s").ok());
  // max_age 30 > 2 * (15 - 1) = 28
  const auto r = with_times("2s", "30s", "15s");
  REQUIRE(find(r, "/switches/0/bridge") != nullptr);
  CHECK(find(r, "/switches/0/bridge")->message.find("2*(forward_delay - 1s) >= max_age") != std::string::npos);
  CHECK(find(r, "/switches/0/bridge")->line == 3);
  // max_age 6 < 2 * (4 + 1) = 10
  CHECK_FALSE(with_times("4s", "6s", "15s").ok());
}

TEST_CASE("the version, required keys and unsupported sections are errors") {
  const auto r = load_scenario(R"({"vnetsim": 2, "settings": {}})");
  CHECK(find(r, "/vnetsim") != nullptr);
  CHECK(find(r, "/settings") != nullptr);
  CHECK(std::count_if(r.diagnostics.begin(), r.diagnostics.end(),
                      [](const auto& d) { return d.pointer.empty(); }) == 2);  // name, duration
}

TEST_CASE("a loop through switches without spanning tree is a warning, not an error") {
  const auto r = load_scenario(R"({"vnetsim": 1, "name": "w", "duration": "1s",
    "switches": [ { "name": "a", "ports": 2 }, { "name": "b", "ports": 2 } ],
    "links": [ { "name": "l1", "a": "a:0", "b": "b:0" }, { "name": "l2", "a": "a:1", "b": "b:1" } ]})");
  REQUIRE(r.ok());
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].level == scenario::severity::warning);
  CHECK(r.diagnostics[0].pointer == "/links/0");
  CHECK(r.diagnostics[0].line == 3);
  CHECK(r.diagnostics[0].message.find("a/0 -> b/0, b/1 -> a/1") != std::string::npos);
}

TEST_CASE("references in timeline, probes and expectations must resolve") {
  const auto r = load_scenario(R"({"vnetsim": 1, "name": "r", "duration": "10s",
    "switches": [ { "name": "s", "ports": 2 } ],
    "stations": [ { "name": "h", "mac": "02:00:00:00:00:01" } ],
    "links": [ { "name": "l", "a": "h", "b": "s:0" } ],
    "probes": [ { "name": "p", "from": "h", "to": "nobody" } ],
    "timeline": [ { "at": "1s", "action": "shutdown", "switch": "s", "port": 5 },
                  { "at": "1s", "action": "black_hole", "link": "l", "from": "c" } ],
    "expectations": [ { "type": "probe_lost", "probe": "q", "op": "<=", "value": 0 },
                      { "type": "port_state", "switch": "s", "port": 0, "state": "forwarding" } ]})");
  CHECK(find(r, "/probes/0/to") != nullptr);
  CHECK(find(r, "/timeline/0/port") != nullptr);
  CHECK(find(r, "/timeline/1/from") != nullptr);
  CHECK(find(r, "/expectations/0/probe") != nullptr);
  CHECK(find(r, "/expectations/1") != nullptr);  // neither at nor by
  CHECK(r.errors() == 5);
}

namespace {

constexpr std::string_view host_base = R"({
  "vnetsim": 1, "name": "h", "duration": "10s",
  "switches": [ { "name": "sw1", "ports": 4 } ],
  "endpoints": [ { "name": "db", "mac": "02:00:00:00:00:02", "ip": "10.0.0.2/24" } ],
  "hosts": [ { "name": "esx1", "advanced": { "SwitchFailoverThreshold": 3 },
    "vmnics": [ { "mac": "00:50:56:00:01:00" }, { "mac": "00:50:56:00:01:01", "detect_down": "5ms" } ],
    "bonds": [ { "number": 0, "members": [0, MEMBER], "nicteam": { "home_link": "vmnic0" } } ],
    "vswitches": [ { "label": "Network0", "binding": "BINDING",
                     "port_groups": [ { "label": "VLAN10", "vlan": 10 } ] } ],
    "vms": [ { "name": "web", "vnics": [ { "network": "VLAN10", "ip": "10.0.0.1/24" } ] } ] } ],
  "links": [ { "name": "u0", "a": "esx1:vmnic0", "b": "sw1:0" }, { "name": "u1", "a": "END", "b": "sw1:1" },
             { "name": "d", "a": "db", "b": "sw1:2" } ],
  "flows": [ { "name": "f", "from": "web", "to": "db", "pps": 10 } ],
  "timeline": [ { "at": "2s", "action": "set_nicteam", "host": "esx1", "key": "nicteam.bond0.home_link", "value": "vmnic1" } ],
  "expectations": [ { "type": "bond_failover", "host": "esx1", "bond": "bond0", "from": "vmnic0", "to": "vmnic1", "by": "3s" },
                    { "type": "host_counter", "host": "esx1", "counter": "reflections", "op": "<=", "value": 5 } ]
})";

std::string host_doc(std::string member, std::string binding, std::string end) {
  std::string s(host_base);
  s.replace(s.find("MEMBER"), 6, member);
  s.replace(s.find("BINDING"), 7, binding);
  s.replace(s.find("END"), 3, end);
  return s;
}

}  // namespace

TEST_CASE("hosts: the section is read into the model") {
  const auto r = load_scenario(host_doc("1", "bond0", "esx1:vmnic1"));
  for (const auto& d : r.diagnostics) MESSAGE(d.pointer << ": " << d.message);
  REQUIRE(r.ok());
  REQUIRE(r.model->hosts.size() == 1);
  const auto& h = r.model->hosts[0];
  CHECK(h.pointer == "/hosts/0");
  REQUIRE(h.advanced.size() == 1);
  CHECK(h.advanced[0].value == "3");  // integers become the text ESX reads
  CHECK(h.vmnics[1].detect_down == 5_ms);
  CHECK(h.bonds[0].members == std::vector<unsigned>{0, 1});
  CHECK(std::get<host::bond_binding>(h.vswitches[0].binding).number == 0);
  CHECK(h.vswitches[0].port_groups[0].vlan == std::optional<std::uint16_t>(10));
  CHECK(h.vms[0].vnics[0].ep.name == "web");  // the VM's name for its first vNIC
  CHECK(r.model->links[1].a == scenario::port_ref{"esx1", 1});
  CHECK(r.model->timeline[0].kind == scenario::action_kind::set_nicteam);
  CHECK(r.model->expectations[0].kind == scenario::expectation_kind::bond_failover);
  CHECK(r.model->expectations[0].to_vmnic == 1);
}

TEST_CASE("hosts: errors carry the pointer of the offending value") {
  auto r = load_scenario(host_doc("2", "bond0", "esx1:vmnic1"));
  CHECK(find(r, "/hosts/0/bonds/0/members/1") != nullptr);
  r = load_scenario(host_doc("1", "bond3", "esx1:vmnic1"));
  REQUIRE(find(r, "/hosts/0/vswitches/0/binding") != nullptr);
  CHECK(find(r, "/hosts/0/vswitches/0/binding")->message == "host \"esx1\" has no bond3");
  r = load_scenario(host_doc("1", "bond0", "esx1:vmnic2"));
  REQUIRE(find(r, "/links/1/a") != nullptr);
  CHECK(find(r, "/links/1/a")->message == "\"esx1:vmnic2\": host \"esx1\" has vmnic0-vmnic1");
  r = load_scenario(host_doc("1", "bond0", "web"));  // a VM's endpoint takes no link
  CHECK(find(r, "/links/1/a") != nullptr);
}

TEST_CASE("vnic_uplink: read into the model; host, bond, vmnic and vNIC references checked") {
  const auto doc = [](std::string exp) {
    std::string s(host_doc("1", "bond0", "esx1:vmnic1"));
    const std::string from = R"({ "type": "host_counter")";
    s.insert(s.find(from), exp + ",\n                    ");
    return s;
  };
  auto r = load_scenario(
      doc(R"({ "name": "u", "type": "vnic_uplink", "host": "esx1", "bond": "bond0", "vnic": "web", "vmnic": "vmnic1", "at": "3s" })"));
  for (const auto& d : r.diagnostics) MESSAGE(d.pointer << ": " << d.message);
  REQUIRE(r.ok());
  const auto& e = r.model->expectations[1];
  CHECK(e.kind == scenario::expectation_kind::vnic_uplink);
  CHECK(e.target == "esx1");
  CHECK(e.port == 0);
  CHECK(e.vnic == "web");
  CHECK(e.to_vmnic == 1);
  CHECK(e.at == std::optional<sim_time>(3_s));

  r = load_scenario(
      doc(R"({ "type": "vnic_uplink", "host": "esx1", "bond": "bond0", "vnic": "db", "vmnic": "vmnic2", "at": "3s" })"));
  REQUIRE(find(r, "/expectations/1/vnic") != nullptr);
  CHECK(find(r, "/expectations/1/vnic")->message == "host \"esx1\" has no VM vNIC named \"db\"");
  REQUIRE(find(r, "/expectations/1/vmnic") != nullptr);
  CHECK(find(r, "/expectations/1/vmnic")->message == "\"vmnic2\" is not a vmnic of that bond");
  CHECK(r.errors() == 2);

  {
    std::string internal = doc(
        R"({ "type": "vnic_uplink", "host": "esx1", "bond": "bond0", "vnic": "web", "vmnic": "vmnic0", "at": "1s" })");
    internal.replace(internal.find(R"("binding": "bond0")"), 18, R"("binding": "vmnet_0")");
    r = load_scenario(internal);
    REQUIRE(find(r, "/expectations/1/vnic") != nullptr);
    CHECK(find(r, "/expectations/1/vnic")->message == "vNIC \"web\" is not on a vswitch bound to bond0");
  }

  r = load_scenario(doc(R"({ "type": "vnic_uplink", "host": "esx1", "bond": "bond1", "vnic": "web", "vmnic": "vmnic0" })"));
  CHECK(find(r, "/expectations/1/bond") != nullptr);
  REQUIRE(find(r, "/expectations/1") != nullptr);  // "at" is required
  CHECK(find(r, "/expectations/1")->message == "missing required key \"at\"");
  CHECK(r.errors() == 2);
}
