#pragma once
/// The virtualization host: ESX Server 2.x virtual networking [AG2][SEED]. A host owns
/// physical NICs (vmnicN), bonds (NIC teams), virtual switches with port groups, virtual
/// machines and their virtual NICs. All hosts of a world live in one host_set, addressed
/// by integer ids.
///
/// Forwarding (per frame: no allocation, no virtual call, no payload copy except a VLAN
/// form conversion of a shared frame, which is counted):
/// - A frame from a VM (vnic_transmit) is classified to a VLAN by its port group: none/0 =
///   EST (untagged, the external switch tags), 1-4094 = VST (the virtual switch tags and
///   untags), 4095 = VGT (the guest's own tags pass) [VLANWP][VS67]. A guest tag on an
///   EST or VST port is dropped (dropped_vlan): only VGT ports pass guest tags.
/// - Unicast to a local VM's MAC stays on the host (a per-vswitch table filled at config
///   time: local ports need no learning [VS4]); other unicast goes out through the
///   binding: the vmnic, or the bond member bond::policy::select() picks. Broadcast and
///   multicast go to every other local port of the VLAN and out of exactly one uplink
///   (bond::policy::select_broadcast). An internal vmnet_N switch never touches a NIC; an
///   unknown unicast there is dropped (dropped_unknown_dst).
/// - A frame from an uplink goes to local ports only, never to another uplink (no loops).
///   Its source MAC belonging to a local port makes it a reflection of our own traffic:
///   dropped and counted (reflections). Frames of the host's beacon EtherType go to the
///   bond's beacon::monitor, never to a VM. Receive admission follows bond::policy::admit.
///   Delivery to a VM pushes the frame into the vNIC's rx ring and schedules one event of
///   the vNIC's delivery kind; the guest's handler calls take_delivery().
///
/// Bond capabilities are the intersection of the members' [AG2]. VLAN tagging: when the
/// bond has it, a VST tag leaves as frame_meta::vlan_tci for the NIC's hardware; when it
/// lacks it, the host inserts the tag into the bytes itself and charges the software cost
/// (the member NIC's nic_cost_model) to the bond's work counters, so a member that has the
/// feature never does it in hardware. The same for transmit checksums (meta.csum is filled
/// in software, then cleared). Receive-side tag stripping for VST ports is counted as
/// hardware work when the bond has VLAN handling and charged as software otherwise (the
/// host asks no NIC to strip: it reads the tag from the bytes). A TSO super-frame on a bond
/// lacking TSO is segmented by the host (as dev::nic_set segments, with software
/// checksums), each segment then sent as a plain frame.
///
/// Failure handling: link state as the NIC reports it (nic owner events) drives
/// bond::policy::set_link, so failover on carrier loss takes exactly the NIC's detection
/// delay (plus downdelay, default 0). A bond with an effective beacon threshold >= 2 runs a
/// beacon::monitor; its deadline is one event per bond (rescheduled when next_deadline
/// changes); its beacons leave through nic_set::transmit on the member, tagged with
/// SwitchFailoverBeaconVlanID; its verdicts go to bond::policy::apply_probes.
///
/// Set-up order: add_host, add_vmnic (+ links: uplink_endpoint, then nic_set::attach), add_bond,
/// add_vswitch, add_port_group, add_vm, add_vnic. A bond (or a vswitch bound to one vmnic)
/// starts with an event at the time it is created: it then reads the member NICs' link
/// state and starts beacon rounds, so links attached later in the same set-up are seen.
///
/// Configuration (set_advanced, set_nicteam) is validated, effective at once, callable at
/// any simulated time (a scenario schedules them). VMs start running (powered on); the
/// in-use rules (binding, labels) reject a change while a running VM uses the switch. Each
/// key is documented at set_advanced and set_nicteam.
///
/// Errors: host_error naming the host, the object, the key/value and the rule broken.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "vnetsim/dev/frame_pool.hpp"
#include "vnetsim/dev/link.hpp"
#include "vnetsim/dev/nic.hpp"
#include "vnetsim/kernel/rng.hpp"
#include "vnetsim/kernel/simulator.hpp"
#include "vnetsim/proto/beacon.hpp"
#include "vnetsim/proto/bond_policy.hpp"
#include "vnetsim/wire/mac.hpp"

