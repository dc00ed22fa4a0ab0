// The 802.1D-1998 spanning tree engine, with no kernel: a tiny harness wires engines
// together through in-memory segments (point-to-point links and shared LANs) with a fixed
// delay, and runs each engine's timers at its next_deadline in (time, engine id) order.
#include "vnetsim/proto/stp.hpp"
#include "vnetsim/proto/rstp.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

using namespace vnetsim;
using namespace vnetsim::literals;
using stp::port_role;
using stp::port_state;

namespace {

struct state_event {
  std::size_t bridge;
  stp::port_index port;
  port_state from, to;
  sim_time at;
};
struct tc_event {
  std::size_t bridge;
  bool on;
  sim_time forward_delay;
  sim_time at;
};
struct tx_event {
  std::size_t bridge;
  stp::port_index port;
  wire::bpdu_repr bpdu;
  sim_time at;
};
struct attachment {
  std::size_t bridge;
  stp::port_index port;
};

class network;

/// Records everything an engine reports and hands transmitted BPDUs to the network.
class recorder final : public stp::sink {
 public:
  recorder(network& n, std::size_t id) : net_(n), id_(id) {}
  void transmit(stp::port_index port, const wire::bpdu_repr& bpdu) override;
  void port_state_changed(stp::port_index port, port_state from, port_state to,
                          sim_time now) override;
  void topology_change_detected(sim_time) override { ++detections; }
  void topology_change(bool on, sim_time fd, sim_time now) override;
  void log(sim_time, std::string_view line) override;
  int detections = 0;

 private:
  network& net_;
  std::size_t id_;
};

/// Bridges joined by segments. A BPDU sent on a port reaches every other port of its
/// segment after `delay`, unless the segment is down or the sender is muted on it.
class network {
 public:
  struct segment {
    std::vector<attachment> ends;
    bool up = true;
    std::vector<std::size_t> muted;  // bridges whose transmissions on it are lost
  };

  sim_time delay = 1_ms;
  sim_time now = sim_time::zero();
  stp::path_cost_method cost_method = stp::path_cost_method::ieee1998;  // of added bridges
  std::vector<std::unique_ptr<stp::engine>> engines;
  std::vector<std::unique_ptr<recorder>> sinks;
  std::vector<std::vector<std::optional<std::size_t>>> seg_of;
  std::vector<segment> segs;
  std::vector<state_event> states;
  std::vector<tc_event> tcs;
  std::vector<tx_event> txs;
  std::vector<std::string> lines;
  std::map<std::pair<std::size_t, stp::port_index>, sim_time> last_config_rx;

  /// A bridge with MAC 02:00:00:00:00:<mac>, all ports cost 19 (100 Mb/s) unless given.
  std::size_t add_bridge(std::uint64_t mac, std::size_t nports,
                         std::uint16_t priority = stp::default_bridge_priority,
                         std::vector<stp::port_config> pcs = {}) {
    stp::bridge_config cfg;
    cfg.address = wire::mac_address::from_u64(0x0200'0000'0000ULL | mac);
    cfg.priority = priority;
    cfg.cost_method = cost_method;
    std::vector<stp::port_config> all;  // (not resize(): GCC 12 -O3 -Wstringop-overflow)
    for (std::size_t i = 0; i < nports; ++i) all.push_back(i < pcs.size() ? pcs[i] : stp::port_config{});
    const std::size_t id = engines.size();
    engines.push_back(std::make_unique<stp::engine>(cfg, all));
    sinks.push_back(std::make_unique<recorder>(*this, id));
    seg_of.emplace_back(nports);
    return id;
  }
  stp::engine& operator[](std::size_t b) { return *engines[b]; }
  recorder& sink(std::size_t b) { return *sinks[b]; }

  /// A segment joining these ports (2 ends: a link; more: a shared LAN); link up now.
  std::size_t connect(std::vector<attachment> ends) {
    const std::size_t s = segs.size();
    segs.push_back({ends, true, {}});
    for (auto e : ends) {
      seg_of[e.bridge][e.port] = s;
      engines[e.bridge]->set_port_enabled(e.port, true, now, *sinks[e.bridge]);
    }
    return s;
  }
  std::size_t link(std::size_t a, stp::port_index pa, std::size_t b, stp::port_index pb) {
    return connect({{a, pa}, {b, pb}});
  }
  /// Carrier up or down on every port of the segment (a direct failure).
  void set_link(std::size_t s, bool up) {
    segs[s].up = up;
    for (auto e : segs[s].ends) engines[e.bridge]->set_port_enabled(e.port, up, now, *sinks[e.bridge]);
  }
  /// Loses `bridge`'s transmissions on the segment while carrier stays up.
  void mute(std::size_t s, std::size_t bridge) { segs[s].muted.push_back(bridge); }
  void unmute(std::size_t s) { segs[s].muted.clear(); }

  void start() {
    for (std::size_t b = 0; b < engines.size(); ++b) engines[b]->start(now, *sinks[b]);
  }

  void send(std::size_t b, stp::port_index p, const wire::bpdu_repr& bpdu) {
    txs.push_back({b, p, bpdu, now});
    const auto s = seg_of[b][p];
    if (!s || !segs[*s].up) return;
    for (auto m : segs[*s].muted) {
      if (m == b) return;
    }
    for (std::size_t i = 0; i < segs[*s].ends.size(); ++i) {
      const auto e = segs[*s].ends[i];
      if (e.bridge == b && e.port == p) continue;
      queue_.emplace(std::make_pair(now + delay, seq_++), pending{*s, e, bpdu});
    }
  }

  /// Runs deliveries and timers in time order up to and including `end`; at one instant,
  /// deliveries (FIFO) come before timers, and timers run in engine id order.
  void run_until(sim_time end) {
    for (std::uint64_t guard = 0;; ++guard) {
      if (guard >= 10'000'000) FAIL("no progress at ", now.to_string());
      std::optional<sim_time> td;
      if (!queue_.empty()) td = queue_.begin()->first.first;
      std::optional<std::pair<sim_time, std::size_t>> tt;
      for (std::size_t b = 0; b < engines.size(); ++b) {
        const auto d = engines[b]->next_deadline();
        if (d && (!tt || *d < tt->first)) tt = std::make_pair(*d, b);
      }
      if (td && (!tt || *td <= tt->first)) {
        if (*td > end) break;
        if (*td < now) FAIL("delivery in the past");
        now = *td;
        const auto it = queue_.begin();
        const pending d = it->second;
        queue_.erase(it);
        if (segs[d.seg].up && seg_of[d.to.bridge][d.to.port] == d.seg) {
          if (d.bpdu.type == wire::bpdu_type::config) last_config_rx[{d.to.bridge, d.to.port}] = now;
          engines[d.to.bridge]->on_pdu(d.to.port, d.bpdu, now, *sinks[d.to.bridge]);
        }
      } else if (tt) {
        if (tt->first > end) break;
        if (tt->first < now) FAIL("deadline in the past");
        now = tt->first;
        engines[tt->second]->on_timer(now, *sinks[tt->second]);
      } else {
        break;
      }
    }
    now = end;
  }
  void run_for(sim_time d) { run_until(now + d); }

