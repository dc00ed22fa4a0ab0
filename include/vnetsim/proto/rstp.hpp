#pragma once
/// The Rapid Spanning Tree Protocol engine of one bridge, IEEE 802.1D-2004 clause 17 (RSTP,
/// first published as 802.1w). The state machines of 17.23-17.31 are modelled one by one
/// with the standard's state, variable and procedure names: Port Receive (17.23), Port
/// Protocol Migration (17.24), Bridge Detection (17.25), Port Transmit (17.26), Port
/// Information (17.27), Port Role Selection (17.28), Port Role Transitions (17.29), Port
/// State Transition (17.30) and Topology Change (17.31); Port Timers (17.22) become
/// absolute deadlines.
/// Where 802.1D-2004 has a known erratum the 802.1Q-2011 clause 13 CIST text is followed
/// (named at the place), as mstpd does [mstpd].
///
/// No kernel, scheduler or device inside (STYLE.md "Protocol engines"): the owner feeds in
/// received BPDUs (on_pdu), link changes (set_port_enabled) and timer expiry (on_timer at
/// next_deadline()), and receives output through a `sink`. Timers are absolute deadlines in
/// sim_time, never whole-second ticks: a timer "is zero" when its deadline is <= now. Timers
/// that the standard holds at a value while a state persists (rrWhile of a Root Port,
/// fdWhile of an Alternate or disabled port, ...) are held continuously, i.e. they start to
/// run at the instant the state is left.
///
/// Invariants: ports() always equals each port's role, state and operEdge; every state
/// change goes through one set_state() that reports `A=>B` with the time; the engine never
/// calls the sink outside a call that received it.
///
/// Choices beyond the standard (documented, tested in tests/proto/rstp_test.cpp):
/// - txCount (17.19.44) is decremented once per second after the first transmission that
///   raised it from zero (a per-port deadline), not on a free-running bridge tick.
/// - A TCN BPDU sets rcvdTcn directly in the Port Information RECEIVE state (802.1D-2004
///   routes it to OtherInfo, where setTcFlags() is never called: a known erratum).
/// - Configuration changes take effect through reselect/selected (17.13), not BEGIN.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vnetsim/kernel/sim_time.hpp"
#include "vnetsim/proto/config_error.hpp"
#include "vnetsim/proto/path_cost.hpp"
#include "vnetsim/proto/port_role.hpp"
#include "vnetsim/wire/bpdu.hpp"
#include "vnetsim/wire/mac.hpp"

