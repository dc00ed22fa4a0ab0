// LACP engine (802.1AX-2014 6.4) with no kernel: one engine driven by direct calls, or
// two (a switch and a host) wired by in-memory links with a fixed delay.
#include "vnetsim/proto/lacp.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

using namespace vnetsim;
using namespace vnetsim::literals;
using lacp::activity;
using lacp::lacp_timeout;
using lacp::mux_state;
using lacp::periodic_state;
using lacp::port_entry;
using lacp::port_index;
using lacp::rx_state;

namespace {

constexpr auto switch_mac = 0x001c'0e87'8500ULL;
constexpr auto host_mac = 0x0050'5600'0001ULL;

lacp::port_config make_port(std::uint16_t number, lacp_timeout t = lacp_timeout::short_timeout,
                            activity a = activity::active, std::uint16_t key = 1) {
  lacp::port_config p;
  p.port_number = number;
  p.key = key;
  p.lacp_activity = a;
  p.timeout = t;
  return p;
}

lacp::system_config make_system(std::uint64_t mac, std::vector<lacp::port_config> ports) {
  lacp::system_config c;
  c.system = wire::mac_address::from_u64(mac);
  c.ports = std::move(ports);
  return c;
}

lacp::system_config two_ports(std::uint64_t mac, lacp_timeout t = lacp_timeout::short_timeout,
                              activity a = activity::active) {
  return make_system(mac, {make_port(1, t, a), make_port(2, t, a)});
}

struct tx_record {
  sim_time at;
  port_index port;
  wire::lacp_repr pdu;
};

struct entry_record {
  sim_time at;
  port_index port;
  port_entry entry;
};

/// Records everything an engine emits.
struct collector : lacp::sink {
  std::vector<tx_record> tx;
  std::vector<entry_record> entries;
  std::vector<std::string> lines;
  std::vector<std::string> aggregator_events;

  void transmit(sim_time now, port_index port, const wire::lacp_repr& pdu) override {
    tx.push_back({now, port, pdu});
  }
  void port_changed(sim_time now, port_index port, const port_entry& e) override {
    entries.push_back({now, port, e});
  }
  void aggregator_changed(sim_time now, port_index port, lacp::aggregator_id from,
                          lacp::aggregator_id to) override {
    aggregator_events.push_back(fmt::format("{} port {}: {}->{}", now, port, from, to));
  }
  void log(sim_time now, std::string_view line) override {
    lines.push_back(fmt::format("{} {}", now, line));
  }
  bool logged(std::string_view text) const {
    return std::any_of(lines.begin(), lines.end(),
                       [text](const std::string& l) { return l.find(text) != std::string::npos; });
  }
  /// The time of the first "port_changed" on `port` whose row satisfies `pred`, after `from`.
  template <class Pred>
  std::optional<sim_time> first_entry(port_index port, sim_time from, Pred pred) const {
    for (const auto& r : entries) {
      if (r.port == port && r.at >= from && pred(r.entry)) return r.at;
    }
    return std::nullopt;
  }
  std::size_t tx_on(port_index port, sim_time from, sim_time to) const {
    return static_cast<std::size_t>(std::count_if(tx.begin(), tx.end(), [&](const tx_record& r) {
      return r.port == port && r.at >= from && r.at < to;
    }));
  }
};

bool distributing(const port_entry& e) { return e.collecting && e.distributing; }
bool not_distributing(const port_entry& e) { return !e.collecting && !e.distributing; }

/// Two engines (0 = switch, 1 = host) joined by point-to-point links that deliver each
/// LACPDU after `delay`. Time advances to the earliest of the next delivery and each
/// engine's next_deadline(); deliveries at a time go first (in send order), then timers
/// in engine id order.
class world {
 public:
  struct link {
    port_index port[2];
    bool lost[2] = {false, false};  // direction from engine e is lost
  };
  struct delivery {
    sim_time at;
    std::uint64_t seq;
    int engine;
    port_index port;
    wire::lacp_repr pdu;
  };

  world(lacp::system_config sw, lacp::system_config host, sim_time delay = 1_ms)
      : eng_{lacp::engine{std::move(sw)}, lacp::engine{std::move(host)}}, delay_(delay) {
    outs_[0].w = this;
    outs_[0].id = 0;
    outs_[1].w = this;
    outs_[1].id = 1;
  }

  lacp::engine& sw() { return eng_[0]; }
  lacp::engine& host() { return eng_[1]; }
  lacp::engine& eng(int e) { return eng_[e]; }
  collector& rec(int e) { return outs_[e].rec; }
  sim_time now() const { return now_; }

