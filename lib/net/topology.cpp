#include "vnetsim/net/topology.hpp"

#include <algorithm>
#include <cstddef>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/connected_components.hpp>
#include <boost/graph/properties.hpp>
#include <boost/graph/undirected_dfs.hpp>
#include <boost/property_map/property_map.hpp>
#include <fmt/format.h>

namespace vnetsim::net {

std::string_view to_string(node_kind k) noexcept {
  switch (k) {
    case node_kind::bridge: return "switch";
    case node_kind::hub: return "hub";
    case node_kind::host: return "host";
  }
  return "?";
}

// ---- topology ----------------------------------------------------------------------

node_id topology::add_node(std::string_view name, node_kind kind) {
  if (name.empty()) throw topology_error("topology: a node needs a name");
  if (find(name)) throw topology_error(fmt::format("topology: duplicate node name '{}'", name));
  nodes_.push_back({std::string(name), kind});
  return static_cast<node_id>(nodes_.size() - 1);
}

edge_id topology::add_link(node_id a, topo_port port_a, node_id b, topo_port port_b, bool carrier,
                           std::string_view name) {
  (void)node(a);
  (void)node(b);
  if (a == b && port_a == port_b) {
    throw topology_error(fmt::format("topology: link from {} to itself", port_name(a, port_a)));
  }
  for (auto [n, p] : {std::pair{a, port_a}, std::pair{b, port_b}}) {
    if (auto e = link_at(n, p)) {
      throw topology_error(fmt::format("topology: {} already has link '{}'", port_name(n, p),
                                       edges_[*e].name));
    }
  }
  topo_edge e;
  e.name = name.empty() ? fmt::format("{}-{}", port_name(a, port_a), port_name(b, port_b))
                        : std::string(name);
  e.a = a;
  e.port_a = port_a;
  e.b = b;
  e.port_b = port_b;
  e.carrier = carrier;
  edges_.push_back(std::move(e));
  return static_cast<edge_id>(edges_.size() - 1);
}

void topology::set_carrier(edge_id e, bool up) {
  (void)edge(e);
  edges_[e].carrier = up;
}

const topo_node& topology::node(node_id n) const {
  if (n >= nodes_.size()) throw topology_error(fmt::format("topology: no node {}", n));
  return nodes_[n];
}

const topo_edge& topology::edge(edge_id e) const {
  if (e >= edges_.size()) throw topology_error(fmt::format("topology: no link {}", e));
  return edges_[e];
}

std::optional<node_id> topology::find(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].name == name) return static_cast<node_id>(i);
  }
  return std::nullopt;
}

std::optional<edge_id> topology::link_at(node_id n, topo_port port) const noexcept {
  for (std::size_t i = 0; i < edges_.size(); ++i) {
    const auto& e = edges_[i];
    if ((e.a == n && e.port_a == port) || (e.b == n && e.port_b == port)) {
      return static_cast<edge_id>(i);
    }
  }
  return std::nullopt;
}

std::string topology::port_name(node_id n, topo_port port) const {
  return fmt::format("{}/{}", node(n).name, port);
}

// ---- live adapter ------------------------------------------------------------------

void device_map::add(kernel::event_kind arrive_kind, std::uint32_t device, node_id node) {
  if (find(arrive_kind, device)) {
    throw topology_error(
        fmt::format("device map: device {} of event kind {} is already mapped", device, arrive_kind));
  }
  entries_.push_back({arrive_kind, device, node});
}

std::optional<node_id> device_map::find(kernel::event_kind arrive_kind,
                                        std::uint32_t device) const noexcept {
  for (const auto& e : entries_) {
    if (e.kind == arrive_kind && e.device == device) return e.node;
  }
  return std::nullopt;
}

void add_links(topology& t, const dev::link_set& links, const device_map& map) {
  for (dev::link_id id = 0; id < links.size(); ++id) {
    node_id n[2] = {0, 0};
    topo_port p[2] = {0, 0};
    for (auto side : {dev::link_side::a, dev::link_side::b}) {
      const auto& ep = links.end(id, side);
      const auto i = static_cast<std::size_t>(side);
      auto node = map.find(ep.arrive_kind, ep.device);
      if (!node) {
        throw topology_error(fmt::format(
            "topology: link '{}' end {}: device {} of event kind {} is not mapped to a node",
            links.name(id), i == 0 ? 'a' : 'b', ep.device, ep.arrive_kind));
      }
      n[i] = *node;
      p[i] = ep.port;
    }
    t.add_link(n[0], p[0], n[1], p[1], links.carrier(id), links.name(id));
  }
}

