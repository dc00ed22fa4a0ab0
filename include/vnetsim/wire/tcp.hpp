#pragma once
/// TCP segment header (RFC 9293 section 3.1) with the checksum over the IPv4 pseudo-header,
/// and the options vnetsim's endpoints use: MSS (RFC 9293 3.2), window scale and timestamps
/// (RFC 7323), SACK-permitted and SACK (RFC 2018), NOP and End of Option List.
/// A view covers the whole segment, i.e. exactly the IPv4 payload: TCP has no length field
/// and the checksum covers every byte (RFC 9293 3.1 "Checksum").

#include <algorithm>
#include <array>
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

/// Header facts, RFC 9293 section 3.1 "Data Offset" and "Options".
inline constexpr std::size_t tcp_min_header_len = 20;   // Data Offset minimum 5 words
inline constexpr std::size_t tcp_max_header_len = 60;   // Data Offset maximum 15 words
inline constexpr std::size_t tcp_max_options_len = 40;  // 60 - 20

/// Control bits (RFC 9293 3.1; ECE and CWR from RFC 3168 section 6.1), in the low byte
/// of the 16-bit word at offset 12. Combine with `|`, test with has().
enum class tcp_flags : std::uint8_t {
  none = 0,
  fin = 0x01,
  syn = 0x02,
  rst = 0x04,
  psh = 0x08,
  ack = 0x10,
  urg = 0x20,
  ece = 0x40,
  cwr = 0x80,
};
constexpr tcp_flags operator|(tcp_flags a, tcp_flags b) noexcept {
  return static_cast<tcp_flags>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}
constexpr tcp_flags operator&(tcp_flags a, tcp_flags b) noexcept {
  return static_cast<tcp_flags>(static_cast<std::uint8_t>(a) & static_cast<std::uint8_t>(b));
}
constexpr tcp_flags operator~(tcp_flags a) noexcept {
  return static_cast<tcp_flags>(static_cast<std::uint8_t>(~static_cast<std::uint8_t>(a)));
}
/// True when every flag in `f` is set in `set`.
constexpr bool has(tcp_flags set, tcp_flags f) noexcept { return (set & f) == f; }

/// Option kinds and lengths (RFC 9293 3.2 table "Mandatory Option Set"; RFC 7323 2.2 and
/// 3.2; RFC 2018 2 and 3).
namespace tcp_option {
inline constexpr std::uint8_t eol = 0;              // End of Option List, RFC 9293 3.2
inline constexpr std::uint8_t nop = 1;              // No-Operation, RFC 9293 3.2
inline constexpr std::uint8_t mss = 2;              // Maximum Segment Size, RFC 9293 3.2
inline constexpr std::uint8_t window_scale = 3;     // RFC 7323 2.2
inline constexpr std::uint8_t sack_permitted = 4;   // RFC 2018 2
inline constexpr std::uint8_t sack = 5;             // RFC 2018 3
inline constexpr std::uint8_t timestamps = 8;       // RFC 7323 3.2
inline constexpr std::uint8_t mss_len = 4;             // RFC 9293 3.2
inline constexpr std::uint8_t window_scale_len = 3;    // RFC 7323 2.2
inline constexpr std::uint8_t sack_permitted_len = 2;  // RFC 2018 2
inline constexpr std::uint8_t timestamps_len = 10;     // RFC 7323 3.2
inline constexpr std::uint8_t sack_block_len = 8;      // left and right edge, RFC 2018 3
/// "Shift.cnt" ceiling: a larger received value is used as 14 (RFC 7323 2.3).
inline constexpr std::uint8_t max_window_scale = 14;
/// At most 4 blocks fit the 40 option bytes (RFC 2018 3: 2 + 4 * 8 = 34).
inline constexpr std::size_t max_sack_blocks = 4;
}  // namespace tcp_option

/// Zero-copy view of a TCP segment over `B` bytes.
template <byte_type B>
class tcp_view {
 public:
  /// RFC 9293 section 3.1 layout.
  struct field {
    static constexpr std::size_t src_port = 0;
    static constexpr std::size_t dst_port = 2;
    static constexpr std::size_t seq = 4;
    static constexpr std::size_t ack = 8;
    static constexpr std::size_t data_offset = 12;  // Data Offset (4 bits), Rsrvd (4 bits)
    static constexpr std::size_t flags = 13;        // CWR ECE URG ACK PSH RST SYN FIN
    static constexpr std::size_t window = 14;
    static constexpr std::size_t checksum = 16;
    static constexpr std::size_t urgent = 18;
    static constexpr std::size_t options = 20;
  };
  static_assert(field::options == tcp_min_header_len);

