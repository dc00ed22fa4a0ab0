#pragma once
/// Traffic endpoints: the IPv4 host stack that every VM, physical host and service
/// console gets, and the traffic sources and sinks that show what a failover costs an
/// application.
///
/// One endpoint = one Ethernet interface with one IPv4 address:
/// - ARP (RFC 826) with a cache (entry timeout), a bounded pending queue per unresolved
///   address while resolving, retries, gratuitous ARP (sent at start if configured and on
///   demand; received ones update an existing entry, the RFC 826 merge rule); answers for
///   its own address; RARP frames (EtherType 0x8035, RFC 903) are received and counted.
/// - IPv4 (RFC 791) with one static route table: the connected subnet and a default
///   gateway. TTL on send, header checks on receive (RFC 1122 3.2.1), header and UDP
///   checksums filled in software or left to the NIC per its offload (frame_meta::csum).
/// - ICMP echo (RFC 792): answers echo requests to its own address (not broadcast ones,
///   RFC 1122 3.2.2.6); ping series with interval, timeout and a per-probe result.
/// - UDP (RFC 768) flows at a constant rate or with Poisson arrivals; sequence number and
///   send time travel in the UDP payload (real bytes); the receiver counts delivered,
///   duplicated, reordered, lost, the longest gap between deliveries and latency
///   percentiles.
/// - TCP (IPv4 protocol 6) goes to a per-endpoint hook (set_tcp_handler); without one the
///   segment is counted as tcp_no_handler and dropped. send_ip() is the way out for TCP:
///   allocate_ip_frame(), write the segment at ip_l4_offset, set frame_meta::tso_mss for a
///   super-frame when nic_caps() offers TSO (the NIC segments it and fills every segment's
///   checksums), then send_ip().
///
/// Attachments: (a) a physical NIC of a dev::nic_set (attach_nic + nic_endpoint for the
/// link), or (b) a plain function pointer for anything else (attach_custom; the owner
/// calls receive()).
///
/// Per frame: no heap allocation (frames come from the pool; headers are written in
/// place; structures are sized at set-up), no virtual call. Event kinds are registered
/// once by the constructor: "traffic/nic-arrive" (link arrivals at an endpoint's NIC),
/// "traffic/timer" (target = endpoint: ARP retries, gratuitous ARP at start),
/// "traffic/udp-send" (target = flow), "traffic/ping" (target = ping series).
/// Deterministic: the only randomness is the Poisson arrivals, from the named stream
/// "flow/<name>".
///
/// Not modelled: IP fragmentation and reassembly (fragments are counted as
/// ipReasmFails and dropped), IP options on send, ICMP errors on send (a datagram to a
/// closed port is counted as udpNoPorts only), ARP probes of RFC 5227 (conflicts are
/// counted, not defended).

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "vnetsim/dev/frame_pool.hpp"
#include "vnetsim/dev/link.hpp"
#include "vnetsim/dev/nic.hpp"
#include "vnetsim/kernel/rng.hpp"
#include "vnetsim/kernel/simulator.hpp"
#include "vnetsim/traffic/flow_stats.hpp"
#include "vnetsim/wire/ipv4.hpp"
#include "vnetsim/wire/mac.hpp"

