#pragma once
/// ESX Server 2.x NIC-team ("bond") policy: which member carries a frame, failover and
/// failback, receive admission and the bond's offload capabilities [AG2][SEED].
///
/// The engine holds no device, kernel or scheduler (STYLE.md "Protocol engines"): the host
/// feeds it link changes (set_link, as the NIC reports them) and beacon verdicts
/// (set_probe / apply_probes, from beacon::monitor) with the current time; events go out
/// through a `sink`. Control apart from data: control calls rewrite a fixed array of
/// bucket_count buckets (OVS BOND_BUCKETS), the per-frame select() only reads it: O(1), no
/// allocation, no virtual call.
///
/// Modes (`nicteam.bondN.load_balance_mode`, `nicteam.bondN.home_link`) [AG2][SEED]:
/// - out-mac (default [AG2]): the source MAC is hashed (mac_bucket) into the buckets, so
///   each VM adapter stays on one NIC while the bond is unchanged.
/// - out-ip: the IPv4 source and destination addresses are hashed (ip_bucket); non-IP
///   frames go on a "fixed-volume sequential cycle" [AG2]: each frame goes to the current
///   member of the cycle and adds its length; once the member has carried ip_rr_volume
///   bytes or more, the cycle moves to the next healthy member (member index order).
/// - standby (home_link set, load_balance_mode ignored [SEED]): every frame on the home
///   link while it is healthy, else on the first healthy member of the secondary order;
///   failback to the home link the moment it is healthy again (always on in 2.x [AG2]).
///   (Failback off in standby mode is the host's business: it makes the member that took
///   over the new home link, see host::bond_options::failback.)
///
/// Failback in the load-balance modes (config::failback). ESX 2.x has no switch: a member
/// whose link returns takes its buckets back at once [AG2]. Beyond 2.x, vSphere's teaming
/// policy "Failback" [VS65] (the PowerCLI `-FailbackEnabled` text says the same): "Yes"
/// (the default) returns a recovered adapter to active duty immediately; "No" leaves a
/// failed adapter inactive even after recovery until another currently active adapter
/// fails, requiring its replacement. vnetsim's reading for out-mac/out-ip with failback
/// off: a member that recovers while at least one other member carries traffic enters
/// member_state::inactive (healthy link and beacons, but it carries nothing: the buckets
/// that moved off it stay where they are, and it is not in the non-IP cycle). Each time an
/// active member (UP or SUSPECT) fails, one inactive member replaces it (the lowest
/// member index first; one for one, "its replacement"), going INACTIVE=>UP (counted as a
/// failback). A member that recovers while no member is active becomes active at once
/// (there is nothing to keep the traffic on). An inactive member that fails again is
/// simply failed (its inactive status ends). config::inactive restores the set when the
/// host rebuilds the policy.
///
/// Health: a member is healthy when its link is up and its beacon verdict is not `failed`;
/// link loss overrides beacons ("without regard to" beacon monitoring [SEED]). A `suspect`
/// verdict (beacon::monitor cannot tell which side is bad, the vSphere "shotgun" case
/// [VS65]) counts as healthy here; the host may duplicate frames onto suspect members.
///
/// Bucket rule (load-balance modes; deterministic, a pure function of the health vector,
/// so a member that returns gets exactly its buckets back): with n members, bucket b's
/// home member is b mod n. If the home member is healthy the bucket is there; otherwise it
/// goes to healthy[(b div n) mod H], healthy = the H healthy members in index order, so a
/// failed member's buckets spread evenly over the survivors; with H = 0 the bucket is
/// empty and select() returns nullopt. When health changes, only buckets whose target
/// changed move, and each move is reported (bucket_moved), in bucket order.

#include <array>
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
#include "vnetsim/wire/ipv4.hpp"
#include "vnetsim/wire/mac.hpp"

