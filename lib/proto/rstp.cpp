#include "vnetsim/proto/rstp.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include <fmt/format.h>

namespace vnetsim::rstp {

using detail::bdm;
using detail::info_is;
using detail::pim;
using detail::ppm;
using detail::prt;
using detail::prx;
using detail::ptx;
using detail::rcvd_info;
using detail::tcm;
using wire::bpdu_flag::agreement;

std::string_view to_string(port_state s) noexcept {
  switch (s) {
    case port_state::discarding: return "Discarding";
    case port_state::learning: return "Learning";
    case port_state::forwarding: return "Forwarding";
  }
  return "?";
}

std::string_view to_string(flush_reason r) noexcept {
  switch (r) {
    case flush_reason::port_inactive: return "port inactive";
    case flush_reason::topology_change: return "topology change";
  }
  return "?";
}

std::uint32_t default_path_cost(std::uint64_t speed_bps) noexcept {
  return proto::long_path_cost(speed_bps);  // 802.1D-2004 Table 17-3
}

namespace {

bool whole_bpdu_units(sim_time t) noexcept {
  return t.ns() % wire::bpdu_time_unit_ns == 0;
}

void check_range(const char* name, sim_time v, sim_time lo, sim_time hi, const char* clause) {
  if (v < lo || v > hi)
    throw config_error(name, v.to_string(),
                       fmt::format("must be within [{}, {}] ({})", lo, hi, clause));
  if (!whole_bpdu_units(v))
    throw config_error(name, v.to_string(),
                       "must be a whole number of 1/256 s, the BPDU time unit (802.1D-2004 9.2.8)");
}

void validate_port(const port_config& pc, std::size_t index) {
  if (pc.priority % 16 != 0)
    throw config_error(fmt::format("port {} priority", index), std::to_string(pc.priority),
                       "must be a multiple of 16 in 0-240 (802.1D-2004 17.13.10, Table 17-2)");
  if (pc.path_cost < min_path_cost || pc.path_cost > max_path_cost)
    throw config_error(fmt::format("port {} path_cost", index), std::to_string(pc.path_cost),
                       "must be within 1-200000000 (802.1D-2004 17.13.11, Table 17-3)");
}

void validate_bridge_priority(std::uint16_t priority) {
  if (priority % 4096 != 0)
    throw config_error("bridge priority", std::to_string(priority),
                       "must be a multiple of 4096 in 0-61440 (802.1D-2004 17.13.7, Table 17-2)");
}

void validate_hold_count(unsigned n) {
  if (n < min_transmit_hold_count || n > max_transmit_hold_count)
    throw config_error("transmit_hold_count", std::to_string(n),
                       "must be within 1-10 (802.1D-2004 17.13.12, Table 17-1)");
}

/// Rounds to the nearest whole second, halves up (17.21.23, 17.21.25 c).
sim_time round_to_second(sim_time t) noexcept {
  const auto s = sim_time::from_s(1);
  return sim_time::from_s((t + s / 2) / s);
}

times times_of(const wire::bpdu_repr& b) noexcept {
  return {sim_time::from_ns(wire::bpdu_time_to_ns(b.message_age)),
          sim_time::from_ns(wire::bpdu_time_to_ns(b.max_age)),
          sim_time::from_ns(wire::bpdu_time_to_ns(b.hello_time)),
          sim_time::from_ns(wire::bpdu_time_to_ns(b.forward_delay))};
}

bool is_root_or_designated(port_role r) noexcept {
  return r == port_role::root || r == port_role::designated;
}

}  // namespace

void validate_times(sim_time hello_time, sim_time max_age, sim_time forward_delay) {
  check_range("hello_time", hello_time, min_hello_time, max_hello_time, "802.1D-2004 Table 17-1");
  check_range("max_age", max_age, min_max_age, max_max_age, "802.1D-2004 Table 17-1");
  check_range("forward_delay", forward_delay, min_forward_delay, max_forward_delay,
              "802.1D-2004 Table 17-1");
  const auto one = sim_time::from_s(1);
  if (2 * (forward_delay - one) < max_age)
    throw config_error(
        "max_age", max_age.to_string(),
        fmt::format("must not exceed 2 x (forward_delay - 1 s) = {} with forward_delay {} "
                    "(802.1D-2004 17.14)",
                    2 * (forward_delay - one), forward_delay));
  if (max_age < 2 * (hello_time + one))
    throw config_error("max_age", max_age.to_string(),
                       fmt::format("must be at least 2 x (hello_time + 1 s) = {} with hello_time "
                                   "{} (802.1D-2004 17.14)",
                                   2 * (hello_time + one), hello_time));
}

// --- construction and BEGIN ----------------------------------------------------------------

engine::engine(const bridge_config& cfg, std::span<const port_config> ports) : cfg_(cfg) {
  validate_bridge_priority(cfg.priority);
  validate_times(cfg.hello_time, cfg.max_age, cfg.forward_delay);
  if (cfg.migrate_time <= sim_time::zero())
    throw config_error("migrate_time", cfg.migrate_time.to_string(),
                       "must be positive (802.1D-2004 17.13.9: 3 s)");
  validate_hold_count(cfg.transmit_hold_count);
  if (cfg.force_protocol_version != force_version_stp &&
      cfg.force_protocol_version != force_version_rstp)
    throw config_error("force_protocol_version", std::to_string(cfg.force_protocol_version),
                       "must be 0 (STP) or 2 (RSTP) (802.1D-2004 17.13.4)");
  if (ports.empty() || ports.size() > 4095)
    throw config_error("port count", std::to_string(ports.size()),
                       "must be within 1-4095 (802.1D-2004 9.2.7, 12-bit port number)");
  for (std::size_t i = 0; i < ports.size(); ++i) validate_port(ports[i], i);

  bridge_id_ = wire::bridge_id::make(cfg.priority, 0, cfg.address);
  bridge_priority_ = {bridge_id_, 0, bridge_id_, wire::port_id{0}, wire::port_id{0}};
  bridge_times_ = {sim_time::zero(), cfg.max_age, cfg.hello_time, cfg.forward_delay};
  root_priority_ = bridge_priority_;
  root_times_ = bridge_times_;

  ports_.resize(ports.size());
  status_.resize(ports.size());
  now_ = sim_time::zero();
  last_run_ = sim_time::zero();
  for (std::size_t i = 0; i < ports.size(); ++i) {
    port_vars& pt = ports_[i];
    pt.cfg = ports[i];
    pt.port_id = wire::port_id::make(ports[i].priority, static_cast<std::uint16_t>(i + 1));
    pt.port_priority = bridge_priority_;
    pt.designated_priority = bridge_priority_;
    pt.port_times = bridge_times_;
    pt.designated_times = bridge_times_;
    // BEGIN (17.23-17.31 initial states), with no output.
    pt.rcvd_bpdu = pt.rcvd_rstp = pt.rcvd_stp = false;                // Port Receive DISCARD
    pt.rcvd_msg = false;
    start(pt.edge_delay_while, cfg_.migrate_time);
    pt.mcheck = false;                                                // CHECKING_RSTP
    pt.send_rstp = rstp_version();
    start(pt.mdelay_while, cfg_.migrate_time);
    pt.bdm_state = pt.cfg.admin_edge ? bdm::edge : bdm::not_edge;     // Bridge Detection
    pt.oper_edge = pt.cfg.admin_edge;
    pt.new_info = true;                                               // TRANSMIT_INIT
    pt.tx_count = 0;
    pt.proposing = pt.proposed = pt.agree = pt.agreed = false;       // Port Information DISABLED
    pt.info = info_is::disabled;
    pt.reselect = true;
    pt.selected = false;
    pt.role = port_role::disabled;                                    // INIT_PORT
    pt.learn = pt.forward = pt.synced = false;
    pt.sync = pt.re_root = true;
    start(pt.rr_while, fwd_delay(pt));
    start(pt.fd_while, max_age(pt));
    pt.rb_while = now_;
    pt.tc_ack = false;                                                // Topology Change INACTIVE
    pt.tc_while = now_;
    pt.fdb_flush = false;
    status_[i] = {port_role::disabled, port_state::discarding, pt.oper_edge, pt.send_rstp, false};
  }
  updt_role_disabled_tree();  // Port Role Selection INIT_BRIDGE
}

engine::port_vars& engine::port_at(port_index p) {
  if (p >= ports_.size())
    throw std::out_of_range(fmt::format("rstp: port {} out of range ({} ports)", p, ports_.size()));
  return ports_[p];
}

void engine::log(std::string_view line) const {
  if (out_ != nullptr)
    out_->log(now_, fmt::format("rstp {}: {}", bridge_id_.to_string(), line));
}

// --- external events -----------------------------------------------------------------------

void engine::on_pdu(port_index p, const wire::bpdu_repr& bpdu, sim_time now, sink& out) {
  port_vars& pt = port_at(p);
  switch (bpdu.type) {
    case wire::bpdu_type::rst: ++pt.counters.rst_rx; break;
    case wire::bpdu_type::config: ++pt.counters.config_rx; break;
    case wire::bpdu_type::tcn: ++pt.counters.tcn_rx; break;
  }
  bool ignore = !pt.port_enabled;
  if (bpdu.type == wire::bpdu_type::config) {
    // 802.1D-2004 9.3.4 a): Message Age must be below Max Age, and a Configuration BPDU
    // carrying this very port's identifiers is our own, looped back.
    if (!bpdu.message_age_valid()) ignore = true;
    if (bpdu.bridge == bridge_id_ && bpdu.port == pt.port_id) ignore = true;
  }
  if (ignore) {
    ++pt.counters.rx_ignored;
    return;
  }
  pt.rx = bpdu;
  pt.rcvd_bpdu = true;  // rcvdBpdu, 17.19.24
  run(now, out);
}

void engine::on_timer(sim_time now, sink& out) { run(now, out); }

void engine::set_port_enabled(port_index p, bool up, sim_time now, sink& out) {
  port_vars& pt = port_at(p);
  if (pt.port_enabled == up) return;
  out_ = &out;
  now_ = now;
  log(fmt::format("port {} {}", p, up ? "enabled" : "disabled"));
  hold_timers();  // the held timers run up to this instant, then are released
  pt.port_enabled = up;
  run(now, out);
}

void engine::set_point_to_point(port_index p, bool p2p) { port_at(p).cfg.point_to_point = p2p; }

void engine::mcheck(port_index p, sim_time now, sink& out) {
  port_at(p).mcheck = true;
  run(now, out);
}

void engine::set_bridge_priority(std::uint16_t priority, sim_time now, sink& out) {
  validate_bridge_priority(priority);
  cfg_.priority = priority;
  bridge_id_ = wire::bridge_id::make(priority, 0, cfg_.address);
  bridge_priority_.root = bridge_priority_.designated_bridge = bridge_id_;
  // 17.13.7: reselect on every port.
  for (port_vars& pt : ports_) {
    pt.reselect = true;
    pt.selected = false;
  }
  run(now, out);
}

void engine::set_port_priority(port_index p, std::uint8_t priority, sim_time now, sink& out) {
  port_vars& pt = port_at(p);
  port_config pc = pt.cfg;
  pc.priority = priority;
  validate_port(pc, p);
  pt.cfg = pc;
  pt.port_id = wire::port_id::make(priority, static_cast<std::uint16_t>(p + 1));
  // 17.13.10: the new portId changes designatedPriority; reselect.
  pt.reselect = true;
  pt.selected = false;
  run(now, out);
}

void engine::set_path_cost(port_index p, std::uint32_t cost, sim_time now, sink& out) {
  port_vars& pt = port_at(p);
  port_config pc = pt.cfg;
  pc.path_cost = cost;
  validate_port(pc, p);
  pt.cfg = pc;
  pt.reselect = true;  // 17.13.11
  pt.selected = false;
  run(now, out);
}

void engine::set_bridge_times(sim_time hello, sim_time max_age_value, sim_time forward_delay_value,
                              sim_time now, sink& out) {
  validate_times(hello, max_age_value, forward_delay_value);
  cfg_.hello_time = hello;
  cfg_.max_age = max_age_value;
  cfg_.forward_delay = forward_delay_value;
  bridge_times_ = {sim_time::zero(), max_age_value, hello, forward_delay_value};
  for (port_vars& pt : ports_) {
    pt.reselect = true;
    pt.selected = false;
  }
  run(now, out);
}

void engine::set_transmit_hold_count(unsigned count) {
  validate_hold_count(count);
  cfg_.transmit_hold_count = count;
}

void engine::set_admin_edge(port_index p, bool edge) { port_at(p).cfg.admin_edge = edge; }
void engine::set_auto_edge(port_index p, bool auto_edge) { port_at(p).cfg.auto_edge = auto_edge; }

bool engine::topology_change(sim_time now) const noexcept {
  return std::any_of(ports_.begin(), ports_.end(),
                     [now](const port_vars& pt) { return pt.tc_while > now; });
}

// --- the runner ----------------------------------------------------------------------------

/// Timers the standard holds at a value while a state lasts (the re-entry transitions
/// "rrWhile != FwdDelay" and the like) are pinned to now + value before anything else runs,
/// which is the continuous-time reading of those self-loops.
void engine::hold_timers() {
  for (port_vars& pt : ports_) {
    switch (pt.prt_state) {
      case prt::root_port: start(pt.rr_while, fwd_delay(pt)); break;
      case prt::alternate_port:
        start(pt.fd_while, forward_delay(pt));
        if (pt.role == port_role::backup) start(pt.rb_while, 2 * hello_time(pt));
        break;
      case prt::disabled_port: start(pt.fd_while, max_age(pt)); break;
      default: break;
    }
    if (!pt.port_enabled) {
      if (pt.ppm_state == ppm::checking_rstp) start(pt.mdelay_while, cfg_.migrate_time);
      if (pt.prx_state == prx::discard) start(pt.edge_delay_while, cfg_.migrate_time);
    }
  }
}

void engine::run(sim_time now, sink& out) {
  out_ = &out;
  now_ = std::max(now, last_run_);
  hold_timers();
  // txCount decrements (Port Timers, 17.22), one per elapsed second.
  for (port_vars& pt : ports_) {
    while (pt.tx_count > 0 && pt.tx_decrement_at <= now_) {
      --pt.tx_count;
      pt.tx_decrement_at += sim_time::from_s(1);
    }
  }
  // All machines run to quiescence, then Port Transmit, so that one BPDU carries the
  // settled information; repeat while transmit changes anything.
  constexpr int max_rounds = 10'000;
  int rounds = 0;
  for (bool changed = true; changed;) {
    changed = false;
    bool inner = true;
    while (inner) {
      inner = false;
      if (++rounds > max_rounds) {
        log("state machines did not settle; stopping this run");
        changed = false;
        break;
      }
      inner |= port_role_selection();
      for (port_index p = 0; p < ports_.size(); ++p) {
        inner |= port_receive(p);
        inner |= port_protocol_migration(p);
        inner |= bridge_detection(p);
        inner |= port_information(p);
        inner |= port_role_transitions(p);
        inner |= port_state_transition(p);
        inner |= topology_change_machine(p);
      }
      changed |= inner;
    }
    bool tx = false;
    for (port_index p = 0; p < ports_.size(); ++p) tx |= port_transmit(p);
    changed = tx;
  }
  for (port_index p = 0; p < ports_.size(); ++p) {
    port_vars& pt = ports_[p];
    port_status& st = status_[p];
    if (st.oper_edge != pt.oper_edge) {
      st.oper_edge = pt.oper_edge;
      log(fmt::format("port {} operEdge {}", p, pt.oper_edge));
      out.edge_changed(p, pt.oper_edge, now_);
    }
    if (st.send_rstp != pt.send_rstp) {
      st.send_rstp = pt.send_rstp;
      log(fmt::format("port {} sends {} BPDUs", p, pt.send_rstp ? "RST" : "802.1D"));
    }
    st.enabled = pt.port_enabled;
  }
  last_run_ = now_;
  out_ = nullptr;
}

std::optional<sim_time> engine::next_deadline() const noexcept {
  std::optional<sim_time> best;
  const auto consider = [&](sim_time t) {
    if (t > last_run_ && (!best || t < *best)) best = t;
  };
  for (const port_vars& pt : ports_) {
    if (pt.tx_count > 0) consider(pt.tx_decrement_at);
    if (!pt.port_enabled) continue;
    consider(pt.hello_when);
    consider(pt.tc_while);
    consider(pt.mdelay_while);
    consider(pt.edge_delay_while);
    if (pt.info == info_is::received) consider(pt.rcvd_info_while);
    // Held timers (see hold_timers) matter only once their state is left.
    if (pt.prt_state != prt::root_port) consider(pt.rr_while);
    if (pt.prt_state != prt::alternate_port && pt.prt_state != prt::disabled_port)
      consider(pt.fd_while);
    if (pt.prt_state != prt::alternate_port || pt.role != port_role::backup)
      consider(pt.rb_while);
  }
  return best;
}

// --- 17.23 Port Receive ------------------------------------------------------------------

bool engine::port_receive(port_index p) {
  port_vars& pt = ports_[p];
  // Global: BEGIN || ((rcvdBpdu || (edgeDelayWhile != MigrateTime)) && !portEnabled).
  if ((pt.rcvd_bpdu || remaining(pt.edge_delay_while) != cfg_.migrate_time) && !pt.port_enabled) {
    pt.prx_state = prx::discard;  // DISCARD
    pt.rcvd_bpdu = pt.rcvd_rstp = pt.rcvd_stp = false;
    pt.rcvd_msg = false;  // clearAllRcvdMsgs()
    start(pt.edge_delay_while, cfg_.migrate_time);
    return true;
  }
  if (pt.rcvd_bpdu && pt.port_enabled && !pt.rcvd_msg) {
    pt.prx_state = prx::receive;  // RECEIVE
    updt_bpdu_version(pt);
    if (pt.oper_edge) log(fmt::format("port {} received a BPDU: no longer an edge port", p));
    pt.oper_edge = pt.rcvd_bpdu = false;
    pt.rcvd_msg = true;
    start(pt.edge_delay_while, cfg_.migrate_time);
    return true;
  }
  return false;
}

void engine::updt_bpdu_version(port_vars& pt) noexcept {
  // 17.21.22: RST BPDUs set rcvdRSTP; Configuration and TCN BPDUs set rcvdSTP.
  if (pt.rx.type == wire::bpdu_type::rst) pt.rcvd_rstp = true;
  else pt.rcvd_stp = true;
}

// --- 17.24 Port Protocol Migration ---------------------------------------------------------

bool engine::port_protocol_migration(port_index p) {
  port_vars& pt = ports_[p];
  const auto enter_checking = [&] {
    pt.ppm_state = ppm::checking_rstp;
    pt.mcheck = false;
    pt.send_rstp = rstp_version();
    start(pt.mdelay_while, cfg_.migrate_time);
  };
  const auto enter_sensing = [&] {
    pt.ppm_state = ppm::sensing;
    pt.rcvd_rstp = pt.rcvd_stp = false;
  };
  switch (pt.ppm_state) {
    case ppm::checking_rstp:
      if (remaining(pt.mdelay_while) != cfg_.migrate_time && !pt.port_enabled) {
        enter_checking();
        return true;
      }
      if (zero(pt.mdelay_while)) {
        enter_sensing();
        return true;
      }
      return false;
    case ppm::selecting_stp:
      if (zero(pt.mdelay_while) || !pt.port_enabled || pt.mcheck) {
        enter_sensing();
        return true;
      }
      return false;
    case ppm::sensing:
      if (!pt.port_enabled || pt.mcheck || (rstp_version() && !pt.send_rstp && pt.rcvd_rstp)) {
        if (!pt.send_rstp && pt.port_enabled) log(fmt::format("port {} checking for RSTP", p));
        enter_checking();
        return true;
      }
      if (pt.send_rstp && pt.rcvd_stp) {
        pt.ppm_state = ppm::selecting_stp;  // SELECTING_STP
        pt.send_rstp = false;
        start(pt.mdelay_while, cfg_.migrate_time);
        log(fmt::format("port {} received an 802.1D BPDU: STP compatibility", p));
        return true;
      }
      return false;
  }
  return false;
}

// --- 17.25 Bridge Detection ----------------------------------------------------------------

bool engine::bridge_detection(port_index p) {
  port_vars& pt = ports_[p];
  switch (pt.bdm_state) {
    case bdm::edge:
      if ((!pt.port_enabled && !pt.cfg.admin_edge) || !pt.oper_edge) {
        pt.bdm_state = bdm::not_edge;
        pt.oper_edge = false;
        return true;
      }
      return false;
    case bdm::not_edge:
      if ((!pt.port_enabled && pt.cfg.admin_edge) ||
          (zero(pt.edge_delay_while) && pt.cfg.auto_edge && pt.send_rstp && pt.proposing)) {
        pt.bdm_state = bdm::edge;
        pt.oper_edge = true;
        return true;
      }
      return false;
  }
  return false;
}

// --- 17.26 Port Transmit -------------------------------------------------------------------

bool engine::port_transmit(port_index p) {
  port_vars& pt = ports_[p];
  if (!pt.port_enabled) {
    if (pt.ptx_state == ptx::transmit_init) return false;
    pt.ptx_state = ptx::transmit_init;  // TRANSMIT_INIT
    pt.new_info = true;
    pt.tx_count = 0;
    return true;
  }
  const auto enter_idle = [&] {
    pt.ptx_state = ptx::idle;
    start(pt.hello_when, hello_time(pt));
  };
  if (pt.ptx_state == ptx::transmit_init) {
    enter_idle();
    return true;
  }
  if (!pt.selected || pt.updt_info) return false;
  if (zero(pt.hello_when)) {  // TRANSMIT_PERIODIC
    pt.new_info = pt.new_info || (pt.role == port_role::designated ||
                                  (pt.role == port_role::root && !zero(pt.tc_while)));
    enter_idle();
    return true;
  }
  if (!pt.new_info) return false;
  const bool may = pt.tx_count < cfg_.transmit_hold_count;
  bool sent = false;
  if (pt.send_rstp) {
    if (may) {
      tx_rstp(p);  // TRANSMIT_RSTP
      pt.tc_ack = false;
      sent = true;
    }
  } else if (pt.role == port_role::root) {
    if (may) {
      tx_tcn(p);  // TRANSMIT_TCN
      sent = true;
    }
  } else if (pt.role == port_role::designated) {
    if (may) {
      tx_config(p);  // TRANSMIT_CONFIG
      pt.tc_ack = false;
      sent = true;
    }
  } else {
    return false;
  }
  if (!sent) {
    ++pt.counters.tx_held;
    return false;
  }
  pt.new_info = false;
  if (pt.tx_count++ == 0) pt.tx_decrement_at = now_ + sim_time::from_s(1);
  enter_idle();
  return true;
}

namespace {
wire::bpdu_repr designated_bpdu(const priority_vector& pv, const times& t) {
  wire::bpdu_repr b;
  b.root = pv.root;
  b.root_path_cost = pv.root_path_cost;
  b.bridge = pv.designated_bridge;
  b.port = pv.designated_port;
  b.message_age = wire::bpdu_time_from_ns(t.message_age.ns());
  b.max_age = wire::bpdu_time_from_ns(t.max_age.ns());
  b.hello_time = wire::bpdu_time_from_ns(t.hello_time.ns());
  b.forward_delay = wire::bpdu_time_from_ns(t.forward_delay.ns());
  return b;
}
}  // namespace

void engine::tx_rstp(port_index p) {
  // 17.21.20.
  port_vars& pt = ports_[p];
  wire::bpdu_repr b = designated_bpdu(pt.designated_priority, pt.designated_times);
  b.type = wire::bpdu_type::rst;
  b.version = wire::bpdu_version_rstp;
  wire::bpdu_role r = wire::bpdu_role::designated;
  switch (pt.role) {
    case port_role::root: r = wire::bpdu_role::root; break;
    case port_role::alternate:
    case port_role::backup: r = wire::bpdu_role::alternate_backup; break;
    case port_role::designated: r = wire::bpdu_role::designated; break;
    case port_role::disabled: r = wire::bpdu_role::unknown; break;
  }
  b.flags.set_role(r);
  b.flags.set(agreement, pt.agree);
  b.flags.set(wire::bpdu_flag::proposal, pt.proposing);
  b.flags.set(wire::bpdu_flag::topology_change, !zero(pt.tc_while));
  b.flags.set(wire::bpdu_flag::learning, pt.learning);
  b.flags.set(wire::bpdu_flag::forwarding, pt.forwarding);
  ++pt.counters.rst_tx;
  out_->transmit(p, b, now_);
}

void engine::tx_config(port_index p) {
  // 17.21.19.
  port_vars& pt = ports_[p];
  wire::bpdu_repr b = designated_bpdu(pt.designated_priority, pt.designated_times);
  b.type = wire::bpdu_type::config;
  b.version = wire::bpdu_version_stp;
  b.flags.set(wire::bpdu_flag::topology_change, !zero(pt.tc_while));
  b.flags.set(wire::bpdu_flag::topology_change_ack, pt.tc_ack);
  ++pt.counters.config_tx;
  out_->transmit(p, b, now_);
}

void engine::tx_tcn(port_index p) {
  // 17.21.21.
  ++ports_[p].counters.tcn_tx;
  out_->transmit(p, wire::bpdu_repr::tcn(), now_);
}

// --- 17.27 Port Information ----------------------------------------------------------------

bool engine::betterorsame_info(const port_vars& pt, info_is new_info_is) const noexcept {
  // 17.21.1.
  if (new_info_is == info_is::received && pt.info == info_is::received)
    return pt.msg_priority <= pt.port_priority;
  if (new_info_is == info_is::mine && pt.info == info_is::mine)
    return pt.designated_priority <= pt.port_priority;
  return false;
}

rcvd_info engine::rcv_info(port_vars& pt) noexcept {
  // 17.21.8.
  const wire::bpdu_repr& b = pt.rx;
  if (b.type == wire::bpdu_type::tcn) return rcvd_info::other;
  pt.msg_priority = {b.root, b.root_path_cost, b.bridge, b.port, pt.port_id};
  pt.msg_times = times_of(b);
  const bool config = b.type == wire::bpdu_type::config;
  const wire::bpdu_role r = b.flags.role();
  const auto& msg = pt.msg_priority;
  const auto& cur = pt.port_priority;
  if (config || r == wire::bpdu_role::designated) {
    // 17.6: superior if better, or sent by the same Designated Bridge and Port (by address
    // and port number) with different information.
    const bool same_sender = msg.designated_bridge.address == cur.designated_bridge.address &&
                             msg.designated_port.number() == cur.designated_port.number();
    if (msg == cur)
      return pt.msg_times == pt.port_times ? rcvd_info::repeated_designated
                                           : rcvd_info::superior_designated;
    if (msg < cur || same_sender) return rcvd_info::superior_designated;
    return rcvd_info::inferior_designated;
  }
  if ((r == wire::bpdu_role::root || r == wire::bpdu_role::alternate_backup) && !(msg < cur))
    return rcvd_info::inferior_root_alternate;
  return rcvd_info::other;
}

void engine::record_agreement(port_vars& pt) noexcept {
  // 17.21.9.
  if (rstp_version() && pt.cfg.point_to_point && pt.rx.type == wire::bpdu_type::rst &&
      pt.rx.flags.agreement()) {
    pt.agreed = true;
    pt.proposing = false;
  } else {
    pt.agreed = false;
  }
}

void engine::record_dispute(port_vars& pt) noexcept {
  // 17.21.10 as corrected in 802.1Q-2011 13.29.13: an inferior designated RST BPDU with
  // the Learning flag set disputes our designated role.
  if (pt.rx.type == wire::bpdu_type::rst && pt.rx.flags.learning()) {
    pt.disputed = true;
    pt.agreed = false;
  }
}

void engine::record_proposal(port_vars& pt) noexcept {
  // 17.21.11.
  if (pt.rx.type == wire::bpdu_type::rst && pt.rx.flags.role() == wire::bpdu_role::designated &&
      pt.rx.flags.proposal())
    pt.proposed = true;
}

void engine::set_tc_flags(port_vars& pt) noexcept {
  // 17.21.17.
  if (pt.rx.type == wire::bpdu_type::tcn) {
    pt.rcvd_tcn = true;
    return;
  }
  if (pt.rx.flags.tc()) pt.rcvd_tc = true;
  if (pt.rx.type == wire::bpdu_type::config && pt.rx.flags.tca()) pt.rcvd_tc_ack = true;
}

void engine::updt_rcvd_info_while(port_vars& pt) noexcept {
  // 17.21.23: 3 x Hello Time [mstpd], if Message Age + 1 s (rounded) <= Max Age.
  if (round_to_second(pt.port_times.message_age + sim_time::from_s(1)) <= pt.port_times.max_age)
    start(pt.rcvd_info_while, 3 * pt.port_times.hello_time);
  else
    pt.rcvd_info_while = now_;
}

bool engine::port_information(port_index p) {
  port_vars& pt = ports_[p];
  const auto enter_disabled = [&] {
    pt.pim_state = pim::disabled;
    pt.rcvd_msg = false;
    pt.proposing = pt.proposed = pt.agree = pt.agreed = false;
    pt.rcvd_info_while = now_;
    pt.info = info_is::disabled;
    pt.reselect = true;
    pt.selected = false;
  };
  const auto enter_aged = [&] {
    pt.pim_state = pim::aged;
    pt.info = info_is::aged;
    pt.reselect = true;
    pt.selected = false;
  };
  const auto do_update = [&] {  // UPDATE, then CURRENT
    pt.proposing = pt.proposed = false;
    pt.agreed = pt.agreed && betterorsame_info(pt, info_is::mine);
    pt.synced = pt.synced && pt.agreed;
    pt.port_priority = pt.designated_priority;
    pt.port_times = pt.designated_times;
    pt.updt_info = false;
    pt.info = info_is::mine;
    pt.new_info = true;
    pt.pim_state = pim::current;
  };
  if (!pt.port_enabled && pt.info != info_is::disabled) {
    enter_disabled();
    return true;
  }
  switch (pt.pim_state) {
    case pim::disabled:
      if (pt.rcvd_msg) {
        enter_disabled();
        return true;
      }
      if (pt.port_enabled) {
        enter_aged();
        return true;
      }
      return false;
    case pim::aged:
      if (pt.selected && pt.updt_info) {
        do_update();
        return true;
      }
      return false;
    case pim::current:
      if (pt.selected && pt.updt_info) {
        do_update();
        return true;
      }
      if (pt.info == info_is::received && zero(pt.rcvd_info_while) && !pt.updt_info &&
          !pt.rcvd_msg) {
        log(fmt::format("port {} received information aged out", p));
        enter_aged();
        return true;
      }
      if (pt.rcvd_msg && !pt.updt_info) {
        // RECEIVE.
        pt.rcvd = rcv_info(pt);
        if (pt.rx.type == wire::bpdu_type::tcn) set_tc_flags(pt);  // see header
        switch (pt.rcvd) {
          case rcvd_info::superior_designated:
            pt.agreed = pt.proposing = false;
            record_proposal(pt);
            set_tc_flags(pt);
            pt.agree = pt.agree && betterorsame_info(pt, info_is::received);
            pt.port_priority = pt.msg_priority;  // recordPriority()
            pt.port_times = pt.msg_times;        // recordTimes()
            updt_rcvd_info_while(pt);
            pt.info = info_is::received;
            pt.reselect = true;
            pt.selected = false;
            break;
          case rcvd_info::repeated_designated:
            record_proposal(pt);
            set_tc_flags(pt);
            updt_rcvd_info_while(pt);
            break;
          case rcvd_info::inferior_designated:
            record_dispute(pt);
            break;
          case rcvd_info::inferior_root_alternate:  // NOT_DESIGNATED
            record_agreement(pt);
            set_tc_flags(pt);
            break;
          case rcvd_info::other: break;
        }
        pt.rcvd_msg = false;
        return true;  // back to CURRENT
      }
      return false;
  }
  return false;
}

// --- 17.28 Port Role Selection -------------------------------------------------------------

void engine::updt_role_disabled_tree() noexcept {
  for (port_vars& pt : ports_) pt.selected_role = port_role::disabled;
}

void engine::clear_reselect_tree() noexcept {
  for (port_vars& pt : ports_) pt.reselect = false;
}

void engine::set_selected_tree() noexcept {
  if (std::any_of(ports_.begin(), ports_.end(), [](const port_vars& pt) { return pt.reselect; }))
    return;
  for (port_vars& pt : ports_) pt.selected = true;
}

void engine::updt_roles_tree() {
  // 17.21.25 a)-c): the root path priority vector of each port with received information
  // (excluding our own looped-back information) and the best of them.
  priority_vector best = bridge_priority_;
  std::optional<port_index> best_port;
  for (port_index p = 0; p < ports_.size(); ++p) {
    const port_vars& pt = ports_[p];
    if (pt.info != info_is::received) continue;
    if (pt.port_priority.designated_bridge.address == bridge_id_.address) continue;
    priority_vector rpv = pt.port_priority;
    const std::uint64_t cost = std::uint64_t{rpv.root_path_cost} + pt.cfg.path_cost;
    rpv.root_path_cost = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(cost, std::numeric_limits<std::uint32_t>::max()));
    if (rpv < best) {
      best = rpv;
      best_port = p;
    }
  }
  const bool root_changed = best.root != root_priority_.root || best_port != root_port_;
  root_priority_ = best;
  root_port_ = best_port;
  if (best_port) {
    root_times_ = ports_[*best_port].port_times;
    root_times_.message_age = round_to_second(root_times_.message_age + sim_time::from_s(1));
  } else {
    root_times_ = bridge_times_;
  }
  if (root_changed)
    log(best_port ? fmt::format("root {} cost {} via port {}", best.root.to_string(),
                                best.root_path_cost, *best_port)
                  : std::string("this bridge is the root"));
  // d)-f): designated priority and times of each port, and its role.
  for (port_index p = 0; p < ports_.size(); ++p) {
    port_vars& pt = ports_[p];
    pt.designated_priority = {root_priority_.root, root_priority_.root_path_cost, bridge_id_,
                              pt.port_id, pt.port_id};
    pt.designated_times = root_times_;
    switch (pt.info) {
      case info_is::disabled: pt.selected_role = port_role::disabled; break;
      case info_is::aged:
        pt.selected_role = port_role::designated;
        pt.updt_info = true;
        break;
      case info_is::mine:
        pt.selected_role = port_role::designated;
        if (pt.port_priority != pt.designated_priority || pt.port_times != pt.designated_times)
          pt.updt_info = true;
        break;
      case info_is::received:
        if (best_port == p) {
          pt.selected_role = port_role::root;
          pt.updt_info = false;
        } else if (!(pt.designated_priority < pt.port_priority)) {
          pt.selected_role = pt.port_priority.designated_bridge.address == bridge_id_.address
                                 ? port_role::backup
                                 : port_role::alternate;
          pt.updt_info = false;
        } else {
          pt.selected_role = port_role::designated;
          pt.updt_info = true;
        }
        break;
    }
  }
}