namespace vnetsim::traffic {

using endpoint_id = std::uint32_t;
using flow_id = std::uint32_t;
using ping_id = std::uint32_t;

/// A precondition error at set-up or in a call: the message names the endpoint, flow or
/// ping series and the rule broken.
class traffic_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// ---- defaults, each with its source -------------------------------------------------

/// ARP cache entry lifetime. RFC 1122 2.3.2.1 requires entries to time out but gives no
/// figure; 60 s is Linux's neighbour gc_stale_time default (Documentation/networking/
/// ip-sysctl, neigh/default/gc_stale_time: unused entries older than this are removed).
/// Linux's reconfirmation of entries in use (base_reachable_time, 30 s) is not modelled:
/// here an entry is simply resolved again when it has expired.
inline constexpr sim_time default_arp_timeout = sim_time::from_s(60);
/// Interval between ARP requests for one address: RFC 1122 2.3.2.1 recommends at most one
/// request per second per destination; Linux's retrans_time_ms default is 1000.
inline constexpr sim_time default_arp_retry_interval = sim_time::from_s(1);
/// Requests sent for one address before giving up: Linux mcast_solicit default 3
/// (ip-sysctl, neigh/default/mcast_solicit).
inline constexpr std::uint32_t default_arp_requests = 3;
/// Frames held per unresolved address. RFC 1122 2.3.2.2: SHOULD save at least one (the
/// latest); Linux's unres_qlen default was 3 before Linux 3.3 (ip-sysctl, unres_qlen).
inline constexpr std::uint32_t default_arp_queue_len = 3;
/// Frames held per endpoint over all unresolved addresses (a model figure: the storage
/// reserved at set-up).
inline constexpr std::uint32_t default_arp_queue_total = 64;
/// ARP cache entries per endpoint (a model figure: the storage reserved at set-up; when
/// full, the entry closest to expiry is replaced).
inline constexpr std::uint32_t default_arp_cache_entries = 64;
/// TTL of sent datagrams: 64, the default of the IANA assigned numbers (RFC 1700
/// "IP TTL 64") and Linux's net.ipv4.ip_default_ttl.
inline constexpr std::uint8_t default_ttl = wire::ipv4_default_ttl;
/// Ping defaults of iputils ping(8): one probe per second, 56 data bytes (which with the
/// 8-byte ICMP header make 64). The per-probe timeout (1 s here) is our choice: ping(8)
/// waits for replies until the end.
inline constexpr sim_time default_ping_interval = sim_time::from_s(1);
inline constexpr std::uint32_t default_ping_payload = 56;
inline constexpr sim_time default_ping_timeout = sim_time::from_s(1);

/// Bytes of the flow header at the start of every UDP flow payload:
/// magic "VNSF" (4), flow id (4), sequence number (8), send time in ns (8), big-endian.
inline constexpr std::size_t udp_flow_header_len = 24;
inline constexpr std::uint32_t udp_flow_magic = 0x564e'5346u;  // "VNSF"
/// Offset of the L4 header in frames from allocate_ip_frame(): Ethernet (14, untagged;
/// a VLAN tag travels in frame_meta::vlan_tci) + IPv4 without options (20).
inline constexpr std::size_t ip_l4_offset = 14 + 20;

// ---- configuration -------------------------------------------------------------------

struct arp_options {
  sim_time timeout = default_arp_timeout;              ///< cache entry lifetime
  sim_time retry_interval = default_arp_retry_interval;
  std::uint32_t max_requests = default_arp_requests;   ///< requests before giving up (>= 1)
  std::uint32_t queue_len = default_arp_queue_len;     ///< frames held per unresolved address (>= 1)
  std::uint32_t queue_total = default_arp_queue_total; ///< frames held per endpoint (>= queue_len)
  std::uint32_t cache_entries = default_arp_cache_entries;  ///< >= 1
  /// Broadcast a gratuitous ARP (an RFC 5227 3 announcement) when the simulation starts.
  bool gratuitous_at_start = false;
};

struct endpoint_config {
  std::string name;
  wire::mac_address mac;  ///< unicast, non-zero
  wire::ipv4_address ip;  ///< unicast
  unsigned prefix_len = 24;  ///< 0..32 (0: everything is on-link)
  /// Default gateway; must lie in the connected subnet. Without one, off-subnet
  /// destinations count ipOutNoRoutes.
  std::optional<wire::ipv4_address> gateway;
  /// 802.1Q TCI the endpoint sends with (as frame_meta::vlan_tci for the NIC or owner to
  /// insert) and whose VID it requires on receive; none = untagged.
  std::optional<std::uint16_t> vlan_tci;
  std::uint8_t ttl = default_ttl;  ///< >= 1 (RFC 1122 3.2.1.7: never send TTL 0)
  arp_options arp;
  /// Ask the NIC for IPv4 header and UDP/TCP checksums (frame_meta::csum) when the NIC
  /// offers tx checksum offload (attach_nic) or the owner says it honours the requests
  /// (attach_custom); otherwise the endpoint fills them in software (counted).
  bool tx_checksum_offload = true;
};

/// How a UDP flow's packets are spaced.
enum class arrival_process : std::uint8_t { constant, poisson };
constexpr std::string_view to_string(arrival_process p) noexcept {
  switch (p) {
    case arrival_process::constant: return "constant";
    case arrival_process::poisson: return "poisson";
  }
  return "unknown";
}

struct udp_flow_config {
  std::string name;
  endpoint_id src = 0;
  wire::ipv4_address dst;
  /// The receiving endpoint when several endpoints of this set hold `dst`; otherwise
  /// found by address (a destination outside the set makes a send-only flow).
  std::optional<endpoint_id> dst_endpoint;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  /// UDP payload bytes, >= udp_flow_header_len; the frame must fit the MTU (1500).
  std::uint32_t payload_len = 64;
  arrival_process process = arrival_process::constant;
  /// The rate: exactly one of packets per second or bits per second of UDP payload.
  /// Constant: packet k is sent at start + floor(k / rate) exactly. Poisson: the mean.
  std::uint64_t rate_pps = 0;
  std::uint64_t rate_bps = 0;
  sim_time start = sim_time::zero();
  /// No packet is sent at or after stop.
  sim_time stop = sim_time::max();
  /// Most packets to send; 0 = until stop (then stop must be finite).
  std::uint64_t count = 0;
  std::uint8_t dscp = 0;  ///< RFC 2474 3
};

struct ping_config {
  std::string name;
  endpoint_id src = 0;
  wire::ipv4_address dst;
  sim_time start = sim_time::zero();
  sim_time interval = default_ping_interval;  ///< > 0
  sim_time timeout = default_ping_timeout;    ///< > 0
  std::uint32_t count = 0;  ///< probes, 1..65536 (the ICMP sequence number is 16 bits)
  /// ICMP echo data bytes, >= 8 (the first 8 carry the send time, as ping(8) does).
  std::uint32_t payload_len = default_ping_payload;
};

// ---- results ---------------------------------------------------------------------------

/// ARP cache entry states, printed with the names of RFC 4861 7.3.2 (RFC 826 names none).
enum class arp_state : std::uint8_t { none, incomplete, reachable };
constexpr std::string_view to_string(arp_state s) noexcept {
  switch (s) {
    case arp_state::none: return "NONE";
    case arp_state::incomplete: return "INCOMPLETE";
    case arp_state::reachable: return "REACHABLE";
  }
  return "unknown";
}

/// Why the endpoint dropped a frame (besides the MIB counters below).
enum class drop_reason : std::uint8_t {
  arp_queue_overflow,  ///< pending queue of an unresolved address (or of the endpoint) full: oldest dropped
  arp_failed,          ///< held for an address whose resolution gave up
  arp_cache_full,      ///< no cache entry could be made for a new address
  no_buffer,           ///< the frame pool was exhausted
  not_attached,        ///< sent before attach_nic / attach_custom
  tx_link_down,        ///< the NIC refused: link down
  tx_queue_full,       ///< the NIC refused: queue full
  tx_error,            ///< the NIC refused: malformed or too big
  wrong_vlan,          ///< received with a VID other than the endpoint's
  not_our_mac,         ///< received for another unicast MAC
  unknown_ethertype,   ///< neither ARP, RARP nor IPv4
  malformed,           ///< truncated Ethernet, tag or ARP packet
};
inline constexpr std::size_t drop_reason_count = 12;
constexpr std::string_view to_string(drop_reason r) noexcept {
  switch (r) {
    case drop_reason::arp_queue_overflow: return "arp_queue_overflow";
    case drop_reason::arp_failed: return "arp_failed";
    case drop_reason::arp_cache_full: return "arp_cache_full";
    case drop_reason::no_buffer: return "no_buffer";
    case drop_reason::not_attached: return "not_attached";
    case drop_reason::tx_link_down: return "tx_link_down";
    case drop_reason::tx_queue_full: return "tx_queue_full";
    case drop_reason::tx_error: return "tx_error";
    case drop_reason::wrong_vlan: return "wrong_vlan";
    case drop_reason::not_our_mac: return "not_our_mac";
    case drop_reason::unknown_ethertype: return "unknown_ethertype";
    case drop_reason::malformed: return "malformed";
  }
  return "unknown";
}

/// Per-endpoint counters. IPv4 ones carry the IP-MIB names (RFC 4293 ipSystemStats*,
/// without the prefix), ICMP ones the RFC 2011 names, UDP ones the UDP-MIB names (RFC
/// 4113). No MIB defines ARP counters; they are named in the same style.
struct endpoint_counters {
  // ARP
  std::uint64_t arpInRequests = 0;
  std::uint64_t arpInReplies = 0;
  std::uint64_t arpOutRequests = 0;
  std::uint64_t arpOutReplies = 0;
  std::uint64_t arp_timeouts = 0;           ///< resolutions given up after max_requests
  std::uint64_t arp_gratuitous_sent = 0;
  std::uint64_t arp_gratuitous_received = 0;
  std::uint64_t arp_cache_updates = 0;      ///< entries whose MAC changed (RFC 826 merge)
  std::uint64_t arp_conflicts = 0;          ///< ARP from another MAC claiming our address
  std::uint64_t rarp_received = 0;          ///< EtherType 0x8035 frames (RFC 903)
  // IPv4 (RFC 4293 ipSystemStats*)
  std::uint64_t ipInReceives = 0;
  std::uint64_t ipInHdrErrors = 0;      ///< version, length, checksum, TTL 0
  std::uint64_t ipInAddrErrors = 0;     ///< not for our address
  std::uint64_t ipInUnknownProtos = 0;
  std::uint64_t ipReasmFails = 0;       ///< fragments (no reassembly here)
  std::uint64_t ipInDelivers = 0;
  std::uint64_t ipOutRequests = 0;
  std::uint64_t ipOutNoRoutes = 0;
  std::uint64_t ipOutDiscards = 0;      ///< dropped after routing (see drops[] for why)
  std::uint64_t sw_checksums = 0;       ///< checksums the endpoint computed in software on send
  // ICMP (RFC 4293 icmpStatsTable / icmpMsgStatsTable)
  std::uint64_t icmpInMsgs = 0;
  std::uint64_t icmpInErrors = 0;       ///< bad checksum or truncated
  std::uint64_t icmpInEchos = 0;
  std::uint64_t icmpInEchoReps = 0;
  std::uint64_t icmpOutMsgs = 0;
  std::uint64_t icmpOutEchos = 0;
  std::uint64_t icmpOutEchoReps = 0;
  std::uint64_t icmp_unmatched_replies = 0;  ///< echo replies for no ping series of ours
  // UDP (RFC 4113)
  std::uint64_t udpInDatagrams = 0;
  std::uint64_t udpNoPorts = 0;
  std::uint64_t udpInErrors = 0;        ///< bad length or checksum
  std::uint64_t udpOutDatagrams = 0;
  // TCP hook
  std::uint64_t tcp_no_handler = 0;     ///< TCP segments dropped: no TCP attached
  std::uint64_t tcp_delivered = 0;      ///< handed to the TCP hook
  std::array<std::uint64_t, drop_reason_count> drops{};