namespace vnetsim::host {

using host_id = std::uint32_t;
using vnic_id = std::uint32_t;
using vswitch_id = std::uint32_t;
using vm_id = std::uint32_t;

/// Ports per virtual switch: 32 [AG2][SEED].
inline constexpr unsigned default_vswitch_ports = 32;
/// Largest port count add_vswitch accepts (vnetsim's bound, beyond ESX 2.x's fixed 32).
inline constexpr unsigned max_vswitch_ports = 1024;
/// Port group VLAN that passes guest tags (VGT) [VLANWP][VS67].
inline constexpr std::uint16_t vgt_vlan = 4095;
/// MAC addresses of virtual NICs. Issue 5 asks for "the VMware OUI 00:50:56 as the guide
/// documents (generated and static ranges)"; the guide [AG2] (esx2-networking-facts.md 8)
/// gives two OUIs, and vnetsim follows it: generated addresses under 00:0C:29 (the 2.x
/// algorithm is UNVERIFIED: a hash of "<host>/<vm>/<index>", stepping to the next free
/// value), manual ("static") addresses only in 00:50:56:00:00:00-3F:FF:FF; any other
/// static address (other OUIs, or 00:50:56 with a 4th octet above 3F, reserved for other
/// products [AG2]) is rejected with a host_error. Uniqueness is checked per host [AG2],
/// over the vNICs of every VM of the host, powered off ones included (stricter than
/// [AG2], which tracks running and suspended VMs only: vnetsim's VMs keep their vNICs,
/// and a duplicate would make the vswitch's local MAC table ambiguous). Hosts do not
/// check each other: a MAC repeated on two hosts shows up as MAC flaps on the switches.
///
/// Generated MACs: OUI 00:0C:29 [AG2]; a host has at most 256 generated adapters [AG2].
inline constexpr std::uint64_t generated_oui = 0x000c29;
inline constexpr unsigned max_generated_macs = 256;
/// Manual (static) MACs: 00:50:56:00:00:00 - 00:50:56:3F:FF:FF [AG2].
inline constexpr std::uint64_t static_mac_first = 0x0050'5600'0000ULL;
inline constexpr std::uint64_t static_mac_last = 0x0050'563f'ffffULL;
/// vNIC rx ring entries (frames delivered, not yet taken by the guest). vnetsim's default.
inline constexpr std::uint32_t default_rx_ring = 256;
/// Notify-switches RARP frames per VM per event: "about 5 (at most 8)" [KB90045].
inline constexpr unsigned default_notify_count = 5;
inline constexpr unsigned max_notify_count = 8;
/// Spacing of those frames. UNVERIFIED: no source gives it; [KB90045] says the RARPs go
/// out "under 1 s after vMotion", so 5 frames 100 ms apart (first at once) fit. Configurable.
inline constexpr sim_time default_notify_interval = sim_time::from_ms(100);

/// What a vNIC on an internal vmnet_N switch offers its guest: every offload. Its frames
/// never reach a NIC: they are delivered in memory as handed over (a super-frame whole, a
/// checksum left to offload unfilled, which the receiving endpoint trusts as a paravirtual
/// NIC's "data valid" flag says). vnetsim's choice: [SEED] says only that vmnet_N is
/// VM to VM inside the host.
inline constexpr dev::nic_capabilities internal_vnic_capabilities{};

/// A configuration or API error; the message names the host, the object, the value and the rule.
class host_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// vswitch binding: one vmnic (by number), one bond (by number), or nothing (vmnet_N).
struct vmnic_binding {
  unsigned number = 0;
};
struct bond_binding {
  unsigned number = 0;
};
using vswitch_binding = std::variant<std::monostate, vmnic_binding, bond_binding>;

enum class vnic_type : std::uint8_t { vlance, vmxnet };
std::string_view to_string(vnic_type t) noexcept;

/// How a frame delivered to a VM is announced: one event of `kind` with target `target`
/// (arg = the vnic id) at now + latency. kind 0 = no guest: frames are counted and dropped.
struct delivery_config {
  kernel::event_kind kind = 0;
  std::uint32_t target = 0;
  sim_time latency = sim_time::zero();  ///< 0 = "memory speed"
};

struct vnic_config {
  vnic_type type = vnic_type::vmxnet;
  /// Static MAC (00:50:56:00:00:00-3F:FF:FF [AG2]); unset = generated under 00:0C:29.
  std::optional<wire::mac_address> mac;
  /// A vswitch label or a port group label of the VM's host.
  std::string network;
  delivery_config delivery;
  std::uint32_t rx_ring = default_rx_ring;  ///< > 0
};

/// What happened to a frame handed to vnic_transmit (each also counted).
enum class tx_result : std::uint8_t {
  sent,                 ///< delivered locally and/or queued on an uplink NIC
  dropped_no_uplink,    ///< no healthy member (or no uplink for a frame that needs one)
  dropped_vlan,         ///< a guest tag on an EST/VST port, or VID 4095 in a tag
  dropped_unknown_dst,  ///< unicast to an unknown MAC on an internal vmnet switch
  dropped_vm_off,       ///< the VM is powered off
  dropped_malformed,    ///< shorter than an Ethernet header, or an empty handle
  dropped_nic,          ///< the NIC refused it (link down as it sees it, queue full, ...)
};
std::string_view to_string(tx_result r) noexcept;

/// What a bond does when beacons cannot tell which member is bad (every member silent,
/// beacon::member_state::ambiguous) [VS65].
enum class ambiguous_policy : std::uint8_t {
  keep,      ///< ESX 2.x reading (default): keep sending where the policy says
  send_all,  ///< the later vSphere "shotgun": duplicate each frame onto every suspect member
};
std::string_view to_string(ambiguous_policy p) noexcept;

/// The event log of a host_set.
struct host_event {
  enum class kind : std::uint8_t {
    member_state,    ///< bond member: from/to are bond::member_state
    beacon_state,    ///< bond member: from/to are beacon::member_state
    active_changed,  ///< standby bond: vmnic `from_vmnic` -> `to_vmnic` (nullopt: none)
    failover,        ///< traffic left vmnic `vmnic`
    failback,        ///< traffic back on vmnic `vmnic`
    reflection,      ///< first reflection dropped on a vswitch (later ones only counted)
    config,          ///< a configuration change; `detail` has key = value
    notify,          ///< notify-switches RARP train started for `mac` on vmnic `vmnic`
  };
  kind what = kind::config;
  sim_time at;
  host_id host = 0;
  std::optional<unsigned> bond;  ///< bond number (nullopt: a vswitch bound to one vmnic)
  std::optional<unsigned> vmnic;
  std::uint8_t from = 0, to = 0;  ///< state values (see kind)
  std::optional<unsigned> from_vmnic, to_vmnic;
  wire::mac_address mac;
  std::string detail;  ///< config changes only
};

/// Counters of one virtual switch.
struct vswitch_counters {
  std::uint64_t tx_frames = 0;         ///< frames handed in by its vNICs
  std::uint64_t local_deliveries = 0;  ///< frame copies delivered to local ports
  std::uint64_t uplink_tx = 0;         ///< frames queued on an uplink NIC (duplicates included)
  std::uint64_t uplink_rx = 0;         ///< frames received from an uplink (after the NIC)
  std::uint64_t floods = 0;            ///< broadcast/multicast frames from local ports
  std::uint64_t dropped_vlan = 0;
  std::uint64_t dropped_unknown_dst = 0;  ///< internal switch unknown unicast; uplink rx for no local port
  std::uint64_t dropped_no_uplink = 0;
  std::uint64_t dropped_nic = 0;
  std::uint64_t dropped_vm_off = 0;
  std::uint64_t dropped_malformed = 0;
  std::uint64_t dropped_not_admitted = 0;  ///< bond::policy::admit said drop
  std::uint64_t reflections = 0;           ///< own source MAC back from an uplink
  std::uint64_t beacons_rx = 0;            ///< beacon EtherType frames consumed (never delivered)
  std::uint64_t vlan_copies = 0;           ///< frames copied to change VLAN form for a port
};

/// Counters of one vNIC.
struct vnic_counters {
  std::uint64_t tx_frames = 0;
  std::uint64_t tx_dropped = 0;
  std::uint64_t rx_delivered = 0;  ///< pushed into the rx ring (or counted, without a guest)
  std::uint64_t rx_ring_full = 0;  ///< dropped: the ring was full
  std::uint64_t rx_taken = 0;      ///< taken by the guest
};

/// Counters of one bond (or of the single-vmnic team of a vswitch).
struct bond_counters {
  std::uint64_t failovers = 0;
  std::uint64_t failbacks = 0;
  std::uint64_t beacons_tx = 0;         ///< queued on a member NIC
  std::uint64_t beacons_tx_failed = 0;  ///< refused by the NIC (link down, not attached, ...)
  std::uint64_t beacon_frames_in = 0;   ///< frames of the beacon EtherType consumed (never to a VM)
  std::uint64_t beacons_rx = 0;         ///< of those, valid beacons handed to the monitor
  std::uint64_t duplicates_sent = 0;    ///< ambiguous send_all copies
  std::uint64_t rarp_sent = 0;          ///< notify-switches frames queued
  std::uint64_t tx_frames = 0;          ///< frames queued on members (duplicates included)
  /// Offload work the host did or accounted for the bond (see the file comment).
  dev::nic_work_stats work;
};

/// Per-bond options beyond ESX 2.x (all default off) and the bond's 2.x keys.
struct bond_options {
  std::string load_balance_mode = "out-mac";
  std::optional<std::uint16_t> home_link;
  std::optional<unsigned> switch_failover_threshold;
  std::uint32_t out_ip_volume = bond::default_ip_rr_volume;
  bond::rx_policy rx = bond::rx_policy::accept_all;
  ambiguous_policy ambiguous = ambiguous_policy::keep;
  /// 2.x: always on [AG2]. Off ([VS65] "Failback: No"): standby bonds make the member that
  /// took over the new home link; out-mac/out-ip bonds hold a recovered member inactive
  /// until it replaces a failed one (bond::policy, bond_policy.hpp file comment).
  bool failback = true;
  std::optional<sim_time> updelay;  ///< unset: the host's Net.TeamPolicyUpDelay
  sim_time downdelay = sim_time::zero();
  bool notify_switches = false;
  unsigned notify_count = default_notify_count;
  sim_time notify_interval = default_notify_interval;
};

/// Host-wide Advanced Settings [AG2] (and vnetsim's additions).
struct advanced_settings {
  sim_time beacon_interval = beacon::default_interval;                ///< SwitchFailoverBeaconInterval
  unsigned threshold = beacon::default_threshold;                     ///< SwitchFailoverThreshold
  std::optional<std::uint16_t> beacon_vlan;                           ///< SwitchFailoverBeaconVlanID
  std::uint16_t beacon_ether_type = wire::beacon_default_ether_type;  ///< ...BeaconEtherType
  beacon::threshold_rule rule = beacon::threshold_rule::exceeds;      ///< SwitchFailoverThresholdRule
  sim_time team_updelay = sim_time::zero();  ///< Net.TeamPolicyUpDelay [VS65] (vnetsim: default 0)
};

/// All the hosts of one simulated world.
class host_set {
 public:
  /// Registers the host event kinds (uplink arrival, NIC link owner, beacon timer, member
  /// delay, RARP train) with `sim`.
  host_set(kernel::simulator& sim, dev::frame_pool& pool, dev::link_set& links, dev::nic_set& nics,
           const kernel::rng_streams& streams);
  ~host_set();
  host_set(const host_set&) = delete;
  host_set& operator=(const host_set&) = delete;