bool engine::port_role_selection() {
  if (!prs_initialized_) {
    prs_initialized_ = true;  // INIT_BRIDGE -> ROLE_SELECTION
  } else if (std::none_of(ports_.begin(), ports_.end(),
                          [](const port_vars& pt) { return pt.reselect; })) {
    return false;
  }
  clear_reselect_tree();  // ROLE_SELECTION
  updt_roles_tree();
  set_selected_tree();
  return true;
}

// --- 17.29 Port Role Transitions -----------------------------------------------------------

bool engine::all_synced(port_index p) const noexcept {
  // 17.20.3 as in 802.1Q-2011 13.26.1: every port selected with its selected role and no
  // pending update, and every port other than the Root Port (for a Root, Alternate or
  // Backup Port) or other than this port (for a Designated Port) synced.
  const port_vars& me = ports_[p];
  for (port_index q = 0; q < ports_.size(); ++q) {
    const port_vars& o = ports_[q];
    if (!o.selected || o.role != o.selected_role || o.updt_info) return false;
    const bool excluded = me.role == port_role::designated ? q == p : o.role == port_role::root;
    if (!excluded && !o.synced) return false;
  }
  return true;
}

bool engine::re_rooted(port_index p) const noexcept {
  // 17.20.10.
  for (port_index q = 0; q < ports_.size(); ++q)
    if (q != p && !zero(ports_[q].rr_while)) return false;
  return true;
}