  std::uint64_t dropped(drop_reason r) const noexcept { return drops[static_cast<std::size_t>(r)]; }
};

/// One UDP flow's results (computed when asked, from the receiver's accounting).
struct udp_flow_stats {
  std::uint64_t sent = 0;         ///< packets the source generated (handed to its stack)
  std::uint64_t delivered = 0;    ///< unique sequence numbers received
  std::uint64_t lost = 0;         ///< sent - delivered - in_flight
  /// Sent within the last max-latency window before now and not delivered yet (judged
  /// over the last 256 packets; 0 before the first delivery).
  std::uint64_t in_flight = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t reordered = 0;    ///< RFC 4737 3.3
  std::uint64_t bad_payload = 0;  ///< datagrams on the flow's port without a valid flow header
  /// Packets not sent because the sequence space sized at set-up was used up (a Poisson
  /// flow far above its mean count).
  std::uint64_t not_sent_capacity = 0;
  sim_time first_delivery;
  sim_time last_delivery;
  /// Longest time between two consecutive deliveries (of any packet of the flow) and the
  /// deliveries that bound it: the outage a user saw.
  sim_time longest_gap;
  sim_time gap_start;
  sim_time gap_end;
  /// One-way latency (receive time - send time carried in the payload), unique packets.
  sim_time latency_min, latency_p50, latency_p90, latency_p99, latency_max, latency_mean;
};

enum class probe_status : std::uint8_t { pending, replied, timed_out, not_sent };
constexpr std::string_view to_string(probe_status s) noexcept {
  switch (s) {
    case probe_status::pending: return "pending";
    case probe_status::replied: return "replied";
    case probe_status::timed_out: return "timed_out";
    case probe_status::not_sent: return "not_sent";
  }
  return "unknown";
}

/// One echo request of a ping series.
struct ping_probe {
  std::uint32_t seq = 0;     ///< ICMP sequence number (the probe's index)
  probe_status status = probe_status::pending;
  sim_time sent;             ///< when the request was handed to the stack
  sim_time rtt;              ///< replied: reply time - sent
  std::uint32_t late_replies = 0;       ///< replies after the timeout
  std::uint32_t duplicate_replies = 0;  ///< further replies after the first
};

/// A logged ARP cache transition.
struct arp_event {
  sim_time at;
  endpoint_id ep = 0;
  wire::ipv4_address ip;
  arp_state from = arp_state::none;
  arp_state to = arp_state::none;
  wire::mac_address mac;
};
inline constexpr std::size_t default_arp_log_limit = 65536;

/// TCP hook: receives an IPv4 datagram with protocol 6 addressed to the endpoint, the
/// frame owning the bytes, and the offset of the TCP header in it (header checked).
using tcp_rx_fn = void (*)(void* ctx, endpoint_id ep, const wire::ipv4_address& src,
                           const wire::ipv4_address& dst, dev::frame_ref frame,
                           std::size_t l4_offset);

/// A frame that still carries its sender's offload requests never passed a NIC: it was
/// delivered in memory (a host's local port, an internal vmnet). Its checksums are left
/// unfilled by design and its bytes are as sent, so a receiver trusts them, as a guest
/// trusts a paravirtual NIC's "data valid" flag. A super-frame (tso_mss) counts too: its
/// TCP checksum was left to the segmentation.
constexpr bool ipv4_checksum_pending(const dev::frame_meta& m) noexcept {
  return dev::has(m.csum, dev::csum_offload::ipv4_header);
}
constexpr bool l4_checksum_pending(const dev::frame_meta& m) noexcept {
  return dev::has(m.csum, dev::csum_offload::l4) || m.tso_mss != 0;
}

/// How send_ip() treats the L4 checksum.
enum class l4_checksum : std::uint8_t {
  as_is,  ///< the caller filled it (or wants none)
  fill,   ///< fill the UDP/TCP checksum (in software or by the NIC per the offload)
};

// ---- the set -----------------------------------------------------------------------------

class endpoint_set {
 public:
  endpoint_set(kernel::simulator& sim, dev::frame_pool& pool, const kernel::rng_streams& streams);
  endpoint_set(const endpoint_set&) = delete;
  endpoint_set& operator=(const endpoint_set&) = delete;
  ~endpoint_set();

