#pragma once
/// The external (physical) Ethernet switches: 802.1Q VLAN-aware transparent bridges with
/// independent VLAN learning, addressed by integer ids, their ports attached to dev::link
/// ends.
///
/// Frame path (receive(), also run by the arrival kind this set registers): the Ethernet
/// header and the tag are parsed once; the frame is classified to a VLAN (access port:
/// untagged or priority-tagged frames get the access VLAN, tagged frames are dropped;
/// trunk port: untagged or priority-tagged frames get the native VLAN, tagged frames keep
/// their VID, which must be allowed: IEEE 802.1Q-2018 8.6.2 ingress filtering); frames to
/// the reserved group 01:80:C2:00:00:0X (802.1D-2004 7.12.6, Table 7-10: BPDUs, slow
/// protocols) are never forwarded but counted as handed to the control plane; frames
/// of the trapped EtherType are swallowed; the source is learned; a known unicast goes to
/// its port only (never back out of the ingress port); broadcast, multicast and unknown
/// unicast flood within the VLAN to every other port that is up, attached and a member.
/// Egress tagging per port (trunk: tagged except the native VLAN; access: untagged): the
/// frame is edited in its headroom (wire::emit_tag_in_place / strip_tag_in_place). At most
/// one converted copy is made per frame and shared by every port that needs that form; a
/// flood to N ports with the same tagging copies no byte (one buffer, N handles).
/// Store-and-forward latency is given to link_set::send as the frame's ready time (no
/// extra event). No virtual call and no allocation per frame.
///
/// Layout for speed: what the frame path reads of a port (link, side, PVID, channel, logical
/// port, up/learning/forwarding/collecting/trunk flags) is a 12-byte copy in an array of its own,
/// apart from the configuration, VLAN bitmap and counters (over 700 bytes a port);
/// receive() handles the common case, an untagged unicast to a learned port that takes it
/// untagged, itself from that array and two fdb probes, and moves the frame handle into
/// the link; everything else goes through the general ingress and egress stages, with the
/// same result (tests/net/switch_test.cpp checks both on every kind of egress port).
///
/// Choices (not from a standard; configurable):
/// - default forwarding latency 5 us (`default_forwarding_latency`): a round model figure
///   for a store-and-forward switch, not a vendor number;
/// - carrier changes take effect after `link_detect_delay` (default 0);
/// - trapped frames (set_trap_ether_type) are swallowed before learning (an ingress ACL
///   trap), so a trapped beacon does not move its source MAC;
/// - a port whose operational state goes down has its fdb entries flushed;
/// - power off drops carrier on every attached link; power on restores the carrier only of
///   the links that power off took down.
///
/// Spanning tree (switch_config::stp): none, 802.1D STP (stp::engine) or RSTP (rstp::engine),
/// one engine per switch. Its port i is the switch's logical port i: the physical ports
/// 0..N-1 (N = port_count()), then one port per port-channel, N + channel index (the same
/// numbers the fdb uses, channel_port()); see "Spanning tree on port-channels" below. BPDUs
/// (to 01:80:C2:00:00:00, LLC 42 42 03) received on a port go to the engine; what the engine
/// transmits leaves that port as a real frame (802.3 length, LLC, BPDU, padded to 60 bytes)
/// with no forwarding latency; the engine's deadline is one event of a kind registered here
/// (rescheduled after every engine call when next_deadline() changes, the stale event
/// cancelled); the frame path reads per-port learn/forward flags copied from the engine's
/// state table after every engine call. STP topology change: the fdb ages with the engine's
/// forward delay while it lasts [Cabletron]; RSTP: the engine's flush_fdb calls flush the
/// (logical) port. Port operational state drives the engine's port enable; power on starts a
/// fresh engine.
///
/// Spanning tree on port-channels: a channel is ONE spanning tree port (IEEE 802.1AX-2014
/// 6.1: the Aggregator, not its member links, is what the bridge relay sees; as Cisco
/// switches behave: "STP only sees a single logical link", freeccnastudyguide.com CCNA
/// 6-7 EtherChannel):
/// - the channel's engine port is N + channel index; the members' own engine ports (their
///   physical numbers) exist but stay Disabled for ever;
/// - the channel's engine port is enabled iff the channel is up (>= 1 active member); a
///   member that fails while another stays active changes nothing in the engine: no
///   topology change, no re-convergence, the BPDUs simply leave by another member;
/// - BPDUs for the channel leave by exactly one member, the first active one (the lowest
///   port number); a BPDU received on any member (that is up) is the channel's;
/// - each member's learn/forward flags (port_learning, port_forwarding) are the channel's
///   engine port state;
/// - path cost: port_channel_config::path_cost, or 0 = the recommended cost of the
///   aggregate speed, the sum of the bandwidths of the members' attached links (all
///   configured members, so that a member failure does not change it), from the bridge's
///   cost table: 802.1D-2004 17.14 Table 17-3 (RSTP; STP with cost_method ieee2004) or
///   802.1D-1998 Table 8-5 (STP's default ieee1998). It is taken when the engine is built
///   and again whenever the channel comes up. (Cisco IOS computes its own figures for
///   channels, e.g. 12 for two FastEthernet links, observed on 3750s in aconaway.com
///   2010-04-26 "Path Cost of EtherChannels": not modelled.)
///   Physical ports take port_config::path_cost, or (0) the same table's cost of their
///   attached link's speed, given to the engine when the port is attached or reconfigured
///   and when the engine is built (an unattached port has the engine's default);
/// - a member's port_config edge and path_cost are not used by the engine (the channel's
///   engine port is never an edge port);
/// - adding a channel to a switch that runs a spanning tree rebuilds the engine (the
///   spanning tree restarts on that switch: a set-up time operation, as for LACP).
///
/// Port-channels (EtherChannel, IEEE 802.1AX link aggregation; add_port_channel): a set of
/// member ports of one switch that is ONE logical port [VS67]:
/// - learning: fdb entries point to the channel (logical port number = port_count() +
///   channel index, see channel_port()), so a MAC seen on several members never flaps;
/// - flooding: a flood leaves exactly one member of each channel, the one the hash picks;
/// - split horizon: a frame that arrived on a member never leaves any member of that
///   channel (a unicast to a MAC learned on the ingress channel is filtered);
/// - egress: the member is bucket[fold(hash fields)] of a 256-entry table (the OVS bucket
///   idea, STYLE.md "Hot path"), bucket b holding active[b % active count], `active` being the
///   active members in ascending port order. fold() XORs the 8 bytes of the 64-bit key
///   together: src-mac: the source MAC; dst-mac: the destination MAC; src-dst-mac: source
///   XOR destination MAC; src-dst-ip: IPv4 source XOR destination address (after any tag).
///   Non-IPv4 frames under src-dst-ip fall back to src-dst-mac (as Linux layer2+3 does [LB]).
///   The table is rebuilt off the frame path whenever a member's state changes; the frame
///   path only indexes arrays.
/// - a member is active when its port is operationally up and STP-forwarding and (lacp mode)
///   its LACP row says distributing; frames received on a member of an lacp channel whose row
///   does not say collecting are dropped (port ifInDiscards and switch
///   channel_not_collecting_drops). A member that fails leaves at once and the flows rehash
///   over the others; with no active member the channel is down (its fdb entries are
///   flushed, frames to it are dropped).
/// - members must have identical VLAN configuration (mode, access VLAN, allowed VLANs, native
///   VLAN): add_port_channel rejects a mismatch, and configure_port on a member rejects a
///   VLAN change (nothing is copied silently).
/// - mode `lacp`: one lacp::engine per switch covering the members of all its lacp channels
///   (engine port i = i-th such member in channel then port order; LACP Port Number = switch
///   port + 1; Actor_Admin_Key = channel index + 1; system priority and MAC from
///   switch_config::lacp_system_priority / lacp_system). Adding an lacp channel rebuilds the
///   engine (LACP restarts on that switch: a set-up time operation). LACPDUs (to
///   01:80:C2:00:00:02, EtherType 0x8809, untagged) received on a member go to the engine
///   and are never forwarded; the engine's LACPDUs leave the member port as 124-byte frames
///   (Ethernet header, source = the system MAC since ports have no MAC of their own, then the
///   110-byte LACPDU), with no forwarding latency. The engine's deadline is one event of its
///   own kind, rescheduled after every engine call; carrier changes are passed to
///   set_port_enabled; power on starts a fresh engine. A one-way failure (frames from A to B
///   lost, carrier up) removes the member at B Short/Long_Timeout_Time (3 s / 90 s) after
///   B's last LACPDU (EXPIRED); A keeps distributing on it until B's port is DEFAULTED one
///   Short_Timeout_Time later and B's out-of-sync LACPDU arrives (802.1AX-2014 6.4.12,
///   6.4.15 with coupled control: ATTACHED keeps Actor.Sync TRUE).
/// - the event log records channel_member_active / channel_member_inactive; in logged events
///   and fdb entries a port number >= port_count() is a channel (to_string prints its name).
/// Not supported (rejected or documented): removing a channel; lacp members that the
/// partner splits into different aggregators (every distributing member is used); no LACP
/// min-links, no Marker protocol, no `auto`/`desirable` (PAgP).
///
/// BPDU guard (port_config::bpdu_guard; Cisco "spanning-tree bpduguard enable"; message and
/// recovery per the Cisco Catalyst 4500 IOS System Message Guide OL-13091-01,
/// SPANTREE-2-BLOCK_BPDUGUARD: "the interface was administratively shut down", re-enabled
/// with "no shutdown"):
/// a valid untagged BPDU (to 01:80:C2:00:00:00, LLC 42 42 03, a Config, TCN or RST BPDU)
/// received on a guarded port puts that port into the err-disabled state at that instant,
/// whatever the switch's spanning tree (none, STP or RSTP): the BPDU is not handed to the
/// engine; the port goes operationally down (fdb entries flushed, the engine's port
/// disabled, port_down logged) so that it neither receives nor sends; the switch logs
/// err_disabled ("%SPANTREE-2-BLOCK_BPDUGUARD: ...") and counts bpdu_guard_err_disables.
/// As with Cisco's interface-level command, the guard acts on any port where it is set, not
/// only on edge (portfast) ports; it is meant for edge ports. The port stays down until
/// re-enabled by configuration: set_admin(off) then set_admin(on) (shutdown / no shutdown),
/// configure_port with admin_up false, or clear_err_disable(); power off and on also clears
/// it. There is no automatic recovery timer (Cisco "errdisable recovery" is off by default).
/// Like set_admin, err-disable does not drop the link's carrier: the peer is not told.
///
/// Errors in configuration throw net::switch_error naming the switch, the port (or channel)
/// and the rule.

