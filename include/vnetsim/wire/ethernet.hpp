#pragma once
/// Ethernet II / IEEE 802.3 MAC frame header (IEEE 802.3-2018 clause 3.1.1), without
/// preamble and FCS: destination, source, then a 2-byte field that is an EtherType when
/// >= 0x0600 and an 802.3 length when <= 1500 (IEEE 802.3-2018 3.2.6).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "vnetsim/wire/bytes.hpp"
#include "vnetsim/wire/mac.hpp"

namespace vnetsim::wire {

/// EtherType values (IEEE Registration Authority; the RFCs named at each).
enum class ether_type : std::uint16_t {
  ipv4 = 0x0800,         // RFC 894
  arp = 0x0806,          // RFC 826
  vlan = 0x8100,         // IEEE 802.1Q-2018 9.5 (C-VLAN tag)
  rarp = 0x8035,         // RFC 903
  slow_protocols = 0x8809,  // IEEE 802.3-2018 Annex 57A (LACP, marker)
  qinq = 0x88a8,         // IEEE 802.1Q-2018 9.5 (S-VLAN tag)
};

/// Frame-size facts, IEEE 802.3-2018 clause 3.2 and 4.4.2.
inline constexpr std::size_t ethernet_header_len = 14;
inline constexpr std::size_t ethernet_fcs_len = 4;
inline constexpr std::size_t ethernet_min_frame_len = 64;       // including FCS
inline constexpr std::size_t ethernet_min_payload_len = 46;     // 64 - 14 - 4
inline constexpr std::size_t ethernet_max_payload_len = 1500;   // untagged MTU
inline constexpr std::size_t ethernet_preamble_sfd_len = 8;     // 7 preamble + 1 SFD
inline constexpr std::size_t ethernet_ifg_len = 12;             // minimum inter-packet gap, 96 bit times
/// Largest value of the type/length field that is a length (IEEE 802.3-2018 3.2.6).
inline constexpr std::uint16_t ethernet_max_length_field = 1500;
/// Smallest value that is an EtherType (IEEE 802.3-2018 3.2.6).
inline constexpr std::uint16_t ethernet_min_ether_type = 0x0600;

/// Zero-copy view of an Ethernet header over `B` bytes (`std::byte` or `const std::byte`).
template <byte_type B>
class ethernet_view {
 public:
  struct field {
    static constexpr std::size_t dst = 0;
    static constexpr std::size_t src = 6;
    static constexpr std::size_t type = 12;
    static constexpr std::size_t payload = 14;
  };
  static_assert(field::payload == ethernet_header_len);

  /// Wraps without checking; call check_len() before reading, or use checked().
  constexpr explicit ethernet_view(std::span<B> buf) noexcept : buf_(buf) {}
  static constexpr std::optional<ethernet_view> checked(std::span<B> buf) noexcept {
    ethernet_view v{buf};
    if (!v.check_len()) return std::nullopt;
    return v;
  }
  constexpr bool check_len() const noexcept { return buf_.size() >= ethernet_header_len; }

  constexpr mac_address dst() const noexcept { return mac_address::read(buf_, field::dst); }
  constexpr mac_address src() const noexcept { return mac_address::read(buf_, field::src); }
  /// The raw type/length field.
  constexpr std::uint16_t type_or_len() const noexcept { return get_u16(buf_, field::type); }
  constexpr bool is_ether_type() const noexcept {
    return type_or_len() >= ethernet_min_ether_type;
  }
  constexpr bool is_length() const noexcept {
    return type_or_len() <= ethernet_max_length_field;
  }
  constexpr std::span<B> payload() const noexcept { return buf_.subspan(field::payload); }
  constexpr std::span<B> buffer() const noexcept { return buf_; }

  constexpr void set_dst(mac_address m) const noexcept
    requires(!std::is_const_v<B>)
  {
    m.write(buf_, field::dst);
  }
  constexpr void set_src(mac_address m) const noexcept
    requires(!std::is_const_v<B>)
  {
    m.write(buf_, field::src);
  }
  constexpr void set_type_or_len(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::type, v);
  }

 private:
  std::span<B> buf_;
};

using ethernet_frame = ethernet_view<std::byte>;
using ethernet_frame_const = ethernet_view<const std::byte>;

/// The parsed header as a value. `type_or_len` keeps the raw field; 802.1Q tags are
/// parsed separately (vlan.hpp) from the payload when the type is 0x8100 or 0x88a8.
struct ethernet_repr {
  mac_address dst;
  mac_address src;
  std::uint16_t type_or_len = 0;

  static constexpr std::size_t header_len = ethernet_header_len;

  static constexpr ethernet_repr parse(ethernet_frame_const v) noexcept {
    return {v.dst(), v.src(), v.type_or_len()};
  }
  /// Parses a buffer, or nullopt when it is shorter than a header.
  static constexpr std::optional<ethernet_repr> parse(const_bytes buf) noexcept {
    const ethernet_frame_const v{buf};
    if (!v.check_len()) return std::nullopt;
    return parse(v);
  }
  /// Writes the 14-byte header; `v` must hold at least buffer_len() bytes.
  constexpr void emit(ethernet_frame v) const noexcept {
    v.set_dst(dst);
    v.set_src(src);
    v.set_type_or_len(type_or_len);
  }
  constexpr std::size_t buffer_len() const noexcept { return header_len; }

  friend constexpr bool operator==(const ethernet_repr&, const ethernet_repr&) noexcept = default;
};

}  // namespace vnetsim::wire
