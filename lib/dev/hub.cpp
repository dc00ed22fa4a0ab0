#include "vnetsim/dev/hub.hpp"

#include <fmt/format.h>

namespace vnetsim::dev {

hub_set::hub_set(kernel::simulator& sim, link_set& links) : sim_(&sim), links_(&links) {}

hub_id hub_set::add(std::string_view name, std::uint32_t ports, sim_time latency) {
  if (ports < 2) throw hub_error(fmt::format("hub \"{}\": needs at least 2 ports, not {}", name, ports));
  if (latency < sim_time::zero()) {
    throw hub_error(fmt::format("hub \"{}\": latency {} is negative", name, latency));
  }
  for (const auto& h : hubs_) {
    if (h.name == name) throw hub_error(fmt::format("hub \"{}\": the name is already used", name));
  }
  hub& h = hubs_.emplace_back();
  h.name = std::string(name);
  h.latency = latency;
  h.ports.resize(ports);
  return static_cast<hub_id>(hubs_.size() - 1);
}

hub_set::hub& hub_set::at(hub_id id) {
  if (id >= hubs_.size()) throw hub_error(fmt::format("hub id {} does not exist", id));
  return hubs_[id];
}

const hub_set::hub& hub_set::at(hub_id id) const {
  if (id >= hubs_.size()) throw hub_error(fmt::format("hub id {} does not exist", id));
  return hubs_[id];
}

endpoint hub_set::endpoint_for(hub_id id, std::uint32_t port, kernel::event_kind arrive_kind) const {
  const hub& h = at(id);
  if (port >= h.ports.size()) {
    throw hub_error(fmt::format("hub \"{}\": no port {} (it has {})", h.name, port, h.ports.size()));
  }
  return endpoint{arrive_kind, 0, id, port};
}

void hub_set::attach(hub_id id, std::uint32_t port, link_id link, link_side side) {
  hub& h = at(id);
  if (port >= h.ports.size()) {
    throw hub_error(fmt::format("hub \"{}\": no port {} (it has {})", h.name, port, h.ports.size()));
  }
  if (h.ports[port].link) {
    throw hub_error(fmt::format("hub \"{}\": port {} is already attached", h.name, port));
  }
  h.ports[port] = {link, side};
}

void hub_set::receive(hub_id id, std::uint32_t in, frame_ref frame) {
  hub& h = hubs_[id];
  ++h.stats.in_frames;
  const sim_time ready = sim_->now() + h.latency;
  for (std::uint32_t p = 0; p < h.ports.size(); ++p) {
    const hub_port& out = h.ports[p];
    if (p == in || !out.link) continue;
    // Each copy is another handle on the same buffer.
    if (links_->send(*out.link, out.side, frame, ready) == send_result::queued) {
      ++h.stats.out_frames;
    } else {
      ++h.stats.out_discards;
    }
  }
}

}  // namespace vnetsim::dev
