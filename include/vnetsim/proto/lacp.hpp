#pragma once
/// Link Aggregation Control Protocol engine, IEEE 802.1AX-2014 clause 6.4 (originally
/// IEEE 802.3ad), for one aggregation system (a switch or a host) with several ports.
///
/// The engine holds no device, kernel or scheduler (STYLE.md "Protocol engines"): the
/// device that owns it feeds it parsed LACPDUs (on_pdu), carrier changes
/// (set_port_enabled) and its own deadlines (on_timer at next_deadline()); output goes
/// through a `sink`. Each port runs the 6.4 machines: Receive (6.4.12), Periodic
/// Transmission (6.4.13), Selection Logic (6.4.14), Mux with *coupled* control (6.4.15,
/// one COLLECTING_DISTRIBUTING state), Transmit (6.4.16, at most 3 LACPDUs
/// per Fast_Periodic_Time) and Churn Detection (6.4.17). Timers are absolute deadlines.
///
/// After every input the machines are evaluated until none changes state; then each port
/// with NTT set transmits if the rate limit allows. Same inputs give the same outputs.
///
/// Control apart from data: the per-frame path reads port_table() (collecting,
/// distributing and attached aggregator per port) and never calls the engine.
///
/// Simplifications (documented choices, not the standard's letter):
/// - Selection considers only ports with carrier, and losing carrier makes a port
///   UNSELECTED (so it detaches at once and aggregator membership lists only operable
///   links); the standard would leave it ATTACHED with collecting/distributing off.
/// - One Aggregator per port (identifiers 1..N, "own" aggregator = index + 1), no
///   STANDBY (no limit on the number of links per aggregator), no Marker protocol,
///   no version-2 TLVs, no loopback detection.

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
#include "vnetsim/wire/lacp.hpp"
#include "vnetsim/wire/mac.hpp"
#include "vnetsim/wire/parse_result.hpp"

