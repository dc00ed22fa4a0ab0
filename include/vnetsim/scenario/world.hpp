#pragma once
/// The world a scenario runs in, and the C++ builder API for it: everything a scenario
/// file can say can be built here in code (the loader's model is built through these same
/// calls, see build()).
///
/// The world owns the simulator, the RNG streams, the frame pool, the links, the NICs, the
/// hubs and the switches; it registers the event kinds of the devices it owns (stations,
/// hubs, probes), wires link ends to devices, schedules the timeline of faults, taps links
/// for pcap captures and the trace, runs, and evaluates expectations.
///
/// Stations and probes: a station is one NIC (dev::nic_set) that sends probe frames and
/// counts what it receives; a probe is a constant-interval series of raw Ethernet frames
/// (EtherType 0x88B6, see model.hpp) whose payload carries "VNSP", the probe number, a
/// sequence number and the send time, so the receiving station measures delivery,
/// duplicates, reordering, latency and the longest gap with no allocation per frame
/// (a bitmap sized when the probe is added).
///
/// Spanning tree port states: net::switch_set does not log STP/RSTP state transitions, so
/// the world looks at every STP/RSTP port's state where a transition can happen: right after
/// each engine deadline (the earliest next_deadline() of all engines), right after each BPDU
/// delivered to a switch that runs one (a link tap), right after each timeline action, and
/// right after each switch's own carrier-detection delay has run out after an action (its
/// link_detect_delay), and every `observe_interval` (default 1 ms) as a fallback for what
/// these miss. Transitions are logged at the time they were seen: exact for timer, BPDU,
/// action and carrier-detection driven changes, otherwise later by at most the interval.
/// "state at t" expectations read the engine at t exactly.

/// Hosts: a host::host_set owned by the world; a VM's vNIC delivers through one event kind
/// ("scenario/vnic": take_delivery, then endpoint_set::receive) and its endpoint transmits
/// through host_set::vnic_transmit (attach_custom). Host events are "host" timeline entries.
/// A host's service console (host_spec::console) is bound by scenario::console_binding
/// (scenario/console_binding.hpp): its NICs are link ends "<host>:<nic>", `console` actions
/// run commands, its boots, commands and Management Interface changes are "console"
/// timeline entries.
///
/// Settings (the scenario's `settings` section): host Advanced Settings given once for
/// every host; set_settings() applies them to the hosts built so far and to each host
/// add_host() builds later, before the host's own `advanced` (which wins).
///
/// TCP: a tcp::tcp_set (created with the first session) runs bulk transfers between
/// endpoints; a session's `stop` is an event that stops the client's writing.
///
/// Trace (set_trace): frame deliveries, timeline actions, spanning tree port state
/// transitions, and host events (failover, failback, member and beacon states, config),
/// each host event written before the next trace line after it happened (same time or
/// later: host events have no hook of their own), the rest at the end of run_until().
///
/// Errors in building (unknown names, a port that already has a link, a bad configuration
/// from a lower layer) throw scenario::scenario_error naming the thing and the rule.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vnetsim/dev/frame_pool.hpp"
#include "vnetsim/dev/hub.hpp"
#include "vnetsim/dev/link.hpp"
#include "vnetsim/dev/nic.hpp"
#include "vnetsim/host/host.hpp"
#include "vnetsim/kernel/rng.hpp"
#include "vnetsim/kernel/simulator.hpp"
#include "vnetsim/net/switch.hpp"
#include "vnetsim/scenario/model.hpp"
#include "vnetsim/traffic/endpoint.hpp"
#include "vnetsim/traffic/tcp_set.hpp"

namespace vnetsim::report {
class pcap_writer;
}