#include <array>
#include <memory>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "vnetsim/dev/frame_pool.hpp"
#include "vnetsim/dev/link.hpp"
#include "vnetsim/kernel/simulator.hpp"
#include "vnetsim/net/fdb.hpp"
#include "vnetsim/proto/lacp.hpp"
#include "vnetsim/proto/rstp.hpp"
#include "vnetsim/proto/stp.hpp"
#include "vnetsim/wire/mac.hpp"

namespace vnetsim::net {

using switch_id = std::uint32_t;

/// A configuration error; the message names the switch, the port and the rule.
class switch_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// Store-and-forward latency default: a model figure (see the file comment), not cited.
inline constexpr sim_time default_forwarding_latency = sim_time::from_us(5);
/// Usable VIDs 1-4094 (IEEE 802.1Q-2018 9.6 Table 9-2).
inline constexpr vlan_id min_vlan = 1, max_vlan = 4094;
/// Most ports on one switch.
inline constexpr std::size_t max_switch_ports = 4096;

enum class port_mode : std::uint8_t { access, trunk };
/// Which spanning tree a switch runs.
enum class stp_mode : std::uint8_t { none, stp, rstp };

/// How a port-channel's members are bundled.
enum class channel_mode : std::uint8_t {
  on,    ///< static EtherChannel ("channel-group N mode on"): no protocol
  lacp,  ///< LACP (802.1AX), active or passive, fast or slow rate
};
/// The fields the egress member choice hashes (see the file comment).
enum class channel_hash : std::uint8_t { src_mac, dst_mac, src_dst_mac, src_dst_ip };
/// Index of a port-channel within its switch (0-based, in the order added).
using channel_id = std::uint16_t;
/// Buckets of a channel's egress table (OVS BOND_BUCKETS is 256 too) [OVS].
inline constexpr std::size_t channel_buckets = 256;

struct port_channel_config {
  std::string name;              ///< e.g. "Po1"; empty = "Po<index+1>"
  std::vector<port_no> members;  ///< 1 or more distinct ports of the switch
  channel_mode mode = channel_mode::on;
  channel_hash hash = channel_hash::src_dst_mac;
  /// lacp mode only: LACP_Activity and LACP_Timeout (fast = short_timeout: 1 s / 3 s;
  /// slow = long_timeout: 30 s / 90 s [LK3AD]).
  lacp::activity activity = lacp::activity::active;
  lacp::lacp_timeout rate = lacp::lacp_timeout::long_timeout;
  std::uint16_t port_priority = 0x8000;  ///< Actor_Port_Priority of every member
  /// Spanning tree path cost of the channel's engine port; 0 = from the aggregate speed
  /// (see the file comment).
  std::uint32_t path_cost = 0;
};

struct port_config {
  port_mode mode = port_mode::access;
  /// Access port: the one VLAN, untagged in and out.
  vlan_id access_vlan = 1;
  /// Trunk port: the allowed VLANs; empty = all of 1-4094 (the Cisco default).
  std::vector<vlan_id> allowed_vlans;
  /// Trunk port: untagged frames in belong to it, and it leaves untagged (must be allowed).
  vlan_id native_vlan = 1;
  bool admin_up = true;
  /// Spanning tree edge port (portfast): forwards at once (STP: stp::port_config::edge;
  /// RSTP: AdminEdgePort).
  bool edge = false;
  /// Spanning tree path cost; 0 = the recommended cost of the attached link's speed
  /// (802.1D-2004 17.14 Table 17-3, or 802.1D-1998 Table 8-5 for STP's ieee1998 method;
  /// proto/path_cost.hpp), or the engine's default while the port is not attached.
  std::uint32_t path_cost = 0;
  /// BPDU guard: a received BPDU err-disables the port (see the file comment).
  bool bpdu_guard = false;
};

struct switch_config {
  std::string name;
  std::uint16_t ports = 8;
  /// Every port starts with this configuration (configure_port() changes one).
  port_config default_port;
  fdb_config fdb;
  sim_time latency = default_forwarding_latency;
  sim_time link_detect_delay = sim_time::zero();
  stp_mode stp = stp_mode::none;
  /// Bridge parameters of the engine chosen by `stp` (the other is ignored); the Bridge
  /// Address must be set (also the source MAC of the BPDUs).
  stp::bridge_config stp_bridge;
  rstp::bridge_config rstp_bridge;
  /// LACP Actor_System_Priority and Actor_System (needed by lacp port-channels; the MAC
  /// must be unicast and non-zero) and the engine's timers (802.1AX-2014 6.4.4 defaults).
  std::uint16_t lacp_system_priority = 0x8000;
  wire::mac_address lacp_system;
  lacp::timer_config lacp_timers{};
};

/// Per-port counters, named after IF-MIB (RFC 2863) and BRIDGE-MIB (RFC 4188); visit()
/// yields them under the MIB names.
struct port_counters {
  std::uint64_t in_octets = 0;           ///< ifInOctets (frame bytes, no preamble/FCS)
  std::uint64_t in_ucast_pkts = 0;       ///< ifInUcastPkts
  std::uint64_t in_multicast_pkts = 0;   ///< ifInMulticastPkts
  std::uint64_t in_broadcast_pkts = 0;   ///< ifInBroadcastPkts
  std::uint64_t in_discards = 0;         ///< ifInDiscards: VLAN violations, port down/blocked
  std::uint64_t in_errors = 0;           ///< ifInErrors: runts, malformed or stacked tags
  std::uint64_t out_octets = 0;          ///< ifOutOctets
  std::uint64_t out_ucast_pkts = 0;      ///< ifOutUcastPkts
  std::uint64_t out_multicast_pkts = 0;  ///< ifOutMulticastPkts
  std::uint64_t out_broadcast_pkts = 0;  ///< ifOutBroadcastPkts
  std::uint64_t out_discards = 0;        ///< ifOutDiscards: link queue full, no carrier, no buffer
  std::uint64_t tp_in_frames = 0;        ///< dot1dTpPortInFrames
  std::uint64_t tp_out_frames = 0;       ///< dot1dTpPortOutFrames
  std::uint64_t tp_in_discards = 0;      ///< dot1dTpPortInDiscards: filtered (dst on the ingress port)
  std::uint64_t vlan_discards = 0;       ///< ingress VLAN filter drops (part of ifInDiscards)

