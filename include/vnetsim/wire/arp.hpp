#pragma once
/// ARP (RFC 826) and RARP (RFC 903) packets for Ethernet hardware and IPv4 protocol
/// addresses: the only combination vnetsim models (28 bytes). The same layout serves both;
/// ARP travels in EtherType 0x0806 frames, RARP in 0x8035 frames [KB90045].
///
///     htype(2) ptype(2) hlen(1) plen(1) oper(2) sha(6) spa(4) tha(6) tpa(4)
///
/// IPv4 addresses are plain 32-bit values here (host order, most significant octet first on
/// the wire) so that this header stands alone.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "vnetsim/wire/bytes.hpp"
#include "vnetsim/wire/ethernet.hpp"
#include "vnetsim/wire/mac.hpp"
#include "vnetsim/wire/parse_result.hpp"

namespace vnetsim::wire {

/// ar$hrd for Ethernet, RFC 826 ("ares_hrd$Ethernet = 1").
inline constexpr std::uint16_t arp_htype_ethernet = 1;
/// ar$pro for IPv4: the IPv4 EtherType, RFC 826.
inline constexpr std::uint16_t arp_ptype_ipv4 = 0x0800;
inline constexpr std::uint8_t arp_hlen_ethernet = 6;
inline constexpr std::uint8_t arp_plen_ipv4 = 4;
/// Ethernet/IPv4 ARP packet length: 8 + 2 * (6 + 4).
inline constexpr std::size_t arp_packet_len = 28;

/// ar$op values: 1 and 2 from RFC 826, 3 and 4 from RFC 903 (teaming-facts marks the RARP
/// value UNVERIFIED [KB90045]; RFC 903 itself names "request reverse" 3, "reply reverse" 4).
enum class arp_operation : std::uint16_t {
  request = 1,          // RFC 826
  reply = 2,            // RFC 826
  reverse_request = 3,  // RFC 903
  reverse_reply = 4,    // RFC 903
};

constexpr bool is_reverse(arp_operation op) noexcept {
  return op == arp_operation::reverse_request || op == arp_operation::reverse_reply;
}
/// The EtherType a packet with this opcode travels in: 0x8035 (RFC 903) for RARP,
/// 0x0806 (RFC 826) for ARP.
constexpr std::uint16_t ether_type_for(arp_operation op) noexcept {
  return static_cast<std::uint16_t>(is_reverse(op) ? ether_type::rarp : ether_type::arp);
}

/// Zero-copy view of an Ethernet/IPv4 ARP or RARP packet over `B` bytes.
template <byte_type B>
class arp_view {
 public:
  struct field {
    static constexpr std::size_t htype = 0;  // ar$hrd
    static constexpr std::size_t ptype = 2;  // ar$pro
    static constexpr std::size_t hlen = 4;   // ar$hln
    static constexpr std::size_t plen = 5;   // ar$pln
    static constexpr std::size_t oper = 6;   // ar$op
    static constexpr std::size_t sha = 8;    // ar$sha
    static constexpr std::size_t spa = 14;   // ar$spa
    static constexpr std::size_t tha = 18;   // ar$tha
    static constexpr std::size_t tpa = 24;   // ar$tpa
    static constexpr std::size_t end = 28;
  };
  static_assert(field::end == arp_packet_len);

  /// Wraps without checking; call check_len() before reading, or use checked().
  constexpr explicit arp_view(std::span<B> buf) noexcept : buf_(buf) {}
  static constexpr std::optional<arp_view> checked(std::span<B> buf) noexcept {
    arp_view v{buf};
    if (!v.check_len()) return std::nullopt;
    return v;
  }
  constexpr bool check_len() const noexcept { return buf_.size() >= arp_packet_len; }