namespace vnetsim::rstp {

/// Zero-based port index; the Port Identifier's port number is index + 1 (802.1D-2004
/// 9.2.7: port number 0 is not used).
using port_index = std::size_t;

/// Port roles, 802.1D-2004 17.7 (the `role` / `selectedRole` values of 17.19.36, 17.19.37).
using proto::port_role;
using proto::to_string;
/// "Disabled", "Root", "Designated", "Alternate", "Backup" (802.1D-2004 17.7).

/// Port states, 802.1D-2004 17.10 / the Port State Transition machine (17.24).
enum class port_state : std::uint8_t { discarding, learning, forwarding };
/// "Discarding", "Learning", "Forwarding" (802.1D-2004 17.10).
std::string_view to_string(port_state s) noexcept;
/// Frames are relayed through the port (802.1D-2004 17.10).
constexpr bool forwards(port_state s) noexcept { return s == port_state::forwarding; }
/// Source addresses of received frames are learned (802.1D-2004 17.10).
constexpr bool learns(port_state s) noexcept {
  return s == port_state::learning || s == port_state::forwarding;
}

/// Why the engine asks for a filtering database flush on a port (fdbFlush, 17.19.7).
enum class flush_reason : std::uint8_t {
  port_inactive,    ///< Topology Change machine INACTIVE: the port stopped learning
  topology_change,  ///< PROPAGATING: a topology change seen on another port (17.21.8 TC)
};
std::string_view to_string(flush_reason r) noexcept;

/// A rejected rstp configuration; what() is "rstp: <parameter> = <value>: <rule>".
class config_error : public proto::config_error {
 public:
  config_error(std::string parameter, std::string value, std::string rule)
      : proto::config_error("rstp", std::move(parameter), std::move(value), std::move(rule)) {}
};

/// Defaults and ranges, 802.1D-2004 17.13 and Table 17-1 [H3C]: Hello Time 2 s (1-10 s as
/// 802.1D-1998 allows), Max Age 20 s (6-40), Forward Delay 15 s (4-30), Migrate Time 3 s
/// (17.13.9, fixed), Transmit Hold Count 6 (17.13.12, 1-10).
inline constexpr sim_time default_hello_time = sim_time::from_s(2);
inline constexpr sim_time default_max_age = sim_time::from_s(20);
inline constexpr sim_time default_forward_delay = sim_time::from_s(15);
inline constexpr sim_time default_migrate_time = sim_time::from_s(3);
inline constexpr unsigned default_transmit_hold_count = 6;
inline constexpr sim_time min_hello_time = sim_time::from_s(1), max_hello_time = sim_time::from_s(10);
inline constexpr sim_time min_max_age = sim_time::from_s(6), max_max_age = sim_time::from_s(40);
inline constexpr sim_time min_forward_delay = sim_time::from_s(4),
                          max_forward_delay = sim_time::from_s(30);
inline constexpr unsigned min_transmit_hold_count = 1, max_transmit_hold_count = 10;
/// Bridge Priority 32768 in steps of 4096, 0-61440 (802.1D-2004 17.13.7, Table 17-2).
inline constexpr std::uint16_t default_bridge_priority = 32768;
/// Port Priority 128 in steps of 16, 0-240 (802.1D-2004 17.13.10, Table 17-2).
inline constexpr std::uint8_t default_port_priority = 128;
/// Port Path Cost range 1-200,000,000 (802.1D-2004 17.13.11, Table 17-3).
inline constexpr std::uint32_t min_path_cost = proto::min_long_path_cost,
                               max_path_cost = proto::max_long_path_cost;
/// Force Protocol Version (17.13.4): 0 = STP compatibility, 2 = RSTP (the default).
inline constexpr std::uint8_t force_version_stp = 0, force_version_rstp = 2;

/// Recommended Port Path Cost, 802.1D-2004 Table 17-3: 20,000,000,000,000 / speed in b/s
/// (100 Mb/s 200,000; 1 Gb/s 20,000; 10 Gb/s 2,000), clamped to 1-200,000,000; speed 0
/// (unknown) gives 200,000,000. The table lives in proto/path_cost.hpp (shared with stp).
std::uint32_t default_path_cost(std::uint64_t speed_bps) noexcept;

/// Checks the bridge times: each in its Table 17-1 range, a whole number of 1/256 s (the
/// BPDU unit, 9.2.8), and 2 x (Forward Delay - 1 s) >= Max Age >= 2 x (Hello Time + 1 s)
/// (802.1D-2004 17.14) [H3C]. Throws config_error.
void validate_times(sim_time hello_time, sim_time max_age, sim_time forward_delay);

/// Bridge parameters set by management (802.1D-2004 17.13).
struct bridge_config {
  wire::mac_address address;                                 ///< Bridge Address (7.12.5)
  std::uint16_t priority = default_bridge_priority;          ///< 17.13.7, multiple of 4096
  sim_time hello_time = default_hello_time;                  ///< 17.13.6
  sim_time max_age = default_max_age;                        ///< 17.13.8
  sim_time forward_delay = default_forward_delay;            ///< 17.13.5
  sim_time migrate_time = default_migrate_time;              ///< 17.13.9, > 0
  unsigned transmit_hold_count = default_transmit_hold_count;  ///< 17.13.12
  std::uint8_t force_protocol_version = force_version_rstp;  ///< 17.13.4: 0 or 2
};

/// Port parameters set by management (802.1D-2004 17.13).
struct port_config {
  std::uint8_t priority = default_port_priority;  ///< 17.13.10, multiple of 16
  std::uint32_t path_cost = 20'000;               ///< 17.13.11; Table 17-3 for 1 Gb/s
  bool admin_edge = false;                        ///< AdminEdgePort, 17.13.1
  bool auto_edge = true;                          ///< AutoEdgePort, 17.13.3
  bool point_to_point = true;                     ///< operPointToPointMAC (6.4.3)
};

/// Where the engine's output goes (control plane; virtual calls are fine here). Called
/// synchronously from inside engine calls; a sink must not call back into the engine.
class sink {
 public:
  virtual ~sink() = default;
  /// Transmit `bpdu` on `port`: an RST BPDU, or a Configuration / TCN BPDU once the port
  /// has migrated to STP compatibility (sendRSTP false, 17.19.38).
  virtual void transmit(port_index port, const wire::bpdu_repr& bpdu, sim_time now) = 0;
  virtual void role_changed(port_index /*port*/, port_role /*from*/, port_role /*to*/,
                            sim_time /*now*/) {}
  /// Already visible in ports().
  virtual void state_changed(port_index /*port*/, port_state /*from*/, port_state /*to*/,
                             sim_time /*now*/) {}
  /// Remove the dynamic filtering entries learned on `port` (fdbFlush, 17.19.7).
  virtual void flush_fdb(port_index /*port*/, flush_reason /*why*/, sim_time /*now*/) {}
  /// A topology change was detected on `port` (DETECTED) or notified by a neighbour through
  /// it (NOTIFIED_TC); counted as dot1dStpTopChanges.
  virtual void topology_change(port_index /*port*/, bool /*detected_here*/, sim_time /*now*/) {}
  /// operEdge (17.19.17) changed.
  virtual void edge_changed(port_index /*port*/, bool /*oper_edge*/, sim_time /*now*/) {}
  /// One human-readable log line (no trailing newline).
  virtual void log(sim_time /*now*/, std::string_view /*line*/) {}
};

/// What the per-frame path reads for a port (written only by the engine).
struct port_status {
  port_role role = port_role::disabled;
  port_state state = port_state::discarding;
  bool oper_edge = false;  ///< operEdge, 17.19.17
  bool send_rstp = true;   ///< sendRSTP, 17.19.38: false once migrated to STP compatibility
  bool enabled = false;    ///< portEnabled, 17.19.18
};

/// Priority vector, 802.1D-2004 17.5/17.6: compared as one number, lower is better.
struct priority_vector {
  wire::bridge_id root;                ///< Root Bridge Identifier
  std::uint32_t root_path_cost = 0;    ///< Root Path Cost
  wire::bridge_id designated_bridge;   ///< Designated Bridge Identifier
  wire::port_id designated_port{0};    ///< Designated Port Identifier
  wire::port_id bridge_port{0};        ///< Bridge Port Identifier (the receiving port)
  friend constexpr auto operator<=>(const priority_vector&, const priority_vector&) noexcept = default;
};

/// Timer values carried in BPDUs, 802.1D-2004 17.19.22 (portTimes) etc.
struct times {
  sim_time message_age, max_age, hello_time, forward_delay;
  friend constexpr bool operator==(const times&, const times&) noexcept = default;
};

/// Counters, named as the BRIDGE-MIB / RSTP-MIB (RFC 4188, RFC 4318) name them.
struct port_counters {
  std::uint64_t rst_tx = 0, config_tx = 0, tcn_tx = 0;  ///< dot1dStpPort...
  std::uint64_t rst_rx = 0, config_rx = 0, tcn_rx = 0;
  std::uint64_t rx_ignored = 0;             ///< port disabled, aged or looped-back config
  std::uint64_t forward_transitions = 0;    ///< dot1dStpPortForwardTransitions
  std::uint64_t tx_held = 0;                ///< a BPDU wanted but txCount >= TxHoldCount
};

namespace detail {
/// Machine states. Transient states (those with an unconditional exit) are executed as
/// actions and not stored.
enum class prx : std::uint8_t { discard, receive };                          // 17.23
enum class ppm : std::uint8_t { checking_rstp, selecting_stp, sensing };     // 17.24
enum class bdm : std::uint8_t { edge, not_edge };                            // 17.25
enum class ptx : std::uint8_t { transmit_init, idle };                       // 17.26
enum class pim : std::uint8_t { disabled, aged, current };                   // 17.27
enum class prt : std::uint8_t {                                              // 17.29
  init_port, disable_port, disabled_port, root_port, designated_port, block_port,
  alternate_port
};
enum class tcm : std::uint8_t { inactive, learning, active };                // 17.31
enum class info_is : std::uint8_t { disabled, aged, mine, received };        // 17.19.10
enum class rcvd_info : std::uint8_t {                                        // 17.19.26
  superior_designated, repeated_designated, inferior_designated, inferior_root_alternate,
  other
};

/// The per-port variables of 802.1D-2004 17.19 (names as in the standard).
struct port_vars {
  port_config cfg;
  wire::port_id port_id;  // portId, 17.19.19
  // 17.17 timers, as absolute deadlines.
  sim_time edge_delay_while, fd_while, hello_when, mdelay_while, rb_while, rcvd_info_while,
      rr_while, tc_while;
  sim_time tx_decrement_at;  // next decrement of txCount (17.19.44)
  unsigned tx_count = 0;
  bool agree = false, agreed = false, disputed = false, fdb_flush = false, forward = false,
       forwarding = false, learn = false, learning = false, mcheck = false, new_info = false,
       oper_edge = false, port_enabled = false, proposed = false, proposing = false,
       rcvd_bpdu = false, rcvd_msg = false, rcvd_rstp = false, rcvd_stp = false,
       rcvd_tc = false, rcvd_tc_ack = false, rcvd_tcn = false, re_root = false,
       reselect = false, selected = false, send_rstp = true, sync = false, synced = false,
       tc_ack = false, tc_prop = false, updt_info = false;
  info_is info = info_is::disabled;
  rcvd_info rcvd = rcvd_info::other;
  port_role role = port_role::disabled, selected_role = port_role::disabled;
  priority_vector designated_priority, msg_priority, port_priority;
  times designated_times, msg_times, port_times;
  wire::bpdu_repr rx;  // the BPDU behind rcvdBpdu
  prx prx_state = prx::discard;
  ppm ppm_state = ppm::checking_rstp;
  bdm bdm_state = bdm::not_edge;
  ptx ptx_state = ptx::transmit_init;
  pim pim_state = pim::disabled;
  prt prt_state = prt::init_port;
  tcm tcm_state = tcm::inactive;
  port_counters counters;
};
}  // namespace detail

/// The RSTP engine of one bridge.
class engine {
 public:
  /// Validates `cfg` and every `ports` entry (throws config_error) and runs BEGIN: every
  /// port starts disabled (link down), Disabled role, Discarding.
  engine(const bridge_config& cfg, std::span<const port_config> ports);

