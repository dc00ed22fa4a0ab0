#include "vnetsim/wire/icmp.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

#include "vnetsim/wire/ipv4.hpp"
#include "wire_test_support.hpp"

using namespace vnetsim::wire;
using namespace vnetsim::wire::test;

namespace {


// A Linux `ping` echo request, 10.0.0.1 -> 10.0.0.2: IPv4 (ident 0x1c46, DF, TTL 64,
// protocol 1, checksum 0x0a61), then ICMP type 8 code 0 checksum 0x00fd identifier 0x1234
// sequence 1 and 56 data bytes (a 16-byte struct timeval, then 0x10..0x37). Checked with
// tshark.
constexpr auto echo_request_packet = make_bytes(
    0x45, 0x00, 0x00, 0x54, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x01, 0x0a, 0x61, 0x0a, 0x00, 0x00,
    0x01, 0x0a, 0x00, 0x00, 0x02, 0x08, 0x00, 0x00, 0xfd, 0x12, 0x34, 0x00, 0x01, 0x6a, 0x2b,
    0x8f, 0x65, 0x00, 0x00, 0x00, 0x00, 0x1e, 0x6a, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
    0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e,
    0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37);

// The reply, 10.0.0.2 -> 10.0.0.1 (ident 0x8d3e, no DF): type 0, checksum 0x08fd.
constexpr auto echo_reply_packet = make_bytes(
    0x45, 0x00, 0x00, 0x54, 0x8d, 0x3e, 0x00, 0x00, 0x40, 0x01, 0xd9, 0x68, 0x0a, 0x00, 0x00,
    0x02, 0x0a, 0x00, 0x00, 0x01, 0x00, 0x00, 0x08, 0xfd, 0x12, 0x34, 0x00, 0x01, 0x6a, 0x2b,
    0x8f, 0x65, 0x00, 0x00, 0x00, 0x00, 0x1e, 0x6a, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
    0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e,
    0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37);

// Port unreachable (type 3 code 3) from 10.0.0.2 for a DNS query 10.0.0.1:53000 -> :53;
// the data is the query's IPv4 header and the first 8 bytes of its UDP header.
constexpr auto port_unreachable_packet = make_bytes(
    0x45, 0x00, 0x00, 0x38, 0x0d, 0x0d, 0x00, 0x00, 0x40, 0x01, 0x59, 0xb6, 0x0a, 0x00, 0x00,
    0x02, 0x0a, 0x00, 0x00, 0x01, 0x03, 0x03, 0x8c, 0x71, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00,
    0x00, 0x39, 0x5a, 0x5a, 0x40, 0x00, 0x40, 0x11, 0xcc, 0x57, 0x0a, 0x00, 0x00, 0x01, 0x0a,
    0x00, 0x00, 0x02, 0xcf, 0x08, 0x00, 0x35, 0x00, 0x25, 0xa1, 0x28);

// Fragmentation needed (type 3 code 4) with next-hop MTU 1400 (RFC 1191 4), from router
// 10.0.0.254 for a TCP SYN 10.0.0.1:45678 -> 10.0.0.2:80.
constexpr auto frag_needed_packet = make_bytes(
    0x45, 0x00, 0x00, 0x38, 0x0e, 0x0e, 0x00, 0x00, 0x40, 0x01, 0x57, 0xb9, 0x0a, 0x00, 0x00,
    0xfe, 0x0a, 0x00, 0x00, 0x01, 0x03, 0x04, 0xec, 0x0a, 0x00, 0x00, 0x05, 0x78, 0x45, 0x00,
    0x00, 0x3c, 0x7b, 0x21, 0x40, 0x00, 0x40, 0x06, 0xab, 0x98, 0x0a, 0x00, 0x00, 0x01, 0x0a,
    0x00, 0x00, 0x02, 0xb2, 0x6e, 0x00, 0x50, 0x3e, 0x8f, 0x1a, 0x2b);

// Time exceeded in transit (type 11 code 0) from 10.0.0.254 for the same SYN.
constexpr auto ttl_exceeded_packet = make_bytes(
    0x45, 0x00, 0x00, 0x38, 0x0f, 0x0f, 0x00, 0x00, 0xff, 0x01, 0x97, 0xb7, 0x0a, 0x00, 0x00,
    0xfe, 0x0a, 0x00, 0x00, 0x01, 0x0b, 0x00, 0xe9, 0x86, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00,
    0x00, 0x3c, 0x7b, 0x21, 0x40, 0x00, 0x40, 0x06, 0xab, 0x98, 0x0a, 0x00, 0x00, 0x01, 0x0a,
    0x00, 0x00, 0x02, 0xb2, 0x6e, 0x00, 0x50, 0x3e, 0x8f, 0x1a, 0x2b);

/// The ICMP message inside a full IPv4 packet.
template <std::size_t N>
const_bytes icmp_of(const std::array<std::byte, N>& ip) {
  return const_bytes{ip}.subspan(20);
}

/// Re-checksums a mutated message so that only the mutation is tested.
void refill(std::span<std::byte> msg) { icmp_packet{msg}.fill_checksum(); }

}  // namespace

