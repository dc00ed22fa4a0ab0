#pragma once
/// The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement
/// sum of a message taken as big-endian 16-bit words, an odd last byte padded with a zero
/// byte on the right (RFC 1071 section 1, RFC 791 3.1 "Header Checksum").
///
/// Sums are returned as host integers whose value is that of the big-endian word sum, so
/// `put_u16(buf, off, internet_checksum(...))` writes the field. The bulk sum loads native
/// words and swaps once at the end, which RFC 1071 section 2(B) shows gives the same result
/// on either byte order. Also here: a streaming accumulator for pseudo-header + header +
/// payload sums, the RFC 1624 incremental update and the IPv4 pseudo-header sum.

#include <cstddef>
#include <cstdint>

#include "vnetsim/wire/bytes.hpp"

namespace vnetsim::wire {

/// Whether a parser verifies, and an emitter fills, a checksum field. `skip` models a NIC
/// that offloads the checksum: the parser trusts it and the emitter leaves the field alone.
enum class checksum_mode : std::uint8_t { full, skip };

namespace detail {

/// Folds a wide one's complement sum to 16 bits with end-around carries (RFC 1071 4.1).
constexpr std::uint16_t fold(std::uint64_t sum) noexcept {
  sum = (sum & 0xffff'ffffULL) + (sum >> 32);
  sum = (sum & 0xffff'ffffULL) + (sum >> 32);
  sum = (sum & 0xffffU) + (sum >> 16);
  sum = (sum & 0xffffU) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

constexpr std::uint16_t swap16(std::uint16_t v) noexcept {
  return static_cast<std::uint16_t>((v << 8) | (v >> 8));
}

}  // namespace detail

/// One's complement sum of `data` (RFC 1071), folded to 16 bits but not complemented.
/// Any length and alignment; an odd last byte is padded with zero on the right.
/// O(n); the hot loop reads 32 bytes per iteration.
std::uint16_t ones_complement_sum(const_bytes data) noexcept;

/// The Internet checksum of `data`: `~ones_complement_sum(data)` (RFC 1071 section 1).
/// A buffer that already holds its correct checksum gives 0.
inline std::uint16_t internet_checksum(const_bytes data) noexcept {
  return static_cast<std::uint16_t>(~ones_complement_sum(data));
}

/// One's complement 16-bit addition with end-around carry (RFC 1071 section 1).
constexpr std::uint16_t ones_add(std::uint16_t a, std::uint16_t b) noexcept {
  return detail::fold(std::uint32_t{a} + b);
}

/// Streaming one's complement sum over a sequence of byte runs and fields, for checksums
/// that cover a pseudo-header, a header and a payload held in different places.
/// Invariant: the result equals ones_complement_sum() of the concatenation of everything
/// added, in order, however it was split: a run that starts at an odd offset of the whole
/// is byte-swapped before it is added (RFC 1071 section 2(A) and 2(B)).
class checksum_accumulator {
 public:
  constexpr checksum_accumulator() noexcept = default;

  /// Adds a run of bytes that continues the message.
  void add(const_bytes data) noexcept {
    const std::uint16_t s = ones_complement_sum(data);
    sum_ += odd_ ? detail::swap16(s) : s;
    odd_ ^= (data.size() & 1U) != 0;
  }
  /// Adds two bytes, most significant first (as if `put_u16` had written them).
  constexpr void add_u16(std::uint16_t v) noexcept { sum_ += odd_ ? detail::swap16(v) : v; }
  /// Adds four bytes, most significant first.
  constexpr void add_u32(std::uint32_t v) noexcept {
    add_u16(static_cast<std::uint16_t>(v >> 16));
    add_u16(static_cast<std::uint16_t>(v & 0xffffU));
  }

  /// The folded sum of everything added so far.
  constexpr std::uint16_t sum() const noexcept { return detail::fold(sum_); }
  /// The checksum to transmit: the complement of sum().
  constexpr std::uint16_t checksum() const noexcept {
    return static_cast<std::uint16_t>(~sum());
  }
  /// True when the data added included its own checksum field and it is correct: the
  /// sum is all ones (RFC 1071 section 1, "the result will be checked").
  constexpr bool verifies() const noexcept { return sum() == 0xffffU; }

 private:
  std::uint64_t sum_ = 0;  // at most 2^48 additions of 16-bit values before overflow
  bool odd_ = false;       // an odd number of bytes has been added so far
};

/// Incremental update of checksum `hc` when a 16-bit field changes from `old_value` to
/// `new_value`: RFC 1624 section 3, eqn. 3, HC' = ~(~HC + ~m + m'). Equals a full
/// recompute for any header whose bytes are not all zero (RFC 1624 section 5).
constexpr std::uint16_t checksum_update_u16(std::uint16_t hc, std::uint16_t old_value,
                                            std::uint16_t new_value) noexcept {
  const std::uint32_t sum = std::uint32_t{static_cast<std::uint16_t>(~hc)} +
                            std::uint32_t{static_cast<std::uint16_t>(~old_value)} + new_value;
  return static_cast<std::uint16_t>(~detail::fold(sum));
}

/// Incremental update for a 32-bit field at an even offset (an IPv4 address, a TCP
/// sequence number): RFC 1624 eqn. 3 applied to both 16-bit halves at once.
constexpr std::uint16_t checksum_update_u32(std::uint16_t hc, std::uint32_t old_value,
                                            std::uint32_t new_value) noexcept {
  const auto hi = [](std::uint32_t v) { return static_cast<std::uint16_t>(v >> 16); };
  const auto lo = [](std::uint32_t v) { return static_cast<std::uint16_t>(v & 0xffffU); };
  const std::uint32_t sum = std::uint32_t{static_cast<std::uint16_t>(~hc)} +
                            std::uint32_t{static_cast<std::uint16_t>(~hi(old_value))} +
                            std::uint32_t{static_cast<std::uint16_t>(~lo(old_value))} +
                            hi(new_value) + lo(new_value);
  return static_cast<std::uint16_t>(~detail::fold(sum));
}

/// An accumulator holding the IPv4 pseudo-header of a TCP or UDP checksum (RFC 768
/// "Fields"; RFC 9293 3.1 "Checksum"): source and destination address (host-order
/// values), a zero byte, the protocol number and the TCP/UDP length in bytes (header plus
/// data; the pseudo-header itself is not counted). Add the segment to it next.
constexpr checksum_accumulator ipv4_pseudo_header(std::uint32_t src, std::uint32_t dst,
                                                  std::uint8_t protocol,
                                                  std::uint16_t length) noexcept {
  checksum_accumulator acc;
  acc.add_u32(src);
  acc.add_u32(dst);
  acc.add_u16(protocol);  // zero byte, then the protocol byte
  acc.add_u16(length);
  return acc;
}

}  // namespace vnetsim::wire
