#pragma once
/// IPv4 (RFC 791 section 3.1): the address value type, a CIDR prefix, the header view and
/// its repr. Options are kept as raw bytes, not parsed. Fragments are described (DF, MF,
/// offset) but not reassembled.

#include <algorithm>
#include <array>
#include <bit>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "vnetsim/wire/bytes.hpp"
#include "vnetsim/wire/checksum.hpp"
#include "vnetsim/wire/ethernet.hpp"
#include "vnetsim/wire/vlan.hpp"
#include "vnetsim/wire/parse_result.hpp"

namespace vnetsim::wire {

/// A 32-bit IPv4 address (RFC 791 3.2 "Addressing"), held as a host-order integer whose
/// most significant octet is the first on the wire.
class ipv4_address {
 public:
  static constexpr std::size_t size = 4;

  constexpr ipv4_address() noexcept = default;
  constexpr explicit ipv4_address(std::uint32_t value) noexcept : v_(value) {}
  constexpr ipv4_address(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) noexcept
      : v_((std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d) {}

  static constexpr ipv4_address read(const_bytes b, std::size_t off) noexcept {
    return ipv4_address{get_u32(b, off)};
  }
  constexpr void write(bytes b, std::size_t off) const noexcept { put_u32(b, off, v_); }

  /// Parses dotted-decimal `a.b.c.d`: four decimal octets 0..255, no leading zeros
  /// (which some parsers read as octal), nothing else; nullopt otherwise.
  static std::optional<ipv4_address> parse(std::string_view text) noexcept;

  /// 0.0.0.0, "this host on this network" (RFC 1122 3.2.1.3 (a)).
  static constexpr ipv4_address unspecified() noexcept { return ipv4_address{}; }
  /// 255.255.255.255, the limited broadcast address (RFC 919 section 7, RFC 1122 3.2.1.3 (c)).
  static constexpr ipv4_address broadcast() noexcept { return ipv4_address{0xffff'ffffU}; }

  constexpr std::uint32_t to_u32() const noexcept { return v_; }
  constexpr std::array<std::uint8_t, 4> octets() const noexcept {
    return {static_cast<std::uint8_t>(v_ >> 24), static_cast<std::uint8_t>(v_ >> 16),
            static_cast<std::uint8_t>(v_ >> 8), static_cast<std::uint8_t>(v_)};
  }

  constexpr bool is_unspecified() const noexcept { return v_ == 0; }
  constexpr bool is_broadcast() const noexcept { return v_ == 0xffff'ffffU; }
  /// 224.0.0.0/4, class D (RFC 5771 section 2, RFC 1112 section 4).
  constexpr bool is_multicast() const noexcept { return (v_ >> 28) == 0xeU; }
  /// 127.0.0.0/8 (RFC 1122 3.2.1.3 (g)).
  constexpr bool is_loopback() const noexcept { return (v_ >> 24) == 127U; }
  /// 169.254.0.0/16 (RFC 3927 section 2.1).
  constexpr bool is_link_local() const noexcept { return (v_ >> 16) == 0xa9feU; }
  /// 10/8, 172.16/12 and 192.168/16 (RFC 1918 section 3).
  constexpr bool is_private() const noexcept {
    return (v_ >> 24) == 10U || (v_ >> 20) == 0xac1U || (v_ >> 16) == 0xc0a8U;
  }
  /// Neither unspecified, limited broadcast nor multicast. (A directed broadcast address
  /// depends on the subnet: see ipv4_cidr::broadcast().)
  constexpr bool is_unicast() const noexcept {
    return !is_unspecified() && !is_broadcast() && !is_multicast();
  }

  /// The netmask of a prefix length 0..32 (RFC 4632 section 3.1): 24 gives 255.255.255.0.
  /// Lengths above 32 give 255.255.255.255.
  static constexpr ipv4_address netmask(std::uint8_t prefix_len) noexcept {
    if (prefix_len == 0) return ipv4_address{};
    if (prefix_len >= 32) return broadcast();
    return ipv4_address{~std::uint32_t{0} << (32U - prefix_len)};
  }
  /// The prefix length of a contiguous netmask; nullopt for a mask such as 255.0.255.0.
  constexpr std::optional<std::uint8_t> mask_prefix_len() const noexcept {
    const std::uint32_t inv = ~v_;
    if ((inv & (inv + 1)) != 0) return std::nullopt;  // the ones must all lead
    return static_cast<std::uint8_t>(std::popcount(v_));
  }
  /// The network part under a prefix length: this address with the host bits cleared.
  constexpr ipv4_address network(std::uint8_t prefix_len) const noexcept {
    return ipv4_address{v_ & netmask(prefix_len).v_};
  }
  /// Whether `other` lies in the same /prefix_len subnet as this address.
  constexpr bool same_subnet(ipv4_address other, std::uint8_t prefix_len) const noexcept {
    return network(prefix_len) == other.network(prefix_len);
  }

  /// Dotted decimal, `192.168.0.1`.
  std::string to_string() const;

  friend constexpr auto operator<=>(const ipv4_address&, const ipv4_address&) noexcept = default;

 private:
  std::uint32_t v_ = 0;
};

/// An address with a prefix length (RFC 4632 section 3.1), `192.168.0.1/24`: an interface
/// address together with its subnet. Invariant: prefix_len() <= 32.
class ipv4_cidr {
 public:
  static constexpr std::uint8_t max_prefix_len = 32;

  constexpr ipv4_cidr() noexcept = default;
  /// Precondition: prefix_len <= 32 (larger values are clamped).
  constexpr ipv4_cidr(ipv4_address address, std::uint8_t prefix_len) noexcept
      : address_(address), prefix_len_(std::min(prefix_len, max_prefix_len)) {}

  /// Parses `a.b.c.d/n` with n in 0..32; nullopt otherwise.
  static std::optional<ipv4_cidr> parse(std::string_view text) noexcept;

  constexpr ipv4_address address() const noexcept { return address_; }
  constexpr std::uint8_t prefix_len() const noexcept { return prefix_len_; }
  constexpr ipv4_address netmask() const noexcept { return ipv4_address::netmask(prefix_len_); }
  constexpr ipv4_address network() const noexcept { return address_.network(prefix_len_); }
  /// The directed broadcast address, all host bits set (RFC 919 section 7, RFC 922 7).
  constexpr ipv4_address broadcast() const noexcept {
    return ipv4_address{network().to_u32() | ~netmask().to_u32()};
  }
  constexpr bool contains(ipv4_address a) const noexcept {
    return address_.same_subnet(a, prefix_len_);
  }

  /// `192.168.0.1/24`.
  std::string to_string() const;

  friend constexpr bool operator==(const ipv4_cidr&, const ipv4_cidr&) noexcept = default;

 private:
  ipv4_address address_;
  std::uint8_t prefix_len_ = 0;
};

/// Protocol numbers of the IPv4 protocol field (RFC 791 3.1 "Protocol"; IANA "Assigned
/// Internet Protocol Numbers", first listed in RFC 790). Other values pass through as-is.
enum class ip_protocol : std::uint8_t {
  icmp = 1,  // RFC 792
  tcp = 6,   // RFC 9293
  udp = 17,  // RFC 768
};

/// Header facts, RFC 791 section 3.1.
inline constexpr std::uint8_t ipv4_version = 4;                // "Version: 4 bits"
inline constexpr std::size_t ipv4_min_header_len = 20;         // IHL minimum 5 words
inline constexpr std::size_t ipv4_max_header_len = 60;         // IHL maximum 15 words
inline constexpr std::size_t ipv4_max_options_len = 40;        // 60 - 20
inline constexpr std::size_t ipv4_max_total_len = 65535;       // "Total Length: 16 bits"
inline constexpr std::size_t ipv4_fragment_unit = 8;           // offset "in units of 8 octets"
inline constexpr std::uint8_t ipv4_default_ttl = 64;           // IANA / RFC 1700 default TTL

/// Zero-copy view of an IPv4 header and its payload over `B` bytes. The buffer may be
/// longer than Total Length (Ethernet padding): payload() stops at Total Length.
template <byte_type B>
class ipv4_view {
 public:
  /// RFC 791 section 3.1 layout.
  struct field {
    static constexpr std::size_t ver_ihl = 0;     // Version (4 bits), IHL (4 bits)
    static constexpr std::size_t dscp_ecn = 1;    // DSCP (RFC 2474 3), ECN (RFC 3168 5)
    static constexpr std::size_t total_len = 2;
    static constexpr std::size_t ident = 4;
    static constexpr std::size_t flags_frag = 6;  // reserved, DF, MF (3 bits), offset (13)
    static constexpr std::size_t ttl = 8;
    static constexpr std::size_t protocol = 9;
    static constexpr std::size_t checksum = 10;
    static constexpr std::size_t src = 12;
    static constexpr std::size_t dst = 16;
    static constexpr std::size_t options = 20;
  };
  static_assert(field::options == ipv4_min_header_len);

  /// Flag bits in the 16-bit flags/fragment-offset word (RFC 791 3.1 "Flags").
  static constexpr std::uint16_t flag_reserved = 0x8000;  // bit 0: must be zero
  static constexpr std::uint16_t flag_df = 0x4000;        // bit 1: Don't Fragment
  static constexpr std::uint16_t flag_mf = 0x2000;        // bit 2: More Fragments
  static constexpr std::uint16_t frag_offset_mask = 0x1fff;

  /// Wraps without checking; call check_len() before reading, or use checked().
  constexpr explicit ipv4_view(std::span<B> buf) noexcept : buf_(buf) {}
  static constexpr std::optional<ipv4_view> checked(std::span<B> buf) noexcept {
    ipv4_view v{buf};
    if (!v.check_len()) return std::nullopt;
    return v;
  }
  /// Which length rule the buffer breaks, or nullopt when every accessor is in bounds:
  /// truncated when the buffer is shorter than 20 bytes, than IHL*4 or than Total Length;
  /// bad_length when IHL < 5 or Total Length < IHL*4 (RFC 791 3.1).
  constexpr std::optional<parse_error> length_error() const noexcept {
    if (buf_.size() < ipv4_min_header_len) return parse_error::truncated;
    if (header_len() < ipv4_min_header_len) return parse_error::bad_length;
    if (header_len() > buf_.size()) return parse_error::truncated;
    if (total_len() < header_len()) return parse_error::bad_length;
    if (total_len() > buf_.size()) return parse_error::truncated;
    return std::nullopt;
  }
  constexpr bool check_len() const noexcept { return !length_error(); }

  constexpr std::uint8_t version() const noexcept { return get_u8(buf_, field::ver_ihl) >> 4; }
  /// Internet Header Length in 32-bit words.
  constexpr std::uint8_t ihl() const noexcept { return get_u8(buf_, field::ver_ihl) & 0x0f; }
  constexpr std::size_t header_len() const noexcept { return std::size_t{ihl()} * 4; }
  constexpr std::uint8_t dscp() const noexcept { return get_u8(buf_, field::dscp_ecn) >> 2; }
  constexpr std::uint8_t ecn() const noexcept { return get_u8(buf_, field::dscp_ecn) & 0x03; }
  constexpr std::uint16_t total_len() const noexcept { return get_u16(buf_, field::total_len); }
  constexpr std::uint16_t ident() const noexcept { return get_u16(buf_, field::ident); }
  constexpr bool reserved_flag() const noexcept { return (flags_frag() & flag_reserved) != 0; }
  constexpr bool dont_frag() const noexcept { return (flags_frag() & flag_df) != 0; }
  constexpr bool more_frags() const noexcept { return (flags_frag() & flag_mf) != 0; }
  /// Fragment offset in bytes (the field counts 8-octet units).
  constexpr std::uint16_t frag_offset() const noexcept {
    return static_cast<std::uint16_t>((flags_frag() & frag_offset_mask) * ipv4_fragment_unit);
  }
  constexpr std::uint8_t ttl() const noexcept { return get_u8(buf_, field::ttl); }
  constexpr std::uint8_t protocol() const noexcept { return get_u8(buf_, field::protocol); }
  constexpr std::uint16_t checksum() const noexcept { return get_u16(buf_, field::checksum); }
  constexpr ipv4_address src_addr() const noexcept { return ipv4_address::read(buf_, field::src); }
  constexpr ipv4_address dst_addr() const noexcept { return ipv4_address::read(buf_, field::dst); }
  /// The option bytes between the fixed header and IHL*4 (not parsed).
  constexpr std::span<B> options() const noexcept {
    return buf_.subspan(field::options, header_len() - field::options);
  }
  /// The header bytes, 0 .. IHL*4.
  constexpr std::span<B> header() const noexcept { return buf_.first(header_len()); }
  /// The payload, IHL*4 .. Total Length.
  constexpr std::span<B> payload() const noexcept {
    return buf_.subspan(header_len(), std::size_t{total_len()} - header_len());
  }
  constexpr std::span<B> buffer() const noexcept { return buf_; }

  /// True when the header checksum is correct (RFC 791 3.1 "Header Checksum").
  bool verify_checksum() const noexcept { return internet_checksum(header()) == 0; }

  /// The byte at offset 0 for a version and an IHL in words.
  static constexpr std::uint8_t ver_ihl_byte(std::uint8_t version, std::uint8_t ihl) noexcept {
    return static_cast<std::uint8_t>((version << 4) | (ihl & 0x0f));
  }
  /// The byte at offset 1: DSCP in the upper 6 bits, ECN in the lower 2 (RFC 3168 5).
  static constexpr std::uint8_t dscp_ecn_byte(std::uint8_t dscp, std::uint8_t ecn) noexcept {
    return static_cast<std::uint8_t>((dscp << 2) | (ecn & 0x03));
  }
  /// The 16-bit word at offset 6, reserved bit clear; `offset_bytes` a multiple of 8.
  static constexpr std::uint16_t flags_frag_word(bool df, bool mf,
                                                 std::uint16_t offset_bytes) noexcept {
    const auto units = static_cast<std::uint16_t>(offset_bytes / ipv4_fragment_unit);
    return static_cast<std::uint16_t>((df ? flag_df : 0) | (mf ? flag_mf : 0) |
                                      (units & frag_offset_mask));
  }

  constexpr void set_version_ihl(std::uint8_t version, std::uint8_t ihl) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u8(buf_, field::ver_ihl, ver_ihl_byte(version, ihl));
  }
  constexpr void set_dscp_ecn(std::uint8_t dscp, std::uint8_t ecn) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u8(buf_, field::dscp_ecn, dscp_ecn_byte(dscp, ecn));
  }
  constexpr void set_total_len(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::total_len, v);
  }
  constexpr void set_ident(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::ident, v);
  }
  /// Writes the flags word with the reserved bit clear; `offset_bytes` must be a multiple
  /// of 8 (RFC 791 3.1 "Fragment Offset").
  constexpr void set_flags_frag(bool df, bool mf, std::uint16_t offset_bytes) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::flags_frag, flags_frag_word(df, mf, offset_bytes));
  }
  constexpr void set_ttl(std::uint8_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u8(buf_, field::ttl, v);
  }
  constexpr void set_protocol(std::uint8_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u8(buf_, field::protocol, v);
  }
  constexpr void set_checksum(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::checksum, v);
  }
  constexpr void set_src_addr(ipv4_address a) const noexcept
    requires(!std::is_const_v<B>)
  {
    a.write(buf_, field::src);
  }
  constexpr void set_dst_addr(ipv4_address a) const noexcept
    requires(!std::is_const_v<B>)
  {
    a.write(buf_, field::dst);
  }
  /// Computes and writes the header checksum over IHL*4 bytes (RFC 791 3.1: the checksum
  /// field is taken as zero while computing).
  void fill_checksum() const noexcept
    requires(!std::is_const_v<B>)
  {
    set_checksum(0);
    set_checksum(internet_checksum(header()));
  }

 private:
  constexpr std::uint16_t flags_frag() const noexcept { return get_u16(buf_, field::flags_frag); }

  std::span<B> buf_;
};