// ---- Boost.Graph helpers -----------------------------------------------------------

namespace detail {
namespace {

/// An undirected multigraph over all the topology's nodes; each edge carries its topology
/// edge id (so parallel links stay distinct edges).
struct edge_prop {
  edge_id id = 0;
};
using graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS,
                                    boost::no_property, edge_prop>;
using vertex = boost::graph_traits<graph>::vertex_descriptor;
using bgl_edge = boost::graph_traits<graph>::edge_descriptor;

bool relays(const topology& t, node_id n) { return t.node(n).kind != node_kind::host; }

/// The graph of all nodes with the topology edges that `keep` accepts.
template <class Keep>
graph make_graph(const topology& t, Keep keep) {
  graph g(t.node_count());
  for (edge_id e = 0; e < t.edge_count(); ++e) {
    const auto& te = t.edge(e);
    if (keep(te)) boost::add_edge(te.a, te.b, edge_prop{e}, g);
  }
  return g;
}

/// Records the first back edge seen by an undirected DFS and the tree edge into each
/// vertex; with edge colours, a parallel edge back to the parent is a back edge too.
class cycle_visitor : public boost::default_dfs_visitor {
 public:
  cycle_visitor(std::vector<std::optional<bgl_edge>>& pred, std::optional<bgl_edge>& back)
      : pred_(&pred), back_(&back) {}
  void tree_edge(bgl_edge e, const graph& g) const { (*pred_)[boost::target(e, g)] = e; }
  void back_edge(bgl_edge e, const graph&) const {
    if (!*back_) *back_ = e;
  }

 private:
  std::vector<std::optional<bgl_edge>>* pred_;
  std::optional<bgl_edge>* back_;
};

/// One cycle of `g`, walked in the topology's terms, or nullopt for a forest.
std::optional<topo_cycle> find_cycle(const topology& t, const graph& g) {
  const auto nv = boost::num_vertices(g);
  std::vector<std::optional<bgl_edge>> pred(nv);
  std::optional<bgl_edge> back;
  std::vector<boost::default_color_type> vcolor(nv);
  std::vector<boost::default_color_type> ecolor(t.edge_count());
  auto vmap = boost::make_iterator_property_map(vcolor.begin(), boost::get(boost::vertex_index, g));
  auto emap = boost::make_iterator_property_map(ecolor.begin(), boost::get(&edge_prop::id, g));
  boost::undirected_dfs(g, cycle_visitor(pred, back), vmap, emap);
  if (!back) return std::nullopt;

  // back = (u, v) with v an ancestor of u still on the stack: the cycle is v ... u, v.
  const vertex u = boost::source(*back, g), v = boost::target(*back, g);
  std::vector<bgl_edge> down;  // tree edges from v down to u, collected upwards
  for (vertex x = u; x != v;) {
    const auto e = *pred[x];
    down.push_back(e);
    x = boost::source(e, g) == x ? boost::target(e, g) : boost::source(e, g);
  }
  std::reverse(down.begin(), down.end());
  down.push_back(*back);

  topo_cycle c;
  node_id at = static_cast<node_id>(v);
  for (const auto& be : down) {
    const edge_id id = g[be].id;
    const auto& te = t.edge(id);
    // Orient the link from `at`; for a link between two ports of one node either way works.
    const bool forward = te.a == at;
    c.nodes.push_back(at);
    c.edges.push_back(id);
    c.ports.emplace_back(forward ? te.port_a : te.port_b, forward ? te.port_b : te.port_a);
    at = forward ? te.b : te.a;
  }
  return c;
}

/// Component number of each vertex.
std::vector<std::uint32_t> components(const graph& g) {
  std::vector<std::uint32_t> comp(boost::num_vertices(g));
  boost::connected_components(
      g, boost::make_iterator_property_map(comp.begin(), boost::get(boost::vertex_index, g)));
  return comp;
}

}  // namespace
}  // namespace detail

