// The service console in scenarios: the console section, console actions, the
// management and console_ping_loss expectations, the report [SEED][AG2].
#include <doctest/doctest.h>

#include <string>

#include <fmt/format.h>

#include "vnetsim/report/run_report.hpp"
#include "vnetsim/scenario/console_binding.hpp"
#include "vnetsim/scenario/loader.hpp"
#include "vnetsim/scenario/world.hpp"

using namespace vnetsim;
using namespace vnetsim::literals;

namespace {

/// A host with vmnic0 (unbonded, shared with the console), a console NIC cos0 and an admin
/// endpoint, all on sw1; `console`, `timeline` and `expectations` are spliced in.
std::string scenario_text(std::string_view console, std::string_view timeline = "[]",
                          std::string_view expectations = "[]") {
  return fmt::format(R"({{
  "vnetsim": 1, "name": "console_unit", "duration": "10s",
  "switches": [ {{ "name": "sw1", "ports": 3 }} ],
  "endpoints": [ {{ "name": "admin", "mac": "00:00:5e:00:53:01", "ip": "10.0.0.1/24" }} ],
  "hosts": [ {{ "name": "esx1",
    "vmnics": [ {{ "mac": "00:50:56:00:01:00" }} ],
    "vswitches": [ {{ "label": "Production", "binding": "vmnic0" }} ],
    "console": {} }} ],
  "links": [ {{ "name": "cos0", "a": "esx1:cos0", "b": "sw1:0" }},
             {{ "name": "vmnic0", "a": "esx1:vmnic0", "b": "sw1:1" }},
             {{ "name": "admin", "a": "admin", "b": "sw1:2" }} ],
  "timeline": {},
  "expectations": {}
}})",
                     console, timeline, expectations);
}

constexpr std::string_view cos_console = R"({
      "nics": [ { "name": "cos0", "driver": "e100", "mac": "00:02:b3:00:00:01" } ],
      "shared": [ "vmnic0" ],
      "files": { "/etc/modules.conf": [ "alias eth0 e100" ],
                 "/etc/sysconfig/network-scripts/ifcfg-eth0":
                   "DEVICE=eth0\nBOOTPROTO=static\nIPADDR=10.0.0.5\nNETMASK=255.255.255.0\nONBOOT=yes\n" },
      "boot": "1s",
      "pings": [ { "name": "cos-admin", "from": "eth0", "to": "10.0.0.1", "start": "2s", "count": 3 } ] })";

scenario::scenario_model load(const std::string& text) {
  const auto r = scenario::load_scenario(text);
  for (const auto& d : r.diagnostics) MESSAGE(d.to_string("test"));
  REQUIRE(r.ok());
  return *r.model;
}

/// The diagnostics as "pointer: message" lines.
std::vector<std::string> errors(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& d : scenario::load_scenario(text).diagnostics) {
    CHECK(d.line >= 1);
    out.push_back(d.pointer + ": " + d.message);
  }
  return out;
}

struct run_result {
  std::vector<scenario::expectation_result> results;
  std::string report;
  std::string summary;
};

}  // namespace

TEST_CASE("console section: read into the model") {
  const auto m = load(scenario_text(cos_console, R"([ { "at": "5s", "action": "console", "host": "esx1",
      "command": "ifconfig eth0 down" } ])",
                                    R"([ { "type": "management", "host": "esx1", "at": "3s", "state": "running" },
      { "name": "gone", "type": "management", "host": "esx1", "lost": true, "after": "4s", "by": "6s", "state": "eth0-down" },
      { "type": "management", "host": "esx1", "lost": false, "after": "2s" },
      { "type": "console_ping_loss", "ping": "cos-admin", "op": "==", "value": 0 } ])"));
  REQUIRE(m.hosts.size() == 1);
  REQUIRE(m.hosts[0].console);
  const auto& c = *m.hosts[0].console;
  REQUIRE(c.nics.size() == 1);
  CHECK(c.nics[0].name == "cos0");
  CHECK(c.nics[0].driver == "e100");
  CHECK(c.nics[0].nic.mac == *wire::mac_address::parse("00:02:b3:00:00:01"));
  CHECK(c.shared == std::vector<unsigned>{0});
  REQUIRE(c.files.size() == 2);
  CHECK(c.files[0].first == "/etc/modules.conf");
  CHECK(c.files[0].second == "alias eth0 e100\n");  // an array of lines: one "\n" after each
  CHECK(c.files[1].second == "DEVICE=eth0\nBOOTPROTO=static\nIPADDR=10.0.0.5\nNETMASK=255.255.255.0\nONBOOT=yes\n");
  CHECK(c.boot == 1_s);
  CHECK(c.watch == scenario::default_console_watch);
  REQUIRE(c.pings.size() == 1);
  CHECK(c.pings[0].eth == 0);
  CHECK(c.pings[0].to.to_string() == "10.0.0.1");
  CHECK(c.pings[0].count == 3);
  REQUIRE(m.links.size() == 3);
  CHECK(m.links[0].a.device == "esx1");
  CHECK(m.links[0].a.port == scenario::console_nic_port_base);
  REQUIRE(m.timeline.size() == 1);
  CHECK(m.timeline[0].kind == scenario::action_kind::console);
  CHECK(m.timeline[0].target == "esx1");
  CHECK(m.timeline[0].value == "ifconfig eth0 down");
  REQUIRE(m.expectations.size() == 4);
  CHECK(m.expectations[0].kind == scenario::expectation_kind::management);
  CHECK(m.expectations[0].mode == "at");
  CHECK(m.expectations[1].mode == "lost");
  CHECK(m.expectations[1].by == 6_s);
  CHECK(m.expectations[1].after == 4_s);
  CHECK(m.expectations[1].state == "eth0-down");
  CHECK(m.expectations[2].mode == "never_lost");
  CHECK(m.expectations[3].kind == scenario::expectation_kind::console_ping_loss);
  CHECK(m.expectations[3].target == "cos-admin");
}