  /// Connects switch port `s` to host port `h`; returns the link index.
  std::size_t connect(port_index s, port_index h) {
    links_.push_back(link{{s, h}});
    return links_.size() - 1;
  }
  /// Carrier on both ends of link `l`, at the current time.
  void carrier(std::size_t l, bool up) {
    for (int e = 0; e < 2; ++e) eng_[e].set_port_enabled(links_[l].port[e], up, now_, outs_[e]);
  }
  /// Carrier seen by one end only.
  void carrier_at(int e, std::size_t l, bool up) {
    eng_[e].set_port_enabled(links_[l].port[e], up, now_, outs_[e]);
  }
  void all_carrier_up() {
    for (std::size_t l = 0; l < links_.size(); ++l) carrier(l, true);
  }
  /// Silently loses everything sent from engine `from` on link `l` (carrier stays up).
  void black_hole(std::size_t l, int from, bool on) { links_[l].lost[from] = on; }

  void run_until(sim_time end) {
    for (;;) {
      std::optional<sim_time> next;
      if (!queue_.empty()) next = queue_.front().at;
      for (auto& e : eng_) {
        const auto d = e.next_deadline();
        if (d && (!next || *d < *next)) next = d;
      }
      if (!next || *next > end) break;
      REQUIRE(*next >= now_);
      now_ = *next;
      if (!queue_.empty() && queue_.front().at == now_) {
        const auto d = queue_.front();
        queue_.erase(queue_.begin());
        deliveries.push_back(d);
        eng_[d.engine].on_pdu(d.port, d.pdu, now_, outs_[d.engine]);
        continue;
      }
      for (int e = 0; e < 2; ++e) {
        const auto d = eng_[e].next_deadline();
        if (d && *d == now_) {
          eng_[e].on_timer(now_, outs_[e]);
          break;
        }
      }
    }
    now_ = end;
  }

  /// When engine `e`'s port `p` last received a LACPDU at or before `t`.
  std::optional<sim_time> last_delivery(int e, port_index p, sim_time t) const {
    std::optional<sim_time> last;
    for (const auto& d : deliveries) {
      if (d.engine == e && d.port == p && d.at <= t) last = d.at;
    }
    return last;
  }

  std::vector<delivery> deliveries;
  std::size_t lost_count = 0;

 private:
  struct out : lacp::sink {
    world* w = nullptr;
    int id = 0;
    collector rec;
    void transmit(sim_time now, port_index port, const wire::lacp_repr& pdu) override {
      rec.transmit(now, port, pdu);
      w->send(id, port, pdu, now);
    }
    void port_changed(sim_time now, port_index port, const port_entry& e) override {
      rec.port_changed(now, port, e);
    }
    void aggregator_changed(sim_time now, port_index port, lacp::aggregator_id from,
                            lacp::aggregator_id to) override {
      rec.aggregator_changed(now, port, from, to);
    }
    void log(sim_time now, std::string_view line) override { rec.log(now, line); }
  };

  void send(int from, port_index port, const wire::lacp_repr& pdu, sim_time now) {
    for (const auto& l : links_) {
      if (l.port[from] != port) continue;
      if (l.lost[from]) {
        ++lost_count;
        return;
      }
      queue_.push_back({now + delay_, seq_++, 1 - from, l.port[1 - from], pdu});
      // Constant delay: the queue stays sorted by (time, seq) when appended.
      return;
    }
  }

  std::array<lacp::engine, 2> eng_;
  std::array<out, 2> outs_;
  sim_time delay_;
  sim_time now_{};
  std::uint64_t seq_ = 0;
  std::vector<link> links_;
  std::vector<delivery> queue_;
};

/// A LACPDU from a fake partner system to port `port_number` of the host (host_mac).
wire::lacp_repr partner_pdu(std::uint16_t partner_port, bool sync, bool short_timeout = true) {
  wire::lacp_repr pdu;
  pdu.actor.system_priority = 0x8000;
  pdu.actor.system = wire::mac_address::from_u64(switch_mac);
  pdu.actor.key = 7;
  pdu.actor.port_priority = 0x8000;
  pdu.actor.port = partner_port;
  pdu.actor.state.set(wire::lacp_state_bit::activity)
      .set(wire::lacp_state_bit::aggregation)
      .set(wire::lacp_state_bit::timeout, short_timeout)
      .set(wire::lacp_state_bit::synchronization, sync);
  return pdu;
}

}  // namespace