namespace vnetsim::lacp {

/// Index of a port in this engine, 0..port_count()-1 (not the LACP Port Number).
using port_index = std::uint16_t;
/// Aggregator identifier, 1..port_count(); 0 = none.
using aggregator_id = std::uint16_t;
inline constexpr aggregator_id no_aggregator = 0;

/// Timer constants, 802.1AX-2014 6.4.4 [LK3AD].
inline constexpr sim_time fast_periodic_time = sim_time::from_s(1);
inline constexpr sim_time slow_periodic_time = sim_time::from_s(30);
inline constexpr sim_time short_timeout_time = sim_time::from_s(3);   // 3 x fast
inline constexpr sim_time long_timeout_time = sim_time::from_s(90);   // 3 x slow
inline constexpr sim_time churn_detection_time = sim_time::from_s(60);
inline constexpr sim_time aggregate_wait_time = sim_time::from_s(2);
/// At most this many LACPDUs in any Fast_Periodic_Time interval, 802.1AX-2014 6.4.16.
inline constexpr unsigned max_tx_per_fast_periodic = 3;

/// LACP_Activity (802.1AX-2014 6.4.2.3 Actor_State bit 0).
enum class activity : std::uint8_t { passive, active };
/// LACP_Timeout (6.4.2.3 bit 1): long = slow rate (30 s / 90 s), short = fast (1 s / 3 s).
enum class lacp_timeout : std::uint8_t { long_timeout, short_timeout };
/// Selected (6.4.8); STANDBY is not modelled.
enum class selected_state : std::uint8_t { unselected, selected };

/// Receive machine states, 802.1AX-2014 6.4.12.
enum class rx_state : std::uint8_t {
  initialize, port_disabled, expired, lacp_disabled, defaulted, current
};
/// Periodic Transmission machine states, 6.4.13.
enum class periodic_state : std::uint8_t { no_periodic, fast_periodic, slow_periodic, periodic_tx };
/// Mux machine states, coupled control, 6.4.15.
enum class mux_state : std::uint8_t { detached, waiting, attached, collecting_distributing };
/// Actor and Partner Churn Detection machine states, 6.4.17.
enum class actor_churn_state : std::uint8_t { no_actor_churn, actor_churn_monitor, actor_churn };
enum class partner_churn_state : std::uint8_t {
  no_partner_churn, partner_churn_monitor, partner_churn
};

std::string_view to_string(activity a) noexcept;
std::string_view to_string(lacp_timeout t) noexcept;
std::string_view to_string(selected_state s) noexcept;
std::string_view to_string(rx_state s) noexcept;
std::string_view to_string(periodic_state s) noexcept;
std::string_view to_string(mux_state s) noexcept;
std::string_view to_string(actor_churn_state s) noexcept;
std::string_view to_string(partner_churn_state s) noexcept;

/// Coupled control: the port collects and distributes only in COLLECTING_DISTRIBUTING.
constexpr bool collects(mux_state s) noexcept { return s == mux_state::collecting_distributing; }
constexpr bool distributes(mux_state s) noexcept { return s == mux_state::collecting_distributing; }

/// Timer values; the defaults are the standard's (802.1AX-2014 6.4.4) [LK3AD]. Changing
/// them is for experiments (e.g. the jitter flapping of teaming-facts.md section 3 item 3).
struct timer_config {
  sim_time fast_periodic = fast_periodic_time;
  sim_time slow_periodic = slow_periodic_time;
  sim_time short_timeout = short_timeout_time;
  sim_time long_timeout = long_timeout_time;
  sim_time churn_detection = churn_detection_time;
  sim_time aggregate_wait = aggregate_wait_time;
  unsigned tx_limit = max_tx_per_fast_periodic;  ///< LACPDUs per fast_periodic (6.4.16)
};

/// One Aggregation Port's administrative settings (802.1AX-2014 6.4.7).
struct port_config {
  std::uint16_t port_number = 0;         ///< Actor_Port_Number: 1..65535, unique (6.3.4)
  std::uint16_t port_priority = 0x8000;  ///< Actor_Port_Priority
  std::uint16_t key = 1;                 ///< Actor_Admin_Port_Key (6.3.5)
  activity lacp_activity = activity::active;
  lacp_timeout timeout = lacp_timeout::long_timeout;
  bool aggregatable = true;              ///< Aggregation bit; false = Individual (6.3.6)
  bool lacp_enabled = true;              ///< LACP_Enabled (6.4.8); false = half duplex
  /// Partner_Admin_* values used while DEFAULTED (6.4.7); all zero by default, i.e. an
  /// unknown, passive, individual, out-of-sync partner.
  wire::lacp_info partner_admin{};
};

/// The aggregation system's settings (802.1AX-2014 6.3.2, 6.4.7).
struct system_config {
  std::uint16_t system_priority = 0x8000;  ///< Actor_System_Priority
  wire::mac_address system;                ///< Actor_System: unicast, non-zero
  std::uint16_t collector_max_delay = 0;   ///< CollectorMaxDelay, tens of us (6.4.2.3)
  timer_config timers{};
  std::vector<port_config> ports;
};

/// A rejected lacp configuration; what() is "lacp: <parameter> = <value>: <rule>".
class config_error : public proto::config_error {
 public:
  config_error(std::string parameter, std::string value, std::string rule)
      : proto::config_error("lacp", std::move(parameter), std::move(value), std::move(rule)) {}
};

/// One row of the table the per-frame path reads.
struct port_entry {
  bool collecting = false;
  bool distributing = false;
  aggregator_id aggregator = no_aggregator;  ///< attached aggregator, or none