namespace vnetsim::bond {

/// Index of a member in the bond's configured member list, 0..member_count()-1.
using member = std::uint8_t;

/// Adapters per bond: at most 10 [AG2].
inline constexpr std::size_t max_members = 10;
/// Hash buckets per bond: 256, as OVS BOND_BUCKETS (ofproto/bond.c).
inline constexpr std::size_t bucket_count = 256;
/// out-ip, non-IP traffic: bytes a member carries before the "fixed-volume sequential
/// cycle" [AG2] moves on. UNVERIFIED: the 2.x value is not documented; 64 KiB (about 43
/// full-size frames) is vnetsim's choice. Configurable (config::ip_rr_volume).
inline constexpr std::uint32_t default_ip_rr_volume = 64 * 1024;

/// Load-balancing mode. `standby` is what setting home_link selects [SEED].
enum class mode : std::uint8_t { out_mac, out_ip, standby };
/// "out-mac", "out-ip", "standby" (the hwconfig spellings [AG2]).
std::string_view to_string(mode m) noexcept;

/// Beacon verdict for a member (beacon::monitor's table): ok, suspect (ambiguous: cannot
/// tell which side is bad [VS65]) or failed.
enum class probe_verdict : std::uint8_t { ok, suspect, failed };
std::string_view to_string(probe_verdict v) noexcept;

/// A member's state as the bond sees it. link_down overrides any beacon verdict [SEED].
/// `inactive`: recovered, held out of the active set by failback off (file comment).
enum class member_state : std::uint8_t { up, suspect, beacon_failed, link_down, inactive };
/// "UP", "SUSPECT", "BEACON_FAILED", "LINK_DOWN", "INACTIVE".
std::string_view to_string(member_state s) noexcept;
/// The member may carry traffic.
constexpr bool healthy(member_state s) noexcept {
  return s == member_state::up || s == member_state::suspect;
}

/// Receive admission verdict (OVS bond_check_admissibility).
enum class rx_verdict : std::uint8_t {
  accept,
  drop,
  drop_if_moved,  ///< drop if the source MAC is known on another port (a reflection)
};
std::string_view to_string(rx_verdict v) noexcept;

/// Receive admission policy.
enum class rx_policy : std::uint8_t {
  /// ESX 2.x (default): no receive filtering is documented [AG2], and after a false beacon
  /// failover the external switch sees duplicates from both links [AG2], which must be
  /// reproduced: every frame arriving on a member with link up is accepted; those on a
  /// member that does not carry transmit traffic are counted (rx_inactive).
  accept_all,
  /// An OVS/Linux-like option for experiments (not ESX 2.x): standby drops on every
  /// member but the active one; load-balance drops on unhealthy members, and group
  /// frames on any member but the lowest-indexed healthy one are drop_if_moved.
  active_only,
};
std::string_view to_string(rx_policy p) noexcept;

/// Offload capabilities of one NIC, the three [AG2] names, as plain flags so this engine
/// does not depend on dev/.
struct capabilities {
  bool vlan = false;      ///< VLAN tag insertion and stripping
  bool checksum = false;  ///< checksum calculation
  bool tso = false;       ///< TCP segmentation offload

