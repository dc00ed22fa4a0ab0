#include "vnetsim/traffic/endpoint.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "vnetsim/wire/arp.hpp"
#include "vnetsim/wire/bytes.hpp"
#include "vnetsim/wire/ethernet.hpp"
#include "vnetsim/wire/icmp.hpp"
#include "vnetsim/wire/tcp.hpp"
#include "vnetsim/wire/udp.hpp"
#include "vnetsim/wire/vlan.hpp"

namespace vnetsim::traffic {

namespace {

constexpr std::uint16_t ether_ipv4 = static_cast<std::uint16_t>(wire::ether_type::ipv4);
constexpr std::uint16_t ether_arp = static_cast<std::uint16_t>(wire::ether_type::arp);
constexpr std::uint16_t ether_rarp = static_cast<std::uint16_t>(wire::ether_type::rarp);
constexpr std::uint16_t ether_vlan = static_cast<std::uint16_t>(wire::ether_type::vlan);
constexpr std::uint16_t arp_request = static_cast<std::uint16_t>(wire::arp_operation::request);
constexpr std::uint16_t arp_reply = static_cast<std::uint16_t>(wire::arp_operation::reply);
/// Minimum frame without FCS (IEEE 802.3-2018 4.4.2): shorter frames are padded.
constexpr std::size_t min_frame_len = wire::ethernet_min_frame_len - wire::ethernet_fcs_len;
/// The untagged MTU (IEEE 802.3-2018 3.2.7): IPv4 datagrams above it are not sent.
constexpr std::size_t mtu = wire::ethernet_max_payload_len;
/// ICMP echo types (RFC 792).
constexpr std::uint8_t icmp_echo_request = 8;
constexpr std::uint8_t icmp_echo_reply = 0;
/// VID mask of an 802.1Q TCI (IEEE 802.1Q-2018 9.6); VID 0 is a priority tag (untagged).
constexpr std::uint16_t vid_mask = 0x0fff;

constexpr endpoint_id no_owner = std::numeric_limits<endpoint_id>::max();

// Timer event argument: type in the top byte; ARP retries carry slot and generation.
enum class timer_type : std::uint8_t { arp_retry = 0, gratuitous = 1 };
constexpr std::uint64_t timer_arg(timer_type t, std::uint32_t slot = 0, std::uint32_t gen = 0) {
  return (std::uint64_t{static_cast<std::uint8_t>(t)} << 56) | (std::uint64_t{gen} << 24) |
         (slot & 0xff'ffffu);
}
/// ARP cache slots are addressed with 24 bits in timer events.
constexpr std::uint32_t max_arp_cache_entries = 1u << 24;

/// Largest flow sequence space (bitmap of 512 MiB).
constexpr std::uint64_t max_flow_packets = std::uint64_t{1} << 32;

/// floor(a * b / c) without overflow (c > 0).
std::uint64_t mul_div(std::uint64_t a, std::uint64_t b, std::uint64_t c) noexcept {
  const unsigned __int128 p = static_cast<unsigned __int128>(a) * b;
  const unsigned __int128 q = p / c;
  return q > std::numeric_limits<std::uint64_t>::max() ? std::numeric_limits<std::uint64_t>::max()
                                                        : static_cast<std::uint64_t>(q);
}

}  // namespace

endpoint_set::endpoint_set(kernel::simulator& sim, dev::frame_pool& pool,
                           const kernel::rng_streams& streams)
    : sim_(&sim), pool_(&pool), streams_(&streams) {
  nic_kind_ = sim.register_kind("traffic/nic-arrive", &endpoint_set::on_nic_arrival, this);
  timer_kind_ = sim.register_kind("traffic/timer", &endpoint_set::on_timer, this);
  udp_kind_ = sim.register_kind("traffic/udp-send", &endpoint_set::on_udp_send, this);
  ping_kind_ = sim.register_kind("traffic/ping", &endpoint_set::on_ping, this);
  arp_log_.reserve(256);
}

endpoint_set::~endpoint_set() = default;

// ---- set-up ---------------------------------------------------------------------------

endpoint_id endpoint_set::add(const endpoint_config& cfg) {
  const auto fail = [&](std::string_view rule) {
    throw traffic_error(fmt::format("endpoint \"{}\": {}", cfg.name, rule));
  };
  if (cfg.name.empty()) fail("the name must not be empty");
  if (ep_names_.contains(cfg.name)) fail("the name is already used");
  if (cfg.mac.is_zero() || !cfg.mac.is_unicast()) fail(fmt::format("MAC {} is not a unicast address", cfg.mac));
  if (!cfg.ip.is_unicast()) fail(fmt::format("IP {} is not a unicast address", cfg.ip));
  if (cfg.prefix_len > 32) fail(fmt::format("prefix length {} is above 32", cfg.prefix_len));
  const wire::ipv4_cidr subnet{cfg.ip, static_cast<std::uint8_t>(cfg.prefix_len)};
  if (cfg.gateway) {
    if (!subnet.contains(*cfg.gateway) || *cfg.gateway == cfg.ip || !cfg.gateway->is_unicast()) {
      fail(fmt::format("gateway {} must be another unicast address in {}", *cfg.gateway, subnet));
    }
  }
  if (cfg.vlan_tci && ((*cfg.vlan_tci & vid_mask) == 0 || (*cfg.vlan_tci & vid_mask) == 0x0fff)) {
    fail("the VLAN tag's VID must be 1..4094 (IEEE 802.1Q-2018 9.6)");
  }
  if (cfg.ttl == 0) fail("TTL must be at least 1 (RFC 1122 3.2.1.7)");
  const arp_options& a = cfg.arp;
  if (a.timeout <= sim_time::zero()) fail("ARP timeout must be above 0");
  if (a.retry_interval <= sim_time::zero()) fail("ARP retry interval must be above 0");
  if (a.max_requests == 0) fail("ARP max_requests must be at least 1");
  if (a.queue_len == 0) fail("ARP queue_len must be at least 1");
  if (a.queue_total < a.queue_len) fail("ARP queue_total must be at least queue_len");
  if (a.cache_entries == 0 || a.cache_entries > max_arp_cache_entries) {
    fail(fmt::format("ARP cache_entries must be 1..{}", max_arp_cache_entries));
  }

  const auto id = static_cast<endpoint_id>(eps_.size());
  endpoint& e = eps_.emplace_back();
  e.cfg = cfg;
  e.subnet = subnet;
  e.arp.resize(a.cache_entries);
  e.pending.reserve(a.queue_total);
  ep_names_.emplace(cfg.name, id);
  if (a.gratuitous_at_start) sim_->schedule_at(sim_->now(), timer_kind_, id, timer_arg(timer_type::gratuitous));
  return id;
}

endpoint_set::endpoint& endpoint_set::at(endpoint_id ep) {
  if (ep >= eps_.size()) throw traffic_error(fmt::format("endpoint id {} does not exist", ep));
  return eps_[ep];
}

const endpoint_set::endpoint& endpoint_set::at(endpoint_id ep) const {
  if (ep >= eps_.size()) throw traffic_error(fmt::format("endpoint id {} does not exist", ep));
  return eps_[ep];
}

void endpoint_set::attach_nic(endpoint_id ep, dev::nic_set& nics, dev::nic_id nic) {
  endpoint& e = at(ep);
  if (e.att != attachment::none) {
    throw traffic_error(fmt::format("endpoint \"{}\": already attached", e.cfg.name));
  }
  if (nics_ != nullptr && nics_ != &nics) {
    throw traffic_error(fmt::format(
        "endpoint \"{}\": every NIC of an endpoint_set must belong to one nic_set", e.cfg.name));
  }
  if (nic >= nics.size()) {
    throw traffic_error(fmt::format("endpoint \"{}\": nic id {} does not exist", e.cfg.name, nic));
  }
  nics_ = &nics;
  if (nic_owner_.size() < nics.size()) nic_owner_.resize(nics.size(), no_owner);
  if (nic_owner_[nic] != no_owner) {
    throw traffic_error(fmt::format("endpoint \"{}\": nic \"{}\" already serves endpoint \"{}\"",
                                    e.cfg.name, nics.name(nic), eps_[nic_owner_[nic]].cfg.name));
  }
  nic_owner_[nic] = ep;
  e.att = attachment::nic;
  e.nic = nic;
  e.offload = e.cfg.tx_checksum_offload && nics.config(nic).caps.tx_checksum;
}

dev::endpoint endpoint_set::nic_endpoint(dev::nic_id nic) const {
  if (nics_ == nullptr || nic >= nic_owner_.size() || nic_owner_[nic] == no_owner) {
    throw traffic_error(fmt::format("nic id {}: not attached to an endpoint (call attach_nic first)", nic));
  }
  return nics_->endpoint_for(nic, nic_kind_);
}

void endpoint_set::attach_custom(endpoint_id ep, tx_fn fn, void* ctx, std::uint32_t port,
                                 bool honours_csum_offload) {
  endpoint& e = at(ep);
  if (e.att != attachment::none) {
    throw traffic_error(fmt::format("endpoint \"{}\": already attached", e.cfg.name));
  }
  if (fn == nullptr) throw traffic_error(fmt::format("endpoint \"{}\": null transmit function", e.cfg.name));
  e.att = attachment::custom;
  e.fn = fn;
  e.fn_ctx = ctx;
  e.port = port;
  e.offload = e.cfg.tx_checksum_offload && honours_csum_offload;
}

void endpoint_set::attach_custom(endpoint_id ep, tx_fn fn, void* ctx, std::uint32_t port,
                                 const dev::nic_capabilities& caps) {
  attach_custom(ep, fn, ctx, port, false);
  eps_[ep].caps = &caps;
}

void endpoint_set::set_tcp_handler(endpoint_id ep, tcp_rx_fn fn, void* ctx) {
  endpoint& e = at(ep);
  e.tcp = fn;
  e.tcp_ctx = ctx;
}

bool endpoint_set::offloads_checksum(endpoint_id ep) const { return offloads(at(ep)); }

const dev::nic_capabilities* endpoint_set::nic_caps(endpoint_id ep) const {
  const endpoint& e = at(ep);
  if (e.att != attachment::nic) return e.caps;
  return &nics_->config(e.nic).caps;
}

bool endpoint_set::nic_checks_rx(endpoint_id ep) const { return at(ep).att == attachment::nic; }

// ---- lookups ----------------------------------------------------------------------------

const endpoint_config& endpoint_set::config(endpoint_id ep) const { return at(ep).cfg; }

std::string_view endpoint_set::flow_name(flow_id f) const {
  if (f >= flows_.size()) throw traffic_error(fmt::format("flow id {} does not exist", f));
  return flows_[f].cfg.name;
}

std::string_view endpoint_set::ping_name(ping_id p) const {
  if (p >= pings_.size()) throw traffic_error(fmt::format("ping id {} does not exist", p));
  return pings_[p].cfg.name;
}

std::optional<endpoint_id> endpoint_set::find(std::string_view name) const {
  const auto it = ep_names_.find(name);
  if (it == ep_names_.end()) return std::nullopt;
  return it->second;
}

std::optional<flow_id> endpoint_set::find_flow(std::string_view name) const {
  const auto it = flow_names_.find(name);
  if (it == flow_names_.end()) return std::nullopt;
  return it->second;
}

std::optional<ping_id> endpoint_set::find_ping(std::string_view name) const {
  const auto it = ping_names_.find(name);
  if (it == ping_names_.end()) return std::nullopt;
  return it->second;
}

const endpoint_counters& endpoint_set::counters(endpoint_id ep) const { return at(ep).c; }

std::optional<wire::mac_address> endpoint_set::arp_lookup(endpoint_id ep, wire::ipv4_address ip) const {
  for (const arp_entry& a : at(ep).arp) {
    if (a.state == arp_state::reachable && a.ip == ip) return a.mac;
  }
  return std::nullopt;
}

arp_state endpoint_set::arp_entry_state(endpoint_id ep, wire::ipv4_address ip) const {
  for (const arp_entry& a : at(ep).arp) {
    if (a.state != arp_state::none && a.ip == ip) return a.state;
  }
  return arp_state::none;
}

std::string endpoint_set::format(const arp_event& e) const {
  return fmt::format("{}.{:09} {} arp {} {}=>{} {}", e.at.ns() / 1'000'000'000,
                     e.at.ns() % 1'000'000'000, e.ep < eps_.size() ? eps_[e.ep].cfg.name : "?",
                     e.ip, to_string(e.from), to_string(e.to), e.mac);
}

// ---- output -------------------------------------------------------------------------------

void endpoint_set::transmit(endpoint_id, endpoint& e, dev::frame_ref frame) {
  switch (e.att) {
    case attachment::none:
      count_drop(e, drop_reason::not_attached);
      return;
    case attachment::custom:
      e.fn(e.fn_ctx, e.port, std::move(frame));
      return;
    case attachment::nic:
      switch (nics_->transmit(e.nic, std::move(frame))) {
        case dev::nic_tx_result::sent: return;
        case dev::nic_tx_result::link_down: count_drop(e, drop_reason::tx_link_down); return;
        case dev::nic_tx_result::queue_full: count_drop(e, drop_reason::tx_queue_full); return;
        case dev::nic_tx_result::not_attached: count_drop(e, drop_reason::not_attached); return;
        case dev::nic_tx_result::malformed:
        case dev::nic_tx_result::too_big: count_drop(e, drop_reason::tx_error); return;
      }
      return;
  }
}

void endpoint_set::fill_l2(const endpoint& e, dev::frame_ref& frame, wire::mac_address dst) const noexcept {
  wire::ethernet_repr{dst, e.cfg.mac, ether_ipv4}.emit(wire::ethernet_frame{frame.data()});
  frame.meta().vlan_tci = e.cfg.vlan_tci;
}

void endpoint_set::send_arp(endpoint_id id, endpoint& e, std::uint16_t op, wire::mac_address eth_dst,
                            wire::mac_address tha, wire::ipv4_address tpa) {
  dev::frame_ref f = pool_->allocate(min_frame_len, sim_->now());
  if (!f) {
    count_drop(e, drop_reason::no_buffer);
    return;
  }
  const auto d = f.data();
  wire::ethernet_repr{eth_dst, e.cfg.mac, ether_arp}.emit(wire::ethernet_frame{d});
  const wire::arp_repr arp{static_cast<wire::arp_operation>(op), e.cfg.mac, e.cfg.ip.to_u32(), tha,
                           tpa.to_u32()};
  arp.emit(wire::arp_packet{d.subspan(wire::ethernet_header_len)});
  // Padding to the minimum frame (IEEE 802.3-2018 4.2.3.3): zeros.
  wire::fill_zero(d, wire::ethernet_header_len + wire::arp_packet_len,
                  min_frame_len - wire::ethernet_header_len - wire::arp_packet_len);
  f.meta().vlan_tci = e.cfg.vlan_tci;
  if (op == arp_request) {
    ++e.c.arpOutRequests;
  } else {
    ++e.c.arpOutReplies;
  }
  transmit(id, e, std::move(f));
}

void endpoint_set::send_gratuitous_arp(endpoint_id ep) {
  endpoint& e = at(ep);
  ++e.c.arp_gratuitous_sent;
  // An ARP announcement (RFC 5227 3): a request with sender and target IP both ours.
  send_arp(ep, e, arp_request, wire::mac_address::broadcast(), wire::mac_address{}, e.cfg.ip);
}

dev::frame_ref endpoint_set::allocate_ip_frame(std::size_t l4_len) {
  return pool_->allocate(ip_l4_offset + l4_len, sim_->now());
}

bool endpoint_set::send_ip(endpoint_id ep, wire::ipv4_address dst, wire::ip_protocol proto,
                           dev::frame_ref frame, l4_checksum csum, std::uint8_t dscp) {
  endpoint& e = at(ep);
  if (!frame || frame.size() < ip_l4_offset || frame.size() - wire::ethernet_header_len > wire::ipv4_max_total_len) {
    throw traffic_error(fmt::format(
        "endpoint \"{}\": send_ip needs a frame of {} to {} bytes with the L4 header at offset {}",
        e.cfg.name, ip_l4_offset, wire::ethernet_header_len + wire::ipv4_max_total_len, ip_l4_offset));
  }
  ++e.c.ipOutRequests;
  // The route table: the connected subnet, then the default gateway (RFC 1122 3.3.1.1).
  wire::ipv4_address next_hop = dst;
  if (!dst.is_broadcast() && !e.subnet.contains(dst)) {
    if (!e.cfg.gateway) {
      ++e.c.ipOutNoRoutes;
      return false;
    }
    next_hop = *e.cfg.gateway;
  }
  const auto data = frame.data();
  const auto l4_len = frame.size() - ip_l4_offset;
  wire::ipv4_repr ip;
  ip.src = e.cfg.ip;
  ip.dst = dst;
  ip.protocol = proto;
  ip.payload_len = static_cast<std::uint16_t>(l4_len);
  ip.ttl = e.cfg.ttl;
  ip.dscp = dscp;
  ip.ident = e.ip_ident++;
  const wire::ipv4_packet ipv{data.subspan(wire::ethernet_header_len)};
  dev::frame_meta& m = frame.meta();
  const bool l4_fill = csum == l4_checksum::fill &&
                       (proto == wire::ip_protocol::udp || proto == wire::ip_protocol::tcp);
  if (offloads(e)) {
    ip.emit(ipv, wire::checksum_mode::skip);
    m.csum = dev::csum_offload::ipv4_header | (l4_fill ? dev::csum_offload::l4 : dev::csum_offload::none);
  } else {
    ip.emit(ipv, wire::checksum_mode::full);
    ++e.c.sw_checksums;
    m.csum = dev::csum_offload::none;
    if (l4_fill && m.tso_mss == 0) {
      const auto l4 = data.subspan(ip_l4_offset, l4_len);
      if (proto == wire::ip_protocol::udp) {
        wire::udp_packet{l4}.fill_checksum(ip.src, ip.dst);
      } else {
        wire::tcp_packet{l4}.fill_checksum(ip.src, ip.dst);
      }
      ++e.c.sw_checksums;
    }
  }
  ip_output(ep, e, std::move(frame), next_hop);
  return true;
}

void endpoint_set::ip_output(endpoint_id id, endpoint& e, dev::frame_ref frame, wire::ipv4_address next_hop) {
  if (next_hop.is_broadcast() || next_hop == e.subnet.broadcast()) {
    fill_l2(e, frame, wire::mac_address::broadcast());
    transmit(id, e, std::move(frame));
    return;
  }
  arp_entry* a = arp_find(e, next_hop);
  if (a != nullptr && a->state == arp_state::reachable) {
    if (sim_->now() < a->expires) [[likely]] {
      fill_l2(e, frame, a->mac);
      transmit(id, e, std::move(frame));
      return;
    }
    set_state(id, *a, arp_state::none);  // timed out (RFC 1122 2.3.2.1): resolve again
    a = nullptr;
  }
  bool start = false;
  if (a == nullptr) {
    a = arp_create(id, e, next_hop);
    if (a == nullptr) {
      count_drop(e, drop_reason::arp_cache_full);
      ++e.c.ipOutDiscards;
      return;
    }
    start = true;
  }
  // Hold the frame (RFC 1122 2.3.2.2), dropping the oldest one when full.
  const bool per_address_full = a->queued >= e.cfg.arp.queue_len;
  if (per_address_full || e.pending.size() >= e.cfg.arp.queue_total) {
    auto victim = e.pending.begin();
    if (per_address_full) {
      victim = std::find_if(e.pending.begin(), e.pending.end(),
                            [&](const pending_frame& p) { return p.next_hop == next_hop; });
    }
    if (victim != e.pending.end()) {
      if (arp_entry* owner = arp_find(e, victim->next_hop)) --owner->queued;
      e.pending.erase(victim);
    }
    count_drop(e, drop_reason::arp_queue_overflow);
    ++e.c.ipOutDiscards;
  }
  e.pending.push_back({std::move(frame), next_hop});
  ++a->queued;
  if (start) {
    // Queued first, so that a reply delivered synchronously (an owner's loopback) finds it.
    const std::uint32_t slot = static_cast<std::uint32_t>(a - e.arp.data());
    const std::uint32_t gen = a->generation;
    a->requests = 1;
    sim_->schedule_in(e.cfg.arp.retry_interval, timer_kind_, id, timer_arg(timer_type::arp_retry, slot, gen));
    send_arp(id, e, arp_request, wire::mac_address::broadcast(), wire::mac_address{}, next_hop);
  }
}

// ---- ARP ------------------------------------------------------------------------------------

endpoint_set::arp_entry* endpoint_set::arp_find(endpoint& e, wire::ipv4_address ip) noexcept {
  // Most frames go to the address of the previous one: try it first.
  arp_entry& last = e.arp[e.arp_hint];
  if (last.state != arp_state::none && last.ip == ip) [[likely]] return &last;
  for (std::size_t i = 0; i < e.arp.size(); ++i) {
    arp_entry& a = e.arp[i];
    if (a.state != arp_state::none && a.ip == ip) {
      e.arp_hint = static_cast<std::uint32_t>(i);
      return &a;
    }
  }
  return nullptr;
}

endpoint_set::arp_entry* endpoint_set::arp_create(endpoint_id id, endpoint& e, wire::ipv4_address ip) {
  arp_entry* slot = nullptr;
  for (arp_entry& a : e.arp) {
    if (a.state == arp_state::none) {
      slot = &a;
      break;
    }
  }
  if (slot == nullptr) {  // replace the reachable entry closest to expiry
    for (arp_entry& a : e.arp) {
      if (a.state == arp_state::reachable && (slot == nullptr || a.expires < slot->expires)) slot = &a;
    }
    if (slot == nullptr) return nullptr;  // every entry is being resolved
    set_state(id, *slot, arp_state::none);
  }
  slot->ip = ip;
  slot->mac = wire::mac_address{};
  slot->requests = 0;
  slot->queued = 0;
  ++slot->generation;
  set_state(id, *slot, arp_state::incomplete);
  return slot;
}

void endpoint_set::set_state(endpoint_id id, arp_entry& a, arp_state to) {
  if (a.state == to) return;
  if (arp_log_.size() < default_arp_log_limit) {
    arp_log_.push_back({sim_->now(), id, a.ip, a.state, to, a.mac});
  } else {
    ++arp_events_not_logged_;
  }
  a.state = to;
}

void endpoint_set::arp_resolved(endpoint_id id, endpoint& e, arp_entry& a) {
  a.expires = sim_->now() + e.cfg.arp.timeout;
  if (a.state == arp_state::reachable) return;
  set_state(id, a, arp_state::reachable);
  a.queued = 0;
  // Send what was held for this address, in order. The entry index is re-checked after
  // every transmit, since a custom owner may re-enter.
  std::size_t i = 0;
  while (i < e.pending.size()) {
    if (e.pending[i].next_hop != a.ip) {
      ++i;
      continue;
    }
    dev::frame_ref f = std::move(e.pending[i].frame);
    e.pending.erase(e.pending.begin() + static_cast<std::ptrdiff_t>(i));
    fill_l2(e, f, a.mac);
    transmit(id, e, std::move(f));
  }
}

void endpoint_set::arp_input(endpoint_id id, endpoint& e, std::span<const std::byte> pkt) {
  const auto r = wire::arp_repr::parse(pkt);
  if (!r) {
    count_drop(e, drop_reason::malformed);
    return;
  }
  const wire::arp_repr& p = *r;
  if (wire::is_reverse(p.operation)) {  // a RARP opcode in an ARP frame
    ++e.c.rarp_received;
    return;
  }
  if (p.operation == wire::arp_operation::request) {
    ++e.c.arpInRequests;
  } else {
    ++e.c.arpInReplies;
  }
  const wire::ipv4_address spa{p.sender_ip};
  const wire::ipv4_address tpa{p.target_ip};
  if (spa == e.cfg.ip) {
    if (p.sender_mac != e.cfg.mac) ++e.c.arp_conflicts;  // RFC 5227 2.4 (counted, not defended)
    return;
  }
  if (p.is_gratuitous()) ++e.c.arp_gratuitous_received;
  // RFC 826 "Packet Reception": merge the sender into an existing entry...
  bool merged = false;
  if (!spa.is_unspecified()) {
    if (arp_entry* a = arp_find(e, spa)) {
      if (a->state == arp_state::reachable && a->mac != p.sender_mac) ++e.c.arp_cache_updates;
      a->mac = p.sender_mac;
      arp_resolved(id, e, *a);
      merged = true;
    }
  }
  if (tpa != e.cfg.ip) return;
  // ...and, when we are the target, add it if it was not there.
  if (!merged && !spa.is_unspecified() && p.sender_mac.is_unicast()) {
    if (arp_entry* a = arp_create(id, e, spa)) {
      a->mac = p.sender_mac;
      arp_resolved(id, e, *a);
    } else {
      count_drop(e, drop_reason::arp_cache_full);
    }
  }
  if (p.operation == wire::arp_operation::request) {
    send_arp(id, e, arp_reply, p.sender_mac, p.sender_mac, spa);
  }
}

void endpoint_set::arp_retry(endpoint_id id, std::uint32_t slot, std::uint32_t generation) {
  endpoint& e = eps_[id];
  arp_entry& a = e.arp[slot];
  if (a.generation != generation || a.state != arp_state::incomplete) return;  // stale
  if (a.requests < e.cfg.arp.max_requests) {
    ++a.requests;
    sim_->schedule_in(e.cfg.arp.retry_interval, timer_kind_, id,
                      timer_arg(timer_type::arp_retry, slot, generation));
    send_arp(id, e, arp_request, wire::mac_address::broadcast(), wire::mac_address{}, a.ip);
    return;
  }
  // Give up: drop what was held for this address.
  ++e.c.arp_timeouts;
  const auto it = std::remove_if(e.pending.begin(), e.pending.end(),
                                 [&](const pending_frame& p) { return p.next_hop == a.ip; });
  const auto dropped = static_cast<std::uint64_t>(e.pending.end() - it);
  e.pending.erase(it, e.pending.end());
  e.c.drops[static_cast<std::size_t>(drop_reason::arp_failed)] += dropped;
  e.c.ipOutDiscards += dropped;
  a.queued = 0;
  set_state(id, a, arp_state::none);
}

// ---- input --------------------------------------------------------------------------------

void endpoint_set::receive(endpoint_id id, dev::frame_ref frame) {
  endpoint& e = at(id);
  if (!frame) return;
  const auto d = frame.cdata();
  if (d.size() < wire::ethernet_header_len) {
    count_drop(e, drop_reason::malformed);
    return;
  }
  const auto dst = wire::mac_address::read(d, 0);
  if (dst != e.cfg.mac && !dst.is_broadcast()) {
    count_drop(e, drop_reason::not_our_mac);
    return;
  }
  std::size_t off = wire::ethernet_header_len;
  std::uint16_t type = wire::get_u16(d, 12);
  std::uint16_t vid = 0;
  if (type == ether_vlan) {
    if (d.size() < off + wire::vlan_tag_len) {
      count_drop(e, drop_reason::malformed);
      return;
    }
    vid = wire::get_u16(d, 14) & vid_mask;
    type = wire::get_u16(d, 16);
    off += wire::vlan_tag_len;
  } else if (frame.meta().vlan_tci) {
    vid = *frame.meta().vlan_tci & vid_mask;
  }
  const std::uint16_t want = e.cfg.vlan_tci ? (*e.cfg.vlan_tci & vid_mask) : 0;
  if (vid != want) {
    count_drop(e, drop_reason::wrong_vlan);
    return;
  }
  switch (type) {
    case ether_ipv4: ip_input(id, e, frame, off); return;
    case ether_arp: arp_input(id, e, d.subspan(off)); return;
    case ether_rarp: ++e.c.rarp_received; return;
    default: count_drop(e, drop_reason::unknown_ethertype); return;
  }
}

void endpoint_set::ip_input(endpoint_id id, endpoint& e, dev::frame_ref& frame, std::size_t off) {
  ++e.c.ipInReceives;
  const auto d = frame.cdata();
  const wire::ipv4_packet_const ip{d.subspan(off)};
  // RFC 1122 3.2.1: version, lengths, checksum; a TTL of 0 was never validly sent
  // (3.2.1.7), and RFC 4293 counts hop-count errors here. A NIC has verified the header
  // checksum already (and dropped bad ones, ifInErrors); other owners have not.
  if (ip.length_error() || ip.version() != wire::ipv4_version || ip.ttl() == 0 ||
      (e.att != attachment::nic && !ipv4_checksum_pending(frame.meta()) && !ip.verify_checksum())) {
    ++e.c.ipInHdrErrors;
    return;
  }
  const wire::ipv4_address dst = ip.dst_addr();
  if (dst != e.cfg.ip && !dst.is_broadcast() && dst != e.subnet.broadcast()) {
    ++e.c.ipInAddrErrors;
    return;
  }
  if (ip.more_frags() || ip.frag_offset() != 0) {
    ++e.c.ipReasmFails;
    return;
  }
  const std::size_t l4_off = off + ip.header_len();
  const std::size_t l4_len = std::size_t{ip.total_len()} - ip.header_len();
  switch (ip.protocol()) {
    case static_cast<std::uint8_t>(wire::ip_protocol::icmp):
      ++e.c.ipInDelivers;
      icmp_input(id, e, frame, off, l4_off, l4_len);
      return;
    case static_cast<std::uint8_t>(wire::ip_protocol::udp):
      ++e.c.ipInDelivers;
      udp_input(id, e, frame, off, l4_off, l4_len);
      return;
    case static_cast<std::uint8_t>(wire::ip_protocol::tcp):
      if (e.tcp == nullptr) {
        ++e.c.tcp_no_handler;
        return;
      }
      ++e.c.ipInDelivers;
      ++e.c.tcp_delivered;
      e.tcp(e.tcp_ctx, id, ip.src_addr(), dst, std::move(frame), l4_off);
      return;
    default:
      ++e.c.ipInUnknownProtos;
      return;
  }
}

void endpoint_set::icmp_input(endpoint_id id, endpoint& e, dev::frame_ref& frame, std::size_t ip_off,
                              std::size_t l4_off, std::size_t l4_len) {
  ++e.c.icmpInMsgs;
  const auto d = frame.cdata();
  const wire::icmp_packet_const icmp{d.subspan(l4_off, l4_len)};
  if (!icmp.check_len() || !icmp.verify_checksum()) {
    ++e.c.icmpInErrors;
    return;
  }
  const wire::ipv4_address src = wire::ipv4_packet_const{d.subspan(ip_off)}.src_addr();
  if (icmp.msg_type() == icmp_echo_reply) {
    ++e.c.icmpInEchoReps;
    const ping_id pid = icmp.echo_ident();
    if (pid >= pings_.size() || pings_[pid].cfg.src != id || icmp.echo_seq() >= pings_[pid].probes.size()) {
      ++e.c.icmp_unmatched_replies;
      return;
    }
    ping_probe& p = pings_[pid].probes[icmp.echo_seq()];
    switch (p.status) {
      case probe_status::pending:
        p.status = probe_status::replied;
        p.rtt = sim_->now() - p.sent;
        break;
      case probe_status::replied: ++p.duplicate_replies; break;
      case probe_status::timed_out: ++p.late_replies; break;
      case probe_status::not_sent: ++e.c.icmp_unmatched_replies; break;
    }
    return;
  }
  if (icmp.msg_type() != icmp_echo_request) return;
  ++e.c.icmpInEchos;
  // RFC 1122 3.2.2.6: echo requests to a broadcast address MAY be silently discarded
  // (Linux does, icmp_echo_ignore_broadcasts = 1); so do we, and never answer 0.0.0.0.
  const wire::ipv4_address dst = wire::ipv4_packet_const{d.subspan(ip_off)}.dst_addr();
  if (dst != e.cfg.ip || src.is_unspecified() || !src.is_unicast()) return;
  // Echo reply (RFC 792): the same identifier, sequence number and data. Built in place
  // when the frame is laid out as send_ip expects (untagged, no IP options), else copied.
  dev::frame_ref reply;
  const bool in_place = ip_off == wire::ethernet_header_len && l4_off == ip_l4_offset;
  if (in_place) {
    reply = std::move(frame);
    if (!reply.unique() && !reply.unshare()) {
      count_drop(e, drop_reason::no_buffer);
      return;
    }
    reply.resize(ip_l4_offset + l4_len);  // drop the Ethernet padding
  } else {
    reply = allocate_ip_frame(l4_len);
    if (!reply) {
      count_drop(e, drop_reason::no_buffer);
      return;
    }
    std::memcpy(reply.data().data() + ip_l4_offset, d.data() + l4_off, l4_len);
  }
  reply.meta() = dev::frame_meta{};
  reply.meta().created = sim_->now();
  const wire::icmp_packet out{reply.data().subspan(ip_l4_offset, l4_len)};
  out.set_msg_type(icmp_echo_reply);
  out.set_code(0);
  out.fill_checksum();
  ++e.c.icmpOutMsgs;
  ++e.c.icmpOutEchoReps;
  send_ip(id, src, wire::ip_protocol::icmp, std::move(reply), l4_checksum::as_is);
}

void endpoint_set::udp_input(endpoint_id, endpoint& e, dev::frame_ref& frame, std::size_t ip_off,
                             std::size_t l4_off, std::size_t l4_len) {
  const auto d = frame.cdata();
  const wire::udp_packet_const udp{d.subspan(l4_off, l4_len)};
  if (udp.length_error()) {
    ++e.c.udpInErrors;
    return;
  }
  // A NIC has verified the checksum already (and dropped bad ones); other owners have not.
  if (e.att != attachment::nic && !l4_checksum_pending(frame.meta())) {
    const wire::ipv4_packet_const ip{d.subspan(ip_off)};
    if (!udp.verify_checksum(ip.src_addr(), ip.dst_addr())) {
      ++e.c.udpInErrors;
      return;
    }
  }
  const std::uint16_t port = udp.dst_port();
  for (const udp_binding& b : e.udp) {
    if (b.port == port) {
      ++e.c.udpInDatagrams;
      flow_receive(flows_[b.flow], udp.payload());
      return;
    }
  }
  ++e.c.udpNoPorts;
}

void endpoint_set::flow_receive(flow& f, std::span<const std::byte> payload) {
  if (payload.size() < udp_flow_header_len || wire::get_u32(payload, 0) != udp_flow_magic ||
      wire::get_u32(payload, 4) != static_cast<std::uint32_t>(&f - flows_.data())) {
    ++f.bad_payload;
    return;
  }
  const std::uint64_t seq = wire::get_u64(payload, 8);
  const auto sent = sim_time::from_ns(static_cast<sim_time::rep>(wire::get_u64(payload, 16)));
  switch (f.seqs.record(seq)) {
    case sequence_tracker::verdict::duplicate: return;
    case sequence_tracker::verdict::out_of_range: ++f.bad_payload; return;
    case sequence_tracker::verdict::fresh: break;
  }
  const sim_time now = sim_->now();
  f.latency.record(now - sent);
  if (!f.any_delivery) {
    f.any_delivery = true;
    f.first_delivery = now;
  } else if (now - f.last_delivery > f.longest_gap) {
    f.longest_gap = now - f.last_delivery;
    f.gap_start = f.last_delivery;
    f.gap_end = now;
  }
  f.last_delivery = now;
}

// ---- UDP flows -------------------------------------------------------------------------------

flow_id endpoint_set::add_udp_flow(const udp_flow_config& cfg) {
  const auto fail = [&](std::string_view rule) {
    throw traffic_error(fmt::format("udp flow \"{}\": {}", cfg.name, rule));
  };
  if (cfg.name.empty()) fail("the name must not be empty");
  if (flow_names_.contains(cfg.name)) fail("the name is already used");
  if (cfg.src >= eps_.size()) fail(fmt::format("source endpoint id {} does not exist", cfg.src));
  if (cfg.dst.is_unspecified() || cfg.dst.is_multicast()) fail(fmt::format("destination {} is not unicast or broadcast", cfg.dst));
  if (cfg.dst_port == 0) fail("destination port 0 is reserved (RFC 768 / IANA)");
  if (cfg.payload_len < udp_flow_header_len) {
    fail(fmt::format("payload_len {} is below the {}-byte flow header", cfg.payload_len, udp_flow_header_len));
  }
  if (wire::ipv4_min_header_len + wire::udp_header_len + cfg.payload_len > mtu) {
    fail(fmt::format("payload_len {} makes an IPv4 datagram above the {}-byte MTU", cfg.payload_len, mtu));
  }
  if ((cfg.rate_pps == 0) == (cfg.rate_bps == 0)) fail("give exactly one of rate_pps and rate_bps, above 0");
  if (cfg.start < sim_->now()) fail(fmt::format("start {} is before now ({})", cfg.start, sim_->now()));
  if (cfg.stop <= cfg.start) fail("stop must be after start");
  if (cfg.count == 0 && cfg.stop == sim_time::max()) fail("give a count or a finite stop time");
  if (flows_.size() >= std::numeric_limits<std::uint32_t>::max()) fail("too many flows");

  // The receiver: an endpoint of this set holding dst.
  std::optional<endpoint_id> dst_ep = cfg.dst_endpoint;
  if (dst_ep) {
    if (*dst_ep >= eps_.size()) fail(fmt::format("destination endpoint id {} does not exist", *dst_ep));
    if (eps_[*dst_ep].cfg.ip != cfg.dst) {
      fail(fmt::format("destination endpoint \"{}\" does not hold {}", eps_[*dst_ep].cfg.name, cfg.dst));
    }
  } else {
    for (std::size_t i = 0; i < eps_.size(); ++i) {
      if (eps_[i].cfg.ip != cfg.dst) continue;
      if (dst_ep) fail(fmt::format("several endpoints hold {}: set dst_endpoint", cfg.dst));
      dst_ep = static_cast<endpoint_id>(i);
    }
  }
  if (dst_ep) {
    for (const udp_binding& b : eps_[*dst_ep].udp) {
      if (b.port == cfg.dst_port) {
        fail(fmt::format("port {} of endpoint \"{}\" is already bound to flow \"{}\"", cfg.dst_port,
                         eps_[*dst_ep].cfg.name, flows_[b.flow].cfg.name));
      }
    }
  }

  // Spacing: packet k at start + floor(k * num / den) ns.
  std::uint64_t num = 1'000'000'000;
  std::uint64_t den = cfg.rate_pps;
  if (cfg.rate_bps != 0) {
    num = std::uint64_t{cfg.payload_len} * 8 * 1'000'000'000;
    den = cfg.rate_bps;
  }
  // Sequence space: exact for constant rate; for Poisson, the mean plus 10 standard
  // deviations plus 64 (exceeding it has a probability far below 1e-20).
  const auto span_ns = static_cast<std::uint64_t>(
      std::min(cfg.stop, sim_time::max()).ns() - cfg.start.ns());
  std::uint64_t capacity = std::numeric_limits<std::uint64_t>::max();
  if (cfg.stop != sim_time::max()) {
    if (cfg.process == arrival_process::constant) {
      // k < span * den / num, i.e. ceil(span * den / num) packets.
      const unsigned __int128 p = static_cast<unsigned __int128>(span_ns) * den;
      const unsigned __int128 c = (p + num - 1) / num;
      capacity = c > max_flow_packets ? max_flow_packets + 1 : static_cast<std::uint64_t>(c);
    } else {
      const double mean = static_cast<double>(span_ns) * static_cast<double>(den) / static_cast<double>(num);
      const double cap = mean + 10.0 * std::sqrt(mean) + 64.0;
      capacity = cap > static_cast<double>(max_flow_packets) ? max_flow_packets + 1 : static_cast<std::uint64_t>(cap);
    }
  }
  if (cfg.count != 0) capacity = std::min(capacity, cfg.count);
  if (capacity > max_flow_packets) {
    fail(fmt::format("more than {} packets: lower the rate, the duration or the count", max_flow_packets));
  }

  const auto id = static_cast<flow_id>(flows_.size());
  flow& f = flows_.emplace_back();
  f.cfg = cfg;
  f.dst_ep = dst_ep;
  f.interval_num = num;
  f.interval_den = den;
  f.mean_interval_ns = static_cast<double>(num) / static_cast<double>(den);
  f.seqs = sequence_tracker(capacity);
  f.rng = streams_->get("flow/" + cfg.name);
  f.next_send = cfg.start;
  if (cfg.process == arrival_process::poisson) {  // the first arrival after start
    const double off = f.rng.exponential(f.mean_interval_ns) + 0.5;
    f.next_send = off >= static_cast<double>((cfg.stop - cfg.start).ns())
                      ? cfg.stop
                      : cfg.start + sim_time::from_ns(static_cast<sim_time::rep>(off));
  }
  flow_names_.emplace(cfg.name, id);
  if (dst_ep) eps_[*dst_ep].udp.push_back({cfg.dst_port, id});
  if (f.next_send < cfg.stop) sim_->schedule_at(f.next_send, udp_kind_, id);
  return id;
}

void endpoint_set::udp_send(flow_id fid) {
  flow& f = flows_[fid];
  endpoint& e = eps_[f.cfg.src];
  const sim_time now = sim_->now();
  const std::uint64_t seq = f.next_seq;
  if (seq < f.seqs.capacity()) {
    dev::frame_ref frame = allocate_ip_frame(wire::udp_header_len + f.cfg.payload_len);
    ++f.next_seq;
    f.recent_send[seq % f.recent_send.size()] = now;
    if (!frame) {
      count_drop(e, drop_reason::no_buffer);
    } else {
      const auto d = frame.data();
      const auto l4 = d.subspan(ip_l4_offset);
      const wire::udp_packet udp{l4};
      udp.set_src_port(f.cfg.src_port);
      udp.set_dst_port(f.cfg.dst_port);
      udp.set_length(static_cast<std::uint16_t>(wire::udp_header_len + f.cfg.payload_len));
      udp.set_checksum(0);
      const auto payload = l4.subspan(wire::udp_header_len);
      wire::put_u32(payload, 0, udp_flow_magic);
      wire::put_u32(payload, 4, fid);
      wire::put_u64(payload, 8, seq);
      wire::put_u64(payload, 16, static_cast<std::uint64_t>(now.ns()));
      wire::fill_zero(payload, udp_flow_header_len, payload.size() - udp_flow_header_len);
      dev::frame_meta& m = frame.meta();
      m.flow_id = fid + 1;  // 0 = untracked
      m.flow_seq = seq;
      ++e.c.udpOutDatagrams;
      send_ip(f.cfg.src, f.cfg.dst, wire::ip_protocol::udp, std::move(frame), l4_checksum::fill, f.cfg.dscp);
    }
  } else {
    ++f.not_sent_capacity;
  }
  // The next packet.
  const std::uint64_t k = seq + 1;
  if (f.cfg.count != 0 && k >= f.cfg.count) return;
  // Offsets past the end of simulated time end the flow (no overflow).
  sim_time next;
  if (f.cfg.process == arrival_process::constant) {
    const std::uint64_t off = mul_div(k, f.interval_num, f.interval_den);
    if (off >= static_cast<std::uint64_t>((sim_time::max() - f.cfg.start).ns())) return;
    next = f.cfg.start + sim_time::from_ns(static_cast<sim_time::rep>(off));
  } else {
    const double off = f.rng.exponential(f.mean_interval_ns) + 0.5;
    if (off >= static_cast<double>((sim_time::max() - now).ns())) return;
    next = now + sim_time::from_ns(static_cast<sim_time::rep>(off));
  }
  if (next >= f.cfg.stop) return;
  f.next_send = next;
  sim_->schedule_at(next, udp_kind_, fid);
}

const udp_flow_stats& endpoint_set::flow_stats(flow_id fid) const {
  if (fid >= flows_.size()) throw traffic_error(fmt::format("flow id {} does not exist", fid));
  const flow& f = flows_[fid];
  udp_flow_stats& s = f.stats;
  s.sent = f.next_seq;
  s.delivered = f.seqs.unique();
  s.duplicated = f.seqs.duplicates();
  s.reordered = f.seqs.reordered();
  s.bad_payload = f.bad_payload;
  s.not_sent_capacity = f.not_sent_capacity;
  s.in_flight = 0;
  if (f.any_delivery) {
    const sim_time window_start = sim_->now() - f.latency.max();
    const std::uint64_t lowest = f.next_seq > f.recent_send.size() ? f.next_seq - f.recent_send.size() : 0;
    for (std::uint64_t seq = f.next_seq; seq > lowest; --seq) {
      if (f.recent_send[(seq - 1) % f.recent_send.size()] < window_start) break;
      if (!f.seqs.received(seq - 1)) ++s.in_flight;
    }
  }
  s.lost = s.sent - std::min(s.sent, s.delivered + s.in_flight);
  s.first_delivery = f.first_delivery;
  s.last_delivery = f.last_delivery;
  s.longest_gap = f.longest_gap;
  s.gap_start = f.gap_start;
  s.gap_end = f.gap_end;
  s.latency_min = f.latency.min();
  s.latency_p50 = f.latency.percentile(50);
  s.latency_p90 = f.latency.percentile(90);
  s.latency_p99 = f.latency.percentile(99);
  s.latency_max = f.latency.max();
  s.latency_mean = f.latency.mean();
  return s;
}

// ---- ping ---------------------------------------------------------------------------------------

ping_id endpoint_set::add_ping(const ping_config& cfg) {
  const auto fail = [&](std::string_view rule) {
    throw traffic_error(fmt::format("ping \"{}\": {}", cfg.name, rule));
  };
  if (cfg.name.empty()) fail("the name must not be empty");
  if (ping_names_.contains(cfg.name)) fail("the name is already used");
  if (cfg.src >= eps_.size()) fail(fmt::format("source endpoint id {} does not exist", cfg.src));
  if (!cfg.dst.is_unicast()) fail(fmt::format("destination {} is not unicast", cfg.dst));
  if (cfg.interval <= sim_time::zero()) fail("interval must be above 0");
  if (cfg.timeout <= sim_time::zero()) fail("timeout must be above 0");
  if (cfg.count == 0 || cfg.count > 65536) fail("count must be 1..65536 (16-bit ICMP sequence numbers)");
  if (cfg.payload_len < 8) fail("payload_len must be at least 8 (the send time)");
  if (wire::ipv4_min_header_len + wire::icmp_header_len + cfg.payload_len > mtu) {
    fail(fmt::format("payload_len {} makes an IPv4 datagram above the {}-byte MTU", cfg.payload_len, mtu));
  }
  if (cfg.start < sim_->now()) fail(fmt::format("start {} is before now ({})", cfg.start, sim_->now()));
  if (pings_.size() >= 65536) fail("at most 65536 ping series (16-bit ICMP identifiers)");
  const auto id = static_cast<ping_id>(pings_.size());
  ping_series& s = pings_.emplace_back();
  s.cfg = cfg;
  s.probes.resize(cfg.count);
  for (std::uint32_t i = 0; i < cfg.count; ++i) s.probes[i].seq = i;
  ping_names_.emplace(cfg.name, id);
  eps_[cfg.src].pings.push_back(id);
  sim_->schedule_at(cfg.start, ping_kind_, id, 0);
  return id;
}

void endpoint_set::ping_send(ping_id pid, std::uint32_t probe) {
  ping_series& s = pings_[pid];
  endpoint& e = eps_[s.cfg.src];
  const sim_time now = sim_->now();
  if (probe + 1 < s.probes.size()) {
    sim_->schedule_at(s.cfg.start + s.cfg.interval * (probe + 1), ping_kind_, pid,
                      std::uint64_t{probe + 1} << 1);
  }
  ping_probe& p = s.probes[probe];
  p.sent = now;
  dev::frame_ref frame = allocate_ip_frame(wire::icmp_header_len + s.cfg.payload_len);
  if (!frame) {
    count_drop(e, drop_reason::no_buffer);
    p.status = probe_status::not_sent;
    return;
  }
  const auto l4 = frame.data().subspan(ip_l4_offset);
  const wire::icmp_packet icmp{l4};
  icmp.set_msg_type(icmp_echo_request);
  icmp.set_code(0);
  icmp.set_echo_ident(static_cast<std::uint16_t>(pid));
  icmp.set_echo_seq(static_cast<std::uint16_t>(probe));
  const auto data = icmp.data();
  wire::put_u64(data, 0, static_cast<std::uint64_t>(now.ns()));
  for (std::size_t i = 8; i < data.size(); ++i) data[i] = static_cast<std::byte>(i);  // ping(8)'s pattern
  icmp.fill_checksum();
  ++e.c.icmpOutMsgs;
  ++e.c.icmpOutEchos;
  if (!send_ip(s.cfg.src, s.cfg.dst, wire::ip_protocol::icmp, std::move(frame), l4_checksum::as_is)) {
    p.status = probe_status::not_sent;
    return;
  }
  sim_->schedule_at(now + s.cfg.timeout, ping_kind_, pid, (std::uint64_t{probe} << 1) | 1);
}

void endpoint_set::ping_timeout(ping_id pid, std::uint32_t probe) {
  ping_probe& p = pings_[pid].probes[probe];
  if (p.status == probe_status::pending) p.status = probe_status::timed_out;
}

std::span<const ping_probe> endpoint_set::ping_results(ping_id p) const {
  if (p >= pings_.size()) throw traffic_error(fmt::format("ping id {} does not exist", p));
  return pings_[p].probes;
}

// ---- event handlers ---------------------------------------------------------------------------------

void endpoint_set::on_nic_arrival(void* ctx, kernel::simulator&, const kernel::event& ev) {
  auto& self = *static_cast<endpoint_set*>(ctx);
  auto a = self.nics_->links().take_arrival(ev.target);
  if (!a.frame) return;
  dev::frame_ref f = self.nics_->receive(a.device, std::move(a.frame));
  if (!f) return;
  self.receive(self.nic_owner_[a.device], std::move(f));
}

void endpoint_set::on_timer(void* ctx, kernel::simulator&, const kernel::event& ev) {
  auto& self = *static_cast<endpoint_set*>(ctx);
  switch (static_cast<timer_type>(ev.arg >> 56)) {
    case timer_type::arp_retry:
      self.arp_retry(ev.target, static_cast<std::uint32_t>(ev.arg & 0xff'ffffu),
                     static_cast<std::uint32_t>(ev.arg >> 24));
      return;
    case timer_type::gratuitous:
      self.send_gratuitous_arp(ev.target);
      return;
  }
}

void endpoint_set::on_udp_send(void* ctx, kernel::simulator&, const kernel::event& ev) {
  static_cast<endpoint_set*>(ctx)->udp_send(ev.target);
}

void endpoint_set::on_ping(void* ctx, kernel::simulator&, const kernel::event& ev) {
  auto& self = *static_cast<endpoint_set*>(ctx);
  const auto probe = static_cast<std::uint32_t>(ev.arg >> 1);
  if ((ev.arg & 1) != 0) {
    self.ping_timeout(ev.target, probe);
  } else {
    self.ping_send(ev.target, probe);
  }
}

}  // namespace vnetsim::traffic
