#pragma once
/// LACPDU, IEEE 802.1AX-2014 6.4.2 (Figure 6-7), version 1: 110 bytes after the Ethernet
/// header of a Slow Protocols frame (EtherType 0x8809 to 01:80:C2:00:00:02) [OVSlacp][OpenBSD].
///
///     0 subtype = 1      1 version = 1
///     2 actor TLV:     type 1, length 20, sys prio(2) sys(6) key(2) port prio(2) port(2)
///                      state(1) reserved(3)
///    22 partner TLV:   type 2, length 20, same layout
///    42 collector TLV: type 3, length 16, max delay(2) reserved(12)
///    58 terminator:    type 0, length 0
///    60 reserved(50)
///
/// Version 2 TLVs (802.1AX-2014 6.4.2.4) are outside what vnetsim models.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "vnetsim/wire/bytes.hpp"
#include "vnetsim/wire/ethernet.hpp"
#include "vnetsim/wire/mac.hpp"
#include "vnetsim/wire/parse_result.hpp"

namespace vnetsim::wire {

/// Slow_Protocols_Multicast address (IEEE 802.3-2018 Annex 57A.3) [OVSlacp].
inline constexpr mac_address slow_protocols_address = mac_address::from_u64(0x0180'c200'0002ULL);
/// Slow Protocols EtherType (IEEE 802.3-2018 Annex 57A.4) [OVSlacp].
inline constexpr std::uint16_t slow_protocols_ether_type = 0x8809;
static_assert(slow_protocols_ether_type == static_cast<std::uint16_t>(ether_type::slow_protocols));
/// Slow Protocols subtypes (IEEE 802.3-2018 Annex 57A.4): LACP 1, Marker 2 [OVSlacp].
inline constexpr std::uint8_t slow_subtype_lacp = 0x01;
inline constexpr std::uint8_t slow_subtype_marker = 0x02;
/// Version_Number of the LACPDUs vnetsim reads and writes (802.1AX-2014 6.4.2.3).
inline constexpr std::uint8_t lacp_version = 0x01;

/// TLV types and lengths, 802.1AX-2014 6.4.2.3 [OVSlacp][OpenBSD].
inline constexpr std::uint8_t lacp_tlv_terminator = 0x00;
inline constexpr std::uint8_t lacp_tlv_actor = 0x01;
inline constexpr std::uint8_t lacp_tlv_partner = 0x02;
inline constexpr std::uint8_t lacp_tlv_collector = 0x03;
inline constexpr std::uint8_t lacp_info_len = 20;       // actor and partner TLVs
inline constexpr std::uint8_t lacp_collector_len = 16;
inline constexpr std::uint8_t lacp_terminator_len = 0;
inline constexpr std::size_t lacp_reserved_len = 50;    // after the terminator
inline constexpr std::size_t lacpdu_len = 110;

/// Actor_State / Partner_State bits 0-7, 802.1AX-2014 6.4.2.3 [OVSlacp].
namespace lacp_state_bit {
inline constexpr std::uint8_t activity = 0x01;         // 1 = active LACP
inline constexpr std::uint8_t timeout = 0x02;          // 1 = short timeout (fast rate)
inline constexpr std::uint8_t aggregation = 0x04;      // 1 = aggregatable
inline constexpr std::uint8_t synchronization = 0x08;  // 1 = IN_SYNC
inline constexpr std::uint8_t collecting = 0x10;
inline constexpr std::uint8_t distributing = 0x20;
inline constexpr std::uint8_t defaulted = 0x40;
inline constexpr std::uint8_t expired = 0x80;
}  // namespace lacp_state_bit

/// A state octet as a value.
struct lacp_state {
  std::uint8_t bits = 0;

  constexpr bool has(std::uint8_t mask) const noexcept { return (bits & mask) == mask; }
  constexpr bool activity() const noexcept { return has(lacp_state_bit::activity); }
  constexpr bool short_timeout() const noexcept { return has(lacp_state_bit::timeout); }
  constexpr bool aggregation() const noexcept { return has(lacp_state_bit::aggregation); }
  constexpr bool synchronization() const noexcept { return has(lacp_state_bit::synchronization); }
  constexpr bool collecting() const noexcept { return has(lacp_state_bit::collecting); }
  constexpr bool distributing() const noexcept { return has(lacp_state_bit::distributing); }
  constexpr bool defaulted() const noexcept { return has(lacp_state_bit::defaulted); }
  constexpr bool expired() const noexcept { return has(lacp_state_bit::expired); }
  /// Sets or clears the bits in `mask`.
  constexpr lacp_state& set(std::uint8_t mask, bool on = true) noexcept {
    bits = static_cast<std::uint8_t>(on ? (bits | mask) : (bits & ~mask));
    return *this;
  }