  friend constexpr capabilities operator&(capabilities a, capabilities b) noexcept {
    return {a.vlan && b.vlan, a.checksum && b.checksum, a.tso && b.tso};
  }
  friend constexpr bool operator==(capabilities, capabilities) noexcept = default;
};

/// The bond uses a feature only if every member has it [AG2][SEED]; an empty list gives
/// every capability (the identity of the intersection).
capabilities intersect(std::span<const capabilities> caps) noexcept;

struct member_config {
  std::uint16_t vmnic = 0;  ///< vmnicN: the adapter's VMkernel number [AG2]
  capabilities caps{};
  bool link_up = true;      ///< link state at construction
  probe_verdict probe = probe_verdict::ok;  ///< beacon verdict at construction
};

/// One bond's settings (/etc/vmware/hwconfig `nicteam.bondN.*` [AG2]).
struct config {
  std::vector<member_config> members;  ///< 1..max_members, distinct vmnic numbers
  /// `load_balance_mode`: "out-mac" (default [AG2]) or "out-ip"; ignored with home_link.
  std::string load_balance_mode = "out-mac";
  /// `home_link` as a vmnic number; set = standby mode [SEED].
  std::optional<std::uint16_t> home_link;
  /// Standby: secondaries to try, as vmnic numbers, first preferred. Members not listed
  /// follow in ascending vmnic order, so the default (empty) is "lowest-numbered healthy".
  /// UNVERIFIED: [AG2] only says "one of the secondary adapters".
  std::vector<std::uint16_t> secondary_order;
  std::uint32_t ip_rr_volume = default_ip_rr_volume;  ///< bytes, > 0 (UNVERIFIED default)
  rx_policy rx = rx_policy::accept_all;
  /// Load-balance modes: true = a recovered member takes its buckets back at once (ESX
  /// 2.x [AG2]); false = vSphere "Failback: No" [VS65] (file comment). Ignored in standby.
  bool failback = true;
  /// Failback off: vmnic numbers that start inactive (held out of the active set) when
  /// healthy; lets the host rebuild a policy without releasing them. Must be members;
  /// empty unless failback is false in a load-balance mode.
  std::vector<std::uint16_t> inactive;
};

/// A rejected bond configuration; what() is "bond: <parameter> = <value>: <rule>".
class config_error : public proto::config_error {
 public:
  config_error(std::string parameter, std::string value, std::string rule)
      : proto::config_error("bond", std::move(parameter), std::move(value), std::move(rule)) {}
};

/// What the per-frame path knows about a frame to send.
struct frame_key {
  wire::mac_address src_mac;
  bool ipv4 = false;            ///< src_ip/dst_ip are valid
  wire::ipv4_address src_ip;
  wire::ipv4_address dst_ip;
  std::uint32_t length = 0;     ///< frame bytes, for the non-IP volume cycle
};

/// XOR of the octets of the low `octets` bytes of `x`: consecutive addresses land in
/// consecutive buckets, so sequentially assigned MACs and IPs spread evenly over the
/// members (Linux bonding's layer2 and layer3+4 policies also XOR-fold [LB]).
constexpr std::size_t xor_fold(std::uint64_t x, unsigned octets) noexcept {
  std::uint64_t h = 0;
  for (unsigned i = 0; i < octets; ++i) h ^= x >> (8 * i);
  return static_cast<std::size_t>(h & (bucket_count - 1));
}
/// out-mac bucket of a source MAC: the XOR of its six octets.
constexpr std::size_t mac_bucket(wire::mac_address src) noexcept {
  return xor_fold(src.to_u64(), 6);
}
/// out-ip bucket of an IPv4 pair: the XOR of the eight octets of source and destination,
/// symmetric (A->B and B->A share a bucket).
constexpr std::size_t ip_bucket(wire::ipv4_address src, wire::ipv4_address dst) noexcept {
  return xor_fold(src.to_u32() ^ dst.to_u32(), 4);
}
static_assert((bucket_count & (bucket_count - 1)) == 0, "bucket_count must be a power of 2");

/// Output of the engine (control plane; virtual calls are fine here). Called
/// synchronously; a sink must not call back into the policy.
class sink {
 public:
  virtual ~sink() = default;
  /// A member's state changed (already visible in state()).
  virtual void member_changed(sim_time /*now*/, member /*m*/, member_state /*from*/,
                              member_state /*to*/) {}
  /// Load-balance modes: `bucket` moved; nullopt = no healthy member.
  virtual void bucket_moved(sim_time /*now*/, std::size_t /*bucket*/,
                            std::optional<member> /*from*/, std::optional<member> /*to*/) {}
  /// Standby mode: the member carrying all traffic changed; nullopt = none healthy.
  virtual void active_changed(sim_time /*now*/, std::optional<member> /*from*/,
                              std::optional<member> /*to*/) {}
  /// One human-readable line such as "vmnic1: UP=>LINK_DOWN".
  virtual void log(sim_time /*now*/, std::string_view /*line*/) {}
};

/// Counters. ESX 2.x names none; these follow the Linux bonding / OVS notions.
struct counters {
  std::uint64_t failovers = 0;     ///< standby: traffic left the home link (or moved between
                                   ///< secondaries); load-balance: a member became unhealthy
  std::uint64_t failbacks = 0;     ///< standby: traffic back on the home link;
                                   ///< load-balance: a member carries traffic again
                                   ///< (recovered with failback on, or released from
                                   ///< inactive to replace a failed member)
  std::uint64_t bucket_moves = 0;  ///< buckets moved (load-balance modes)
  std::uint64_t rx_inactive = 0;   ///< frames accepted on a member not carrying transmit
  std::uint64_t rx_dropped = 0;    ///< frames refused by admit() (verdict drop)
};

/// One member as the bond sees it.
struct member_status {
  std::uint16_t vmnic = 0;
  bool link_up = false;
  probe_verdict probe = probe_verdict::ok;
  member_state state = member_state::up;
  bool held = false;  ///< failback off: held inactive once healthy (state inactive then)
};

/// The policy of one bond.
///
/// Control calls (set_link, set_probe, apply_probes) cost O(bucket_count + members) and do
/// not allocate except for log lines; select(), select_broadcast() and admit() are O(1)
/// and never allocate. A member index out of range throws config_error.
class policy {
 public:
  /// Validates `cfg`; throws config_error naming the parameter, value and rule. Members
  /// start with their configured link state and probe verdict (config::inactive ones held
  /// inactive when healthy); no events are emitted.
  explicit policy(config cfg);

  // ---- per frame (data path) ----

