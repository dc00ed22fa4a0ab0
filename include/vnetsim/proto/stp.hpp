#pragma once
/// The legacy IEEE 802.1D spanning tree protocol engine (802.1D-1998 clause 8, kept as the
/// STP compatibility baseline of 802.1D-2004): ports move Disabled / Blocking / Listening /
/// Learning / Forwarding; procedures and timers follow the 802.1D-1998 8.6-8.8 elements of
/// procedure, with the standard's names.
///
/// No kernel, scheduler or device inside (STYLE.md "Protocol engines"): the owner feeds in
/// received BPDUs (on_pdu), link changes (set_port_enabled) and timer expiry (on_timer at
/// next_deadline()), and receives output through a `sink`. Timers are absolute deadlines
/// in sim_time, never whole-second ticks.
///
/// Invariants: port_states() always equals each port's state; a port whose link is down or
/// that is administratively disabled is `disabled`; every state change goes through one
/// set_state() that reports it to the sink as `A=>B` with the time.
///
/// Choices beyond the standard (documented here, tested in tests/proto/stp_test.cpp):
/// - Edge ports (Cisco portfast): clear Change Detection Enabled (802.1D-1998 8.5.5.10, so
///   no topology change is raised by their transitions) and skip Listening and Learning
///   whenever make_forwarding would start them. Legacy STP has no edge-loss rule: a BPDU
///   received on an edge port is processed normally (as Cisco portfast does) and the port
///   stays an edge port; a superior BPDU blocks it like any other port.
/// - RST BPDUs (type 0x02) are ignored, as an 802.1D-1998 bridge does (9.3.4 knows only
///   types 0x00 and 0x80); an RSTP neighbour falls back to STP when it sees our BPDUs.
/// - Path costs (bridge_config::cost_method): the 802.1D-1998 Table 8-5 short costs
///   (1-65535, the default) or the 802.1D-2004 Table 17-3 long costs (1-200,000,000, as
///   Cisco's "spanning-tree pathcost method long"); the Root Path Cost field of a Config BPDU
///   is 32 bits (802.1D-1998 9.2.5), so long costs travel unchanged. port_config::path_cost
///   defaults to 19 whatever the method: with ieee2004 set each port's cost (e.g.
///   default_path_cost(speed, method)). A root path cost that would pass 2^32-1 saturates.
/// - Config BPDUs whose Bridge and Port Identifiers equal our own transmitting port's are
///   discarded (802.1D-2004 9.3.4 a), a port looped back to itself).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "vnetsim/proto/path_cost.hpp"
#include "vnetsim/proto/port_role.hpp"
#include "vnetsim/kernel/sim_time.hpp"
#include "vnetsim/wire/bpdu.hpp"
#include "vnetsim/wire/mac.hpp"