  /// Wraps without checking; call check_len() before reading, or use checked().
  constexpr explicit tcp_view(std::span<B> buf) noexcept : buf_(buf) {}
  static constexpr std::optional<tcp_view> checked(std::span<B> buf) noexcept {
    tcp_view v{buf};
    if (!v.check_len()) return std::nullopt;
    return v;
  }
  /// Which length rule the buffer breaks, or nullopt: truncated when the buffer is shorter
  /// than 20 bytes or than Data Offset * 4; bad_length when Data Offset < 5 (RFC 9293 3.1).
  constexpr std::optional<parse_error> length_error() const noexcept {
    if (buf_.size() < tcp_min_header_len) return parse_error::truncated;
    if (header_len() < tcp_min_header_len) return parse_error::bad_length;
    if (header_len() > buf_.size()) return parse_error::truncated;
    return std::nullopt;
  }
  constexpr bool check_len() const noexcept { return !length_error(); }

  constexpr std::uint16_t src_port() const noexcept { return get_u16(buf_, field::src_port); }
  constexpr std::uint16_t dst_port() const noexcept { return get_u16(buf_, field::dst_port); }
  constexpr std::uint32_t seq_number() const noexcept { return get_u32(buf_, field::seq); }
  constexpr std::uint32_t ack_number() const noexcept { return get_u32(buf_, field::ack); }
  /// Data Offset in 32-bit words.
  constexpr std::uint8_t data_offset() const noexcept {
    return get_u8(buf_, field::data_offset) >> 4;
  }
  constexpr std::size_t header_len() const noexcept { return std::size_t{data_offset()} * 4; }
  /// The 4 reserved bits (RFC 9293 3.1 "Rsrvd": must be zero when sent, ignored on receipt).
  constexpr std::uint8_t reserved() const noexcept {
    return get_u8(buf_, field::data_offset) & 0x0f;
  }
  constexpr tcp_flags flags() const noexcept {
    return static_cast<tcp_flags>(get_u8(buf_, field::flags));
  }
  constexpr bool fin() const noexcept { return has(flags(), tcp_flags::fin); }
  constexpr bool syn() const noexcept { return has(flags(), tcp_flags::syn); }
  constexpr bool rst() const noexcept { return has(flags(), tcp_flags::rst); }
  constexpr bool psh() const noexcept { return has(flags(), tcp_flags::psh); }
  constexpr bool ack() const noexcept { return has(flags(), tcp_flags::ack); }
  constexpr bool urg() const noexcept { return has(flags(), tcp_flags::urg); }
  constexpr bool ece() const noexcept { return has(flags(), tcp_flags::ece); }
  constexpr bool cwr() const noexcept { return has(flags(), tcp_flags::cwr); }
  constexpr std::uint16_t window() const noexcept { return get_u16(buf_, field::window); }
  constexpr std::uint16_t checksum() const noexcept { return get_u16(buf_, field::checksum); }
  constexpr std::uint16_t urgent_pointer() const noexcept { return get_u16(buf_, field::urgent); }
  /// The option bytes, 20 .. Data Offset * 4.
  constexpr std::span<B> options() const noexcept {
    return buf_.subspan(field::options, header_len() - field::options);
  }
  /// The data, Data Offset * 4 .. end of buffer.
  constexpr std::span<B> payload() const noexcept { return buf_.subspan(header_len()); }
  constexpr std::span<B> buffer() const noexcept { return buf_; }

  /// True when the checksum over the IPv4 pseudo-header and the whole buffer is correct
  /// (RFC 9293 3.1 "Checksum"; the TCP length is the buffer size).
  bool verify_checksum(ipv4_address src, ipv4_address dst) const noexcept {
    auto acc = ipv4_pseudo_header(src, dst, ip_protocol::tcp,
                                  static_cast<std::uint16_t>(buf_.size()));
    acc.add(buf_);
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
  constexpr void set_seq_number(std::uint32_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u32(buf_, field::seq, v);
  }
  constexpr void set_ack_number(std::uint32_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u32(buf_, field::ack, v);
  }
  /// Writes Data Offset (in words) with the reserved bits zero.
  constexpr void set_data_offset(std::uint8_t words) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u8(buf_, field::data_offset, static_cast<std::uint8_t>(words << 4));
  }
  constexpr void set_flags(tcp_flags f) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u8(buf_, field::flags, static_cast<std::uint8_t>(f));
  }
  constexpr void set_window(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::window, v);
  }
  constexpr void set_checksum(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::checksum, v);
  }
  constexpr void set_urgent_pointer(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::urgent, v);
  }
  /// Computes and writes the checksum over the pseudo-header and the whole buffer.
  void fill_checksum(ipv4_address src, ipv4_address dst) const noexcept
    requires(!std::is_const_v<B>)
  {
    set_checksum(0);
    auto acc = ipv4_pseudo_header(src, dst, ip_protocol::tcp,
                                  static_cast<std::uint16_t>(buf_.size()));
    acc.add(buf_);
    set_checksum(acc.checksum());
  }

 private:
  std::span<B> buf_;
};

using tcp_packet = tcp_view<std::byte>;
using tcp_packet_const = tcp_view<const std::byte>;

