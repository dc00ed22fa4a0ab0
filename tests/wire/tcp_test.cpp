#include "vnetsim/wire/tcp.hpp"

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

// Linux SYN 10.0.0.1:45678 -> 10.0.0.2:80, seq 0x3e8f1a2b, window 64240, data offset 10;
// options MSS 1460, SACK-permitted, timestamps (TSval 0xa3c1e2f1, TSecr 0), NOP, window
// scale 7; TCP checksum 0xa6e0. Checked with tshark.
constexpr auto syn_packet = make_bytes(
    0x45, 0x00, 0x00, 0x3c, 0x7b, 0x21, 0x40, 0x00, 0x40, 0x06, 0xab, 0x98, 0x0a, 0x00, 0x00,
    0x01, 0x0a, 0x00, 0x00, 0x02, 0xb2, 0x6e, 0x00, 0x50, 0x3e, 0x8f, 0x1a, 0x2b, 0x00, 0x00,
    0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0, 0xa6, 0xe0, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04,
    0x02, 0x08, 0x0a, 0xa3, 0xc1, 0xe2, 0xf1, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07);

// The SYN-ACK, seq 0x9c41d7e0, ack 0x3e8f1a2c, window 65160, TSval 0x0051f2a0.
constexpr auto syn_ack_packet = make_bytes(
    0x45, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0x26, 0xba, 0x0a, 0x00, 0x00,
    0x02, 0x0a, 0x00, 0x00, 0x01, 0x00, 0x50, 0xb2, 0x6e, 0x9c, 0x41, 0xd7, 0xe0, 0x3e, 0x8f,
    0x1a, 0x2c, 0xa0, 0x12, 0xfe, 0x88, 0x3c, 0x23, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04,
    0x02, 0x08, 0x0a, 0x00, 0x51, 0xf2, 0xa0, 0xa3, 0xc1, 0xe2, 0xf1, 0x01, 0x03, 0x03, 0x07);

// A duplicate ACK carrying two SACK blocks after NOP NOP timestamps, data offset 13.
constexpr auto sack_packet = make_bytes(
    0x45, 0x00, 0x00, 0x48, 0x7b, 0x22, 0x40, 0x00, 0x40, 0x06, 0xab, 0x8b, 0x0a, 0x00, 0x00,
    0x01, 0x0a, 0x00, 0x00, 0x02, 0xb2, 0x6e, 0x00, 0x50, 0x3e, 0x8f, 0x1a, 0x2c, 0x9c, 0x41,
    0xd7, 0xe1, 0xd0, 0x10, 0x01, 0xf6, 0xfd, 0xf7, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0xa3,
    0xc1, 0xe3, 0x5a, 0x00, 0x51, 0xf2, 0xa0, 0x01, 0x01, 0x05, 0x12, 0x9c, 0x41, 0xe0, 0x00,
    0x9c, 0x41, 0xe5, 0xa8, 0x9c, 0x41, 0xeb, 0x50, 0x9c, 0x41, 0xf0, 0xf8);

// PSH+ACK carrying "GET / HTTP/1.1\r\nHost: 10.0.0.2\r\n\r\n" (34 bytes), timestamps.
constexpr auto get_packet = make_bytes(
    0x45, 0x00, 0x00, 0x56, 0x7b, 0x23, 0x40, 0x00, 0x40, 0x06, 0xab, 0x7c, 0x0a, 0x00, 0x00,
    0x01, 0x0a, 0x00, 0x00, 0x02, 0xb2, 0x6e, 0x00, 0x50, 0x3e, 0x8f, 0x1a, 0x2c, 0x9c, 0x41,
    0xd7, 0xe1, 0x80, 0x18, 0x01, 0xf6, 0xc9, 0x7d, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0xa3,
    0xc1, 0xe3, 0x5a, 0x00, 0x51, 0xf2, 0xa0, 0x47, 0x45, 0x54, 0x20, 0x2f, 0x20, 0x48, 0x54,
    0x54, 0x50, 0x2f, 0x31, 0x2e, 0x31, 0x0d, 0x0a, 0x48, 0x6f, 0x73, 0x74, 0x3a, 0x20, 0x31,
    0x30, 0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x32, 0x0d, 0x0a, 0x0d, 0x0a);