TEST_CASE("icmp: Linux ping echo request parses field by field") {
  const const_bytes msg = icmp_of(echo_request_packet);
  CHECK(naive_checksum(msg) == 0);
  const auto v = icmp_packet_const::checked(msg);
  REQUIRE(v);
  CHECK(v->msg_type() == 8);
  CHECK(v->code() == 0);
  CHECK(v->checksum() == 0x00fd);
  CHECK(v->echo_ident() == 0x1234);
  CHECK(v->echo_seq() == 1);
  CHECK(v->data().size() == 56);
  CHECK(v->verify_checksum());

  const auto r = icmp_repr::parse(msg);
  REQUIRE(r);
  CHECK(r->type == icmp_type::echo_request);
  CHECK(r->is_echo());
  CHECK(r->ident == 0x1234);
  CHECK(r->seq == 1);
  REQUIRE(r->data.size() == 56);
  CHECK(r->data[16] == std::byte{0x10});
  CHECK(r->data[55] == std::byte{0x37});
  CHECK(r->buffer_len() == 64);
}

TEST_CASE("icmp: echo request round-trips through IPv4 and ICMP reprs") {
  const auto ip = ipv4_repr::parse(const_bytes{echo_request_packet});
  REQUIRE(ip);
  CHECK(ip->protocol == ip_protocol::icmp);
  const auto icmp = icmp_repr::parse(ipv4_packet_const{echo_request_packet}.payload());
  REQUIRE(icmp);

  std::array<std::byte, 84> out{};
  ip->emit(ipv4_packet{out});
  icmp->emit(icmp_packet{ipv4_packet{out}.payload()});
  CHECK(out == echo_request_packet);
}

TEST_CASE("icmp: the echo reply built from the request matches the real reply") {
  const auto req = icmp_repr::parse(icmp_of(echo_request_packet));
  REQUIRE(req);
  const icmp_repr reply = icmp_repr::echo_reply(req->ident, req->seq, req->data);

  ipv4_repr ip;
  ip.src = ipv4_address(10, 0, 0, 2);
  ip.dst = ipv4_address(10, 0, 0, 1);
  ip.protocol = ip_protocol::icmp;
  ip.ident = 0x8d3e;
  ip.payload_len = static_cast<std::uint16_t>(reply.buffer_len());
  std::array<std::byte, 84> out{};
  ip.emit(ipv4_packet{out});
  reply.emit(icmp_packet{std::span<std::byte>{out}.subspan(20)});
  CHECK(out == echo_reply_packet);
  CHECK(icmp_repr::parse(icmp_of(echo_reply_packet)).value() == reply);

  // In place: turn the request buffer itself into the reply (data already there).
  auto buf = echo_request_packet;
  const std::span<std::byte> msg = std::span<std::byte>{buf}.subspan(20);
  const auto in_place = icmp_repr::parse(const_bytes{msg});
  REQUIRE(in_place);
  icmp_repr::echo_reply(in_place->ident, in_place->seq, in_place->data).emit(icmp_packet{msg});
  CHECK(std::ranges::equal(msg, icmp_of(echo_reply_packet)));
}

