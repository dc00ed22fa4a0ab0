#pragma once
/// ESX Server 2.x beacon monitoring for one bond [AG2][SEED].
///
/// The engine holds no device, kernel or scheduler (STYLE.md "Protocol engines"): the host
/// calls start(), feeds it the beacons its members receive (on_beacon) and its deadlines
/// (on_timer at next_deadline()); beacons to send go out through a `sink` as whole frames
/// (wire/beacon.hpp is vnetsim's own beacon format). The result is a per-member verdict
/// table (verdicts()) that bond::policy consumes.
///
/// Rounds: at start and then every SwitchFailoverBeaconInterval, each member with link up
/// sends one broadcast beacon from its own MAC, tagged with SwitchFailoverBeaconVlanID when
/// set, with EtherType SwitchFailoverBeaconEtherType [AG2]. A beacon sent by member i and
/// received on member j != i is evidence for both i and j (the path between them works);
/// both miss counters are reset at once. At each round boundary, before sending, every
/// member that got no evidence since the previous boundary has its count of consecutive
/// missed beacons incremented.
///
/// Decision rule (vnetsim's, after [AG2] and [VS65]): a member is *silent* when its miss
/// count exceeds the threshold (rule `exceeds`, the documented word [AG2]) or reaches it
/// (rule `reaches`, an option). Then:
/// - if at least one member is not silent (so some pair still hears each other, because
///   evidence always comes in pairs), every silent member is `failed`;
/// - if every member is silent, nobody can tell which side is bad (two members and one
///   broken path): every member is `ambiguous`, the vSphere "shotgun" case [VS65], and the
///   host may send on all of them. So n members survive n-2 failures [VS65].
/// A member with any evidence is `ok` again at once (recovery). With "exceeds" and
/// threshold T, a member isolated from round k on is failed at the boundary of round
/// k+T+1, i.e. interval x (T+1) after the first lost beacon; with "reaches", after
/// interval x T, which is the documented "total beacon failure interval" [AG2][SEED].
///
/// Threshold: the per-bond `switch_failover_threshold` overrides the host-wide
/// `SwitchFailoverThreshold` [AG2]; 0 = off (the default [AG2]: no beacon is sent, every
/// member stays ok); 2 or more = on; 1 is not described [AG2] and is rejected as a
/// config_error (vnetsim's choice: a silent "off" would hide a typo). A bond of a single
/// member has nobody to hear: it sends nothing and stays ok (not an error, since the
/// host-wide threshold applies to one-NIC bonds too).
///
/// False failures are reproduced, not hidden: a switch that traps beacons makes the
/// monitor declare a working member failed [AG2]; the monitor cannot know data still flows.

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
#include "vnetsim/proto/bond_policy.hpp"
#include "vnetsim/proto/config_error.hpp"
#include "vnetsim/wire/beacon.hpp"
#include "vnetsim/wire/mac.hpp"