TEST_CASE("lacp: state names are the standard's") {
  CHECK(lacp::to_string(rx_state::port_disabled) == "PORT_DISABLED");
  CHECK(lacp::to_string(rx_state::lacp_disabled) == "LACP_DISABLED");
  CHECK(lacp::to_string(periodic_state::periodic_tx) == "PERIODIC_TX");
  CHECK(lacp::to_string(mux_state::collecting_distributing) == "COLLECTING_DISTRIBUTING");
  CHECK(lacp::to_string(lacp::actor_churn_state::actor_churn_monitor) == "ACTOR_CHURN_MONITOR");
  CHECK(lacp::to_string(lacp::partner_churn_state::no_partner_churn) == "NO_PARTNER_CHURN");
  CHECK(lacp::collects(mux_state::collecting_distributing));
  CHECK_FALSE(lacp::distributes(mux_state::attached));
}

TEST_CASE("lacp: configuration errors name the parameter, the value and the rule") {
  auto error_of = [](lacp::system_config c) -> std::string {
    try {
      lacp::engine e{std::move(c)};
    } catch (const lacp::config_error& err) {
      return err.what();
    }
    return "no error";
  };
  auto good = two_ports(host_mac);
  CHECK(error_of(good) == "no error");

  SUBCASE("system MAC") {
    auto c = good;
    c.system = wire::mac_address{};
    CHECK(error_of(c) ==
          "lacp: system = 00:00:00:00:00:00: the System ID must be a unicast, non-zero MAC "
          "address (802.1AX-2014 6.3.2)");
    c.system = wire::slow_protocols_address;
    CHECK(error_of(c).starts_with("lacp: system = 01:80:c2:00:00:02: "));
  }
  SUBCASE("no ports") {
    auto c = good;
    c.ports.clear();
    CHECK(error_of(c) == "lacp: ports = 0: an aggregation system needs at least one port");
  }
  SUBCASE("port number zero or repeated") {
    auto c = good;
    c.ports[1].port_number = 0;
    CHECK(error_of(c) ==
          "lacp: ports[1].port_number = 0: must be 1..65535; 0 is the Partner_Admin_Port of "
          "an unknown partner (802.1AX-2014 6.3.4)");
    c.ports[1].port_number = 1;
    try {
      lacp::engine e{c};
      FAIL("accepted a repeated port number");
    } catch (const lacp::config_error& err) {
      CHECK(err.parameter() == "ports[1].port_number");
      CHECK(err.value() == "1");
      CHECK(err.rule() == "must be unique within the system; ports[0] has it (802.1AX-2014 6.3.4)");
    }
  }
  SUBCASE("timers") {
    auto c = good;
    c.timers.short_timeout = 1_s;
    CHECK(error_of(c) ==
          "lacp: timers.short_timeout = 1s: must exceed timers.fast_periodic (1s), or every "
          "gap between LACPDUs expires the partner (802.1AX-2014 6.4.4)");
    c = good;
    c.timers.aggregate_wait = 0_s;
    CHECK(error_of(c) == "lacp: timers.aggregate_wait = 0s: must be greater than 0");
    c = good;
    c.timers.tx_limit = 0;
    CHECK(error_of(c).starts_with("lacp: timers.tx_limit = 0: must be at least 1"));
  }
  SUBCASE("port index out of range") {
    lacp::engine e{good};
    collector out;
    CHECK_THROWS_WITH_AS(e.set_port_enabled(2, true, 0_s, out),
                         "lacp: port = 2: must be a port index below 2", lacp::config_error);
  }
}