/// The segment inside a full IPv4 packet, copied out so that tests can change it.
template <std::size_t N>
std::vector<std::byte> segment_of(const std::array<std::byte, N>& ip) {
  return {ip.begin() + 20, ip.end()};
}

/// Emits `r` into a fresh buffer of exactly buffer_len() bytes.
std::vector<std::byte> emit_alone(const tcp_repr& r, ipv4_address src, ipv4_address dst) {
  std::vector<std::byte> out(r.buffer_len(), std::byte{0xee});
  r.emit(tcp_packet{out}, src, dst);
  return out;
}

/// A 20-byte header with the given option bytes, data offset set and checksum filled.
std::vector<std::byte> segment_with_options(std::initializer_list<int> opts) {
  std::vector<std::byte> seg = segment_of(syn_packet);
  seg.resize(20);
  for (const int o : opts) seg.push_back(static_cast<std::byte>(o));
  const tcp_packet v{seg};
  v.set_data_offset(static_cast<std::uint8_t>(seg.size() / 4));
  v.fill_checksum(client, server);
  return seg;
}

parse_error option_error(std::initializer_list<int> opts) {
  const auto seg = segment_with_options(opts);
  const auto r = tcp_repr::parse(const_bytes{seg}, client, server);
  REQUIRE_FALSE(r);
  return *r.error();
}

}  // namespace

TEST_CASE("tcp: Linux SYN parses field by field") {
  const auto seg = segment_of(syn_packet);
  CHECK(naive_pseudo_checksum(client, server, ip_protocol::tcp, seg) == 0);
  const auto v = tcp_packet_const::checked(seg);
  REQUIRE(v);
  CHECK(v->src_port() == 45678);
  CHECK(v->dst_port() == 80);
  CHECK(v->seq_number() == 0x3e8f1a2bU);
  CHECK(v->ack_number() == 0);
  CHECK(v->data_offset() == 10);
  CHECK(v->header_len() == 40);
  CHECK(v->reserved() == 0);
  CHECK(v->flags() == tcp_flags::syn);
  CHECK(v->syn());
  CHECK_FALSE(v->ack());
  CHECK_FALSE(v->fin());
  CHECK(v->window() == 64240);
  CHECK(v->checksum() == 0xa6e0);
  CHECK(v->urgent_pointer() == 0);
  CHECK(v->options().size() == 20);
  CHECK(v->payload().empty());
  CHECK(v->verify_checksum(client, server));
  CHECK_FALSE(v->verify_checksum(client, ipv4_address(10, 0, 0, 3)));

  const auto r = tcp_repr::parse(const_bytes{seg}, client, server);
  REQUIRE(r);
  CHECK(r->src_port == 45678);
  CHECK(r->dst_port == 80);
  CHECK(r->seq == 0x3e8f1a2bU);
  CHECK(r->flags == tcp_flags::syn);
  CHECK(r->window == 64240);
  CHECK(r->mss == 1460);
  CHECK(r->window_scale == 7);
  CHECK(r->sack_permitted);
  CHECK(r->sack_count == 0);
  REQUIRE(r->timestamps);
  CHECK(r->timestamps->tsval == 0xa3c1e2f1U);
  CHECK(r->timestamps->tsecr == 0);
  CHECK(r->payload.empty());
  CHECK(r->options_len() == 20);
  CHECK(r->segment_len() == 1);  // SYN occupies one sequence number (RFC 9293 3.4)
}

TEST_CASE("tcp: SYN, SYN-ACK, SACK and data segments round-trip byte for byte") {
  struct sample {
    const char* name;
    const_bytes packet;
  };
  for (const sample s : {sample{"syn", syn_packet}, sample{"syn-ack", syn_ack_packet},
                         sample{"sack", sack_packet}, sample{"get", get_packet}}) {
    INFO(s.name);
    const auto ip = ipv4_repr::parse(s.packet);
    REQUIRE(ip);
    REQUIRE(ip->protocol == ip_protocol::tcp);
    const const_bytes seg = ipv4_packet_const{s.packet}.payload();
    CHECK(naive_pseudo_checksum(ip->src, ip->dst, ip_protocol::tcp, seg) == 0);
    const auto tcp = tcp_repr::parse(seg, ip->src, ip->dst);
    REQUIRE(tcp);
    CHECK(tcp->buffer_len() == seg.size());

    std::vector<std::byte> out(s.packet.size());
    ip->emit(ipv4_packet{out});
    tcp->emit(tcp_packet{ipv4_packet{out}.payload()}, ip->src, ip->dst);
    CHECK(std::ranges::equal(out, s.packet));
  }
}