  friend constexpr bool operator==(const port_entry&, const port_entry&) noexcept = default;
};

/// Per-port counters, named as in IEEE8023-LAG-MIB (dot3adAggPortStatsTable and
/// dot3adAggPortDebugTable), plus the LACPDUs dropped for lack of carrier [OVSlacp].
struct port_counters {
  std::uint64_t dot3adAggPortStatsLACPDUsRx = 0;    ///< valid LACPDUs accepted
  std::uint64_t dot3adAggPortStatsLACPDUsTx = 0;
  std::uint64_t dot3adAggPortStatsIllegalRx = 0;    ///< badly formed slow-protocol PDUs
  std::uint64_t dot3adAggPortStatsUnknownRx = 0;    ///< unknown subtypes (Marker too)
  std::uint64_t dot3adAggPortDebugActorChurnCount = 0;
  std::uint64_t dot3adAggPortDebugPartnerChurnCount = 0;
  std::uint64_t rx_dropped_no_carrier = 0;          ///< LACPDUs arriving without carrier
};

/// What on_pdu did with a LACPDU (receive admission).
enum class rx_verdict : std::uint8_t {
  accepted,            ///< given to the Receive machine
  dropped_no_carrier,  ///< port_enabled FALSE: dropped and counted [OVSlacp]
  ignored_lacp_disabled,
};
std::string_view to_string(rx_verdict v) noexcept;

/// Output of the engine (control plane; virtual calls are fine here).
class sink {
 public:
  virtual ~sink() = default;
  /// Send `pdu` out of `port`; the device adds the Ethernet header (destination
  /// Slow_Protocols_Multicast, EtherType 0x8809, 802.1AX-2014 6.2.11).
  virtual void transmit(sim_time now, port_index port, const wire::lacp_repr& pdu) = 0;
  /// The port's collecting/distributing flags changed; `entry` is its new table row.
  virtual void port_changed(sim_time /*now*/, port_index /*port*/, const port_entry& /*entry*/) {}
  /// The port attached to `to` (Attach_Mux_To_Aggregator) or detached from `from`.
  virtual void aggregator_changed(sim_time /*now*/, port_index /*port*/, aggregator_id /*from*/,
                                  aggregator_id /*to*/) {}
  /// A line such as "port 0 mux: WAITING=>ATTACHED".
  virtual void log(sim_time /*now*/, std::string_view /*line*/) {}
};

/// A snapshot of one port's 802.1AX variables, for tests and reports.
struct port_status {
  rx_state rx = rx_state::initialize;
  periodic_state periodic = periodic_state::no_periodic;
  mux_state mux = mux_state::detached;
  actor_churn_state actor_churn = actor_churn_state::actor_churn_monitor;
  partner_churn_state partner_churn = partner_churn_state::partner_churn_monitor;
  selected_state selected = selected_state::unselected;
  aggregator_id selected_aggregator = no_aggregator;  ///< chosen by Selection Logic
  bool port_enabled = false;
  bool lacp_enabled = true;
  bool ntt = false;
  bool actor_churn_flag = false;    ///< Actor_Churn
  bool partner_churn_flag = false;  ///< Partner_Churn
  wire::lacp_info actor;            ///< Actor_Oper_* (what the next LACPDU carries)
  wire::lacp_info partner;          ///< Partner_Oper_*
};

namespace detail {

/// A one-shot timer as an absolute deadline. `expired` stays true once the deadline is
/// passed (the standard's "timer expired" condition) until restarted or stopped.
struct timer {
  std::optional<sim_time> deadline;
  bool expired = false;

  void start(sim_time now, sim_time duration) noexcept {
    deadline = now + duration;
    expired = false;
  }
  void stop() noexcept {
    deadline.reset();
    expired = false;
  }
  void advance(sim_time now) noexcept {
    if (deadline && *deadline <= now) {
      deadline.reset();
      expired = true;
    }
  }
};

/// The per-port variables of 802.1AX-2014 6.4.7 and 6.4.8.
struct port_vars {
  port_config cfg;
  bool port_enabled = false;  // port_enabled (6.4.8): carrier
  bool lacp_enabled = true;   // LACP_Enabled (6.4.8)
  bool port_moved = false;    // Port_Moved (6.4.8)
  bool ntt = false;           // NTT (6.4.8)
  selected_state selected = selected_state::unselected;
  aggregator_id selected_agg = no_aggregator;
  std::uint16_t actor_oper_key = 0;  // Actor_Oper_Port_Key (6.4.7)
  wire::lacp_state actor_state;      // Actor_Oper_Port_State (6.4.7)
  wire::lacp_info partner;           // Partner_Oper_* (6.4.7)
  bool actor_churn = false;          // Actor_Churn (6.4.17)
  bool partner_churn = false;        // Partner_Churn (6.4.17)

  rx_state rx = rx_state::initialize;
  periodic_state periodic = periodic_state::no_periodic;
  mux_state mux = mux_state::detached;
  actor_churn_state achurn = actor_churn_state::actor_churn_monitor;
  partner_churn_state pchurn = partner_churn_state::partner_churn_monitor;

  timer current_while;       // 6.4.10
  timer periodic_timer;      // 6.4.10
  timer wait_while;          // 6.4.10
  timer actor_churn_timer;   // 6.4.10
  timer partner_churn_timer; // 6.4.10

  /// Times of the last tx_limit transmissions (a ring), for the 6.4.16 limit.
  std::vector<sim_time> tx_times;
  std::size_t tx_next = 0;
  std::size_t tx_count = 0;

  port_counters counters;
};

}  // namespace detail

/// The LACP engine of one aggregation system.
///
/// Every mutating call takes the current time (never earlier than the previous call)
/// and the sink; the first call performs BEGIN (6.4.8). A port index out of range
/// throws config_error. Cost per call: O(P^2) in the
/// number of ports P for Selection Logic, O(P) otherwise; no allocation after
/// construction except for log lines.
class engine {
 public:
  /// Validates `cfg`; throws config_error naming the parameter, value and rule.
  explicit engine(system_config cfg);