TEST_CASE("lacp: receive machine, one SUBCASE per state (802.1AX-2014 6.4.12)") {
  lacp::engine e{make_system(host_mac, {make_port(1), make_port(2)})};
  collector out;

  SUBCASE("INITIALIZE") {
    e.begin(0_s, out);
    CHECK(out.logged("0s port 0 rx: BEGIN=>INITIALIZE"));
    CHECK(out.logged("0s port 0 rx: INITIALIZE=>PORT_DISABLED"));
    // Port_Moved: port 0 knew partner port 5, lost carrier, and port 1 now hears that
    // partner port: port 0 reinitialises and forgets the partner.
    e.set_port_enabled(0, true, 0_s, out);
    e.set_port_enabled(1, true, 0_s, out);
    e.on_pdu(0, partner_pdu(5, false), 100_ms, out);
    CHECK(e.status(0).partner.port == 5);
    e.set_port_enabled(0, false, 200_ms, out);
    CHECK(e.status(0).rx == rx_state::port_disabled);
    e.on_pdu(1, partner_pdu(5, false), 300_ms, out);
    CHECK(out.logged("0.3s port 0 rx: PORT_DISABLED=>INITIALIZE"));
    CHECK(e.status(0).rx == rx_state::port_disabled);
    CHECK(e.status(0).partner.port == 0);
    CHECK(e.status(0).actor.state.defaulted());
  }
  SUBCASE("PORT_DISABLED") {
    e.begin(0_s, out);
    CHECK(e.status(0).rx == rx_state::port_disabled);
    CHECK(e.status(0).periodic == periodic_state::no_periodic);
    CHECK(out.tx.empty());
    CHECK(e.on_pdu(0, partner_pdu(5, true), 1_s, out) == lacp::rx_verdict::dropped_no_carrier);
    CHECK(e.status(0).rx == rx_state::port_disabled);
    CHECK(e.counters(0).rx_dropped_no_carrier == 1);
    CHECK(e.counters(0).dot3adAggPortStatsLACPDUsRx == 0);
  }
  SUBCASE("EXPIRED") {
    e.set_port_enabled(0, true, 1_s, out);
    const auto s = e.status(0);
    CHECK(s.rx == rx_state::expired);
    CHECK(s.actor.state.expired());
    CHECK(s.partner.state.short_timeout());  // so that it asks fast
    CHECK(s.periodic == periodic_state::fast_periodic);
    // Active: the pending NTT (set by DETACHED at BEGIN) goes out at once, Expired set.
    REQUIRE(out.tx.size() == 1);
    CHECK(out.tx[0].at == 1_s);
    CHECK(out.tx[0].pdu.actor.state.expired());
    CHECK(out.tx[0].pdu.actor.state.defaulted());
    CHECK(e.next_deadline() == 2_s);  // periodic timer, before current_while at 4 s
  }
  SUBCASE("DEFAULTED") {
    e.set_port_enabled(0, true, 1_s, out);
    while (e.next_deadline() && *e.next_deadline() <= 4_s) e.on_timer(*e.next_deadline(), out);
    CHECK(out.logged("4s port 0 rx: EXPIRED=>DEFAULTED"));  // Short_Timeout_Time after
    const auto s = e.status(0);
    CHECK(s.rx == rx_state::defaulted);
    CHECK_FALSE(s.actor.state.expired());
    CHECK(s.actor.state.defaulted());
    // A LACPDU takes it to CURRENT.
    e.on_pdu(0, partner_pdu(5, false), 5_s, out);
    CHECK(e.status(0).rx == rx_state::current);
  }
  SUBCASE("CURRENT") {
    e.set_port_enabled(0, true, 0_s, out);
    CHECK(e.on_pdu(0, partner_pdu(5, false), 500_ms, out) == lacp::rx_verdict::accepted);
    const auto s = e.status(0);
    CHECK(s.rx == rx_state::current);
    CHECK(s.partner.port == 5);
    CHECK(s.partner.system == wire::mac_address::from_u64(switch_mac));
    CHECK_FALSE(s.actor.state.defaulted());
    CHECK_FALSE(s.actor.state.expired());
    CHECK(e.counters(0).dot3adAggPortStatsLACPDUsRx == 1);
    // current_while runs for the actor's own timeout: short here, so EXPIRED at 3.5 s.
    while (e.next_deadline() && *e.next_deadline() <= 3500_ms) {
      e.on_timer(*e.next_deadline(), out);
    }
    CHECK(out.logged("3.5s port 0 rx: CURRENT=>EXPIRED"));
    SUBCASE("long timeout waits 90 s") {
      lacp::engine slow{make_system(host_mac, {make_port(1, lacp_timeout::long_timeout)})};
      collector o2;
      slow.set_port_enabled(0, true, 0_s, o2);
      slow.on_pdu(0, partner_pdu(5, false, false), 500_ms, o2);
      while (slow.next_deadline() && *slow.next_deadline() <= 200_s) {
        slow.on_timer(*slow.next_deadline(), o2);
      }
      CHECK(o2.logged("90.5s port 0 rx: CURRENT=>EXPIRED"));
      CHECK(o2.logged("93.5s port 0 rx: EXPIRED=>DEFAULTED"));
    }
  }
  SUBCASE("LACP_DISABLED") {
    e.set_port_enabled(0, true, 0_s, out);
    e.set_lacp_enabled(0, false, 1_s, out);
    CHECK(out.logged("1s port 0 rx: PORT_DISABLED=>LACP_DISABLED"));
    const auto s = e.status(0);
    CHECK(s.rx == rx_state::lacp_disabled);
    CHECK_FALSE(s.partner.state.aggregation());
    CHECK(s.periodic == periodic_state::no_periodic);
    const auto sent = out.tx.size();
    CHECK(e.on_pdu(0, partner_pdu(5, true), 2_s, out) == lacp::rx_verdict::ignored_lacp_disabled);
    CHECK(e.status(0).rx == rx_state::lacp_disabled);
    CHECK(e.counters(0).dot3adAggPortStatsLACPDUsRx == 1);
    CHECK(out.tx.size() == sent);
    e.set_lacp_enabled(0, true, 3_s, out);
    CHECK(e.status(0).rx == rx_state::expired);
  }
}