TEST_CASE("icmp: emit into a larger buffer checksums only the message") {
  const auto req = icmp_repr::parse(icmp_of(echo_request_packet));
  REQUIRE(req);
  std::array<std::byte, 100> out{};
  out.fill(std::byte{0x77});
  req->emit(icmp_packet{out});
  CHECK(std::ranges::equal(const_bytes{out}.first(64), icmp_of(echo_request_packet)));
  CHECK(out[64] == std::byte{0x77});
}

TEST_CASE("icmp: destination unreachable, port unreachable") {
  const const_bytes msg = icmp_of(port_unreachable_packet);
  CHECK(naive_checksum(msg) == 0);
  const auto r = icmp_repr::parse(msg);
  REQUIRE(r);
  CHECK(r->type == icmp_type::dst_unreachable);
  CHECK(r->code == static_cast<std::uint8_t>(icmp_unreachable::port_unreachable));
  CHECK(r->next_hop_mtu == 0);
  REQUIRE(r->data.size() == 28);
  // The invoking datagram's header is there to be read.
  const ipv4_packet_const inner{r->data};
  CHECK(inner.src_addr() == ipv4_address(10, 0, 0, 1));
  CHECK(inner.protocol() == 17);
  CHECK(get_u16(r->data, 22) == 53);  // the UDP destination port

  std::array<std::byte, 36> out{};
  icmp_repr::dst_unreachable(icmp_unreachable::port_unreachable, r->data)
      .emit(icmp_packet{out});
  CHECK(std::ranges::equal(out, msg));
}

TEST_CASE("icmp: destination unreachable, fragmentation needed with next-hop MTU") {
  const const_bytes msg = icmp_of(frag_needed_packet);
  CHECK(naive_checksum(msg) == 0);
  const auto r = icmp_repr::parse(msg);
  REQUIRE(r);
  CHECK(r->type == icmp_type::dst_unreachable);
  CHECK(r->code == 4);
  CHECK(r->next_hop_mtu == 1400);
  std::array<std::byte, 36> out{};
  icmp_repr::dst_unreachable(icmp_unreachable::frag_needed, r->data, 1400)
      .emit(icmp_packet{out});
  CHECK(std::ranges::equal(out, msg));
}

TEST_CASE("icmp: time exceeded in transit") {
  const const_bytes msg = icmp_of(ttl_exceeded_packet);
  CHECK(naive_checksum(msg) == 0);
  const auto r = icmp_repr::parse(msg);
  REQUIRE(r);
  CHECK(r->type == icmp_type::time_exceeded);
  CHECK(r->code == 0);
  CHECK_FALSE(r->is_echo());
  std::array<std::byte, 36> out{};
  icmp_repr::time_exceeded(icmp_time_exceeded::ttl_exceeded, r->data).emit(icmp_packet{out});
  CHECK(std::ranges::equal(out, msg));
  // The full packet too, IPv4 header included.
  const auto ip = ipv4_repr::parse(const_bytes{ttl_exceeded_packet});
  REQUIRE(ip);
  CHECK(ip->ttl == 255);
  std::array<std::byte, 56> full{};
  ip->emit(ipv4_packet{full});
  std::copy(out.begin(), out.end(), full.begin() + 20);
  CHECK(full == ttl_exceeded_packet);
}