namespace vnetsim::scenario {

class console_binding;

class scenario_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

using station_id = std::uint32_t;
using probe_id = std::uint32_t;

/// EtherType of probe frames: IEEE 802 Local Experimental EtherType 2 (IEEE Std 802-2014 9.2.4).
inline constexpr std::uint16_t probe_ether_type = 0x88b6;
/// Payload tag of probe frames ("VNSP").
inline constexpr std::uint32_t probe_magic = 0x564e'5350;

/// MAC flaps of one switch listed in the timeline; the rest are summed in one entry.
inline constexpr std::uint64_t timeline_flaps_per_switch = 20;

/// What the receiving station measured for one probe.
struct probe_stats {
  std::uint64_t sent = 0;         ///< handed to the NIC and accepted
  std::uint64_t send_failed = 0;  ///< refused by the NIC (link down, queue full)
  std::uint64_t delivered = 0;    ///< received at the `to` station, duplicates included
  std::uint64_t unique = 0;       ///< distinct sequence numbers received
  std::uint64_t duplicates = 0;   ///< deliveries of a sequence number already received
  std::uint64_t reordered = 0;    ///< received after a higher sequence number
  std::optional<sim_time> first_delivery, last_delivery;
  /// Longest time between two consecutive first deliveries, with where it began and ended.
  sim_time max_gap;
  sim_time gap_from, gap_to;
  sim_time latency_min, latency_max;
  std::uint64_t latency_sum_ns = 0;
  std::uint64_t max_seq_seen = 0;
  /// Frames sent and never delivered (frames still in flight at the end count as lost).
  std::uint64_t lost() const noexcept { return sent > unique ? sent - unique : 0; }
};

/// Per-station receive counters (besides the NIC's IF-MIB counters).
struct station_stats {
  std::uint64_t probe_frames = 0;  ///< probe frames for a probe to this station
  std::uint64_t other_frames = 0;  ///< anything else (floods, BPDUs on edge ports, others' probes)
};

/// One line of the run's timeline.
struct timeline_entry {
  sim_time at;
  std::string source;  ///< "timeline", "switch", "stp", "host", "probe"
  std::string what;    ///< e.g. "link_down", "port_down", "port_state", "gap"
  std::string detail;  ///< human-readable
};

/// Frames over every link and direction: sent = delivered + lost (by reason) + in_flight.
/// Refused frames (queue full, no carrier) never entered a link and are counted apart.
struct frame_accounting {
  std::uint64_t sent = 0;
  std::uint64_t delivered = 0;
  std::uint64_t lost_carrier = 0;
  std::uint64_t lost_black_hole = 0;
  std::uint64_t lost_random = 0;
  std::uint64_t fcs_errors = 0;
  std::uint64_t in_flight = 0;
  std::uint64_t refused_queue_full = 0;
  std::uint64_t refused_no_carrier = 0;
  std::uint64_t lost() const noexcept {
    return lost_carrier + lost_black_hole + lost_random + fcs_errors + refused_queue_full + refused_no_carrier;
  }
};

struct expectation_result {
  std::string name;
  std::string text;      ///< the expectation in words
  std::string measured;  ///< the measured value
  std::string bound;     ///< the bound it was held to
  bool pass = false;
};

class world {
 public:
  /// `observe_interval`: the fallback period of the port-state watch (see the file comment).
  explicit world(std::uint64_t seed = 1, sim_time observe_interval = sim_time::from_ms(1));
  ~world();
  world(const world&) = delete;
  world& operator=(const world&) = delete;

  // --- building ------------------------------------------------------------------------
  /// A switch with its port overrides and port-channels. Names are unique over switches,
  /// hubs and stations.
  net::switch_id add_switch(const switch_spec& s);
  dev::hub_id add_hub(const hub_spec& h);
  station_id add_station(const station_spec& s);
  /// An IPv4 endpoint (traffic layer) on a NIC of its own, named like the endpoint.
  traffic::endpoint_id add_endpoint(const endpoint_spec& e);
  /// An ESX host (host::host_set): advanced settings, vmnics (link ends "<host>:vmnicN"),
  /// bonds with their nicteam keys, vswitches with port groups, VMs whose vNICs carry
  /// traffic endpoints (devices named like the endpoint, usable by flows and pings; they
  /// have no link). A host_error becomes a scenario_error naming h.pointer and the object.
  host::host_id add_host(const host_spec& h);
  traffic::flow_id add_flow(const flow_spec& f);
  traffic::ping_id add_ping(const ping_spec& p);
  /// A TCP bulk transfer (tcp::tcp_set::add_tcp_bulk) between two endpoints; its `stop`
  /// (if any) is scheduled here.
  tcp::session_id add_tcp(const tcp_spec& t);
  /// Host Advanced Settings for every host (see the file comment). A host_error becomes a
  /// scenario_error naming "/settings/<key>".
  void set_settings(const std::vector<setting>& settings);
  /// A link between two ends (see port_ref); both ends get attached.
  dev::link_id add_link(const link_spec& l);
  probe_id add_probe(const probe_spec& p);
  /// Schedules a timeline action (at >= now).
  void schedule(const action_spec& a);
  /// Captures both directions of a link into `dir`/c.file (created now).
  void capture(const capture_spec& c, const std::filesystem::path& dir);
  /// Writes every frame delivery, timeline action and port state change to `out` as it
  /// happens (one line each). The caller keeps `out` open for the run. For debugging: each
  /// line is formatted (allocates), unlike the untraced frame path.
  void set_trace(std::FILE* out);
  void expect(const expectation_spec& e);

