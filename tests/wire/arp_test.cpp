// ARP (RFC 826) and RARP (RFC 903) for Ethernet/IPv4.
#include "vnetsim/wire/arp.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

#include "vnetsim/wire/ethernet.hpp"
#include "wire_test_support.hpp"

using namespace vnetsim::wire;
using namespace vnetsim::wire::test;

namespace {


constexpr std::uint32_t ip(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return (std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d;
}

// An ARP request as captured (sample packet of RyanHerga/pcap-eagle src/SamplePackets.js):
// "Who has 172.30.220.212? Tell 172.30.145.249", padded to 60 bytes. tshark agrees:
// Opcode request (1), sender 20:df:b9:b9:85:e2 / 172.30.145.249, target 00:..:00 / 172.30.220.212.
constexpr auto arp_request_frame = make_bytes(
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x20, 0xdf, 0xb9, 0xb9, 0x85, 0xe2, 0x08, 0x06,
    0x00, 0x01,                          // htype Ethernet
    0x08, 0x00,                          // ptype IPv4
    0x06, 0x04,                          // hlen, plen
    0x00, 0x01,                          // request
    0x20, 0xdf, 0xb9, 0xb9, 0x85, 0xe2,  // sha
    0xac, 0x1e, 0x91, 0xf9,              // spa 172.30.145.249
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // tha
    0xac, 0x1e, 0xdc, 0xd4,              // tpa 172.30.220.212
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

// Gratuitous ARP in the RFC 5227 "ARP Announcement" form: request, spa = tpa, tha zero.
// tshark: "Address Resolution Protocol (ARP Announcement)", [Is gratuitous: True].
constexpr auto garp_payload = make_bytes(
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
    0x00, 0x50, 0x56, 0x01, 0x02, 0x03, 0x0a, 0x00, 0x00, 0x05,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x05);

// The "notify switches" RARP [KB90045][itecnotes]: EtherType 0x8035, broadcast, source the
// VM MAC, "reverse request who-is X tell X", 46-byte payload (28 + 18 padding).
// tshark: "Address Resolution Protocol (reverse request)", Opcode reverse request (3).
constexpr auto rarp_frame = make_bytes(
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x50, 0x56, 0x9a, 0x12, 0x34, 0x80, 0x35,
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x03,
    0x00, 0x50, 0x56, 0x9a, 0x12, 0x34, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x50, 0x56, 0x9a, 0x12, 0x34, 0x00, 0x00, 0x00, 0x00,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

template <std::size_t N>
std::vector<std::byte> to_vec(const std::array<std::byte, N>& a) {
  return {a.begin(), a.end()};
}

}  // namespace

TEST_CASE("arp: RFC 826 request parses to the standard's fields and re-emits exactly") {
  const ethernet_frame_const eth{arp_request_frame};
  CHECK(eth.type_or_len() == static_cast<std::uint16_t>(ether_type::arp));
  const auto payload = eth.payload();

  const arp_packet_const v{payload};
  REQUIRE(v.check_len());
  CHECK(v.htype() == 1);
  CHECK(v.ptype() == 0x0800);
  CHECK(v.hlen() == 6);
  CHECK(v.plen() == 4);
  CHECK(v.oper() == 1);

  const auto r = arp_repr::parse(payload);
  REQUIRE(r.has_value());
  CHECK(r->operation == arp_operation::request);
  CHECK(r->sender_mac == *mac_address::parse("20:df:b9:b9:85:e2"));
  CHECK(r->sender_ip == ip(172, 30, 145, 249));
  CHECK(r->target_mac.is_zero());
  CHECK(r->target_ip == ip(172, 30, 220, 212));
  CHECK_FALSE(r->is_gratuitous());
  CHECK(ether_type_for(r->operation) == 0x0806);

  std::array<std::byte, arp_packet_len> out{};
  REQUIRE(r->buffer_len() == out.size());
  r->emit(arp_packet{out});
  CHECK(std::ranges::equal(out, payload.first(28)));
}

TEST_CASE("arp: a reply, and the packet written by emit parses back") {
  const arp_repr reply{arp_operation::reply, *mac_address::parse("00:1c:0e:87:85:00"),
                       ip(172, 30, 220, 212), *mac_address::parse("20:df:b9:b9:85:e2"),
                       ip(172, 30, 145, 249)};
  std::array<std::byte, 28> out{};
  reply.emit(arp_packet{out});
  CHECK(get_u16(out, 6) == 2);
  CHECK(get_u32(out, 14) == ip(172, 30, 220, 212));
  const auto back = arp_repr::parse(out);
  REQUIRE(back.has_value());
  CHECK(*back == reply);
  CHECK_FALSE(back->is_gratuitous());
}

TEST_CASE("arp: gratuitous ARP") {
  const auto r = arp_repr::parse(garp_payload);
  REQUIRE(r.has_value());
  CHECK(r->is_gratuitous());
  CHECK(*r == arp_repr::announcement(*mac_address::parse("00:50:56:01:02:03"), ip(10, 0, 0, 5)));

  std::array<std::byte, 28> out{};
  r->emit(arp_packet{out});
  CHECK(std::ranges::equal(out, garp_payload));

  SUBCASE("the reply form is gratuitous too (RFC 5944 4.6)") {
    arp_repr g = *r;
    g.operation = arp_operation::reply;
    g.target_mac = mac_address::broadcast();
    CHECK(g.is_gratuitous());
  }
  SUBCASE("different addresses, or an RFC 5227 probe (sender 0.0.0.0), are not") {
    arp_repr g = *r;
    g.target_ip = ip(10, 0, 0, 6);
    CHECK_FALSE(g.is_gratuitous());
    g.sender_ip = 0;
    g.target_ip = 0;
    CHECK_FALSE(g.is_gratuitous());
  }
}

TEST_CASE("arp: the notify-switches RARP (RFC 903 reverse request)") {
  const ethernet_frame_const eth{rarp_frame};
  CHECK(eth.type_or_len() == static_cast<std::uint16_t>(ether_type::rarp));
  CHECK(eth.dst().is_broadcast());
  CHECK(eth.payload().size() == ethernet_min_payload_len);

  const auto r = arp_repr::parse(eth.payload());
  REQUIRE(r.has_value());
  const auto vm = *mac_address::parse("00:50:56:9a:12:34");
  CHECK(r->operation == arp_operation::reverse_request);
  CHECK(static_cast<std::uint16_t>(r->operation) == 3);
  CHECK(is_reverse(r->operation));
  CHECK(r->sender_mac == vm);
  CHECK(r->target_mac == vm);
  CHECK(eth.src() == vm);
  CHECK(r->sender_ip == 0);
  CHECK(r->target_ip == 0);
  CHECK_FALSE(r->is_gratuitous());
  CHECK(*r == arp_repr::reverse_request_for(vm));
  CHECK(ether_type_for(r->operation) == 0x8035);

  // Build the whole frame from reprs and compare with the documented bytes.
  std::array<std::byte, 60> out{};
  ethernet_repr{mac_address::broadcast(), vm, ether_type_for(r->operation)}.emit(
      ethernet_frame{out});
  arp_repr::reverse_request_for(vm).emit(arp_packet{std::span{out}.subspan(14)});
  CHECK(std::ranges::equal(out, rarp_frame));

  SUBCASE("reverse reply, opcode 4") {
    auto f = to_vec(rarp_frame);
    put_u16(f, 14 + 6, 4);
    const auto rr = arp_repr::parse(std::span{f}.subspan(14));
    REQUIRE(rr.has_value());
    CHECK(rr->operation == arp_operation::reverse_reply);
    CHECK(is_reverse(rr->operation));
  }
}

TEST_CASE("arp: rejections") {
  auto p = to_vec(garp_payload);
  SUBCASE("truncated") {
    CHECK(error_of(arp_repr::parse(std::span{p}.first(27))) == parse_error::truncated);
    CHECK(error_of(arp_repr::parse(const_bytes{})) == parse_error::truncated);
    CHECK_FALSE(arp_packet_const::checked(std::span<const std::byte>{p}.first(27)).has_value());
  }
  SUBCASE("hardware type not Ethernet") {
    put_u16(p, 0, 6);  // IEEE 802 networks
    CHECK(error_of(arp_repr::parse(p)) == parse_error::unsupported);
  }
  SUBCASE("protocol type not IPv4") {
    put_u16(p, 2, 0x86dd);
    CHECK(error_of(arp_repr::parse(p)) == parse_error::unsupported);
  }
  SUBCASE("address lengths inconsistent with Ethernet/IPv4") {
    put_u8(p, 4, 8);
    CHECK(error_of(arp_repr::parse(p)) == parse_error::bad_length);
    put_u8(p, 4, 6);
    put_u8(p, 5, 16);
    CHECK(error_of(arp_repr::parse(p)) == parse_error::bad_length);
  }
  SUBCASE("opcodes outside 1..4") {
    put_u16(p, 6, 0);
    CHECK(error_of(arp_repr::parse(p)) == parse_error::bad_type);
    put_u16(p, 6, 5);
    CHECK(error_of(arp_repr::parse(p)) == parse_error::bad_type);
    put_u16(p, 6, 8);  // InARP request, RFC 2390
    CHECK(error_of(arp_repr::parse(p)) == parse_error::bad_type);
  }
}
