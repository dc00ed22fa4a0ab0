#include "vnetsim/report/run_report.hpp"

#include "console_report.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace vnetsim::report {

using ojson = nlohmann::ordered_json;

std::string_view version() noexcept { return VNETSIM_VERSION; }

namespace {

ojson link_direction(const dev::link_direction_stats& s) {
  return ojson{{"out_frames", s.out_frames},         {"out_octets", s.out_octets},
               {"out_discards", s.out_discards},     {"no_carrier", s.no_carrier},
               {"delivered", s.delivered},           {"lost_carrier", s.lost_carrier},
               {"lost_black_hole", s.lost_black_hole}, {"lost_random", s.lost_random},
               {"fcs_errors", s.fcs_errors},         {"queue_high_water", s.queue_high_water}};
}

ojson switch_counters(const net::switch_counters& c) {
  return ojson{{"unknown_unicast_floods", c.unknown_unicast_floods},
               {"fdb_overflow_floods", c.fdb_overflow_floods},
               {"learn_table_full", c.learn_table_full},
               {"mac_flaps", c.mac_flaps},
               {"move_guard_blocks", c.move_guard_blocks},
               {"trapped", c.trapped},
               {"control_frames", c.control_frames},
               {"powered_off_drops", c.powered_off_drops},
               {"events_not_logged", c.events_not_logged},
               {"bpdus_in", c.bpdus_in},
               {"bpdus_out", c.bpdus_out},
               {"bpdus_bad", c.bpdus_bad},
               {"lacpdus_in", c.lacpdus_in},
               {"lacpdus_out", c.lacpdus_out},
               {"lacpdus_bad", c.lacpdus_bad},
               {"channel_not_collecting_drops", c.channel_not_collecting_drops},
               {"channel_down_drops", c.channel_down_drops},
               {"bpdu_guard_err_disables", c.bpdu_guard_err_disables}};
}

ojson nic_counters(const dev::nic_stats& s) {
  return ojson{{"ifInOctets", s.ifInOctets},           {"ifInUcastPkts", s.ifInUcastPkts},
               {"ifInMulticastPkts", s.ifInMulticastPkts}, {"ifInBroadcastPkts", s.ifInBroadcastPkts},
               {"ifInDiscards", s.ifInDiscards},       {"ifInErrors", s.ifInErrors},
               {"ifOutOctets", s.ifOutOctets},         {"ifOutUcastPkts", s.ifOutUcastPkts},
               {"ifOutMulticastPkts", s.ifOutMulticastPkts}, {"ifOutBroadcastPkts", s.ifOutBroadcastPkts},
               {"ifOutDiscards", s.ifOutDiscards},     {"ifOutErrors", s.ifOutErrors},
               {"link_changes", s.link_changes}};
}

std::string opt_time(const std::optional<sim_time>& t) { return t ? t->to_string() : "-"; }

sim_time mean_latency(const scenario::probe_stats& p) {
  return p.unique == 0 ? sim_time::zero()
                       : sim_time::from_ns(static_cast<sim_time::rep>(p.latency_sum_ns / p.unique));
}

std::size_t passed(const std::vector<scenario::expectation_result>& r) {
  return static_cast<std::size_t>(std::count_if(r.begin(), r.end(), [](const auto& x) { return x.pass; }));
}

}  // namespace

std::vector<std::string> warning_lines(const std::vector<scenario::diagnostic>& diagnostics) {
  std::vector<std::string> out;
  for (const auto& d : diagnostics) {
    if (d.level != scenario::severity::warning) continue;
    out.push_back(fmt::format("{}:{}: {}: {}", d.line, d.column, d.pointer, d.message));
  }
  return out;
}

