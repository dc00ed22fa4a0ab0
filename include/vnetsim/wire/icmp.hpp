#pragma once
/// ICMP for IPv4 (RFC 792): echo request and reply in full; destination unreachable and
/// time exceeded recognised with their codes and the invoking datagram kept as bytes.
/// A view covers the whole ICMP message, i.e. exactly the IPv4 payload: the checksum
/// covers every byte of it (RFC 792 "Checksum").

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>

#include "vnetsim/wire/bytes.hpp"
#include "vnetsim/wire/checksum.hpp"
#include "vnetsim/wire/parse_result.hpp"

namespace vnetsim::wire {

/// ICMP message types (RFC 792; IANA "ICMP Type Numbers"). Only the four marked "modelled"
/// have a repr; the others are recognised so that a parse can say `unsupported`.
enum class icmp_type : std::uint8_t {
  echo_reply = 0,         // RFC 792 "Echo or Echo Reply Message" (modelled)
  dst_unreachable = 3,    // RFC 792 "Destination Unreachable Message" (modelled)
  source_quench = 4,      // RFC 792; deprecated by RFC 6633
  redirect = 5,           // RFC 792 "Redirect Message"
  echo_request = 8,       // RFC 792 (modelled)
  time_exceeded = 11,     // RFC 792 "Time Exceeded Message" (modelled)
  parameter_problem = 12, // RFC 792 "Parameter Problem Message"
  timestamp = 13,         // RFC 792 "Timestamp or Timestamp Reply Message"
  timestamp_reply = 14,   // RFC 792
  info_request = 15,      // RFC 792 "Information Request or Information Reply Message"
  info_reply = 16,        // RFC 792
};

/// Destination unreachable codes: 0-5 RFC 792, 6-12 RFC 1122 3.2.2.1, 13-15 RFC 1812 5.2.7.1.
enum class icmp_unreachable : std::uint8_t {
  net_unreachable = 0,
  host_unreachable = 1,
  protocol_unreachable = 2,
  port_unreachable = 3,
  frag_needed = 4,  // "fragmentation needed and DF set"; carries the next-hop MTU (RFC 1191 4)
  src_route_failed = 5,
  dst_net_unknown = 6,
  dst_host_unknown = 7,
  src_host_isolated = 8,
  net_prohibited = 9,
  host_prohibited = 10,
  net_unreachable_tos = 11,
  host_unreachable_tos = 12,
  comm_prohibited = 13,
  host_precedence_violation = 14,
  precedence_cutoff = 15,
};
inline constexpr std::uint8_t icmp_unreachable_max_code = 15;  // RFC 1812 5.2.7.1

/// Time exceeded codes (RFC 792 "Time Exceeded Message").
enum class icmp_time_exceeded : std::uint8_t {
  ttl_exceeded = 0,     // "time to live exceeded in transit"
  frag_reassembly = 1,  // "fragment reassembly time exceeded"
};
inline constexpr std::uint8_t icmp_time_exceeded_max_code = 1;  // RFC 792

/// The fixed part of every ICMP message: type, code, checksum and 4 type-specific bytes
/// (RFC 792: identifier and sequence number for echo; unused, or the RFC 1191 next-hop MTU,
/// for errors).
inline constexpr std::size_t icmp_header_len = 8;

/// Zero-copy view of an ICMP message over `B` bytes; the buffer is the whole message.
template <byte_type B>
class icmp_view {
 public:
  struct field {
    static constexpr std::size_t type = 0;
    static constexpr std::size_t code = 1;
    static constexpr std::size_t checksum = 2;
    static constexpr std::size_t echo_ident = 4;     // RFC 792 echo "Identifier"
    static constexpr std::size_t echo_seq = 6;       // RFC 792 echo "Sequence Number"
    static constexpr std::size_t unused = 4;         // RFC 792 error messages
    static constexpr std::size_t next_hop_mtu = 6;   // RFC 1191 section 4, code 4 only
    static constexpr std::size_t data = 8;
  };
  static_assert(field::data == icmp_header_len);

  /// Wraps without checking; call check_len() before reading, or use checked().
  constexpr explicit icmp_view(std::span<B> buf) noexcept : buf_(buf) {}
  static constexpr std::optional<icmp_view> checked(std::span<B> buf) noexcept {
    icmp_view v{buf};
    if (!v.check_len()) return std::nullopt;
    return v;
  }
  constexpr bool check_len() const noexcept { return buf_.size() >= icmp_header_len; }

