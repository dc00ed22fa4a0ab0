// RSTP engine (802.1D-2004 clause 17) driven with no kernel: engines wired by an in-memory
// wire that delivers each BPDU (emitted to bytes and parsed back) after a fixed link delay.
#include "vnetsim/proto/rstp.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

using namespace vnetsim;
using namespace vnetsim::literals;
using rstp::flush_reason;
using rstp::port_index;
using rstp::port_role;
using rstp::port_state;

namespace {

wire::mac_address mac(std::uint64_t low) { return wire::mac_address::from_u64(0x0200'0000'0000ULL | low); }

/// A legacy 802.1D-1998 bridge port, reduced to what a neighbour sees: it claims to be the
/// root with Configuration BPDUs every 2 s until it hears better information, then falls
/// silent like a Root Port; it ignores RST BPDUs (802.1D-1998 9.3.4 knows no type 0x02).
struct legacy_peer {
  wire::bridge_id id;
  bool up = false;
  bool quiet = false;
  sim_time next_hello;
  std::vector<std::pair<sim_time, wire::bpdu_repr>> received;
  int rst_ignored = 0;

  wire::bpdu_repr hello() const {
    wire::bpdu_repr b;
    b.type = wire::bpdu_type::config;
    b.root = id;
    b.bridge = id;
    b.port = wire::port_id::make(128, 1);
    b.max_age = wire::bpdu_time_from_s(20);
    b.hello_time = wire::bpdu_time_from_s(2);
    b.forward_delay = wire::bpdu_time_from_s(15);
    return b;
  }
  void receive(const wire::bpdu_repr& b, sim_time now) {
    if (b.type == wire::bpdu_type::rst) {
      ++rst_ignored;
      return;
    }
    received.emplace_back(now, b);
    if (b.type == wire::bpdu_type::config && b.root < id) quiet = true;
  }
};

struct endpoint {
  std::size_t node;
  port_index port;
};

struct link {
  endpoint a, b;
  sim_time delay;
  bool up = false;
  bool silent = false;  ///< carrier up, but nothing gets through (an indirect failure)
};

struct tx_rec {
  sim_time t;
  std::size_t node;
  port_index port;
  wire::bpdu_repr b;
};
struct state_rec {
  sim_time t;
  std::size_t node;
  port_index port;
  port_state from, to;
};
struct role_rec {
  sim_time t;
  std::size_t node;
  port_index port;
  port_role from, to;
};
struct flush_rec {
  sim_time t;
  std::size_t node;
  port_index port;
  flush_reason why;
};

class net;

struct recorder final : rstp::sink {
  net* n = nullptr;
  std::size_t id = 0;
  void transmit(port_index port, const wire::bpdu_repr& b, sim_time now) override;
  void role_changed(port_index port, port_role from, port_role to, sim_time now) override;
  void state_changed(port_index port, port_state from, port_state to, sim_time now) override;
  void flush_fdb(port_index port, flush_reason why, sim_time now) override;
  void topology_change(port_index port, bool detected, sim_time now) override;
  void edge_changed(port_index port, bool edge, sim_time now) override;
  void log(sim_time now, std::string_view line) override;
};

/// Nodes (RSTP engines or legacy peers), point-to-point links, and an event loop that runs
/// deliveries (time, seq) first and then each engine's next_deadline in (time, node id) order.
class net {
 public:
  std::size_t add_bridge(std::uint64_t mac_low, std::uint16_t priority, std::size_t nports,
                         rstp::port_config pc = {}, rstp::bridge_config bc = {}) {
    bc.address = mac(mac_low);
    bc.priority = priority;
    std::vector<rstp::port_config> pcs(nports, pc);
    auto nd = std::make_unique<node>();
    nd->e = std::make_unique<rstp::engine>(bc, pcs);
    return add(std::move(nd));
  }
  std::size_t add_legacy(std::uint64_t mac_low, std::uint16_t priority) {
    auto nd = std::make_unique<node>();
    nd->l = std::make_unique<legacy_peer>();
    nd->l->id = wire::bridge_id::make(priority, 0, mac(mac_low));
    return add(std::move(nd));
  }
  std::size_t connect(std::size_t a, port_index pa, std::size_t b, port_index pb,
                      sim_time delay = 1_ms) {
    links_.push_back({{a, pa}, {b, pb}, delay});
    return links_.size() - 1;
  }
  void set_link(std::size_t l, bool up) {
    links_[l].up = up;
    for (const endpoint& ep : {links_[l].a, links_[l].b}) {
      node& nd = *nodes_[ep.node];
      if (nd.e) {
        nd.e->set_port_enabled(ep.port, up, now_, nd.rec);
      } else {
        nd.l->up = up;
        nd.l->next_hello = now_;
      }
    }
  }
  void set_silent(std::size_t l, bool silent) { links_[l].silent = silent; }
  void links_up() {
    for (std::size_t l = 0; l < links_.size(); ++l) set_link(l, true);
  }

  void run_until(sim_time end) {
    for (;;) {
      std::optional<sim_time> t_del;
      if (!inflight_.empty()) t_del = inflight_.begin()->first.first;
      std::optional<sim_time> t_tmr;
      std::size_t who = 0;
      for (std::size_t i = 0; i < nodes_.size(); ++i) {
        const auto d = deadline(i);
        if (d && (!t_tmr || *d < *t_tmr)) {
          t_tmr = d;
          who = i;
        }
      }
      if (t_del && (!t_tmr || *t_del <= *t_tmr)) {
        if (*t_del > end) break;
        auto it = inflight_.begin();
        const msg m = it->second;
        now_ = *t_del;
        inflight_.erase(it);
        deliver(m);
      } else if (t_tmr) {
        if (*t_tmr > end) break;
        now_ = *t_tmr;
        node& nd = *nodes_[who];
        if (nd.e) {
          nd.e->on_timer(now_, nd.rec);
        } else {
          send(who, 0, nd.l->hello());
          nd.l->next_hello = now_ + 2_s;
        }
      } else {
        break;
      }
    }
    now_ = end;
  }
  void run_for(sim_time d) { run_until(now_ + d); }