  /// A received BPDU, already parsed (RST, Configuration or TCN). Configuration BPDUs with
  /// Message Age >= Max Age, or carrying this port's own Bridge and Port Identifiers, are
  /// ignored (802.1D-2004 9.3.4). O(ports) per call, more when roles change.
  void on_pdu(port_index port, const wire::bpdu_repr& bpdu, sim_time now, sink& out);
  /// Runs the machines at `now`; call it at next_deadline().
  void on_timer(sim_time now, sink& out);
  /// The earliest deadline after the last run at which some timer expiry matters; nullopt
  /// when nothing runs (all ports down). O(ports).
  std::optional<sim_time> next_deadline() const noexcept;
  /// MAC_Operational changes (portEnabled, 17.19.18).
  void set_port_enabled(port_index port, bool up, sim_time now, sink& out);
  /// operPointToPointMAC (6.4.3); read at the next run.
  void set_point_to_point(port_index port, bool p2p);
  /// mcheck (17.19.13): force a port back to sending RST BPDUs.
  void mcheck(port_index port, sim_time now, sink& out);

  /// Management (17.13). Each throws config_error on an invalid value and otherwise takes
  /// effect through reselect (priority, cost) or at the next use (the rest).
  void set_bridge_priority(std::uint16_t priority, sim_time now, sink& out);
  void set_port_priority(port_index port, std::uint8_t priority, sim_time now, sink& out);
  void set_path_cost(port_index port, std::uint32_t cost, sim_time now, sink& out);
  /// Hello Time, Max Age and Forward Delay together (checked by validate_times).
  void set_bridge_times(sim_time hello_time, sim_time max_age, sim_time forward_delay,
                        sim_time now, sink& out);
  void set_transmit_hold_count(unsigned count);
  /// AdminEdgePort takes effect when the port is (re-)enabled (Bridge Detection, 17.25).
  void set_admin_edge(port_index port, bool edge);
  void set_auto_edge(port_index port, bool auto_edge);