  // ---- set-up ----

  /// Adds a host; names are unique and non-empty.
  host_id add_host(std::string_view name);
  /// Adds vmnicN (N = count of the host's vmnics so far, in order of addition [AG2]) as the
  /// NIC "<host>/vmnicN". owner_kind/target and promiscuous are set here; rx_vlan_strip is
  /// forced off (the host reads tags from the bytes, see the file comment).
  dev::nic_id add_vmnic(host_id h, dev::nic_config cfg);
  /// The endpoint to give link_set::add for the vmnic's end of its link; then call
  /// nic_set::attach(nic, link, side).
  dev::endpoint uplink_endpoint(dev::nic_id nic) const;

  /// Advanced settings (host-wide), values as a user writes them:
  /// - SwitchFailoverBeaconInterval: seconds as an integer ("1") or a duration with a unit
  ///   ("1s", "500ms"); > 0. Default 1 s (UNVERIFIED for 2.x [VS65]).
  /// - SwitchFailoverThreshold: 0 (off) or >= 2 [AG2].
  /// - SwitchFailoverBeaconVlanID: 0 (untagged) or 1-4094 [AG2].
  /// - SwitchFailoverBeaconEtherType: "0x8888" or decimal, 0x0600-0xffff, not a VLAN TPID.
  /// - SwitchFailoverThresholdRule (vnetsim): "exceeds" (default [AG2]) or "reaches".
  /// - Net.TeamPolicyUpDelay (vSphere's name, beyond 2.x): milliseconds or a duration; the
  ///   updelay of every bond that sets no nicteam.bondN.updelay. Default 0 (off).
  /// A beacon setting change restarts the beacon rounds of every bond of the host.
  void set_advanced(host_id h, std::string_view name, std::string_view value);
  /// `nicteam.bondN.<key>` for an existing bond N [AG2][SEED]:
  /// - load_balance_mode: out-mac | out-ip;  home_link: vmnicK ("" clears);
  /// - switch_failover_threshold: 0 | >= 2 ("" clears the override);
  /// vnetsim options (defaults = ESX 2.x behaviour):
  /// - out_ip_volume: bytes of the non-IP cycle (> 0, default 65536, UNVERIFIED [AG2]);
  /// - rx_filter: accept_all | active_only (bond::rx_policy);
  /// - ambiguous_policy: keep | send_all;
  /// - failback: yes | no ([VS65]; standby bonds: "no" makes the member that took over the
  ///   new home; out-mac/out-ip bonds: "no" holds a recovered member INACTIVE, its buckets
  ///   staying on the members that took them, until an active member fails and it
  ///   replaces that member; "yes" again releases the inactive members at once);
  /// - updelay / downdelay: milliseconds ("100") or a duration ("2s") (Linux
  ///   updelay/downdelay [LB], vSphere Net.TeamPolicyUpDelay); updelay is skipped when no
  ///   member is healthy, as Linux does [LB];
  /// - notify_switches: yes | no; notify_count: 1-8 [KB90045]; notify_interval: duration.
  void set_nicteam(host_id h, std::string_view key, std::string_view value);
  /// bondN of 1-10 vmnics [AG2]; each vmnic in at most one bond or vswitch binding.
  void add_bond(host_id h, unsigned bond_number, std::span<const unsigned> vmnic_numbers);
  /// Binding changes: host_error while a running VM uses the bond's vswitch [AG2][SEED],
  /// or when the bond would have 0 or 11 members; nothing changed on error.
  void bond_add_member(host_id h, unsigned bond_number, unsigned vmnic_number);
  void bond_remove_member(host_id h, unsigned bond_number, unsigned vmnic_number);
  /// A virtual switch with a unique label (labels of vswitches and port groups share one
  /// namespace per host); `ports` 1..max_vswitch_ports (default 32 [AG2]).
  vswitch_id add_vswitch(host_id h, std::string_view label, vswitch_binding binding,
                         unsigned ports = default_vswitch_ports);
  /// A port group with its own label; vlan none/0 = EST, 1-4094 = VST, 4095 = VGT.
  void add_port_group(host_id h, vswitch_id vs, std::string_view label, std::optional<std::uint16_t> vlan);
  /// Renames a vswitch or port group label; host_error while a running VM uses it [AG2].
  void rename_label(host_id h, std::string_view old_label, std::string_view new_label);
  /// A VM (running); names unique per host.
  vm_id add_vm(host_id h, std::string_view name);
  void set_vm_running(vm_id vm, bool running);
  /// A vNIC on the network named by cfg.network; host_error on a full vswitch (33rd on 32
  /// ports), an unknown label, a bad or duplicate MAC, the 257th generated MAC.
  vnic_id add_vnic(vm_id vm, const vnic_config& cfg);