  /// Adds an endpoint; throws traffic_error naming it and the rule (empty or duplicate
  /// name, non-unicast MAC or IP, prefix > 32, gateway off the subnet, TTL 0, ARP options
  /// out of range). A gratuitous ARP at start is scheduled for now().
  endpoint_id add(const endpoint_config& cfg);

  /// (a) A physical NIC: transmit with nic_set::transmit, receive what the link delivers
  /// to it. All NICs must belong to one nic_set. Throws if the endpoint is attached.
  void attach_nic(endpoint_id ep, dev::nic_set& nics, dev::nic_id nic);
  /// The link endpoint for a NIC attached with attach_nic (for link_set::add).
  dev::endpoint nic_endpoint(dev::nic_id nic) const;

  /// (b) Anything else: transmit through `fn(ctx, port, frame)`, receive by the owner
  /// calling receive(). `honours_csum_offload`: the owner fills frame_meta::csum requests.
  using tx_fn = void (*)(void* ctx, std::uint32_t port, dev::frame_ref frame);
  void attach_custom(endpoint_id ep, tx_fn fn, void* ctx, std::uint32_t port,
                     bool honours_csum_offload = false);
  /// (b) with the capabilities the owner offers, as a virtual NIC does
  /// (host_set::vnic_capabilities): checksum requests when `caps.tx_checksum`, TSO
  /// super-frames for TCP when `caps.tso` (nic_caps()). `caps` is read at each use, so it
  /// may change (a bond member joining or leaving); it must outlive the endpoint set.
  void attach_custom(endpoint_id ep, tx_fn fn, void* ctx, std::uint32_t port,
                     const dev::nic_capabilities& caps);