  // --- read side -----------------------------------------------------------------------
  /// One entry per port, contiguous, for the per-frame path.
  std::span<const port_status> ports() const noexcept { return status_; }
  port_role role(port_index port) const { return status_.at(port).role; }
  port_state state(port_index port) const { return status_.at(port).state; }
  bool oper_edge(port_index port) const { return status_.at(port).oper_edge; }
  bool send_rstp(port_index port) const { return status_.at(port).send_rstp; }
  std::size_t port_count() const noexcept { return ports_.size(); }
  wire::bridge_id bridge_id() const noexcept { return bridge_id_; }
  /// rootPriority (17.18.6): the root this bridge believes in and its cost to it.
  wire::bridge_id designated_root() const noexcept { return root_priority_.root; }
  std::uint32_t root_path_cost() const noexcept { return root_priority_.root_path_cost; }
  const priority_vector& root_priority() const noexcept { return root_priority_; }
  const times& root_times() const noexcept { return root_times_; }
  /// The Root Port (rootPortId, 17.18.5); nullopt on the root bridge.
  std::optional<port_index> root_port() const noexcept { return root_port_; }
  bool is_root_bridge() const noexcept { return !root_port_.has_value(); }
  /// Some port's tcWhile is running (the bridge's topology change flag, 17.17.8).
  bool topology_change(sim_time now) const noexcept;
  const port_config& config(port_index port) const { return ports_.at(port).cfg; }
  wire::port_id port_id(port_index port) const { return ports_.at(port).port_id; }
  const port_counters& counters(port_index port) const { return ports_.at(port).counters; }
  const bridge_config& config() const noexcept { return cfg_; }

