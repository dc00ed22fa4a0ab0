#pragma once
/// A neutral description of the physical network (switches, hubs and hosts joined by
/// links with a carrier) and set-up/diagnostic checks on it, computed with Boost.Graph:
/// - find_bridge_loop(): a cycle among switches and hubs over carrier-up links (a bridge
///   loop), given as a path of names;
/// - vlan_broadcast_domains(): the broadcast domains of one VLAN under the current port
///   VLAN membership and forwarding states, and which hosts share one;
/// - check_spanning_tree(): whether the forwarding ports form a loop-free tree that spans
///   every physically connected switch (the INET StpTester check).
///
/// The description knows no simulator class; add_links() fills it from a live
/// dev::link_set through a table of (arrival event kind, device id) -> node, so that a
/// scenario loader can build it from its world. Boost stays out of this header.
///
/// Not for the frame path: these functions allocate and take std::function predicates.
/// Each check is O(nodes + links).
///
/// Rules of the description: node names are unique and not empty; a (node, port) carries
/// at most one link. Violations throw net::topology_error naming the node, the port and the
/// rule.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vnetsim/dev/link.hpp"
#include "vnetsim/kernel/event_queue.hpp"
#include "vnetsim/net/fdb.hpp"

namespace vnetsim::net {

using node_id = std::uint32_t;
using edge_id = std::uint32_t;
using topo_port = std::uint32_t;

/// What a node is: a bridge (switch) forwards per port and VLAN; a hub repeats every frame
/// out of every other port (a shared segment); a host (a NIC or any station) never relays.
enum class node_kind : std::uint8_t { bridge, hub, host };
/// "switch", "hub", "host".
std::string_view to_string(node_kind k) noexcept;

/// A description error; the message names the node, the port or the link, and the rule.
class topology_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct topo_node {
  std::string name;
  node_kind kind = node_kind::bridge;
};

/// A link between (a, port_a) and (b, port_b).
struct topo_edge {
  std::string name;
  node_id a = 0;
  topo_port port_a = 0;
  node_id b = 0;
  topo_port port_b = 0;
  bool carrier = true;
};

/// The physical network: nodes and links, addressed by dense ids in order of addition.
class topology {
 public:
  /// Throws topology_error on an empty or duplicate name.
  node_id add_node(std::string_view name, node_kind kind);
  /// Throws topology_error on an unknown node or a (node, port) that already has a link.
  /// An empty `name` becomes "<a>/<port_a>-<b>/<port_b>".
  edge_id add_link(node_id a, topo_port port_a, node_id b, topo_port port_b, bool carrier = true,
                   std::string_view name = {});
  void set_carrier(edge_id e, bool up);

  std::size_t node_count() const noexcept { return nodes_.size(); }
  std::size_t edge_count() const noexcept { return edges_.size(); }
  const topo_node& node(node_id n) const;
  const topo_edge& edge(edge_id e) const;
  std::optional<node_id> find(std::string_view name) const noexcept;
  /// The link on (n, port), if any. O(links).
  std::optional<edge_id> link_at(node_id n, topo_port port) const noexcept;
  /// "<name>/<port>", the form every message uses.
  std::string port_name(node_id n, topo_port port) const;

 private:
  std::vector<topo_node> nodes_;
  std::vector<topo_edge> edges_;
};

/// Which node each live device is: keyed by the device's link endpoint (its arrival event
/// kind and its device id within that kind); the endpoint's port becomes the node's port.
class device_map {
 public:
  /// Throws topology_error when the (kind, device) is already mapped.
  void add(kernel::event_kind arrive_kind, std::uint32_t device, node_id node);
  std::optional<node_id> find(kernel::event_kind arrive_kind, std::uint32_t device) const noexcept;

 private:
  struct entry {
    kernel::event_kind kind;
    std::uint32_t device;
    node_id node;
  };
  std::vector<entry> entries_;
};

/// Adds every link of `links` to `t` (named as the link, with its current carrier),
/// mapping each end through `map`. The nodes must already be in `t`. Throws topology_error
/// naming the link and the end when an end is not mapped.
void add_links(topology& t, const dev::link_set& links, const device_map& map);

/// A cycle: nodes[i] leaves through ports[i].first over edges[i] and enters nodes[i + 1]
/// (cyclically) through ports[i].second.
struct topo_cycle {
  std::vector<node_id> nodes;
  std::vector<edge_id> edges;
  std::vector<std::pair<topo_port, topo_port>> ports;
  /// Node names along the cycle, the first repeated at the end: {"A", "B", "C", "A"}.
  std::vector<std::string> path(const topology& t) const;
  /// "A/1 -> B/0, B/1 -> C/0, C/1 -> A/0".
  std::string describe(const topology& t) const;
};

/// A bridge loop among switches and hubs over carrier-up links (hosts never relay), or
/// nullopt when that graph is a forest. Parallel links and a link between two ports of one
/// node are loops.
std::optional<topo_cycle> find_bridge_loop(const topology& t);

/// Whether bridge `n` sends and receives frames of `vlan` on `port` (its VLAN membership
/// and its spanning tree forwarding state together).
using vlan_forwarding_fn = std::function<bool(node_id n, topo_port port, vlan_id vlan)>;
/// Whether bridge `n` forwards on `port` (its spanning tree state).
using port_forwarding_fn = std::function<bool(node_id n, topo_port port)>;

/// The broadcast domains of one VLAN: a link carries the VLAN when its carrier is up and
/// each bridge end forwards the VLAN (hub and host ends always pass).
struct broadcast_domains {
  vlan_id vlan = 0;
  /// Domain number of each node (index = node_id).
  std::vector<std::uint32_t> domain_of;
  /// The hosts of each domain that holds at least one host, sorted by id; domains in order
  /// of their smallest host.
  std::vector<std::vector<node_id>> host_groups;

  bool same_domain(node_id a, node_id b) const { return domain_of.at(a) == domain_of.at(b); }
};
broadcast_domains vlan_broadcast_domains(const topology& t, vlan_id vlan,
                                         const vlan_forwarding_fn& forwards);

/// A check's outcome: ok, or a reason naming nodes and ports.
struct topology_verdict {
  bool ok = true;
  std::string reason;
  explicit operator bool() const noexcept { return ok; }
};

/// Whether all of `members` share one broadcast domain of `d.vlan` (e.g. the members of a
/// beaconing team); the reason names two members in different domains.
topology_verdict check_same_domain(const topology& t, const broadcast_domains& d,
                                   std::span<const node_id> members);

/// The INET StpTester check: among switches and hubs, the links whose carrier is up and
/// whose bridge ends both forward (hub ends always do) must have no cycle, and every two
/// switches or hubs joined physically (carrier-up links) must be joined by them.
topology_verdict check_spanning_tree(const topology& t, const port_forwarding_fn& forwarding);

}  // namespace vnetsim::net
