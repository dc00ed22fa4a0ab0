#pragma once
/// The validated scenario model: plain structs produced by the loader (scenario/loader.hpp)
/// from a `"vnetsim": 1` JSON file and built by scenario::world (scenario/world.hpp).
/// Everything here is already checked: names resolve, values are in range, timers obey
/// 802.1D. The C++ builder takes the same structs, so a scenario written in code and one
/// read from a file build the same world.
///
/// Names and references: every device (switch, hub, station) and every link, probe and
/// expectation has a unique name. A link end is "<device>:<port>" for a switch or a hub
/// (ports are 0-based, as in net::switch_set), or "<station>" for a station's one NIC.
///
/// Traffic endpoints (traffic::endpoint_set: ARP, IPv4, ICMP ping, UDP flows) sit on a NIC of
/// their own, like stations. Hosts (host::host_set: vmnics, bonds, virtual switches, port
/// groups, VMs) carry their VMs' endpoints on vNICs; a host's vmnic is the link end
/// "<host>:vmnicN" (port_ref port = N).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vnetsim/dev/link.hpp"
#include "vnetsim/dev/nic.hpp"
#include "vnetsim/host/host.hpp"
#include "vnetsim/kernel/sim_time.hpp"
#include "vnetsim/net/switch.hpp"
#include "vnetsim/scenario/console_model.hpp"
#include "vnetsim/traffic/endpoint.hpp"
#include "vnetsim/wire/mac.hpp"

