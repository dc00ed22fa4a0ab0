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