namespace vnetsim::stp {

/// Zero-based port index; the Port Identifier's port number is index + 1 (802.1D-1998
/// 8.5.5.1: port number 0 is not used).
using port_index = std::size_t;

/// Port states, 802.1D-1998 8.4.
enum class port_state : std::uint8_t { disabled, blocking, listening, learning, forwarding };

/// "Disabled", "Blocking", "Listening", "Learning", "Forwarding" (802.1D-1998 8.4).
std::string_view to_string(port_state s) noexcept;
/// Frames are relayed through the port (802.1D-1998 8.4.5).
constexpr bool forwards(port_state s) noexcept { return s == port_state::forwarding; }
/// Source addresses of received frames are learned (802.1D-1998 8.4.4, 8.4.5).
constexpr bool learns(port_state s) noexcept {
  return s == port_state::learning || s == port_state::forwarding;
}

/// A port's role, derived from the 802.1D-1998 port parameters (legacy STP has no role
/// variable; the names are 802.1D-2004 17.7's): the Root Port, a Designated Port, a port
/// blocked by another bridge's designated port (alternate) or by one of ours (backup).
using proto::port_role;
using proto::to_string;

/// Invalid configuration; the message names the parameter, the value and the rule.
class config_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// Defaults and ranges, 802.1D-1998 Table 8-3 [H3C]: Hello Time 2 s (1-10), Max Age 20 s
/// (6-40), Forward Delay 15 s (4-30); Hold Time fixed at 1 s (8.5.3.14).
inline constexpr sim_time default_hello_time = sim_time::from_s(2);
inline constexpr sim_time default_max_age = sim_time::from_s(20);
inline constexpr sim_time default_forward_delay = sim_time::from_s(15);
inline constexpr sim_time default_hold_time = sim_time::from_s(1);
inline constexpr sim_time min_hello_time = sim_time::from_s(1);
inline constexpr sim_time max_hello_time = sim_time::from_s(10);
inline constexpr sim_time min_max_age = sim_time::from_s(6);
inline constexpr sim_time max_max_age = sim_time::from_s(40);
inline constexpr sim_time min_forward_delay = sim_time::from_s(4);
inline constexpr sim_time max_forward_delay = sim_time::from_s(30);
/// Maximum Message Age Increment Overestimate, 802.1D-1998 Table 8-3: 1 s, added to the
/// root port's message age when information is relayed (8.6.1.3.2).
inline constexpr sim_time default_message_age_increment = sim_time::from_s(1);
/// Bridge Priority 32768 (802.1D-1998 Table 8-4), settable in steps of 4096 (802.1D-2004
/// 9.2.5, the 802.1t system ID extension takes the low 12 bits).
inline constexpr std::uint16_t default_bridge_priority = 32768;
/// Port Priority 128 (802.1D-1998 Table 8-4), steps of 16 (802.1D-2004 9.2.7).
inline constexpr std::uint8_t default_port_priority = 128;
/// Path Cost range 1-65535 (802.1D-1998 8.5.5.3, Table 8-5), the ieee1998 method's.
inline constexpr std::uint32_t min_path_cost = proto::min_short_path_cost,
                               max_path_cost = proto::max_short_path_cost;
/// Path Cost range 1-200,000,000 under the ieee2004 method (802.1D-2004 17.13.11, Table 17-3).
inline constexpr std::uint32_t max_long_path_cost = proto::max_long_path_cost;

/// Which path cost table the bridge uses (proto/path_cost.hpp).
using proto::path_cost_method;

/// Recommended Path Cost for a link speed, 802.1D-1998 Table 8-5: 4 Mb/s 250, 10 Mb/s 100,
/// 16 Mb/s 62, 100 Mb/s 19, 1 Gb/s 4, 10 Gb/s (and faster) 2. A speed between two rows
/// takes the slower row's cost; below 4 Mb/s (and 0, unknown) gives 250.
std::uint32_t default_path_cost(std::uint64_t speed_bps) noexcept;
/// Recommended Path Cost under `method`: Table 8-5 above (ieee1998) or 802.1D-2004
/// Table 17-3, 20,000,000,000,000 / speed in b/s (ieee2004: 10 Mb/s 2,000,000; 100 Mb/s
/// 200,000; 1 Gb/s 20,000; 10 Gb/s 2,000), the same table as rstp::default_path_cost.
std::uint32_t default_path_cost(std::uint64_t speed_bps, path_cost_method method) noexcept;

/// Checks the three bridge times: each within its 802.1D-1998 Table 8-3 range, a whole
/// number of 1/256 s (the BPDU unit, 9.2.8), and 2*(Forward Delay - 1 s) >= Max Age >=
/// 2*(Hello Time + 1 s) (8.10.2) [H3C]. Throws config_error naming the values and the rule.
void validate_times(sim_time hello_time, sim_time max_age, sim_time forward_delay);

/// Bridge parameters set by management (802.1D-1998 8.5.3.7-8.5.3.9, 8.8.4).
struct bridge_config {
  wire::mac_address address;                          ///< the Bridge Address (8.5.3.7)
  std::uint16_t priority = default_bridge_priority;   ///< multiple of 4096
  std::uint16_t system_id_extension = 0;              ///< 802.1t, < 4096 (PVST+ VLAN)
  sim_time hello_time = default_hello_time;           ///< Bridge Hello Time (8.5.3.9)
  sim_time max_age = default_max_age;                 ///< Bridge Max Age (8.5.3.8)
  sim_time forward_delay = default_forward_delay;     ///< Bridge Forward Delay (8.5.3.10)
  sim_time hold_time = default_hold_time;             ///< Hold Time (8.5.3.14), > 0
  sim_time message_age_increment = default_message_age_increment;  ///< >= 0
  /// The path cost table, and with it the allowed range of port_config::path_cost.
  path_cost_method cost_method = path_cost_method::ieee1998;
};

/// Port parameters set by management (802.1D-1998 8.5.5.1-8.5.5.3, 8.8.5-8.8.7).
struct port_config {
  std::uint8_t priority = default_port_priority;  ///< multiple of 16
  std::uint32_t path_cost = 19;                   ///< Table 8-5 for 100 Mb/s
  bool edge = false;           ///< portfast: no listening/learning, no topology change
  bool admin_enabled = true;   ///< false: the port stays Disabled whatever its link does
};

/// Where the engine's output goes. Called synchronously from inside engine calls; a sink
/// must not call back into the engine it is serving.
class sink {
 public:
  virtual ~sink() = default;
  /// Transmit `bpdu` (a Configuration or TCN BPDU) on `port`.
  virtual void transmit(port_index port, const wire::bpdu_repr& bpdu) = 0;
  /// The port's state changed (already visible in port_states()).
  virtual void port_state_changed(port_index /*port*/, port_state /*from*/, port_state /*to*/,
                                  sim_time /*now*/) {}
  /// This bridge ran topology_change_detection (802.1D-1998 8.6.14): a port it serves
  /// entered Forwarding or left Forwarding/Learning. Counted as dot1dStpTopChanges.
  virtual void topology_change_detected(sim_time /*now*/) {}
  /// The bridge's Topology Change flag (8.5.3.12) went on or off. While it is on, the
  /// filtering database should age entries out after `forward_delay` instead of the normal
  /// ageing time (802.1D-1998 8.3.5) [Cabletron]; going on is the moment to flush.
  virtual void topology_change(bool /*active*/, sim_time /*forward_delay*/, sim_time /*now*/) {}
  /// One human-readable log line (no trailing newline).
  virtual void log(sim_time /*now*/, std::string_view /*line*/) {}
};

/// Counters, named as the BRIDGE-MIB (RFC 4188) names them where it does.
struct bridge_counters {
  std::uint64_t top_changes = 0;     ///< dot1dStpTopChanges
  std::uint64_t config_tx = 0, config_rx = 0, tcn_tx = 0, tcn_rx = 0;
  std::uint64_t rx_ignored = 0;      ///< RST, aged, looped-back or on a disabled port
};

/// The spanning tree engine of one bridge.
class engine {
 public:
  /// Validates `cfg` and each `ports` entry (throws config_error). The engine starts with
  /// every port Disabled (link down) and does nothing until start().
  engine(const bridge_config& cfg, std::span<const port_config> ports);