TEST_CASE("lacp: periodic machine, one SUBCASE per state (802.1AX-2014 6.4.13)") {
  collector out;
  SUBCASE("NO_PERIODIC: passive actor, partner unknown") {
    lacp::engine e{make_system(host_mac, {make_port(1, lacp_timeout::short_timeout,
                                                    activity::passive)})};
    e.set_port_enabled(0, true, 0_s, out);
    for (int i = 0; i < 20 && e.next_deadline(); ++i) e.on_timer(*e.next_deadline(), out);
    CHECK(e.status(0).periodic == periodic_state::no_periodic);
    CHECK(out.tx.empty());
  }
  SUBCASE("FAST_PERIODIC and PERIODIC_TX: a LACPDU every second") {
    lacp::engine e{make_system(host_mac, {make_port(1)})};
    e.set_port_enabled(0, true, 0_s, out);
    e.on_pdu(0, partner_pdu(5, false, true), 0_s, out);
    while (e.next_deadline() && *e.next_deadline() <= 2500_ms) {
      e.on_timer(*e.next_deadline(), out);
    }
    CHECK(e.status(0).periodic == periodic_state::fast_periodic);
    CHECK(out.logged("1s port 0 periodic: FAST_PERIODIC=>PERIODIC_TX"));
    CHECK(out.logged("1s port 0 periodic: PERIODIC_TX=>FAST_PERIODIC"));
    CHECK(out.tx_on(0, 900_ms, 1100_ms) == 1);
    CHECK(out.tx_on(0, 1900_ms, 2100_ms) == 1);
  }
  SUBCASE("SLOW_PERIODIC: the partner asked for the long timeout") {
    lacp::engine e{make_system(host_mac, {make_port(1)})};
    e.set_port_enabled(0, true, 0_s, out);
    e.on_pdu(0, partner_pdu(5, false, false), 100_ms, out);
    CHECK(e.status(0).periodic == periodic_state::slow_periodic);
    CHECK(out.logged("0.1s port 0 periodic: FAST_PERIODIC=>SLOW_PERIODIC"));
    const auto before = out.tx.size();
    // Feed the partner every 2 s (it stays CURRENT with our short timeout).
    for (sim_time t = 2_s; t <= 40_s; t += 2_s) {
      while (e.next_deadline() && *e.next_deadline() <= t) e.on_timer(*e.next_deadline(), out);
      auto pdu = partner_pdu(5, false, false);
      pdu.partner = e.status(0).actor;  // its view of us is right: no NTT from update_NTT
      e.on_pdu(0, pdu, t, out);
    }
    // Slow periodic 30 s after entering SLOW_PERIODIC at 0.1 s (plus Mux-driven sends).
    CHECK(out.logged("30.1s port 0 periodic: SLOW_PERIODIC=>PERIODIC_TX"));
    CHECK(out.tx_on(0, 30100_ms, 30101_ms) == 1);
    CHECK(out.tx.size() > before);
  }
}

TEST_CASE("lacp: two active partners aggregate two ports after the 2 s aggregate wait") {
  world w{two_ports(switch_mac), two_ports(host_mac), 1_ms};
  w.connect(0, 0);
  w.connect(1, 1);
  w.all_carrier_up();
  w.run_until(10_s);
  for (int e = 0; e < 2; ++e) {
    for (port_index p = 0; p < 2; ++p) {
      CAPTURE(e);
      CAPTURE(p);
      // First LACPDUs at 0 arrive at 1 ms; the ports reselect then and wait
      // Aggregate_Wait_Time (2 s); ATTACHED at 2.001 s sends Sync, which arrives at 2.002 s.
      CHECK(w.rec(e).first_entry(p, 0_s, distributing) == 2002_ms);
      CHECK(w.eng(e).port_table()[p] == port_entry{true, true, 1});
      CHECK(w.eng(e).status(p).mux == mux_state::collecting_distributing);
    }
    CHECK(w.eng(e).members(1) == std::vector<port_index>{0, 1});
    CHECK(w.rec(e).logged("2.001s port 1 mux: WAITING=>ATTACHED"));
  }
  // The steady state: both fast, one LACPDU per second per port.
  CHECK(w.rec(1).tx_on(0, 5_s, 10_s) == 5);
  CHECK(w.host().counters(0).dot3adAggPortStatsLACPDUsTx == w.rec(1).tx_on(0, 0_s, 11_s));
}