/// One SACK block: the first sequence number of a received block and the one after its
/// last (RFC 2018 3 "Left Edge", "Right Edge").
struct tcp_sack_block {
  std::uint32_t left = 0;
  std::uint32_t right = 0;
  friend constexpr bool operator==(const tcp_sack_block&, const tcp_sack_block&) noexcept =
      default;
};

/// TSval and TSecr (RFC 7323 3.2).
struct tcp_timestamps {
  std::uint32_t tsval = 0;
  std::uint32_t tsecr = 0;
  friend constexpr bool operator==(const tcp_timestamps&, const tcp_timestamps&) noexcept =
      default;
};

/// The parsed segment as a value, options in fixed-size fields (no allocation). `window` is
/// the raw field, unscaled. `payload` points into the parsed (or caller's) buffer and is
/// copied by emit(). Invariant: sack_count <= 4; window_scale <= 14.
struct tcp_repr {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  tcp_flags flags = tcp_flags::none;
  std::uint16_t window = 0;
  std::uint16_t urgent_pointer = 0;
  std::optional<std::uint16_t> mss;           // RFC 9293 3.2, kind 2
  std::optional<std::uint8_t> window_scale;   // RFC 7323 2.2, kind 3
  bool sack_permitted = false;                // RFC 2018 2, kind 4
  std::array<tcp_sack_block, tcp_option::max_sack_blocks> sack_blocks{};  // RFC 2018 3
  std::uint8_t sack_count = 0;
  std::optional<tcp_timestamps> timestamps;   // RFC 7323 3.2, kind 8
  const_bytes payload;

  /// Parses a checked view; `src`/`dst` are the IPv4 addresses for the pseudo-header.
  /// Errors: bad_checksum when `mode` is full and the checksum is wrong; bad_option for an
  /// option whose length byte is missing, below 2, past the options area, or wrong for its
  /// kind (RFC 9293 3.1: "prepared to handle an illegal option length"). Unknown kinds
  /// with a valid length are skipped (RFC 9293 3.1); parsing stops at End of Option List;
  /// a window scale above 14 is read as 14 (RFC 7323 2.3); a repeated option overwrites.
  static parse_result<tcp_repr> parse(tcp_packet_const v, ipv4_address src, ipv4_address dst,
                                      checksum_mode mode = checksum_mode::full) noexcept;
  /// Parses a buffer: the length errors of tcp_view::length_error(), then as above.
  static parse_result<tcp_repr> parse(const_bytes buf, ipv4_address src, ipv4_address dst,
                                      checksum_mode mode = checksum_mode::full) noexcept;
  /// Writes header, options and payload into the first buffer_len() bytes of `v` (which
  /// must hold that many), options in the order Linux sends them: MSS; SACK-permitted +
  /// timestamps, or NOP NOP timestamps; NOP NOP SACK-permitted without timestamps;
  /// NOP window scale; NOP NOP SACK. Each group thus ends on a 4-byte boundary; the area
  /// is padded with zeros (RFC 9293 3.1 "Padding") to a multiple of 4 all the same.
  /// SACK blocks that do not fit the 40 option bytes are left out (RFC 2018 3).
  /// Fills the checksum, summed from the values rather than read back, or writes 0 when
  /// `mode` is skip.
  void emit(tcp_packet v, ipv4_address src, ipv4_address dst,
            checksum_mode mode = checksum_mode::full) const noexcept;

  /// The SACK blocks present.
  constexpr std::span<const tcp_sack_block> sack() const noexcept {
    return {sack_blocks.data(), std::min<std::size_t>(sack_count, sack_blocks.size())};
  }
  /// How many SACK blocks emit() writes: sack_count, less those that do not fit.
  std::size_t emitted_sack_count() const noexcept;
  /// Option bytes emit() writes, a multiple of 4, at most 40.
  std::size_t options_len() const noexcept;
  std::size_t header_len() const noexcept { return tcp_min_header_len + options_len(); }
  std::size_t buffer_len() const noexcept { return header_len() + payload.size(); }
  /// SEG.LEN: data octets plus one each for SYN and FIN (RFC 9293 3.4).
  constexpr std::size_t segment_len() const noexcept {
    return payload.size() + (has(flags, tcp_flags::syn) ? 1 : 0) +
           (has(flags, tcp_flags::fin) ? 1 : 0);
  }

  friend bool operator==(const tcp_repr& a, const tcp_repr& b) noexcept {
    return a.src_port == b.src_port && a.dst_port == b.dst_port && a.seq == b.seq &&
           a.ack == b.ack && a.flags == b.flags && a.window == b.window &&
           a.urgent_pointer == b.urgent_pointer && a.mss == b.mss &&
           a.window_scale == b.window_scale && a.sack_permitted == b.sack_permitted &&
           std::ranges::equal(a.sack(), b.sack()) && a.timestamps == b.timestamps &&
           std::ranges::equal(a.payload, b.payload);
  }
};

}  // namespace vnetsim::wire
