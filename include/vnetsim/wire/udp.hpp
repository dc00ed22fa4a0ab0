#pragma once
/// UDP (RFC 768): ports, length, and the checksum over the IPv4 pseudo-header, the header
/// and the data. A transmitted checksum of 0 means "none"; a computed 0 is sent as 0xFFFF.
/// A view covers the IPv4 payload; bytes past the UDP Length are ignored.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

#include "vnetsim/wire/bytes.hpp"
#include "vnetsim/wire/checksum.hpp"
#include "vnetsim/wire/ipv4.hpp"
#include "vnetsim/wire/parse_result.hpp"

namespace vnetsim::wire {

/// RFC 768 "Format": source port, destination port, length, checksum, 2 bytes each.
inline constexpr std::size_t udp_header_len = 8;
/// The largest payload whose length fits the 16-bit Length field (RFC 768 "Length").
inline constexpr std::size_t udp_max_payload_len = 65535 - udp_header_len;

/// Zero-copy view of a UDP datagram over `B` bytes.
template <byte_type B>
class udp_view {
 public:
  struct field {
    static constexpr std::size_t src_port = 0;
    static constexpr std::size_t dst_port = 2;
    static constexpr std::size_t length = 4;    // header plus data, in octets (RFC 768)
    static constexpr std::size_t checksum = 6;
    static constexpr std::size_t payload = 8;
  };
  static_assert(field::payload == udp_header_len);

  /// Wraps without checking; call check_len() before reading, or use checked().
  constexpr explicit udp_view(std::span<B> buf) noexcept : buf_(buf) {}
  static constexpr std::optional<udp_view> checked(std::span<B> buf) noexcept {
    udp_view v{buf};
    if (!v.check_len()) return std::nullopt;
    return v;
  }
  /// Which length rule the buffer breaks, or nullopt: truncated when the buffer is shorter
  /// than 8 bytes or than Length; bad_length when Length < 8 (RFC 768 "Length": "the
  /// minimum value of the length is eight").
  constexpr std::optional<parse_error> length_error() const noexcept {
    if (buf_.size() < udp_header_len) return parse_error::truncated;
    if (length() < udp_header_len) return parse_error::bad_length;
    if (length() > buf_.size()) return parse_error::truncated;
    return std::nullopt;
  }
  constexpr bool check_len() const noexcept { return !length_error(); }

  constexpr std::uint16_t src_port() const noexcept { return get_u16(buf_, field::src_port); }
  constexpr std::uint16_t dst_port() const noexcept { return get_u16(buf_, field::dst_port); }
  constexpr std::uint16_t length() const noexcept { return get_u16(buf_, field::length); }
  constexpr std::uint16_t checksum() const noexcept { return get_u16(buf_, field::checksum); }
  /// The datagram, 0 .. Length.
  constexpr std::span<B> datagram() const noexcept { return buf_.first(length()); }
  /// The data, 8 .. Length.
  constexpr std::span<B> payload() const noexcept {
    return buf_.subspan(field::payload, std::size_t{length()} - udp_header_len);
  }
  constexpr std::span<B> buffer() const noexcept { return buf_; }

  /// True when the checksum field is 0 ("no checksum", RFC 768) or is correct over the
  /// IPv4 pseudo-header and the datagram.
  bool verify_checksum(ipv4_address src, ipv4_address dst) const noexcept {
    if (checksum() == 0) return true;
    auto acc = ipv4_pseudo_header(src, dst, ip_protocol::udp, length());
    acc.add(datagram());
    return acc.verifies();
  }

  constexpr void set_src_port(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::src_port, v);
  }
  constexpr void set_dst_port(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::dst_port, v);
  }
  constexpr void set_length(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::length, v);
  }
  constexpr void set_checksum(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::checksum, v);
  }
  /// Computes and writes the checksum over the pseudo-header and Length bytes; a result
  /// of 0 is written as 0xFFFF, since 0 means "no checksum" (RFC 768 "Checksum").
  void fill_checksum(ipv4_address src, ipv4_address dst) const noexcept
    requires(!std::is_const_v<B>)
  {
    set_checksum(0);
    auto acc = ipv4_pseudo_header(src, dst, ip_protocol::udp, length());
    acc.add(datagram());
    const std::uint16_t c = acc.checksum();
    set_checksum(c == 0 ? 0xffffU : c);
  }

 private:
  std::span<B> buf_;
};

using udp_packet = udp_view<std::byte>;
using udp_packet_const = udp_view<const std::byte>;

/// The parsed datagram as a value. `payload` points into the parsed (or caller's) buffer
/// and is copied by emit(). Invariant for emit: payload.size() <= udp_max_payload_len.
struct udp_repr {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  const_bytes payload;

  static constexpr std::size_t header_len = udp_header_len;

  /// Parses a checked view; `src`/`dst` are the IPv4 addresses for the pseudo-header.
  /// Errors: bad_checksum when `mode` is full and a non-zero checksum is wrong.
  static parse_result<udp_repr> parse(udp_packet_const v, ipv4_address src, ipv4_address dst,
                                      checksum_mode mode = checksum_mode::full) noexcept;
  /// Parses a buffer: the length errors of udp_view::length_error(), then as above.
  static parse_result<udp_repr> parse(const_bytes buf, ipv4_address src, ipv4_address dst,
                                      checksum_mode mode = checksum_mode::full) noexcept;
  /// Writes header and payload into the first buffer_len() bytes of `v` (which must hold
  /// that many). Fills the checksum when `mode` is full; with skip it writes 0 ("none").
  void emit(udp_packet v, ipv4_address src, ipv4_address dst,
            checksum_mode mode = checksum_mode::full) const noexcept;

  constexpr std::size_t buffer_len() const noexcept { return header_len + payload.size(); }

  friend bool operator==(const udp_repr& a, const udp_repr& b) noexcept {
    return a.src_port == b.src_port && a.dst_port == b.dst_port &&
           std::ranges::equal(a.payload, b.payload);
  }
};

}  // namespace vnetsim::wire