TEST_CASE("lacp: mux machine, one SUBCASE per state (802.1AX-2014 6.4.15, coupled control)") {
  world w{two_ports(switch_mac), two_ports(host_mac), 1_ms};
  w.connect(0, 0);
  w.connect(1, 1);

  SUBCASE("DETACHED") {
    w.run_until(5_s);  // no carrier
    CHECK(w.host().status(0).mux == mux_state::detached);
    CHECK(w.host().port_table()[0] == port_entry{});
  }
  SUBCASE("WAITING") {
    w.all_carrier_up();
    w.run_until(1_s);
    CHECK(w.host().status(0).mux == mux_state::waiting);
    CHECK(w.host().status(0).selected_aggregator == 1);
    CHECK(w.host().port_table()[0].aggregator == lacp::no_aggregator);
  }
  SUBCASE("ATTACHED") {
    w.all_carrier_up();
    w.run_until(2001_ms + 500_us);
    CHECK(w.host().status(0).mux == mux_state::attached);
    CHECK(w.host().port_table()[0] == port_entry{false, false, 1});
    CHECK(w.host().status(0).actor.state.synchronization());
    REQUIRE_FALSE(w.rec(1).aggregator_events.empty());
    CHECK(w.rec(1).aggregator_events.back() == "2.001s port 1: 0->1");
    SUBCASE("stays ATTACHED while the partner never hears us") {
      // One-way loss host -> switch on link 0 from the start (a fresh world).
      world w2{two_ports(switch_mac), two_ports(host_mac), 1_ms};
      w2.connect(0, 0);
      w2.black_hole(0, 1, true);
      w2.all_carrier_up();
      w2.run_until(60_s);
      CHECK(w2.host().status(0).mux == mux_state::attached);
      CHECK_FALSE(w2.host().status(0).partner.state.synchronization());
      CHECK(w2.host().port_table()[0] == port_entry{false, false, 1});
    }
  }
  SUBCASE("COLLECTING_DISTRIBUTING") {
    w.all_carrier_up();
    w.run_until(2002_ms);
    CHECK(w.host().status(0).mux == mux_state::collecting_distributing);
    CHECK(w.host().status(0).actor.state.collecting());
    CHECK(w.host().status(0).actor.state.distributing());
    CHECK(w.rec(1).logged("2.002s port 0 mux: ATTACHED=>COLLECTING_DISTRIBUTING"));
  }
}

TEST_CASE("lacp: active/passive pairs aggregate, passive/passive never does") {
  SUBCASE("host passive") {
    world w{two_ports(switch_mac), two_ports(host_mac, lacp_timeout::short_timeout,
                                             activity::passive)};
    w.connect(0, 0);
    w.connect(1, 1);
    w.all_carrier_up();
    w.run_until(10_s);
    CHECK(w.rec(1).tx_on(0, 0_s, 1_ms) == 0);  // passive: silent until it hears the switch
    CHECK(w.rec(1).tx_on(0, 1_ms, 2_ms) == 1);
    CHECK(w.host().members(1) == std::vector<port_index>{0, 1});
    CHECK(distributing(w.host().port_table()[1]));
    CHECK(distributing(w.sw().port_table()[1]));
  }
  SUBCASE("switch passive") {
    world w{two_ports(switch_mac, lacp_timeout::short_timeout, activity::passive),
            two_ports(host_mac)};
    w.connect(0, 0);
    w.connect(1, 1);
    w.all_carrier_up();
    w.run_until(10_s);
    CHECK(w.sw().members(1) == std::vector<port_index>{0, 1});
    CHECK(distributing(w.sw().port_table()[0]));
  }
  SUBCASE("both passive") {
    world w{two_ports(switch_mac, lacp_timeout::short_timeout, activity::passive),
            two_ports(host_mac, lacp_timeout::short_timeout, activity::passive)};
    w.connect(0, 0);
    w.connect(1, 1);
    w.all_carrier_up();
    w.run_until(300_s);
    CHECK(w.rec(0).tx.empty());
    CHECK(w.rec(1).tx.empty());
    for (port_index p = 0; p < 2; ++p) {
      CHECK_FALSE(w.sw().port_table()[p].distributing);
      CHECK_FALSE(w.host().port_table()[p].distributing);
      CHECK(w.host().status(p).rx == rx_state::defaulted);
    }
  }
}