TEST_CASE("tcp: SYN-ACK, SACK and data segments parse to the expected values") {
  const auto sa = tcp_repr::parse(const_bytes{segment_of(syn_ack_packet)}, server, client);
  REQUIRE(sa);
  CHECK(sa->flags == (tcp_flags::syn | tcp_flags::ack));
  CHECK(sa->ack == 0x3e8f1a2cU);
  CHECK(sa->timestamps == tcp_timestamps{0x0051f2a0U, 0xa3c1e2f1U});

  const auto sack_seg = segment_of(sack_packet);
  const auto sk = tcp_repr::parse(const_bytes{sack_seg}, client, server);
  REQUIRE(sk);
  CHECK(sk->flags == tcp_flags::ack);
  CHECK(sk->window == 502);
  CHECK_FALSE(sk->mss);
  CHECK_FALSE(sk->window_scale);
  CHECK_FALSE(sk->sack_permitted);
  REQUIRE(sk->sack().size() == 2);
  CHECK(sk->sack()[0] == tcp_sack_block{0x9c41e000U, 0x9c41e5a8U});
  CHECK(sk->sack()[1] == tcp_sack_block{0x9c41eb50U, 0x9c41f0f8U});
  CHECK(sk->segment_len() == 0);

  const auto get_seg = segment_of(get_packet);
  const auto g = tcp_repr::parse(const_bytes{get_seg}, client, server);
  REQUIRE(g);
  CHECK(g->flags == (tcp_flags::psh | tcp_flags::ack));
  CHECK(has(g->flags, tcp_flags::psh));
  CHECK_FALSE(has(g->flags, tcp_flags::syn | tcp_flags::psh));
  REQUIRE(g->payload.size() == 34);
  CHECK(g->payload[0] == std::byte{'G'});
  CHECK(g->segment_len() == 34);
}

TEST_CASE("tcp: options in another order (Windows SYN) parse the same") {
  // MSS 1460, NOP, window scale 8, NOP, NOP, SACK-permitted: data offset 8.
  const auto seg = segment_with_options({0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x08, 0x01,
                                         0x01, 0x04, 0x02});
  const auto r = tcp_repr::parse(const_bytes{seg}, client, server);
  REQUIRE(r);
  CHECK(r->mss == 1460);
  CHECK(r->window_scale == 8);
  CHECK(r->sack_permitted);
  CHECK_FALSE(r->timestamps);
  // emit() writes them in its own order: MSS, NOP NOP SACK-permitted, NOP window scale.
  const auto out = emit_alone(*r, client, server);
  REQUIRE(out.size() == 32);
  CHECK(std::ranges::equal(const_bytes{out}.subspan(20),
                           make_bytes(0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02, 0x01,
                                      0x03, 0x03, 0x08)));
  CHECK(*tcp_repr::parse(const_bytes{out}, client, server) == *r);
}