sim_time engine::edge_delay(const port_vars& pt) const noexcept {
  // 17.20.4.
  return pt.cfg.point_to_point ? cfg_.migrate_time : max_age(pt);
}

sim_time engine::forward_delay(const port_vars& pt) const noexcept {
  // 17.20.5.
  return pt.send_rstp ? hello_time(pt) : fwd_delay(pt);
}

void engine::set_sync_tree() noexcept {
  for (port_vars& pt : ports_) pt.sync = true;
}

void engine::set_re_root_tree() noexcept {
  for (port_vars& pt : ports_) pt.re_root = true;
}

void engine::set_role(port_index p, port_role r) {
  port_vars& pt = ports_[p];
  if (pt.role == r) return;
  const port_role from = pt.role;
  pt.role = r;
  status_[p].role = r;
  log(fmt::format("port {} role {}=>{}", p, to_string(from), to_string(r)));
  out_->role_changed(p, from, r, now_);
}

void engine::enter_root_port(port_vars& pt) {
  pt.prt_state = prt::root_port;
  set_role(static_cast<port_index>(&pt - ports_.data()), port_role::root);
  start(pt.rr_while, fwd_delay(pt));
}

void engine::enter_alternate_port(port_vars& pt) {
  pt.prt_state = prt::alternate_port;
  start(pt.fd_while, forward_delay(pt));
  pt.synced = true;
  pt.rr_while = now_;
  pt.sync = pt.re_root = false;
}