TEST_CASE("console section: malformed input is located") {
  SUBCASE("a malformed console file names its JSON pointer and file:line") {
    CHECK(errors(scenario_text(R"({ "files": { "/etc/modules.conf": [ "alias eth0 e100", "alias eth1" ] } })")) ==
          std::vector<std::string>{"/hosts/0/console/files/~1etc~1modules.conf: /etc/modules.conf:2: \"alias\" takes "
                                   "a name and a module (alias eth0 e100), got \"alias eth1\"",
                                   "/links/0/a: \"esx1:cos0\": host \"esx1\" has vmnic0-vmnic0"});
    CHECK(errors(scenario_text(R"({ "files": { "/etc/sysconfig/network-scripts/ifcfg-eth0": "IPADDR=10.0.0.300\n" } })"))
              .front() ==
          "/hosts/0/console/files/~1etc~1sysconfig~1network-scripts~1ifcfg-eth0: "
          "/etc/sysconfig/network-scripts/ifcfg-eth0:1: IPADDR=10.0.0.300: not a unicast IPv4 address");
    CHECK(errors(scenario_text(R"({ "files": { "/etc/rc.d/rc.local": [ "ifup eth0", "insmod vmxnet_console devName=\"vmnic0" ] } })"))
              .front() == "/hosts/0/console/files/~1etc~1rc.d~1rc.local: /etc/rc.d/rc.local:2: unterminated \" quote in "
                          "\"insmod vmxnet_console devName=\"vmnic0\"");
  }
  SUBCASE("section keys and values") {
    const auto e = errors(scenario_text(R"({ "nics": [ { "name": "vmnic3", "driver": "vmxnet_console", "mac": "01:00:5e:00:00:01" } ],
        "shared": [ "vmnic1", "eth0" ], "files": { "etc/motd": "" , "/var/log/messages": "" }, "boot": "soon", "colour": 1,
        "pings": [ { "name": "p", "from": "lo", "to": "10.0.0.256" } ] })"));
    // In the order of the text.
    CHECK(e == std::vector<std::string>{
                   "/hosts/0/console/nics/0/name: \"vmnic3\" is a VMkernel name; a console NIC has none [SEED] (e.g. "
                   "\"cos0\")",
                   "/hosts/0/console/nics/0/driver: \"vmxnet_console\" is not a NIC driver module name (e.g. \"e100\")",
                   "/hosts/0/console/nics/0/mac: 01:00:5e:00:00:01 is a group address; a NIC needs a unicast MAC",
                   "/hosts/0/console/shared/0: host \"esx1\" has no vmnic1",
                   "/hosts/0/console/shared/1: must be a vmnic name (\"vmnic1\")",
                   "/hosts/0/console/files/etc~1motd: \"etc/motd\" is not an absolute path",
                   "/hosts/0/console/files/~1var~1log~1messages: /var/log/messages is written by the simulation",
                   "/hosts/0/console/boot: \"soon\" is not a duration (a decimal number and one of ns, us, ms, s, min)",
                   "/hosts/0/console/colour: unknown key \"colour\" (allowed: nics, shared, files, boot, watch, pings)",
                   "/hosts/0/console/pings/0/from: \"lo\" is not a console device (\"eth0\")",
                   "/hosts/0/console/pings/0/to: \"10.0.0.256\" is not a unicast IPv4 address",
                   "/links/0/a: \"esx1:cos0\": host \"esx1\" has vmnic0-vmnic0"});
  }
  SUBCASE("actions and expectations") {
    const auto e = errors(scenario_text(cos_console, R"([ { "at": "5s", "action": "console", "host": "esx2", "command": "" },
        { "at": "5s", "action": "console", "host": "esx1", "command": "echo \"oops" } ])",
                                        R"([ { "type": "management", "host": "esx1", "at": "3s", "lost": true },
        { "type": "management", "host": "esx1", "lost": true, "after": "4s" },
        { "type": "management", "host": "esx1", "at": "3s", "state": "dead" },
        { "type": "console_ping_loss", "ping": "nope", "op": "==", "value": 0 } ])"));
    CHECK(e == std::vector<std::string>{
                   "/timeline/0/host: no host named \"esx2\"",
                   "/timeline/0/command: empty command line",
                   "/timeline/1/command: unterminated \" quote in \"echo \"oops\"",
                   "/expectations/0: give exactly one of \"at\" (the state at a time) and \"lost\" (true: lost in (after, "
                   "by]; false: never lost after \"after\")",
                   "/expectations/1: missing required key \"by\" (with \"lost\": true)",
                   "/expectations/2/state: \"dead\" is not one of: running, lost, not-booted, loopback-down, no-eth0, "
                   "eth0-down, eth0-no-carrier",
                   "/expectations/3/ping: no console ping named \"nope\""});
  }
}