  template <class F>
  void visit(F&& f) const {
    f("ifInOctets", in_octets);
    f("ifInUcastPkts", in_ucast_pkts);
    f("ifInMulticastPkts", in_multicast_pkts);
    f("ifInBroadcastPkts", in_broadcast_pkts);
    f("ifInDiscards", in_discards);
    f("ifInErrors", in_errors);
    f("ifOutOctets", out_octets);
    f("ifOutUcastPkts", out_ucast_pkts);
    f("ifOutMulticastPkts", out_multicast_pkts);
    f("ifOutBroadcastPkts", out_broadcast_pkts);
    f("ifOutDiscards", out_discards);
    f("dot1dTpPortInFrames", tp_in_frames);
    f("dot1dTpPortOutFrames", tp_out_frames);
    f("dot1dTpPortInDiscards", tp_in_discards);
    f("vlanIngressDiscards", vlan_discards);
  }
};

/// Per-switch counters.
struct switch_counters {
  std::uint64_t unknown_unicast_floods = 0;  ///< unicast frames flooded (destination not in the fdb)
  std::uint64_t fdb_overflow_floods = 0;     ///< of those, flooded while the fdb was full
  std::uint64_t learn_table_full = 0;        ///< sources not learned: fdb full
  std::uint64_t mac_flaps = 0;               ///< MAC moves between ports (MACFLAP_NOTIF)
  std::uint64_t move_guard_blocks = 0;       ///< moves refused by the fdb move guard
  std::uint64_t trapped = 0;                 ///< frames swallowed by the trap EtherType
  std::uint64_t control_frames = 0;          ///< reserved-group frames handed to the control plane
  std::uint64_t powered_off_drops = 0;       ///< frames that arrived while powered off
  std::uint64_t events_not_logged = 0;       ///< events past the log limit
  std::uint64_t bpdus_in = 0;                ///< BPDUs handed to the spanning tree engine
  std::uint64_t bpdus_out = 0;               ///< BPDUs the engine transmitted (queued)
  std::uint64_t bpdus_bad = 0;               ///< to the STP group but not a valid BPDU
  std::uint64_t lacpdus_in = 0;              ///< LACPDUs handed to the LACP engine
  std::uint64_t lacpdus_out = 0;             ///< LACPDUs the engine transmitted (queued)
  std::uint64_t lacpdus_bad = 0;             ///< slow-protocols frames that did not parse
  std::uint64_t channel_not_collecting_drops = 0;  ///< in on an lacp member not collecting
  std::uint64_t channel_down_drops = 0;      ///< unicast to a channel with no active member
  std::uint64_t bpdu_guard_err_disables = 0; ///< ports err-disabled by BPDU guard
};

/// A logged event of one switch.
struct switch_event {
  enum class kind : std::uint8_t {
    mac_flap, mac_pinned, port_up, port_down, power_off, power_on,
    channel_member_active,   ///< `port` joined the active members of channel port `other_port`
    channel_member_inactive,  ///< `port` left them (carrier, admin, LACP)
    err_disabled,         ///< BPDU guard err-disabled `port`; `mac` is the BPDU's source
    err_disable_cleared,  ///< `port` left the err-disabled state by configuration
  };
  kind what = kind::mac_flap;
  sim_time at;
  switch_id sw = 0;
  port_no port = 0;        ///< flap: the port the MAC moved to
  port_no other_port = 0;  ///< flap: the port it was on
  vlan_id vlan = 0;
  wire::mac_address mac;
};

/// Most events kept by the log (further events are counted, not kept).
inline constexpr std::size_t default_event_log_limit = 65536;

/// All the switches of one simulated network.
class switch_set {
 public:
  /// Registers the arrival, carrier, carrier-detection, spanning tree and LACP timer event kinds
  /// with `sim`. Without a frame pool, switches cannot run a spanning tree (their BPDUs
  /// need buffers): add() rejects stp_mode other than none.
  switch_set(kernel::simulator& sim, dev::link_set& links);
  switch_set(kernel::simulator& sim, dev::link_set& links, dev::frame_pool& pool);
  ~switch_set();
  switch_set(const switch_set&) = delete;
  switch_set& operator=(const switch_set&) = delete;