void engine::enter_disabled_port(port_vars& pt) {
  pt.prt_state = prt::disabled_port;
  start(pt.fd_while, max_age(pt));
  pt.synced = true;
  pt.rr_while = now_;
  pt.sync = pt.re_root = false;
}

bool engine::port_role_transitions(port_index p) {
  port_vars& pt = ports_[p];
  if (pt.prt_state == prt::init_port) {  // INIT_PORT -> DISABLE_PORT
    pt.prt_state = prt::disable_port;
    set_role(p, pt.selected_role);  // 802.1D-2004: role = selectedRole
    pt.learn = pt.forward = false;
    return true;
  }
  if (!pt.selected || pt.updt_info) return false;  // every transition below is so qualified
  if (pt.role != pt.selected_role) {
    switch (pt.selected_role) {
      case port_role::disabled:  // DISABLE_PORT
        pt.prt_state = prt::disable_port;
        set_role(p, port_role::disabled);  // as mstpd: avoids a stuck DISABLE_PORT
        pt.learn = pt.forward = false;
        break;
      case port_role::root: enter_root_port(pt); break;
      case port_role::designated:  // DESIGNATED_PORT
        pt.prt_state = prt::designated_port;
        set_role(p, port_role::designated);
        break;
      case port_role::alternate:
      case port_role::backup:  // BLOCK_PORT
        pt.prt_state = prt::block_port;
        set_role(p, pt.selected_role);
        pt.learn = pt.forward = false;
        break;
    }
    return true;
  }
  switch (pt.prt_state) {
    case prt::init_port: return false;
    case prt::disable_port:
      if (!pt.learning && !pt.forwarding) {
        enter_disabled_port(pt);
        return true;
      }
      return false;
    case prt::disabled_port:
      if (remaining(pt.fd_while) != max_age(pt) || pt.sync || pt.re_root || !pt.synced) {
        enter_disabled_port(pt);
        return true;
      }
      return false;
    case prt::root_port: {
      if (pt.proposed && !pt.agree) {  // ROOT_PROPOSED
        set_sync_tree();
        pt.proposed = false;
        enter_root_port(pt);
        return true;
      }
      if ((all_synced(p) && !pt.agree) || (pt.proposed && pt.agree)) {  // ROOT_AGREED
        pt.proposed = pt.sync = false;
        pt.agree = true;
        pt.new_info = true;
        enter_root_port(pt);
        return true;
      }
      if ((pt.agreed && !pt.synced) || (pt.sync && pt.synced)) {  // ROOT_SYNCED (802.1Q)
        pt.synced = true;
        pt.sync = false;
        enter_root_port(pt);
        return true;
      }
      if (!pt.forward && !pt.re_root) {  // REROOT
        set_re_root_tree();
        enter_root_port(pt);
        return true;
      }
      if (remaining(pt.rr_while) != fwd_delay(pt)) {
        enter_root_port(pt);
        return true;
      }
      if (pt.re_root && pt.forward) {  // REROOTED
        pt.re_root = false;
        enter_root_port(pt);
        return true;
      }
      const bool go = zero(pt.fd_while) || (re_rooted(p) && zero(pt.rb_while) && rstp_version());
      if (go && !pt.learn) {  // ROOT_LEARN
        start(pt.fd_while, forward_delay(pt));
        pt.learn = true;
        enter_root_port(pt);
        return true;
      }
      if (go && pt.learn && !pt.forward) {  // ROOT_FORWARD
        pt.fd_while = now_;
        pt.forward = true;
        enter_root_port(pt);
        return true;
      }
      return false;
    }
    case prt::designated_port: {
      if (!pt.forward && !pt.agreed && !pt.proposing && !pt.oper_edge) {  // DESIGNATED_PROPOSE
        pt.proposing = true;
        start(pt.edge_delay_while, edge_delay(pt));
        pt.new_info = true;
        return true;
      }
      if ((!pt.learning && !pt.forwarding && !pt.synced) || (pt.agreed && !pt.synced) ||
          (pt.oper_edge && !pt.synced) || (pt.sync && pt.synced)) {  // DESIGNATED_SYNCED
        pt.rr_while = now_;
        pt.synced = true;
        pt.sync = false;
        return true;
      }
      if (zero(pt.rr_while) && pt.re_root) {  // DESIGNATED_RETIRED
        pt.re_root = false;
        return true;
      }
      if (((pt.sync && !pt.synced) || (pt.re_root && !zero(pt.rr_while)) || pt.disputed) &&
          !pt.oper_edge && (pt.learn || pt.forward)) {  // DESIGNATED_DISCARD
        pt.learn = pt.forward = pt.disputed = false;
        start(pt.fd_while, forward_delay(pt));
        return true;
      }
      const bool go = (zero(pt.fd_while) || pt.agreed || pt.oper_edge) &&
                      (zero(pt.rr_while) || !pt.re_root) && !pt.sync;
      if (go && !pt.learn) {  // DESIGNATED_LEARN
        pt.learn = true;
        start(pt.fd_while, forward_delay(pt));
        return true;
      }
      if (go && pt.learn && !pt.forward) {  // DESIGNATED_FORWARD
        pt.forward = true;
        pt.fd_while = now_;
        pt.agreed = pt.send_rstp;  // 802.1Q-2011 13.37.3
        return true;
      }
      return false;
    }
    case prt::block_port:
      if (!pt.learning && !pt.forwarding) {
        enter_alternate_port(pt);
        return true;
      }
      return false;
    case prt::alternate_port:
      if (pt.proposed && !pt.agree) {  // ALTERNATE_PROPOSED
        set_sync_tree();
        pt.proposed = false;
        enter_alternate_port(pt);
        return true;
      }
      if ((all_synced(p) && !pt.agree) || (pt.proposed && pt.agree)) {  // ALTERNATE_AGREED
        pt.proposed = false;
        pt.agree = true;
        pt.new_info = true;
        enter_alternate_port(pt);
        return true;
      }
      if (remaining(pt.fd_while) != forward_delay(pt) || pt.sync || pt.re_root || !pt.synced) {
        enter_alternate_port(pt);
        return true;
      }
      if (pt.role == port_role::backup && remaining(pt.rb_while) != 2 * hello_time(pt)) {
        start(pt.rb_while, 2 * hello_time(pt));  // BACKUP_PORT
        enter_alternate_port(pt);
        return true;
      }
      return false;
  }
  return false;
}