namespace {
run_result run(const std::string& text) {
  const auto m = load(text);
  scenario::world w(m.seed, m.observe_interval);
  scenario::build(w, m);
  w.run_until(m.duration);
  run_result r;
  r.results = w.evaluate();
  const report::run_info info{m.name, scenario::scenario_hash(text), m.seed, m.duration, {}};
  r.report = report::json_report(w, info, r.results);
  r.summary = report::human_summary(w, info, r.results);
  return r;
}
}  // namespace

TEST_CASE("console binding: boot at its time, commands, the Management Interface watch") {
  // Boot at 1s; at 3s vmnic0's link goes (no effect on eth0, a console NIC); at 4s cos0's
  // link goes: seen at once (the NIC's owner event); at 6s it is back; at 7s `ifconfig lo
  // down`; at 8s a mistyped command.
  const std::string text = scenario_text(
      cos_console,
      R"([ { "at": "3s", "action": "link_down", "link": "vmnic0" },
           { "at": "4s", "action": "link_down", "link": "cos0" },
           { "at": "6s", "action": "link_up", "link": "cos0" },
           { "at": "7s", "action": "console", "host": "esx1", "command": "ifconfig lo down" },
           { "at": "8s", "action": "console", "host": "esx1", "command": "ifconfg eth0 up" } ])",
      R"([ { "name": "before_boot", "type": "management", "host": "esx1", "at": "500ms", "state": "not-booted" },
           { "name": "up", "type": "management", "host": "esx1", "at": "2s", "state": "running" },
           { "name": "carrier", "type": "management", "host": "esx1", "lost": true, "after": "3s", "by": "4s",
             "state": "eth0-no-carrier" },
           { "name": "not_never", "type": "management", "host": "esx1", "lost": false, "after": "2s" },
           { "name": "lo", "type": "management", "host": "esx1", "lost": true, "after": "6s", "by": "7s",
             "state": "loopback-down" },
           { "name": "ping", "type": "console_ping_loss", "ping": "cos-admin", "op": "==", "value": 1 } ])");
  const auto r = run(text);
  REQUIRE(r.results.size() == 6);
  CHECK(r.results[0].pass);
  CHECK(r.results[0].measured == "not-booted");
  CHECK(r.results[1].pass);
  CHECK(r.results[2].pass);
  CHECK(r.results[2].measured == "lost at 4s (eth0-no-carrier)");
  // "never lost after 2s" fails, and says when it was lost: the report shows the measure.
  CHECK_FALSE(r.results[3].pass);
  CHECK(r.results[3].measured == "lost at 4s (eth0-no-carrier)");
  CHECK(r.results[4].pass);
  CHECK(r.results[4].measured == "lost at 7s (loopback-down)");
  CHECK(r.results[5].pass);
  CHECK(r.results[5].measured == "1");  // probes at 2s, 3s, 4s: the one at 4s left a NIC without link
  // The timeline has the boot, the management changes and the failed command.
  CHECK(r.summary.find("             1s  console   esx1: service console booted (1 boot commands)\n") != std::string::npos);
  CHECK(r.summary.find("             4s  console   esx1: management interface running=>eth0-no-carrier\n") !=
        std::string::npos);
  CHECK(r.summary.find("             6s  console   esx1: management interface eth0-no-carrier=>running\n") !=
        std::string::npos);
  CHECK(r.summary.find("             8s  console   esx1# ifconfg eth0 up (exit 127): bash: ifconfg: command not found\n") !=
        std::string::npos);
  CHECK(r.summary.find("Service console of esx1: management interface loopback-down\n") != std::string::npos);
  // The report: the host's console object with the log and the commands.
  CHECK(r.report.find(R"("management": "loopback-down")") != std::string::npos);
  CHECK(r.report.find(R"("1.000000000 esx1 kernel: eth0: e100 at esx1/cos0")") != std::string::npos);
  CHECK(r.report.find(R"("command": "ifconfg eth0 up",)") != std::string::npos);
  CHECK(r.report.find(R"("series": "esx1/console/cos-admin")") != std::string::npos);
}