  /// Adds a switch; throws switch_error on 0 or too many ports or a bad default port.
  switch_id add(const switch_config& cfg);
  /// Replaces a port's VLAN and admin configuration. Throws switch_error on a VLAN outside
  /// 1-4094, a native VLAN not allowed, or an unknown switch or port.
  void configure_port(switch_id sw, port_no port, const port_config& cfg);
  /// The endpoint to give link_set::add for this port (this set's arrival and carrier kinds).
  dev::endpoint endpoint(switch_id sw, port_no port) const;
  /// Binds a port to the end `side` of `link` (it transmits from that side). The port's
  /// carrier starts as the link's. Throws switch_error when the port is already attached.
  void attach(switch_id sw, port_no port, dev::link_id link, dev::link_side side);

  /// Adds a port-channel (see the file comment); returns its index. Throws switch_error
  /// (naming the switch, the channel and the rule) on no members, an unknown or repeated
  /// port, a port already in a channel, members with different VLAN configuration, a path
  /// cost the spanning tree engine rejects, or (lacp) no frame pool or a zero/multicast
  /// lacp_system. On a switch running STP/RSTP the engine is rebuilt. O(ports).
  channel_id add_port_channel(switch_id sw, const port_channel_config& cfg);
  std::size_t channel_count(switch_id sw) const;
  const port_channel_config& channel_config(switch_id sw, channel_id ch) const;
  /// The port number the fdb uses for the channel: port_count(sw) + ch.
  port_no channel_port(switch_id sw, channel_id ch) const;
  /// The channel a port belongs to, if any.
  std::optional<channel_id> channel_of(switch_id sw, port_no port) const;
  /// Active members in the fixed (ascending) order; empty = the channel is down.
  std::span<const port_no> channel_active(switch_id sw, channel_id ch) const;
  bool channel_up(switch_id sw, channel_id ch) const;
  /// The member a frame with these header fields would leave by (nullopt: channel down).
  /// `frame` is the whole frame as received (Ethernet header first). O(1).
  std::optional<port_no> channel_member_for(switch_id sw, channel_id ch,
                                            std::span<const std::byte> frame) const;
  /// The switch's LACP engine (nullptr without lacp channels) and the engine port index of
  /// a switch port (nullopt when the port is not an lacp member).
  const lacp::engine* lacp_engine(switch_id sw) const;
  std::optional<lacp::port_index> lacp_port(switch_id sw, port_no port) const;