// --- 17.30 Port State Transition -----------------------------------------------------------

void engine::set_state(port_index p, port_state to) {
  port_status& st = status_[p];
  if (st.state == to) return;
  const port_state from = st.state;
  st.state = to;
  if (to == port_state::forwarding) ++ports_[p].counters.forward_transitions;
  log(fmt::format("port {} {}=>{}", p, to_string(from), to_string(to)));
  out_->state_changed(p, from, to, now_);
}

bool engine::port_state_transition(port_index p) {
  port_vars& pt = ports_[p];
  if (!pt.learn && (pt.learning || pt.forwarding)) {  // DISCARDING
    pt.learning = pt.forwarding = false;
    set_state(p, port_state::discarding);
    return true;
  }
  if (pt.learn && !pt.learning) {  // LEARNING
    pt.learning = true;
    set_state(p, port_state::learning);
    return true;
  }
  if (pt.forward && !pt.forwarding && pt.learning) {  // FORWARDING
    pt.forwarding = true;
    set_state(p, port_state::forwarding);
    return true;
  }
  if (!pt.forward && pt.forwarding) {  // FORWARDING -> DISCARDING
    pt.learning = pt.forwarding = false;
    set_state(p, port_state::discarding);
    return true;
  }
  return false;
}

// --- 17.31 Topology Change -----------------------------------------------------------------