  /// One received Ethernet frame. O(ARP cache + UDP ports of the endpoint); no allocation,
  /// no virtual call.
  void receive(endpoint_id ep, dev::frame_ref frame);

  /// TCP: the handler for protocol 6 at `ep` (nullptr: none, count tcp_no_handler).
  void set_tcp_handler(endpoint_id ep, tcp_rx_fn fn, void* ctx);
  /// A frame with room for Ethernet + IPv4 headers and `l4_len` bytes at ip_l4_offset
  /// (empty when the pool is exhausted).
  dev::frame_ref allocate_ip_frame(std::size_t l4_len);
  /// Sends the L4 bytes at ip_l4_offset of `frame` to `dst`: writes the IPv4 and Ethernet
  /// headers, routes, resolves and transmits. False (and counted) when dropped now; a
  /// frame held for ARP returns true.
  bool send_ip(endpoint_id ep, wire::ipv4_address dst, wire::ip_protocol proto,
               dev::frame_ref frame, l4_checksum csum = l4_checksum::fill, std::uint8_t dscp = 0);
  /// Whether send_ip's checksum work would be requested from the NIC or owner (now).
  bool offloads_checksum(endpoint_id ep) const;
  /// The NIC's capabilities for attach_nic endpoints, the owner's for attach_custom with
  /// capabilities (nullptr otherwise), e.g. for TSO. The pointer stays valid; the values
  /// are the current ones.
  const dev::nic_capabilities* nic_caps(endpoint_id ep) const;
  /// True when received frames were checked by a NIC before receive() (attach_nic): their
  /// IPv4 and TCP/UDP checksums need no second check.
  bool nic_checks_rx(endpoint_id ep) const;

