#include "vnetsim/wire/checksum.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

using namespace vnetsim::wire;

namespace {

/// The textbook RFC 1071 sum: big-endian 16-bit words, 32-bit accumulator, fold at the end.
std::uint16_t naive_sum(const_bytes b) {
  std::uint32_t s = 0;
  for (std::size_t i = 0; i + 1 < b.size(); i += 2) {
    s += (static_cast<std::uint32_t>(b[i]) << 8) | static_cast<std::uint32_t>(b[i + 1]);
    s = (s & 0xffffU) + (s >> 16);
  }
  if (b.size() % 2 == 1) {
    s += static_cast<std::uint32_t>(b[b.size() - 1]) << 8;
    s = (s & 0xffffU) + (s >> 16);
  }
  s = (s & 0xffffU) + (s >> 16);
  return static_cast<std::uint16_t>(s);
}

/// A fixed linear congruential generator (Numerical Recipes constants), for repeatable
/// "random" data without <random> distributions.
struct lcg {
  std::uint32_t state;
  std::uint32_t next() {
    state = state * 1664525U + 1013904223U;
    return state;
  }
  std::uint8_t byte() { return static_cast<std::uint8_t>(next() >> 24); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(next() >> 16); }
};

// The IPv4 header example (RFC 791 layout; a UDP datagram 192.168.0.1 -> 192.168.0.199).
constexpr auto ipv4_example = make_bytes(0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40,
                                         0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8,
                                         0x00, 0xc7);

}  // namespace