  // ---- per frame ----

  /// Sends a frame from a VM (see the file comment). O(1) for unicast, O(ports) for a flood.
  tx_result vnic_transmit(vnic_id v, dev::frame_ref frame);
  /// The oldest frame delivered to the vNIC and not yet taken (empty if none). O(1).
  dev::frame_ref take_delivery(vnic_id v);
  std::uint32_t pending_deliveries(vnic_id v) const;
  wire::mac_address vnic_mac(vnic_id v) const;
  /// The offloads the vNIC offers its guest: its vswitch's uplink's capabilities, for a bond
  /// those every member has [AG2][SEED] (VLAN, checksum and TSO as the host uses them: the
  /// bond's tags, checksums and segmentation are done in software otherwise; TSO only
  /// with checksum offload, as guest stacks require); on a vmnet_N
  /// switch internal_vnic_capabilities. The reference stays valid for the host_set's life
  /// and follows bond_add_member / bond_remove_member, so an endpoint can hold it. O(1).
  const dev::nic_capabilities& vnic_capabilities(vnic_id v) const;

  // ---- inspection ----

  const bond::policy& bond_policy(host_id h, unsigned bond_number) const;
  /// nullptr when the bond runs no monitor (threshold 0 or a single member).
  const beacon::monitor* beacon_monitor(host_id h, unsigned bond_number) const;
  const bond_counters& bond_stats(host_id h, unsigned bond_number) const;
  const bond_options& bond_config(host_id h, unsigned bond_number) const;
  const advanced_settings& advanced(host_id h) const;
  /// Frames received on a vmnic bound to no virtual switch (dropped), or runts.
  std::uint64_t unbound_rx(host_id h) const;
  std::span<const host_event> events() const noexcept { return events_; }
  std::string to_string(const host_event& e) const;