using ipv4_packet = ipv4_view<std::byte>;
using ipv4_packet_const = ipv4_view<const std::byte>;

/// The parsed header as a value. `options` points into the parsed (or caller's) buffer and
/// is copied by emit(), padded with zeros (End of Option List, RFC 791 3.1) to a multiple
/// of 4 bytes. Invariant for emit: options.size() <= 40, frag_offset a multiple of 8,
/// buffer_len() <= 65535.
struct ipv4_repr {
  ipv4_address src;
  ipv4_address dst;
  ip_protocol protocol = ip_protocol::udp;
  std::uint16_t payload_len = 0;
  std::uint8_t ttl = ipv4_default_ttl;
  std::uint8_t dscp = 0;  // RFC 2474 section 3
  std::uint8_t ecn = 0;   // RFC 3168 section 5
  std::uint16_t ident = 0;
  bool dont_frag = false;
  bool more_frags = false;
  std::uint16_t frag_offset = 0;  // bytes, a multiple of 8
  const_bytes options;

  /// Parses a checked view. Errors: bad_version when Version is not 4, bad_checksum when
  /// `mode` is full and the header checksum is wrong.
  static parse_result<ipv4_repr> parse(ipv4_packet_const v,
                                       checksum_mode mode = checksum_mode::full) noexcept;
  /// Parses a buffer: the length errors of ipv4_view::length_error(), then as above.
  static parse_result<ipv4_repr> parse(const_bytes buf,
                                       checksum_mode mode = checksum_mode::full) noexcept;
  /// Writes the header (not the payload); `v` must hold at least header_len() bytes.
  /// Fills the checksum, or writes 0 when `mode` is skip; it is summed from the field values
  /// rather than read back from `v`, which would stall on the bytes just stored.
  void emit(ipv4_packet v, checksum_mode mode = checksum_mode::full) const noexcept;