TEST_CASE("checksum: RFC 1071 section 3 numerical example") {
  // RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 (with carries 2 folded).
  constexpr auto data = make_bytes(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
  CHECK(ones_complement_sum(data) == 0xddf2);
  CHECK(internet_checksum(data) == 0x220d);
  CHECK(naive_sum(data) == 0xddf2);
}

TEST_CASE("checksum: IPv4 header example gives 0xb861") {
  auto h = ipv4_example;
  CHECK(internet_checksum(h) == 0);  // a correct header sums to all ones
  h[10] = std::byte{0};
  h[11] = std::byte{0};
  CHECK(internet_checksum(h) == 0xb861);
  CHECK(static_cast<std::uint16_t>(~naive_sum(h)) == 0xb861);
}

TEST_CASE("checksum: empty, odd length and padding on the right") {
  CHECK(ones_complement_sum({}) == 0);
  CHECK(internet_checksum({}) == 0xffff);
  constexpr auto one = make_bytes(0xab);
  CHECK(ones_complement_sum(one) == 0xab00);  // RFC 1071: the odd byte is the high byte
  constexpr auto three = make_bytes(0x12, 0x34, 0x56);
  CHECK(ones_complement_sum(three) == 0x6834);  // 0x1234 + 0x5600
}

TEST_CASE("checksum: matches the naive sum for every length 0..300 at every alignment") {
  lcg rng{12345};
  std::vector<std::byte> buf(300 + 8);
  for (auto& b : buf) b = std::byte{rng.byte()};
  for (std::size_t off = 0; off < 8; ++off) {
    for (std::size_t len = 0; len <= 300; ++len) {
      const const_bytes s{buf.data() + off, len};
      REQUIRE_MESSAGE(ones_complement_sum(s) == naive_sum(s), "off=" << off << " len=" << len);
    }
  }
}

TEST_CASE("checksum: carries on large all-ones and near-ones buffers") {
  for (const std::size_t len : {64U, 1500U, 9000U, 65535U, 65536U}) {
    std::vector<std::byte> ff(len, std::byte{0xff});
    CHECK(ones_complement_sum(ff) == naive_sum(ff));
    std::vector<std::byte> fe(len, std::byte{0xfe});
    CHECK(ones_complement_sum(fe) == naive_sum(fe));
    std::vector<std::byte> alt(len);
    for (std::size_t i = 0; i < len; ++i) alt[i] = static_cast<std::byte>(i % 2 == 0 ? 0xff : 0x01);
    CHECK(ones_complement_sum(alt) == naive_sum(alt));
  }
}

TEST_CASE("checksum: accumulator equals the one-shot sum however the message is split") {
  lcg rng{777};
  std::array<std::byte, 97> msg{};
  for (auto& b : msg) b = std::byte{rng.byte()};
  const std::uint16_t whole = ones_complement_sum(msg);
  for (std::size_t a = 0; a <= msg.size(); ++a) {
    for (std::size_t b = a; b <= msg.size(); b += 7) {
      checksum_accumulator acc;
      acc.add(const_bytes{msg}.subspan(0, a));
      acc.add(const_bytes{msg}.subspan(a, b - a));
      acc.add(const_bytes{msg}.subspan(b));
      REQUIRE_MESSAGE(acc.sum() == whole, "split at " << a << "," << b);
    }
  }
}

TEST_CASE("checksum: accumulator add_u16/add_u32 are the same as adding their bytes") {
  // After an odd number of bytes, so the swap path is taken too.
  for (const std::size_t lead : {0U, 1U, 2U, 3U}) {
    std::array<std::byte, 9> bytes_form{};
    for (std::size_t i = 0; i < lead; ++i) bytes_form[i] = std::byte{0x5a};
    const std::array<std::uint8_t, 6> fields{0xc0, 0xa8, 0x00, 0x01, 0xbe, 0xef};
    for (std::size_t i = 0; i < 6; ++i) bytes_form[lead + i] = std::byte{fields[i]};
    checksum_accumulator by_bytes;
    by_bytes.add(const_bytes{bytes_form}.first(lead + 6));
    checksum_accumulator by_fields;
    by_fields.add(const_bytes{bytes_form}.first(lead));
    by_fields.add_u32(0xc0a80001U);
    by_fields.add_u16(0xbeef);
    CHECK(by_fields.sum() == by_bytes.sum());
    CHECK(by_fields.sum() == naive_sum(const_bytes{bytes_form}.first(lead + 6)));
  }
}

TEST_CASE("checksum: accumulator verifies() a message that carries its own checksum") {
  auto h = ipv4_example;
  checksum_accumulator ok;
  ok.add(h);
  CHECK(ok.verifies());
  h[8] = std::byte{0x3f};  // TTL 64 -> 63 without fixing the checksum
  checksum_accumulator bad;
  bad.add(h);
  CHECK_FALSE(bad.verifies());
}

TEST_CASE("checksum: IPv4 pseudo-header sum equals the 12 pseudo-header bytes") {
  // RFC 768 / RFC 9293 3.1: src, dst, zero, protocol, length.
  constexpr auto ph = make_bytes(0x0a, 0x00, 0x00, 0x01, 0xc0, 0xa8, 0x01, 0xfe, 0x00, 0x06,
                                 0x05, 0xdc);
  const auto acc = ipv4_pseudo_header(0x0a000001U, 0xc0a801feU, 6, 1500);
  CHECK(acc.sum() == naive_sum(ph));
  CHECK(acc.sum() == ones_complement_sum(ph));
}

TEST_CASE("checksum: RFC 1624 section 4 example, eqn. 3 gives 0x0000 not 0xffff") {
  // HC = 0xdd2f, m = 0x5555, m' = 0x3285: ~(0x22d0 + 0xaaaa + 0x3285) = ~0xffff = 0x0000.
  CHECK(checksum_update_u16(0xdd2f, 0x5555, 0x3285) == 0x0000);
}

TEST_CASE("checksum: RFC 1624 incremental update equals a full recompute") {
  lcg rng{2024};
  std::array<std::byte, 40> hdr{};  // an IPv4 header with options, say
  for (int round = 0; round < 2000; ++round) {
    for (auto& b : hdr) b = std::byte{rng.byte()};
    hdr[0] = std::byte{0x4a};  // never all zero (RFC 1624 5)
    const std::size_t ck = 10;
    put_u16(hdr, ck, 0);
    put_u16(hdr, ck, internet_checksum(hdr));
    REQUIRE(internet_checksum(hdr) == 0);
    for (int change = 0; change < 8; ++change) {
      const std::uint16_t hc = get_u16(hdr, ck);
      std::uint16_t incremental = 0;
      if (rng.next() % 2 == 0) {
        // A 16-bit field at an even offset other than the checksum.
        std::size_t off = (rng.next() % 20) * 2;
        if (off == ck) off = 0;
        const std::uint16_t old_v = get_u16(hdr, off);
        // Bias towards the edge values 0x0000 and 0xffff now and then.
        const std::uint32_t pick = rng.next() % 8;
        const std::uint16_t new_v = pick == 0 ? 0x0000 : pick == 1 ? 0xffff : rng.u16();
        put_u16(hdr, off, new_v);
        incremental = checksum_update_u16(hc, old_v, new_v);
      } else {
        // A 32-bit field at offset 12 or 16 (an address) or 24..36 (options).
        const std::array<std::size_t, 6> offs{12, 16, 24, 28, 32, 36};
        const std::size_t off = offs[rng.next() % offs.size()];
        const std::uint32_t old_v = get_u32(hdr, off);
        const std::uint32_t new_v = rng.next();
        put_u32(hdr, off, new_v);
        incremental = checksum_update_u32(hc, old_v, new_v);
      }
      put_u16(hdr, ck, 0);
      const std::uint16_t full = internet_checksum(hdr);
      REQUIRE_MESSAGE(incremental == full, "round " << round << " change " << change);
      put_u16(hdr, ck, incremental);
    }
  }
}

TEST_CASE("checksum: incremental update for the classic TTL decrement") {
  // A router decrements TTL (RFC 1624 section 1; the TTL/protocol word 0x4011 -> 0x3f11).
  auto h = ipv4_example;
  const std::uint16_t hc = get_u16(h, 10);
  const std::uint16_t old_word = get_u16(h, 8);
  put_u8(h, 8, 0x3f);
  const std::uint16_t updated = checksum_update_u16(hc, old_word, get_u16(h, 8));
  CHECK(updated == 0xb961);
  put_u16(h, 10, 0);
  CHECK(internet_checksum(h) == updated);
}

TEST_CASE("checksum: ones_add and fold do end-around carry") {
  CHECK(ones_add(0xffff, 0x0001) == 0x0001);
  CHECK(ones_add(0x8000, 0x8000) == 0x0001);
  CHECK(ones_add(0x1234, 0x0000) == 0x1234);
  CHECK(detail::fold(0x1'0000'0000ULL) == 0x0001);
  CHECK(detail::fold(0xffff'ffff'ffff'ffffULL) == 0xffff);
}