void engine::new_tc_while(port_vars& pt) noexcept {
  // 17.21.7.
  if (!zero(pt.tc_while)) return;
  if (pt.send_rstp) {
    start(pt.tc_while, hello_time(pt) + sim_time::from_s(1));
    pt.new_info = true;
  } else {
    start(pt.tc_while, root_times_.max_age + root_times_.forward_delay);
  }
}

void engine::set_tc_prop_tree(port_index except) noexcept {
  for (port_index q = 0; q < ports_.size(); ++q)
    if (q != except) ports_[q].tc_prop = true;
}

void engine::flush(port_index p, flush_reason why) {
  // The filtering database flushes at once, so fdbFlush is cleared again (17.19.7).
  ports_[p].fdb_flush = false;
  log(fmt::format("port {} flush ({})", p, to_string(why)));
  out_->flush_fdb(p, why, now_);
}

bool engine::topology_change_machine(port_index p) {
  port_vars& pt = ports_[p];
  const auto enter_learning = [&] {
    pt.tcm_state = tcm::learning;
    pt.rcvd_tc = pt.rcvd_tcn = pt.rcvd_tc_ack = false;
    pt.tc_prop = false;
  };
  switch (pt.tcm_state) {
    case tcm::inactive:
      if (pt.learn && !pt.fdb_flush) {
        enter_learning();
        return true;
      }
      return false;
    case tcm::learning:
      if (is_root_or_designated(pt.role) && pt.forward && !pt.oper_edge) {  // DETECTED
        new_tc_while(pt);
        set_tc_prop_tree(p);
        pt.new_info = true;
        pt.tcm_state = tcm::active;
        log(fmt::format("port {} topology change detected", p));
        out_->topology_change(p, true, now_);
        return true;
      }
      if (pt.rcvd_tc || pt.rcvd_tcn || pt.rcvd_tc_ack || pt.tc_prop) {
        enter_learning();
        return true;
      }
      if (!is_root_or_designated(pt.role) && !(pt.learn || pt.learning)) {  // INACTIVE
        pt.tcm_state = tcm::inactive;
        pt.fdb_flush = true;
        pt.tc_while = now_;
        pt.tc_ack = false;
        flush(p, flush_reason::port_inactive);
        return true;
      }
      return false;
    case tcm::active:
      if (!is_root_or_designated(pt.role) || pt.oper_edge) {
        enter_learning();
        return true;
      }
      if (pt.rcvd_tcn || pt.rcvd_tc) {
        if (pt.rcvd_tcn) new_tc_while(pt);  // NOTIFIED_TCN
        pt.rcvd_tcn = pt.rcvd_tc = false;   // NOTIFIED_TC
        if (pt.role == port_role::designated) pt.tc_ack = true;
        set_tc_prop_tree(p);
        log(fmt::format("port {} topology change notified", p));
        out_->topology_change(p, false, now_);
        return true;
      }
      if (pt.tc_prop && !pt.oper_edge) {  // PROPAGATING
        new_tc_while(pt);
        pt.fdb_flush = true;
        pt.tc_prop = false;
        flush(p, flush_reason::topology_change);
        return true;
      }
      if (pt.rcvd_tc_ack) {  // ACKNOWLEDGED
        pt.tc_while = now_;
        pt.rcvd_tc_ack = false;
        return true;
      }
      return false;
  }
  return false;
}

}  // namespace vnetsim::rstp