  friend constexpr bool operator==(lacp_state, lacp_state) noexcept = default;
};

/// Zero-copy view of one 20-byte actor or partner information TLV.
template <byte_type B>
class lacp_info_view {
 public:
  struct field {
    static constexpr std::size_t tlv_type = 0;
    static constexpr std::size_t tlv_len = 1;
    static constexpr std::size_t system_priority = 2;
    static constexpr std::size_t system = 4;
    static constexpr std::size_t key = 10;
    static constexpr std::size_t port_priority = 12;
    static constexpr std::size_t port = 14;
    static constexpr std::size_t state = 16;
    static constexpr std::size_t reserved = 17;
    static constexpr std::size_t end = 20;
  };
  static_assert(field::end == lacp_info_len);

  constexpr explicit lacp_info_view(std::span<B> buf) noexcept : buf_(buf) {}
  constexpr bool check_len() const noexcept { return buf_.size() >= lacp_info_len; }

  constexpr std::uint8_t tlv_type() const noexcept { return get_u8(buf_, field::tlv_type); }
  constexpr std::uint8_t tlv_len() const noexcept { return get_u8(buf_, field::tlv_len); }
  constexpr std::uint16_t system_priority() const noexcept {
    return get_u16(buf_, field::system_priority);
  }
  constexpr mac_address system() const noexcept { return mac_address::read(buf_, field::system); }
  constexpr std::uint16_t key() const noexcept { return get_u16(buf_, field::key); }
  constexpr std::uint16_t port_priority() const noexcept {
    return get_u16(buf_, field::port_priority);
  }
  constexpr std::uint16_t port() const noexcept { return get_u16(buf_, field::port); }
  constexpr lacp_state state() const noexcept { return {get_u8(buf_, field::state)}; }

  constexpr void set_tlv(std::uint8_t type, std::uint8_t len) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u8(buf_, field::tlv_type, type);
    put_u8(buf_, field::tlv_len, len);
  }
  constexpr void set_system_priority(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::system_priority, v);
  }
  constexpr void set_system(mac_address m) const noexcept
    requires(!std::is_const_v<B>)
  {
    m.write(buf_, field::system);
  }
  constexpr void set_key(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::key, v);
  }
  constexpr void set_port_priority(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::port_priority, v);
  }
  constexpr void set_port(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::port, v);
  }
  constexpr void set_state(lacp_state s) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u8(buf_, field::state, s.bits);
  }
  void clear_reserved() const noexcept
    requires(!std::is_const_v<B>)
  {
    fill_zero(buf_, field::reserved, field::end - field::reserved);
  }

 private:
  std::span<B> buf_;
};

/// Zero-copy view of a whole LACPDU over `B` bytes.
template <byte_type B>
class lacp_view {
 public:
  struct field {
    static constexpr std::size_t subtype = 0;
    static constexpr std::size_t version = 1;
    static constexpr std::size_t actor = 2;
    static constexpr std::size_t partner = 22;
    static constexpr std::size_t collector_type = 42;
    static constexpr std::size_t collector_len = 43;
    static constexpr std::size_t collector_max_delay = 44;
    static constexpr std::size_t collector_reserved = 46;
    static constexpr std::size_t terminator_type = 58;
    static constexpr std::size_t terminator_len = 59;
    static constexpr std::size_t reserved = 60;
    static constexpr std::size_t end = 110;
  };
  static_assert(field::partner == field::actor + lacp_info_len);
  static_assert(field::collector_type == field::partner + lacp_info_len);
  static_assert(field::terminator_type == field::collector_type + lacp_collector_len);
  static_assert(field::reserved + lacp_reserved_len == field::end);
  static_assert(field::end == lacpdu_len);

  /// Wraps without checking; call check_len() before reading, or use checked().
  constexpr explicit lacp_view(std::span<B> buf) noexcept : buf_(buf) {}
  static constexpr std::optional<lacp_view> checked(std::span<B> buf) noexcept {
    lacp_view v{buf};
    if (!v.check_len()) return std::nullopt;
    return v;
  }
  constexpr bool check_len() const noexcept { return buf_.size() >= lacpdu_len; }