  constexpr std::uint16_t htype() const noexcept { return get_u16(buf_, field::htype); }
  constexpr std::uint16_t ptype() const noexcept { return get_u16(buf_, field::ptype); }
  constexpr std::uint8_t hlen() const noexcept { return get_u8(buf_, field::hlen); }
  constexpr std::uint8_t plen() const noexcept { return get_u8(buf_, field::plen); }
  constexpr std::uint16_t oper() const noexcept { return get_u16(buf_, field::oper); }
  constexpr mac_address sha() const noexcept { return mac_address::read(buf_, field::sha); }
  constexpr std::uint32_t spa() const noexcept { return get_u32(buf_, field::spa); }
  constexpr mac_address tha() const noexcept { return mac_address::read(buf_, field::tha); }
  constexpr std::uint32_t tpa() const noexcept { return get_u32(buf_, field::tpa); }
  constexpr std::span<B> buffer() const noexcept { return buf_; }

  constexpr void set_htype(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::htype, v);
  }
  constexpr void set_ptype(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::ptype, v);
  }
  constexpr void set_hlen(std::uint8_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u8(buf_, field::hlen, v);
  }
  constexpr void set_plen(std::uint8_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u8(buf_, field::plen, v);
  }
  constexpr void set_oper(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::oper, v);
  }
  constexpr void set_sha(mac_address m) const noexcept
    requires(!std::is_const_v<B>)
  {
    m.write(buf_, field::sha);
  }
  constexpr void set_spa(std::uint32_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u32(buf_, field::spa, v);
  }
  constexpr void set_tha(mac_address m) const noexcept
    requires(!std::is_const_v<B>)
  {
    m.write(buf_, field::tha);
  }
  constexpr void set_tpa(std::uint32_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u32(buf_, field::tpa, v);
  }

 private:
  std::span<B> buf_;
};

using arp_packet = arp_view<std::byte>;
using arp_packet_const = arp_view<const std::byte>;

/// An Ethernet/IPv4 ARP or RARP packet as a value.
struct arp_repr {
  arp_operation operation = arp_operation::request;
  mac_address sender_mac;
  std::uint32_t sender_ip = 0;
  mac_address target_mac;
  std::uint32_t target_ip = 0;

  static constexpr std::size_t header_len = arp_packet_len;

  /// Errors: truncated (< 28 bytes); unsupported (hardware type not Ethernet or protocol
  /// type not IPv4); bad_length (hlen != 6 or plen != 4 for Ethernet/IPv4); bad_type
  /// (opcode outside 1..4).
  static parse_result<arp_repr> parse(const_bytes buf) noexcept;
  /// Writes the 28-byte packet; `v` must hold at least buffer_len() bytes.
  constexpr void emit(arp_packet v) const noexcept {
    v.set_htype(arp_htype_ethernet);
    v.set_ptype(arp_ptype_ipv4);
    v.set_hlen(arp_hlen_ethernet);
    v.set_plen(arp_plen_ipv4);
    v.set_oper(static_cast<std::uint16_t>(operation));
    v.set_sha(sender_mac);
    v.set_spa(sender_ip);
    v.set_tha(target_mac);
    v.set_tpa(target_ip);
  }
  constexpr std::size_t buffer_len() const noexcept { return header_len; }

  /// Gratuitous ARP (RFC 5227 3, RFC 5944 4.6): a request or reply whose sender and target
  /// protocol addresses are the same nonzero address.
  constexpr bool is_gratuitous() const noexcept {
    return (operation == arp_operation::request || operation == arp_operation::reply) &&
           sender_ip == target_ip && sender_ip != 0;
  }

  /// An ARP announcement (RFC 5227 3): request, sender = target = `ip`, target MAC zero.
  static constexpr arp_repr announcement(mac_address mac, std::uint32_t ip) noexcept {
    return {arp_operation::request, mac, ip, mac_address{}, ip};
  }
  /// The "notify switches" RARP: reverse request "who is `mac`, tell `mac`", protocol
  /// addresses zero (RFC 903 leaves them undefined) [KB90045][itecnotes].
  static constexpr arp_repr reverse_request_for(mac_address mac) noexcept {
    return {arp_operation::reverse_request, mac, 0, mac, 0};
  }

  friend constexpr bool operator==(const arp_repr&, const arp_repr&) noexcept = default;
};

}  // namespace vnetsim::wire
