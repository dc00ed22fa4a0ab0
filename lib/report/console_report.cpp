#include "console_report.hpp"

#include <fmt/format.h>

#include "vnetsim/scenario/console_binding.hpp"

namespace vnetsim::report::detail {

namespace {

using ojson = nlohmann::ordered_json;

std::string stamp(sim_time t) { return fmt::format("{}.{:09}", t.ns() / 1'000'000'000, t.ns() % 1'000'000'000); }

}  // namespace

ojson console_json(const scenario::world& w, host::host_id h) {
  const scenario::console_binding* cb = w.consoles();
  const host::console* c = cb != nullptr ? cb->console_of(h) : nullptr;
  if (c == nullptr) return nullptr;
  ojson alloc = ojson::array();
  for (const auto& [nic, owner] : c->allocation()) {
    alloc.push_back(ojson{{"nic", nic}, {"owner", std::string(host::to_string(owner))}});
  }
  ojson eth = ojson::array();
  for (const auto& e : c->eth_devices()) {
    eth.push_back(ojson{{"name", e.name()},
                        {"backing", e.kind == host::eth_device::backing::vmxnet ? "vmxnet_console" : "console_nic"},
                        {"target", e.target},
                        {"up", e.up},
                        {"ip", e.ip ? fmt::format("{}/{}", e.ip->to_string(), e.prefix_len) : std::string()},
                        {"carrier", c->carrier(e)}});
  }
  ojson changes = ojson::array();
  for (const auto& m : c->management_changes()) {
    changes.push_back(ojson{{"t", m.at.to_string()},
                            {"from", std::string(host::to_string(m.from))},
                            {"to", std::string(host::to_string(m.to))}});
  }
  ojson cmds = ojson::array();
  for (const auto& x : c->history()) {
    cmds.push_back(ojson{{"t", x.at.to_string()}, {"command", x.line}, {"status", x.result.status},
                         {"output", x.result.output}});
  }
  ojson msgs = ojson::array();
  for (const auto& l : c->messages()) msgs.push_back(stamp(l.at) + " " + l.text);
  ojson pings = ojson::array();
  for (const auto& p : cb->pings_of(h)) {
    pings.push_back(ojson{{"name", p.name}, {"series", p.series}, {"count", p.count}, {"lost", cb->ping_lost(p)},
                          {"note", p.note}});
  }
  const auto& sc = cb->stack_of(h)->counters();
  return ojson{{"management", std::string(host::to_string(c->management()))},
               {"management_changes", std::move(changes)},
               {"loopback_up", c->loopback_up()},
               {"vmxnet_console_loaded", c->module_loaded()},
               {"allocation", std::move(alloc)},
               {"eth", std::move(eth)},
               {"commands", std::move(cmds)},
               {"pings", std::move(pings)},
               {"stack", ojson{{"rx_frames", sc.rx_frames},
                               {"tx_frames", sc.tx_frames},
                               {"dropped_down", sc.dropped_down},
                               {"tx_refused", sc.tx_refused}}},
               {"messages", std::move(msgs)}};
}

std::string console_summary(const scenario::world& w, std::size_t max_lines) {
  const scenario::console_binding* cb = w.consoles();
  if (cb == nullptr) return "";
  std::string out;
  for (host::host_id h = 0; h < w.hosts().host_count(); ++h) {
    const host::console* c = cb->console_of(h);
    if (c == nullptr) continue;
    out += fmt::format("\nService console of {}: management interface {}\n", c->host_name(),
                       host::to_string(c->management()));
    for (const auto& e : c->eth_devices()) {
      out += fmt::format("  {:<6} {:<15} {:<10} {:<4} {}\n", e.name(),
                         e.kind == host::eth_device::backing::vmxnet ? "vmxnet_console" : "console NIC", e.target,
                         e.up ? "up" : "down", e.ip ? fmt::format("{}/{}", e.ip->to_string(), e.prefix_len) : "-");
    }
    for (const auto& p : cb->pings_of(h)) {
      out += fmt::format("  ping {}: {} of {} probes without a reply{}\n", p.name, cb->ping_lost(p), p.count,
                         p.ping ? "" : " (" + p.note + ")");
    }
    out += fmt::format("  {} ({} lines)\n", host::messages_path, c->messages().size());
    std::size_t shown = 0;
    for (const auto& l : c->messages()) {
      if (shown++ == max_lines) break;
      out += fmt::format("    {} {}\n", stamp(l.at), l.text);
    }
    if (c->messages().size() > max_lines) {
      out += fmt::format("    ... {} more in the JSON report\n", c->messages().size() - max_lines);
    }
  }
  return out;
}

}  // namespace vnetsim::report::detail