  const vswitch_counters& vswitch_stats(vswitch_id vs) const;
  const vnic_counters& vnic_stats(vnic_id v) const;
  /// "vmnet_0", "vmnic1" or "bond1": what the switch is bound to.
  std::string vswitch_device(vswitch_id vs) const;
  std::string_view vswitch_label(vswitch_id vs) const;
  /// Ports in use / configured.
  unsigned vswitch_ports_used(vswitch_id vs) const;

  std::optional<host_id> find_host(std::string_view name) const noexcept;
  std::optional<vm_id> find_vm(host_id h, std::string_view name) const noexcept;
  /// "host/vm" form, or a VM name unique over all hosts.
  std::optional<vm_id> find_vm(std::string_view name) const noexcept;
  /// The vm's index-th vNIC (in order of addition).
  std::optional<vnic_id> find_vnic(vm_id vm, unsigned index) const noexcept;
  std::optional<vswitch_id> find_vswitch(host_id h, std::string_view label) const noexcept;
  std::optional<dev::nic_id> vmnic_nic(host_id h, unsigned number) const noexcept;
  // Added for the service console (host/console.hpp): device-name lookups of vmxnet_console.
  /// The vswitch whose device (vswitch_device) is `device` ("vmnic1", "bond0", "vmnet_0").
  std::optional<vswitch_id> find_vswitch_by_device(host_id h, std::string_view device) const noexcept;
  /// The bond number vmnicN is a member of (nullopt: in no bond, or no such vmnic).
  std::optional<unsigned> vmnic_bond(host_id h, unsigned number) const noexcept;
  /// The vmnic numbers of bondN, in member order (empty: no such bond).
  std::vector<unsigned> bond_vmnics(host_id h, unsigned bond_number) const;
  unsigned vmnic_count(host_id h) const;
  std::string_view host_name(host_id h) const;
  std::string_view vm_name(vm_id vm) const;
  std::size_t host_count() const noexcept { return hosts_.size(); }
  std::size_t vnic_count() const noexcept;