TEST_CASE("console binding: a vmnic's link change is seen by the watch, at most `watch` late") {
  // eth0 over vmnic0 through vmxnet_console; vmnic0's cable is pulled at 3.0042s. The watch
  // polls every 10ms from the boot at 1s: the loss is seen at 3.01s.
  const std::string console = R"({ "shared": [ "vmnic0" ],
      "files": { "/etc/rc.d/rc.local": [ "insmod vmxnet_console devName=vmnic0", "ifconfig eth0 up 10.0.0.5 netmask 255.255.255.0" ] },
      "boot": "1s" })";
  std::string text = scenario_text(console, R"([ { "at": "3.0042s", "action": "link_down", "link": "vmnic0" },
      { "at": "5s", "action": "link_up", "link": "vmnic0" } ])",
                                   R"([ { "type": "management", "host": "esx1", "lost": true, "after": "3s", "by": "4s" } ])");
  // No console NIC here: drop the cos0 link.
  const auto cut = text.find(R"({ "name": "cos0")");
  text.erase(cut, text.find("},", cut) + 2 - cut);
  const auto r = run(text);
  REQUIRE(r.results.size() == 1);
  CHECK(r.results[0].pass);
  CHECK(r.results[0].measured == "lost at 3.01s (eth0-no-carrier)");
  CHECK(r.summary.find("          3.01s  console   esx1: management interface running=>eth0-no-carrier\n") !=
        std::string::npos);
  // Back at 5s: the watch's event at 5s runs before the NIC's carrier events of that instant
  // (scheduled later), so the return is seen at the next poll, 5.01s.
  CHECK(r.summary.find("          5.01s  console   esx1: management interface eth0-no-carrier=>running\n") !=
        std::string::npos);
}

TEST_CASE("console binding: a console ping that cannot start loses every probe") {
  const std::string console = R"({ "nics": [ { "name": "cos0", "driver": "e100", "mac": "00:02:b3:00:00:01" } ],
      "pings": [ { "name": "early", "from": "eth0", "to": "10.0.0.1", "start": "1s", "count": 4 } ] })";
  const auto r = run(scenario_text(console, "[]",
                                   R"([ { "type": "console_ping_loss", "ping": "early", "op": "==", "value": 4 },
                                        { "type": "management", "host": "esx1", "at": "1s", "state": "eth0-down" } ])"));
  REQUIRE(r.results.size() == 2);
  CHECK(r.results[0].pass);
  CHECK(r.results[0].measured == "4 (not started: eth0 had no address at 1s: no probe sent)");
  CHECK(r.results[1].pass);
}

TEST_CASE("console binding: build-time errors name the place") {
  auto m = load(scenario_text(cos_console));
  SUBCASE("a console action for a host without a console") {
    m.hosts[0].console.reset();
    m.links.erase(m.links.begin());
    scenario::action_spec a;
    a.at = 1_s;
    a.kind = scenario::action_kind::console;
    a.target = "esx1";
    a.value = "ifconfig";
    m.timeline.push_back(a);
    scenario::world w(1);
    CHECK_THROWS_WITH_AS(scenario::build(w, m), "timeline console: host \"esx1\" has no service console",
                         scenario::scenario_error);
  }
  SUBCASE("a console NIC with the vmxnet_console module as its driver") {
    m.hosts[0].console->nics[0].driver = "vmxnet_console";
    m.hosts[0].pointer = "/hosts/0";
    scenario::world w(1);
    CHECK_THROWS_WITH_AS(scenario::build(w, m),
                         "/hosts/0/console: host \"esx1\" console: console of \"esx1\": NIC \"esx1/cos0\": driver "
                         "\"vmxnet_console\" is not a NIC driver",
                         scenario::scenario_error);
  }
}
