#include "vnetsim/proto/lacp.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

namespace vnetsim::lacp {

namespace bit = wire::lacp_state_bit;

std::string_view to_string(activity a) noexcept {
  return a == activity::active ? "ACTIVE" : "PASSIVE";
}

std::string_view to_string(lacp_timeout t) noexcept {
  return t == lacp_timeout::short_timeout ? "Short Timeout" : "Long Timeout";
}

std::string_view to_string(selected_state s) noexcept {
  return s == selected_state::selected ? "SELECTED" : "UNSELECTED";
}

std::string_view to_string(rx_state s) noexcept {
  switch (s) {
    case rx_state::initialize: return "INITIALIZE";
    case rx_state::port_disabled: return "PORT_DISABLED";
    case rx_state::expired: return "EXPIRED";
    case rx_state::lacp_disabled: return "LACP_DISABLED";
    case rx_state::defaulted: return "DEFAULTED";
    case rx_state::current: return "CURRENT";
  }
  return "?";
}

std::string_view to_string(periodic_state s) noexcept {
  switch (s) {
    case periodic_state::no_periodic: return "NO_PERIODIC";
    case periodic_state::fast_periodic: return "FAST_PERIODIC";
    case periodic_state::slow_periodic: return "SLOW_PERIODIC";
    case periodic_state::periodic_tx: return "PERIODIC_TX";
  }
  return "?";
}

std::string_view to_string(mux_state s) noexcept {
  switch (s) {
    case mux_state::detached: return "DETACHED";
    case mux_state::waiting: return "WAITING";
    case mux_state::attached: return "ATTACHED";
    case mux_state::collecting_distributing: return "COLLECTING_DISTRIBUTING";
  }
  return "?";
}

std::string_view to_string(actor_churn_state s) noexcept {
  switch (s) {
    case actor_churn_state::no_actor_churn: return "NO_ACTOR_CHURN";
    case actor_churn_state::actor_churn_monitor: return "ACTOR_CHURN_MONITOR";
    case actor_churn_state::actor_churn: return "ACTOR_CHURN";
  }
  return "?";
}

std::string_view to_string(partner_churn_state s) noexcept {
  switch (s) {
    case partner_churn_state::no_partner_churn: return "NO_PARTNER_CHURN";
    case partner_churn_state::partner_churn_monitor: return "PARTNER_CHURN_MONITOR";
    case partner_churn_state::partner_churn: return "PARTNER_CHURN";
  }
  return "?";
}

std::string_view to_string(rx_verdict v) noexcept {
  switch (v) {
    case rx_verdict::accepted: return "accepted";
    case rx_verdict::dropped_no_carrier: return "dropped (no carrier)";
    case rx_verdict::ignored_lacp_disabled: return "ignored (LACP disabled)";
  }
  return "?";
}

namespace {

void validate(const system_config& c) {
  if (c.system.is_zero() || c.system.is_multicast()) {
    throw config_error("system", c.system.to_string(),
                       "the System ID must be a unicast, non-zero MAC address "
                       "(802.1AX-2014 6.3.2)");
  }
  if (c.ports.empty()) {
    throw config_error("ports", "0", "an aggregation system needs at least one port");
  }
  if (c.ports.size() > 0xffff) {
    throw config_error("ports", std::to_string(c.ports.size()),
                       "at most 65535 ports (one aggregator identifier each)");
  }
  for (std::size_t i = 0; i < c.ports.size(); ++i) {
    const auto n = c.ports[i].port_number;
    if (n == 0) {
      throw config_error(fmt::format("ports[{}].port_number", i), "0",
                         "must be 1..65535; 0 is the Partner_Admin_Port of an unknown "
                         "partner (802.1AX-2014 6.3.4)");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (c.ports[j].port_number == n) {
        throw config_error(fmt::format("ports[{}].port_number", i), std::to_string(n),
                           fmt::format("must be unique within the system; ports[{}] has it "
                                       "(802.1AX-2014 6.3.4)",
                                       j));
      }
    }
  }
  const auto& t = c.timers;
  const std::pair<const char*, sim_time> positive[] = {
      {"timers.fast_periodic", t.fast_periodic}, {"timers.slow_periodic", t.slow_periodic},
      {"timers.short_timeout", t.short_timeout}, {"timers.long_timeout", t.long_timeout},
      {"timers.churn_detection", t.churn_detection}, {"timers.aggregate_wait", t.aggregate_wait}};
  for (const auto& [name, value] : positive) {
    if (value <= sim_time::zero()) {
      throw config_error(name, value.to_string(), "must be greater than 0");
    }
  }
  if (t.short_timeout <= t.fast_periodic) {
    throw config_error("timers.short_timeout", t.short_timeout.to_string(),
                       fmt::format("must exceed timers.fast_periodic ({}), or every gap "
                                   "between LACPDUs expires the partner (802.1AX-2014 6.4.4)",
                                   t.fast_periodic));
  }
  if (t.long_timeout <= t.slow_periodic) {
    throw config_error("timers.long_timeout", t.long_timeout.to_string(),
                       fmt::format("must exceed timers.slow_periodic ({}), or every gap "
                                   "between LACPDUs expires the partner (802.1AX-2014 6.4.4)",
                                   t.slow_periodic));
  }
  if (t.tx_limit == 0) {
    throw config_error("timers.tx_limit", "0",
                       "must be at least 1 LACPDU per fast_periodic (802.1AX-2014 6.4.16)");
  }
}

// The fields update_Selected and update_Default_Selected compare (802.1AX-2014 6.4.9).
bool same_selection_params(const wire::lacp_info& a, const wire::lacp_info& b) noexcept {
  return a.port == b.port && a.port_priority == b.port_priority && a.system == b.system &&
         a.system_priority == b.system_priority && a.key == b.key &&
         a.state.aggregation() == b.state.aggregation();
}

}  // namespace

engine::engine(system_config cfg) : cfg_(std::move(cfg)) {
  validate(cfg_);
  ports_.resize(cfg_.ports.size());
  table_.resize(cfg_.ports.size());
  for (std::size_t i = 0; i < ports_.size(); ++i) {
    auto& p = ports_[i];
    p.cfg = cfg_.ports[i];
    p.lacp_enabled = p.cfg.lacp_enabled;
    p.tx_times.assign(cfg_.timers.tx_limit, sim_time::zero());
  }
}

const detail::port_vars& engine::port_at(port_index port) const {
  if (port >= ports_.size()) {
    throw config_error("port", std::to_string(port),
                       fmt::format("must be a port index below {}", ports_.size()));
  }
  return ports_[port];
}

detail::port_vars& engine::port_at(port_index port) {
  return const_cast<detail::port_vars&>(std::as_const(*this).port_at(port));
}

void engine::log_change(port_index i, std::string_view machine, std::string_view from,
                        std::string_view to) {
  if (from == to) return;  // a re-entry (e.g. CURRENT on each LACPDU) is not a change
  out_->log(now_, fmt::format("port {} {}: {}=>{}", i, machine, from, to));
}

// BEGIN (802.1AX-2014 6.4.8): every machine to its initial state.
void engine::begin(sim_time now, sink& out) {
  now_ = now;
  out_ = &out;
  begun_ = true;
  for (port_index i = 0; i < ports_.size(); ++i) {
    auto& p = ports_[i];
    p.actor_oper_key = p.cfg.key;
    p.actor_state = {};
    p.actor_state.set(bit::activity, p.cfg.lacp_activity == activity::active);
    p.actor_state.set(bit::timeout, p.cfg.timeout == lacp_timeout::short_timeout);
    p.actor_state.set(bit::aggregation, p.cfg.aggregatable);
    p.selected = selected_state::unselected;
    p.selected_agg = no_aggregator;
    p.tx_count = 0;
    p.tx_next = 0;
    p.periodic_timer.stop();
    // BEGIN: Mux -> DETACHED (which sets NTT), Receive -> INITIALIZE (then PORT_DISABLED
    // by UCT), Periodic -> NO_PERIODIC, Churn -> ACTOR_/PARTNER_CHURN_MONITOR.
    p.mux = mux_state::detached;
    p.rx = rx_state::initialize;
    p.periodic = periodic_state::no_periodic;
    p.achurn = actor_churn_state::actor_churn_monitor;
    p.pchurn = partner_churn_state::partner_churn_monitor;
    for (const auto& [machine, state] :
         {std::pair<std::string_view, std::string_view>{"mux", to_string(p.mux)},
          {"rx", to_string(p.rx)},
          {"periodic", to_string(p.periodic)},
          {"actor churn", to_string(p.achurn)},
          {"partner churn", to_string(p.pchurn)}}) {
      log_change(i, machine, "BEGIN", state);
    }
    set_mux(i, mux_state::detached);
    enter_rx(i, rx_state::initialize, nullptr);
    set_periodic(i, periodic_state::no_periodic);
    set_actor_churn(i, actor_churn_state::actor_churn_monitor);
    set_partner_churn(i, partner_churn_state::partner_churn_monitor);
  }
  run_machines();
}

void engine::enter(sim_time now, sink& out) {
  if (!begun_) begin(now, out);
  now_ = now;
  out_ = &out;
  advance_timers(now);  // expired timers act in the run_machines() that follows the input
}

void engine::advance_timers(sim_time now) {
  for (auto& p : ports_) {
    p.current_while.advance(now);
    p.periodic_timer.advance(now);
    p.wait_while.advance(now);
    p.actor_churn_timer.advance(now);
    p.partner_churn_timer.advance(now);
  }
}

void engine::run_machines() {
  // Evaluate until no machine changes state. Each pass is a fixed order (receive,
  // periodic, selection, mux, churn; ports in index order), so runs are reproducible.
  // A pass changes each port at most a few states, so a handful of passes settle it;
  // the bound only guards against a bug turning into a hang.
  for (int pass = 0; pass < 64; ++pass) {
    bool changed = false;
    for (port_index i = 0; i < ports_.size(); ++i) changed |= step_rx(i);
    for (port_index i = 0; i < ports_.size(); ++i) changed |= step_periodic(i);
    changed |= selection_logic();
    for (port_index i = 0; i < ports_.size(); ++i) changed |= step_mux(i);
    for (port_index i = 0; i < ports_.size(); ++i) changed |= step_churn(i);
    if (!changed) break;
  }
  for (port_index i = 0; i < ports_.size(); ++i) transmit_machine(i);
}

void engine::on_timer(sim_time now, sink& out) {
  enter(now, out);
  run_machines();
}

std::optional<sim_time> engine::next_deadline() const noexcept {
  std::optional<sim_time> best;
  const auto consider = [&best](const std::optional<sim_time>& t) {
    if (t && (!best || *t < *best)) best = t;
  };
  for (const auto& p : ports_) {
    consider(p.current_while.deadline);
    consider(p.periodic_timer.deadline);
    consider(p.wait_while.deadline);
    consider(p.actor_churn_timer.deadline);
    consider(p.partner_churn_timer.deadline);
    consider(tx_release_time(p));
  }
  return best;
}

rx_verdict engine::on_pdu(port_index port, const wire::lacp_repr& pdu, sim_time now, sink& out) {
  auto& p = port_at(port);
  enter(now, out);
  if (!p.port_enabled) {
    ++p.counters.rx_dropped_no_carrier;
    run_machines();
    return rx_verdict::dropped_no_carrier;
  }
  ++p.counters.dot3adAggPortStatsLACPDUsRx;
  if (p.rx == rx_state::lacp_disabled) {
    run_machines();
    return rx_verdict::ignored_lacp_disabled;
  }
  // Port_Moved (6.4.8): another port, in PORT_DISABLED, had this partner port.
  for (port_index j = 0; j < ports_.size(); ++j) {
    auto& q = ports_[j];
    if (j != port && q.rx == rx_state::port_disabled && q.partner.system == pdu.actor.system &&
        q.partner.port == pdu.actor.port && !q.partner.system.is_zero()) {
      q.port_moved = true;
    }
  }
  // EXPIRED, DEFAULTED and CURRENT all go to CURRENT on "LACPDU received" (6.4.12).
  set_rx(port, rx_state::current);
  enter_rx(port, rx_state::current, &pdu);
  run_machines();
  return rx_verdict::accepted;
}

void engine::on_bad_pdu(port_index port, wire::parse_error why) {
  auto& p = port_at(port);
  if (why == wire::parse_error::bad_type) {
    ++p.counters.dot3adAggPortStatsUnknownRx;
  } else {
    ++p.counters.dot3adAggPortStatsIllegalRx;
  }
}

void engine::set_port_enabled(port_index port, bool up, sim_time now, sink& out) {
  auto& p = port_at(port);
  enter(now, out);
  if (p.port_enabled != up) {
    p.port_enabled = up;
    out_->log(now_, fmt::format("port {} carrier {}", port, up ? "up" : "down"));
    // vnetsim choice (see the header): a port without carrier is not a candidate.
    if (!up) p.selected = selected_state::unselected;
  }
  run_machines();
}

void engine::set_lacp_enabled(port_index port, bool enabled, sim_time now, sink& out) {
  auto& p = port_at(port);
  enter(now, out);
  if (p.lacp_enabled != enabled) {
    p.lacp_enabled = enabled;
    // The change is taken as a reinitialisation: through PORT_DISABLED.
    if (p.rx != rx_state::port_disabled) set_rx(port, rx_state::port_disabled);
  }
  run_machines();
}

// ---------------------------------------------------------------------------------------
// Receive machine, 802.1AX-2014 6.4.12.

void engine::set_rx(port_index i, rx_state s) {
  auto& p = ports_[i];
  const auto from = p.rx;
  p.rx = s;
  log_change(i, "rx", to_string(from), to_string(s));
  if (s != rx_state::current) enter_rx(i, s, nullptr);
}

void engine::enter_rx(port_index i, rx_state s, const wire::lacp_repr* pdu) {
  auto& p = ports_[i];
  switch (s) {
    case rx_state::initialize:
      p.selected = selected_state::unselected;
      record_default(p);
      p.actor_state.set(bit::expired, false);
      p.port_moved = false;
      p.current_while.stop();
      break;
    case rx_state::port_disabled:
      p.partner.state.set(bit::synchronization, false);
      p.current_while.stop();
      break;
    case rx_state::expired:
      p.partner.state.set(bit::synchronization, false);
      p.partner.state.set(bit::timeout, true);  // Short Timeout
      p.current_while.start(now_, cfg_.timers.short_timeout);
      p.actor_state.set(bit::expired, true);
      break;
    case rx_state::lacp_disabled:
      p.selected = selected_state::unselected;
      record_default(p);
      p.partner.state.set(bit::aggregation, false);
      p.actor_state.set(bit::expired, false);
      p.current_while.stop();
      break;
    case rx_state::defaulted:
      update_default_selected(p);
      record_default(p);
      p.actor_state.set(bit::expired, false);
      p.current_while.stop();
      break;
    case rx_state::current:
      update_selected(p, *pdu);
      update_ntt(p, *pdu);
      record_pdu(p, *pdu);
      p.current_while.start(now_, p.actor_state.short_timeout() ? cfg_.timers.short_timeout
                                                                 : cfg_.timers.long_timeout);
      p.actor_state.set(bit::expired, false);
      break;
  }
}

bool engine::step_rx(port_index i) {
  auto& p = ports_[i];
  // Global transition: (!port_enabled) && (!Port_Moved) -> PORT_DISABLED.
  if (!p.port_enabled && !p.port_moved && p.rx != rx_state::port_disabled &&
      p.rx != rx_state::initialize) {
    set_rx(i, rx_state::port_disabled);
    return true;
  }
  switch (p.rx) {
    case rx_state::initialize:
      set_rx(i, rx_state::port_disabled);  // UCT
      return true;
    case rx_state::port_disabled:
      if (p.port_moved) {
        set_rx(i, rx_state::initialize);
        return true;
      }
      if (p.port_enabled) {
        set_rx(i, p.lacp_enabled ? rx_state::expired : rx_state::lacp_disabled);
        return true;
      }
      return false;
    case rx_state::lacp_disabled:
      if (p.lacp_enabled) {
        set_rx(i, rx_state::port_disabled);
        return true;
      }
      return false;
    case rx_state::expired:
      if (p.current_while.expired) {
        set_rx(i, rx_state::defaulted);
        return true;
      }
      return false;
    case rx_state::current:
      if (p.current_while.expired) {
        set_rx(i, rx_state::expired);
        return true;
      }
      return false;
    case rx_state::defaulted:
      return false;
  }
  return false;
}

// recordPDU (6.4.9): the PDU's Actor information becomes the Partner's operational
// values; the partner is in sync if it has our information right (or is individual)
// and LACP is actively maintaining the link.
void engine::record_pdu(detail::port_vars& p, const wire::lacp_repr& pdu) {
  p.partner = pdu.actor;
  p.actor_state.set(bit::defaulted, false);
  const auto& mine = pdu.partner;
  const bool matched = mine.port == p.cfg.port_number &&
                       mine.port_priority == p.cfg.port_priority &&
                       mine.system == cfg_.system &&
                       mine.system_priority == cfg_.system_priority &&
                       mine.key == p.actor_oper_key &&
                       mine.state.aggregation() == p.actor_state.aggregation();
  const bool actively_maintained =
      pdu.actor.state.activity() || (p.actor_state.activity() && mine.state.activity());
  const bool sync = pdu.actor.state.synchronization() &&
                    (matched || !pdu.actor.state.aggregation()) && actively_maintained;
  p.partner.state.set(bit::synchronization, sync);
}

// recordDefault (6.4.9).
void engine::record_default(detail::port_vars& p) {
  p.partner = p.cfg.partner_admin;
  p.actor_state.set(bit::defaulted, true);
}

// update_Selected (6.4.9): a different partner means a different LAG.
void engine::update_selected(detail::port_vars& p, const wire::lacp_repr& pdu) {
  if (!same_selection_params(pdu.actor, p.partner)) p.selected = selected_state::unselected;
}

// update_Default_Selected (6.4.9).
void engine::update_default_selected(detail::port_vars& p) {
  if (!same_selection_params(p.cfg.partner_admin, p.partner)) {
    p.selected = selected_state::unselected;
  }
}

// update_NTT (6.4.9): the partner's view of us is out of date.
void engine::update_ntt(detail::port_vars& p, const wire::lacp_repr& pdu) {
  constexpr std::uint8_t compared =
      bit::activity | bit::timeout | bit::synchronization | bit::aggregation;
  const auto& mine = pdu.partner;
  if (mine.port != p.cfg.port_number || mine.port_priority != p.cfg.port_priority ||
      mine.system != cfg_.system || mine.system_priority != cfg_.system_priority ||
      mine.key != p.actor_oper_key ||
      ((mine.state.bits ^ p.actor_state.bits) & compared) != 0) {
    p.ntt = true;
  }
}

// ---------------------------------------------------------------------------------------
// Periodic Transmission machine, 802.1AX-2014 6.4.13.

void engine::set_periodic(port_index i, periodic_state s) {
  auto& p = ports_[i];
  log_change(i, "periodic", to_string(p.periodic), to_string(s));
  p.periodic = s;
  switch (s) {
    case periodic_state::no_periodic: p.periodic_timer.stop(); break;
    case periodic_state::fast_periodic:
      p.periodic_timer.start(now_, cfg_.timers.fast_periodic);
      break;
    case periodic_state::slow_periodic:
      p.periodic_timer.start(now_, cfg_.timers.slow_periodic);
      break;
    case periodic_state::periodic_tx: p.ntt = true; break;
  }
}

bool engine::step_periodic(port_index i) {
  auto& p = ports_[i];
  const bool partner_short = p.partner.state.short_timeout();
  // Global: !LACP_Enabled || !port_enabled || (both PASSIVE) -> NO_PERIODIC.
  if (!p.lacp_enabled || !p.port_enabled ||
      (!p.actor_state.activity() && !p.partner.state.activity())) {
    if (p.periodic == periodic_state::no_periodic) return false;
    set_periodic(i, periodic_state::no_periodic);
    return true;
  }
  switch (p.periodic) {
    case periodic_state::no_periodic:
      set_periodic(i, periodic_state::fast_periodic);  // UCT
      return true;
    case periodic_state::fast_periodic:
      if (p.periodic_timer.expired) {
        set_periodic(i, periodic_state::periodic_tx);
        return true;
      }
      if (!partner_short) {
        set_periodic(i, periodic_state::slow_periodic);
        return true;
      }
      return false;
    case periodic_state::slow_periodic:
      if (p.periodic_timer.expired || partner_short) {
        set_periodic(i, periodic_state::periodic_tx);
        return true;
      }
      return false;
    case periodic_state::periodic_tx:
      set_periodic(i, partner_short ? periodic_state::fast_periodic
                                    : periodic_state::slow_periodic);
      return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// Selection Logic, 802.1AX-2014 6.4.14.

// A port is Individual if either end says so (6.3.6, 6.4.14.1).
bool engine::individual(const detail::port_vars& p) const noexcept {
  return !p.actor_state.aggregation() || !p.partner.state.aggregation();
}

// Same LAG ID (6.3.6): actor key, partner system priority, system and key. Both
// aggregatable; the actor system is common to all ports of this engine.
bool engine::same_lag(const detail::port_vars& a, const detail::port_vars& b) const noexcept {
  return !individual(a) && !individual(b) && a.actor_oper_key == b.actor_oper_key &&
         a.partner.system_priority == b.partner.system_priority &&
         a.partner.system == b.partner.system && a.partner.key == b.partner.key;
}

bool engine::selection_logic() {
  bool changed = false;
  for (port_index i = 0; i < ports_.size(); ++i) {
    auto& p = ports_[i];
    // Reselect only once detached (6.4.14.1); vnetsim: only ports with carrier.
    if (p.selected != selected_state::unselected || p.mux != mux_state::detached ||
        !p.port_enabled) {
      continue;
    }
    aggregator_id chosen = no_aggregator;
    // 1. An aggregator already carrying this port's LAG.
    if (!individual(p)) {
      for (port_index j = 0; j < ports_.size() && chosen == no_aggregator; ++j) {
        const auto& q = ports_[j];
        if (j != i && q.selected == selected_state::selected && q.selected_agg != no_aggregator &&
            same_lag(p, q)) {
          chosen = q.selected_agg;
        }
      }
    }
    // 2. The port's own aggregator if free, else the lowest free one (one exists:
    // there are as many aggregators as ports and this port uses none).
    const auto in_use = [this](aggregator_id a) {
      return std::any_of(ports_.begin(), ports_.end(),
                         [a](const detail::port_vars& q) { return q.selected_agg == a; });
    };
    if (chosen == no_aggregator) {
      const auto own = static_cast<aggregator_id>(i + 1);
      if (!in_use(own)) {
        chosen = own;
      } else {
        for (std::size_t a = 1; a <= ports_.size(); ++a) {
          if (!in_use(static_cast<aggregator_id>(a))) {
            chosen = static_cast<aggregator_id>(a);
            break;
          }
        }
      }
    }
    p.selected = selected_state::selected;
    p.selected_agg = chosen;
    out_->log(now_, fmt::format("port {} selection: aggregator {}{} (partner {} key {})", i,
                                chosen, individual(p) ? " individual" : "", p.partner.system,
                                p.partner.key));
    changed = true;
  }
  return changed;
}

// Ready (6.4.8): every port selected to this aggregator and WAITING has seen its
// wait_while timer expire.
bool engine::ready(aggregator_id agg) const noexcept {
  return std::all_of(ports_.begin(), ports_.end(), [agg](const detail::port_vars& q) {
    return q.selected_agg != agg || q.selected != selected_state::selected ||
           q.mux != mux_state::waiting || q.wait_while.expired;
  });
}

// ---------------------------------------------------------------------------------------
// Mux machine, coupled control, 802.1AX-2014 6.4.15.

void engine::attach_mux_to_aggregator(port_index i) {
  auto& e = table_[i];
  const auto agg = ports_[i].selected_agg;
  if (e.aggregator == agg) return;
  const auto from = e.aggregator;
  e.aggregator = agg;
  out_->aggregator_changed(now_, i, from, agg);
}

void engine::detach_mux_from_aggregator(port_index i) {
  auto& e = table_[i];
  if (e.aggregator == no_aggregator) return;
  const auto from = e.aggregator;
  e.aggregator = no_aggregator;
  out_->aggregator_changed(now_, i, from, no_aggregator);
}

// Enable_/Disable_Collecting_Distributing (6.4.11), and the actor's state bits.
void engine::set_collecting_distributing(port_index i, bool on) {
  auto& p = ports_[i];
  p.actor_state.set(bit::collecting, on);
  p.actor_state.set(bit::distributing, on);
  auto& e = table_[i];
  if (e.collecting == on && e.distributing == on) return;
  e.collecting = on;
  e.distributing = on;
  out_->port_changed(now_, i, e);
}

void engine::set_mux(port_index i, mux_state s) {
  auto& p = ports_[i];
  log_change(i, "mux", to_string(p.mux), to_string(s));
  p.mux = s;
  switch (s) {
    case mux_state::detached:
      detach_mux_from_aggregator(i);
      p.actor_state.set(bit::synchronization, false);
      set_collecting_distributing(i, false);
      p.wait_while.stop();
      p.selected_agg = p.selected == selected_state::selected ? p.selected_agg : no_aggregator;
      p.ntt = true;
      break;
    case mux_state::waiting:
      p.wait_while.start(now_, cfg_.timers.aggregate_wait);
      break;
    case mux_state::attached:
      p.wait_while.stop();
      attach_mux_to_aggregator(i);
      p.actor_state.set(bit::synchronization, true);
      set_collecting_distributing(i, false);
      p.ntt = true;
      break;
    case mux_state::collecting_distributing:
      set_collecting_distributing(i, true);
      p.ntt = true;
      break;
  }
}

bool engine::step_mux(port_index i) {
  auto& p = ports_[i];
  const bool sel = p.selected == selected_state::selected;
  const bool partner_sync = p.partner.state.synchronization();
  switch (p.mux) {
    case mux_state::detached:
      if (sel) {
        set_mux(i, mux_state::waiting);
        return true;
      }
      return false;
    case mux_state::waiting:
      if (!sel) {
        set_mux(i, mux_state::detached);
        return true;
      }
      if (ready(p.selected_agg)) {
        set_mux(i, mux_state::attached);
        return true;
      }
      return false;
    case mux_state::attached:
      if (!sel) {
        set_mux(i, mux_state::detached);
        return true;
      }
      if (partner_sync) {
        set_mux(i, mux_state::collecting_distributing);
        return true;
      }
      return false;
    case mux_state::collecting_distributing:
      if (!sel || !partner_sync) {
        set_mux(i, mux_state::attached);
        return true;
      }
      return false;
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// Churn Detection machines, 802.1AX-2014 6.4.17.

void engine::set_actor_churn(port_index i, actor_churn_state s) {
  auto& p = ports_[i];
  if (p.achurn != s) log_change(i, "actor churn", to_string(p.achurn), to_string(s));
  p.achurn = s;
  switch (s) {
    case actor_churn_state::actor_churn_monitor:
      p.actor_churn = false;
      // The global "!port_enabled" transition holds the machine here, timer not running.
      if (p.port_enabled) p.actor_churn_timer.start(now_, cfg_.timers.churn_detection);
      else p.actor_churn_timer.stop();
      break;
    case actor_churn_state::no_actor_churn:
      p.actor_churn = false;
      p.actor_churn_timer.stop();
      break;
    case actor_churn_state::actor_churn:
      p.actor_churn = true;
      ++p.counters.dot3adAggPortDebugActorChurnCount;
      break;
  }
}

void engine::set_partner_churn(port_index i, partner_churn_state s) {
  auto& p = ports_[i];
  if (p.pchurn != s) log_change(i, "partner churn", to_string(p.pchurn), to_string(s));
  p.pchurn = s;
  switch (s) {
    case partner_churn_state::partner_churn_monitor:
      p.partner_churn = false;
      if (p.port_enabled) p.partner_churn_timer.start(now_, cfg_.timers.churn_detection);
      else p.partner_churn_timer.stop();
      break;
    case partner_churn_state::no_partner_churn:
      p.partner_churn = false;
      p.partner_churn_timer.stop();
      break;
    case partner_churn_state::partner_churn:
      p.partner_churn = true;
      ++p.counters.dot3adAggPortDebugPartnerChurnCount;
      break;
  }
}

bool engine::step_churn(port_index i) {
  auto& p = ports_[i];
  bool changed = false;
  const bool actor_sync = p.actor_state.synchronization();
  const bool partner_sync = p.partner.state.synchronization();
  if (!p.port_enabled) {
    // Global: BEGIN || !port_enabled -> *_CHURN_MONITOR, re-entered while it holds, so
    // the timers do not run without carrier.
    if (p.achurn != actor_churn_state::actor_churn_monitor) {
      set_actor_churn(i, actor_churn_state::actor_churn_monitor);
      changed = true;
    }
    if (p.pchurn != partner_churn_state::partner_churn_monitor) {
      set_partner_churn(i, partner_churn_state::partner_churn_monitor);
      changed = true;
    }
    p.actor_churn_timer.stop();
    p.partner_churn_timer.stop();
    return changed;
  }
  // Carrier came back while held in the monitor state: the timer starts now.
  if (p.achurn == actor_churn_state::actor_churn_monitor && !p.actor_churn_timer.deadline &&
      !p.actor_churn_timer.expired) {
    p.actor_churn_timer.start(now_, cfg_.timers.churn_detection);
  }
  if (p.pchurn == partner_churn_state::partner_churn_monitor &&
      !p.partner_churn_timer.deadline && !p.partner_churn_timer.expired) {
    p.partner_churn_timer.start(now_, cfg_.timers.churn_detection);
  }
  switch (p.achurn) {
    case actor_churn_state::actor_churn_monitor:
      if (actor_sync) {
        set_actor_churn(i, actor_churn_state::no_actor_churn);
        changed = true;
      } else if (p.actor_churn_timer.expired) {
        set_actor_churn(i, actor_churn_state::actor_churn);
        changed = true;
      }
      break;
    case actor_churn_state::no_actor_churn:
      if (!actor_sync) {
        set_actor_churn(i, actor_churn_state::actor_churn_monitor);
        changed = true;
      }
      break;
    case actor_churn_state::actor_churn:
      if (actor_sync) {
        set_actor_churn(i, actor_churn_state::no_actor_churn);
        changed = true;
      }
      break;
  }
  switch (p.pchurn) {
    case partner_churn_state::partner_churn_monitor:
      if (partner_sync) {
        set_partner_churn(i, partner_churn_state::no_partner_churn);
        changed = true;
      } else if (p.partner_churn_timer.expired) {
        set_partner_churn(i, partner_churn_state::partner_churn);
        changed = true;
      }
      break;
    case partner_churn_state::no_partner_churn:
      if (!partner_sync) {
        set_partner_churn(i, partner_churn_state::partner_churn_monitor);
        changed = true;
      }
      break;
    case partner_churn_state::partner_churn:
      if (partner_sync) {
        set_partner_churn(i, partner_churn_state::no_partner_churn);
        changed = true;
      }
      break;
  }
  return changed;
}

// ---------------------------------------------------------------------------------------
// Transmit machine, 802.1AX-2014 6.4.16: a LACPDU when NTT is set, the port operable and
// the Periodic machine not in NO_PERIODIC, at most tx_limit per fast_periodic interval;
// a held NTT is served as soon as the limit allows.

bool engine::tx_allowed(const detail::port_vars& p) const noexcept {
  if (p.tx_count < p.tx_times.size()) return true;
  return now_ >= p.tx_times[p.tx_next] + cfg_.timers.fast_periodic;  // oldest of the ring
}

std::optional<sim_time> engine::tx_release_time(const detail::port_vars& p) const noexcept {
  if (!p.ntt || !p.port_enabled || !p.lacp_enabled || p.periodic == periodic_state::no_periodic ||
      p.tx_count < p.tx_times.size()) {
    return std::nullopt;
  }
  const auto release = p.tx_times[p.tx_next] + cfg_.timers.fast_periodic;
  if (release <= now_) return std::nullopt;  // sent at the next call anyway
  return release;
}

wire::lacp_repr engine::make_pdu(const detail::port_vars& p) const noexcept {
  wire::lacp_repr pdu;
  pdu.actor = {cfg_.system_priority, cfg_.system, p.actor_oper_key, p.cfg.port_priority,
               p.cfg.port_number, p.actor_state};
  pdu.partner = p.partner;
  pdu.collector_max_delay = cfg_.collector_max_delay;
  return pdu;
}

void engine::transmit_machine(port_index i) {
  auto& p = ports_[i];
  if (!p.ntt || !p.port_enabled || !p.lacp_enabled || p.periodic == periodic_state::no_periodic) {
    return;
  }
  if (!tx_allowed(p)) return;  // held; tx_release_time() reports when
  const auto pdu = make_pdu(p);
  p.ntt = false;
  p.tx_times[p.tx_next] = now_;
  p.tx_next = (p.tx_next + 1) % p.tx_times.size();
  if (p.tx_count < p.tx_times.size()) ++p.tx_count;
  ++p.counters.dot3adAggPortStatsLACPDUsTx;
  out_->transmit(now_, i, pdu);
}

// ---------------------------------------------------------------------------------------

port_status engine::status(port_index port) const {
  const auto& p = port_at(port);
  port_status s;
  s.rx = p.rx;
  s.periodic = p.periodic;
  s.mux = p.mux;
  s.actor_churn = p.achurn;
  s.partner_churn = p.pchurn;
  s.selected = p.selected;
  s.selected_aggregator = p.selected_agg;
  s.port_enabled = p.port_enabled;
  s.lacp_enabled = p.lacp_enabled;
  s.ntt = p.ntt;
  s.actor_churn_flag = p.actor_churn;
  s.partner_churn_flag = p.partner_churn;
  s.actor = make_pdu(p).actor;
  s.partner = p.partner;
  return s;
}

std::vector<port_index> engine::members(aggregator_id agg) const {
  std::vector<port_index> out;
  for (port_index i = 0; i < table_.size(); ++i) {
    if (agg != no_aggregator && table_[i].aggregator == agg) out.push_back(i);
  }
  return out;
}

}  // namespace vnetsim::lacp