namespace vnetsim::scenario {

/// The format version this build reads (`"vnetsim": 1`).
inline constexpr int format_version = 1;

/// A switch with its per-port overrides and its port-channels.
struct switch_spec {
  net::switch_config cfg;
  /// Ports whose configuration differs from cfg.default_port, in file order.
  std::vector<std::pair<net::port_no, net::port_config>> ports;
  std::vector<net::port_channel_config> channels;
};

struct hub_spec {
  std::string name;
  std::uint32_t ports = 2;
  sim_time latency;
};

/// A station: one NIC that sends and receives probe frames (a stand-in for a host until
/// the traffic layer lands: raw Ethernet frames with a sequence number, no IP).
struct station_spec {
  std::string name;
  dev::nic_config nic;
};

/// An IPv4 endpoint (traffic layer) on its own NIC: cfg.name is its device name.
struct endpoint_spec {
  traffic::endpoint_config cfg;
  dev::nic_config nic;
};

/// A key = value setting as the user writes it (host::host_set::set_advanced / set_nicteam).
struct setting {
  std::string key, value;
};

/// A bond: bondN of vmnics by number, with its `nicteam.bondN.<key>` settings in file order.
struct bond_spec {
  unsigned number = 0;
  std::vector<unsigned> members;
  std::vector<setting> nicteam;
};

struct port_group_spec {
  std::string label;
  std::optional<std::uint16_t> vlan;  ///< none/0 EST, 1-4094 VST, 4095 VGT
};

struct vswitch_spec {
  std::string label;
  host::vswitch_binding binding;
  unsigned ports = host::default_vswitch_ports;
  std::vector<port_group_spec> port_groups;
};

/// A vNIC whose guest is a traffic endpoint (ep.name is its device name; ep.mac is filled
/// from the vNIC's MAC at build time).
struct vnic_spec {
  host::vnic_config cfg;
  traffic::endpoint_config ep;
};

struct vm_spec {
  std::string name;
  bool running = true;
  std::vector<vnic_spec> vnics;
};

/// An ESX host: Advanced Settings, vmnics (vmnicN = index N), bonds, vswitches, VMs.
struct host_spec {
  std::string name;
  std::vector<setting> advanced;
  std::vector<dev::nic_config> vmnics;
  std::vector<bond_spec> bonds;
  std::vector<vswitch_spec> vswitches;
  std::vector<vm_spec> vms;
  /// The service console (scenario/console_model.hpp), when the host has one.
  std::optional<console_spec> console;
  /// JSON pointer of the host object in its file ("" when built in code): names the place
  /// of a host_error raised while building.
  std::string pointer;
};

/// A UDP flow between two endpoints (traffic::udp_flow_config by endpoint names).
struct flow_spec {
  std::string name;
  std::string from, to;
  std::uint16_t src_port = 49152;  ///< the first dynamic port (RFC 6335 6)
  std::uint16_t dst_port = 9;      ///< discard (RFC 863)
  std::uint32_t payload = 64;
  traffic::arrival_process process = traffic::arrival_process::constant;
  std::uint64_t rate_pps = 100;
  sim_time start = sim_time::from_s(1);
  sim_time stop = sim_time::from_s(10);
};

/// A TCP bulk transfer between two endpoints (tcp::tcp_set): the client `from` opens to the
/// server `to` at `start` and writes `bytes` (0: until `stop`) as fast as TCP allows.
struct tcp_spec {
  std::string name;
  std::string from, to;
  std::uint64_t bytes = 0;  ///< 0: send until `stop`
  sim_time start = sim_time::from_s(1);
  /// The client stops writing here (what is written is still delivered); nullopt: never.
  std::optional<sim_time> stop;
  std::uint16_t client_port = 0;  ///< 0: tcp::first_dynamic_port + session id
  std::uint16_t server_port = 0;  ///< 0: tcp::default_server_port
  std::uint16_t mss = 1460;       ///< 1500 MTU - 20 IPv4 - 20 TCP (RFC 9293 3.7.1)
  sim_time bin = sim_time::from_ms(100);  ///< goodput bin of the report
};

/// An ICMP echo series between two endpoints.
struct ping_spec {
  std::string name;
  std::string from, to;
  sim_time start = sim_time::from_s(1);
  sim_time interval = traffic::default_ping_interval;
  sim_time timeout = traffic::default_ping_timeout;
  std::uint32_t count = 10;
};

/// One end of a link: a switch or hub port, or a station or endpoint (port ignored).
struct port_ref {
  std::string device;
  std::uint32_t port = 0;
  friend bool operator==(const port_ref&, const port_ref&) = default;
};

struct link_spec {
  std::string name;
  port_ref a, b;
  dev::link_config cfg;
};

/// A probe: raw Ethernet frames of the IEEE 802 Local Experimental EtherType 2 (0x88B6,
/// IEEE Std 802-2014 9.2.4; EtherType 1, 0x88B5, is taken by the host's beacons) from one station to another at a constant interval, each
/// carrying the probe number, a sequence number and its send time in the payload.
struct probe_spec {
  std::string name;
  std::string from, to;
  /// Destination MAC; default: the `to` station's MAC (ff:ff:ff:ff:ff:ff floods).
  std::optional<wire::mac_address> dst_mac;
  /// 802.1Q VID put in the frame's tag (the NIC inserts it); nullopt = untagged.
  std::optional<std::uint16_t> vlan;
  sim_time interval = sim_time::from_ms(10);
  sim_time start = sim_time::from_s(1);
  /// Last send at or before `stop`.
  sim_time stop = sim_time::from_s(10);
  /// Frame length without FCS, 60-1514.
  std::uint32_t size = 64;
};

/// What a timeline entry does.
enum class action_kind : std::uint8_t {
  link_down, link_up,        ///< carrier loss / restore
  black_hole,                ///< silent drop from one side or both; `on`
  loss,                      ///< random loss probability from one side or both
  delay,                     ///< new propagation delay
  switch_power,              ///< `on`: power on, else off
  port_admin,                ///< `on`: no shutdown, else shutdown
  trap_ether_type,           ///< `on` with `ether_type`, or off
  port_config,               ///< configure_port with `port_cfg`
  set_advanced,              ///< host `target`: set_advanced(`key`, `value`)
  set_nicteam,               ///< host `target`: set_nicteam(`key`, `value`)
  console,                   ///< host `target`'s service console runs the command line `value`
  vm_power,                  ///< host `target`: VM `key` powered on (`on`) or off
  bond_member,               ///< host `target`: vmnic `vmnic` joins (`on`) or leaves bond `bond`
  rename_label,              ///< host `target`: vswitch / port group label `key` becomes `value`
};
std::string_view to_string(action_kind k) noexcept;

struct action_spec {
  sim_time at;
  action_kind kind = action_kind::link_down;
  /// The link (link actions), the host (set_advanced, set_nicteam) or the switch (the others).
  std::string target;
  std::uint16_t port = 0;
  /// Which direction for black_hole / loss: the side frames leave from; nullopt = both.
  std::optional<dev::link_side> from;
  bool on = true;
  double probability = 0.0;
  sim_time delay;
  std::uint16_t ether_type = 0;
  net::port_config port_cfg;
  std::string key, value;  ///< set_advanced / set_nicteam; vm_power: key = VM; rename_label
  unsigned bond = 0, vmnic = 0;  ///< bond_member
};

/// A pcap capture of one link (both directions, one file).
struct capture_spec {
  std::string link;
  /// File name inside the pcap directory; default "<link>.pcap".
  std::string file;
};

enum class comparison : std::uint8_t { eq, le, ge, lt, gt };
std::string_view to_string(comparison c) noexcept;
bool compare(comparison c, std::int64_t measured, std::int64_t bound) noexcept;

enum class expectation_kind : std::uint8_t {
  port_state,     ///< state of switch port at time `at`, or entered by time `by` after `after`
  mac_flaps,      ///< switch counter mac_flaps <op> value
  frames_lost,    ///< frames lost on all links (every reason) <op> value
  link_counter,   ///< one link_direction_stats counter <op> value
  probe_lost,     ///< probe frames sent and never delivered <op> value
  probe_duplicates,  ///< probe frames delivered more than once <op> value
  probe_max_gap,  ///< longest gap between deliveries <op> duration
  spanning_tree,  ///< forwarding ports loop-free and connected at `at` (INET StpTester)
  flow_lost,      ///< UDP flow datagrams lost (not delivered, not in flight) <op> value
  flow_duplicates,  ///< UDP flow duplicates <op> value
  flow_max_gap,   ///< UDP flow longest gap between deliveries <op> duration
  ping_loss,      ///< ping probes without a reply in time <op> value
  bond_failover,  ///< host `target` bond `port`: a change of `form` (failover_form) at a time
                  ///< in (after, by]
  beacon_state,   ///< host `target` bond `port` member vmnic `from_vmnic` beacon state `state` at `at`
  host_counter,   ///< host `target`: counter `counter` summed over its vswitches/bonds <op> value
  management,     ///< host `target`'s Management Interface: `mode` "at" (state `state` at `at`),
                  ///< "never_lost" (running from `after` to the end), "lost" (stops running in
                  ///< (after, by], for reason `state` when given)
  console_ping_loss,  ///< console ping `target`: probes without a reply <op> value
  vnic_uplink,    ///< host `target` bond `port`: the member carrying vNIC `vnic`'s frames at `at` is vmnic `to_vmnic`
  tcp_bytes,      ///< TCP session `target`: bytes delivered to the server <op> value
  tcp_retransmits,  ///< TCP session `target`: the client's tcpRetransSegs <op> value
  tcp_max_stall,  ///< TCP session `target`: longest stall <op> duration (ns)
};
std::string_view to_string(expectation_kind k) noexcept;

/// What a bond_failover expectation watches.
enum class failover_form : std::uint8_t {
  active_changed,  ///< standby bond: the active vmnic changes `from_vmnic` -> `to_vmnic`
  member_leaves,   ///< any bond: member `from_vmnic` leaves the active (healthy) set (host event failover)
  vm_traffic,      ///< frames from VM endpoint `vm` leave over `to_vmnic` after leaving over `from_vmnic`
};

struct expectation_spec {
  std::string name;
  expectation_kind kind = expectation_kind::mac_flaps;
  /// Switch, link, probe, flow, ping or host name (bond_failover, beacon_state: `port` is
  /// the bond number; host_counter: `counter` names the counter).
  std::string target;
  std::uint16_t port = 0;
  /// port_state: "forwarding", "blocking", "listening", "learning", "discarding", "disabled";
  /// beacon_state: "OK", "AMBIGUOUS", "FAILED" (beacon::to_string).
  std::string state;
  std::optional<sim_time> at;
  std::optional<sim_time> by;
  sim_time after;
  comparison op = comparison::le;
  /// Count bound, or a duration bound in ns for probe_max_gap.
  std::int64_t value = 0;
  /// link_counter: the counter's name (as in the report) and the direction.
  std::string counter;
  dev::link_side from = dev::link_side::a;
  /// bond_failover / beacon_state: vmnic numbers.
  unsigned from_vmnic = 0, to_vmnic = 0;
  /// management: "at", "never_lost" or "lost".
  std::string mode;
  /// vnic_uplink: the vNIC by its endpoint name (a VM's name for its first vNIC).
  std::string vnic;
  failover_form form = failover_form::active_changed;
  std::string vm;  ///< bond_failover vm_traffic: the VM's endpoint name (a vNIC)
};

/// A whole scenario.
struct scenario_model {
  int version = format_version;
  std::string name;
  std::string description;
  std::uint64_t seed = 1;
  sim_time duration = sim_time::from_s(60);
  /// Fallback period of the spanning tree port-state watch (see world.hpp).
  sim_time observe_interval = sim_time::from_ms(1);
  std::vector<switch_spec> switches;
  std::vector<hub_spec> hubs;
  std::vector<station_spec> stations;
  std::vector<endpoint_spec> endpoints;
  std::vector<host_spec> hosts;
  std::vector<link_spec> links;
  std::vector<probe_spec> probes;
  std::vector<flow_spec> flows;
  std::vector<ping_spec> pings;
  std::vector<tcp_spec> tcp;
  /// The `settings` section: host Advanced Settings applied to every host before its own
  /// `advanced` (which wins), in name order (a JSON object's members have no order).
  std::vector<setting> settings;
  std::vector<action_spec> timeline;
  std::vector<capture_spec> captures;
  std::vector<expectation_spec> expectations;
};

}  // namespace vnetsim::scenario