 private:
  using port_vars = detail::port_vars;

  // The machine runner: every machine until none changes, then Port Transmit.
  void run(sim_time now, sink& out);
  void hold_timers();
  bool port_receive(port_index p);
  bool port_protocol_migration(port_index p);
  bool bridge_detection(port_index p);
  bool port_transmit(port_index p);
  bool port_information(port_index p);
  bool port_role_selection();
  bool port_role_transitions(port_index p);
  bool port_state_transition(port_index p);
  bool topology_change_machine(port_index p);

  // Procedures of 17.21 (names as in the standard).
  bool betterorsame_info(const port_vars& pt, detail::info_is new_info_is) const noexcept;
  void clear_reselect_tree() noexcept;
  void new_tc_while(port_vars& pt) noexcept;
  detail::rcvd_info rcv_info(port_vars& pt) noexcept;
  void record_agreement(port_vars& pt) noexcept;
  void record_dispute(port_vars& pt) noexcept;
  void record_proposal(port_vars& pt) noexcept;
  void set_re_root_tree() noexcept;
  void set_selected_tree() noexcept;
  void set_sync_tree() noexcept;
  void set_tc_flags(port_vars& pt) noexcept;
  void set_tc_prop_tree(port_index except) noexcept;
  void tx_config(port_index p);
  void tx_rstp(port_index p);
  void tx_tcn(port_index p);
  void updt_bpdu_version(port_vars& pt) noexcept;
  void updt_rcvd_info_while(port_vars& pt) noexcept;
  void updt_role_disabled_tree() noexcept;
  void updt_roles_tree();
  // Conditions of 17.20.
  bool all_synced(port_index p) const noexcept;
  bool re_rooted(port_index p) const noexcept;
  bool rstp_version() const noexcept { return cfg_.force_protocol_version >= 2; }
  sim_time edge_delay(const port_vars& pt) const noexcept;
  sim_time forward_delay(const port_vars& pt) const noexcept;
  sim_time fwd_delay(const port_vars& pt) const noexcept { return pt.designated_times.forward_delay; }
  sim_time hello_time(const port_vars& pt) const noexcept { return pt.port_times.hello_time; }
  sim_time max_age(const port_vars& pt) const noexcept { return pt.designated_times.max_age; }

  // Role-transition state entries (17.29).
  void enter_root_port(port_vars& pt);
  void enter_alternate_port(port_vars& pt);
  void enter_disabled_port(port_vars& pt);
  void set_role(port_index p, port_role r);
  void set_state(port_index p, port_state to);
  void flush(port_index p, flush_reason why);

  // Timer helpers: a timer is zero when its deadline is <= now_.
  bool zero(sim_time deadline) const noexcept { return deadline <= now_; }
  sim_time remaining(sim_time deadline) const noexcept {
    return deadline > now_ ? deadline - now_ : sim_time::zero();
  }
  void start(sim_time& deadline, sim_time value) const noexcept { deadline = now_ + value; }

  port_vars& port_at(port_index p);
  void log(std::string_view line) const;

  bridge_config cfg_;
  wire::bridge_id bridge_id_;        // BridgeIdentifier, 17.18.2
  priority_vector bridge_priority_;  // BridgePriority, 17.18.3
  times bridge_times_;               // BridgeTimes, 17.18.4
  priority_vector root_priority_;    // rootPriority, 17.18.6
  times root_times_;                 // rootTimes, 17.18.7
  std::optional<port_index> root_port_;  // rootPortId, 17.18.5
  bool prs_initialized_ = false;     // Port Role Selection left INIT_BRIDGE
  std::vector<port_vars> ports_;
  std::vector<port_status> status_;
  // Valid only during a run.
  sim_time now_;
  sim_time last_run_;
  sink* out_ = nullptr;
};

}  // namespace vnetsim::rstp