  /// The member that sends a unicast frame, or nullopt when no member is healthy (the
  /// caller drops and counts the frame). Mutates only the out-ip non-IP volume cycle.
  std::optional<member> select(const frame_key& k) noexcept {
    std::uint8_t b = none_;
    switch (mode_) {
      case mode::out_ip:
        if (!k.ipv4) return next_in_cycle(k.length);
        b = buckets_[ip_bucket(k.src_ip, k.dst_ip)];
        break;
      case mode::out_mac:
      case mode::standby:  // every bucket holds the active member
        b = buckets_[mac_bucket(k.src_mac)];
        break;
    }
    if (b == none_) return std::nullopt;
    return b;
  }
  /// The one member that sends a broadcast or multicast frame from `src`: its out-mac
  /// bucket in every mode (the active member in standby), so a VM's group frames stay on
  /// one NIC and leave the host exactly once. vnetsim's choice for out-ip (UNVERIFIED).
  std::optional<member> select_broadcast(wire::mac_address src) const noexcept {
    const std::uint8_t b = buckets_[mac_bucket(src)];
    if (b == none_) return std::nullopt;
    return b;
  }
  /// The member of out-mac bucket `b` (b = mac_bucket(src), kept by a caller that knows
  /// a VM's MAC in advance): the same answer as select() in out-mac and standby mode and
  /// as select_broadcast() in every mode. O(1); b < bucket_count.
  std::optional<member> select_out_mac(std::size_t b) const noexcept {
    const std::uint8_t m = buckets_[b & (bucket_count - 1)];
    if (m == none_) return std::nullopt;
    return m;
  }
  /// Receive admission for a frame arriving on `m` (dst_group: broadcast or multicast
  /// destination), per config::rx. Link down always gives drop (no NIC delivers then).
  rx_verdict admit(member m, bool dst_group) noexcept;

  // ---- control ----

  /// Link state as the NIC reports it.
  void set_link(member m, bool up, sim_time now, sink& out);
  /// Beacon verdict for one member.
  void set_probe(member m, probe_verdict v, sim_time now, sink& out);
  /// Beacon verdicts for all members at once (beacon::monitor::verdicts()); the size must
  /// equal member_count(). One rebalance for the whole table.
  void apply_probes(std::span<const probe_verdict> v, sim_time now, sink& out);

  // ---- inspection ----

  mode current_mode() const noexcept { return mode_; }
  std::size_t member_count() const noexcept { return members_.size(); }
  member_status status(member m) const;
  member_state state(member m) const { return status(m).state; }
  /// The member index of vmnicN, if it is in the bond.
  std::optional<member> find_vmnic(std::uint16_t vmnic) const noexcept;
  /// Standby: the member carrying all traffic (nullopt when none is healthy, or not
  /// in standby mode).
  std::optional<member> active() const noexcept { return active_; }
  /// The member bucket `b` is assigned to (nullopt: no healthy member).
  std::optional<member> bucket_owner(std::size_t b) const;
  /// The bucket array the data path reads; none = 0xff.
  std::span<const std::uint8_t, bucket_count> buckets() const noexcept { return buckets_; }
  /// Intersection of every configured member's capabilities [AG2].
  capabilities bond_capabilities() const noexcept { return caps_; }
  const counters& stats() const noexcept { return counters_; }
  const config& configuration() const noexcept { return cfg_; }

 private:
  static constexpr std::uint8_t none_ = 0xff;

  std::optional<member> next_in_cycle(std::uint32_t length) noexcept {
    if (healthy_count_ == 0) return std::nullopt;
    const member m = healthy_[cycle_pos_];
    cycle_bytes_ += length;
    if (cycle_bytes_ >= cfg_.ip_rr_volume) {
      cycle_bytes_ = 0;
      cycle_pos_ = static_cast<std::uint8_t>((cycle_pos_ + 1) % healthy_count_);
    }
    return m;
  }

  void check(member m) const;
  void set_state(member m, member_state s, sim_time now, sink& out);
  /// Failback off (load-balance modes): updates members_[].held for the new link and
  /// probe inputs, before the states are derived (file comment).
  void update_held() noexcept;
  void refresh_states(sim_time now, sink& out);
  void rebalance(sim_time now, sink& out);
  bool carries(member m) const noexcept;

  config cfg_;
  mode mode_ = mode::out_mac;
  std::optional<member> home_;
  std::vector<member> standby_order_;      // home first, then the secondaries
  std::vector<member_status> members_;
  capabilities caps_{};
  std::array<std::uint8_t, bucket_count> buckets_{};
  std::array<member, max_members> healthy_{};  // healthy members in index order
  std::uint8_t healthy_count_ = 0;
  std::uint8_t cycle_pos_ = 0;                 // out-ip non-IP cycle: index into healthy_
  std::uint32_t cycle_bytes_ = 0;
  std::optional<member> active_;
  counters counters_;
};

}  // namespace vnetsim::bond