TEST_CASE("lacp: a port with a different key, or not aggregatable, goes individual") {
  auto host = make_system(host_mac, {make_port(1), make_port(2), make_port(3)});
  auto sw = make_system(switch_mac, {make_port(1), make_port(2), make_port(3)});
  SUBCASE("different key") { host.ports[2].key = 2; }
  SUBCASE("aggregation not allowed") { host.ports[2].aggregatable = false; }
  world w{sw, host};
  for (port_index p = 0; p < 3; ++p) w.connect(p, p);
  w.all_carrier_up();
  w.run_until(10_s);
  for (int e = 0; e < 2; ++e) {
    CAPTURE(e);
    CHECK(w.eng(e).members(1) == std::vector<port_index>{0, 1});
    CHECK(w.eng(e).members(3) == std::vector<port_index>{2});  // its own aggregator
    CHECK(w.eng(e).port_table()[2] == port_entry{true, true, 3});
  }
}

TEST_CASE("lacp: fast timeout detects a silent black hole after 3 s") {
  world w{two_ports(switch_mac), two_ports(host_mac)};
  w.connect(0, 0);
  const auto l1 = w.connect(1, 1);
  w.all_carrier_up();
  w.run_until(10500_ms);
  REQUIRE(distributing(w.host().port_table()[1]));
  // Carrier stays up; everything on link 1 is lost from now on.
  w.black_hole(l1, 0, true);
  w.black_hole(l1, 1, true);
  w.run_until(20_s);
  for (int e = 0; e < 2; ++e) {
    CAPTURE(e);
    const auto last = w.last_delivery(e, 1, 10500_ms);
    REQUIRE(last);
    CHECK(w.rec(e).first_entry(1, 10500_ms, not_distributing) == *last + 3_s);
    CHECK(w.rec(e).logged(fmt::format("{} port 1 rx: CURRENT=>EXPIRED", *last + 3_s)));
    CHECK(w.eng(e).members(1) == std::vector<port_index>{0});
    CHECK(distributing(w.eng(e).port_table()[0]));  // the other link carries on
  }
}

TEST_CASE("lacp: slow timeout takes 90 s to notice the same black hole [pfsense#4294]") {
  world w{two_ports(switch_mac, lacp_timeout::long_timeout),
          two_ports(host_mac, lacp_timeout::long_timeout)};
  w.connect(0, 0);
  const auto l1 = w.connect(1, 1);
  w.all_carrier_up();
  w.run_until(100_s);
  REQUIRE(distributing(w.host().port_table()[1]));
  w.black_hole(l1, 0, true);
  w.black_hole(l1, 1, true);
  w.run_until(300_s);
  const auto last = w.last_delivery(1, 1, 100_s);
  REQUIRE(last);
  const auto detected = w.rec(1).first_entry(1, 100_s, not_distributing);
  REQUIRE(detected);
  CHECK(*detected == *last + 90_s);
  CHECK(*detected - 100_s > 60_s);  // traffic black-holed for over a minute
  CHECK(distributing(w.host().port_table()[0]));
}

TEST_CASE("lacp: carrier loss removes a port at once; recovery reattaches") {
  world w{two_ports(switch_mac), two_ports(host_mac)};
  w.connect(0, 0);
  const auto l1 = w.connect(1, 1);
  w.all_carrier_up();
  w.run_until(10_s);
  w.carrier(l1, false);
  for (int e = 0; e < 2; ++e) {
    CAPTURE(e);
    CHECK(w.eng(e).port_table()[1] == port_entry{});
    CHECK(w.rec(e).entries.back().at == 10_s);
    CHECK(w.eng(e).members(1) == std::vector<port_index>{0});
    CHECK(w.eng(e).status(1).rx == rx_state::port_disabled);
  }
  w.run_until(20_s);
  CHECK(w.eng(1).port_table()[1] == port_entry{});
  w.carrier(l1, true);
  w.run_until(30_s);
  for (int e = 0; e < 2; ++e) {
    CAPTURE(e);
    // Partner information was kept, so the port rejoins aggregator 1 at once and waits
    // 2 s; the peer's Sync arrives 1 ms after both attach.
    CHECK(w.rec(e).first_entry(1, 20_s, distributing) == 22001_ms);
    CHECK(w.eng(e).members(1) == std::vector<port_index>{0, 1});
  }
}

TEST_CASE("lacp: LACPDUs arriving while carrier is down are dropped and counted [OVSlacp]") {
  world w{two_ports(switch_mac), two_ports(host_mac)};
  w.connect(0, 0);
  const auto l1 = w.connect(1, 1);
  w.all_carrier_up();
  w.run_until(10_s);
  const auto rx_before = w.host().counters(1).dot3adAggPortStatsLACPDUsRx;
  w.carrier_at(1, l1, false);  // the host's NIC reports no carrier; the switch still sends
  w.run_until(20_s);
  const auto sent = static_cast<std::uint64_t>(std::count_if(
      w.deliveries.begin(), w.deliveries.end(), [](const world::delivery& d) {
        return d.engine == 1 && d.port == 1 && d.at > 10_s && d.at <= 20_s;
      }));
  CHECK(sent >= 9);
  CHECK(w.host().counters(1).rx_dropped_no_carrier == sent);
  CHECK(w.host().counters(1).dot3adAggPortStatsLACPDUsRx == rx_before);
  CHECK(w.host().port_table()[1] == port_entry{});
}