  /// BEGIN = TRUE: every machine to its initial state, ports without carrier. Called
  /// implicitly by the first input; call it again to restart the protocol.
  void begin(sim_time now, sink& out);

  /// A LACPDU parsed from a frame received on `port` (802.1AX-2014 6.4.12 "LACPDU
  /// received"). Dropped and counted when the port has no carrier [OVSlacp].
  rx_verdict on_pdu(port_index port, const wire::lacp_repr& pdu, sim_time now, sink& out);
  /// A Slow Protocols frame on `port` that did not parse as a LACPDU: bad_type (unknown
  /// subtype, Marker included) counts as UnknownRx, anything else as IllegalRx.
  void on_bad_pdu(port_index port, wire::parse_error why);
  /// Runs every timer whose deadline is at or before `now`.
  void on_timer(sim_time now, sink& out);
  /// The earliest pending deadline (timers and a rate-limited transmission), if any.
  std::optional<sim_time> next_deadline() const noexcept;

  /// Carrier (port_enabled, 6.4.8) went up or down.
  void set_port_enabled(port_index port, bool up, sim_time now, sink& out);
  /// LACP_Enabled (6.4.8); a change passes through PORT_DISABLED.
  void set_lacp_enabled(port_index port, bool enabled, sim_time now, sink& out);

  /// The table the per-frame path reads; one row per port, stable for the engine's life.
  std::span<const port_entry> port_table() const noexcept { return table_; }
  const port_counters& counters(port_index port) const { return port_at(port).counters; }
  port_status status(port_index port) const;
  /// Ports attached to `agg`, in index order.
  std::vector<port_index> members(aggregator_id agg) const;
  std::size_t port_count() const noexcept { return ports_.size(); }
  const system_config& config() const noexcept { return cfg_; }

 private:
  const detail::port_vars& port_at(port_index port) const;
  detail::port_vars& port_at(port_index port);
  void enter(sim_time now, sink& out);
  void advance_timers(sim_time now);
  void run_machines();

  // Receive machine (6.4.12).
  void set_rx(port_index i, rx_state s);
  void enter_rx(port_index i, rx_state s, const wire::lacp_repr* pdu);
  bool step_rx(port_index i);
  void record_pdu(detail::port_vars& p, const wire::lacp_repr& pdu);       // 6.4.9
  void record_default(detail::port_vars& p);                              // 6.4.9
  void update_selected(detail::port_vars& p, const wire::lacp_repr& pdu);  // 6.4.9
  void update_default_selected(detail::port_vars& p);                     // 6.4.9
  void update_ntt(detail::port_vars& p, const wire::lacp_repr& pdu);       // 6.4.9
  // Periodic Transmission machine (6.4.13).
  void set_periodic(port_index i, periodic_state s);
  bool step_periodic(port_index i);
  // Selection Logic (6.4.14).
  bool selection_logic();
  bool individual(const detail::port_vars& p) const noexcept;
  bool same_lag(const detail::port_vars& a, const detail::port_vars& b) const noexcept;
  bool ready(aggregator_id agg) const noexcept;
  // Mux machine (6.4.15).
  void set_mux(port_index i, mux_state s);
  bool step_mux(port_index i);
  void attach_mux_to_aggregator(port_index i);
  void detach_mux_from_aggregator(port_index i);
  void set_collecting_distributing(port_index i, bool on);
  // Churn Detection machines (6.4.17).
  void set_actor_churn(port_index i, actor_churn_state s);
  void set_partner_churn(port_index i, partner_churn_state s);
  bool step_churn(port_index i);
  // Transmit machine (6.4.16).
  void transmit_machine(port_index i);
  bool tx_allowed(const detail::port_vars& p) const noexcept;
  std::optional<sim_time> tx_release_time(const detail::port_vars& p) const noexcept;
  wire::lacp_repr make_pdu(const detail::port_vars& p) const noexcept;

  void log_change(port_index i, std::string_view machine, std::string_view from,
                  std::string_view to);

  system_config cfg_;
  std::vector<detail::port_vars> ports_;
  std::vector<port_entry> table_;
  bool begun_ = false;
  sim_time now_{};
  sink* out_ = nullptr;  // valid only during a call
};

}  // namespace vnetsim::lacp