  port_state st(std::size_t b, stp::port_index p) const { return engines[b]->state(p); }
  port_role role(std::size_t b, stp::port_index p) const { return engines[b]->role(p); }
  /// The first time at or after `after` that the port entered `to`.
  std::optional<sim_time> when(std::size_t b, stp::port_index p, port_state to,
                               sim_time after = sim_time::zero()) const {
    for (const auto& e : states) {
      if (e.bridge == b && e.port == p && e.to == to && e.at >= after) return e.at;
    }
    return std::nullopt;
  }
  /// The port's transitions at or after `after`: "A=>B@t, C=>D@u".
  std::string transitions(std::size_t b, stp::port_index p,
                          sim_time after = sim_time::zero()) const {
    std::string out;
    for (const auto& e : states) {
      if (e.bridge == b && e.port == p && e.at >= after) {
        if (!out.empty()) out += ", ";
        out += fmt::format("{}=>{}@{}", stp::to_string(e.from), stp::to_string(e.to), e.at);
      }
    }
    return out;
  }
  int tcn_sent(std::size_t b) const {
    int n = 0;
    for (const auto& t : txs) n += (t.bridge == b && t.bpdu.type == wire::bpdu_type::tcn) ? 1 : 0;
    return n;
  }

 private:
  struct pending {
    std::size_t seg;
    attachment to;
    wire::bpdu_repr bpdu;
  };
  std::map<std::pair<sim_time, std::uint64_t>, pending> queue_;
  std::uint64_t seq_ = 0;
};

void recorder::transmit(stp::port_index port, const wire::bpdu_repr& bpdu) {
  net_.send(id_, port, bpdu);
}
void recorder::port_state_changed(stp::port_index port, port_state from, port_state to,
                                  sim_time now) {
  net_.states.push_back({id_, port, from, to, now});
}
void recorder::topology_change(bool on, sim_time fd, sim_time now) {
  net_.tcs.push_back({id_, on, fd, now});
}
void recorder::log(sim_time, std::string_view line) {
  net_.lines.emplace_back(line);
  if (std::getenv("VNETSIM_STP_LOG") != nullptr) fmt::print("{}\n", line);
}

/// INET StpTester's check, with shared LANs: in the graph of bridges and live segments
/// joined by forwarding ports there is no cycle, every live segment is served by at least
/// one forwarding port, and all bridges are connected. No port may be in transit
/// (Listening/Learning). Returns "" when the forwarding ports form a spanning tree.
std::string tree_error(const network& n) {
  const std::size_t nb = n.engines.size();
  std::vector<std::size_t> parent(nb + n.segs.size());
  std::iota(parent.begin(), parent.end(), std::size_t{0});
  auto find = [&parent](std::size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (std::size_t b = 0; b < nb; ++b) {
    for (std::size_t p = 0; p < n.engines[b]->port_count(); ++p) {
      const auto s = n.st(b, p);
      if (s == port_state::listening || s == port_state::learning) {
        return fmt::format("bridge {} port {} is {}", b, p, stp::to_string(s));
      }
    }
  }
  for (std::size_t s = 0; s < n.segs.size(); ++s) {
    const auto& seg = n.segs[s];
    if (!seg.up || seg.muted.size() == seg.ends.size()) continue;  // dead segment
    int forwarding = 0;
    for (auto e : seg.ends) {
      if (!stp::forwards(n.st(e.bridge, e.port))) continue;
      ++forwarding;
      const auto a = find(e.bridge), c = find(nb + s);
      if (a == c) return fmt::format("loop through segment {} at bridge {} port {}", s, e.bridge, e.port);
      parent[a] = c;
    }
    if (forwarding == 0) return fmt::format("segment {} has no forwarding port", s);
  }
  for (std::size_t b = 1; b < nb; ++b) {
    if (find(b) != find(0)) return fmt::format("bridge {} is not connected to bridge 0", b);
  }
  return "";
}

stp::port_config edge_port() {
  stp::port_config pc;
  pc.edge = true;
  return pc;
}

/// A sink for single-engine tests: keeps transmitted BPDUs and state changes.
struct capture final : stp::sink {
  std::vector<std::pair<stp::port_index, wire::bpdu_repr>> sent;
  std::vector<state_event> changes;
  void transmit(stp::port_index p, const wire::bpdu_repr& b) override { sent.emplace_back(p, b); }
  void port_state_changed(stp::port_index p, port_state f, port_state t, sim_time now) override {
    changes.push_back({0, p, f, t, now});
  }
};

wire::bridge_id bid(std::uint16_t prio, std::uint64_t mac) {
  return wire::bridge_id::make(prio, 0, wire::mac_address::from_u64(0x0200'0000'0000ULL | mac));
}

/// A Configuration BPDU as a root `root` would relay it through `bridge`.
wire::bpdu_repr config_bpdu(wire::bridge_id root, std::uint32_t cost, wire::bridge_id bridge,
                            std::uint16_t port, std::uint16_t age_units = 0) {
  wire::bpdu_repr c;
  c.root = root;
  c.root_path_cost = cost;
  c.bridge = bridge;
  c.port = {port};
  c.message_age = age_units;
  c.max_age = wire::bpdu_time_from_s(20);
  c.hello_time = wire::bpdu_time_from_s(2);
  c.forward_delay = wire::bpdu_time_from_s(15);
  return c;
}

}  // namespace

TEST_CASE("stp: names, predicates and Table 8-5 path costs") {
  CHECK(stp::to_string(port_state::disabled) == "Disabled");
  CHECK(stp::to_string(port_state::blocking) == "Blocking");
  CHECK(stp::to_string(port_state::listening) == "Listening");
  CHECK(stp::to_string(port_state::learning) == "Learning");
  CHECK(stp::to_string(port_state::forwarding) == "Forwarding");
  CHECK(stp::to_string(port_role::backup) == "Backup");
  CHECK(stp::forwards(port_state::forwarding));
  CHECK_FALSE(stp::forwards(port_state::learning));
  CHECK(stp::learns(port_state::learning));
  CHECK(stp::learns(port_state::forwarding));
  CHECK_FALSE(stp::learns(port_state::listening));
  CHECK_FALSE(stp::learns(port_state::blocking));
  CHECK(stp::default_path_cost(10'000'000) == 100);
  CHECK(stp::default_path_cost(100'000'000) == 19);
  CHECK(stp::default_path_cost(1'000'000'000) == 4);
  CHECK(stp::default_path_cost(10'000'000'000ULL) == 2);
  CHECK(stp::default_path_cost(40'000'000'000ULL) == 2);
  CHECK(stp::default_path_cost(2'500'000'000ULL) == 4);
  CHECK(stp::default_path_cost(4'000'000) == 250);
  CHECK(stp::default_path_cost(16'000'000) == 62);
  CHECK(stp::default_hello_time == 2_s);
  CHECK(stp::default_max_age == 20_s);
  CHECK(stp::default_forward_delay == 15_s);
  CHECK(stp::default_hold_time == 1_s);
}

TEST_CASE("stp: configuration validation names the parameter, the value and the rule") {
  constexpr auto rule =
      "802.1D-1998 8.10.2 requires 2*(forward_delay - 1s) >= max_age >= 2*(hello_time + 1s) [H3C]";
  SUBCASE("defaults and the extremes of the relation are accepted") {
    CHECK_NOTHROW(stp::validate_times(2_s, 20_s, 15_s));
    CHECK_NOTHROW(stp::validate_times(2_s, 28_s, 15_s));  // 2*(15-1) = 28
    CHECK_NOTHROW(stp::validate_times(2_s, 6_s, 4_s));    // 2*(2+1) = 6 = 2*(4-1)
    CHECK_NOTHROW(stp::validate_times(sim_time::from_ms(1500), 20_s, 15_s));  // 384/256 s
  }
  SUBCASE("max age above 2*(FD-1)") {
    CHECK_THROWS_WITH_AS(stp::validate_times(2_s, 30_s, 15_s),
                         doctest::String(fmt::format("stp: max_age 30s > 2*(forward_delay 15s - 1s) = 28s; {}", rule).c_str()),
                         stp::config_error);
  }
  SUBCASE("max age below 2*(hello+1)") {
    CHECK_THROWS_WITH_AS(stp::validate_times(4_s, 8_s, 15_s),
                         doctest::String(fmt::format("stp: max_age 8s < 2*(hello_time 4s + 1s) = 10s; {}", rule).c_str()),
                         stp::config_error);
  }
  SUBCASE("ranges of Table 8-3") {
    CHECK_THROWS_WITH_AS(stp::validate_times(11_s, 20_s, 15_s),
                         "stp: hello_time 11s is outside 1s..10s (802.1D-1998 Table 8-3) [H3C]",
                         stp::config_error);
    CHECK_THROWS_WITH_AS(stp::validate_times(2_s, 41_s, 30_s),
                         "stp: max_age 41s is outside 6s..40s (802.1D-1998 Table 8-3) [H3C]",
                         stp::config_error);
    CHECK_THROWS_WITH_AS(stp::validate_times(2_s, 20_s, 3_s),
                         "stp: forward_delay 3s is outside 4s..30s (802.1D-1998 Table 8-3) [H3C]",
                         stp::config_error);
  }
  SUBCASE("times must be whole 1/256 s") {
    CHECK_THROWS_WITH_AS(stp::validate_times(2_s + 1_ms, 20_s, 15_s),
                         "stp: hello_time 2.001s is not a whole number of 1/256 s, the BPDU time "
                         "unit (802.1D-2004 9.2.8)",
                         stp::config_error);
  }
  SUBCASE("engine constructor and setters") {
    stp::bridge_config cfg;
    cfg.max_age = 40_s;
    const std::vector<stp::port_config> ports(2);
    CHECK_THROWS_AS(stp::engine(cfg, ports), stp::config_error);
    cfg = {};
    cfg.priority = 1000;
    CHECK_THROWS_WITH_AS(stp::engine(cfg, ports),
                         "stp: bridge priority 1000 is not a multiple of 4096 in 0..61440 (802.1D-2004 9.2.5)",
                         stp::config_error);
    cfg = {};
    std::vector<stp::port_config> bad(2);
    bad[1].path_cost = 0;
    CHECK_THROWS_WITH_AS(stp::engine(cfg, bad),
                         "stp: port 1 path_cost 0 is outside 1..65535 (802.1D-1998 8.5.5.3, Table 8-5)",
                         stp::config_error);
    bad[1] = {};
    bad[0].priority = 130;
    CHECK_THROWS_WITH_AS(stp::engine(cfg, bad),
                         "stp: port 0 priority 130 is not a multiple of 16 in 0..240 (802.1D-2004 9.2.7)",
                         stp::config_error);
    stp::engine e{cfg, ports};
    capture out;
    CHECK_THROWS_AS(e.set_bridge_priority(100, 0_s, out), stp::config_error);
    CHECK_THROWS_AS(e.set_path_cost(0, 70000, 0_s, out), stp::config_error);
    CHECK_THROWS_AS(e.set_bridge_times(2_s, 30_s, 15_s), stp::config_error);
    CHECK(e.bridge_id().priority == 32768);  // unchanged after the failed calls
    CHECK(e.config(0).path_cost == 19);
  }
}

TEST_CASE("stp: port state transitions") {
  network n;
  SUBCASE("Disabled=>Blocking=>Listening when the link comes up") {
    const auto a = n.add_bridge(1, 1);
    n.start();
    CHECK(n.st(a, 0) == port_state::disabled);
    n.run_until(5_s);
    n.connect({{a, 0}});
    CHECK(n.transitions(a, 0) == "Disabled=>Blocking@5s, Blocking=>Listening@5s");
    CHECK(n[a].port_states()[0] == port_state::listening);
  }
  SUBCASE("Listening=>Learning after one forward delay, Learning=>Forwarding after two") {
    const auto a = n.add_bridge(1, 1);
    n.start();
    n.run_until(1_s);
    n.connect({{a, 0}});
    n.run_until(15_s + 999_ms);
    CHECK(n.st(a, 0) == port_state::listening);
    n.run_until(16_s);
    CHECK(n.st(a, 0) == port_state::learning);
    CHECK(n.when(a, 0, port_state::learning) == 16_s);
    n.run_until(31_s);
    CHECK(n.when(a, 0, port_state::forwarding) == 31_s);
    CHECK(n[a].forward_transitions(0) == 1);
  }
  SUBCASE("Listening=>Blocking when a parallel link loses to a better port") {
    const auto r = n.add_bridge(1, 2);
    const auto b = n.add_bridge(2, 2);
    n.link(r, 0, b, 0);
    n.link(r, 1, b, 1);
    n.start();
    n.run_until(10_s);
    CHECK(n.transitions(b, 1) ==
          "Disabled=>Blocking@0s, Blocking=>Listening@0s, Listening=>Blocking@0.001s");
    CHECK(n.role(b, 1) == port_role::alternate);
    CHECK(n.role(b, 0) == port_role::root);
    CHECK(n.st(b, 0) == port_state::listening);
  }
  SUBCASE("Learning=>Blocking, with a topology change, when superior BPDUs arrive late") {
    const auto r = n.add_bridge(1, 2);
    const auto b = n.add_bridge(2, 2);
    const auto s0 = n.link(r, 0, b, 0);
    const auto s1 = n.link(r, 1, b, 1);
    n.mute(s0, r);
    n.mute(s1, r);
    n.start();
    n.run_until(20_s);
    CHECK(n.st(b, 1) == port_state::learning);
    n.unmute(s0);
    n.unmute(s1);
    // r's own hello at 20 s was lost; b's hello at 20 s reaches r, whose replies wait for
    // r's hold timer (to 21 s) and reach b at 21.001 s.
    n.run_until(22_s);
    CHECK(n.transitions(b, 1, 20_s) == "Learning=>Blocking@21.001s");
    CHECK(n.st(b, 0) == port_state::learning);  // now the root port, still in transit
    CHECK(n[b].counters().top_changes == 1);
    CHECK(n.tcn_sent(b) == 1);
  }
  SUBCASE("Forwarding=>Blocking when the root port moves to a better-priority link") {
    const auto r = n.add_bridge(1, 2);
    const auto b = n.add_bridge(2, 2);
    n.link(r, 0, b, 0);
    n.link(r, 1, b, 1);
    n.start();
    n.run_until(60_s);
    REQUIRE(n.st(b, 0) == port_state::forwarding);
    REQUIRE(n.st(b, 1) == port_state::blocking);
    n[r].set_port_priority(1, 64, n.now, n.sink(r));  // r's port 1 id 0x4002 < 0x8001
    n.run_until(62_s + 1_ms);                          // r's next hello at 62 s
    CHECK(n.transitions(b, 0, 60_s) == "Forwarding=>Blocking@62.001s");
    CHECK(n.transitions(b, 1, 60_s) == "Blocking=>Listening@62.001s");
    CHECK(n[b].root_port() == stp::port_index{1});
    CHECK(n.tcn_sent(b) == 1);  // make_blocking from Forwarding detects a change
  }
  SUBCASE("Forwarding=>Disabled on link down, Disabled stays until link up") {
    const auto r = n.add_bridge(1, 1);
    const auto b = n.add_bridge(2, 1);
    const auto s = n.link(r, 0, b, 0);
    n.start();
    n.run_until(40_s);
    REQUIRE(n.st(b, 0) == port_state::forwarding);
    n.set_link(s, false);
    CHECK(n.transitions(b, 0, 40_s) == "Forwarding=>Disabled@40s");
    CHECK(n[b].is_root_bridge());
    n.run_until(100_s);
    CHECK(n.st(b, 0) == port_state::disabled);
    CHECK(n.role(b, 0) == port_role::disabled);
  }
  SUBCASE("administratively disabled port ignores link up") {
    const auto a = n.add_bridge(1, 1);
    n.start();
    n[a].set_port_admin_enabled(0, false, n.now, n.sink(a));
    n.connect({{a, 0}});
    n.run_until(60_s);
    CHECK(n.st(a, 0) == port_state::disabled);
    n[a].set_port_admin_enabled(0, true, n.now, n.sink(a));
    CHECK(n.st(a, 0) == port_state::listening);
  }
  SUBCASE("edge (portfast) port: Blocking=>Forwarding at once") {
    const auto a = n.add_bridge(1, 1, stp::default_bridge_priority, {edge_port()});
    n.start();
    n.run_until(3_s);
    n.connect({{a, 0}});
    CHECK(n.transitions(a, 0) == "Disabled=>Blocking@3s, Blocking=>Forwarding@3s");
    n.run_until(60_s);
    CHECK(n.tcn_sent(a) == 0);
    CHECK(n[a].counters().top_changes == 0);
  }
}

TEST_CASE("stp: root election") {
  network n;
  SUBCASE("3 bridges: the lowest bridge ID wins, priority before MAC") {
    const auto a = n.add_bridge(1, 2);
    const auto b = n.add_bridge(2, 2);
    const auto c = n.add_bridge(3, 2, 4096);
    n.link(a, 0, b, 0);
    n.link(b, 1, c, 0);
    n.link(c, 1, a, 1);
    n.start();
    n.run_until(60_s);
    for (std::size_t x = 0; x < 3; ++x) CHECK(n[x].designated_root() == n[c].bridge_id());
    CHECK(n[c].is_root_bridge());
    CHECK(n[a].root_port() == stp::port_index{1});
    CHECK(n[b].root_port() == stp::port_index{1});
    // a-b link: a (lower MAC) is designated, b blocks.
    CHECK(n.role(a, 0) == port_role::designated);
    CHECK(n.role(b, 0) == port_role::alternate);
    CHECK(n.st(b, 0) == port_state::blocking);
    CHECK(tree_error(n) == "");
  }
  SUBCASE("3 bridges with equal priority: the lowest MAC wins") {
    const auto a = n.add_bridge(7, 2);
    const auto b = n.add_bridge(5, 2);
    const auto c = n.add_bridge(6, 2);
    n.link(a, 0, b, 0);
    n.link(b, 1, c, 0);
    n.link(c, 1, a, 1);
    n.start();
    n.run_until(60_s);
    CHECK(n[b].is_root_bridge());
    CHECK_FALSE(n[a].is_root_bridge());
    CHECK_FALSE(n[c].is_root_bridge());
    CHECK(n.role(a, 1) == port_role::alternate);  // a-c: c (MAC 6) is designated
    CHECK(tree_error(n) == "");
  }
  SUBCASE("4 bridges: the root port is the cheapest path") {
    // r root; x and y hang off r; z reaches r through x or y. z's link to y is cheaper.
    const auto r = n.add_bridge(1, 2, 4096);
    const auto x = n.add_bridge(2, 2);
    const auto y = n.add_bridge(3, 2);
    stp::port_config cheap;
    cheap.path_cost = stp::default_path_cost(1'000'000'000);  // 4
    const auto z = n.add_bridge(4, 2, stp::default_bridge_priority, {stp::port_config{}, cheap});
    n.link(r, 0, x, 0);
    n.link(r, 1, y, 0);
    n.link(z, 0, x, 1);
    n.link(z, 1, y, 1);
    n.start();
    n.run_until(60_s);
    CHECK(n[z].root_port() == stp::port_index{1});
    CHECK(n[z].root_path_cost() == 19 + 4);
    CHECK(n.role(z, 0) == port_role::alternate);
    CHECK(tree_error(n) == "");
  }
  SUBCASE("4 bridges: equal cost, the lower designated bridge ID wins") {
    const auto r = n.add_bridge(1, 2, 4096);
    const auto y = n.add_bridge(3, 2);
    const auto x = n.add_bridge(2, 2);
    const auto z = n.add_bridge(4, 2);
    n.link(r, 0, y, 0);
    n.link(r, 1, x, 0);
    n.link(z, 0, y, 1);
    n.link(z, 1, x, 1);
    n.start();
    n.run_until(60_s);
    CHECK(n[z].root_path_cost() == 38);
    CHECK(n[z].root_port() == stp::port_index{1});  // towards x (MAC 2), not y (MAC 3)
    CHECK(n[z].designated_bridge(1) == n[x].bridge_id());
    CHECK(tree_error(n) == "");
  }
  SUBCASE("equal bridge: the lower designated port ID wins") {
    // z's port 0 meets x's port 2 (0x8003), z's port 1 meets x's port 1 (0x8002).
    const auto x = n.add_bridge(1, 3);
    const auto z = n.add_bridge(4, 2);
    n.link(z, 0, x, 2);
    n.link(z, 1, x, 1);
    n.start();
    n.run_until(60_s);
    CHECK(n[z].root_port() == stp::port_index{1});
    CHECK(n.role(z, 0) == port_role::alternate);
    CHECK(tree_error(n) == "");
  }
  SUBCASE("equal designated port (a shared LAN): the lower own port ID wins") {
    // z's port 1 has priority 64, so its Port Identifier 0x4002 beats port 0's 0x8001.
    const auto x = n.add_bridge(1, 1);
    stp::port_config high;
    high.priority = 64;
    const auto z = n.add_bridge(4, 2, stp::default_bridge_priority, {stp::port_config{}, high});
    n.connect({{x, 0}, {z, 0}, {z, 1}});
    n.start();
    n.run_until(60_s);
    CHECK(n[z].port_id(1).value == 0x4002);
    CHECK(n[z].root_port() == stp::port_index{1});
    CHECK(n.role(z, 0) == port_role::alternate);
    CHECK(n.st(z, 0) == port_state::blocking);
    CHECK(tree_error(n) == "");
  }
}

TEST_CASE("stp: a new link reaches forwarding after 2 x forward delay = 30 s [CCExpert]") {
  network n;
  const auto r = n.add_bridge(1, 1);
  const auto b = n.add_bridge(2, 1);
  n.start();
  n.run_until(61_s + 250_ms);
  const sim_time t = n.now;
  n.link(r, 0, b, 0);
  n.run_until(t + 29_s + 999_ms);
  CHECK(n.st(r, 0) == port_state::learning);
  CHECK(n.st(b, 0) == port_state::learning);
  n.run_until(t + 40_s);
  CHECK(n.when(r, 0, port_state::listening, t) == t);
  CHECK(n.when(r, 0, port_state::learning, t) == t + 15_s);
  CHECK(n.when(r, 0, port_state::forwarding, t) == t + 30_s);
  CHECK(n.when(b, 0, port_state::forwarding, t) == t + 30_s);
  CHECK(n.role(b, 0) == port_role::root);
  CHECK(tree_error(n) == "");
}

TEST_CASE("stp: failures and reconvergence") {
  // Triangle: r root; x and y below it; on the x-y link x (lower MAC) is designated and
  // y's port 1 blocks.
  network n;
  const auto r = n.add_bridge(1, 2, 4096);
  const auto x = n.add_bridge(2, 2);
  const auto y = n.add_bridge(3, 2);
  const auto rx = n.link(r, 0, x, 0);
  const auto ry = n.link(r, 1, y, 0);
  n.link(x, 1, y, 1);
  n.start();
  n.run_until(60_s + 500_ms);
  REQUIRE(tree_error(n) == "");
  REQUIRE(n.role(y, 1) == port_role::alternate);
  REQUIRE(n.st(y, 1) == port_state::blocking);
  const sim_time t = n.now;

  SUBCASE("indirect failure: the root port hears nothing, 20 + 15 + 15 = 50 s [CCExpert]") {
    // The r-y path dies behind a media converter: carrier stays up, no frames pass.
    const sim_time last = n.last_config_rx.at({y, 0});
    n.mute(ry, r);
    n.mute(ry, y);
    n.run_until(t + 60_s);
    CHECK(last < t);
    CHECK(last > t - 2_s);
    CHECK(n.transitions(y, 1, t) ==
          fmt::format("Blocking=>Listening@{}, Listening=>Learning@{}, Learning=>Forwarding@{}",
                      last + 20_s, last + 35_s, last + 50_s));
    CHECK(n[y].root_port() == stp::port_index{1});
    CHECK(n[y].root_path_cost() == 38);
    CHECK(tree_error(n) == "");
  }
  SUBCASE("indirect failure seen through a neighbour: Max Age - Message Age + 2 FD = 49 s") {
    // Carrier loss on r-x is direct for x, which then claims root; y's blocked port holds
    // x's relayed information (Message Age 1 s) and drops x's inferior BPDUs until it ages.
    const sim_time last = n.last_config_rx.at({y, 1});
    n.set_link(rx, false);
    n.run_until(t + 60_s);
    CHECK(last < t);
    CHECK(n.when(y, 1, port_state::listening, t) == last + 19_s);
    CHECK(n.when(y, 1, port_state::forwarding, t) == last + 49_s);
    CHECK(n.role(y, 1) == port_role::designated);
    CHECK(n[x].root_port() == stp::port_index{1});
    CHECK(n.when(x, 1, port_state::forwarding, t) == std::nullopt);  // x's port kept forwarding
    CHECK(tree_error(n) == "");
  }
  SUBCASE("direct failure: link down on the root port, the alternate forwards after 30 s") {
    n.set_link(ry, false);
    n.run_until(t + 60_s);
    CHECK(n.transitions(y, 1, t) ==
          fmt::format("Blocking=>Listening@{}, Listening=>Learning@{}, Learning=>Forwarding@{}", t,
                      t + 15_s, t + 30_s));
    CHECK(n[y].root_port() == stp::port_index{1});
    CHECK(tree_error(n) == "");
    SUBCASE("and the link comes back: the old root port returns after 30 s") {
      n.set_link(ry, true);
      const sim_time u = n.now;
      n.run_until(u + 60_s);
      CHECK(n.when(y, 0, port_state::forwarding, u) == u + 30_s);
      CHECK(n[y].root_port() == stp::port_index{0});
      CHECK(n.st(y, 1) == port_state::blocking);
      CHECK(tree_error(n) == "");
    }
  }
}

TEST_CASE("stp: topology change notification, acknowledgement and the TC period") {
  // Chain r - a - b; b's port 1 comes up with nothing behind it and reaches Forwarding.
  network n;
  const auto r = n.add_bridge(1, 1);
  const auto a = n.add_bridge(2, 2);
  const auto b = n.add_bridge(3, 2);
  n.link(r, 0, a, 0);
  n.link(a, 1, b, 0);
  n.start();
  n.run_until(100_s + 500_ms);  // past the start-up topology change period
  REQUIRE(tree_error(n) == "");
  REQUIRE_FALSE(n[r].topology_change());
  n.tcs.clear();
  const int tcn_a = n.tcn_sent(a), tcn_b = n.tcn_sent(b);
  const auto changes_r = n[r].counters().top_changes;
  n.connect({{b, 1}});
  const sim_time t = n.now;
  n.run_until(t + 30_s);
  CHECK(n.st(b, 1) == port_state::forwarding);
  CHECK(n[b].topology_change_detected());  // TCN sent, not yet acknowledged
  CHECK(n.tcn_sent(b) == tcn_b + 1);
  n.run_until(t + 80_s);
  // b -> a (1 ms), a -> r (1 ms): the root sets TC for Max Age + Forward Delay = 35 s.
  CHECK(n.tcn_sent(b) == tcn_b + 1);  // acknowledged before its TCN timer (2 s) fired
  CHECK(n.tcn_sent(a) == tcn_a + 1);
  CHECK(n[r].counters().top_changes == changes_r + 1);
  CHECK_FALSE(n[a].topology_change_detected());
  CHECK_FALSE(n[b].topology_change_detected());
  std::string got;
  for (const auto& e : n.tcs) {
    got += fmt::format("{}{} {} {} {}", got.empty() ? "" : ", ", e.bridge, e.on, e.forward_delay, e.at);
  }
  // The root's TCA to a waits for its hold timer (hello at 130 s, hold to 131 s); the TC
  // flag rides that BPDU down, and clears with the first hello after 35 s.
  CHECK(got == fmt::format("0 true 15s {}, 1 true 15s 131.001s, 2 true 15s 131.002s, "
                           "0 false 15s {}, 1 false 15s 166.001s, 2 false 15s 166.002s",
                           t + 30_s + 2_ms, t + 30_s + 2_ms + 35_s));
  // The TCA from a to b left when a's hold timer allowed (a relayed at 130.001 s).
  bool tca_to_b = false;
  for (const auto& e : n.txs) {
    if (e.bridge == a && e.port == 1 && e.bpdu.flags.tca()) {
      CHECK(e.at == 131_s + 1_ms);
      tca_to_b = true;
    }
  }
  CHECK(tca_to_b);
}

TEST_CASE("stp: edge (portfast) ports") {
  network n;
  SUBCASE("forwarding at once, and a BPDU makes it an ordinary root port, still no TCN") {
    const auto r = n.add_bridge(1, 1);
    const auto b = n.add_bridge(2, 1, stp::default_bridge_priority, {edge_port()});
    n.start();
    n.run_until(10_s);
    n.link(r, 0, b, 0);
    CHECK(n.st(b, 0) == port_state::forwarding);
    n.run_until(60_s);
    CHECK(n.role(b, 0) == port_role::root);
    CHECK(n.st(b, 0) == port_state::forwarding);
    CHECK(n[b].config(0).edge);  // legacy STP: no edge loss on BPDU receipt
    CHECK(n.tcn_sent(b) == 0);
  }
  SUBCASE("a loop through two edge ports: the worse one blocks, silently") {
    const auto r = n.add_bridge(1, 2);
    const auto b = n.add_bridge(2, 2, stp::default_bridge_priority, {edge_port(), edge_port()});
    n.start();
    n.link(r, 0, b, 0);
    n.link(r, 1, b, 1);
    n.run_until(60_s);
    // The links come up after start(): nothing is sent until r's first hello at 2 s.
    CHECK(n.transitions(b, 1) ==
          "Disabled=>Blocking@0s, Blocking=>Forwarding@0s, Forwarding=>Blocking@2.001s");
    CHECK(n.tcn_sent(b) == 0);
    CHECK(tree_error(n) == "");
  }
}

TEST_CASE("stp: single engine: message age, hold time and discarded BPDUs") {
  stp::bridge_config cfg;
  cfg.address = wire::mac_address::from_u64(0x0200'0000'0009ULL);
  const std::vector<stp::port_config> ports(2);
  stp::engine e{cfg, ports};
  capture out;
  e.set_port_enabled(0, true, 0_s, out);
  e.set_port_enabled(1, true, 0_s, out);
  CHECK_FALSE(e.next_deadline().has_value());  // not started
  e.start(0_s, out);
  REQUIRE(out.sent.size() == 2);  // initialisation: both ports designated
  CHECK(out.sent[0].second.message_age == 0);
  CHECK(out.sent[0].second.max_age == 20 * 256);
  CHECK(out.sent[0].second.root == e.bridge_id());
  CHECK(e.next_deadline() == 1_s);  // hold timers
  e.on_timer(1_s, out);
  CHECK(e.next_deadline() == 2_s);  // hello
  const auto root = bid(4096, 1);

  SUBCASE("relayed Message Age = received age + time held + 1 s, in 1/256 s, rounded up") {
    out.sent.clear();
    // Received at 1.5 s with Message Age 0.5 s (128/256): the relay on port 1 says 1.5 s.
    e.on_pdu(0, config_bpdu(root, 4, bid(32768, 2), 0x8001, 128), 1_s + 500_ms, out);
    CHECK(e.root_port() == stp::port_index{0});
    CHECK(e.root_path_cost() == 4 + 19);
    REQUIRE(out.sent.size() == 1);
    CHECK(out.sent[0].first == 1);
    CHECK(out.sent[0].second.message_age == 384);
    CHECK(out.sent[0].second.root_path_cost == 23);
    CHECK(out.sent[0].second.root == root);
    CHECK(e.next_deadline() == 2_s + 500_ms);  // port 1's hold timer; hello stopped
    e.on_timer(2_s + 500_ms, out);
    // An inferior BPDU on designated port 1 at 2.7 s is answered: 0.5 + 1.2 + 1 = 2.7 s
    // = 691.2/256, sent as 692.
    e.on_pdu(1, config_bpdu(bid(32768, 7), 0, bid(32768, 7), 0x8001), 2_s + 700_ms, out);
    REQUIRE(out.sent.size() == 2);
    CHECK(out.sent[1].second.message_age == 692);
    e.on_timer(3_s + 700_ms, out);
    CHECK(e.next_deadline() == 15_s);  // forward delay
    e.on_timer(15_s, out);
    // The root port's information ages out at 1.5 s + 20 s - 0.5 s.
    CHECK(e.next_deadline() == 21_s);
    e.on_timer(21_s, out);
    CHECK(e.is_root_bridge());
    CHECK(e.role(0) == port_role::designated);
  }
  SUBCASE("at most one Configuration BPDU per Hold Time; the pending one follows") {
    out.sent.clear();
    const auto inferior = config_bpdu(bid(32768, 0x20), 0, bid(32768, 0x20), 0x8001);
    e.on_timer(2_s, out);  // hello: both ports, holds until 3 s
    CHECK(out.sent.size() == 2);
    e.on_pdu(0, inferior, 2_s + 100_ms, out);
    e.on_pdu(0, inferior, 2_s + 200_ms, out);
    e.on_pdu(0, inferior, 2_s + 900_ms, out);
    CHECK(out.sent.size() == 2);
    CHECK(e.next_deadline() == 3_s);
    e.on_timer(3_s, out);
    REQUIRE(out.sent.size() == 3);
    CHECK(out.sent[2].first == 0);
    e.on_timer(4_s, out);  // hello again: port 0's hold ended at 4 s too
    CHECK(out.sent.size() == 5);
  }
  SUBCASE("aged, looped-back and RST BPDUs are discarded") {
    const auto before = e.counters().rx_ignored;
    auto aged = config_bpdu(root, 0, bid(4096, 1), 0x8001, 20 * 256);  // Message Age = Max Age
    e.on_pdu(0, aged, 1_s, out);
    auto looped = config_bpdu(e.bridge_id(), 0, e.bridge_id(), e.port_id(1).value);
    e.on_pdu(1, looped, 1_s, out);
    auto rst = config_bpdu(root, 0, bid(4096, 1), 0x8001);
    rst.type = wire::bpdu_type::rst;
    rst.version = wire::bpdu_version_rstp;
    e.on_pdu(0, rst, 1_s, out);
    CHECK(e.counters().rx_ignored == before + 3);
    CHECK(e.is_root_bridge());
    // The same BPDU with a valid age is accepted.
    aged.message_age = 19 * 256;
    out.sent.clear();
    e.on_pdu(0, aged, 1_s, out);
    CHECK(e.designated_root() == root);
    CHECK(out.sent.empty());  // relayed age 19 s + 1 s reaches Max Age: not sent (8.6.1.3.3)
    CHECK(e.next_deadline() == 2_s);  // 20 s - 19 s: Message Age Timer of port 0
  }
}

TEST_CASE("stp: IEEE 802.1D-style figure: a ring of 4 bridges and a shared LAN") {
  // B1..B4 (MACs 1..4, equal priority) in a ring B1p0-B2p0, B2p1-B3p0, B3p1-B4p0,
  // B4p1-B1p1, and LAN L joining B1p2, B1p3, B3p2, B4p2. Every path cost 19.
  auto build = [](network& n) {
    for (std::uint64_t m = 1; m <= 4; ++m) n.add_bridge(m, m == 2 ? 2 : (m == 1 ? 4 : 3));
    n.link(0, 0, 1, 0);
    n.link(1, 1, 2, 0);
    n.link(2, 1, 3, 0);
    const auto ring41 = n.link(3, 1, 0, 1);
    n.connect({{0, 2}, {0, 3}, {2, 2}, {3, 2}});
    n.start();
    n.run_until(60_s);
    return ring41;
  };
  network n;
  const auto ring41 = build(n);
  using R = port_role;
  using S = port_state;
  struct expect {
    std::size_t b;
    stp::port_index p;
    R role;
    S state;
  };
  const std::vector<expect> table = {
      {0, 0, R::designated, S::forwarding}, {0, 1, R::designated, S::forwarding},
      {0, 2, R::designated, S::forwarding}, {0, 3, R::backup, S::blocking},
      {1, 0, R::root, S::forwarding},       {1, 1, R::designated, S::forwarding},
      {2, 0, R::alternate, S::blocking},    {2, 1, R::designated, S::forwarding},
      {2, 2, R::root, S::forwarding},       {3, 0, R::alternate, S::blocking},
      {3, 1, R::root, S::forwarding},       {3, 2, R::alternate, S::blocking},
  };
  for (const auto& e : table) {
    CAPTURE(e.b);
    CAPTURE(e.p);
    CHECK(stp::to_string(n.role(e.b, e.p)) == stp::to_string(e.role));
    CHECK(stp::to_string(n.st(e.b, e.p)) == stp::to_string(e.state));
  }
  CHECK(n[0].is_root_bridge());
  CHECK(n[2].root_path_cost() == 19);
  CHECK(n[3].root_path_cost() == 19);
  CHECK(tree_error(n) == "");

  SUBCASE("B4's ring link to the root fails: the LAN becomes its root path") {
    n.set_link(ring41, false);
    const sim_time t = n.now;
    n.run_until(t + 60_s);
    CHECK(n[3].root_port() == stp::port_index{2});
    CHECK(n.when(3, 2, S::forwarding, t) == t + 30_s);
    CHECK(n.st(3, 0) == S::blocking);
    CHECK(tree_error(n) == "");
  }
  SUBCASE("the run is reproducible: the same log twice") {
    network again;
    build(again);
    CHECK(again.lines == n.lines);
    CHECK(n.lines.size() > 20);
  }
}

TEST_CASE("stp: the spanning tree check itself catches loops and gaps") {
  // With every BPDU lost, each bridge thinks it is root and forwards on every port.
  network n;
  const auto a = n.add_bridge(1, 2);
  const auto b = n.add_bridge(2, 2);
  const auto c = n.add_bridge(3, 2);
  const auto s0 = n.link(a, 0, b, 0);
  const auto s1 = n.link(b, 1, c, 0);
  const auto s2 = n.link(c, 1, a, 1);
  n.start();
  n.run_until(10_s);
  CHECK(tree_error(n) == "bridge 0 port 0 is Listening");
  n.run_until(60_s);
  CHECK(tree_error(n) == "");  // BPDUs flowed: a proper tree
  for (auto s : {s0, s1, s2}) {
    n.segs[s].muted.push_back(a);  // lose only a's BPDUs, so the segments stay live
  }
  n.run_until(200_s);
  CHECK(tree_error(n).starts_with("loop through segment"));
  // And a live segment with nobody forwarding is a gap.
  network g;
  const auto x = g.add_bridge(1, 1);
  const auto y = g.add_bridge(2, 1);
  g.link(x, 0, y, 0);
  g.start();
  g.run_until(60_s);
  REQUIRE(tree_error(g) == "");
  g[x].set_port_admin_enabled(0, false, g.now, g.sink(x));
  g[y].set_port_admin_enabled(0, false, g.now, g.sink(y));
  CHECK(tree_error(g) == "segment 0 has no forwarding port");
}

TEST_CASE("stp: path cost tables of 802.1D-1998 (Table 8-5) and 802.1D-2004 (Table 17-3)") {
  using stp::path_cost_method;
  SUBCASE("1998 short costs, saturating at 2 from 10 Gb/s") {
    CHECK(stp::default_path_cost(4'000'000, path_cost_method::ieee1998) == 250);
    CHECK(stp::default_path_cost(10'000'000, path_cost_method::ieee1998) == 100);
    CHECK(stp::default_path_cost(16'000'000, path_cost_method::ieee1998) == 62);
    CHECK(stp::default_path_cost(100'000'000, path_cost_method::ieee1998) == 19);
    CHECK(stp::default_path_cost(1'000'000'000, path_cost_method::ieee1998) == 4);
    CHECK(stp::default_path_cost(10'000'000'000ULL, path_cost_method::ieee1998) == 2);
    CHECK(stp::default_path_cost(100'000'000'000ULL, path_cost_method::ieee1998) == 2);
    CHECK(stp::default_path_cost(0, path_cost_method::ieee1998) == 250);
  }
  SUBCASE("2004 long costs: 20,000,000,000,000 / speed in b/s") {
    CHECK(stp::default_path_cost(100'000, path_cost_method::ieee2004) == 200'000'000);
    CHECK(stp::default_path_cost(1'000'000, path_cost_method::ieee2004) == 20'000'000);
    CHECK(stp::default_path_cost(10'000'000, path_cost_method::ieee2004) == 2'000'000);
    CHECK(stp::default_path_cost(100'000'000, path_cost_method::ieee2004) == 200'000);
    CHECK(stp::default_path_cost(1'000'000'000, path_cost_method::ieee2004) == 20'000);
    CHECK(stp::default_path_cost(10'000'000'000ULL, path_cost_method::ieee2004) == 2'000);
    CHECK(stp::default_path_cost(100'000'000'000ULL, path_cost_method::ieee2004) == 200);
    CHECK(stp::default_path_cost(1'000'000'000'000ULL, path_cost_method::ieee2004) == 20);
    CHECK(stp::default_path_cost(10'000'000'000'000ULL, path_cost_method::ieee2004) == 2);
    CHECK(stp::default_path_cost(0, path_cost_method::ieee2004) == 200'000'000);
    CHECK(stp::default_path_cost(1'000, path_cost_method::ieee2004) == 200'000'000);  // clamped
  }
  SUBCASE("one table: stp's 2004 costs are rstp's") {
    for (std::uint64_t speed : {0ULL, 10'000'000ULL, 100'000'000ULL, 1'000'000'000ULL,
                                2'500'000'000ULL, 10'000'000'000ULL, 40'000'000'000ULL,
                                100'000'000'000ULL, 100'000'000'000'000ULL}) {
      CHECK(stp::default_path_cost(speed, path_cost_method::ieee2004) ==
            rstp::default_path_cost(speed));
      CHECK(stp::default_path_cost(speed, path_cost_method::ieee1998) ==
            stp::default_path_cost(speed));
    }
    CHECK(stp::max_long_path_cost == rstp::max_path_cost);
  }
  SUBCASE("the range check follows the method") {
    stp::bridge_config cfg;
    std::vector<stp::port_config> ports(2);
    ports[1].path_cost = 200'000;
    CHECK_THROWS_WITH_AS(stp::engine(cfg, ports),
                         "stp: port 1 path_cost 200000 is outside 1..65535 (802.1D-1998 8.5.5.3, "
                         "Table 8-5)",
                         stp::config_error);
    cfg.cost_method = path_cost_method::ieee2004;
    stp::engine e{cfg, ports};
    CHECK(e.cost_method() == path_cost_method::ieee2004);
    CHECK(e.config(1).path_cost == 200'000);
    capture out;
    CHECK_NOTHROW(e.set_path_cost(0, 200'000'000, 0_s, out));
    CHECK(e.config(0).path_cost == 200'000'000);
    CHECK_THROWS_WITH_AS(e.set_path_cost(0, 200'000'001, 0_s, out),
                         "stp: port 0 path_cost 200000001 is outside 1..200000000 (802.1D-2004 "
                         "17.13.11, Table 17-3; path cost method ieee2004)",
                         stp::config_error);
    CHECK_THROWS_AS(e.set_path_cost(0, 0, 0_s, out), stp::config_error);
    CHECK(e.config(0).path_cost == 200'000'000);  // unchanged after the failed calls
  }
}

TEST_CASE("stp: the path cost method decides the root port (1998 saturates at 10 Gb/s)") {
  // r (root) -- b directly over 10 Gb/s; r -- a -- b over two 100 Gb/s links.
  //   1998: direct 2 < via a 2 + 2 = 4         -> b's root port is the direct link (0).
  //   2004: direct 2,000 > via a 200 + 200 = 400 -> b's root port is towards a (1).
  const std::uint64_t ten_g = 10'000'000'000ULL, hundred_g = 100'000'000'000ULL;
  for (const auto method : {stp::path_cost_method::ieee1998, stp::path_cost_method::ieee2004}) {
    CAPTURE(proto::to_string(method));
    network n;
    n.cost_method = method;
    auto cost = [&](std::uint64_t speed) {
      stp::port_config pc;
      pc.path_cost = stp::default_path_cost(speed, method);
      return pc;
    };
    const auto r = n.add_bridge(1, 2, 4096, {cost(ten_g), cost(hundred_g)});
    const auto a = n.add_bridge(2, 2, stp::default_bridge_priority, {cost(hundred_g), cost(hundred_g)});
    const auto b = n.add_bridge(3, 2, stp::default_bridge_priority, {cost(ten_g), cost(hundred_g)});
    n.link(r, 0, b, 0);
    n.link(r, 1, a, 0);
    n.link(a, 1, b, 1);
    n.start();
    n.run_until(60_s);
    CHECK(n[r].is_root_bridge());
    CHECK(n[a].root_port() == stp::port_index{0});
    CHECK(tree_error(n) == "");
    if (method == stp::path_cost_method::ieee1998) {
      CHECK(n[b].root_port() == stp::port_index{0});
      CHECK(n[b].root_path_cost() == 2);
      CHECK(n.role(b, 1) == port_role::alternate);  // a (cost 2, lower ID) is designated
      CHECK(stp::forwards(n.st(b, 0)));
      CHECK_FALSE(stp::forwards(n.st(b, 1)));
    } else {
      CHECK(n[b].root_port() == stp::port_index{1});
      CHECK(n[b].root_path_cost() == 400);
      CHECK(n.role(b, 0) == port_role::alternate);  // r's designated port is better than b's
      CHECK(stp::forwards(n.st(b, 1)));
      CHECK_FALSE(stp::forwards(n.st(b, 0)));
      // The long cost travels in the 32-bit Root Path Cost of a's Config BPDUs.
      bool seen = false;
      for (const auto& t : n.txs) {
        seen = seen || (t.bridge == a && t.port == 1 && t.bpdu.type == wire::bpdu_type::config &&
                        t.bpdu.root_path_cost == 200);
      }
      CHECK(seen);
    }
  }
}

TEST_CASE("stp: long path costs beyond 16 bits travel in the 32-bit Root Path Cost") {
  stp::bridge_config cfg;
  cfg.address = wire::mac_address::from_u64(0x0200'0000'0009ULL);
  cfg.cost_method = stp::path_cost_method::ieee2004;
  std::vector<stp::port_config> ports(2);
  ports[0].path_cost = stp::default_path_cost(10'000'000, cfg.cost_method);  // 2,000,000
  ports[1].path_cost = 200'000'000;
  stp::engine e{cfg, ports};
  capture out;
  e.set_port_enabled(0, true, 0_s, out);
  e.set_port_enabled(1, true, 0_s, out);
  e.start(0_s, out);
  e.on_timer(1_s, out);
  out.sent.clear();
  e.on_pdu(0, config_bpdu(bid(4096, 1), 4'294'000'000U, bid(32768, 2), 0x8001), 1_s, out);
  CHECK(e.root_port() == stp::port_index{0});
  CHECK(e.root_path_cost() == 0xffff'ffffU);  // 4,294,000,000 + 2,000,000 saturates
  REQUIRE_FALSE(out.sent.empty());
  CHECK(out.sent[0].second.root_path_cost == 0xffff'ffffU);
  e.on_pdu(1, config_bpdu(bid(4096, 1), 100'000'000, bid(32768, 3), 0x8001), 1_s, out);
  // 100,000,000 + 200,000,000 = 300,000,000 beats the saturated 4,294,967,295.
  CHECK(e.root_port() == stp::port_index{1});
  CHECK(e.root_path_cost() == 300'000'000U);
}
