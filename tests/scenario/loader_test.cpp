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

TEST_CASE("the version and required keys are errors") {
  const auto r = load_scenario(R"({"vnetsim": 2, "settings": {}})");
  CHECK(find(r, "/vnetsim") != nullptr);
  CHECK(find(r, "/settings") == nullptr);  // an empty settings section is fine
  CHECK(std::count_if(r.diagnostics.begin(), r.diagnostics.end(),
                      [](const auto& d) { return d.pointer.empty(); }) == 2);  // name, duration
  CHECK(r.errors() == 3);
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

TEST_CASE("settings: host Advanced Settings by their ESX names, checked by the host layer at load") {
  SUBCASE("read in name order (the JSON object's); integers become the text ESX reads") {
    const auto r = load_scenario(R"({"vnetsim": 1, "name": "s", "duration": "1s",
      "settings": { "SwitchFailoverThreshold": 3, "SwitchFailoverBeaconInterval": "500ms",
                    "Net.TeamPolicyUpDelay": "100" }})");
    REQUIRE(r.ok());
    REQUIRE(r.model->settings.size() == 3);
    CHECK(r.model->settings[0].key == "Net.TeamPolicyUpDelay");
    CHECK(r.model->settings[0].value == "100");
    CHECK(r.model->settings[1].value == "500ms");
    CHECK(r.model->settings[2].key == "SwitchFailoverThreshold");
    CHECK(r.model->settings[2].value == "3");
  }
  SUBCASE("unknown names and bad values are located errors") {
    const auto r = load_scenario(R"({"vnetsim": 1, "name": "s", "duration": "1s",
      "settings": { "Net.ZeroSpeedLinkDown": 1,
                    "SwitchFailoverThreshold": 1,
                    "SwitchFailoverBeaconEtherType": "0x8100", "SwitchFailoverBeaconVlanID": [1] }})");
    CHECK(r.errors() == 4);
    const auto* unknown = find(r, "/settings/Net.ZeroSpeedLinkDown");
    REQUIRE(unknown != nullptr);
    CHECK(unknown->line == 2);
    CHECK(unknown->message.find("unknown advanced setting \"Net.ZeroSpeedLinkDown\"") != std::string::npos);
    const auto* threshold = find(r, "/settings/SwitchFailoverThreshold");
    REQUIRE(threshold != nullptr);
    CHECK(threshold->line == 3);
    CHECK(threshold->message ==
          "advanced setting SwitchFailoverThreshold = \"1\": 0 turns beacon monitoring off, 2 or more turns it on [AG2]");
    CHECK(find(r, "/settings/SwitchFailoverBeaconEtherType") != nullptr);  // a VLAN TPID
    REQUIRE(find(r, "/settings/SwitchFailoverBeaconVlanID") != nullptr);
    CHECK(find(r, "/settings/SwitchFailoverBeaconVlanID")->message == "must be a string or an integer");
  }
  SUBCASE("a host's own advanced settings are checked the same way") {
    std::string doc = host_doc("1", "bond0", "esx1:vmnic1");
    doc.replace(doc.find("\"SwitchFailoverThreshold\": 3"), 28, "\"SwitchFailoverBeaconVlanID\": 4095");
    const auto r = load_scenario(doc);
    CHECK(r.errors() == 1);
    REQUIRE(find(r, "/hosts/0/advanced/SwitchFailoverBeaconVlanID") != nullptr);
    CHECK(find(r, "/hosts/0/advanced/SwitchFailoverBeaconVlanID")->line == 5);
  }
  SUBCASE("a settings section that is not an object") {
    const auto r = load_scenario(R"({"vnetsim": 1, "name": "s", "duration": "1s", "settings": [1]})");
    CHECK(r.errors() == 1);
    CHECK(find(r, "/settings") != nullptr);
  }
}