  /// Initialisation, 802.1D-1998 8.8.1: the bridge claims to be root, starts its Hello
  /// Timer, and enables the ports whose link is already up (set_port_enabled before start).
  void start(sim_time now, sink& out);
  bool started() const noexcept { return started_; }

  /// A received BPDU (already parsed, 802.1D-1998 9.3.4 / 8.7.1, 8.7.2).
  void on_pdu(port_index port, const wire::bpdu_repr& bpdu, sim_time now, sink& out);
  /// Runs every timer whose deadline is <= now (8.7.3-8.7.8), in the standard's tick order:
  /// hello, TCN, topology change, then per port message age, forward delay, hold. The
  /// owner calls it at next_deadline(), before any later input: a timer whose deadline has
  /// passed unprocessed still counts as running. O(ports).
  void on_timer(sim_time now, sink& out);
  /// The earliest active timer deadline; nullopt before start() or when none runs.
  std::optional<sim_time> next_deadline() const noexcept;

  /// The MAC reports link up/down: Enable Port / Disable Port (8.8.2, 8.8.3).
  void set_port_enabled(port_index port, bool up, sim_time now, sink& out);
  /// Administrative enable/disable (the port's "Port State" management, 8.8.2, 8.8.3).
  void set_port_admin_enabled(port_index port, bool enabled, sim_time now, sink& out);