  constexpr std::uint8_t msg_type() const noexcept { return get_u8(buf_, field::type); }
  constexpr std::uint8_t code() const noexcept { return get_u8(buf_, field::code); }
  constexpr std::uint16_t checksum() const noexcept { return get_u16(buf_, field::checksum); }
  constexpr std::uint16_t echo_ident() const noexcept { return get_u16(buf_, field::echo_ident); }
  constexpr std::uint16_t echo_seq() const noexcept { return get_u16(buf_, field::echo_seq); }
  constexpr std::uint16_t next_hop_mtu() const noexcept {
    return get_u16(buf_, field::next_hop_mtu);
  }
  /// Echo data, or for an error message the invoking datagram's header and first 64 bits.
  constexpr std::span<B> data() const noexcept { return buf_.subspan(field::data); }
  constexpr std::span<B> buffer() const noexcept { return buf_; }

  /// True when the checksum over the whole message is correct (RFC 792 "Checksum").
  bool verify_checksum() const noexcept { return internet_checksum(buf_) == 0; }

  constexpr void set_msg_type(std::uint8_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u8(buf_, field::type, v);
  }
  constexpr void set_code(std::uint8_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u8(buf_, field::code, v);
  }
  constexpr void set_checksum(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::checksum, v);
  }
  constexpr void set_echo_ident(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::echo_ident, v);
  }
  constexpr void set_echo_seq(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::echo_seq, v);
  }
  /// Zeroes the 4 type-specific bytes (RFC 792 "unused").
  constexpr void clear_rest_of_header() const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u32(buf_, field::unused, 0);
  }
  constexpr void set_next_hop_mtu(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::next_hop_mtu, v);
  }
  /// Computes and writes the checksum over the whole buffer, the field taken as zero.
  void fill_checksum() const noexcept
    requires(!std::is_const_v<B>)
  {
    set_checksum(0);
    set_checksum(internet_checksum(buf_));
  }

 private:
  std::span<B> buf_;
};

using icmp_packet = icmp_view<std::byte>;
using icmp_packet_const = icmp_view<const std::byte>;

/// A parsed echo request, echo reply, destination unreachable or time exceeded message.
/// `ident` and `seq` are meaningful for echo only, `next_hop_mtu` for destination
/// unreachable only (non-zero for code 4, RFC 1191 4). `data` points into the parsed (or
/// caller's) buffer: echo data, or for errors the invoking IP header plus at least 64 bits
/// of its data (RFC 792, RFC 1812 4.3.2.3 allows more).
struct icmp_repr {
  icmp_type type = icmp_type::echo_request;
  std::uint8_t code = 0;
  std::uint16_t ident = 0;
  std::uint16_t seq = 0;
  std::uint16_t next_hop_mtu = 0;
  const_bytes data;

  static constexpr icmp_repr echo_request(std::uint16_t ident, std::uint16_t seq,
                                          const_bytes data) noexcept {
    return {icmp_type::echo_request, 0, ident, seq, 0, data};
  }
  static constexpr icmp_repr echo_reply(std::uint16_t ident, std::uint16_t seq,
                                        const_bytes data) noexcept {
    return {icmp_type::echo_reply, 0, ident, seq, 0, data};
  }
  static constexpr icmp_repr dst_unreachable(icmp_unreachable code, const_bytes invoking,
                                             std::uint16_t next_hop_mtu = 0) noexcept {
    return {icmp_type::dst_unreachable, static_cast<std::uint8_t>(code), 0, 0, next_hop_mtu,
            invoking};
  }
  static constexpr icmp_repr time_exceeded(icmp_time_exceeded code,
                                           const_bytes invoking) noexcept {
    return {icmp_type::time_exceeded, static_cast<std::uint8_t>(code), 0, 0, 0, invoking};
  }

  /// Parses a checked view. Errors: bad_checksum when `mode` is full and the checksum is
  /// wrong; unsupported for an RFC 792 type that has no repr here; bad_type for any other
  /// type, a non-zero echo code, or a code past the last one defined for its type.
  static parse_result<icmp_repr> parse(icmp_packet_const v,
                                       checksum_mode mode = checksum_mode::full) noexcept;
  /// Parses a buffer: truncated when shorter than 8 bytes, then as above.
  static parse_result<icmp_repr> parse(const_bytes buf,
                                       checksum_mode mode = checksum_mode::full) noexcept;
  /// Writes the message into the first buffer_len() bytes of `v` (which must hold that
  /// many) and copies `data`. Fills the checksum, or writes 0 when `mode` is skip.
  void emit(icmp_packet v, checksum_mode mode = checksum_mode::full) const noexcept;

  constexpr bool is_echo() const noexcept {
    return type == icmp_type::echo_request || type == icmp_type::echo_reply;
  }
  constexpr std::size_t buffer_len() const noexcept { return icmp_header_len + data.size(); }

  friend bool operator==(const icmp_repr& a, const icmp_repr& b) noexcept {
    return a.type == b.type && a.code == b.code && a.ident == b.ident && a.seq == b.seq &&
           a.next_hop_mtu == b.next_hop_mtu && std::ranges::equal(a.data, b.data);
  }
};

}  // namespace vnetsim::wire