// ---- checks ------------------------------------------------------------------------

std::vector<std::string> topo_cycle::path(const topology& t) const {
  std::vector<std::string> names;
  for (auto n : nodes) names.push_back(t.node(n).name);
  if (!nodes.empty()) names.push_back(t.node(nodes.front()).name);
  return names;
}

std::string topo_cycle::describe(const topology& t) const {
  std::string s;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const node_id next = nodes[(i + 1) % nodes.size()];
    if (i > 0) s += ", ";
    s += fmt::format("{} -> {}", t.port_name(nodes[i], ports[i].first),
                     t.port_name(next, ports[i].second));
  }
  return s;
}

std::optional<topo_cycle> find_bridge_loop(const topology& t) {
  const auto g = detail::make_graph(t, [&t](const topo_edge& e) {
    return e.carrier && detail::relays(t, e.a) && detail::relays(t, e.b);
  });
  return detail::find_cycle(t, g);
}

broadcast_domains vlan_broadcast_domains(const topology& t, vlan_id vlan,
                                         const vlan_forwarding_fn& forwards) {
  auto passes = [&](node_id n, topo_port p) {
    return t.node(n).kind != node_kind::bridge || forwards(n, p, vlan);
  };
  const auto g = detail::make_graph(t, [&](const topo_edge& e) {
    return e.carrier && passes(e.a, e.port_a) && passes(e.b, e.port_b);
  });
  broadcast_domains d;
  d.vlan = vlan;
  d.domain_of = detail::components(g);
  std::vector<std::optional<std::size_t>> group_of_domain(t.node_count());
  for (node_id n = 0; n < t.node_count(); ++n) {
    if (t.node(n).kind != node_kind::host) continue;
    auto& grp = group_of_domain[d.domain_of[n]];
    if (!grp) {
      grp = d.host_groups.size();
      d.host_groups.emplace_back();
    }
    d.host_groups[*grp].push_back(n);
  }
  return d;
}

topology_verdict check_same_domain(const topology& t, const broadcast_domains& d,
                                   std::span<const node_id> members) {
  for (std::size_t i = 1; i < members.size(); ++i) {
    if (!d.same_domain(members[0], members[i])) {
      return {false, fmt::format("{} '{}' and {} '{}' are in different broadcast domains of VLAN {}",
                                 to_string(t.node(members[0]).kind), t.node(members[0]).name,
                                 to_string(t.node(members[i]).kind), t.node(members[i]).name,
                                 d.vlan)};
    }
  }
  return {};
}

topology_verdict check_spanning_tree(const topology& t, const port_forwarding_fn& forwarding) {
  auto relay_link = [&t](const topo_edge& e) {
    return e.carrier && detail::relays(t, e.a) && detail::relays(t, e.b);
  };
  auto fwd = [&](node_id n, topo_port p) {
    return t.node(n).kind != node_kind::bridge || forwarding(n, p);
  };
  const auto active = detail::make_graph(t, [&](const topo_edge& e) {
    return relay_link(e) && fwd(e.a, e.port_a) && fwd(e.b, e.port_b);
  });
  if (auto c = detail::find_cycle(t, active)) {
    return {false, fmt::format("forwarding loop: {}", c->describe(t))};
  }
  // Two switches or hubs joined physically but not by forwarding ports: then some
  // carrier-up link crosses between two forwarding components; name it and its ports.
  const auto ac = detail::components(active);
  for (edge_id id = 0; id < t.edge_count(); ++id) {
    const auto& e = t.edge(id);
    if (!relay_link(e) || ac[e.a] == ac[e.b]) continue;
    std::string why;
    for (auto [n, p] : {std::pair{e.a, e.port_a}, std::pair{e.b, e.port_b}}) {
      if (fwd(n, p)) continue;
      if (!why.empty()) why += " and ";
      why += fmt::format("{} does not forward", t.port_name(n, p));
    }
    return {false, fmt::format("partition: {} '{}' and {} '{}' are joined physically but not by "
                               "forwarding ports (link '{}': {})",
                               to_string(t.node(e.a).kind), t.node(e.a).name,
                               to_string(t.node(e.b).kind), t.node(e.b).name, e.name, why)};
  }
  return {};
}

}  // namespace vnetsim::net