TEST_CASE("tcp: bulk transfers between endpoints, and their expectations") {
  const std::string base = R"({"vnetsim": 1, "name": "t", "duration": "10s",
    "switches": [ { "name": "sw1", "ports": 2 } ],
    "endpoints": [ { "name": "a", "mac": "02:00:00:00:00:01", "ip": "10.0.0.1/24" },
                   { "name": "b", "mac": "02:00:00:00:00:02", "ip": "10.0.0.2/24" } ],
    "links": [ { "name": "la", "a": "a", "b": "sw1:0" }, { "name": "lb", "a": "b", "b": "sw1:1" } ],
    "tcp": [ TCP ],
    "expectations": [ EXP ]})";
  const auto doc = [&](std::string tcp, std::string exp) {
    std::string s = base;
    s.replace(s.find("TCP"), 3, tcp);
    s.replace(s.find("EXP"), 3, exp);
    return s;
  };
  SUBCASE("read into the model") {
    const auto r = load_scenario(doc(
        R"({ "name": "bulk", "from": "a", "to": "b", "bytes": 1000000, "start": "1s", "stop": "9s", "mss": 536,
             "server_port": 80, "bin": "10ms" })",
        R"({ "type": "tcp_bytes", "tcp": "bulk", "op": "==", "value": 1000000 },
           { "type": "tcp_retransmits", "tcp": "bulk", "op": "<=", "value": 0 },
           { "type": "tcp_max_stall", "tcp": "bulk", "op": "<", "value": "1s" })"));
    for (const auto& d : r.diagnostics) MESSAGE(d.pointer << ": " << d.message);
    REQUIRE(r.ok());
    REQUIRE(r.model->tcp.size() == 1);
    const auto& t = r.model->tcp[0];
    CHECK(t.bytes == 1'000'000);
    CHECK(t.start == 1_s);
    CHECK(t.stop == std::optional<sim_time>(9_s));
    CHECK(t.mss == 536);
    CHECK(t.server_port == 80);
    CHECK(t.client_port == 0);
    CHECK(t.bin == 10_ms);
    CHECK(r.model->expectations[0].kind == scenario::expectation_kind::tcp_bytes);
    CHECK(r.model->expectations[2].kind == scenario::expectation_kind::tcp_max_stall);
    CHECK(r.model->expectations[2].value == (1_s).ns());
  }
  SUBCASE("every error is located") {
    const auto r = load_scenario(doc(
        R"({ "name": "bulk", "from": "a", "to": "nobody", "bytes": -1, "start": "5s", "stop": "2s", "mss": 9000 },
           { "name": "bulk", "from": "a", "to": "a", "colour": 1 })",
        R"({ "type": "tcp_bytes", "tcp": "nope", "op": "==", "value": 1 })"));
    CHECK(find(r, "/tcp/0/to") != nullptr);
    CHECK(find(r, "/tcp/0/bytes") != nullptr);
    CHECK(find(r, "/tcp/0/stop") != nullptr);
    CHECK(find(r, "/tcp/0/mss") != nullptr);
    CHECK(find(r, "/tcp/1/colour") != nullptr);
    CHECK(find(r, "/tcp/1/name") != nullptr);  // duplicate
    CHECK(find(r, "/tcp/1/to") != nullptr);    // to itself
    CHECK(find(r, "/expectations/0/tcp") != nullptr);
    CHECK(r.errors() == 8);
  }
}