  /// A fragment is any datagram but a whole one: MF set or a non-zero offset (RFC 791 2.3).
  constexpr bool is_fragment() const noexcept { return more_frags || frag_offset != 0; }
  constexpr std::size_t header_len() const noexcept {
    return ipv4_min_header_len + (options.size() + 3) / 4 * 4;
  }
  constexpr std::size_t buffer_len() const noexcept { return header_len() + payload_len; }

  /// Field-wise equality; options compare by content.
  friend bool operator==(const ipv4_repr& a, const ipv4_repr& b) noexcept {
    return a.src == b.src && a.dst == b.dst && a.protocol == b.protocol &&
           a.payload_len == b.payload_len && a.ttl == b.ttl && a.dscp == b.dscp &&
           a.ecn == b.ecn && a.ident == b.ident && a.dont_frag == b.dont_frag &&
           a.more_frags == b.more_frags && a.frag_offset == b.frag_offset &&
           std::ranges::equal(a.options, b.options);
  }
};

/// The pseudo-header accumulator for a TCP or UDP checksum over IPv4 (RFC 768, RFC 9293
/// 3.1); see ipv4_pseudo_header() in checksum.hpp.
constexpr checksum_accumulator ipv4_pseudo_header(ipv4_address src, ipv4_address dst,
                                                  ip_protocol protocol,
                                                  std::uint16_t length) noexcept {
  return ipv4_pseudo_header(src.to_u32(), dst.to_u32(), static_cast<std::uint8_t>(protocol),
                            length);
}