TEST_CASE("lacp: transmit machine sends at most 3 LACPDUs per second (802.1AX-2014 6.4.16)") {
  lacp::engine e{make_system(host_mac, {make_port(1)})};
  collector out;
  e.set_port_enabled(0, true, 0_s, out);  // first LACPDU at 0
  // A partner whose view of us keeps changing: every LACPDU sets NTT (update_NTT).
  sim_time held_deadline{};
  for (int i = 1; i <= 50; ++i) {
    const auto t = sim_time::from_ms(100 * i);
    while (e.next_deadline() && *e.next_deadline() < t) e.on_timer(*e.next_deadline(), out);
    auto pdu = partner_pdu(5, false);
    pdu.partner.key = static_cast<std::uint16_t>(i % 2 ? 100 : 200);
    e.on_pdu(0, pdu, t, out);
    if (i == 3) held_deadline = e.next_deadline().value_or(sim_time::max());
  }
  REQUIRE(out.tx.size() >= 4);
  CHECK(out.tx[0].at == 0_s);
  CHECK(out.tx[1].at == 100_ms);
  CHECK(out.tx[2].at == 200_ms);
  CHECK(held_deadline == 1_s);  // the 4th waits for the first to leave the window
  CHECK(out.tx[3].at == 1_s);
  for (std::size_t k = 3; k < out.tx.size(); ++k) {
    CAPTURE(k);
    CHECK(out.tx[k].at - out.tx[k - 3].at >= 1_s);
  }
  CHECK(out.tx.size() >= 14);  // 3 per second over 5 s, not fewer
  CHECK(e.counters(0).dot3adAggPortStatsLACPDUsTx == out.tx.size());
}

TEST_CASE("lacp: churn detection flags a partner that never syncs (802.1AX-2014 6.4.17)") {
  lacp::engine e{make_system(host_mac, {make_port(1)})};
  collector out;
  e.set_port_enabled(0, true, 0_s, out);
  while (e.next_deadline() && *e.next_deadline() <= 70_s) e.on_timer(*e.next_deadline(), out);
  const auto s = e.status(0);
  CHECK(s.partner_churn == lacp::partner_churn_state::partner_churn);
  CHECK(s.partner_churn_flag);
  CHECK(out.logged("60s port 0 partner churn: PARTNER_CHURN_MONITOR=>PARTNER_CHURN"));
  // The actor attached (individual, default partner) at 2 s, so it is in sync.
  CHECK(s.actor_churn == lacp::actor_churn_state::no_actor_churn);
  CHECK(out.logged("2s port 0 actor churn: ACTOR_CHURN_MONITOR=>NO_ACTOR_CHURN"));
  CHECK(e.counters(0).dot3adAggPortDebugPartnerChurnCount == 1);
  CHECK(e.counters(0).dot3adAggPortDebugActorChurnCount == 0);
}

TEST_CASE("lacp: unparsable slow-protocol frames count as IllegalRx or UnknownRx") {
  lacp::engine e{make_system(host_mac, {make_port(1)})};
  e.on_bad_pdu(0, wire::parse_error::bad_type);
  e.on_bad_pdu(0, wire::parse_error::bad_option);
  e.on_bad_pdu(0, wire::parse_error::truncated);
  CHECK(e.counters(0).dot3adAggPortStatsUnknownRx == 1);
  CHECK(e.counters(0).dot3adAggPortStatsIllegalRx == 2);
  CHECK(e.counters(0).dot3adAggPortStatsLACPDUsRx == 0);
}

TEST_CASE("lacp: the same script gives the same trace") {
  auto trace = [] {
    world w{two_ports(switch_mac), two_ports(host_mac)};
    w.connect(0, 0);
    const auto l1 = w.connect(1, 1);
    w.all_carrier_up();
    w.run_until(5_s);
    w.black_hole(l1, 0, true);
    w.run_until(15_s);
    w.carrier(l1, false);
    w.run_until(16_s);
    w.black_hole(l1, 0, false);
    w.carrier(l1, true);
    w.run_until(30_s);
    auto lines = w.rec(0).lines;
    lines.insert(lines.end(), w.rec(1).lines.begin(), w.rec(1).lines.end());
    return lines;
  };
  const auto a = trace();
  CHECK(a.size() > 50);
  CHECK(a == trace());
}
