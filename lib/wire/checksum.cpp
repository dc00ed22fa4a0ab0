#include "vnetsim/wire/checksum.hpp"

#include <bit>
#include <cstring>

namespace vnetsim::wire {

namespace {

/// Loads 8 bytes in native order; memcpy makes any alignment legal and compiles to one load.
inline std::uint64_t load_u64(const std::byte* p) noexcept {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

inline std::uint32_t load_u32(const std::byte* p) noexcept {
  std::uint32_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

inline std::uint16_t load_u16(const std::byte* p) noexcept {
  std::uint16_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

}  // namespace

std::uint16_t ones_complement_sum(const_bytes data) noexcept {
  // RFC 1071 2(B): add native-order words and swap the folded result once, since the sum
  // of byte-swapped words is the byte-swapped sum. RFC 1071 2(C) and 2(D): add 64-bit
  // words and count the carries out of bit 63 instead of folding them at once; each is
  // worth 2^64, and 2^64 = 1 modulo 2^16 - 1, so the count is added back in when folding.
  const std::byte* p = data.data();
  std::size_t n = data.size();
  std::uint64_t a0 = 0;
  std::uint64_t a1 = 0;
  std::uint64_t a2 = 0;
  std::uint64_t a3 = 0;
  std::uint64_t carries = 0;
  // Four independent lanes so the adds and carry compares overlap.
  while (n >= 32) {
    const std::uint64_t w0 = load_u64(p);
    const std::uint64_t w1 = load_u64(p + 8);
    const std::uint64_t w2 = load_u64(p + 16);
    const std::uint64_t w3 = load_u64(p + 24);
    a0 += w0;
    carries += a0 < w0;
    a1 += w1;
    carries += a1 < w1;
    a2 += w2;
    carries += a2 < w2;
    a3 += w3;
    carries += a3 < w3;
    p += 32;
    n -= 32;
  }
  std::uint64_t sum = 0;
  const auto add = [&sum, &carries](std::uint64_t w) noexcept {
    sum += w;
    carries += sum < w;
  };
  add(a0);
  add(a1);
  add(a2);
  add(a3);
  while (n >= 8) {
    add(load_u64(p));
    p += 8;
    n -= 8;
  }
  // The tail, under 8 bytes, without a variable-length memcpy. Where a narrower word lands
  // in the 64-bit sum does not matter: every 16-bit lane is folded in the end, and the bytes
  // keep their native order within each lane (RFC 1071 2(B)).
  if ((n & 4) != 0) {
    add(load_u32(p));
    p += 4;
  }
  if ((n & 2) != 0) {
    add(load_u16(p));
    p += 2;
  }
  if ((n & 1) != 0) {
    // An odd last byte is the high-order byte of a big-endian word padded with zero on the
    // right (RFC 1071 section 1): the low-order byte of a native little-endian word.
    const auto last = static_cast<std::uint64_t>(*p);
    add(std::endian::native == std::endian::little ? last : last << 8);
  }
  const std::uint16_t folded =
      detail::fold((sum & 0xffff'ffffULL) + (sum >> 32) + carries);
  if constexpr (std::endian::native == std::endian::little) return detail::swap16(folded);
  return folded;
}

}  // namespace vnetsim::wire