TEST_CASE("tcp: every option combination emits a 4-byte multiple and parses back") {
  tcp_repr base;
  base.src_port = 1;
  base.dst_port = 2;
  base.seq = 0x01020304;
  base.ack = 0xa0b0c0d0;
  base.flags = tcp_flags::ack;
  base.window = 1000;
  constexpr auto data = make_bytes('h', 'i', '!');
  base.payload = data;
  for (unsigned mask = 0; mask < 16; ++mask) {
    for (std::uint8_t blocks = 0; blocks <= 4; ++blocks) {
      CAPTURE(mask);
      CAPTURE(static_cast<int>(blocks));
      tcp_repr r = base;
      if (mask & 1U) r.mss = 536;
      if (mask & 2U) r.window_scale = 14;
      if (mask & 4U) r.sack_permitted = true;
      if (mask & 8U) r.timestamps = tcp_timestamps{100, 200};
      r.sack_count = blocks;
      for (std::size_t b = 0; b < blocks; ++b) {
        r.sack_blocks[b] = {static_cast<std::uint32_t>(1000 * b),
                            static_cast<std::uint32_t>(1000 * b + 500)};
      }
      CHECK(r.options_len() % 4 == 0);
      CHECK(r.options_len() <= tcp_max_options_len);
      CHECK(r.emitted_sack_count() <= blocks);
      const auto out = emit_alone(r, client, server);
      CHECK(naive_pseudo_checksum(client, server, ip_protocol::tcp, out) == 0);
      const auto back = tcp_repr::parse(const_bytes{out}, client, server);
      REQUIRE(back);
      tcp_repr expect = r;
      expect.sack_count = static_cast<std::uint8_t>(r.emitted_sack_count());
      CHECK(*back == expect);
    }
  }
  // RFC 2018 3: with timestamps, three blocks still fit; with nothing else, four.
  tcp_repr ts = base;
  ts.timestamps = tcp_timestamps{1, 2};
  ts.sack_count = 4;
  CHECK(ts.emitted_sack_count() == 3);
  CHECK(ts.options_len() == 40);
  tcp_repr bare = base;
  bare.sack_count = 4;
  CHECK(bare.emitted_sack_count() == 4);
  CHECK(bare.options_len() == 36);
}

TEST_CASE("tcp: options the parser skips or stops at") {
  SUBCASE("unknown kinds with a valid length are ignored") {
    // Kind 30 (MPTCP, RFC 8684) length 4, kind 254 (experimental, RFC 6994) length 4.
    const auto seg = segment_with_options({0x1e, 0x04, 0x00, 0x00, 0xfe, 0x04, 0xab, 0xcd,
                                           0x02, 0x04, 0x02, 0x18});
    const auto r = tcp_repr::parse(const_bytes{seg}, client, server);
    REQUIRE(r);
    CHECK(r->mss == 536);
  }
  SUBCASE("End of Option List ends parsing; what follows is padding") {
    const auto seg = segment_with_options({0x02, 0x04, 0x05, 0xb4, 0x00, 0x02, 0x01, 0xff});
    const auto r = tcp_repr::parse(const_bytes{seg}, client, server);
    REQUIRE(r);
    CHECK(r->mss == 1460);
  }
  SUBCASE("window scale above 14 is used as 14 (RFC 7323 2.3)") {
    const auto seg = segment_with_options({0x01, 0x03, 0x03, 0x0f});
    const auto r = tcp_repr::parse(const_bytes{seg}, client, server);
    REQUIRE(r);
    CHECK(r->window_scale == 14);
    tcp_repr big = *r;
    big.window_scale = 200;
    const auto out = emit_alone(big, client, server);
    CHECK(tcp_repr::parse(const_bytes{out}, client, server)->window_scale == 14);
  }
  SUBCASE("all NOPs") {
    const auto seg = segment_with_options({0x01, 0x01, 0x01, 0x01});
    const auto r = tcp_repr::parse(const_bytes{seg}, client, server);
    REQUIRE(r);
    CHECK_FALSE(r->mss);
    CHECK(r->options_len() == 0);
  }
}