  constexpr std::uint8_t subtype() const noexcept { return get_u8(buf_, field::subtype); }
  constexpr std::uint8_t version() const noexcept { return get_u8(buf_, field::version); }
  constexpr lacp_info_view<B> actor() const noexcept {
    return lacp_info_view<B>{buf_.subspan(field::actor, lacp_info_len)};
  }
  constexpr lacp_info_view<B> partner() const noexcept {
    return lacp_info_view<B>{buf_.subspan(field::partner, lacp_info_len)};
  }
  constexpr std::uint8_t collector_type() const noexcept {
    return get_u8(buf_, field::collector_type);
  }
  constexpr std::uint8_t collector_len() const noexcept {
    return get_u8(buf_, field::collector_len);
  }
  /// CollectorMaxDelay in tens of microseconds (802.1AX-2014 6.4.2.3).
  constexpr std::uint16_t collector_max_delay() const noexcept {
    return get_u16(buf_, field::collector_max_delay);
  }
  constexpr std::uint8_t terminator_type() const noexcept {
    return get_u8(buf_, field::terminator_type);
  }
  constexpr std::uint8_t terminator_len() const noexcept {
    return get_u8(buf_, field::terminator_len);
  }
  constexpr std::span<B> buffer() const noexcept { return buf_; }

  constexpr void set_subtype(std::uint8_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u8(buf_, field::subtype, v);
  }
  constexpr void set_version(std::uint8_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u8(buf_, field::version, v);
  }
  constexpr void set_collector(std::uint16_t max_delay) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u8(buf_, field::collector_type, lacp_tlv_collector);
    put_u8(buf_, field::collector_len, lacp_collector_len);
    put_u16(buf_, field::collector_max_delay, max_delay);
  }
  constexpr void set_terminator() const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u8(buf_, field::terminator_type, lacp_tlv_terminator);
    put_u8(buf_, field::terminator_len, lacp_terminator_len);
  }
  /// Zeroes every reserved byte: the TLVs' 3 and 12, and the trailing 50.
  void clear_reserved() const noexcept
    requires(!std::is_const_v<B>)
  {
    actor().clear_reserved();
    partner().clear_reserved();
    fill_zero(buf_, field::collector_reserved, field::terminator_type - field::collector_reserved);
    fill_zero(buf_, field::reserved, lacp_reserved_len);
  }

 private:
  std::span<B> buf_;
};

using lacp_packet = lacp_view<std::byte>;
using lacp_packet_const = lacp_view<const std::byte>;

/// The actor's or partner's information (802.1AX-2014 6.4.2.3).
struct lacp_info {
  std::uint16_t system_priority = 0;
  mac_address system;
  std::uint16_t key = 0;
  std::uint16_t port_priority = 0;
  std::uint16_t port = 0;
  lacp_state state;

  template <byte_type B>
  static constexpr lacp_info parse(lacp_info_view<B> v) noexcept {
    return {v.system_priority(), v.system(), v.key(), v.port_priority(), v.port(), v.state()};
  }
  /// Writes the fields, TLV header included; reserved bytes are not touched.
  constexpr void emit(lacp_info_view<std::byte> v, std::uint8_t tlv_type) const noexcept {
    v.set_tlv(tlv_type, lacp_info_len);
    v.set_system_priority(system_priority);
    v.set_system(system);
    v.set_key(key);
    v.set_port_priority(port_priority);
    v.set_port(port);
    v.set_state(state);
  }

  friend constexpr bool operator==(const lacp_info&, const lacp_info&) noexcept = default;
};

/// A version-1 LACPDU as a value. Reserved bytes are ignored on parse and zeroed by emit.
struct lacp_repr {
  lacp_info actor;
  lacp_info partner;
  std::uint16_t collector_max_delay = 0;  ///< tens of microseconds

  static constexpr std::size_t header_len = lacpdu_len;

  /// Errors: truncated (< 110 bytes); bad_type (subtype not LACP, e.g. Marker);
  /// bad_version (version not 1); bad_option (a TLV type or length other than actor 1/20,
  /// partner 2/20, collector 3/16, terminator 0/0).
  static parse_result<lacp_repr> parse(const_bytes buf) noexcept;
  /// Writes all 110 bytes; `v` must hold at least buffer_len() bytes.
  void emit(lacp_packet v) const noexcept;
  constexpr std::size_t buffer_len() const noexcept { return header_len; }

  friend constexpr bool operator==(const lacp_repr&, const lacp_repr&) noexcept = default;
};

}  // namespace vnetsim::wire