  /// Runs one received frame through the switch (see the file comment). O(1) for unicast,
  /// O(ports) for a flood; no allocation.
  void receive(switch_id sw, port_no port, dev::frame_ref frame);

  /// Administrative up/down (shutdown / no shutdown). Going down clears an err-disabled
  /// state, so that shutdown then no shutdown re-enables an err-disabled port.
  void set_admin(switch_id sw, port_no port, bool up);
  /// Re-enables a port err-disabled by BPDU guard (no-op otherwise); it comes up if it is
  /// admin up, attached and has carrier.
  void clear_err_disable(switch_id sw, port_no port);
  /// The port is err-disabled (by BPDU guard).
  bool port_err_disabled(switch_id sw, port_no port) const;
  /// Powers a whole switch off (fdb cleared, frames dropped, carrier down on its links) or on.
  void set_power(switch_id sw, bool on);
  /// Frames of this EtherType (after any tag) are swallowed; nullopt ends the fault.
  void set_trap_ether_type(switch_id sw, std::optional<std::uint16_t> type);
  /// Short ageing (the fdb's short_ageing_time) while a topology change is in force.
  void set_topology_change(switch_id sw, bool active);

  std::size_t size() const noexcept { return switches_.size(); }
  std::string_view name(switch_id sw) const;
  std::size_t port_count(switch_id sw) const;
  /// Operational state: powered, admin up, attached and carrier detected.
  bool port_up(switch_id sw, port_no port) const;
  bool powered(switch_id sw) const;
  /// The spanning tree's verdict for the port (true without an engine); for a channel
  /// member, the channel's engine port's.
  bool port_learning(switch_id sw, port_no port) const;
  bool port_forwarding(switch_id sw, port_no port) const;
  /// The engines (nullptr when the switch runs the other or none).
  const stp::engine* stp_engine(switch_id sw) const;
  const rstp::engine* rstp_engine(switch_id sw) const;
  const port_counters& counters(switch_id sw, port_no port) const;
  const switch_counters& counters(switch_id sw) const;
  const net::fdb& fdb(switch_id sw) const;
  net::fdb& fdb(switch_id sw);
  std::span<const switch_event> events() const noexcept { return events_; }
  /// A log line, e.g. "%SW_MATM-4-MACFLAP_NOTIF: Host 00:50:56:00:00:01 in vlan 10 is
  /// flapping between port 1 and port 2" (the Cisco message's shape [CiscoFlap]).
  std::string to_string(const switch_event& e) const;