TEST_CASE("tcp: malformed options are bad_option") {
  // Missing length byte at the end of the area.
  CHECK(option_error({0x01, 0x01, 0x01, 0x02}) == parse_error::bad_option);
  // Length 0 and length 1 (RFC 9293 3.1: "an illegal option length (e.g., zero)").
  CHECK(option_error({0x02, 0x00, 0x05, 0xb4}) == parse_error::bad_option);
  CHECK(option_error({0x1e, 0x01, 0x00, 0x00}) == parse_error::bad_option);
  // Length past the option area, for a known and an unknown kind.
  CHECK(option_error({0x01, 0x02, 0x04, 0x05}) == parse_error::bad_option);
  CHECK(option_error({0x1e, 0x08, 0x00, 0x00}) == parse_error::bad_option);
  // Wrong lengths for each known kind.
  CHECK(option_error({0x02, 0x03, 0x05, 0x01}) == parse_error::bad_option);  // MSS 3
  CHECK(option_error({0x02, 0x06, 0x05, 0xb4, 0x00, 0x00, 0x01, 0x01}) ==
        parse_error::bad_option);                                             // MSS 6
  CHECK(option_error({0x03, 0x04, 0x07, 0x00}) == parse_error::bad_option);  // WS 4
  CHECK(option_error({0x03, 0x02, 0x01, 0x01}) == parse_error::bad_option);  // WS 2
  CHECK(option_error({0x04, 0x03, 0x00, 0x01}) == parse_error::bad_option);  // SACK-perm 3
  CHECK(option_error({0x08, 0x08, 0, 0, 0, 1, 0, 2}) == parse_error::bad_option);  // TS 8
  CHECK(option_error({0x08, 0x0c, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0}) == parse_error::bad_option);
  // SACK with no block, with a partial block, and with more blocks than fit: five would need
  // 42 bytes, so the length runs past the 40-byte option area.
  CHECK(option_error({0x01, 0x01, 0x05, 0x02}) == parse_error::bad_option);
  CHECK(option_error({0x05, 0x06, 0, 0, 0, 1, 0, 0}) == parse_error::bad_option);
  {
    std::vector<std::byte> seg = segment_of(syn_packet);
    seg.resize(20);
    for (const int o : {0x05, 0x2a}) seg.push_back(static_cast<std::byte>(o));
    for (std::size_t i = 0; i < 38; ++i) seg.push_back(static_cast<std::byte>(i));
    const tcp_packet v{seg};
    v.set_data_offset(15);
    v.fill_checksum(client, server);
    const auto r = tcp_repr::parse(const_bytes{seg}, client, server);
    REQUIRE_FALSE(r);
    CHECK(r.error() == parse_error::bad_option);
  }
  // The same well-formed options parse, so the cases above fail for their option alone.
  CHECK(tcp_repr::parse(const_bytes{segment_with_options({0x05, 0x0a, 0, 0, 0, 1, 0, 0, 0, 2,
                                                          0x01, 0x01})},
                        client, server)
            ->sack_count == 1);
}

TEST_CASE("tcp: length rules") {
  const auto seg = segment_of(get_packet);
  SUBCASE("buffers shorter than 20 bytes are truncated") {
    for (std::size_t n = 0; n < tcp_min_header_len; ++n) {
      CHECK_FALSE(tcp_packet_const::checked(const_bytes{seg}.first(n)));
      const auto r = tcp_repr::parse(const_bytes{seg}.first(n), client, server);
      REQUIRE_FALSE(r);
      CHECK(r.error() == parse_error::truncated);
    }
  }
  SUBCASE("Data Offset below 5 is a bad length") {
    auto bad = seg;
    for (std::uint8_t off = 0; off < 5; ++off) {
      tcp_packet{bad}.set_data_offset(off);
      const auto r = tcp_repr::parse(const_bytes{bad}, client, server, checksum_mode::skip);
      REQUIRE_FALSE(r);
      CHECK(r.error() == parse_error::bad_length);
    }
  }
  SUBCASE("Data Offset past the buffer is truncated") {
    // The 32-byte header of the GET segment cut to 20..31 bytes.
    for (std::size_t n = 20; n < 32; ++n) {
      const auto r = tcp_repr::parse(const_bytes{seg}.first(n), client, server);
      REQUIRE_FALSE(r);
      CHECK(r.error() == parse_error::truncated);
    }
    auto bad = segment_of(syn_packet);
    tcp_packet{bad}.set_data_offset(15);  // 60 bytes in a 40-byte segment
    CHECK(tcp_repr::parse(const_bytes{bad}, client, server).error() == parse_error::truncated);
  }
  SUBCASE("a segment cut inside the payload fails its checksum") {
    const auto r = tcp_repr::parse(const_bytes{seg}.first(seg.size() - 2), client, server);
    REQUIRE_FALSE(r);
    CHECK(r.error() == parse_error::bad_checksum);
  }
}

