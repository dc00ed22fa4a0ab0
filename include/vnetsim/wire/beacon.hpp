#pragma once
/// The host's NIC-team beacon frame. ESX 2.x sends beacons from each team NIC to the others,
/// optionally tagged with SwitchFailoverBeaconVlanID and with a configurable
/// SwitchFailoverBeaconEtherType [ESX2], but the real frame format is undocumented. This is
/// vnetsim's own format, defined here:
///
///     Ethernet: dst ff:ff:ff:ff:ff:ff, src = the sending vmnic's MAC,
///               optional 802.1Q tag (SwitchFailoverBeaconVlanID),
///               EtherType = SwitchFailoverBeaconEtherType (default 0x88b5, see below)
///     payload (46 bytes, the untagged minimum, so no further padding is needed):
///        0 magic "VNSB" (4)       4 version = 1 (1)       5 flags (1)
///        6 bond id (2)            8 sender member index (2)
///       10 sequence number (4)   14 sender MAC (6)       20 zero padding (26)
///
/// All multi-byte fields are big-endian. Flags define no bits in version 1: senders write
/// what they are given (0 by default) and receivers ignore them.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "vnetsim/wire/bytes.hpp"
#include "vnetsim/wire/ethernet.hpp"
#include "vnetsim/wire/mac.hpp"
#include "vnetsim/wire/parse_result.hpp"
#include "vnetsim/wire/vlan.hpp"

namespace vnetsim::wire {

/// Default SwitchFailoverBeaconEtherType. UNVERIFIED: the ESX 2.x value is not documented
/// [ESX2], so vnetsim uses 0x88b5, IEEE "Local Experimental Ethertype 1" (IEEE 802a-2003
/// 3.2, now in IEEE Std 802): reserved for private and experimental protocols on a local
/// network, never assigned to a public protocol, so a simulated beacon cannot be mistaken
/// for real traffic by a capture tool or a switch model. Configurable, as in ESX.
inline constexpr std::uint16_t beacon_default_ether_type = 0x88b5;

/// Payload magic "VNSB" (vnetsim beacon).
inline constexpr std::uint32_t beacon_magic = 0x564e'5342;
inline constexpr std::uint8_t beacon_version = 1;
/// Payload length: the minimum Ethernet payload (IEEE 802.3-2018 4.4.2), fully used.
inline constexpr std::size_t beacon_payload_len = ethernet_min_payload_len;
/// Bytes of defined fields before the padding.
inline constexpr std::size_t beacon_fields_len = 20;
static_assert(beacon_payload_len == 46);

/// Zero-copy view of a beacon payload over `B` bytes.
template <byte_type B>
class beacon_view {
 public:
  struct field {
    static constexpr std::size_t magic = 0;
    static constexpr std::size_t version = 4;
    static constexpr std::size_t flags = 5;
    static constexpr std::size_t bond_id = 6;
    static constexpr std::size_t member_index = 8;
    static constexpr std::size_t sequence = 10;
    static constexpr std::size_t sender_mac = 14;
    static constexpr std::size_t padding = 20;
    static constexpr std::size_t end = 46;
  };
  static_assert(field::padding == beacon_fields_len);
  static_assert(field::end == beacon_payload_len);

  /// Wraps without checking; call check_len() before reading, or use checked().
  constexpr explicit beacon_view(std::span<B> buf) noexcept : buf_(buf) {}
  static constexpr std::optional<beacon_view> checked(std::span<B> buf) noexcept {
    beacon_view v{buf};
    if (!v.check_len()) return std::nullopt;
    return v;
  }
  /// The whole 46-byte payload is present (beacons are always sent padded).
  constexpr bool check_len() const noexcept { return buf_.size() >= beacon_payload_len; }

  constexpr std::uint32_t magic() const noexcept { return get_u32(buf_, field::magic); }
  constexpr std::uint8_t version() const noexcept { return get_u8(buf_, field::version); }
  constexpr std::uint8_t flags() const noexcept { return get_u8(buf_, field::flags); }
  constexpr std::uint16_t bond_id() const noexcept { return get_u16(buf_, field::bond_id); }
  constexpr std::uint16_t member_index() const noexcept {
    return get_u16(buf_, field::member_index);
  }
  constexpr std::uint32_t sequence() const noexcept { return get_u32(buf_, field::sequence); }
  constexpr mac_address sender_mac() const noexcept {
    return mac_address::read(buf_, field::sender_mac);
  }
  constexpr std::span<B> buffer() const noexcept { return buf_; }

  constexpr void set_magic(std::uint32_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u32(buf_, field::magic, v);
  }
  constexpr void set_version(std::uint8_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u8(buf_, field::version, v);
  }
  constexpr void set_flags(std::uint8_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u8(buf_, field::flags, v);
  }
  constexpr void set_bond_id(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::bond_id, v);
  }
  constexpr void set_member_index(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::member_index, v);
  }
  constexpr void set_sequence(std::uint32_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u32(buf_, field::sequence, v);
  }
  constexpr void set_sender_mac(mac_address m) const noexcept
    requires(!std::is_const_v<B>)
  {
    m.write(buf_, field::sender_mac);
  }
  void clear_padding() const noexcept
    requires(!std::is_const_v<B>)
  {
    fill_zero(buf_, field::padding, field::end - field::padding);
  }

 private:
  std::span<B> buf_;
};

using beacon_packet = beacon_view<std::byte>;
using beacon_packet_const = beacon_view<const std::byte>;

/// A beacon payload as a value.
struct beacon_repr {
  std::uint8_t flags = 0;
  std::uint16_t bond_id = 0;
  std::uint16_t member_index = 0;  ///< the sender's index in its team
  std::uint32_t sequence = 0;
  mac_address sender_mac;

  static constexpr std::size_t header_len = beacon_payload_len;

  /// Errors: truncated (< 46 bytes); bad_type (magic is not "VNSB"); bad_version
  /// (version is not 1).
  static parse_result<beacon_repr> parse(const_bytes buf) noexcept;
  /// Writes the 46-byte payload, padding zeroed; `v` must hold at least buffer_len() bytes.
  void emit(beacon_packet v) const noexcept;
  constexpr std::size_t buffer_len() const noexcept { return header_len; }

  friend constexpr bool operator==(const beacon_repr&, const beacon_repr&) noexcept = default;
};

/// A whole beacon frame: Ethernet header, optional tag, payload. The destination is always
/// broadcast on emit and is not checked on parse (receivers match the EtherType and magic).
struct beacon_frame_repr {
  mac_address src;                  ///< the sending vmnic's MAC
  std::optional<vlan_repr> tag;     ///< SwitchFailoverBeaconVlanID, when set
  std::uint16_t ether_type = beacon_default_ether_type;
  beacon_repr beacon;

  /// Errors: those of parse_tag_stack() (truncated, stacked_tag); bad_type when the inner
  /// EtherType is not `ether_type`; then those of beacon_repr::parse().
  static parse_result<beacon_frame_repr> parse(
      const_bytes frame, std::uint16_t ether_type = beacon_default_ether_type) noexcept;
  /// Writes buffer_len() bytes (60 untagged, 64 tagged); `frame` must hold that many.
  void emit(bytes frame) const noexcept;
  constexpr std::size_t buffer_len() const noexcept {
    return ethernet_header_len + (tag ? vlan_tag_len : 0) + beacon_payload_len;
  }

  friend constexpr bool operator==(const beacon_frame_repr&, const beacon_frame_repr&) noexcept =
      default;
};

}  // namespace vnetsim::wire