 private:
  static constexpr std::uint16_t no_channel = 0xffff;
  /// sw::trap when no EtherType is trapped: above every 16-bit EtherType.
  static constexpr std::uint32_t no_trap = 0x1'0000;
  struct port {
    port_config cfg;
    std::array<std::uint64_t, 64> member{};  // bit v: VLAN v allowed
    vlan_id pvid = 1;                        // access VLAN, or trunk native VLAN
    bool trunk = false;
    bool attached = false;
    dev::link_id link = 0;
    dev::link_side side = dev::link_side::a;
    bool carrier = false;       // as detected (after link_detect_delay)
    bool oper_up = false;
    bool err_disabled = false;  // BPDU guard fired; cleared only by configuration
    bool stp_learning = true;   // read-only on the frame path
    bool stp_forwarding = true;
    bool powered_down_link = false;  // set_power(false) took this link's carrier down
    std::uint16_t channel = no_channel;  // the port-channel it belongs to
    std::uint16_t lacp_index = no_channel;  // its lacp::engine port index
    bool collecting = true;    // lacp row (always true outside lacp channels)
    bool distributing = true;
    bool channel_active = false;  // in its channel's active list
    std::uint32_t carrier_seq = 0;
    port_counters c;

    bool is_member(vlan_id v) const noexcept { return (member[v >> 6] >> (v & 63)) & 1u; }
  };
  /// What the frame path reads of a port, 12 bytes, in an array of its own (the port above
  /// is over 700 bytes): a copy of the port's fields, refreshed by sync_hot() after every
  /// change to them (debug builds check it on every frame).
  struct hot_port {
    dev::link_id link = 0;
    vlan_id pvid = 1;
    std::uint16_t channel = no_channel;
    port_no lport = 0;       // logical port: the port, or its channel's (for learning)
    std::uint8_t flags = 0;  // hot_* bits
    dev::link_side side = dev::link_side::a;
  };
  static_assert(sizeof(hot_port) == 12);
  static constexpr std::uint8_t hot_up = 1, hot_learning = 2, hot_forwarding = 4,
                                hot_collecting = 8, hot_trunk = 16;
  /// One port a frame leaves by, and in which form (0 untagged, 1 tagged).
  struct egress {
    port_no port = 0;
    std::uint16_t form = 0;  // not a char type: stores through it alias nothing else
  };
  /// What the ingress stage found out about a frame, for the egress stage.
  struct rx_frame {
    wire::mac_address dst, src;
    std::uint16_t inner_type = 0;  // EtherType after any tag
    std::uint16_t in_tci = 0;
    bool in_tagged = false;
    vlan_id vlan = 0;
    port_no in = 0;
    port_no lin = 0;  // logical ingress port (the channel for a member)
    std::size_t l3_off = 0;
  };
  struct channel {
    port_channel_config cfg;
    std::vector<port_no> members;  // ascending
    std::vector<port_no> active;   // ascending; capacity = members.size()
    std::array<port_no, channel_buckets> bucket{};  // valid when !active.empty()
  };
  struct sw {
    explicit sw(const switch_config& config)
        : latency(config.latency), table(config.fdb), cfg(config) {}
    // What the unicast fast path reads comes first, then the fdb (whose own hot fields
    // come first): a learned unicast touches few cache lines of this struct.
    std::vector<hot_port> hot;  // index = port number
    std::vector<port> ports;
    port_no nports = 0;         // ports.size()
    bool powered = true;
    std::uint32_t trap = no_trap;  // the trapped EtherType, or no_trap (matches none)
    sim_time next_sweep;
    sim_time latency;           // cfg.latency
    net::fdb table;
    switch_config cfg;
    switch_counters c;
    std::vector<egress> scratch;  // egress list of one frame; sized to the port count
    std::unique_ptr<stp::engine> stp;
    std::unique_ptr<rstp::engine> rstp;
    std::unique_ptr<stp::sink> stp_out;
    std::unique_ptr<rstp::sink> rstp_out;
    kernel::event_handle timer;          // the engine's pending deadline event
    std::optional<sim_time> timer_at;
    std::vector<channel> channels;
    std::unique_ptr<lacp::engine> lacp;
    std::unique_ptr<lacp::sink> lacp_out;
    std::vector<port_no> lacp_ports;  // engine port index -> switch port
    kernel::event_handle lacp_timer;
    std::optional<sim_time> lacp_timer_at;
  };
  friend class stp_sink_impl;
  friend class rstp_sink_impl;
  friend class lacp_sink_impl;