/// Where the IPv4 packet of an Ethernet frame starts (after at most one 802.1Q tag in the
/// bytes), or nothing when the frame does not carry a well-formed IPv4 header (RFC 894
/// EtherType 0x0800; IEEE 802.1Q-2018 9.5 TPID 0x8100).
inline std::optional<std::size_t> frame_ipv4_offset(std::span<const std::byte> frame) noexcept {
  if (frame.size() < ethernet_header_len) return std::nullopt;
  std::size_t off = ethernet_header_len;
  std::uint16_t type = get_u16(frame, 12);
  if (type == vlan_tpid_c) {
    if (frame.size() < off + 4) return std::nullopt;
    type = get_u16(frame, off + 2);
    off += 4;
  }
  if (type != static_cast<std::uint16_t>(ether_type::ipv4)) return std::nullopt;
  const ipv4_packet_const ip{frame.subspan(off)};
  if (ip.length_error() || ip.version() != 4) return std::nullopt;
  return off;
}

}  // namespace vnetsim::wire

template <>
struct fmt::formatter<vnetsim::wire::ipv4_address> : fmt::formatter<std::string_view> {
  auto format(const vnetsim::wire::ipv4_address& a, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(a.to_string(), ctx);
  }
};

template <>
struct fmt::formatter<vnetsim::wire::ipv4_cidr> : fmt::formatter<std::string_view> {
  auto format(const vnetsim::wire::ipv4_cidr& c, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(c.to_string(), ctx);
  }
};