  // --- running -------------------------------------------------------------------------
  using progress_fn = void (*)(void* ctx, const world& w);
  /// Runs to `end` (absolute), calling `progress` every 1/100 of the way when given.
  void run_until(sim_time end, progress_fn progress = nullptr, void* ctx = nullptr);
  /// Flushes and closes the captures (also done by the destructor).
  void close_captures();
  /// Evaluates every expectation against the run so far.
  std::vector<expectation_result> evaluate() const;

  // --- read side -----------------------------------------------------------------------
  kernel::simulator& sim() noexcept { return sim_; }
  const kernel::simulator& sim() const noexcept { return sim_; }
  dev::frame_pool& pool() noexcept { return pool_; }
  const dev::frame_pool& pool() const noexcept { return pool_; }
  dev::link_set& links() noexcept { return links_; }
  const dev::link_set& links() const noexcept { return links_; }
  dev::nic_set& nics() noexcept { return nics_; }
  const dev::nic_set& nics() const noexcept { return nics_; }
  dev::hub_set& hubs() noexcept { return hubs_; }
  const dev::hub_set& hubs() const noexcept { return hubs_; }
  host::host_set& hosts() noexcept { return hosts_; }
  const host::host_set& hosts() const noexcept { return hosts_; }
  /// The spec a host was built from.
  const host_spec& host_config(host::host_id h) const { return host_specs_.at(h); }
  traffic::endpoint_set& endpoints() noexcept { return endpoints_; }
  const traffic::endpoint_set& endpoints() const noexcept { return endpoints_; }
  /// The TCP sessions (nullptr: none added).
  const tcp::tcp_set* tcp() const noexcept { return tcp_.get(); }
  /// The spec of TCP session s (in order of add_tcp).
  const tcp_spec& tcp_config(tcp::session_id s) const { return tcp_specs_.at(s); }
  /// Mean goodput of session s in bit/s: bytes delivered over the time from its start to its
  /// completion (or now).
  std::uint64_t tcp_goodput_bps(tcp::session_id s) const;
  /// The vswitches of host h in order of creation (labels may change: rename_label).
  std::span<const host::vswitch_id> host_vswitches(host::host_id h) const { return host_vswitches_.at(h); }
  /// Probes of a ping series that got no reply in time (timed out or not sent).
  std::uint64_t ping_lost(traffic::ping_id p) const;
  net::switch_set& switches() noexcept { return switches_; }
  const net::switch_set& switches() const noexcept { return switches_; }
  std::uint64_t seed() const noexcept { return streams_.seed(); }

  std::size_t station_count() const noexcept { return stations_.size(); }
  std::string_view station_name(station_id s) const;
  dev::nic_id station_nic(station_id s) const;
  const station_stats& station_counters(station_id s) const;
  std::size_t probe_count() const noexcept { return probes_.size(); }
  const probe_spec& probe_config(probe_id p) const;
  const probe_stats& probe_results(probe_id p) const;
  std::optional<probe_id> find_probe(std::string_view name) const noexcept;
  std::optional<net::switch_id> find_switch(std::string_view name) const noexcept;