 private:
  struct host_rec;
  struct vmnic_rec;
  struct team_rec;
  struct vswitch_rec;
  struct vm_rec;
  struct vnic_rec;
  friend class team_sink;

  static void on_arrival(void* ctx, kernel::simulator& sim, const kernel::event& ev);
  static void on_nic_link(void* ctx, kernel::simulator& sim, const kernel::event& ev);
  static void on_team_timer(void* ctx, kernel::simulator& sim, const kernel::event& ev);
  static void on_member_delay(void* ctx, kernel::simulator& sim, const kernel::event& ev);
  static void on_rarp(void* ctx, kernel::simulator& sim, const kernel::event& ev);

  host_rec& host_at(host_id h);
  const host_rec& host_at(host_id h) const;
  team_rec& bond_at(host_id h, unsigned bond_number);
  const team_rec& bond_at(host_id h, unsigned bond_number) const;
  std::uint32_t vmnic_index(host_id h, unsigned number) const;
  std::uint32_t new_team(host_id h, std::optional<unsigned> bond_number, std::vector<std::uint32_t> members);
  /// (Re)builds the team's policy (and monitor when `monitor_too`) from its options and
  /// members, keeping link states and beacon verdicts. Throws host_error, team unchanged.
  void rebuild(std::uint32_t t, bool monitor_too, std::string_view why);
  void restart_monitor(std::uint32_t t);
  void reschedule_timer(std::uint32_t t);
  /// After any policy change: failback-off home handling, notify-switches trains.
  void after_change(std::uint32_t t);
  void apply_link(std::uint32_t vmnic, bool up);
  bool team_in_use(std::uint32_t t) const;
  bool vswitch_in_use(vswitch_id vs) const;
  void log_config(host_id h, std::optional<unsigned> bond, std::string detail);
  void log(host_event e);