std::string json_report(const scenario::world& w, const run_info& info,
                        const std::vector<scenario::expectation_result>& results) {
  ojson doc;
  doc["provenance"] = ojson{{"tool", "vnetsim"},
                            {"version", std::string(version())},
                            {"scenario", info.scenario_name},
                            {"scenario_hash", "fnv1a64:" + info.scenario_hash},
                            {"seed", info.seed},
                            {"until", info.until.to_string()},
                            {"events_run", w.sim().events_run()}};
  if (!info.warnings.empty()) doc["warnings"] = info.warnings;

  const auto& sws = w.switches();
  ojson switches = ojson::array();
  for (net::switch_id s = 0; s < sws.size(); ++s) {
    ojson ports = ojson::array();
    for (net::port_no p = 0; p < sws.port_count(s); ++p) {
      const auto& c = sws.counters(s, p);
      ojson pc = ojson::object();
      c.visit([&](const char* name, std::uint64_t v) { pc[name] = v; });
      ports.push_back(ojson{{"port", p},
                            {"up", sws.port_up(s, p)},
                            {"state", w.port_state(s, p)},
                            {"counters", std::move(pc)}});
    }
    ojson sw{{"name", std::string(sws.name(s))},
             {"powered", sws.powered(s)},
             {"counters", switch_counters(sws.counters(s))},
             {"fdb_entries", sws.fdb(s).size()}};
    if (const auto* e = sws.stp_engine(s)) {
      sw["stp"] = ojson{{"protocol", "802.1D"},
                        {"root_bridge", e->is_root_bridge()},
                        {"root_path_cost", e->root_path_cost()},
                        {"top_changes", e->counters().top_changes}};
    } else if (const auto* r = sws.rstp_engine(s)) {
      sw["stp"] = ojson{{"protocol", "RSTP"}, {"root_bridge", r->is_root_bridge()}};
    }
    sw["ports"] = std::move(ports);
    switches.push_back(std::move(sw));
  }
  doc["switches"] = std::move(switches);

  const auto& links = w.links();
  ojson ls = ojson::array();
  for (dev::link_id l = 0; l < links.size(); ++l) {
    ls.push_back(ojson{{"name", std::string(links.name(l))},
                       {"carrier", links.carrier(l)},
                       {"from_a", link_direction(links.stats(l, dev::link_side::a))},
                       {"from_b", link_direction(links.stats(l, dev::link_side::b))}});
  }
  doc["links"] = std::move(ls);

  ojson hubs = ojson::array();
  for (dev::hub_id h = 0; h < w.hubs().size(); ++h) {
    const auto& s = w.hubs().stats(h);
    hubs.push_back(ojson{{"name", std::string(w.hubs().name(h))},
                         {"in_frames", s.in_frames},
                         {"out_frames", s.out_frames},
                         {"out_discards", s.out_discards}});
  }
  doc["hubs"] = std::move(hubs);

  ojson stations = ojson::array();
  for (scenario::station_id s = 0; s < w.station_count(); ++s) {
    const auto& st = w.station_counters(s);
    stations.push_back(ojson{{"name", std::string(w.station_name(s))},
                             {"link_up", w.nics().link_up(w.station_nic(s))},
                             {"nic", nic_counters(w.nics().stats(w.station_nic(s)))},
                             {"probe_frames", st.probe_frames},
                             {"other_frames", st.other_frames}});
  }
  doc["stations"] = std::move(stations);

  ojson probes = ojson::array();
  for (scenario::probe_id p = 0; p < w.probe_count(); ++p) {
    const auto& c = w.probe_config(p);
    const auto& s = w.probe_results(p);
    probes.push_back(ojson{{"name", c.name},
                           {"from", c.from},
                           {"to", c.to},
                           {"sent", s.sent},
                           {"send_failed", s.send_failed},
                           {"delivered", s.delivered},
                           {"unique", s.unique},
                           {"lost", s.lost()},
                           {"duplicates", s.duplicates},
                           {"reordered", s.reordered},
                           {"first_delivery", opt_time(s.first_delivery)},
                           {"last_delivery", opt_time(s.last_delivery)},
                           {"longest_gap", s.max_gap.to_string()},
                           {"longest_gap_from", s.gap_from.to_string()},
                           {"longest_gap_to", s.gap_to.to_string()},
                           {"latency_min", s.latency_min.to_string()},
                           {"latency_mean", mean_latency(s).to_string()},
                           {"latency_max", s.latency_max.to_string()}});
  }
  doc["probes"] = std::move(probes);

  const auto& eps = w.endpoints();
  ojson endpoints = ojson::array();
  for (traffic::endpoint_id e = 0; e < eps.size(); ++e) {
    const auto& c = eps.counters(e);
    endpoints.push_back(ojson{{"name", std::string(eps.name(e))},
                              {"ip", eps.config(e).ip.to_string()},
                              {"arpOutRequests", c.arpOutRequests},
                              {"arpOutReplies", c.arpOutReplies},
                              {"arp_timeouts", c.arp_timeouts},
                              {"ipInReceives", c.ipInReceives},
                              {"ipInDelivers", c.ipInDelivers},
                              {"ipOutRequests", c.ipOutRequests},
                              {"ipOutNoRoutes", c.ipOutNoRoutes}});
  }
  doc["endpoints"] = std::move(endpoints);
  ojson flows = ojson::array();
  for (traffic::flow_id f = 0; f < eps.flow_count(); ++f) {
    const auto& s = eps.flow_stats(f);
    flows.push_back(ojson{{"name", std::string(eps.flow_name(f))},
                          {"sent", s.sent},
                          {"delivered", s.delivered},
                          {"lost", s.lost},
                          {"in_flight", s.in_flight},
                          {"duplicated", s.duplicated},
                          {"reordered", s.reordered},
                          {"longest_gap", s.longest_gap.to_string()},
                          {"longest_gap_from", s.gap_start.to_string()},
                          {"longest_gap_to", s.gap_end.to_string()},
                          {"latency_min", s.latency_min.to_string()},
                          {"latency_p50", s.latency_p50.to_string()},
                          {"latency_p90", s.latency_p90.to_string()},
                          {"latency_p99", s.latency_p99.to_string()},
                          {"latency_max", s.latency_max.to_string()}});
  }
  doc["flows"] = std::move(flows);
  // Hosts only when the scenario has some (older reports keep their shape).
  const auto& hs = w.hosts();
  if (hs.host_count() > 0) {
    ojson hosts_j = ojson::array();
    for (host::host_id h = 0; h < hs.host_count(); ++h) {
      const auto& spec = w.host_config(h);
      ojson vss = ojson::array();
      for (const auto vs : w.host_vswitches(h)) {
        const auto& c = hs.vswitch_stats(vs);
        vss.push_back(ojson{{"label", std::string(hs.vswitch_label(vs))},
                            {"device", hs.vswitch_device(vs)},
                            {"tx_frames", c.tx_frames},
                            {"local_deliveries", c.local_deliveries},
                            {"uplink_tx", c.uplink_tx},
                            {"uplink_rx", c.uplink_rx},
                            {"floods", c.floods},
                            {"dropped_vlan", c.dropped_vlan},
                            {"dropped_unknown_dst", c.dropped_unknown_dst},
                            {"dropped_no_uplink", c.dropped_no_uplink},
                            {"dropped_nic", c.dropped_nic},
                            {"dropped_vm_off", c.dropped_vm_off},
                            {"dropped_not_admitted", c.dropped_not_admitted},
                            {"reflections", c.reflections},
                            {"beacons_rx", c.beacons_rx},
                            {"vlan_copies", c.vlan_copies}});
      }
      ojson bonds = ojson::array();
      for (const auto& b : spec.bonds) {
        const auto& c = hs.bond_stats(h, b.number);
        bonds.push_back(ojson{{"bond", fmt::format("bond{}", b.number)},
                              {"failovers", c.failovers},
                              {"failbacks", c.failbacks},
                              {"beacons_tx", c.beacons_tx},
                              {"beacons_tx_failed", c.beacons_tx_failed},
                              {"beacons_rx", c.beacons_rx},
                              {"duplicates_sent", c.duplicates_sent},
                              {"rarp_sent", c.rarp_sent},
                              {"tx_frames", c.tx_frames}});
      }
      hosts_j.push_back(ojson{{"name", std::string(hs.host_name(h))},
                              {"unbound_rx", hs.unbound_rx(h)},
                              {"vswitches", std::move(vss)},
                              {"bonds", std::move(bonds)}});
      if (auto c = detail::console_json(w, h); !c.is_null()) hosts_j.back()["console"] = std::move(c);
    }
    doc["hosts"] = std::move(hosts_j);
  }
  // TCP sessions only when the scenario has some (older reports keep their shape).
  if (const auto* tcps = w.tcp(); tcps != nullptr && tcps->size() > 0) {
    ojson tcp_j = ojson::array();
    for (tcp::session_id s = 0; s < tcps->size(); ++s) {
      const auto r = tcps->report(s);
      tcp_j.push_back(ojson{{"name", r.name},
                            {"from", w.tcp_config(s).from},
                            {"to", w.tcp_config(s).to},
                            {"bytes_delivered", r.app.bytes_delivered},
                            {"goodput_bps", w.tcp_goodput_bps(s)},
                            {"complete", r.app.complete},
                            {"completed_at", r.app.completed_at ? r.app.completed_at->to_string() : ""},
                            {"longest_stall", r.app.longest_stall.to_string()},
                            {"longest_stall_start", r.app.longest_stall_start ? r.app.longest_stall_start->to_string() : ""},
                            {"tcpRetransSegs", r.app.retransmissions},
                            {"rto_events", r.app.rto_events},
                            {"fast_recoveries", r.app.fast_recoveries},
                            {"client_state", std::string(tcp::to_string(r.client_state))},
                            {"server_state", std::string(tcp::to_string(r.server_state))},
                            {"tx_dropped", r.tx_dropped}});
    }
    doc["tcp"] = std::move(tcp_j);
  }
  ojson pings = ojson::array();
  for (traffic::ping_id p = 0; p < eps.ping_count(); ++p) {
    ojson probes_j = ojson::array();
    std::uint64_t replied = 0;
    for (const auto& pr : eps.ping_results(p)) {
      if (pr.status == traffic::probe_status::replied) ++replied;
      probes_j.push_back(ojson{{"seq", pr.seq},
                               {"status", std::string(traffic::to_string(pr.status))},
                               {"sent", pr.sent.to_string()},
                               {"rtt", pr.rtt.to_string()}});
    }
    pings.push_back(ojson{{"name", std::string(eps.ping_name(p))},
                          {"replied", replied},
                          {"lost", w.ping_lost(p)},
                          {"probes", std::move(probes_j)}});
  }
  doc["pings"] = std::move(pings);

  const auto a = w.accounting();
  doc["frame_accounting"] = ojson{
      {"rule", "sent = delivered + lost_carrier + lost_black_hole + lost_random + fcs_errors + in_flight"},
      {"sent", a.sent},
      {"delivered", a.delivered},
      {"lost_carrier", a.lost_carrier},
      {"lost_black_hole", a.lost_black_hole},
      {"lost_random", a.lost_random},
      {"fcs_errors", a.fcs_errors},
      {"in_flight", a.in_flight},
      {"refused_queue_full", a.refused_queue_full},
      {"refused_no_carrier", a.refused_no_carrier},
      {"frame_pool_in_use", w.pool().outstanding()}};

  ojson tl = ojson::array();
  for (const auto& e : w.timeline()) {
    tl.push_back(ojson{{"t", e.at.to_string()}, {"source", e.source}, {"what", e.what}, {"detail", e.detail}});
  }
  doc["timeline"] = std::move(tl);

  ojson ex = ojson::array();
  for (const auto& r : results) {
    ex.push_back(ojson{{"name", r.name}, {"text", r.text}, {"measured", r.measured}, {"bound", r.bound},
                       {"pass", r.pass}});
  }
  doc["expectations"] = std::move(ex);
  const std::size_t ok = passed(results);
  doc["result"] = ojson{{"pass", ok == results.size()}, {"passed", ok}, {"failed", results.size() - ok}};
  return doc.dump(2) + "\n";
}