TEST_CASE("timeline: vm_power, bond member and label changes name things that exist") {
  std::string doc = host_doc("1", "bond0", "esx1:vmnic1");
  const std::string set = R"({ "at": "2s", "action": "set_nicteam", "host": "esx1", "key": "nicteam.bond0.home_link", "value": "vmnic1" })";
  SUBCASE("read into the model") {
    doc.replace(doc.find(set), set.size(), R"({ "at": "2s", "action": "vm_power", "host": "esx1", "vm": "web", "on": false },
      { "at": "3s", "action": "bond_remove_member", "host": "esx1", "bond": "bond0", "vmnic": "vmnic1" },
      { "at": "4s", "action": "bond_add_member", "host": "esx1", "bond": "bond0", "vmnic": "vmnic1" },
      { "at": "5s", "action": "rename_label", "host": "esx1", "label": "VLAN10", "to": "Web" })");
    const auto r = load_scenario(doc);
    for (const auto& d : r.diagnostics) MESSAGE(d.pointer << ": " << d.message);
    REQUIRE(r.ok());
    const auto& t = r.model->timeline;
    REQUIRE(t.size() == 4);
    CHECK(t[0].kind == scenario::action_kind::vm_power);
    CHECK(t[0].key == "web");
    CHECK_FALSE(t[0].on);
    CHECK(t[1].kind == scenario::action_kind::bond_member);
    CHECK_FALSE(t[1].on);
    CHECK(t[1].bond == 0);
    CHECK(t[1].vmnic == 1);
    CHECK(t[2].on);
    CHECK(t[3].kind == scenario::action_kind::rename_label);
    CHECK(t[3].key == "VLAN10");
    CHECK(t[3].value == "Web");
  }
  SUBCASE("errors") {
    doc.replace(doc.find(set), set.size(), R"({ "at": "2s", "action": "vm_power", "host": "esx1", "vm": "mail" },
      { "at": "3s", "action": "bond_remove_member", "host": "esx1", "bond": "bond7", "vmnic": "vmnic9" },
      { "at": "5s", "action": "rename_label", "host": "esx2", "label": "VLAN10", "to": "a b" })");
    const auto r = load_scenario(doc);
    REQUIRE(find(r, "/timeline/0/vm") != nullptr);
    CHECK(find(r, "/timeline/0/vm")->message == "host \"esx1\" has no VM named \"mail\"");
    CHECK(find(r, "/timeline/0") != nullptr);  // "on" is required
    CHECK(find(r, "/timeline/1/bond") != nullptr);
    CHECK(find(r, "/timeline/1/vmnic") != nullptr);
    CHECK(find(r, "/timeline/2/host") != nullptr);
    CHECK(find(r, "/timeline/2/to") != nullptr);
    CHECK(r.errors() == 6);
  }
}

TEST_CASE("bond_failover: the standby, member and VM forms") {
  std::string doc = host_doc("1", "bond0", "esx1:vmnic1");
  const std::string exp = R"({ "type": "bond_failover", "host": "esx1", "bond": "bond0", "from": "vmnic0", "to": "vmnic1", "by": "3s" })";
  const auto with = [&](std::string e) {
    std::string s = doc;
    s.replace(s.find(exp), exp.size(), e);
    return load_scenario(s);
  };
  SUBCASE("member: vmnic0 leaves the active set") {
    const auto r = with(R"({ "type": "bond_failover", "host": "esx1", "bond": "bond0", "member": "vmnic0", "after": "1s", "by": "3s" })");
    REQUIRE(r.ok());
    CHECK(r.model->expectations[0].form == scenario::failover_form::member_leaves);
    CHECK(r.model->expectations[0].from_vmnic == 0);
    CHECK(r.model->expectations[0].after == 1_s);
  }
  SUBCASE("vm: the VM's frames move from vmnic1 to vmnic0") {
    const auto r = with(R"({ "type": "bond_failover", "host": "esx1", "bond": "bond0", "vm": "web", "from": "vmnic1", "to": "vmnic0", "by": "3s" })");
    REQUIRE(r.ok());
    CHECK(r.model->expectations[0].form == scenario::failover_form::vm_traffic);
    CHECK(r.model->expectations[0].vm == "web");
    CHECK(r.model->expectations[0].from_vmnic == 1);
    CHECK(r.model->expectations[0].to_vmnic == 0);
  }
  SUBCASE("errors") {
    auto r = with(R"({ "type": "bond_failover", "host": "esx1", "bond": "bond0", "member": "vmnic0", "to": "vmnic1", "by": "3s" })");
    CHECK(r.errors() == 1);
    CHECK(find(r, "/expectations/0/to") != nullptr);
    r = with(R"({ "type": "bond_failover", "host": "esx1", "bond": "bond0", "by": "3s" })");
    CHECK(r.errors() == 2);  // from, to
    r = with(R"({ "type": "bond_failover", "host": "esx1", "bond": "bond0", "vm": "db", "from": "vmnic0", "to": "vmnic0", "by": "3s" })");
    CHECK(find(r, "/expectations/0/vm") != nullptr);  // db is not a VM of esx1
    CHECK(find(r, "/expectations/0/to") != nullptr);  // to == from
    CHECK(r.errors() == 2);
    r = with(R"({ "type": "bond_failover", "host": "esx1", "bond": "bond0", "member": "vmnic3", "by": "3s" })");
    CHECK(find(r, "/expectations/0/member") != nullptr);
  }
}