  /// Sends one frame out of the team's member `m` (egress offload work, NIC transmit).
  /// `f` is consumed on success (an rvalue reference: no extra handle move per frame).
  /// Hands a ready frame to member m's NIC and counts it (uplink_tx and the team's tx_frames,
  /// or dropped_nic when the NIC refuses it).
  [[gnu::always_inline]] inline bool to_member_nic(team_rec& t, vswitch_rec& s, bond::member m,
                                                   dev::frame_ref&& f);
  /// Inline for a frame with no egress work; the rest in team_send_work.
  [[gnu::always_inline]] inline bool team_send(team_rec& t, vswitch_rec& s, bond::member m, dev::frame_ref&& f,
                                               std::uint16_t vid, bool tagged_bytes);
  /// team_send for a frame with egress work: a VLAN tag, checksums, a TSO super-frame.
  bool team_send_work(team_rec& t, vswitch_rec& s, bond::member m, dev::frame_ref&& f, std::uint16_t vid,
                      bool tagged_bytes);
  /// Sends a VM's frame out of the switch's uplink; `mac_bkt` = bond::mac_bucket(source MAC).
  /// Inline (one call site, the frame path); out-ip and send_all go out of line.
  [[gnu::always_inline]] inline void uplink_out(vswitch_rec& s, dev::frame_ref&& f, std::size_t mac_bkt,
                                                bool group, std::uint16_t vid, bool tagged_bytes,
                                                tx_result& result);
  /// out-ip member choice of a unicast frame: its IPv4 pair, or the non-IP cycle.
  std::optional<bond::member> select_out_ip(team_rec& t, const dev::frame_ref& f);
  /// ambiguous send_all: a copy of the frame on every suspect member other than `m`.
  void send_to_suspects(team_rec& t, vswitch_rec& s, bond::member m, const dev::frame_ref& f,
                        std::uint16_t vid, bool tagged_bytes);
  void deliver(vnic_rec& v, vswitch_rec& s, dev::frame_ref f);
  /// Delivers to local ports of VLAN `vid` except `except` (flood) with form conversion.
  void flood_local(vswitch_rec& s, const dev::frame_ref& f, std::uint16_t vid, bool tagged_bytes,
                   std::uint32_t except);
  void deliver_one(vswitch_rec& s, vnic_rec& v, const dev::frame_ref& f, std::uint16_t vid, bool tagged_bytes,
                   dev::frame_ref* converted);
  void uplink_in(std::uint32_t vmnic, dev::frame_ref f);
  void send_rarp(std::uint32_t vnic);
  /// Counts offload work for the bond: hardware, or software charged with the cost model.
  void charge(team_rec& t, dev::nic_work w, bool hardware, std::size_t bytes) noexcept;
  /// Fills the checksums meta.csum asks for in software; false when the frame is not IPv4.
  bool software_checksums(team_rec& t, dev::frame_ref& f);
  /// Segments a TSO super-frame in software and sends each segment through team_send.
  bool software_segment(team_rec& t, vswitch_rec& s, bond::member m, dev::frame_ref f, std::uint16_t vid,
                        bool tagged_bytes);

  kernel::simulator* sim_;
  dev::frame_pool* pool_;
  dev::link_set* links_;
  dev::nic_set* nics_;
  const kernel::rng_streams* streams_;
  kernel::event_kind arrive_kind_ = 0;
  kernel::event_kind nic_link_kind_ = 0;
  kernel::event_kind timer_kind_ = 0;
  kernel::event_kind delay_kind_ = 0;
  kernel::event_kind rarp_kind_ = 0;
  std::vector<std::unique_ptr<host_rec>> hosts_;
  std::vector<std::unique_ptr<vmnic_rec>> vmnics_;
  std::vector<std::unique_ptr<team_rec>> teams_;
  std::vector<std::unique_ptr<vswitch_rec>> vswitches_;
  std::vector<std::unique_ptr<vm_rec>> vms_;
  std::vector<vnic_rec> vnics_;  // contiguous: the frame path reads them
  std::vector<host_event> events_;
};

}  // namespace vnetsim::host