  rstp::engine& eng(std::size_t id) { return *nodes_.at(id)->e; }
  legacy_peer& legacy(std::size_t id) { return *nodes_.at(id)->l; }
  recorder& sink_of(std::size_t id) { return nodes_.at(id)->rec; }
  sim_time now() const { return now_; }
  const std::vector<link>& links() const { return links_; }
  std::size_t size() const { return nodes_.size(); }
  bool is_rstp(std::size_t id) const { return nodes_.at(id)->e != nullptr; }

  /// Puts `b` on the wire from (node, port): emitted to bytes, parsed back on delivery.
  void send(std::size_t from, port_index port, const wire::bpdu_repr& b) {
    txs.push_back({now_, from, port, b});
    for (const link& lk : links_) {
      const bool at_a = lk.a.node == from && lk.a.port == port;
      const bool at_b = lk.b.node == from && lk.b.port == port;
      if (!at_a && !at_b) continue;
      if (!lk.up || lk.silent) return;
      std::array<std::byte, wire::bpdu_rst_len> buf{};
      b.emit(wire::bpdu_packet{std::span<std::byte>(buf).first(b.buffer_len())});
      msg m{at_a ? lk.b : lk.a, std::vector<std::byte>(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(b.buffer_len())),
            static_cast<std::size_t>(&lk - links_.data())};
      inflight_.emplace(std::make_pair(now_ + lk.delay, seq_++), std::move(m));
      return;
    }
  }

  std::vector<tx_rec> txs;
  std::vector<state_rec> states;
  std::vector<role_rec> roles;
  std::vector<flush_rec> flushes;
  std::vector<std::tuple<sim_time, std::size_t, port_index, bool>> tcs;
  std::vector<std::tuple<sim_time, std::size_t, port_index, bool>> edges;
  std::vector<std::string> log;

  /// When (node, port) last entered `s` at or after `after`.
  std::optional<sim_time> entered(std::size_t nd, port_index p, port_state s,
                                  sim_time after = sim_time::zero()) const {
    std::optional<sim_time> r;
    for (const auto& x : states)
      if (x.node == nd && x.port == p && x.to == s && x.t >= after) r = x.t;
    return r;
  }
  std::optional<sim_time> became(std::size_t nd, port_index p, port_role role,
                                 sim_time after = sim_time::zero()) const {
    std::optional<sim_time> r;
    for (const auto& x : roles)
      if (x.node == nd && x.port == p && x.to == role && x.t >= after) r = x.t;
    return r;
  }

 private:
  struct node {
    std::unique_ptr<rstp::engine> e;
    std::unique_ptr<legacy_peer> l;
    recorder rec;
  };
  struct msg {
    endpoint to;
    std::vector<std::byte> bytes;
    std::size_t link;
  };
  std::size_t add(std::unique_ptr<node> nd) {
    nd->rec.n = this;
    nd->rec.id = nodes_.size();
    nodes_.push_back(std::move(nd));
    return nodes_.size() - 1;
  }
  std::optional<sim_time> deadline(std::size_t i) const {
    const node& nd = *nodes_[i];
    if (nd.e) return nd.e->next_deadline();
    if (nd.l->up && !nd.l->quiet) return nd.l->next_hello;
    return std::nullopt;
  }
  void deliver(const msg& m) {
    if (!links_[m.link].up || links_[m.link].silent) return;
    const auto parsed = wire::bpdu_repr::parse(m.bytes);
    REQUIRE(parsed);
    node& nd = *nodes_[m.to.node];
    if (nd.e) nd.e->on_pdu(m.to.port, *parsed, now_, nd.rec);
    else nd.l->receive(*parsed, now_);
  }