TEST_CASE("tcp: rejects a bad checksum unless told to skip it") {
  auto seg = segment_of(get_packet);
  for (std::size_t i = 0; i < seg.size(); ++i) {
    if (i == 12) continue;  // Data Offset: other errors
    seg[i] ^= std::byte{0x04};
    const auto r = tcp_repr::parse(const_bytes{seg}, client, server);
    REQUIRE_FALSE_MESSAGE(r, "byte " << i);
    CHECK(r.error() == parse_error::bad_checksum);
    seg[i] ^= std::byte{0x04};
  }
  seg[60] = std::byte{'X'};
  CHECK(tcp_repr::parse(const_bytes{seg}, client, server, checksum_mode::skip));
  // The right bytes under the wrong pseudo-header.
  CHECK(tcp_repr::parse(const_bytes{segment_of(get_packet)}, client, ipv4_address(10, 0, 0, 9))
            .error() == parse_error::bad_checksum);
}

TEST_CASE("tcp: flags") {
  CHECK(static_cast<std::uint8_t>(tcp_flags::fin | tcp_flags::syn | tcp_flags::rst |
                                  tcp_flags::psh | tcp_flags::ack | tcp_flags::urg |
                                  tcp_flags::ece | tcp_flags::cwr) == 0xff);
  CHECK(has(tcp_flags::syn | tcp_flags::ack, tcp_flags::ack));
  CHECK_FALSE(has(tcp_flags::syn, tcp_flags::ack));
  CHECK(((tcp_flags::syn | tcp_flags::ack) & ~tcp_flags::syn) == tcp_flags::ack);
  auto seg = segment_of(syn_ack_packet);
  const tcp_packet v{seg};
  v.set_flags(tcp_flags::fin | tcp_flags::urg | tcp_flags::ece | tcp_flags::cwr);
  CHECK(v.fin());
  CHECK(v.urg());
  CHECK(v.ece());
  CHECK(v.cwr());
  CHECK_FALSE(v.syn());
  CHECK_FALSE(v.rst());
  CHECK_FALSE(v.psh());
  CHECK(get_u8(seg, 13) == 0xe1);
  CHECK(get_u8(seg, 12) == 0xa0);  // the data offset byte is untouched
}

TEST_CASE("tcp: emit in place over the parsed segment and with checksum_mode::skip") {
  auto seg = segment_of(get_packet);
  const auto r = tcp_repr::parse(const_bytes{seg}, client, server);
  REQUIRE(r);
  tcp_repr next = *r;
  next.seq += 34;
  next.timestamps->tsval += 1;
  next.emit(tcp_packet{seg}, client, server);
  CHECK(naive_pseudo_checksum(client, server, ip_protocol::tcp, seg) == 0);
  CHECK(seg[32] == std::byte{'G'});

  // Dropping the timestamps shortens the header; the payload moves down over the options.
  tcp_repr shorter = next;
  shorter.timestamps.reset();
  shorter.payload = const_bytes{seg}.subspan(32);
  REQUIRE(shorter.buffer_len() == 54);
  shorter.emit(tcp_packet{seg}, client, server);
  const auto back = tcp_repr::parse(const_bytes{seg}.first(54), client, server);
  REQUIRE(back);
  CHECK(std::ranges::equal(back->payload, const_bytes{get_packet}.subspan(52)));
  CHECK_FALSE(back->timestamps);

  std::vector<std::byte> out(shorter.buffer_len(), std::byte{0xff});
  shorter.payload = back->payload;
  shorter.emit(tcp_packet{out}, client, server, checksum_mode::skip);
  CHECK(tcp_packet_const{out}.checksum() == 0);
  CHECK(out[20] == std::byte{'G'});
}

TEST_CASE("tcp: RFC 1624 updates of sequence number and port equal a recompute") {
  auto seg = segment_of(get_packet);
  const tcp_packet v{seg};
  std::uint32_t x = 1;
  for (int i = 0; i < 1000; ++i) {
    x = x * 1664525U + 1013904223U;
    std::uint16_t ck = v.checksum();
    if (x & 1U) {
      const std::uint32_t old_seq = v.seq_number();
      v.set_seq_number(x);
      ck = checksum_update_u32(ck, old_seq, x);
    } else {
      const std::uint16_t old_port = v.dst_port();
      v.set_dst_port(static_cast<std::uint16_t>(x >> 16));
      ck = checksum_update_u16(ck, old_port, v.dst_port());
    }
    v.fill_checksum(client, server);
    REQUIRE(ck == v.checksum());
  }
}