std::string human_summary(const scenario::world& w, const run_info& info,
                          const std::vector<scenario::expectation_result>& results, std::size_t max_timeline) {
  std::string out = fmt::format("vnetsim {}: scenario \"{}\" (fnv1a64 {}), seed {}, ran to {} ({} events)\n",
                                version(), info.scenario_name, info.scenario_hash, info.seed, info.until,
                                w.sim().events_run());
  const auto tl = w.timeline();
  out += fmt::format("\nTimeline ({} events)\n", tl.size());
  std::size_t shown = 0, hidden = 0;
  for (const auto& e : tl) {
    if (shown == max_timeline) {
      ++hidden;
      continue;
    }
    out += fmt::format("  {:>14}  {:<8}  {}\n", e.at.to_string(), e.source, e.detail);
    ++shown;
  }
  if (hidden > 0) out += fmt::format("  ... {} more in the JSON report\n", hidden);

  if (w.probe_count() > 0) {
    out += fmt::format("\nProbes\n  {:<14} {:>8} {:>9} {:>7} {:>6} {:>6} {:>14} {:>12} {:>12} {:>12}\n", "name", "sent",
                       "delivered", "lost", "dup", "reord", "longest gap", "lat min", "lat mean", "lat max");
    for (scenario::probe_id p = 0; p < w.probe_count(); ++p) {
      const auto& s = w.probe_results(p);
      out += fmt::format("  {:<14} {:>8} {:>9} {:>7} {:>6} {:>6} {:>14} {:>12} {:>12} {:>12}\n",
                         w.probe_config(p).name, s.sent, s.unique, s.lost(), s.duplicates, s.reordered,
                         s.max_gap.to_string(), s.latency_min.to_string(), mean_latency(s).to_string(),
                         s.latency_max.to_string());
    }
  }
  const auto& eps = w.endpoints();
  if (eps.flow_count() > 0) {
    out += fmt::format("\nUDP flows\n  {:<14} {:>8} {:>9} {:>7} {:>6} {:>6} {:>14} {:>12} {:>12} {:>12}\n", "name", "sent",
                       "delivered", "lost", "dup", "reord", "longest gap", "lat p50", "lat p99", "lat max");
    for (traffic::flow_id f = 0; f < eps.flow_count(); ++f) {
      const auto& s = eps.flow_stats(f);
      out += fmt::format("  {:<14} {:>8} {:>9} {:>7} {:>6} {:>6} {:>14} {:>12} {:>12} {:>12}\n", eps.flow_name(f), s.sent,
                         s.delivered, s.lost, s.duplicated, s.reordered, s.longest_gap.to_string(),
                         s.latency_p50.to_string(), s.latency_p99.to_string(), s.latency_max.to_string());
    }
  }
  if (const auto* tcps = w.tcp(); tcps != nullptr && tcps->size() > 0) {
    out += fmt::format("\nTCP bulk transfers\n  {:<14} {:>12} {:>14} {:>8} {:>5} {:>14} {:>12}\n", "name", "bytes",
                       "goodput bit/s", "retrans", "RTOs", "longest stall", "completed");
    for (tcp::session_id s = 0; s < tcps->size(); ++s) {
      const auto r = tcps->report(s);
      out += fmt::format("  {:<14} {:>12} {:>14} {:>8} {:>5} {:>14} {:>12}\n", r.name, r.app.bytes_delivered,
                         w.tcp_goodput_bps(s), r.app.retransmissions, r.app.rto_events, r.app.longest_stall.to_string(),
                         r.app.completed_at ? r.app.completed_at->to_string() : "-");
    }
  }
  if (eps.ping_count() > 0) {
    out += "\nPings\n";
    for (traffic::ping_id p = 0; p < eps.ping_count(); ++p) {
      const auto probes = eps.ping_results(p);
      out += fmt::format("  {:<14} {} probes, {} without a reply\n", eps.ping_name(p), probes.size(), w.ping_lost(p));
    }
  }
  out += detail::console_summary(w);
  const auto a = w.accounting();
  out += fmt::format(
      "\nFrames on links: sent {} = delivered {} + lost {} (carrier {}, black hole {}, random {}, FCS {}) + in "
      "flight {}; refused: queue full {}, no carrier {}\n",
      a.sent, a.delivered, a.lost_carrier + a.lost_black_hole + a.lost_random + a.fcs_errors, a.lost_carrier,
      a.lost_black_hole, a.lost_random, a.fcs_errors, a.in_flight, a.refused_queue_full, a.refused_no_carrier);

  out += "\nExpectations\n";
  for (const auto& r : results) {
    out += fmt::format("  {}  {}: {}: measured {} (expected {})\n", r.pass ? "PASS" : "FAIL", r.name, r.text,
                       r.measured, r.bound);
  }
  const std::size_t ok = passed(results);
  out += fmt::format("\n{}: {} of {} expectations met\n", ok == results.size() ? "PASS" : "FAIL", ok, results.size());
  return out;
}

}  // namespace vnetsim::report