  static void on_arrival(void* ctx, kernel::simulator& sim, const kernel::event& ev);
  static void on_carrier(void* ctx, kernel::simulator& sim, const kernel::event& ev);
  static void on_carrier_detect(void* ctx, kernel::simulator& sim, const kernel::event& ev);
  static void on_stp_timer(void* ctx, kernel::simulator& sim, const kernel::event& ev);
  static void on_lacp_timer(void* ctx, kernel::simulator& sim, const kernel::event& ev);
  /// (Re)creates the switch's LACP engine from its lacp channels and starts it.
  void make_lacp_engine(switch_id id);
  /// Copies the LACP table into the ports, rebuilds the channels, reschedules the deadline.
  void after_lacp(switch_id id);
  void lacp_receive(switch_id id, port_no n, std::span<const std::byte> frame);
  void send_lacpdu(switch_id id, port_no n, const wire::lacp_repr& pdu);
  /// Recomputes a channel's active members and buckets; flushes it when it goes down.
  void rebuild_channel(switch_id id, std::uint16_t ch);
  /// fold() of the channel's hash fields (see the file comment).
  static std::uint8_t channel_hash_of(channel_hash h, std::span<const std::byte> frame,
                                      wire::mac_address src, wire::mac_address dst,
                                      std::size_t l3_offset, std::uint16_t l3_type) noexcept;
  /// (Re)creates and starts the switch's engine from its configuration.
  void make_engine(switch_id id);
  /// Copies the engine's per-port states into the frame path's flags, then reschedules
  /// the deadline event. Called after every engine call.
  void after_engine(switch_id id);
  void engine_port_enabled(switch_id id, port_no n, bool up);
  /// The engine port of switch port n: n, or its channel's logical port for a member.
  static std::size_t engine_port_of(const sw& s, port_no n) noexcept;
  /// The cost table of the switch's spanning tree (STP: configured; RSTP: 802.1D-2004).
  static proto::path_cost_method cost_method(const sw& s) noexcept;
  /// Physical port n's engine path cost: configured, or from its link's speed, or (not
  /// attached) the engine's default.
  std::uint32_t port_path_cost(const sw& s, port_no n) const;
  /// Gives the engine port_path_cost() of port n when it differs (no-op for a channel
  /// member, without an engine, or before the engine has the port).
  void refresh_port_path_cost(switch_id id, port_no n);
  /// The channel's engine path cost: configured, or from the aggregate speed.
  std::uint32_t channel_path_cost(const sw& s, const channel& c) const;
  /// The channel went up or down: enables/disables its engine port (cost refreshed first).
  void channel_engine_enabled(switch_id id, std::uint16_t ch, bool up);
  void engine_receive(switch_id id, port_no n, std::span<const std::byte> frame);
  void send_bpdu(switch_id id, port_no n, const wire::bpdu_repr& bpdu);
  /// BPDU guard fired on port n (a BPDU from `src`): err-disable, log, count.
  void err_disable(switch_id id, port_no n, wire::mac_address src);
  /// Leaves the err-disabled state (logged); the caller updates the operational state.
  void clear_err_disabled_flag(switch_id id, port_no n);