  /// A switch port's spanning tree state as a lower-case standard name ("forwarding",
  /// "blocking", "discarding", ...); without an engine: "forwarding" when up, else "disabled".
  std::string port_state(net::switch_id sw, net::port_no port) const;
  /// Every link's direction counters summed.
  frame_accounting accounting() const;
  /// Actions, switch events, sampled port-state transitions and probe gaps, in time order
  /// (ties in the order: timeline, switch, stp, probe; then by insertion). Past
  /// timeline_flaps_per_switch MAC flaps of a switch, one entry counts the rest.
  std::vector<timeline_entry> timeline() const;
  /// A host counter summed over its vswitches ("reflections", "local_deliveries",
  /// "uplink_tx", "uplink_rx", "dropped_vlan", "dropped_no_uplink", "dropped_unknown_dst",
  /// "beacons_rx") or its bonds ("failovers", "failbacks", "beacons_tx", "duplicates_sent").
  std::uint64_t host_counter(host::host_id h, std::string_view name) const;
  /// The hosts' service consoles (scenario/console_binding.hpp); nullptr when no host has one.
  const console_binding* consoles() const noexcept { return consoles_.get(); }

 private:
  friend class console_binding;
  console_binding& console_hooks();
  struct station {
    std::string name;
    dev::nic_id nic = 0;
    station_stats stats;
  };
  struct probe {
    probe_spec cfg;
    station_id from = 0, to = 0;
    wire::mac_address dst;
    std::uint64_t next_seq = 0;
    std::uint64_t expected = 0;
    std::vector<std::uint64_t> seen;  // bitmap of delivered sequence numbers
    probe_stats stats;
  };
  struct tap {
    world* w = nullptr;
    dev::link_id link = 0;
    report::pcap_writer* pcap = nullptr;
    bool bpdu_watch = false;  // an end runs STP/RSTP: observe port states after BPDUs
    // A host's vmnic link: which host, vmnic and side; vm_watch: record VMs' uplinks.
    std::optional<host::host_id> host;
    unsigned vmnic = 0;
    dev::link_side host_side = dev::link_side::a;
    bool vm_watch = false;
  };
  /// Which vmnic a VM's frames leave over, and when that changes (bond_failover vm form).
  struct vm_move {
    sim_time at;  ///< delivery of the first frame over the new vmnic at the link's far end
    unsigned from = 0, to = 0;
  };
  struct vm_watch {
    wire::mac_address mac;
    host::host_id host = 0;
    std::optional<unsigned> last;
    std::vector<vm_move> moves;  // reserved: no allocation per frame; capped
    std::uint64_t moves_not_kept = 0;
  };
  /// Moves kept per watched VM (the rest are counted).
  static constexpr std::size_t max_vm_moves = 256;
  struct watched_port {
    net::switch_id sw;
    net::port_no port;
    std::uint8_t state;  // port_state_code
  };
  struct pending_check {
    std::size_t expectation;
    std::string measured;  // filled at `at`
    bool done = false;
    bool pass = false;
    std::size_t watch = 0;  // bond_failover vm form: index in vm_watches_
  };
  enum class device_kind : std::uint8_t { switch_, hub, station, endpoint, host, vm_endpoint };
  struct device {
    device_kind kind;
    std::uint32_t id;
  };

