#include "vnetsim/wire/udp.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>
#include "wire_test_support.hpp"

using namespace vnetsim::wire;
using namespace vnetsim::wire::test;

namespace {

// A DNS query for example.com A from 10.0.0.1:53000 to 10.0.0.2:53, IPv4 header included
// (checksum 0xcc57); UDP length 37, checksum 0xa128. Checked with tshark.
constexpr auto dns_query_packet = make_bytes(
    0x45, 0x00, 0x00, 0x39, 0x5a, 0x5a, 0x40, 0x00, 0x40, 0x11, 0xcc, 0x57, 0x0a, 0x00, 0x00,
    0x01, 0x0a, 0x00, 0x00, 0x02, 0xcf, 0x08, 0x00, 0x35, 0x00, 0x25, 0xa1, 0x28, 0xab, 0xcd,
    0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x65, 0x78, 0x61, 0x6d,
    0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00, 0x01);

std::array<std::byte, 37> dns_datagram() {
  std::array<std::byte, 37> d{};
  std::copy(dns_query_packet.begin() + 20, dns_query_packet.end(), d.begin());
  return d;
}

}  // namespace

TEST_CASE("udp: DNS query parses field by field") {
  const auto d = dns_datagram();
  const auto v = udp_packet_const::checked(d);
  REQUIRE(v);
  CHECK(v->src_port() == 53000);
  CHECK(v->dst_port() == 53);
  CHECK(v->length() == 37);
  CHECK(v->checksum() == 0xa128);
  CHECK(v->payload().size() == 29);
  CHECK(v->verify_checksum(client, server));
  CHECK_FALSE(v->verify_checksum(client, ipv4_address(10, 0, 0, 3)));
  CHECK(naive_pseudo_checksum(client, server, ip_protocol::udp, d) == 0);

  const auto r = udp_repr::parse(const_bytes{d}, client, server);
  REQUIRE(r);
  CHECK(r->src_port == 53000);
  CHECK(r->dst_port == 53);
  REQUIRE(r->payload.size() == 29);
  CHECK(r->payload[0] == std::byte{0xab});  // DNS ID 0xabcd
  CHECK(r->payload[12] == std::byte{7});    // QNAME label "example"
  CHECK(r->buffer_len() == 37);
}

TEST_CASE("udp: round trip of the whole DNS query packet") {
  const auto ip = ipv4_repr::parse(const_bytes{dns_query_packet});
  REQUIRE(ip);
  CHECK(ip->protocol == ip_protocol::udp);
  const auto udp = udp_repr::parse(ipv4_packet_const{dns_query_packet}.payload(), ip->src,
                                   ip->dst);
  REQUIRE(udp);
  std::array<std::byte, 57> out{};
  ip->emit(ipv4_packet{out});
  udp->emit(udp_packet{ipv4_packet{out}.payload()}, ip->src, ip->dst);
  CHECK(out == dns_query_packet);
}

TEST_CASE("udp: emit agrees with the naive reference on many payloads") {
  std::array<std::byte, 200> payload{};
  std::uint32_t x = 99;
  for (auto& b : payload) {
    x = x * 1103515245U + 12345U;
    b = static_cast<std::byte>(x >> 24);
  }
  std::array<std::byte, 208> out{};
  for (std::size_t n = 0; n <= payload.size(); ++n) {
    const udp_repr r{1234, 5678, const_bytes{payload}.first(n)};
    r.emit(udp_packet{out}, client, server);
    const const_bytes dgram = const_bytes{out}.first(r.buffer_len());
    const std::uint16_t ck = udp_packet_const{dgram}.checksum();
    std::array<std::byte, 208> zeroed = out;
    put_u16(zeroed, 6, 0);
    const std::uint16_t expect =
        naive_pseudo_checksum(client, server, ip_protocol::udp, const_bytes{zeroed}.first(n + 8));
    REQUIRE(ck == (expect == 0 ? 0xffff : expect));
    const auto back = udp_repr::parse(dgram, client, server);
    REQUIRE(back);
    REQUIRE(*back == r);
  }
}

TEST_CASE("udp: a zero checksum field means no checksum (RFC 768)") {
  auto d = dns_datagram();
  put_u16(d, 6, 0);
  const auto r = udp_repr::parse(const_bytes{d}, client, server);
  REQUIRE(r);
  CHECK(r->dst_port == 53);
  // Even with the payload changed, nothing is checked.
  d[30] = std::byte{0x42};
  CHECK(udp_repr::parse(const_bytes{d}, client, server));
}

