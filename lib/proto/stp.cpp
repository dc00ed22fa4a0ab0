// The 802.1D-1998 clause 8 spanning tree engine; procedures follow 8.6-8.8 by name.
#include "vnetsim/proto/stp.hpp"

#include <algorithm>
#include <stdexcept>
#include <tuple>

#include <fmt/format.h>

namespace vnetsim::stp {

namespace {

using wire::bpdu_repr;
using wire::bpdu_type;

/// A BPDU time field as sim_time (exact, 802.1D-2004 9.2.8).
sim_time from_units(std::uint16_t t) noexcept {
  return sim_time::from_ns(wire::bpdu_time_to_ns(t));
}
/// sim_time to 1/256 s units, rounded up so that a relayed Message Age never understates
/// the age of the information (802.1D-1998 8.6.1.3.2), clamped to the field.
std::uint16_t to_units_ceil(sim_time t) noexcept {
  const auto ns = t.ns();
  if (ns <= 0) return 0;
  const auto units = (ns + wire::bpdu_time_unit_ns - 1) / wire::bpdu_time_unit_ns;
  return units >= 0xffff ? std::uint16_t{0xffff} : static_cast<std::uint16_t>(units);
}

[[noreturn]] void fail(const std::string& msg) { throw config_error("stp: " + msg); }

void check_time(std::string_view name, sim_time v, sim_time lo, sim_time hi) {
  if (v < lo || v > hi) {
    fail(fmt::format("{} {} is outside {}..{} (802.1D-1998 Table 8-3) [H3C]", name, v, lo, hi));
  }
  if (v.ns() % wire::bpdu_time_unit_ns != 0) {
    fail(fmt::format("{} {} is not a whole number of 1/256 s, the BPDU time unit "
                     "(802.1D-2004 9.2.8)", name, v));
  }
}

void check_bridge_priority(std::uint16_t priority) {
  if ((priority & wire::bridge_id::system_id_extension_mask) != 0) {
    fail(fmt::format("bridge priority {} is not a multiple of 4096 in 0..61440 "
                     "(802.1D-2004 9.2.5)", priority));
  }
}

void check_port(const port_config& pc, std::size_t index, path_cost_method method) {
  if ((pc.priority & 0x0f) != 0) {
    fail(fmt::format("port {} priority {} is not a multiple of 16 in 0..240 (802.1D-2004 9.2.7)",
                     index, pc.priority));
  }
  if (method == path_cost_method::ieee2004) {
    if (pc.path_cost < proto::min_long_path_cost || pc.path_cost > proto::max_long_path_cost) {
      fail(fmt::format("port {} path_cost {} is outside {}..{} (802.1D-2004 17.13.11, Table 17-3; "
                       "path cost method ieee2004)",
                       index, pc.path_cost, proto::min_long_path_cost, proto::max_long_path_cost));
    }
  } else if (pc.path_cost < min_path_cost || pc.path_cost > max_path_cost) {
    fail(fmt::format("port {} path_cost {} is outside {}..{} (802.1D-1998 8.5.5.3, Table 8-5)",
                     index, pc.path_cost, min_path_cost, max_path_cost));
  }
}

}  // namespace

std::string_view to_string(port_state s) noexcept {
  switch (s) {
    case port_state::disabled: return "Disabled";
    case port_state::blocking: return "Blocking";
    case port_state::listening: return "Listening";
    case port_state::learning: return "Learning";
    case port_state::forwarding: return "Forwarding";
  }
  return "?";
}

std::uint32_t default_path_cost(std::uint64_t speed_bps) noexcept {
  return proto::short_path_cost(speed_bps);  // 802.1D-1998 Table 8-5
}

std::uint32_t default_path_cost(std::uint64_t speed_bps, path_cost_method method) noexcept {
  return proto::default_path_cost(method, speed_bps);  // Table 8-5 or 802.1D-2004 Table 17-3
}

void validate_times(sim_time hello_time, sim_time max_age, sim_time forward_delay) {
  check_time("hello_time", hello_time, min_hello_time, max_hello_time);
  check_time("max_age", max_age, min_max_age, max_max_age);
  check_time("forward_delay", forward_delay, min_forward_delay, max_forward_delay);
  // 802.1D-1998 8.10.2: 2 x (Bridge Forward Delay - 1 s) >= Bridge Max Age >=
  // 2 x (Bridge Hello Time + 1 s) [H3C].
  constexpr std::string_view rule =
      "802.1D-1998 8.10.2 requires 2*(forward_delay - 1s) >= max_age >= 2*(hello_time + 1s) [H3C]";
  const sim_time upper = 2 * (forward_delay - sim_time::from_s(1));
  const sim_time lower = 2 * (hello_time + sim_time::from_s(1));
  if (max_age > upper) {
    fail(fmt::format("max_age {} > 2*(forward_delay {} - 1s) = {}; {}", max_age, forward_delay,
                     upper, rule));
  }
  if (max_age < lower) {
    fail(fmt::format("max_age {} < 2*(hello_time {} + 1s) = {}; {}", max_age, hello_time, lower,
                     rule));
  }
}

// --- construction and management (802.1D-1998 8.8) -------------------------------------

engine::engine(const bridge_config& cfg, std::span<const port_config> ports) {
  check_bridge_priority(cfg.priority);
  if (cfg.system_id_extension > wire::bridge_id::system_id_extension_mask) {
    fail(fmt::format("system_id_extension {} is not below 4096 (802.1D-2004 9.2.5)",
                     cfg.system_id_extension));
  }
  validate_times(cfg.hello_time, cfg.max_age, cfg.forward_delay);
  if (cfg.hold_time <= sim_time::zero()) {
    fail(fmt::format("hold_time {} must be positive (802.1D-1998 8.5.3.14)", cfg.hold_time));
  }
  if (cfg.message_age_increment < sim_time::zero()) {
    fail(fmt::format("message_age_increment {} must not be negative (802.1D-1998 Table 8-3)",
                     cfg.message_age_increment));
  }
  if (ports.size() > 4095) {
    fail(fmt::format("{} ports exceed the 12-bit port number (802.1D-2004 9.2.7)", ports.size()));
  }
  bridge_id_ = wire::bridge_id::make(cfg.priority, cfg.system_id_extension, cfg.address);
  designated_root_ = bridge_id_;
  bridge_hello_time_ = hello_time_ = cfg.hello_time;
  bridge_max_age_ = max_age_ = cfg.max_age;
  bridge_forward_delay_ = forward_delay_ = cfg.forward_delay;
  hold_time_ = cfg.hold_time;
  message_age_increment_ = cfg.message_age_increment;
  if (cfg.cost_method != path_cost_method::ieee1998 &&
      cfg.cost_method != path_cost_method::ieee2004) {
    fail(fmt::format("cost_method {} is neither ieee1998 nor ieee2004",
                     static_cast<unsigned>(cfg.cost_method)));
  }
  cost_method_ = cfg.cost_method;
  ports_.reserve(ports.size());
  for (std::size_t i = 0; i < ports.size(); ++i) {
    check_port(ports[i], i, cost_method_);
    port_info pi;
    pi.cfg = ports[i];
    pi.port_id = wire::port_id::make(ports[i].priority, static_cast<std::uint16_t>(i + 1));
    pi.change_detection_enabled = !ports[i].edge;
    ports_.push_back(pi);
  }
  states_.assign(ports_.size(), port_state::disabled);
  for (std::size_t i = 0; i < ports_.size(); ++i) become_designated_port(i);
}

engine::port_info& engine::port_at(port_index p) {
  if (p >= ports_.size()) {
    throw std::out_of_range(fmt::format("stp: port {} out of range (bridge has {} ports)", p,
                                        ports_.size()));
  }
  return ports_[p];
}

void engine::start(sim_time now, sink& out) {
  if (started_) throw std::logic_error("stp: engine started twice");
  started_ = true;
  // Initialisation, 802.1D-1998 8.8.1.
  designated_root_ = bridge_id_;
  root_path_cost_ = 0;
  root_port_.reset();
  max_age_ = bridge_max_age_;
  hello_time_ = bridge_hello_time_;
  forward_delay_ = bridge_forward_delay_;
  topology_change_detected_ = false;
  topology_change_ = false;
  tcn_timer_.stop();
  topology_change_timer_.stop();
  log(now, out, "initialisation");
  for (port_index p = 0; p < ports_.size(); ++p) {
    become_designated_port(p);
    if (operational(p)) initialize_port(p, now, out);
  }
  port_state_selection(now, out);
  config_bpdu_generation(now, out);
  hello_timer_.start(now, sim_time::zero(), bridge_hello_time_);
}

void engine::initialize_port(port_index p, sim_time now, sink& out) {
  // 8.8.1 initialize_port.
  auto& pi = ports_[p];
  become_designated_port(p);
  set_state(p, port_state::blocking, now, out);
  pi.topology_change_acknowledge = false;
  pi.config_pending = false;
  // 8.5.5.10: change detection stays off for an edge (portfast) port.
  pi.change_detection_enabled = !pi.cfg.edge;
  pi.message_age_timer.stop();
  pi.forward_delay_timer.stop();
  pi.hold_timer.stop();
}

void engine::enable_port(port_index p, sim_time now, sink& out) {
  // 8.8.2 Enable Port.
  initialize_port(p, now, out);
  port_state_selection(now, out);
}

void engine::disable_port(port_index p, sim_time now, sink& out) {
  // 8.8.3 Disable Port.
  auto& pi = ports_[p];
  const bool was_root = root_bridge();
  become_designated_port(p);
  set_state(p, port_state::disabled, now, out);
  pi.topology_change_acknowledge = false;
  pi.config_pending = false;
  pi.message_age_timer.stop();
  pi.forward_delay_timer.stop();
  pi.hold_timer.stop();
  configuration_update();
  port_state_selection(now, out);
  after_root_change(was_root, now, out);
}

void engine::update_operational(port_index p, bool was, sim_time now, sink& out) {
  if (!started_ || was == operational(p)) return;
  if (operational(p)) {
    enable_port(p, now, out);
  } else {
    disable_port(p, now, out);
  }
}

void engine::set_port_enabled(port_index p, bool up, sim_time now, sink& out) {
  auto& pi = port_at(p);
  const bool was = operational(p);
  pi.link_up = up;
  update_operational(p, was, now, out);
}

void engine::set_port_admin_enabled(port_index p, bool enabled, sim_time now, sink& out) {
  auto& pi = port_at(p);
  const bool was = operational(p);
  pi.cfg.admin_enabled = enabled;
  update_operational(p, was, now, out);
}

void engine::set_bridge_priority(std::uint16_t priority, sim_time now, sink& out) {
  check_bridge_priority(priority);
  // 8.8.4 Set Bridge Priority.
  const auto new_id = wire::bridge_id::make(priority, bridge_id_.system_id_extension(),
                                            bridge_id_.address);
  if (!started_) {
    bridge_id_ = designated_root_ = new_id;
    for (port_index p = 0; p < ports_.size(); ++p) become_designated_port(p);
    return;
  }
  const bool was_root = root_bridge();
  for (port_index p = 0; p < ports_.size(); ++p) {
    if (designated_port(p)) ports_[p].designated_bridge = new_id;
  }
  bridge_id_ = new_id;
  configuration_update();
  port_state_selection(now, out);
  after_root_change(was_root, now, out);
}

void engine::set_port_priority(port_index p, std::uint8_t priority, sim_time now, sink& out) {
  auto& pi = port_at(p);
  port_config pc = pi.cfg;
  pc.priority = priority;
  check_port(pc, p, cost_method_);
  pi.cfg.priority = priority;
  // 8.8.5 Set Port Priority.
  const auto new_id = wire::port_id::make(priority, pi.port_id.number());
  if (designated_port(p)) pi.designated_port = new_id;
  pi.port_id = new_id;
  if (bridge_id_ == pi.designated_bridge && pi.port_id < pi.designated_port) {
    become_designated_port(p);
    if (started_) port_state_selection(now, out);
  }
}

void engine::set_path_cost(port_index p, std::uint32_t cost, sim_time now, sink& out) {
  auto& pi = port_at(p);
  port_config pc = pi.cfg;
  pc.path_cost = cost;
  check_port(pc, p, cost_method_);
  // 8.8.6 Set Path Cost.
  pi.cfg.path_cost = cost;
  if (!started_) return;
  configuration_update();
  port_state_selection(now, out);
}

void engine::set_bridge_times(sim_time hello_time, sim_time max_age, sim_time forward_delay) {
  validate_times(hello_time, max_age, forward_delay);
  // 8.8.4 Set Bridge Max Age / Hello Time / Forward Delay: the root uses them at once.
  bridge_hello_time_ = hello_time;
  bridge_max_age_ = max_age;
  bridge_forward_delay_ = forward_delay;
  if (root_bridge()) {
    hello_time_ = hello_time;
    max_age_ = max_age;
    forward_delay_ = forward_delay;
  }
}

void engine::set_port_edge(port_index p, bool edge) {
  auto& pi = port_at(p);
  pi.cfg.edge = edge;
  pi.change_detection_enabled = !edge;  // 8.8.7 Enable/Disable Change Detection
}

port_role engine::role(port_index p) const {
  const auto& pi = ports_.at(p);
  if (states_[p] == port_state::disabled) return port_role::disabled;
  if (root_port_ == p) return port_role::root;
  if (designated_port(p)) return port_role::designated;
  if (pi.designated_bridge == bridge_id_) return port_role::backup;
  return port_role::alternate;
}

// --- received BPDUs (8.7.1, 8.7.2) ------------------------------------------------------

void engine::on_pdu(port_index p, const bpdu_repr& bpdu, sim_time now, sink& out) {
  const auto& pi = port_at(p);
  if (!started_ || states_[p] == port_state::disabled) {
    ++counters_.rx_ignored;
    return;
  }
  switch (bpdu.type) {
    case bpdu_type::config:
      // 802.1D-2004 9.3.4 a): Message Age must be below Max Age; and a BPDU carrying our
      // own Bridge and Port Identifiers for this port was looped back and is discarded.
      if (!bpdu.message_age_valid() || (bpdu.bridge == bridge_id_ && bpdu.port == pi.port_id)) {
        ++counters_.rx_ignored;
        return;
      }
      ++counters_.config_rx;
      received_config_bpdu(p, bpdu, now, out);
      return;
    case bpdu_type::tcn:
      ++counters_.tcn_rx;
      received_tcn_bpdu(p, now, out);
      return;
    case bpdu_type::rst:
      break;  // unknown to an 802.1D-1998 bridge (9.3.4)
  }
  ++counters_.rx_ignored;
}

void engine::received_config_bpdu(port_index p, const bpdu_repr& config, sim_time now,
                                  sink& out) {
  // 8.7.1 Received Configuration BPDU.
  const bool was_root = root_bridge();
  if (supersedes_port_info(p, config)) {
    record_config(p, config, now);
    configuration_update();
    port_state_selection(now, out);
    after_root_change(was_root, now, out);
    if (root_port_ == p) {
      record_config_timeout_values(config, now, out);
      config_bpdu_generation(now, out);
      if (config.flags.tca()) topology_change_acknowledged();
    }
  } else if (designated_port(p)) {
    reply(p, now, out);
  }
}

void engine::received_tcn_bpdu(port_index p, sim_time now, sink& out) {
  // 8.7.2 Received Topology Change Notification BPDU.
  if (designated_port(p)) {
    log(now, out, fmt::format("port {} received TCN", p));
    topology_change_detection(now, out);
    acknowledge_topology_change(p, now, out);
  }
}

bool engine::supersedes_port_info(port_index p, const bpdu_repr& config) const noexcept {
  // 8.6.2.2: better root, else lower cost, else lower bridge, else (not from us, or from a
  // port of ours with an equal or lower port identifier).
  const auto& pi = ports_[p];
  if (config.root != pi.designated_root) return config.root < pi.designated_root;
  if (config.root_path_cost != pi.designated_cost) return config.root_path_cost < pi.designated_cost;
  if (config.bridge != pi.designated_bridge) return config.bridge < pi.designated_bridge;
  return config.bridge != bridge_id_ || config.port <= pi.designated_port;
}

void engine::record_config(port_index p, const bpdu_repr& config, sim_time now) {
  // 8.6.2 Record Configuration Information; the Message Age Timer starts at the received
  // Message Age and expires when it reaches Max Age (8.5.6.1).
  auto& pi = ports_[p];
  pi.designated_root = config.root;
  pi.designated_cost = config.root_path_cost;
  pi.designated_bridge = config.bridge;
  pi.designated_port = config.port;
  pi.message_age_timer.start(now, from_units(config.message_age), max_age_);
}

void engine::record_config_timeout_values(const bpdu_repr& config, sim_time now, sink& out) {
  // 8.6.3 Record Configuration Timeout Values.
  max_age_ = from_units(config.max_age);
  hello_time_ = from_units(config.hello_time);
  forward_delay_ = from_units(config.forward_delay);
  set_topology_change(config.flags.tc(), now, out);
}

// --- transmission (8.6.1, 8.6.4-8.6.6) --------------------------------------------------

void engine::transmit_config(port_index p, sim_time now, sink& out) {
  // 8.6.1 Transmit Configuration BPDU: at most one per Hold Time (8.5.3.14).
  auto& pi = ports_[p];
  if (pi.hold_timer.active()) {
    pi.config_pending = true;
    return;
  }
  bpdu_repr c;
  c.type = bpdu_type::config;
  c.version = wire::bpdu_version_stp;
  c.root = designated_root_;                // 8.6.1.3.2 (1)
  c.root_path_cost = root_path_cost_;       // (2)
  c.bridge = bridge_id_;                    // (3)
  c.port = pi.port_id;                      // (4)
  if (root_bridge() || !root_port_) {
    c.message_age = 0;                      // (5)
  } else {
    // (6): the age of the Root Port's information plus the increment overestimate.
    const auto& rp = ports_[*root_port_];
    const sim_time age = rp.message_age_timer.active() ? now - rp.message_age_timer.origin
                                                       : sim_time::zero();
    c.message_age = to_units_ceil(age + message_age_increment_);
  }
  c.max_age = to_units_ceil(max_age_);      // (7)
  c.hello_time = to_units_ceil(hello_time_);
  c.forward_delay = to_units_ceil(forward_delay_);
  c.flags.set(wire::bpdu_flag::topology_change_ack, pi.topology_change_acknowledge);  // (8)
  c.flags.set(wire::bpdu_flag::topology_change, topology_change_);                   // (9)
  if (c.message_age < c.max_age) {
    pi.topology_change_acknowledge = false;
    pi.config_pending = false;
    ++counters_.config_tx;
    out.transmit(p, c);
    pi.hold_timer.start(now, sim_time::zero(), hold_time_);
  }
}

void engine::config_bpdu_generation(sim_time now, sink& out) {
  // 8.6.4 Configuration BPDU Generation: on every Designated Port that is not Disabled.
  for (port_index p = 0; p < ports_.size(); ++p) {
    if (designated_port(p) && states_[p] != port_state::disabled) transmit_config(p, now, out);
  }
}

void engine::transmit_tcn(sim_time now, sink& out) {
  // 8.6.6 Transmit Topology Change Notification BPDU, on the Root Port.
  if (!root_port_) return;
  ++counters_.tcn_tx;
  log(now, out, fmt::format("port {} transmit TCN", *root_port_));
  out.transmit(*root_port_, bpdu_repr::tcn());
}

// --- configuration update (8.6.7-8.6.10) ------------------------------------------------

bool engine::designated_port(port_index p) const noexcept {
  const auto& pi = ports_[p];
  return pi.designated_bridge == bridge_id_ && pi.designated_port == pi.port_id;
}

bool engine::designated_for_some_port() const noexcept {
  // Disabled ports are left out (as Linux br_stp_timer.c does): they are always
  // "designated" after 8.8.3, and would raise a topology change on every transition.
  for (port_index p = 0; p < ports_.size(); ++p) {
    if (states_[p] != port_state::disabled && ports_[p].designated_bridge == bridge_id_) return true;
  }
  return false;
}

void engine::configuration_update() {
  // 8.6.7 Configuration Update.
  root_selection();
  designated_port_selection();
}

void engine::root_selection() {
  // 8.6.8 Root Selection: among ports that are neither designated nor disabled and hear of a
  // root better than this bridge, the best (root, root path cost, designated bridge,
  // designated port, port identifier).
  std::optional<port_index> best;
  auto key = [this](port_index p) {
    const auto& pi = ports_[p];
    return std::make_tuple(pi.designated_root,
                           std::uint64_t{pi.designated_cost} + pi.cfg.path_cost,
                           pi.designated_bridge, pi.designated_port, pi.port_id);
  };
  for (port_index p = 0; p < ports_.size(); ++p) {
    if (designated_port(p) || states_[p] == port_state::disabled) continue;
    if (!(ports_[p].designated_root < bridge_id_)) continue;
    if (!best || key(p) < key(*best)) best = p;
  }
  root_port_ = best;
  if (!best) {
    designated_root_ = bridge_id_;
    root_path_cost_ = 0;
  } else {
    const auto& rp = ports_[*best];
    designated_root_ = rp.designated_root;
    // Saturating: long costs (up to 200,000,000 a hop) could pass the 32-bit field.
    root_path_cost_ = static_cast<std::uint32_t>(std::min<std::uint64_t>(
        std::uint64_t{rp.designated_cost} + rp.cfg.path_cost, 0xffff'ffffULL));
  }
}

void engine::designated_port_selection() {
  // 8.6.9 Designated Port Selection.
  for (port_index p = 0; p < ports_.size(); ++p) {
    const auto& pi = ports_[p];
    if (designated_port(p) || pi.designated_root != designated_root_ ||
        root_path_cost_ < pi.designated_cost ||
        (root_path_cost_ == pi.designated_cost &&
         (bridge_id_ < pi.designated_bridge ||
          (bridge_id_ == pi.designated_bridge && pi.port_id <= pi.designated_port)))) {
      become_designated_port(p);
    }
  }
}

void engine::become_designated_port(port_index p) {
  // 8.6.10 Become Designated Port.
  auto& pi = ports_[p];
  pi.designated_root = designated_root_;
  pi.designated_cost = root_path_cost_;
  pi.designated_bridge = bridge_id_;
  pi.designated_port = pi.port_id;
}

// --- port states (8.6.11-8.6.13) --------------------------------------------------------

void engine::port_state_selection(sim_time now, sink& out) {
  // 8.6.11 Port State Selection.
  for (port_index p = 0; p < ports_.size(); ++p) {
    auto& pi = ports_[p];
    if (root_port_ == p) {
      pi.config_pending = false;
      pi.topology_change_acknowledge = false;
      make_forwarding(p, now, out);
    } else if (designated_port(p)) {
      pi.message_age_timer.stop();
      make_forwarding(p, now, out);
    } else {
      pi.config_pending = false;
      pi.topology_change_acknowledge = false;
      make_blocking(p, now, out);
    }
  }
}

void engine::make_forwarding(port_index p, sim_time now, sink& out) {
  // 8.6.12 Make Forwarding: Blocking -> Listening, and the Forward Delay Timer runs. An
  // edge (portfast) port skips Listening and Learning.
  if (states_[p] != port_state::blocking) return;
  if (ports_[p].cfg.edge) {
    set_state(p, port_state::forwarding, now, out);
    return;
  }
  set_state(p, port_state::listening, now, out);
  ports_[p].forward_delay_timer.start(now, sim_time::zero(), forward_delay_);
}

void engine::make_blocking(port_index p, sim_time now, sink& out) {
  // 8.6.13 Make Blocking.
  const auto s = states_[p];
  if (s == port_state::disabled || s == port_state::blocking) return;
  if ((s == port_state::forwarding || s == port_state::learning) &&
      ports_[p].change_detection_enabled) {
    topology_change_detection(now, out);
  }
  set_state(p, port_state::blocking, now, out);
  ports_[p].forward_delay_timer.stop();
}

// --- topology change (8.6.14-8.6.16) ----------------------------------------------------

void engine::topology_change_detection(sim_time now, sink& out) {
  // 8.6.14 Topology Change Detection.
  ++counters_.top_changes;
  out.topology_change_detected(now);
  if (root_bridge()) {
    set_topology_change(true, now, out);
    // 8.5.3.13 Topology Change Time = Max Age + Forward Delay.
    topology_change_timer_.start(now, sim_time::zero(), bridge_max_age_ + bridge_forward_delay_);
  } else if (!topology_change_detected_) {
    transmit_tcn(now, out);
    tcn_timer_.start(now, sim_time::zero(), bridge_hello_time_);  // 8.5.4.2
  }
  topology_change_detected_ = true;
}

void engine::topology_change_acknowledged() {
  // 8.6.15 Topology Change Acknowledged.
  topology_change_detected_ = false;
  tcn_timer_.stop();
}

void engine::acknowledge_topology_change(port_index p, sim_time now, sink& out) {
  // 8.6.16 Acknowledge Topology Change.
  ports_[p].topology_change_acknowledge = true;
  transmit_config(p, now, out);
}

void engine::become_root_bridge(sim_time now, sink& out) {
  // The "became root" branch of 8.7.5 and 8.8.3: take our own times, announce.
  log(now, out, "became root bridge");
  max_age_ = bridge_max_age_;
  hello_time_ = bridge_hello_time_;
  forward_delay_ = bridge_forward_delay_;
  topology_change_detection(now, out);
  tcn_timer_.stop();
  config_bpdu_generation(now, out);
  hello_timer_.start(now, sim_time::zero(), bridge_hello_time_);
}

void engine::after_root_change(bool was_root, sim_time now, sink& out) {
  if (root_bridge() && !was_root) {
    become_root_bridge(now, out);
  } else if (!root_bridge() && was_root) {
    // 8.7.1: no longer root.
    log(now, out, fmt::format("root is now {}", designated_root_));
    hello_timer_.stop();
    if (topology_change_detected_) {
      topology_change_timer_.stop();
      transmit_tcn(now, out);
      tcn_timer_.start(now, sim_time::zero(), bridge_hello_time_);
    }
  }
}

void engine::set_topology_change(bool on, sim_time now, sink& out) {
  if (topology_change_ == on) return;
  topology_change_ = on;
  log(now, out, fmt::format("topology change {}", on ? "on" : "off"));
  out.topology_change(on, forward_delay_, now);
}

// --- timers (8.7.3-8.7.8) ---------------------------------------------------------------

std::optional<sim_time> engine::next_deadline() const noexcept {
  if (!started_) return std::nullopt;
  std::optional<sim_time> best;
  auto consider = [&best](const timer& t) {
    if (t.deadline && (!best || *t.deadline < *best)) best = t.deadline;
  };
  consider(hello_timer_);
  consider(tcn_timer_);
  consider(topology_change_timer_);
  for (const auto& pi : ports_) {
    consider(pi.message_age_timer);
    consider(pi.forward_delay_timer);
    consider(pi.hold_timer);
  }
  return best;
}

void engine::on_timer(sim_time now, sink& out) {
  if (!started_) return;
  // Each timer is checked right before it runs: an earlier expiry may stop or restart it.
  if (hello_timer_.expired(now)) {
    hello_timer_.stop();
    hello_timer_expiry(now, out);
  }
  if (tcn_timer_.expired(now)) {
    tcn_timer_.stop();
    tcn_timer_expiry(now, out);
  }
  if (topology_change_timer_.expired(now)) {
    topology_change_timer_.stop();
    topology_change_timer_expiry(now, out);
  }
  for (port_index p = 0; p < ports_.size(); ++p) {
    auto& pi = ports_[p];
    if (pi.message_age_timer.expired(now)) {
      pi.message_age_timer.stop();
      message_age_timer_expiry(p, now, out);
    }
    if (pi.forward_delay_timer.expired(now)) {
      pi.forward_delay_timer.stop();
      forward_delay_timer_expiry(p, now, out);
    }
    if (pi.hold_timer.expired(now)) {
      pi.hold_timer.stop();
      hold_timer_expiry(p, now, out);
    }
  }
}

void engine::hello_timer_expiry(sim_time now, sink& out) {
  // 8.7.3 Hello Timer Expiry.
  config_bpdu_generation(now, out);
  hello_timer_.start(now, sim_time::zero(), bridge_hello_time_);
}

void engine::message_age_timer_expiry(port_index p, sim_time now, sink& out) {
  // 8.7.4 Message Age Timer Expiry: the port's information is discarded.
  log(now, out, fmt::format("port {} message age expired", p));
  const bool was_root = root_bridge();
  become_designated_port(p);
  configuration_update();
  port_state_selection(now, out);
  after_root_change(was_root, now, out);
}

void engine::forward_delay_timer_expiry(port_index p, sim_time now, sink& out) {
  // 8.7.5 Forward Delay Timer Expiry.
  if (states_[p] == port_state::listening) {
    set_state(p, port_state::learning, now, out);
    ports_[p].forward_delay_timer.start(now, sim_time::zero(), forward_delay_);
  } else if (states_[p] == port_state::learning) {
    set_state(p, port_state::forwarding, now, out);
    if (designated_for_some_port() && ports_[p].change_detection_enabled) {
      topology_change_detection(now, out);
    }
  }
}

void engine::tcn_timer_expiry(sim_time now, sink& out) {
  // 8.7.6 Topology Change Notification Timer Expiry: repeat until acknowledged.
  transmit_tcn(now, out);
  tcn_timer_.start(now, sim_time::zero(), bridge_hello_time_);
}

void engine::topology_change_timer_expiry(sim_time now, sink& out) {
  // 8.7.7 Topology Change Timer Expiry.
  topology_change_detected_ = false;
  set_topology_change(false, now, out);
}

void engine::hold_timer_expiry(port_index p, sim_time now, sink& out) {
  // 8.7.8 Hold Timer Expiry.
  if (ports_[p].config_pending) transmit_config(p, now, out);
}

// --- state and logging ------------------------------------------------------------------

void engine::set_state(port_index p, port_state to, sim_time now, sink& out) {
  const auto from = states_[p];
  if (from == to) return;
  states_[p] = to;
  if (to == port_state::forwarding) ++ports_[p].forward_transitions;
  log(now, out, fmt::format("port {} {}=>{}", p, to_string(from), to_string(to)));
  out.port_state_changed(p, from, to, now);
}

void engine::log(sim_time now, sink& out, std::string_view what) const {
  out.log(now, fmt::format("{} stp {}: {}", now, bridge_id_, what));
}

}  // namespace vnetsim::stp