  /// Set Bridge Priority (8.8.4). Throws config_error.
  void set_bridge_priority(std::uint16_t priority, sim_time now, sink& out);
  /// Set Port Priority (8.8.5). Throws config_error.
  void set_port_priority(port_index port, std::uint8_t priority, sim_time now, sink& out);
  /// Set Path Cost (8.8.6): 1-65535, or 1-200,000,000 under ieee2004. Throws config_error.
  void set_path_cost(port_index port, std::uint32_t cost, sim_time now, sink& out);
  /// Set Bridge Hello Time, Max Age and Forward Delay together (8.8.4), checked by
  /// validate_times. A root bridge uses them at once; others keep the root's values.
  void set_bridge_times(sim_time hello_time, sim_time max_age, sim_time forward_delay);
  /// Edge (portfast) flag; takes effect at the port's next transition.
  void set_port_edge(port_index port, bool edge);

  // --- read side ---------------------------------------------------------------------
  /// One state per port, contiguous, for the per-frame path.
  std::span<const port_state> port_states() const noexcept { return states_; }
  port_state state(port_index port) const { return states_.at(port); }
  port_role role(port_index port) const;
  std::size_t port_count() const noexcept { return ports_.size(); }

  wire::bridge_id bridge_id() const noexcept { return bridge_id_; }
  path_cost_method cost_method() const noexcept { return cost_method_; }
  wire::bridge_id designated_root() const noexcept { return designated_root_; }
  std::uint32_t root_path_cost() const noexcept { return root_path_cost_; }
  /// The Root Port, nullopt on the root bridge.
  std::optional<port_index> root_port() const noexcept { return root_port_; }
  bool is_root_bridge() const noexcept { return root_bridge(); }
  /// The Topology Change flag (8.5.3.12) and Topology Change Detected (8.5.3.11).
  bool topology_change() const noexcept { return topology_change_; }
  bool topology_change_detected() const noexcept { return topology_change_detected_; }
  /// Current (root-learned) timer values, 8.5.3.4-8.5.3.6.
  sim_time max_age() const noexcept { return max_age_; }
  sim_time hello_time() const noexcept { return hello_time_; }
  sim_time forward_delay() const noexcept { return forward_delay_; }
  const port_config& config(port_index port) const { return ports_.at(port).cfg; }
  wire::port_id port_id(port_index port) const { return ports_.at(port).port_id; }
  /// The port's designated parameters (8.5.5.4-8.5.5.7).
  wire::bridge_id designated_bridge(port_index port) const { return ports_.at(port).designated_bridge; }
  wire::port_id designated_port_id(port_index port) const { return ports_.at(port).designated_port; }
  std::uint32_t designated_cost(port_index port) const { return ports_.at(port).designated_cost; }
  const bridge_counters& counters() const noexcept { return counters_; }
  /// dot1dStpPortForwardTransitions.
  std::uint64_t forward_transitions(port_index port) const { return ports_.at(port).forward_transitions; }

 private:
  /// An absolute-deadline timer; `origin` lets the Message Age Timer report its value.
  struct timer {
    std::optional<sim_time> deadline;
    sim_time origin;
    bool active() const noexcept { return deadline.has_value(); }
    void start(sim_time now, sim_time value, sim_time timeout) noexcept {
      origin = now - value;
      deadline = origin + timeout;
    }
    void stop() noexcept { deadline.reset(); }
    bool expired(sim_time now) const noexcept { return deadline && *deadline <= now; }
  };

  /// Port parameters, 802.1D-1998 8.5.5, and port timers, 8.5.6.
  struct port_info {
    port_config cfg;
    wire::port_id port_id;                      // 8.5.5.1
    wire::bridge_id designated_root;            // 8.5.5.4
    std::uint32_t designated_cost = 0;          // 8.5.5.5
    wire::bridge_id designated_bridge;          // 8.5.5.6
    wire::port_id designated_port;              // 8.5.5.7
    bool topology_change_acknowledge = false;   // 8.5.5.8
    bool config_pending = false;                // 8.5.5.9
    bool change_detection_enabled = true;       // 8.5.5.10
    bool link_up = false;
    timer message_age_timer;                    // 8.5.6.1
    timer forward_delay_timer;                  // 8.5.6.2
    timer hold_timer;                           // 8.5.6.3
    std::uint64_t forward_transitions = 0;
  };