TEST_CASE("icmp: rejects buffers shorter than 8 bytes") {
  const const_bytes msg = icmp_of(echo_request_packet);
  for (std::size_t n = 0; n < icmp_header_len; ++n) {
    CHECK_FALSE(icmp_packet_const::checked(msg.first(n)));
    const auto r = icmp_repr::parse(msg.first(n));
    REQUIRE_FALSE(r);
    CHECK(r.error() == parse_error::truncated);
  }
}

TEST_CASE("icmp: rejects a bad checksum, anywhere in the message") {
  auto buf = echo_request_packet;
  const std::span<std::byte> msg = std::span<std::byte>{buf}.subspan(20);
  for (std::size_t i = 0; i < msg.size(); ++i) {
    msg[i] ^= std::byte{0x01};
    const auto r = icmp_repr::parse(const_bytes{msg});
    REQUIRE_FALSE(r);
    CHECK(r.error() == parse_error::bad_checksum);
    CHECK(icmp_repr::parse(const_bytes{msg}, checksum_mode::skip).has_value() ==
          (i >= 2));  // flipping the type byte 8 -> 9 makes it a type we do not know
    msg[i] ^= std::byte{0x01};
  }
  // A truncated message fails the checksum too (the data is covered).
  const auto r = icmp_repr::parse(icmp_of(echo_request_packet).first(60));
  REQUIRE_FALSE(r);
  CHECK(r.error() == parse_error::bad_checksum);
}

TEST_CASE("icmp: rejects bad codes and unknown types") {
  auto buf = echo_request_packet;
  const std::span<std::byte> msg = std::span<std::byte>{buf}.subspan(20);
  const icmp_packet v{msg};

  v.set_code(1);  // echo has only code 0 (RFC 792)
  refill(msg);
  CHECK(icmp_repr::parse(const_bytes{msg}).error() == parse_error::bad_type);

  v.set_msg_type(3);
  v.set_code(16);  // past the last code, 15 (RFC 1812 5.2.7.1)
  refill(msg);
  CHECK(icmp_repr::parse(const_bytes{msg}).error() == parse_error::bad_type);
  v.set_code(15);
  refill(msg);
  CHECK(icmp_repr::parse(const_bytes{msg}).has_value());

  v.set_msg_type(11);
  v.set_code(2);  // time exceeded has codes 0 and 1 (RFC 792)
  refill(msg);
  CHECK(icmp_repr::parse(const_bytes{msg}).error() == parse_error::bad_type);
  v.set_code(1);
  refill(msg);
  CHECK(icmp_repr::parse(const_bytes{msg})->code == 1);

  for (const std::uint8_t t : {4, 5, 12, 13, 14, 15, 16}) {  // RFC 792 types with no repr
    v.set_msg_type(t);
    v.set_code(0);
    refill(msg);
    CHECK_MESSAGE(icmp_repr::parse(const_bytes{msg}).error() == parse_error::unsupported,
                  static_cast<int>(t));
  }
  for (const std::uint8_t t : {1, 2, 6, 7, 9, 10, 17, 99, 255}) {
    v.set_msg_type(t);
    v.set_code(0);
    refill(msg);
    CHECK_MESSAGE(icmp_repr::parse(const_bytes{msg}).error() == parse_error::bad_type,
                  static_cast<int>(t));
  }
}

TEST_CASE("icmp: emit with checksum_mode::skip leaves the checksum zero") {
  constexpr auto data = make_bytes(1, 2, 3);
  std::array<std::byte, 11> out{};
  out.fill(std::byte{0xff});
  icmp_repr::echo_request(7, 9, data).emit(icmp_packet{out}, checksum_mode::skip);
  CHECK(icmp_packet_const{out}.checksum() == 0);
  icmp_repr::echo_request(7, 9, data).emit(icmp_packet{out});
  CHECK(naive_checksum(out) == 0);  // odd length: the last byte is padded on the right
  CHECK(icmp_repr::parse(const_bytes{out})->data.size() == 3);
}