  std::vector<std::unique_ptr<node>> nodes_;
  std::vector<link> links_;
  std::multimap<std::pair<sim_time, std::uint64_t>, msg> inflight_;
  std::uint64_t seq_ = 0;
  sim_time now_;
};

void recorder::transmit(port_index port, const wire::bpdu_repr& b, sim_time) { n->send(id, port, b); }
void recorder::role_changed(port_index port, port_role from, port_role to, sim_time now) {
  n->roles.push_back({now, id, port, from, to});
}
void recorder::state_changed(port_index port, port_state from, port_state to, sim_time now) {
  n->states.push_back({now, id, port, from, to});
}
void recorder::flush_fdb(port_index port, flush_reason why, sim_time now) {
  n->flushes.push_back({now, id, port, why});
}
void recorder::topology_change(port_index port, bool detected, sim_time now) {
  n->tcs.emplace_back(now, id, port, detected);
}
void recorder::edge_changed(port_index port, bool edge, sim_time now) {
  n->edges.emplace_back(now, id, port, edge);
}
void recorder::log(sim_time now, std::string_view line) {
  n->log.push_back(fmt::format("{} {}", now, line));
}

/// INET StpTester idea: over the RSTP bridges, the links whose two ends forward (and that
/// carry frames) form a tree that spans every bridge: n - 1 such links, no cycle.
void check_spanning_tree(net& n) {
  std::vector<std::size_t> parent(n.size());
  std::iota(parent.begin(), parent.end(), std::size_t{0});
  const auto find = [&](std::size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  std::size_t bridges = 0;
  for (std::size_t i = 0; i < n.size(); ++i) bridges += n.is_rstp(i) ? 1 : 0;
  std::size_t active = 0;
  for (const link& lk : n.links()) {
    if (!lk.up || lk.silent || !n.is_rstp(lk.a.node) || !n.is_rstp(lk.b.node)) continue;
    if (!rstp::forwards(n.eng(lk.a.node).state(lk.a.port)) ||
        !rstp::forwards(n.eng(lk.b.node).state(lk.b.port)))
      continue;
    const auto ra = find(lk.a.node), rb = find(lk.b.node);
    INFO("forwarding loop through link ", lk.a.node, ":", lk.a.port, " - ", lk.b.node, ":", lk.b.port);
    CHECK(ra != rb);
    parent[ra] = rb;
    ++active;
  }
  CHECK(active == bridges - 1);
  std::set<std::size_t> roots;
  for (std::size_t i = 0; i < n.size(); ++i)
    if (n.is_rstp(i)) roots.insert(find(i));
  CHECK(roots.size() == 1);
}

/// The documented ring with a chord: A-B-C-D-A plus B-D, A the root (priority 4096), all
/// links 1 Gb/s (cost 20,000). Expected (802.1D-2004 17.6 comparisons): A's ports designated;
/// B root port to A, designated to C and to D (equal cost, B's id lower); C root port to B
/// (B's id lower than D's), alternate to D; D root port to A, designated to C, alternate on
/// the chord.
struct ring_chord {
  net n;
  std::size_t a, b, c, d;
  std::size_t ab, bc, cd, da, bd;
  // Port numbering: A {0: B, 1: D}, B {0: A, 1: C, 2: D}, C {0: B, 1: D}, D {0: C, 1: A, 2: B}.
  ring_chord() {
    a = n.add_bridge(0x0a, 4096, 2);
    b = n.add_bridge(0x0b, 32768, 3);
    c = n.add_bridge(0x0c, 32768, 2);
    d = n.add_bridge(0x0d, 32768, 3);
    ab = n.connect(a, 0, b, 0);
    bc = n.connect(b, 1, c, 0);
    cd = n.connect(c, 1, d, 0);
    da = n.connect(d, 1, a, 1);
    bd = n.connect(b, 2, d, 2);
    n.links_up();
    n.run_for(60_s);
  }
};

}  // namespace

TEST_CASE("rstp: names, predicates and Table 17-3 path costs") {
  CHECK(rstp::to_string(port_role::root) == "Root");
  CHECK(rstp::to_string(port_role::alternate) == "Alternate");
  CHECK(rstp::to_string(port_role::backup) == "Backup");
  CHECK(rstp::to_string(port_state::discarding) == "Discarding");
  CHECK(rstp::to_string(port_state::forwarding) == "Forwarding");
  CHECK(rstp::forwards(port_state::forwarding));
  CHECK_FALSE(rstp::forwards(port_state::learning));
  CHECK(rstp::learns(port_state::learning));
  CHECK_FALSE(rstp::learns(port_state::discarding));
  CHECK(rstp::default_path_cost(100'000'000) == 200'000);
  CHECK(rstp::default_path_cost(1'000'000'000) == 20'000);
  CHECK(rstp::default_path_cost(10'000'000'000) == 2'000);
  CHECK(rstp::default_path_cost(0) == 200'000'000);
  CHECK(rstp::default_path_cost(10'000) == 200'000'000);                 // clamped
  CHECK(rstp::default_path_cost(100'000'000'000'000ULL) == 1);           // clamped
}

TEST_CASE("rstp: configuration is validated with parameter, value and rule") {
  const std::vector<rstp::port_config> one(1);
  rstp::bridge_config bc;
  bc.address = mac(1);
  const auto message = [&](const rstp::bridge_config& cfg,
                           const std::vector<rstp::port_config>& pcs) -> std::string {
    try {
      rstp::engine e(cfg, pcs);
    } catch (const rstp::config_error& err) {
      return err.what();
    }
    return "no error";
  };
  CHECK(message(bc, one) == "no error");
  auto c = bc;
  c.priority = 1000;
  CHECK(message(c, one) ==
        "rstp: bridge priority = 1000: must be a multiple of 4096 in 0-61440 (802.1D-2004 "
        "17.13.7, Table 17-2)");
  c = bc;
  c.max_age = 44_s;
  CHECK(message(c, one) == "rstp: max_age = 44s: must be within [6s, 40s] (802.1D-2004 Table 17-1)");
  c = bc;
  c.forward_delay = 4_s;  // 2 x (4 - 1) = 6 < 20
  CHECK(message(c, one) ==
        "rstp: max_age = 20s: must not exceed 2 x (forward_delay - 1 s) = 6s with forward_delay "
        "4s (802.1D-2004 17.14)");
  c = bc;
  c.hello_time = 10_s;
  c.max_age = 20_s;  // 2 x (10 + 1) = 22 > 20
  CHECK(message(c, one) ==
        "rstp: max_age = 20s: must be at least 2 x (hello_time + 1 s) = 22s with hello_time 10s "
        "(802.1D-2004 17.14)");
  c = bc;
  c.hello_time = sim_time::from_ms(1001);
  CHECK(message(c, one).find("1/256 s") != std::string::npos);
  c = bc;
  c.transmit_hold_count = 11;
  CHECK(message(c, one) ==
        "rstp: transmit_hold_count = 11: must be within 1-10 (802.1D-2004 17.13.12, Table 17-1)");
  c = bc;
  c.force_protocol_version = 3;
  CHECK(message(c, one).find("force_protocol_version = 3") != std::string::npos);
  auto pcs = one;
  pcs[0].priority = 100;
  CHECK(message(bc, pcs) ==
        "rstp: port 0 priority = 100: must be a multiple of 16 in 0-240 (802.1D-2004 17.13.10, "
        "Table 17-2)");
  pcs = one;
  pcs[0].path_cost = 0;
  CHECK(message(bc, pcs) ==
        "rstp: port 0 path_cost = 0: must be within 1-200000000 (802.1D-2004 17.13.11, Table "
        "17-3)");

  // Setters validate too, and leave the engine unchanged on error.
  rstp::engine e(bc, one);
  struct : rstp::sink {
    void transmit(port_index, const wire::bpdu_repr&, sim_time) override {}
  } quiet;
  CHECK_THROWS_AS(e.set_bridge_priority(4097, 0_s, quiet), rstp::config_error);
  CHECK(e.bridge_id().priority == 32768);
  CHECK_THROWS_AS(e.set_path_cost(0, 200'000'001, 0_s, quiet), rstp::config_error);
  CHECK(e.config(0).path_cost == 20'000);
  CHECK_THROWS_AS(e.set_transmit_hold_count(0), rstp::config_error);
  CHECK_THROWS_AS(e.set_bridge_times(2_s, 20_s, 8_s, 0_s, quiet), rstp::config_error);
  e.set_bridge_times(1_s, 6_s, 4_s, 0_s, quiet);  // the tightest legal set
  CHECK(e.root_times().hello_time == 1_s);
}

TEST_CASE("rstp: proposal/agreement on a point-to-point link converges with no timer") {
  // [Extreme] [CiscoONS]: sub-second, against 2 x Forward Delay = 30 s for 802.1D.
  net n;
  const auto a = n.add_bridge(0x0a, 4096, 1);
  const auto b = n.add_bridge(0x0b, 32768, 1);
  n.connect(a, 0, b, 0, 1_ms);
  n.links_up();
  n.run_for(10_s);
  // t = 0: both ports Designated and proposing. t = 1 ms: B hears A's superior proposal,
  // makes port 0 its Root Port, syncs (nothing else to block) and agrees: Root Port
  // forwards at once. t = 2 ms: A hears the agreement and forwards.
  CHECK(n.eng(b).role(0) == port_role::root);
  CHECK(n.eng(a).role(0) == port_role::designated);
  CHECK(n.entered(b, 0, port_state::forwarding) == 1_ms);
  CHECK(n.entered(a, 0, port_state::forwarding) == 2_ms);
  CHECK(n.entered(b, 0, port_state::learning) == 1_ms);
  CHECK(n.entered(a, 0, port_state::learning) == 2_ms);
  // The handshake is on the wire: A's proposal, B's agreement.
  const auto proposal = std::find_if(n.txs.begin(), n.txs.end(), [&](const tx_rec& r) {
    return r.node == a && r.b.flags.proposal();
  });
  REQUIRE(proposal != n.txs.end());
  CHECK(proposal->t == 0_s);
  CHECK(proposal->b.type == wire::bpdu_type::rst);
  const auto agreement = std::find_if(n.txs.begin(), n.txs.end(), [&](const tx_rec& r) {
    return r.node == b && r.b.flags.agreement();
  });
  REQUIRE(agreement != n.txs.end());
  CHECK(agreement->t == 1_ms);
  CHECK(agreement->b.flags.role() == wire::bpdu_role::root);
  CHECK(n.eng(b).designated_root() == n.eng(a).bridge_id());
  CHECK(n.eng(b).root_path_cost() == 20'000);
  check_spanning_tree(n);

  SUBCASE("a chain of four syncs hop by hop, one link delay per hop") {
    net m;
    const auto r = m.add_bridge(0x01, 4096, 1);
    const auto x = m.add_bridge(0x02, 32768, 2);
    const auto y = m.add_bridge(0x03, 32768, 2);
    const auto z = m.add_bridge(0x04, 32768, 1);
    m.connect(r, 0, x, 0, 1_ms);
    m.connect(x, 1, y, 0, 2_ms);
    m.connect(y, 1, z, 0, 3_ms);
    m.links_up();
    m.run_for(10_s);
    // Each hop: proposal travels one delay, the agreement one delay back.
    CHECK(m.entered(x, 0, port_state::forwarding) == 1_ms);
    CHECK(m.entered(r, 0, port_state::forwarding) == 2_ms);
    CHECK(m.entered(x, 1, port_state::forwarding).value() < 1_s);
    CHECK(m.entered(y, 1, port_state::forwarding).value() < 1_s);
    CHECK(m.entered(z, 0, port_state::forwarding).value() < 1_s);
    CHECK(m.eng(z).root_path_cost() == 60'000);
    check_spanning_tree(m);
  }
}

TEST_CASE("rstp: root election among four bridges") {
  net n;
  // Priorities decide first, then the MAC (802.1D-2004 9.2.5, 17.6).
  const auto b0 = n.add_bridge(0x01, 32768, 3);
  const auto b1 = n.add_bridge(0x09, 8192, 3);
  const auto b2 = n.add_bridge(0x03, 8192, 3);  // same priority as b1, lower MAC: root
  const auto b3 = n.add_bridge(0x02, 61440, 3);
  // Full mesh; port p of bridge i goes to the p-th other bridge.
  n.connect(b0, 0, b1, 0);
  n.connect(b0, 1, b2, 0);
  n.connect(b0, 2, b3, 0);
  n.connect(b1, 1, b2, 1);
  n.connect(b1, 2, b3, 1);
  n.connect(b2, 2, b3, 2);
  n.links_up();
  n.run_for(30_s);
  for (std::size_t i = 0; i < 4; ++i) CHECK(n.eng(i).designated_root() == n.eng(b2).bridge_id());
  CHECK(n.eng(b2).is_root_bridge());
  for (port_index p = 0; p < 3; ++p) {
    CHECK(n.eng(b2).role(p) == port_role::designated);
    CHECK(n.eng(b2).state(p) == port_state::forwarding);
  }
  CHECK(n.eng(b0).root_port() == std::optional<port_index>{1});
  CHECK(n.eng(b1).root_port() == std::optional<port_index>{1});
  CHECK(n.eng(b3).root_port() == std::optional<port_index>{2});
  for (auto i : {b0, b1, b3}) CHECK(n.eng(i).root_path_cost() == 20'000);
  check_spanning_tree(n);
}

TEST_CASE("rstp: a 4-bridge ring with a chord ends with the documented roles and states") {
  ring_chord t;
  auto& n = t.n;
  struct expect {
    std::size_t node;
    port_index port;
    port_role role;
    port_state state;
  };
  const std::vector<expect> table = {
      {t.a, 0, port_role::designated, port_state::forwarding},
      {t.a, 1, port_role::designated, port_state::forwarding},
      {t.b, 0, port_role::root, port_state::forwarding},
      {t.b, 1, port_role::designated, port_state::forwarding},
      {t.b, 2, port_role::designated, port_state::forwarding},
      {t.c, 0, port_role::root, port_state::forwarding},
      {t.c, 1, port_role::alternate, port_state::discarding},
      {t.d, 0, port_role::designated, port_state::forwarding},
      {t.d, 1, port_role::root, port_state::forwarding},
      {t.d, 2, port_role::alternate, port_state::discarding},
  };
  for (const auto& e : table) {
    INFO("bridge ", e.node, " port ", e.port);
    CHECK(n.eng(e.node).role(e.port) == e.role);
    CHECK(n.eng(e.node).state(e.port) == e.state);
    CHECK(n.eng(e.node).ports()[e.port].role == e.role);  // the per-frame table agrees
  }
  CHECK(n.eng(t.c).root_path_cost() == 40'000);
  // Converged well under a second [CiscoONS].
  sim_time last = 0_s;
  for (const auto& s : n.states) last = std::max(last, s.t);
  CHECK(last < 1_s);
  check_spanning_tree(n);
}

TEST_CASE("rstp: one SUBCASE per port role") {
  SUBCASE("Root, Designated and Alternate in the ring") {
    ring_chord t;
    CHECK(t.n.eng(t.c).role(0) == port_role::root);
    CHECK(t.n.eng(t.c).role(1) == port_role::alternate);
    CHECK(t.n.eng(t.b).role(1) == port_role::designated);
    // An Alternate Port's BPDUs say Alternate/Backup.
    const auto it = std::find_if(t.n.txs.rbegin(), t.n.txs.rend(), [&](const tx_rec& r) {
      return r.node == t.c && r.port == 1;
    });
    REQUIRE(it != t.n.txs.rend());
    CHECK(it->b.flags.role() == wire::bpdu_role::alternate_backup);
  }
  SUBCASE("Backup: two ports of one bridge on one segment (a looped cable)") {
    net n;
    const auto r = n.add_bridge(0x01, 4096, 1);
    const auto x = n.add_bridge(0x02, 32768, 3);
    n.connect(r, 0, x, 0);
    n.connect(x, 1, x, 2);  // port 1 hears port 2 and vice versa
    n.links_up();
    n.run_for(30_s);
    CHECK(n.eng(x).role(0) == port_role::root);
    CHECK(n.eng(x).role(1) == port_role::designated);  // lower port id wins the segment
    CHECK(n.eng(x).role(2) == port_role::backup);
    CHECK(n.eng(x).state(2) == port_state::discarding);
    CHECK(n.eng(x).state(1) == port_state::forwarding);
  }
  SUBCASE("Disabled: a port whose link is down") {
    ring_chord t;
    t.n.set_link(t.bd, false);
    t.n.run_for(10_s);
    CHECK(t.n.eng(t.b).role(2) == port_role::disabled);
    CHECK(t.n.eng(t.d).role(2) == port_role::disabled);
    CHECK(t.n.eng(t.b).state(2) == port_state::discarding);
    CHECK_FALSE(t.n.eng(t.b).ports()[2].enabled);
    check_spanning_tree(t.n);
  }
}

TEST_CASE("rstp: one SUBCASE per port state") {
  net n;
  const auto a = n.add_bridge(0x0a, 4096, 1);
  const auto b = n.add_bridge(0x0b, 32768, 2);
  const auto l = n.add_legacy(0x0f, 61440);
  n.connect(a, 0, b, 0);
  n.connect(b, 1, l, 0);
  n.links_up();
  SUBCASE("Discarding: before the forward delay runs out towards an STP bridge") {
    n.run_for(19_s);
    CHECK(n.eng(b).state(1) == port_state::discarding);
    CHECK_FALSE(rstp::learns(n.eng(b).ports()[1].state));
  }
  SUBCASE("Learning: between the two forward delay halves") {
    n.run_for(25_s);
    CHECK(n.eng(b).state(1) == port_state::learning);
    CHECK(rstp::learns(n.eng(b).ports()[1].state));
    CHECK_FALSE(rstp::forwards(n.eng(b).ports()[1].state));
  }
  SUBCASE("Forwarding") {
    n.run_for(40_s);
    CHECK(n.eng(b).state(1) == port_state::forwarding);
    CHECK(n.eng(b).counters(1).forward_transitions == 1);
  }
}

TEST_CASE("rstp: edge ports") {
  struct capture : rstp::sink {
    std::vector<std::pair<sim_time, port_state>> states;
    std::vector<std::pair<sim_time, bool>> edge;
    std::vector<sim_time> tcs;
    void transmit(port_index, const wire::bpdu_repr&, sim_time) override {}
    void state_changed(port_index, port_state, port_state to, sim_time now) override {
      states.emplace_back(now, to);
    }
    void edge_changed(port_index, bool e, sim_time now) override { edge.emplace_back(now, e); }
    void topology_change(port_index, bool, sim_time now) override { tcs.push_back(now); }
  };
  rstp::bridge_config bc;
  bc.address = mac(0x0b);
  std::vector<rstp::port_config> pcs(1);

  SUBCASE("an admin edge port forwards at once and loses edge status on a BPDU") {
    pcs[0].admin_edge = true;
    rstp::engine e(bc, pcs);
    capture out;
    e.set_port_enabled(0, true, 1_s, out);
    CHECK(e.oper_edge(0));
    CHECK(e.state(0) == port_state::forwarding);
    REQUIRE(out.states.size() == 2);
    CHECK(out.states[0] == std::pair{1_s, port_state::learning});
    CHECK(out.states[1] == std::pair{1_s, port_state::forwarding});
    CHECK(out.tcs.empty());  // an edge port going forwarding is no topology change
    // A bridge appears behind it [Extreme]: an inferior RST BPDU.
    wire::bpdu_repr bpdu;
    bpdu.type = wire::bpdu_type::rst;
    bpdu.version = wire::bpdu_version_rstp;
    bpdu.flags.set_role(wire::bpdu_role::designated);
    bpdu.root = bpdu.bridge = wire::bridge_id::make(61440, 0, mac(0x0f));
    bpdu.port = wire::port_id::make(128, 1);
    bpdu.max_age = wire::bpdu_time_from_s(20);
    bpdu.hello_time = wire::bpdu_time_from_s(2);
    bpdu.forward_delay = wire::bpdu_time_from_s(15);
    e.on_pdu(0, bpdu, 5_s, out);
    CHECK_FALSE(e.oper_edge(0));
    CHECK_FALSE(e.ports()[0].oper_edge);
    REQUIRE(out.edge.size() == 1);
    CHECK(out.edge[0] == std::pair{5_s, false});
    CHECK(e.role(0) == port_role::designated);  // still designated: our info is better
    CHECK(out.tcs == std::vector<sim_time>{5_s});  // now a non-edge forwarding port: TC
  }
  SUBCASE("auto edge: a silent designated port becomes edge after Migrate Time (3 s)") {
    rstp::engine e(bc, pcs);
    capture out;
    e.set_port_enabled(0, true, 0_s, out);
    CHECK_FALSE(e.oper_edge(0));
    while (auto d = e.next_deadline()) {
      if (*d > 30_s) break;
      e.on_timer(*d, out);
    }
    CHECK(out.edge == std::vector<std::pair<sim_time, bool>>{{3_s, true}});
    REQUIRE(out.states.size() == 2);
    CHECK(out.states[1] == std::pair{3_s, port_state::forwarding});
  }
  SUBCASE("no auto edge: a designated port with no agreement waits fdWhile = Max Age") {
    // 17.29: DISABLED_PORT holds fdWhile at Max Age; DESIGNATED_LEARN then waits
    // forwardDelay = Hello Time (17.20.5, sendRSTP) [mstpd]: 20 s + 2 s.
    pcs[0].auto_edge = false;
    rstp::engine e(bc, pcs);
    capture out;
    e.set_port_enabled(0, true, 0_s, out);
    while (auto d = e.next_deadline()) {
      if (*d > 60_s) break;
      e.on_timer(*d, out);
    }
    REQUIRE(out.states.size() == 2);
    CHECK(out.states[0] == std::pair{20_s, port_state::learning});
    CHECK(out.states[1] == std::pair{22_s, port_state::forwarding});
  }
}

TEST_CASE("rstp: root port failure, the alternate port takes over at once") {
  ring_chord t;
  auto& n = t.n;
  const sim_time fail = n.now();
  n.set_link(t.bc, false);  // C loses its Root Port; carrier loss is seen at once
  n.run_for(10_s);
  CHECK(n.eng(t.c).role(1) == port_role::root);
  CHECK(n.became(t.c, 1, port_role::root, fail) == fail);
  CHECK(n.entered(t.c, 1, port_state::forwarding, fail) == fail);  // no timer at all
  CHECK(n.eng(t.c).root_path_cost() == 40'000);
  // D's port to C was already a forwarding designated port: D keeps forwarding.
  CHECK(n.eng(t.d).state(0) == port_state::forwarding);
  check_spanning_tree(n);
}

TEST_CASE("rstp: an indirect failure is detected after 3 x Hello Time = 6 s") {
  ring_chord t;
  auto& n = t.n;
  n.set_silent(t.bc, true);  // carrier stays up, BPDUs stop [mstpd] updtRcvdInfoWhile
  const sim_time cut = n.now();
  // The last BPDU C received on its Root Port before the cut.
  std::optional<sim_time> last_rx;
  for (const auto& r : n.txs)
    if (r.node == t.b && r.port == 1 && r.t < cut) last_rx = r.t + 1_ms;
  REQUIRE(last_rx);
  n.run_for(20_s);
  CHECK(n.became(t.c, 1, port_role::root, cut) == *last_rx + 6_s);
  CHECK(n.entered(t.c, 1, port_state::forwarding, cut) == *last_rx + 6_s);
  CHECK(n.eng(t.c).root_port() == std::optional<port_index>{1});
  check_spanning_tree(n);
}

TEST_CASE("rstp: topology change propagation and FDB flushes") {
  ring_chord t;
  auto& n = t.n;
  const sim_time fail = n.now();
  n.set_link(t.bc, false);
  n.run_for(10_s);
  // C's new Root Port (to D) goes forwarding: TC detected there (17.31 DETECTED).
  const auto detected = std::find_if(n.tcs.begin(), n.tcs.end(), [&](const auto& x) {
    return std::get<0>(x) >= fail && std::get<3>(x);
  });
  REQUIRE(detected != n.tcs.end());
  CHECK(std::get<0>(*detected) == fail);
  CHECK(std::get<1>(*detected) == t.c);
  CHECK(std::get<2>(*detected) == 1);
  std::set<std::pair<std::size_t, port_index>> tc_flushes, inactive_flushes;
  for (const auto& f : n.flushes) {
    if (f.t < fail) continue;
    (f.why == flush_reason::topology_change ? tc_flushes : inactive_flushes).insert({f.node, f.port});
  }
  // The TC travels C -> D (in on D's port 0) -> A (in on port 1) -> B (in on port 0) -> D
  // over the chord, where D's Alternate Port ignores it. Each bridge flushes its other
  // forwarding non-edge ports (PROPAGATING) and never the port the TC came in on, nor its
  // Alternate Ports; C has no other active port (its link to B is down).
  const std::set<std::pair<std::size_t, port_index>> expect_tc = {{t.d, 1}, {t.a, 0}, {t.b, 2}};
  CHECK(tc_flushes == expect_tc);
  // The two ends of the dead link stopped learning (INACTIVE).
  CHECK(inactive_flushes ==
        std::set<std::pair<std::size_t, port_index>>{{t.b, 1}, {t.c, 0}});
  // TC flags went out on RST BPDUs for Hello Time + 1 s (newTcWhile, 17.21.7), then stop.
  const auto tc_bpdus = std::count_if(n.txs.begin(), n.txs.end(), [&](const tx_rec& r) {
    return r.t >= fail && r.node == t.c && r.b.flags.tc();
  });
  CHECK(tc_bpdus >= 1);
  for (const auto& r : n.txs)
    if (r.t >= fail + 4_s) CHECK_FALSE(r.b.flags.tc());
  CHECK_FALSE(n.eng(t.c).topology_change(n.now()));
}

TEST_CASE("rstp: a legacy STP neighbour forces protocol migration and timer-based transitions") {
  net n;
  const auto a = n.add_bridge(0x0a, 4096, 1);
  const auto b = n.add_bridge(0x0b, 32768, 2);
  const auto l = n.add_legacy(0x0f, 61440);
  const auto ab = n.connect(a, 0, b, 0, 1_ms);
  n.connect(b, 1, l, 0, 1_ms);
  n.links_up();
  n.run_for(90_s);
  // The legacy BPDUs of 0 s and 2 s arrive while mdelayWhile (Migrate Time, 3 s) runs;
  // the one of 4 s switches the port to 802.1D BPDUs (17.24 SELECTING_STP).
  const auto first_config = std::find_if(n.txs.begin(), n.txs.end(), [&](const tx_rec& r) {
    return r.node == b && r.port == 1 && r.b.type == wire::bpdu_type::config;
  });
  REQUIRE(first_config != n.txs.end());
  CHECK(first_config->t >= 4_s + 1_ms);
  for (const auto& r : n.txs) {
    if (r.node != b || r.port != 1) continue;
    if (r.t < 4_s + 1_ms) {
      CHECK(r.b.type == wire::bpdu_type::rst);  // still proposing in RST BPDUs
    } else {
      CHECK(r.b.type == wire::bpdu_type::config);  // no Proposal flag exists there
      CHECK((r.b.flags.bits & ~(wire::bpdu_flag::topology_change |
                                wire::bpdu_flag::topology_change_ack)) == 0);
    }
  }
  CHECK_FALSE(n.eng(b).send_rstp(1));
  CHECK(n.eng(b).send_rstp(0));
  CHECK(n.legacy(l).quiet);  // it accepted A as root through B's Configuration BPDUs
  CHECK(n.legacy(l).received.front().second.root == n.eng(a).bridge_id());
  // No agreement is possible: fdWhile from DISABLED_PORT (Max Age, 20 s), then Learning for
  // Forward Delay (forwardDelay = FwdDelay when !sendRSTP, 17.20.5).
  CHECK(n.entered(b, 1, port_state::learning) == 20_s);
  CHECK(n.entered(b, 1, port_state::forwarding) == 35_s);
  // The RSTP side converged with proposal/agreement meanwhile.
  CHECK(n.entered(b, 0, port_state::forwarding) == 1_ms);

  SUBCASE("after a re-sync the legacy-facing port needs 2 x Forward Delay = 30 s [CiscoRSTP]") {
    n.set_link(ab, false);  // B becomes root of its own island
    n.run_for(10_s);
    CHECK(n.eng(b).is_root_bridge());
    CHECK(n.eng(b).state(1) == port_state::forwarding);
    const sim_time up = n.now();
    n.set_link(ab, true);  // A's proposal makes B sync: the legacy-facing port discards
    n.run_for(60_s);
    CHECK(n.entered(b, 0, port_state::forwarding, up) == up + 1_ms);  // RSTP side: no timer
    CHECK(n.entered(a, 0, port_state::forwarding, up) == up + 2_ms);
    CHECK(n.entered(b, 1, port_state::discarding, up) == up + 1_ms);
    CHECK(n.entered(b, 1, port_state::learning, up) == up + 1_ms + 15_s);
    CHECK(n.entered(b, 1, port_state::forwarding, up) == up + 1_ms + 30_s);
  }
  SUBCASE("a TCN from the legacy bridge is acknowledged and flushes the other ports") {
    const sim_time t0 = n.now();
    n.send(l, 0, wire::bpdu_repr::tcn());
    n.run_for(10_s);
    const auto fl = std::find_if(n.flushes.begin(), n.flushes.end(), [&](const flush_rec& f) {
      return f.t >= t0 && f.why == flush_reason::topology_change;
    });
    REQUIRE(fl != n.flushes.end());
    CHECK(fl->node == b);
    CHECK(fl->port == 0);
    CHECK(fl->t == t0 + 1_ms);
    // The next Configuration BPDU to the legacy bridge carries TCA (17.21.19, tcAck).
    const auto ack = std::find_if(n.txs.begin(), n.txs.end(), [&](const tx_rec& r) {
      return r.t > t0 && r.node == b && r.port == 1;
    });
    REQUIRE(ack != n.txs.end());
    CHECK(ack->b.type == wire::bpdu_type::config);
    CHECK(ack->b.flags.tca());
    CHECK(ack->b.flags.tc());
  }
  SUBCASE("an RST BPDU from a replaced neighbour brings RSTP back (SENSING -> CHECKING_RSTP)") {
    wire::bpdu_repr r;
    r.type = wire::bpdu_type::rst;
    r.version = wire::bpdu_version_rstp;
    r.flags.set_role(wire::bpdu_role::root);
    r.root = n.eng(a).bridge_id();
    r.root_path_cost = 40'000;
    r.bridge = wire::bridge_id::make(61440, 0, mac(0x0f));
    r.port = wire::port_id::make(128, 1);
    r.max_age = wire::bpdu_time_from_s(20);
    r.hello_time = wire::bpdu_time_from_s(2);
    r.forward_delay = wire::bpdu_time_from_s(15);
    n.eng(b).on_pdu(1, r, n.now(), n.sink_of(b));
    CHECK(n.eng(b).send_rstp(1));
  }
  check_spanning_tree(n);
}

TEST_CASE("rstp: the transmit hold count limits BPDUs per second") {
  for (unsigned hold : {6u, 10u}) {
    CAPTURE(hold);
    rstp::bridge_config bc;
    bc.address = mac(0x01);
    bc.transmit_hold_count = hold;
    rstp::engine e(bc, std::vector<rstp::port_config>(1));
    struct counter : rstp::sink {
      std::vector<std::pair<sim_time, wire::bpdu_repr>> tx;
      void transmit(port_index, const wire::bpdu_repr& b, sim_time now) override {
        tx.emplace_back(now, b);
      }
    } out;
    const auto advance = [&](sim_time to) {
      while (auto d = e.next_deadline()) {
        if (*d > to) break;
        e.on_timer(*d, out);
      }
    };
    e.set_port_enabled(0, true, 0_s, out);
    // Hellos go out every 2 s (0, 2, ..., 10 s); the 10 s one stops counting at 11 s.
    const sim_time burst = 11_s + 200_ms;
    advance(burst);
    REQUIRE(out.tx.back().first == 10_s);
    const std::size_t before = out.tx.size();
    // 20 changes of the bridge priority within 190 ms: each wants a BPDU (UPDATE, newInfo).
    for (int k = 0; k < 20; ++k) {
      const sim_time t = burst + sim_time::from_ms(10 * k);
      advance(t);
      e.set_bridge_priority(k % 2 == 0 ? 28672 : 32768, t, out);
    }
    advance(burst + 999_ms);
    CHECK(out.tx.size() - before == hold);  // TxHoldCount per second (17.13.12)
    CHECK(e.counters(0).tx_held > 0);
    advance(burst + 2_s);
    // txCount drops one second after the burst started: the held information goes out.
    REQUIRE(out.tx.size() > before + hold);
    CHECK(out.tx[before + hold].first == burst + 1_s);
    CHECK(out.tx[before + hold].second.bridge.priority == 32768);  // the latest information
  }
}

TEST_CASE("rstp: path cost and priority changes reselect roles") {
  ring_chord t;
  auto& n = t.n;
  // Make C prefer D: raise the cost of its port to B.
  n.eng(t.c).set_path_cost(0, 200'000, n.now(), n.sink_of(t.c));
  n.run_for(10_s);
  CHECK(n.eng(t.c).root_port() == std::optional<port_index>{1});
  CHECK(n.eng(t.c).role(0) == port_role::alternate);
  check_spanning_tree(n);
  // A new root: D's priority drops below A's.
  n.eng(t.d).set_bridge_priority(0, n.now(), n.sink_of(t.d));
  n.run_for(30_s);
  for (auto i : {t.a, t.b, t.c, t.d}) CHECK(n.eng(i).designated_root() == n.eng(t.d).bridge_id());
  CHECK(n.eng(t.d).is_root_bridge());
  check_spanning_tree(n);
}

TEST_CASE("rstp: state changes are logged as A=>B with the time") {
  net n;
  const auto a = n.add_bridge(0x0a, 4096, 1);
  const auto b = n.add_bridge(0x0b, 32768, 1);
  n.connect(a, 0, b, 0, 1_ms);
  n.links_up();
  n.run_for(1_s);
  const auto has = [&](std::string_view s) {
    return std::any_of(n.log.begin(), n.log.end(),
                       [&](const std::string& l) { return l.find(s) != std::string::npos; });
  };
  CHECK(has("0.001s rstp 8000.02000000000b: port 0 Discarding=>Learning"));
  CHECK(has("0.001s rstp 8000.02000000000b: port 0 Learning=>Forwarding"));
  CHECK(has("port 0 role Designated=>Root"));
}
