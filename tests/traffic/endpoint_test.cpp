// The endpoint stack over a recording hub: ARP (RFC 826) resolve, retry, timeout, pending
// queue, gratuitous, merge, RARP; IPv4 routing, TTL, receive checks, checksums; ICMP echo.
#include "vnetsim/traffic/endpoint.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "vnetsim/wire/arp.hpp"
#include "vnetsim/wire/ethernet.hpp"
#include "vnetsim/wire/icmp.hpp"
#include "vnetsim/wire/tcp.hpp"
#include "vnetsim/wire/udp.hpp"
#include "worlds.hpp"

using namespace vnetsim;
using namespace vnetsim::literals;
using namespace vnetsim::test;
using traffic::drop_reason;
using traffic::endpoint_id;

namespace {

constexpr std::uint16_t type_arp = 0x0806;
constexpr std::uint16_t type_ipv4 = 0x0800;

/// Sends a UDP datagram (8-byte header + `data_len` zero bytes) from `ep` with send_ip.
bool send_udp(traffic::endpoint_set& eps, endpoint_id ep, wire::ipv4_address dst,
              std::uint16_t src_port = 1000, std::uint16_t dst_port = 9, std::size_t data_len = 18) {
  auto f = eps.allocate_ip_frame(wire::udp_header_len + data_len);
  REQUIRE(f);
  const auto l4 = f.data().subspan(traffic::ip_l4_offset);
  std::fill(l4.begin(), l4.end(), std::byte{0});
  const wire::udp_packet u{l4};
  u.set_src_port(src_port);
  u.set_dst_port(dst_port);
  u.set_length(static_cast<std::uint16_t>(l4.size()));
  return eps.send_ip(ep, dst, wire::ip_protocol::udp, std::move(f));
}

/// The 28 ARP bytes of a recorded frame, parsed.
wire::arp_repr arp_of(const std::vector<std::byte>& frame) {
  REQUIRE(frame.size() == 60);  // 14 + 28, padded to the minimum frame
  const auto r = wire::arp_repr::parse(std::span(frame).subspan(14));
  REQUIRE(r);
  CHECK(std::all_of(frame.begin() + 42, frame.end(), [](std::byte b) { return b == std::byte{0}; }));
  return *r;
}

/// An Ethernet frame carrying an ARP packet, as bytes.
std::vector<std::byte> arp_frame(wire::mac_address dst, const wire::arp_repr& arp,
                                 std::uint16_t type = type_arp) {
  std::vector<std::byte> b(60, std::byte{0});
  wire::ethernet_repr{dst, arp.sender_mac, type}.emit(wire::ethernet_frame{std::span(b)});
  arp.emit(wire::arp_packet{std::span(b).subspan(14)});
  return b;
}

/// An IPv4 frame from ep1 to ep0 (by default) carrying `l4`, with a correct checksum
/// unless `corrupt`.
std::vector<std::byte> ip_frame(wire::ipv4_repr ip, std::span<const std::byte> l4,
                                wire::mac_address dst = ep_mac(0), bool corrupt = false) {
  std::vector<std::byte> b(std::max<std::size_t>(60, 14 + 20 + l4.size()), std::byte{0});
  wire::ethernet_repr{dst, ep_mac(1), type_ipv4}.emit(wire::ethernet_frame{std::span(b)});
  ip.payload_len = static_cast<std::uint16_t>(l4.size());
  ip.emit(wire::ipv4_packet{std::span(b).subspan(14)});
  std::copy(l4.begin(), l4.end(), b.begin() + 34);
  if (corrupt) b[14 + 10] ^= std::byte{0x01};
  return b;
}

wire::ipv4_repr ip_hdr(wire::ip_protocol p = wire::ip_protocol::udp) {
  wire::ipv4_repr ip;
  ip.src = ep_ip(1);
  ip.dst = ep_ip(0);
  ip.protocol = p;
  return ip;
}

/// A UDP datagram with a correct checksum from ep1 to ep0.
std::vector<std::byte> udp_bytes(std::uint16_t dst_port, std::size_t data_len = 4,
                                 wire::ipv4_address dst = ep_ip(0)) {
  std::vector<std::byte> b(8 + data_len, std::byte{0x5a});
  const wire::udp_packet u{std::span(b)};
  u.set_src_port(7);
  u.set_dst_port(dst_port);
  u.set_length(static_cast<std::uint16_t>(b.size()));
  u.fill_checksum(ep_ip(1), dst);
  return b;
}

bool has_line(const traffic::endpoint_set& eps, const std::string& line) {
  for (const auto& e : eps.arp_log()) {
    if (eps.format(e) == line) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("ARP: resolve with real bytes, learn from a request addressed to us, send the held frame") {
  hub_world w;
  const auto a = w.add(ep_config(0));
  const auto b = w.add(ep_config(1));
  REQUIRE(send_udp(w.eps, a, ep_ip(1)));
  CHECK(w.eps.arp_entry_state(a, ep_ip(1)) == traffic::arp_state::incomplete);
  w.sim.run();

  // The request: broadcast, "who has 10.0.0.2, tell 10.0.0.1", at t = 0.
  const auto req = w.frames(a, type_arp);
  REQUIRE(req.size() == 1);
  CHECK(req[0]->at == 0_ns);
  CHECK(wire::mac_address::read(req[0]->bytes, 0).is_broadcast());
  CHECK(wire::mac_address::read(req[0]->bytes, 6) == ep_mac(0));
  CHECK(arp_of(req[0]->bytes) == wire::arp_repr{wire::arp_operation::request, ep_mac(0), ep_ip(0).to_u32(),
                                                wire::mac_address{}, ep_ip(1).to_u32()});
  // The reply, unicast to the asker, one hub delay later.
  const auto rep = w.frames(b, type_arp);
  REQUIRE(rep.size() == 1);
  CHECK(rep[0]->at == 10_us);
  CHECK(wire::mac_address::read(rep[0]->bytes, 0) == ep_mac(0));
  CHECK(arp_of(rep[0]->bytes) == wire::arp_repr{wire::arp_operation::reply, ep_mac(1), ep_ip(1).to_u32(),
                                                ep_mac(0), ep_ip(0).to_u32()});
  // The held datagram leaves when the reply arrives, to B's MAC.
  const auto ip = w.frames(a, type_ipv4);
  REQUIRE(ip.size() == 1);
  CHECK(ip[0]->at == 20_us);
  CHECK(wire::mac_address::read(ip[0]->bytes, 0) == ep_mac(1));

  const auto& ca = w.eps.counters(a);
  const auto& cb = w.eps.counters(b);
  CHECK(ca.arpOutRequests == 1);
  CHECK(ca.arpInReplies == 1);
  CHECK(cb.arpInRequests == 1);
  CHECK(cb.arpOutReplies == 1);
  CHECK(cb.ipInReceives == 1);
  CHECK(cb.udpNoPorts == 1);
  CHECK(w.eps.arp_lookup(a, ep_ip(1)) == ep_mac(1));
  CHECK(w.eps.arp_lookup(b, ep_ip(0)) == ep_mac(0));  // RFC 826: target is us, so add
  CHECK(has_line(w.eps, "0.000000000 ep0 arp 10.0.0.2 NONE=>INCOMPLETE 00:00:00:00:00:00"));
  CHECK(has_line(w.eps, "0.000020000 ep0 arp 10.0.0.2 INCOMPLETE=>REACHABLE 00:50:56:00:10:01"));
  CHECK(has_line(w.eps, "0.000010000 ep1 arp 10.0.0.1 INCOMPLETE=>REACHABLE 00:50:56:00:10:00"));
  // A second datagram needs no ARP.
  REQUIRE(send_udp(w.eps, a, ep_ip(1)));
  w.sim.run();
  CHECK(w.eps.counters(a).arpOutRequests == 1);
  CHECK(w.frames(a, type_ipv4).size() == 2);
}

TEST_CASE("ARP: retries at the interval, gives up after max_requests, drops what it held") {
  hub_world w;
  auto c = ep_config(0);
  c.arp.queue_len = 3;
  const auto a = w.add(c);
  const wire::ipv4_address nobody{10, 0, 0, 99};
  for (int i = 0; i < 5; ++i) REQUIRE(send_udp(w.eps, a, nobody));
  CHECK(w.eps.counters(a).dropped(drop_reason::arp_queue_overflow) == 2);
  w.sim.run();
  const auto req = w.frames(a, type_arp);
  REQUIRE(req.size() == 3);  // default_arp_requests
  CHECK(req[0]->at == 0_s);
  CHECK(req[1]->at == 1_s);  // default_arp_retry_interval
  CHECK(req[2]->at == 2_s);
  for (const auto* r : req) CHECK(arp_of(r->bytes).target_ip == nobody.to_u32());
  const auto& ca = w.eps.counters(a);
  CHECK(ca.arp_timeouts == 1);
  CHECK(ca.dropped(drop_reason::arp_failed) == 3);
  CHECK(ca.ipOutDiscards == 5);
  CHECK(w.frames(a, type_ipv4).empty());
  CHECK(w.eps.arp_entry_state(a, nobody) == traffic::arp_state::none);
  CHECK(has_line(w.eps, "3.000000000 ep0 arp 10.0.0.99 INCOMPLETE=>NONE 00:00:00:00:00:00"));
}

TEST_CASE("ARP: a full pending queue drops the oldest frame (RFC 1122 2.3.2.2 keeps the latest)") {
  hub_world w;
  const auto a = w.add(ep_config(0));
  w.add(ep_config(1));
  for (std::uint16_t port = 1; port <= 5; ++port) REQUIRE(send_udp(w.eps, a, ep_ip(1), port));
  w.sim.run();
  const auto ip = w.frames(a, type_ipv4);
  REQUIRE(ip.size() == 3);
  CHECK(wire::get_u16(ip[0]->bytes, 34) == 3);  // UDP source ports 3, 4, 5, in order
  CHECK(wire::get_u16(ip[1]->bytes, 34) == 4);
  CHECK(wire::get_u16(ip[2]->bytes, 34) == 5);
  CHECK(w.eps.counters(a).dropped(drop_reason::arp_queue_overflow) == 2);
  CHECK(w.eps.counters(1).udpNoPorts == 3);
}

TEST_CASE("ARP: a cache entry times out and the next datagram resolves again") {
  hub_world w;
  auto c = ep_config(0);
  c.arp.timeout = 5_s;
  const auto a = w.add(c);
  w.add(ep_config(1));
  send_udp(w.eps, a, ep_ip(1));
  w.sim.run_until(4_s);
  send_udp(w.eps, a, ep_ip(1));  // entry valid until 5 s + 20 us
  w.sim.run_until(6_s);
  CHECK(w.eps.counters(a).arpOutRequests == 1);
  send_udp(w.eps, a, ep_ip(1));
  w.sim.run();
  CHECK(w.eps.counters(a).arpOutRequests == 2);
  CHECK(has_line(w.eps, "6.000000000 ep0 arp 10.0.0.2 REACHABLE=>NONE 00:50:56:00:10:01"));
  CHECK(w.frames(a, type_ipv4).size() == 3);
}

TEST_CASE("ARP: gratuitous at start and on demand; on receipt it updates an existing entry only") {
  hub_world w;
  auto ca = ep_config(0);
  ca.arp.gratuitous_at_start = true;
  const auto a = w.add(ca);
  const auto b = w.add(ep_config(1));
  const auto c = w.add(ep_config(2));
  w.sim.run();
  const auto g = w.frames(a, type_arp);
  REQUIRE(g.size() == 1);
  CHECK(g[0]->at == 0_ns);
  CHECK(wire::mac_address::read(g[0]->bytes, 0).is_broadcast());
  CHECK(arp_of(g[0]->bytes) == wire::arp_repr::announcement(ep_mac(0), ep_ip(0).to_u32()));
  CHECK(w.eps.counters(a).arp_gratuitous_sent == 1);
  CHECK(w.eps.counters(b).arp_gratuitous_received == 1);
  // Not the target: nothing added (RFC 826 merge rule).
  CHECK(w.eps.arp_entry_state(b, ep_ip(0)) == traffic::arp_state::none);

  // B learns A, then A's address moves to a new MAC (a failover) announced by a
  // gratuitous ARP: B updates its entry, C (with no entry) still adds none.
  send_udp(w.eps, b, ep_ip(0));
  w.sim.run();
  REQUIRE(w.eps.arp_lookup(b, ep_ip(0)) == ep_mac(0));
  const auto moved = wire::mac_address::from_u64(0x0050'5600'9999ULL);
  const auto garp = arp_frame(wire::mac_address::broadcast(), wire::arp_repr::announcement(moved, ep_ip(0).to_u32()));
  w.inject(b, garp);
  w.inject(c, garp);
  CHECK(w.eps.arp_lookup(b, ep_ip(0)) == moved);
  CHECK(w.eps.counters(b).arp_cache_updates == 1);
  CHECK(w.eps.arp_entry_state(c, ep_ip(0)) == traffic::arp_state::none);
  CHECK(w.eps.counters(c).arp_gratuitous_received == 2);
  // Someone else claiming our own address is a conflict (counted).
  w.inject(a, garp);
  CHECK(w.eps.counters(a).arp_conflicts == 1);

  // On demand, e.g. after a failover.
  w.sim.run_until(5_s);
  w.eps.send_gratuitous_arp(a);
  CHECK(w.frames(a, type_arp).back()->at == 5_s);
  CHECK(w.eps.counters(a).arp_gratuitous_sent == 2);
}

TEST_CASE("RARP frames (EtherType 0x8035) are received and counted") {
  hub_world w;
  const auto a = w.add(ep_config(0));
  const auto rarp = arp_frame(wire::mac_address::broadcast(),
                              wire::arp_repr::reverse_request_for(ep_mac(7)), 0x8035);
  w.inject(a, rarp);
  w.inject(a, rarp);
  const auto& c = w.eps.counters(a);
  CHECK(c.rarp_received == 2);
  CHECK(c.arpInRequests == 0);
  for (auto d : c.drops) CHECK(d == 0);
  CHECK(w.sent.empty());
}

TEST_CASE("IPv4: off-subnet via the default gateway, ipOutNoRoutes without one, TTL 64 on send") {
  hub_world w;
  auto ca = ep_config(0);
  ca.gateway = wire::ipv4_address{10, 0, 0, 254};
  const auto a = w.add(ca);
  auto cg = ep_config(1);
  cg.ip = wire::ipv4_address{10, 0, 0, 254};
  const auto g = w.add(cg);
  const wire::ipv4_address far{192, 168, 1, 5};
  REQUIRE(send_udp(w.eps, a, far));
  w.sim.run();
  const auto req = w.frames(a, type_arp);
  REQUIRE(req.size() == 1);
  CHECK(arp_of(req[0]->bytes).target_ip == 0x0a00'00feu);  // resolves the gateway
  const auto ip = w.frames(a, type_ipv4);
  REQUIRE(ip.size() == 1);
  const auto& bytes = ip[0]->bytes;
  CHECK(wire::mac_address::read(bytes, 0) == ep_mac(1));  // to the gateway's MAC
  const wire::ipv4_packet_const v{std::span(bytes).subspan(14)};
  CHECK(v.dst_addr() == far);
  CHECK(v.src_addr() == ep_ip(0));
  CHECK(v.ttl() == 64);
  CHECK(v.verify_checksum());
  // The endpoint does not forward: an address error at the gateway.
  CHECK(w.eps.counters(g).ipInAddrErrors == 1);

  const auto b = w.add(ep_config(2));
  CHECK_FALSE(send_udp(w.eps, b, far));
  CHECK(w.eps.counters(b).ipOutNoRoutes == 1);
  CHECK(w.eps.counters(b).ipOutRequests == 1);
}

TEST_CASE("IPv4 receive: header, address, fragment, protocol and UDP checks, counted per RFC 4293") {
  hub_world w;
  const auto a = w.add(ep_config(0));
  const auto& c = w.eps.counters(a);
  const auto udp = udp_bytes(9);

  w.inject(a, ip_frame(ip_hdr(), udp));
  CHECK(c.ipInReceives == 1);
  CHECK(c.ipInDelivers == 1);
  CHECK(c.udpNoPorts == 1);

  w.inject(a, ip_frame(ip_hdr(), udp, ep_mac(0), true));  // bad header checksum
  CHECK(c.ipInHdrErrors == 1);
  auto ttl0 = ip_hdr();
  ttl0.ttl = 0;
  w.inject(a, ip_frame(ttl0, udp));
  CHECK(c.ipInHdrErrors == 2);
  auto ttl1 = ip_hdr();
  ttl1.ttl = 1;  // RFC 1122 3.2.1.7: not discarded for TTL < 2
  w.inject(a, ip_frame(ttl1, udp));
  CHECK(c.udpNoPorts == 2);
  auto other = ip_hdr();
  other.dst = wire::ipv4_address{10, 0, 0, 77};
  w.inject(a, ip_frame(other, udp));
  CHECK(c.ipInAddrErrors == 1);
  auto bcast = ip_hdr();
  bcast.dst = wire::ipv4_address{10, 0, 0, 255};  // directed broadcast of the subnet
  w.inject(a, ip_frame(bcast, udp_bytes(9, 4, bcast.dst), wire::mac_address::broadcast()));
  CHECK(c.udpNoPorts == 3);
  auto frag = ip_hdr();
  frag.more_frags = true;
  w.inject(a, ip_frame(frag, udp));
  CHECK(c.ipReasmFails == 1);
  auto unknown = ip_hdr();
  unknown.protocol = static_cast<wire::ip_protocol>(99);
  w.inject(a, ip_frame(unknown, udp));
  CHECK(c.ipInUnknownProtos == 1);
  auto bad_udp = udp;
  bad_udp[8] ^= std::byte{0xff};
  w.inject(a, ip_frame(ip_hdr(), bad_udp));
  CHECK(c.udpInErrors == 1);
  CHECK(c.ipInReceives == 9);

  // TCP: no handler yet, then a hook.
  std::vector<std::byte> seg(20, std::byte{0});
  seg[12] = std::byte{0x50};  // data offset 5 words
  w.inject(a, ip_frame(ip_hdr(wire::ip_protocol::tcp), seg));
  CHECK(c.tcp_no_handler == 1);
  struct got_t {
    int calls = 0;
    std::size_t off = 0;
    wire::ipv4_address src;
  } got;
  w.eps.set_tcp_handler(
      a,
      [](void* ctx, endpoint_id, const wire::ipv4_address& src, const wire::ipv4_address&, dev::frame_ref f,
         std::size_t off) {
        auto& g = *static_cast<got_t*>(ctx);
        ++g.calls;
        g.off = off;
        g.src = src;
        CHECK(f.size() >= off + 20);
      },
      &got);
  w.inject(a, ip_frame(ip_hdr(wire::ip_protocol::tcp), seg));
  CHECK(got.calls == 1);
  CHECK(got.off == 34);
  CHECK(got.src == ep_ip(1));
  CHECK(c.tcp_delivered == 1);

  // Layer 2 filters.
  w.inject(a, ip_frame(ip_hdr(), udp, ep_mac(5)));
  CHECK(c.dropped(drop_reason::not_our_mac) == 1);
  auto odd = ip_frame(ip_hdr(), udp);
  odd[12] = std::byte{0x86};
  odd[13] = std::byte{0xdd};
  w.inject(a, odd);
  CHECK(c.dropped(drop_reason::unknown_ethertype) == 1);
  auto f = w.pool.allocate_copy(ip_frame(ip_hdr(), udp), w.sim.now());
  f.meta().vlan_tci = 10;  // stripped tag of VLAN 10; the endpoint is untagged
  w.eps.receive(a, f);
  CHECK(c.dropped(drop_reason::wrong_vlan) == 1);
}

TEST_CASE("IPv4 send: checksums filled in software, or requested from an owner that offloads") {
  hub_world w;
  w.hold = true;
  const auto a = w.add(ep_config(0), /*offload_honoured=*/true);
  const auto b = w.add(ep_config(1), false);
  // Pre-resolve by injecting ARP replies.
  for (auto ep : {a, b}) {
    const auto other = ep == a ? 1u : 0u;
    w.inject(ep, arp_frame(ep_mac(ep), {wire::arp_operation::request, ep_mac(other), ep_ip(other).to_u32(),
                                        wire::mac_address{}, ep_ip(ep).to_u32()}));
  }
  w.sent.clear();
  send_udp(w.eps, a, ep_ip(1));
  send_udp(w.eps, b, ep_ip(0));
  REQUIRE(w.sent.size() == 2);
  // a: IPv4 header checksum and UDP checksum left to the owner.
  CHECK(w.sent[0].meta.csum == (dev::csum_offload::ipv4_header | dev::csum_offload::l4));
  CHECK(wire::get_u16(w.sent[0].bytes, 24) == 0);
  CHECK(w.eps.counters(a).sw_checksums == 0);
  // b: both filled and correct.
  CHECK(w.sent[1].meta.csum == dev::csum_offload::none);
  const wire::ipv4_packet_const v{std::span(w.sent[1].bytes).subspan(14)};
  CHECK(v.verify_checksum());
  CHECK(wire::udp_packet_const{v.payload()}.checksum() != 0);
  CHECK(wire::udp_packet_const{v.payload()}.verify_checksum(v.src_addr(), v.dst_addr()));
  CHECK(w.eps.counters(b).sw_checksums == 2);
}

TEST_CASE("attach_custom with capabilities: offload follows them; unfilled checksums of a memory path are trusted") {
  hub_world w;
  dev::nic_capabilities caps_a, caps_b;  // what the owner offers; it may change later
  std::array<endpoint_id, 2> ep{};
  for (std::uint32_t i = 0; i < 2; ++i) {
    ep[i] = w.eps.add(ep_config(i));
    w.eps.attach_custom(ep[i], &hub_world::on_tx, &w, ep[i], i == 0 ? caps_a : caps_b);
  }
  CHECK(w.eps.nic_caps(ep[0]) == &caps_a);
  CHECK_FALSE(w.eps.nic_checks_rx(ep[0]));
  CHECK(w.eps.offloads_checksum(ep[0]));
  send_udp(w.eps, ep[0], ep_ip(1));  // ARP first, then the datagram
  w.sim.run_until(1_ms);
  const auto& rx = w.eps.counters(ep[1]);
  // Delivered with both checksums unfilled (requests still in frame_meta): trusted.
  const auto udp = w.frames(ep[0], 0x0800);
  REQUIRE(udp.size() == 1);
  CHECK(udp[0]->meta.csum == (dev::csum_offload::ipv4_header | dev::csum_offload::l4));
  CHECK(wire::get_u16(udp[0]->bytes, 24) == 0);
  CHECK(rx.ipInHdrErrors == 0);
  CHECK(rx.udpInErrors == 0);
  CHECK(rx.udpNoPorts == 1);  // reached the port lookup: every check passed
  // The owner stops offering checksums (a bond member without them joined): software.
  caps_a.tx_checksum = false;
  CHECK_FALSE(w.eps.offloads_checksum(ep[0]));
  send_udp(w.eps, ep[0], ep_ip(1));
  w.sim.run_until(2_ms);
  CHECK(w.eps.counters(ep[0]).sw_checksums == 2);
  CHECK(rx.udpNoPorts == 2);
  CHECK(rx.udpInErrors == 0);
  // A frame without requests and with a wrong UDP checksum is still caught.
  auto bad = w.frames(ep[0], 0x0800)[1]->bytes;
  bad[bad.size() - 1] ^= std::byte{0xff};
  w.inject(ep[1], bad);
  CHECK(rx.udpInErrors == 1);
}

TEST_CASE("ICMP echo: answered with the same identifier, sequence and data; ping RTTs exact") {
  hub_world w;
  const auto a = w.add(ep_config(0));
  const auto b = w.add(ep_config(1));
  auto pc = ping_cfg(a, 1, 3);
  const auto p = w.eps.add_ping(pc);
  w.sim.run();
  const auto r = w.eps.ping_results(p);
  REQUIRE(r.size() == 3);
  // Probe 0 waits for ARP (two hub delays), then two more for echo and reply.
  CHECK(r[0].status == traffic::probe_status::replied);
  CHECK(r[0].rtt == 40_us);
  CHECK(r[1].sent == 1_s);
  CHECK(r[1].rtt == 20_us);
  CHECK(r[2].rtt == 20_us);
  CHECK(w.eps.counters(b).icmpInEchos == 3);
  CHECK(w.eps.counters(b).icmpOutEchoReps == 3);
  CHECK(w.eps.counters(a).icmpInEchoReps == 3);

  const auto req = w.frames(a, type_ipv4);
  const auto rep = w.frames(b, type_ipv4);
  REQUIRE(req.size() == 3);
  REQUIRE(rep.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& q = req[i]->bytes;
    const auto& s = rep[i]->bytes;
    REQUIRE(q.size() == 14 + 20 + 8 + 56);
    REQUIRE(s.size() == q.size());
    const wire::ipv4_packet_const qi{std::span(q).subspan(14)};
    const wire::ipv4_packet_const si{std::span(s).subspan(14)};
    CHECK(si.src_addr() == qi.dst_addr());
    CHECK(si.dst_addr() == qi.src_addr());
    CHECK(si.verify_checksum());
    const wire::icmp_packet_const qm{qi.payload()};
    const wire::icmp_packet_const sm{si.payload()};
    CHECK(qm.msg_type() == 8);
    CHECK(sm.msg_type() == 0);
    CHECK(sm.echo_ident() == qm.echo_ident());
    CHECK(sm.echo_seq() == i);
    CHECK(sm.verify_checksum());
    CHECK(std::ranges::equal(sm.data(), qm.data()));
    CHECK(wire::get_u64(qm.data(), 0) == static_cast<std::uint64_t>(r[i].sent.ns()));
  }
}

TEST_CASE("set-up errors name the endpoint, flow or ping and the rule") {
  hub_world w;
  w.add(ep_config(0));
  auto dup = ep_config(0);
  CHECK_THROWS_WITH_AS(w.eps.add(dup), "endpoint \"ep0\": the name is already used", traffic::traffic_error);
  auto gw = ep_config(1);
  gw.gateway = wire::ipv4_address{192, 168, 0, 1};
  CHECK_THROWS_WITH_AS(w.eps.add(gw), "endpoint \"ep1\": gateway 192.168.0.1 must be another unicast address in 10.0.0.2/24",
                       traffic::traffic_error);
  auto mc = ep_config(2);
  mc.mac = wire::mac_address::broadcast();
  CHECK_THROWS_AS(w.eps.add(mc), traffic::traffic_error);
  traffic::udp_flow_config f;
  f.name = "f";
  f.dst = ep_ip(0);
  f.dst_port = 5001;
  f.rate_pps = 10;
  CHECK_THROWS_WITH_AS(w.eps.add_udp_flow(f), "udp flow \"f\": give a count or a finite stop time",
                       traffic::traffic_error);
  f.stop = 1_s;
  f.payload_len = 10;
  CHECK_THROWS_WITH_AS(w.eps.add_udp_flow(f), "udp flow \"f\": payload_len 10 is below the 24-byte flow header",
                       traffic::traffic_error);
  f.payload_len = 64;
  f.rate_bps = 1000;
  CHECK_THROWS_WITH_AS(w.eps.add_udp_flow(f), "udp flow \"f\": give exactly one of rate_pps and rate_bps, above 0",
                       traffic::traffic_error);
  f.rate_bps = 0;
  CHECK_NOTHROW(w.eps.add_udp_flow(f));
  f.name = "g";
  CHECK_THROWS_WITH_AS(w.eps.add_udp_flow(f), "udp flow \"g\": port 5001 of endpoint \"ep0\" is already bound to flow \"f\"",
                       traffic::traffic_error);
  traffic::ping_config p;
  p.name = "p";
  p.dst = ep_ip(0);
  CHECK_THROWS_WITH_AS(w.eps.add_ping(p), "ping \"p\": count must be 1..65536 (16-bit ICMP sequence numbers)",
                       traffic::traffic_error);
  CHECK_THROWS_AS(w.eps.counters(42), traffic::traffic_error);
  CHECK_THROWS_AS(w.eps.nic_endpoint(0), traffic::traffic_error);
}

TEST_CASE("VLAN: a tagged endpoint sends its TCI out of band and accepts only its VID") {
  hub_world w;
  auto ca = ep_config(0);
  ca.vlan_tci = 10;
  auto cb = ep_config(1);
  cb.vlan_tci = (5u << 13) | 10;  // PCP 5, VID 10
  const auto a = w.add(ca);
  const auto b = w.add(cb);
  const auto c = w.add(ep_config(2));  // untagged: VLAN 10 frames are not for it
  send_udp(w.eps, a, ep_ip(1));
  w.sim.run();
  CHECK(w.eps.counters(b).udpNoPorts == 1);
  for (const auto& t : w.sent) {
    if (t.from == a) CHECK(t.meta.vlan_tci == std::optional<std::uint16_t>(10));
    if (t.from == b) CHECK(t.meta.vlan_tci == std::optional<std::uint16_t>((5u << 13) | 10));
  }
  CHECK(w.eps.counters(c).dropped(drop_reason::wrong_vlan) == 1);  // the ARP request
  // A tag in the bytes counts the same.
  auto tagged = ip_frame(ip_hdr(), udp_bytes(9), wire::mac_address::broadcast());
  tagged.insert(tagged.begin() + 12, {std::byte{0x81}, std::byte{0x00}, std::byte{0x00}, std::byte{0x0a}});
  w.inject(a, tagged);
  CHECK(w.eps.counters(a).udpNoPorts == 1);
  w.inject(c, tagged);
  CHECK(w.eps.counters(c).dropped(drop_reason::wrong_vlan) == 2);
}

TEST_CASE("ICMP echo: a request with IP options is answered from a copy; broadcast requests are ignored") {
  hub_world w;
  w.hold = true;
  const auto a = w.add(ep_config(0));
  // a knows ep1 already.
  w.inject(a, arp_frame(ep_mac(0), {wire::arp_operation::reply, ep_mac(1), ep_ip(1).to_u32(), ep_mac(0),
                                    ep_ip(0).to_u32()}));
  REQUIRE(w.eps.arp_lookup(a, ep_ip(1)) == ep_mac(1));
  const std::array<std::byte, 4> opts{std::byte{1}, std::byte{1}, std::byte{1}, std::byte{0}};  // NOP NOP NOP EOL
  std::vector<std::byte> echo(8 + 12, std::byte{0x33});
  const wire::icmp_packet m{std::span(echo)};
  m.set_msg_type(8);
  m.set_code(0);
  m.set_echo_ident(0x1234);
  m.set_echo_seq(7);
  m.fill_checksum();
  const auto frame_with = [&](wire::ipv4_address dst, wire::mac_address mac) {
    auto ip = ip_hdr(wire::ip_protocol::icmp);
    ip.dst = dst;
    ip.options = opts;
    ip.payload_len = static_cast<std::uint16_t>(echo.size());
    std::vector<std::byte> b(14 + 24 + echo.size(), std::byte{0});
    wire::ethernet_repr{mac, ep_mac(1), type_ipv4}.emit(wire::ethernet_frame{std::span(b)});
    ip.emit(wire::ipv4_packet{std::span(b).subspan(14)});
    std::copy(echo.begin(), echo.end(), b.begin() + 38);
    return b;
  };
  w.inject(a, frame_with(ep_ip(0), ep_mac(0)));
  REQUIRE(w.sent.size() == 1);
  const auto& r = w.sent[0].bytes;
  REQUIRE(r.size() == 34 + echo.size());  // the reply carries no options
  const wire::ipv4_packet_const ri{std::span(r).subspan(14)};
  CHECK(ri.verify_checksum());
  CHECK(ri.dst_addr() == ep_ip(1));
  const wire::icmp_packet_const rm{ri.payload()};
  CHECK(rm.msg_type() == 0);
  CHECK(rm.echo_ident() == 0x1234);
  CHECK(rm.echo_seq() == 7);
  CHECK(rm.verify_checksum());
  CHECK(std::ranges::equal(rm.data(), m.data()));
  // To the subnet's broadcast address: counted, not answered.
  w.inject(a, frame_with(wire::ipv4_address{10, 0, 0, 255}, wire::mac_address::broadcast()));
  CHECK(w.sent.size() == 1);
  CHECK(w.eps.counters(a).icmpInEchos == 2);
  CHECK(w.eps.counters(a).icmpOutEchoReps == 1);
}

TEST_CASE("send_ip for TCP: the checksum over the pseudo-header is filled") {
  hub_world w;
  w.hold = true;
  const auto a = w.add(ep_config(0));
  w.inject(a, arp_frame(ep_mac(0), {wire::arp_operation::reply, ep_mac(1), ep_ip(1).to_u32(), ep_mac(0),
                                    ep_ip(0).to_u32()}));
  auto f = w.eps.allocate_ip_frame(20 + 10);
  REQUIRE(f);
  const auto l4 = f.data().subspan(traffic::ip_l4_offset);
  std::fill(l4.begin(), l4.end(), std::byte{0x61});
  const wire::tcp_packet t{l4};
  t.set_src_port(1234);
  t.set_dst_port(80);
  l4[12] = std::byte{0x50};  // data offset 5 words
  CHECK(w.eps.send_ip(a, ep_ip(1), wire::ip_protocol::tcp, std::move(f)));
  REQUIRE(w.sent.size() == 1);
  const wire::ipv4_packet_const ip{std::span(w.sent[0].bytes).subspan(14)};
  CHECK(ip.protocol() == 6);
  CHECK(ip.verify_checksum());
  CHECK(wire::tcp_packet_const{ip.payload()}.verify_checksum(ip.src_addr(), ip.dst_addr()));
}

TEST_CASE("ARP cache full: the entry closest to expiry is replaced; none while all are resolving") {
  hub_world w;
  auto c = ep_config(0);
  c.arp.cache_entries = 2;
  const auto a = w.add(c);
  w.add(ep_config(1));
  w.add(ep_config(2));
  w.add(ep_config(3));
  // Two addresses nobody holds: both entries resolving, a third address finds no room.
  send_udp(w.eps, a, wire::ipv4_address{10, 0, 0, 90});
  send_udp(w.eps, a, wire::ipv4_address{10, 0, 0, 91});
  send_udp(w.eps, a, ep_ip(1));
  CHECK(w.eps.counters(a).dropped(drop_reason::arp_cache_full) == 1);
  w.sim.run();  // both give up at 3 s
  CHECK(w.eps.counters(a).arp_timeouts == 2);
  // Now learn ep1 (expires 60 s after 3 s) and ep2 (after 4 s); ep3 replaces ep1.
  send_udp(w.eps, a, ep_ip(1));
  w.sim.run();
  w.sim.run_until(4_s);
  send_udp(w.eps, a, ep_ip(2));
  w.sim.run();
  send_udp(w.eps, a, ep_ip(3));
  w.sim.run();
  CHECK(w.eps.arp_entry_state(a, ep_ip(1)) == traffic::arp_state::none);
  CHECK(w.eps.arp_lookup(a, ep_ip(2)) == ep_mac(2));
  CHECK(w.eps.arp_lookup(a, ep_ip(3)) == ep_mac(3));
  CHECK(w.eps.counters(2).udpNoPorts == 1);
  CHECK(w.eps.counters(3).udpNoPorts == 1);
}