  // 8.6 elements of procedure.
  bool root_bridge() const noexcept { return designated_root_ == bridge_id_; }
  bool designated_port(port_index p) const noexcept;
  bool designated_for_some_port() const noexcept;
  bool supersedes_port_info(port_index p, const wire::bpdu_repr& config) const noexcept;
  void received_config_bpdu(port_index p, const wire::bpdu_repr& config, sim_time now, sink& out);
  void received_tcn_bpdu(port_index p, sim_time now, sink& out);
  void transmit_config(port_index p, sim_time now, sink& out);
  void record_config(port_index p, const wire::bpdu_repr& config, sim_time now);
  void record_config_timeout_values(const wire::bpdu_repr& config, sim_time now, sink& out);
  void config_bpdu_generation(sim_time now, sink& out);
  void reply(port_index p, sim_time now, sink& out) { transmit_config(p, now, out); }
  void transmit_tcn(sim_time now, sink& out);
  void configuration_update();
  void root_selection();
  void designated_port_selection();
  void become_designated_port(port_index p);
  void port_state_selection(sim_time now, sink& out);
  void make_forwarding(port_index p, sim_time now, sink& out);
  void make_blocking(port_index p, sim_time now, sink& out);
  void topology_change_detection(sim_time now, sink& out);
  void topology_change_acknowledged();
  void acknowledge_topology_change(port_index p, sim_time now, sink& out);
  void become_root_bridge(sim_time now, sink& out);
  void after_root_change(bool was_root, sim_time now, sink& out);
  // 8.7.3-8.7.8 timer expiry.
  void hello_timer_expiry(sim_time now, sink& out);
  void message_age_timer_expiry(port_index p, sim_time now, sink& out);
  void forward_delay_timer_expiry(port_index p, sim_time now, sink& out);
  void tcn_timer_expiry(sim_time now, sink& out);
  void topology_change_timer_expiry(sim_time now, sink& out);
  void hold_timer_expiry(port_index p, sim_time now, sink& out);
  // 8.8 management.
  void initialize_port(port_index p, sim_time now, sink& out);
  void enable_port(port_index p, sim_time now, sink& out);
  void disable_port(port_index p, sim_time now, sink& out);
  bool operational(port_index p) const noexcept {
    return ports_[p].link_up && ports_[p].cfg.admin_enabled;
  }
  void update_operational(port_index p, bool was, sim_time now, sink& out);

  void set_state(port_index p, port_state to, sim_time now, sink& out);
  void set_topology_change(bool on, sim_time now, sink& out);
  void log(sim_time now, sink& out, std::string_view what) const;
  port_info& port_at(port_index p);

  // Bridge parameters, 802.1D-1998 8.5.3.
  wire::bridge_id bridge_id_;                  // 8.5.3.7
  wire::bridge_id designated_root_;            // 8.5.3.1
  std::uint32_t root_path_cost_ = 0;           // 8.5.3.2
  std::optional<port_index> root_port_;        // 8.5.3.3
  sim_time max_age_, hello_time_, forward_delay_;                      // 8.5.3.4-6
  sim_time bridge_max_age_, bridge_hello_time_, bridge_forward_delay_;  // 8.5.3.8-10
  bool topology_change_detected_ = false;      // 8.5.3.11
  bool topology_change_ = false;               // 8.5.3.12
  sim_time hold_time_;                         // 8.5.3.14
  sim_time message_age_increment_;
  path_cost_method cost_method_ = path_cost_method::ieee1998;
  // Bridge timers, 8.5.4.
  timer hello_timer_;                          // 8.5.4.1
  timer tcn_timer_;                            // 8.5.4.2
  timer topology_change_timer_;                // 8.5.4.3

  std::vector<port_info> ports_;
  std::vector<port_state> states_;             // parallel to ports_, for the data path
  bridge_counters counters_;
  bool started_ = false;
};

}  // namespace vnetsim::stp