  /// Traffic sources. Throw traffic_error naming the flow/series and the rule.
  flow_id add_udp_flow(const udp_flow_config& cfg);
  ping_id add_ping(const ping_config& cfg);
  /// Broadcasts a gratuitous ARP (announcement, RFC 5227 3) now.
  void send_gratuitous_arp(endpoint_id ep);

  // Results.
  const udp_flow_stats& flow_stats(flow_id f) const;
  std::span<const ping_probe> ping_results(ping_id p) const;
  const endpoint_counters& counters(endpoint_id ep) const;
  /// The cache entry for `ip` if one is held (any state), and its MAC.
  std::optional<wire::mac_address> arp_lookup(endpoint_id ep, wire::ipv4_address ip) const;
  arp_state arp_entry_state(endpoint_id ep, wire::ipv4_address ip) const;
  /// ARP transitions in order; lines like "1.000000000 vm1 arp 10.0.0.2 INCOMPLETE=>REACHABLE".
  const std::vector<arp_event>& arp_log() const noexcept { return arp_log_; }
  std::string format(const arp_event& e) const;

  // Lookups.
  std::size_t size() const noexcept { return eps_.size(); }
  std::size_t flow_count() const noexcept { return flows_.size(); }
  std::size_t ping_count() const noexcept { return pings_.size(); }
  const endpoint_config& config(endpoint_id ep) const;
  std::string_view name(endpoint_id ep) const { return config(ep).name; }
  std::string_view flow_name(flow_id f) const;
  std::string_view ping_name(ping_id p) const;
  std::optional<endpoint_id> find(std::string_view name) const;
  std::optional<flow_id> find_flow(std::string_view name) const;
  std::optional<ping_id> find_ping(std::string_view name) const;