TEST_CASE("udp: a computed checksum of zero is transmitted as 0xffff") {
  // Choose the last two payload bytes so that the sum is 0xffff and the checksum 0.
  std::array<std::byte, 12> payload{};
  for (std::size_t i = 0; i < 10; ++i) payload[i] = static_cast<std::byte>(0x30 + i);
  std::array<std::byte, 20> out{};
  const udp_repr r{4000, 4001, payload};
  r.emit(udp_packet{out}, client, server, checksum_mode::skip);  // checksum field 0
  const auto partial =
      static_cast<std::uint16_t>(~naive_pseudo_checksum(client, server, ip_protocol::udp, out));
  const auto fix = static_cast<std::uint16_t>(0xffff - partial);
  put_u16(payload, 10, fix);
  r.emit(udp_packet{out}, client, server, checksum_mode::skip);
  REQUIRE(naive_pseudo_checksum(client, server, ip_protocol::udp, out) == 0);  // the computed checksum is 0

  r.emit(udp_packet{out}, client, server);
  CHECK(udp_packet_const{out}.checksum() == 0xffff);
  CHECK(udp_packet_const{out}.verify_checksum(client, server));
  const auto back = udp_repr::parse(const_bytes{out}, client, server);
  REQUIRE(back);
  CHECK(*back == r);
}

TEST_CASE("udp: rejects a wrong non-zero checksum unless told to skip it") {
  auto d = dns_datagram();
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (i == 4 || i == 5) continue;  // the length field: other errors
    d[i] ^= std::byte{0x10};
    REQUIRE(get_u16(d, 6) != 0);  // still a checksum, not "none"
    const auto r = udp_repr::parse(const_bytes{d}, client, server);
    REQUIRE_FALSE_MESSAGE(r, "byte " << i);
    CHECK(r.error() == parse_error::bad_checksum);
    CHECK(udp_repr::parse(const_bytes{d}, client, server, checksum_mode::skip));
    d[i] ^= std::byte{0x10};
  }
  // The wrong pseudo-header (another destination) fails as well.
  CHECK(udp_repr::parse(const_bytes{dns_datagram()}, client, ipv4_address(10, 0, 0, 9)).error() ==
        parse_error::bad_checksum);
}

TEST_CASE("udp: length rules") {
  const auto d = dns_datagram();
  SUBCASE("buffers shorter than the header are truncated") {
    for (std::size_t n = 0; n < udp_header_len; ++n) {
      CHECK_FALSE(udp_packet_const::checked(const_bytes{d}.first(n)));
      const auto r = udp_repr::parse(const_bytes{d}.first(n), client, server);
      REQUIRE_FALSE(r);
      CHECK(r.error() == parse_error::truncated);
    }
  }
  SUBCASE("Length past the buffer is truncated") {
    for (std::size_t n = 8; n < d.size(); ++n) {
      const auto r = udp_repr::parse(const_bytes{d}.first(n), client, server);
      REQUIRE_FALSE(r);
      CHECK(r.error() == parse_error::truncated);
    }
  }
  SUBCASE("Length below 8 is a bad length") {
    auto bad = d;
    for (std::uint16_t len = 0; len < 8; ++len) {
      put_u16(bad, 4, len);
      const auto r = udp_repr::parse(const_bytes{bad}, client, server, checksum_mode::skip);
      REQUIRE_FALSE(r);
      CHECK(r.error() == parse_error::bad_length);
    }
  }
  SUBCASE("bytes after Length are not payload") {
    std::array<std::byte, 46> padded{};  // Ethernet minimum payload
    std::copy(d.begin(), d.end(), padded.begin());
    const auto r = udp_repr::parse(const_bytes{padded}, client, server);
    REQUIRE(r);
    CHECK(r->payload.size() == 29);
    CHECK(udp_packet_const{padded}.datagram().size() == 37);
  }
  SUBCASE("an empty datagram, Length 8") {
    const udp_repr r{7, 9, {}};
    std::array<std::byte, 8> out{};
    r.emit(udp_packet{out}, client, server);
    const auto back = udp_repr::parse(const_bytes{out}, client, server);
    REQUIRE(back);
    CHECK(back->payload.empty());
    CHECK(naive_pseudo_checksum(client, server, ip_protocol::udp, out) == 0);
  }
}

TEST_CASE("udp: emit in place and with checksum_mode::skip") {
  auto d = dns_datagram();
  const auto r = udp_repr::parse(const_bytes{d}, client, server);
  REQUIRE(r);
  udp_repr moved = *r;
  moved.src_port = 53001;
  moved.emit(udp_packet{d}, client, server);  // the payload is already in place
  CHECK(udp_packet_const{d}.src_port() == 53001);
  CHECK(udp_packet_const{d}.verify_checksum(client, server));
  CHECK(d[8] == std::byte{0xab});
  moved.emit(udp_packet{d}, client, server, checksum_mode::skip);
  CHECK(udp_packet_const{d}.checksum() == 0);
}

TEST_CASE("udp: RFC 1624 update of a port equals the recomputed checksum (NAT)") {
  auto d = dns_datagram();
  const udp_packet v{d};
  std::uint16_t port = 53000;
  for (int i = 0; i < 500; ++i) {
    const std::uint16_t old_port = port;
    port = static_cast<std::uint16_t>(port * 31 + 7);
    v.set_src_port(port);
    const std::uint16_t updated = checksum_update_u16(v.checksum(), old_port, port);
    v.fill_checksum(client, server);
    // RFC 768: a computed 0 goes out as 0xffff; the two are the same one's complement value.
    const std::uint16_t full = v.checksum();
    REQUIRE((updated == full || (updated == 0 && full == 0xffff)));
    v.set_checksum(full);
  }
}
