// Uses the installed headers and library the way an outside project does: builds a small
// 802.1D network in code with the scenario builder, cuts a link, and checks the failover time.
#include <cstdio>

#include <vnetsim/scenario/world.hpp>

int main() {
  using namespace vnetsim;
  using namespace vnetsim::literals;
  scenario::world w(/*seed=*/1);

  // Two 802.1D switches joined by two cables: sw1 is root, sw2 blocks its second cable.
  for (const char* name : {"sw1", "sw2"}) {
    scenario::switch_spec s;
    s.cfg.name = name;
    s.cfg.ports = 3;
    s.cfg.stp = net::stp_mode::stp;
    s.cfg.stp_bridge.address = *wire::mac_address::parse(name[2] == '1' ? "02:00:00:00:01:00" : "02:00:00:00:02:00");
    s.ports.push_back({2, net::port_config{.edge = true}});  // the station's port: portfast
    w.add_switch(s);
  }
  for (const char* name : {"h1", "h2"}) {
    scenario::station_spec h{name, {}};
    h.nic.mac = *wire::mac_address::parse(name[1] == '1' ? "02:00:00:00:00:01" : "02:00:00:00:00:02");
    w.add_station(h);
  }
  w.add_link({"cable-a", {"sw1", 0}, {"sw2", 0}, {}});
  w.add_link({"cable-b", {"sw1", 1}, {"sw2", 1}, {}});
  w.add_link({"h1-sw1", {"h1", 0}, {"sw1", 2}, {}});
  w.add_link({"h2-sw2", {"h2", 0}, {"sw2", 2}, {}});

  // A frame every 10 ms from h2 to h1; the forwarding cable is cut at 40 s.
  w.add_probe({.name = "h2-to-h1", .from = "h2", .to = "h1", .interval = 10_ms, .start = 35_s, .stop = 85_s});
  w.schedule({.at = 40_s, .kind = scenario::action_kind::link_down, .target = "cable-a"});
  w.expect({.name = "failover", .kind = scenario::expectation_kind::probe_max_gap, .target = "h2-to-h1",
            .op = scenario::comparison::le, .value = (31_s).ns()});
  w.run_until(90_s);

  const auto& p = w.probe_results(*w.find_probe("h2-to-h1"));
  const auto results = w.evaluate();
  std::printf("consumer: longest gap %s (from %s to %s), expectation %s: %s\n", p.max_gap.to_string().c_str(),
              p.gap_from.to_string().c_str(), p.gap_to.to_string().c_str(), results[0].name.c_str(),
              results[0].pass ? "met" : "failed");
  // 802.1D: the blocked port passes Listening and Learning, 2 x Forward Delay = 30 s.
  if (!results[0].pass || p.max_gap < 30_s || p.gap_to < 70_s || p.gap_to > 70_s + 1_ms) {
    std::puts("consumer: unexpected failover time");
    return 1;
  }
  std::puts("consumer: vnetsim found, linked and run");
  return 0;
}