  static void on_station_arrival(void* ctx, kernel::simulator& sim, const kernel::event& ev);
  static void on_hub_arrival(void* ctx, kernel::simulator& sim, const kernel::event& ev);
  static void on_vnic_delivery(void* ctx, kernel::simulator& sim, const kernel::event& ev);
  static void on_vnic_tx(void* ctx, std::uint32_t port, dev::frame_ref frame);
  static void on_probe_send(void* ctx, kernel::simulator& sim, const kernel::event& ev);
  static void on_tap(void* ctx, std::uint32_t link, dev::link_side from, sim_time at, const dev::frame_ref& frame);
  void station_receive(station_id s, const dev::frame_ref& f);
  void run_action(std::size_t index);
  void observe();
  void sample();
  void observe_soon();
  /// After an action: one look at each STP/RSTP switch's carrier-detection delay later.
  void observe_after_detection();
  void arm_deadline_watch();
  void on_deadline_watch();
  std::optional<sim_time> next_engine_deadline() const;
  std::uint8_t port_state_code(net::switch_id sw, net::port_no port) const;
  static std::string state_name(std::uint8_t code);
  void check_at(std::size_t index);
  void install_tap(dev::link_id id);
  const device& find_device(std::string_view name, std::string_view what) const;
  /// Index of vmnic `vmnic` in bond `bond_number`'s member list (as built).
  std::optional<bond::member> member_index(host::host_id h, unsigned bond_number, unsigned vmnic) const;
  /// The vNIC whose traffic endpoint is named `name` (nullopt: no VM's vNIC has that name).
  std::optional<host::vnic_id> vnic_named(std::string_view name) const;
  /// vnic_uplink checks at build time: the host, the bond, the vNIC on a vswitch bound to the bond.
  void check_vnic_uplink(const expectation_spec& e) const;
  /// What the bond's data path picks now for the vNIC's source MAC: "vmnicN", or why none.
  std::string vnic_uplink_now(const expectation_spec& e) const;
  static bool is_endpoint(const device& d) noexcept {
    return d.kind == device_kind::endpoint || d.kind == device_kind::vm_endpoint;
  }
  dev::link_id link_named(std::string_view name) const;
  bool spanning_tree_ok(std::string& reason) const;
  void trace_line(std::string_view line);
  void trace_write(std::string_view line);
  /// Writes the host events logged since the last call to the trace.
  void trace_host_events();
  void run_host_action(const action_spec& a, std::string& detail);
  /// Starts recording which vmnic the frames of e.vm leave over; returns the watch index.
  std::size_t watch_vm(const expectation_spec& e);
  std::string evaluate_failover(const expectation_spec& e, const pending_check& c, bool& pass) const;

  kernel::simulator sim_;
  kernel::rng_streams streams_;
  dev::frame_pool pool_;
  dev::link_set links_;
  dev::nic_set nics_;
  dev::hub_set hubs_;
  net::switch_set switches_;
  traffic::endpoint_set endpoints_;
  host::host_set hosts_;
  std::vector<dev::nic_id> endpoint_nic_;  // endpoint id -> its NIC
  std::vector<traffic::endpoint_id> vnic_endpoint_;  // vNIC id -> its guest endpoint
  std::vector<host_spec> host_specs_;                 // by host id
  std::vector<std::vector<host::vswitch_id>> host_vswitches_;  // by host id
  std::vector<setting> settings_;
  std::unique_ptr<tcp::tcp_set> tcp_;
  std::vector<tcp_spec> tcp_specs_;
  std::vector<vm_watch> vm_watches_;
  std::size_t traced_host_events_ = 0;
  kernel::event_kind vnic_kind_ = 0;
  kernel::event_kind station_kind_ = 0;
  kernel::event_kind hub_kind_ = 0;
  kernel::event_kind probe_kind_ = 0;
  sim_time observe_interval_;
  bool observing_ = false;
  kernel::event_handle deadline_watch_{};
  sim_time deadline_watch_at_;
  bool deadline_retry_ = false;
  kernel::event_handle soon_watch_{};
  sim_time soon_at_;

  std::vector<std::pair<std::string, device>> devices_;  // by name, in order of addition
  std::vector<station> stations_;
  std::vector<station_id> station_of_nic_;  // NIC id -> station, for the arrival handler
  std::vector<probe> probes_;
  std::vector<link_spec> link_specs_;
  std::vector<action_spec> actions_;
  std::vector<expectation_spec> expectations_;
  std::vector<pending_check> checks_;
  std::vector<watched_port> watched_;
  std::vector<std::pair<net::switch_id, sim_time>> detect_delays_;  // STP/RSTP switches with a delay
  std::vector<timeline_entry> log_;  // actions and sampled state changes
  std::vector<std::unique_ptr<report::pcap_writer>> pcaps_;
  std::vector<std::unique_ptr<tap>> taps_;  // per link, stable addresses
  std::FILE* trace_ = nullptr;
  std::unique_ptr<console_binding> consoles_;  // last: destroyed first (it refers to the rest)
};

/// Builds a loaded model into `w` (switches, hubs, stations, links, probes, timeline,
/// expectations, and the captures when `pcap_dir` is given).
void build(world& w, const scenario_model& m, const std::filesystem::path* pcap_dir = nullptr);

}  // namespace vnetsim::scenario