 private:
  struct arp_entry {
    wire::ipv4_address ip;
    wire::mac_address mac;
    arp_state state = arp_state::none;
    sim_time expires;             // reachable: valid before this time
    std::uint32_t requests = 0;   // incomplete: requests sent
    std::uint32_t queued = 0;     // incomplete: frames held
    std::uint32_t generation = 0; // bumped at each (re)use, so stale retry events are ignored
  };
  struct pending_frame {
    dev::frame_ref frame;
    wire::ipv4_address next_hop;
  };
  struct udp_binding {
    std::uint16_t port = 0;
    flow_id flow = 0;
  };
  enum class attachment : std::uint8_t { none, nic, custom };
  struct endpoint {
    endpoint_config cfg;
    wire::ipv4_cidr subnet;
    attachment att = attachment::none;
    dev::nic_id nic = 0;
    tx_fn fn = nullptr;
    void* fn_ctx = nullptr;
    std::uint32_t port = 0;
    bool offload = false;     // checksum requests go to the NIC/owner (attach_custom without caps)
    const dev::nic_capabilities* caps = nullptr;  // attach_custom with caps: read per send
    std::uint16_t ip_ident = 0;
    std::vector<arp_entry> arp;         // fixed size cfg.arp.cache_entries
    std::uint32_t arp_hint = 0;         // index of the entry found last
    std::vector<pending_frame> pending; // capacity cfg.arp.queue_total, never exceeded
    std::vector<udp_binding> udp;       // bound at set-up
    std::vector<ping_id> pings;         // series sent from here
    tcp_rx_fn tcp = nullptr;
    void* tcp_ctx = nullptr;
    endpoint_counters c;
  };
  struct flow {
    udp_flow_config cfg;
    std::optional<endpoint_id> dst_ep;
    // sender
    std::uint64_t next_seq = 0;
    std::uint64_t interval_num = 0;  // constant: packet k at start + floor(k * num / den)
    std::uint64_t interval_den = 1;
    double mean_interval_ns = 0;     // poisson
    sim_time next_send;
    kernel::rng rng{0};
    std::array<sim_time, 256> recent_send{};  // send time of seq, indexed seq % 256
    // receiver
    sequence_tracker seqs;
    latency_histogram latency;
    std::uint64_t bad_payload = 0;
    std::uint64_t not_sent_capacity = 0;
    bool any_delivery = false;
    sim_time first_delivery, last_delivery, longest_gap, gap_start, gap_end;
    mutable udp_flow_stats stats;  // filled by flow_stats()
  };
  struct ping_series {
    ping_config cfg;
    std::vector<ping_probe> probes;
  };