namespace vnetsim::beacon {

/// Index of a member in the bond (the same index as bond::member and as the beacon's
/// member_index field).
using member = bond::member;

/// Default SwitchFailoverBeaconInterval. UNVERIFIED for ESX 2.x [AG2]: vnetsim uses the
/// 1 s of later products [VS65][KB1005577]. Configurable.
inline constexpr sim_time default_interval = sim_time::from_s(1);
/// Default SwitchFailoverThreshold: 0 = off [AG2].
inline constexpr unsigned default_threshold = 0;
/// Smallest threshold that turns monitoring on [AG2].
inline constexpr unsigned min_enabled_threshold = 2;

/// How the miss count is compared with the threshold.
enum class threshold_rule : std::uint8_t {
  exceeds,  ///< failed when missed > threshold: the documented word [AG2] (default)
  reaches,  ///< failed when missed >= threshold: matches interval x threshold [SEED]
};
std::string_view to_string(threshold_rule r) noexcept;

/// A member's beacon state.
enum class member_state : std::uint8_t {
  ok,         ///< evidence within the threshold (or monitoring off)
  ambiguous,  ///< silent, but so is everyone: cannot tell which side is bad [VS65]
  failed,     ///< silent while other members still hear each other
};
/// "OK", "AMBIGUOUS", "FAILED".
std::string_view to_string(member_state s) noexcept;
/// The verdict bond::policy takes for a state.
constexpr bond::probe_verdict verdict(member_state s) noexcept {
  switch (s) {
    case member_state::ok: return bond::probe_verdict::ok;
    case member_state::ambiguous: return bond::probe_verdict::suspect;
    case member_state::failed: return bond::probe_verdict::failed;
  }
  return bond::probe_verdict::ok;
}

/// One bond's beacon settings: Advanced Settings (host-wide) and hwconfig (per bond) [AG2].
struct config {
  std::vector<wire::mac_address> members;  ///< each member's MAC, 1..bond::max_members
  std::uint16_t bond_id = 0;               ///< N of bondN, written into every beacon
  sim_time interval = default_interval;    ///< SwitchFailoverBeaconInterval (UNVERIFIED 1 s)
  unsigned host_threshold = default_threshold;      ///< SwitchFailoverThreshold [AG2]
  std::optional<unsigned> switch_failover_threshold;  ///< nicteam.bondN.*, overrides [AG2]
  threshold_rule rule = threshold_rule::exceeds;
  std::optional<std::uint16_t> vlan_id;    ///< SwitchFailoverBeaconVlanID, 1..4094
  std::uint16_t ether_type = wire::beacon_default_ether_type;  ///< ...BeaconEtherType
};

/// A rejected beacon configuration; what() is "beacon: <parameter> = <value>: <rule>".
class config_error : public proto::config_error {
 public:
  config_error(std::string parameter, std::string value, std::string rule)
      : proto::config_error("beacon", std::move(parameter), std::move(value), std::move(rule)) {}
};

/// Output of the engine (control plane; virtual calls are fine here). Called
/// synchronously; a sink must not call back into the monitor.
class sink {
 public:
  virtual ~sink() = default;
  /// Send `frame` (broadcast, from the member's MAC) out of member `m`.
  virtual void transmit(sim_time now, member m, const wire::beacon_frame_repr& frame) = 0;
  /// The member's state changed (already visible in state() and verdicts()).
  virtual void state_changed(sim_time /*now*/, member /*m*/, member_state /*from*/,
                             member_state /*to*/) {}
  /// One human-readable line such as "member 2: OK=>FAILED".
  virtual void log(sim_time /*now*/, std::string_view /*line*/) {}
};

/// Per-member counters.
struct member_counters {
  std::uint64_t beacons_tx = 0;
  std::uint64_t beacons_rx = 0;      ///< beacons from another member of this bond
  std::uint64_t rx_ignored = 0;      ///< own beacon looped back, other bond, bad index/MAC
  std::uint64_t missed_rounds = 0;   ///< rounds without evidence, in total
  std::uint64_t failures = 0;        ///< transitions to failed
};

/// Beacon monitor of one bond. Every call is O(members), no allocation after construction
/// except for log lines. A member index out of range throws config_error.
class monitor {
 public:
  /// Validates `cfg`; throws config_error naming the parameter, value and rule.
  explicit monitor(config cfg);

  /// Starts monitoring: sends the first round now. Before start() there is no deadline
  /// and received beacons are ignored.
  void start(sim_time now, sink& out);
  /// A beacon parsed from a frame received on member `receiver`.
  void on_beacon(member receiver, const wire::beacon_repr& b, sim_time now, sink& out);
  /// Runs the round boundary if its deadline is at or before `now`.
  void on_timer(sim_time now, sink& out);
  /// The next round boundary; nullopt when off, not started, or a single member.
  std::optional<sim_time> next_deadline() const noexcept;
  /// Link state: a member with link down sends no beacon (its count keeps running).
  void set_link(member m, bool up);

  /// The verdict table bond::policy::apply_probes reads; one row per member.
  std::span<const bond::probe_verdict> verdicts() const noexcept { return verdicts_; }
  member_state state(member m) const;
  /// Consecutive rounds without evidence.
  unsigned missed(member m) const;
  const member_counters& counters(member m) const;
  /// The effective threshold (per-bond override, else host-wide); 0 = off.
  unsigned threshold() const noexcept { return threshold_; }
  bool enabled() const noexcept { return threshold_ != 0 && vars_.size() > 1; }
  std::size_t member_count() const noexcept { return vars_.size(); }
  const config& configuration() const noexcept { return cfg_; }

 private:
  struct member_vars {
    bool link_up = true;
    bool evidence = false;   // evidence since the last round boundary
    unsigned missed = 0;     // consecutive rounds without evidence
    std::uint32_t sequence = 0;
    member_state state = member_state::ok;
    member_counters counters;
  };

  void check(member m) const;
  bool silent(const member_vars& v) const noexcept;
  void classify(sim_time now, sink& out);
  void set_state(member m, member_state s, sim_time now, sink& out);
  void send_round(sim_time now, sink& out);

  config cfg_;
  unsigned threshold_ = 0;
  std::vector<member_vars> vars_;
  std::vector<bond::probe_verdict> verdicts_;
  std::optional<sim_time> next_round_;
};

}  // namespace vnetsim::beacon