  sw& at(switch_id id);
  const sw& at(switch_id id) const;
  port& at(sw& s, switch_id id, port_no p);
  const port& at(const sw& s, switch_id id, port_no p) const;
  void apply_port_config(switch_id id, port& p, port_no n, const port_config& cfg);
  void apply_carrier(switch_id id, port_no n, bool up);
  void update_oper(switch_id id, port_no n);
  void log(const switch_event& e);
  /// Sends one form of the frame out of `p`, counting.
  void transmit(port& p, const hot_port& h, dev::frame_ref f, wire::mac_address dst,
                sim_time ready);
  /// Copies port n's frame path fields into s.hot[n] / every port's.
  static void sync_hot(sw& s, port_no n) noexcept;
  static void sync_hot_all(sw& s) noexcept;
  static bool hot_in_sync(const sw& s) noexcept;
  /// The frame path's learning when fdb::refresh() did not settle it: learn(), then
  /// learned_other() for a move, a full table or a guarded move.
  void learn_source(sw& s, switch_id id, vlan_id vlan, wire::mac_address src, port_no lin,
                    sim_time now);
  /// The member of channel port `lport` (>= port count) that an untagged frame leaves by,
  /// or no_channel when the channel is down.
  static port_no channel_member_of(const sw& s, port_no lport,
                                   std::span<const std::byte> frame) noexcept;
  /// receive()'s fast path handing an untagged unicast over to forward() (flood, filter,
  /// or an egress it does not take): the header fields are read again from the frame so
  /// that the fast path keeps none of them across its calls.
  void forward_untagged(sw& s, switch_id id, port_no in, dev::frame_ref frame, sim_time now);
  /// learn() said moved, table_full or guarded: count and log.
  void learned_other(sw& s, switch_id id, const learn_result& r, port_no lin, vlan_id vlan,
                     wire::mac_address src, sim_time now);
  /// The whole ingress stage (receive() handles the common case itself, see there).
  void receive_general(sw& s, switch_id id, port_no in, dev::frame_ref frame, sim_time now);
  /// The egress stage: fdb lookup or flood, egress forms, transmission.
  void forward(sw& s, switch_id id, const rx_frame& rx, dev::frame_ref frame, sim_time now);

  kernel::simulator* sim_;
  dev::link_set* links_;
  dev::frame_pool* pool_ = nullptr;
  kernel::event_kind arrive_kind_ = 0;
  kernel::event_kind carrier_kind_ = 0;
  kernel::event_kind detect_kind_ = 0;
  kernel::event_kind stp_kind_ = 0;
  kernel::event_kind lacp_kind_ = 0;
  std::vector<sw> switches_;
  std::size_t nswitches_ = 0;  // switches_.size(), for receive()'s check without a division
  std::vector<switch_event> events_;
  std::size_t event_limit_ = default_event_log_limit;
};

}  // namespace vnetsim::net