  endpoint& at(endpoint_id ep);
  const endpoint& at(endpoint_id ep) const;
  void count_drop(endpoint& e, drop_reason r) noexcept { ++e.c.drops[static_cast<std::size_t>(r)]; }
  /// Whether checksums are requested from the NIC/owner now.
  bool offloads(const endpoint& e) const noexcept {
    return e.caps != nullptr ? e.cfg.tx_checksum_offload && e.caps->tx_checksum : e.offload;
  }

  // Output.
  void transmit(endpoint_id id, endpoint& e, dev::frame_ref frame);
  void ip_output(endpoint_id id, endpoint& e, dev::frame_ref frame, wire::ipv4_address next_hop);
  void send_arp(endpoint_id id, endpoint& e, std::uint16_t op, wire::mac_address eth_dst,
                wire::mac_address tha, wire::ipv4_address tpa);
  void fill_l2(const endpoint& e, dev::frame_ref& frame, wire::mac_address dst) const noexcept;

  // ARP.
  arp_entry* arp_find(endpoint& e, wire::ipv4_address ip) noexcept;
  arp_entry* arp_create(endpoint_id id, endpoint& e, wire::ipv4_address ip);
  void set_state(endpoint_id id, arp_entry& a, arp_state to);
  void arp_resolved(endpoint_id id, endpoint& e, arp_entry& a);
  void arp_input(endpoint_id id, endpoint& e, std::span<const std::byte> pkt);
  void arp_retry(endpoint_id id, std::uint32_t slot, std::uint32_t generation);

  // Input.
  void ip_input(endpoint_id id, endpoint& e, dev::frame_ref& frame, std::size_t off);
  void icmp_input(endpoint_id id, endpoint& e, dev::frame_ref& frame, std::size_t ip_off,
                  std::size_t l4_off, std::size_t l4_len);
  void udp_input(endpoint_id id, endpoint& e, dev::frame_ref& frame, std::size_t ip_off,
                 std::size_t l4_off, std::size_t l4_len);
  void flow_receive(flow& f, std::span<const std::byte> payload);

  // Sources.
  void udp_send(flow_id fid);
  void ping_send(ping_id pid, std::uint32_t probe);
  void ping_timeout(ping_id pid, std::uint32_t probe);

  static void on_nic_arrival(void* ctx, kernel::simulator& sim, const kernel::event& ev);
  static void on_timer(void* ctx, kernel::simulator& sim, const kernel::event& ev);
  static void on_udp_send(void* ctx, kernel::simulator& sim, const kernel::event& ev);
  static void on_ping(void* ctx, kernel::simulator& sim, const kernel::event& ev);

  kernel::simulator* sim_;
  dev::frame_pool* pool_;
  const kernel::rng_streams* streams_;
  dev::nic_set* nics_ = nullptr;
  std::vector<endpoint_id> nic_owner_;  // nic id -> endpoint id (no_owner when none)
  kernel::event_kind nic_kind_ = 0;
  kernel::event_kind timer_kind_ = 0;
  kernel::event_kind udp_kind_ = 0;
  kernel::event_kind ping_kind_ = 0;
  std::vector<endpoint> eps_;
  std::vector<flow> flows_;
  std::vector<ping_series> pings_;
  std::map<std::string, endpoint_id, std::less<>> ep_names_;
  std::map<std::string, flow_id, std::less<>> flow_names_;
  std::map<std::string, ping_id, std::less<>> ping_names_;
  std::vector<arp_event> arp_log_;
  std::uint64_t arp_events_not_logged_ = 0;
};

}  // namespace vnetsim::traffic
