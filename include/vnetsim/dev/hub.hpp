#pragma once
/// A shared segment: a hub (multiport repeater) that several bridges or stations sit on,
/// as in the IEEE 802.1D figures where a LAN joins more than two bridges. A frame that
/// arrives on one port leaves on every other port that has carrier, after a fixed
/// repeater latency; all copies share one buffer (no bytes are copied).
///
/// Model: each hub port is a full-duplex link end, so the hub behaves as a buffered
/// repeater: every egress link serializes on its own and there are no collisions. A real
/// half-duplex 10/100 Mb/s hub also shares its bandwidth among all ports and collides;
/// that is not modelled (the 802.1D figures need the topology, not CSMA/CD).

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "vnetsim/dev/frame_pool.hpp"
#include "vnetsim/dev/link.hpp"
#include "vnetsim/kernel/simulator.hpp"

namespace vnetsim::dev {

using hub_id = std::uint32_t;

struct hub_stats {
  std::uint64_t in_frames = 0;      ///< frames received on any port
  std::uint64_t out_frames = 0;     ///< copies sent (one per egress port)
  std::uint64_t out_discards = 0;   ///< copies refused by an egress link (queue full, no carrier)
};

class hub_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

class hub_set {
 public:
  hub_set(kernel::simulator& sim, link_set& links);

  /// Adds a hub with `ports` ports (at least 2) and a repeater latency >= 0.
  hub_id add(std::string_view name, std::uint32_t ports, sim_time latency = sim_time::zero());
  /// The endpoint a link end needs to reach port `port` of hub `id`.
  endpoint endpoint_for(hub_id id, std::uint32_t port, kernel::event_kind arrive_kind) const;
  /// Records which link end drives the port.
  void attach(hub_id id, std::uint32_t port, link_id link, link_side side);

  /// Repeats a frame that arrived on `port` out of every other attached port. O(ports).
  void receive(hub_id id, std::uint32_t port, frame_ref frame);

  const hub_stats& stats(hub_id id) const { return at(id).stats; }
  std::string_view name(hub_id id) const { return at(id).name; }
  std::size_t size() const noexcept { return hubs_.size(); }

 private:
  struct hub_port {
    std::optional<link_id> link;
    link_side side = link_side::a;
  };
  struct hub {
    std::string name;
    sim_time latency;
    std::vector<hub_port> ports;
    hub_stats stats;
  };
  hub& at(hub_id id);
  const hub& at(hub_id id) const;

  kernel::simulator* sim_;
  link_set* links_;
  std::vector<hub> hubs_;
};

}  // namespace vnetsim::dev