TEST_CASE("a beaconing bond whose members reach different broadcast domains is a warning") {
  const std::string base = R"({"vnetsim": 1, "name": "b", "duration": "10s",
    "switches": [ { "name": "sw1", "ports": 4, "port_config": [ PORTS ] }, { "name": "sw2", "ports": 4 } ],
    "hosts": [ { "name": "esx1", "advanced": { "SwitchFailoverThreshold": THRESHOLD },
      "vmnics": [ { "mac": "00:50:56:00:01:00" }, { "mac": "00:50:56:00:01:01" } ],
      "bonds": [ { "number": 0, "members": [0, 1] } ],
      "vswitches": [ { "label": "Network0", "binding": "bond0" } ] } ],
    "links": [ { "name": "u0", "a": "esx1:vmnic0", "b": "sw1:0" }, { "name": "u1", "a": "esx1:vmnic1", "b": "U1" } EXTRA ]})";
  const auto doc = [&](std::string ports, std::string threshold, std::string u1, std::string extra) {
    std::string s = base;
    s.replace(s.find("PORTS"), 5, ports);
    s.replace(s.find("THRESHOLD"), 9, threshold);
    s.replace(s.find("U1"), 2, u1);
    s.replace(s.find("EXTRA"), 5, extra);
    return load_scenario(s);
  };
  const std::string access10 = R"({ "port": 0, "vlan": 10 })";
  SUBCASE("two switches that are not joined") {
    const auto r = doc(access10, "3", "sw2:0", "");
    REQUIRE(r.ok());
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.diagnostics[0].level == scenario::severity::warning);
    CHECK(r.diagnostics[0].pointer == "/hosts/0/bonds/0");
    CHECK(r.diagnostics[0].line == 5);
    CHECK(r.diagnostics[0].message.find("bond0 of host \"esx1\" runs beacon probing but its members reach different "
                                        "broadcast domains of VLAN 10") == 0);
  }
  SUBCASE("joined by a trunk: one domain, no warning") {
    const auto r = doc(access10, "3", "sw2:0", R"(, { "name": "t", "a": "sw1:3", "b": "sw2:3" })");
    REQUIRE(r.ok());
    // sw2's ports are access ports of VLAN 1: VLAN 10 does not cross; make sw1:3 a trunk and sw2 too.
    CHECK(r.diagnostics.size() == 1);
    const auto r2 = doc(R"({ "port": 0, "vlan": 1 })", "3", "sw2:0", R"(, { "name": "t", "a": "sw1:3", "b": "sw2:3" })");
    REQUIRE(r2.ok());
    CHECK(r2.diagnostics.empty());
  }
  SUBCASE("one switch, the members' ports in different VLANs") {
    const auto r = doc(access10, "3", "sw1:1", "");
    REQUIRE(r.ok());
    CHECK(r.diagnostics.size() == 1);
    const auto same = doc(R"({ "port": 0, "vlan": 10 }, { "port": 1, "vlan": 10 })", "3", "sw1:1", "");
    REQUIRE(same.ok());
    CHECK(same.diagnostics.empty());
  }
  SUBCASE("no beacon probing (threshold 0): no warning") {
    const auto r = doc(access10, "0", "sw2:0", "");
    REQUIRE(r.ok());
    CHECK(r.diagnostics.empty());
  }
}
