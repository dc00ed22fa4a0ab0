#pragma once
/// Spanning-tree BPDUs (IEEE 802.1D-2004 clause 9) carried in 802.3/LLC frames to the
/// Bridge Group Address [CiscoBPDU][Huawei]: the Configuration BPDU (35 bytes, 9.3.1), the
/// Topology Change Notification BPDU (4 bytes, 9.3.2) and the RST BPDU (36 bytes, 9.3.3).
///
///     offset  0 protocol id (2) = 0      2 version (1)          3 type (1)
///             4 flags (1)                5 root id (8)         13 root path cost (4)
///            17 bridge id (8)           25 port id (2)         27 message age (2)
///            29 max age (2)             31 hello time (2)      33 forward delay (2)
///            35 version 1 length (1), RST only, = 0
///
/// A TCN BPDU is the first 4 bytes. Time fields count 1/256 s (802.1D-2004 9.2.8).

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include <fmt/format.h>

#include "vnetsim/wire/bytes.hpp"
#include "vnetsim/wire/llc.hpp"
#include "vnetsim/wire/mac.hpp"
#include "vnetsim/wire/parse_result.hpp"

namespace vnetsim::wire {

/// Bridge Group Address 01:80:C2:00:00:00, the destination of every BPDU
/// (802.1D-2004 7.12.3) [CiscoBPDU].
inline constexpr mac_address stp_group_address = mac_address::from_u64(0x0180'c200'0000ULL);

/// Protocol Identifier, 802.1D-2004 9.3.1: always 0 [CiscoBPDU].
inline constexpr std::uint16_t bpdu_protocol_id = 0x0000;
/// Protocol Version Identifier values: 0 STP (802.1D-2004 9.3.1), 2 RSTP (9.3.3) [CiscoRSTP],
/// 3 MSTP (802.1Q-2018 14.6).
inline constexpr std::uint8_t bpdu_version_stp = 0;
inline constexpr std::uint8_t bpdu_version_rstp = 2;
inline constexpr std::uint8_t bpdu_version_mstp = 3;

/// Encoded sizes [CiscoBPDU]: 802.1D-2004 9.3.1 (Figure 9-1), 9.3.2 (9-2), 9.3.3 (9-3).
inline constexpr std::size_t bpdu_tcn_len = 4;
inline constexpr std::size_t bpdu_config_len = 35;
inline constexpr std::size_t bpdu_rst_len = 36;

/// BPDU Type, 802.1D-2004 9.3.1-9.3.3 [CiscoBPDU][CiscoRSTP].
enum class bpdu_type : std::uint8_t {
  config = 0x00,  // Configuration BPDU
  rst = 0x02,     // RST BPDU (also carries MST BPDUs, 802.1Q-2018 14.6)
  tcn = 0x80,     // Topology Change Notification BPDU
};

/// One tick of a BPDU time field, 1/256 s (802.1D-2004 9.2.8), in nanoseconds: exact,
/// since 10^9 = 256 * 3'906'250.
inline constexpr std::int64_t bpdu_time_unit_ns = 3'906'250;
static_assert(bpdu_time_unit_ns * 256 == 1'000'000'000);

/// A BPDU time field in nanoseconds (exact).
constexpr std::int64_t bpdu_time_to_ns(std::uint16_t t) noexcept {
  return std::int64_t{t} * bpdu_time_unit_ns;
}
/// Nanoseconds to a BPDU time field, rounded to the nearest 1/256 s (halves up) and
/// clamped to [0, 65535] (0 to 255.996 s).
constexpr std::uint16_t bpdu_time_from_ns(std::int64_t ns) noexcept {
  if (ns <= 0) return 0;
  constexpr std::int64_t max_ns = std::int64_t{0xffff} * bpdu_time_unit_ns;
  if (ns >= max_ns) return 0xffff;
  return static_cast<std::uint16_t>((ns + bpdu_time_unit_ns / 2) / bpdu_time_unit_ns);
}
/// Whole seconds to a BPDU time field: 2 s -> 0x0200 (the encoding switches send).
constexpr std::uint16_t bpdu_time_from_s(std::uint8_t s) noexcept {
  return static_cast<std::uint16_t>(s * 256u);
}

/// Bridge Identifier (802.1D-2004 9.2.5): a 16-bit priority field, whose top 4 bits are
/// the settable priority (steps of 4096) and whose low 12 bits are the 802.1t system ID
/// extension (PVST+ puts the VLAN there), then the bridge MAC. Compared as one unsigned
/// 64-bit number, lower is better (9.2.5), which the member order gives.
struct bridge_id {
  std::uint16_t priority = 0x8000;
  mac_address address;

  static constexpr std::uint16_t priority_mask = 0xf000;
  static constexpr std::uint16_t system_id_extension_mask = 0x0fff;

  /// From the settable priority (a multiple of 4096; low bits are dropped), the system ID
  /// extension (12 bits) and the MAC.
  static constexpr bridge_id make(std::uint16_t prio, std::uint16_t ext,
                                  mac_address mac) noexcept {
    return {static_cast<std::uint16_t>((prio & priority_mask) | (ext & system_id_extension_mask)),
            mac};
  }
  constexpr std::uint16_t priority_component() const noexcept {
    return static_cast<std::uint16_t>(priority & priority_mask);
  }
  constexpr std::uint16_t system_id_extension() const noexcept {
    return static_cast<std::uint16_t>(priority & system_id_extension_mask);
  }
  constexpr std::uint64_t to_u64() const noexcept {
    return (std::uint64_t{priority} << 48) | address.to_u64();
  }
  static constexpr bridge_id from_u64(std::uint64_t v) noexcept {
    return {static_cast<std::uint16_t>(v >> 48), mac_address::from_u64(v)};
  }
  static constexpr bridge_id read(const_bytes b, std::size_t off) noexcept {
    return from_u64(get_u64(b, off));
  }
  constexpr void write(bytes b, std::size_t off) const noexcept { put_u64(b, off, to_u64()); }

  /// `8064.001c0e878500`: priority field in hex, a dot, the MAC in hex (Linux brctl form).
  std::string to_string() const;

  friend constexpr auto operator<=>(const bridge_id&, const bridge_id&) noexcept = default;
};

/// Port Identifier (802.1D-2004 9.2.7): 4-bit priority (steps of 16) and 12-bit port
/// number. Compared as an unsigned number, lower is better.
struct port_id {
  std::uint16_t value = 0x8000;

  /// From a priority 0..240 (multiple of 16; low bits are dropped) and a number < 4096.
  static constexpr port_id make(std::uint8_t prio, std::uint16_t number) noexcept {
    return {static_cast<std::uint16_t>(((prio & 0xf0u) << 8) | (number & 0x0fffu))};
  }
  constexpr std::uint8_t priority() const noexcept {
    return static_cast<std::uint8_t>((value >> 8) & 0xf0u);
  }
  constexpr std::uint16_t number() const noexcept {
    return static_cast<std::uint16_t>(value & 0x0fffu);
  }

  friend constexpr auto operator<=>(const port_id&, const port_id&) noexcept = default;
};

/// Port Role encoding in RST BPDU flags (802.1D-2004 9.2.9) [CiscoRSTP].
enum class bpdu_role : std::uint8_t {
  unknown = 0,           // also "master" in MST BPDUs (802.1Q-2018 14.2.9)
  alternate_backup = 1,
  root = 2,
  designated = 3,
};

/// Flag bits (802.1D-2004 9.3.1 and 9.3.3, Figure 9-3) [CiscoBPDU][CiscoRSTP]. A
/// Configuration BPDU uses only TC and TCA.
namespace bpdu_flag {
inline constexpr std::uint8_t topology_change = 0x01;      // bit 1, TC
inline constexpr std::uint8_t proposal = 0x02;             // bit 2, RST only
inline constexpr std::uint8_t role_mask = 0x0c;            // bits 3-4, RST only
inline constexpr std::uint8_t learning = 0x10;             // bit 5, RST only
inline constexpr std::uint8_t forwarding = 0x20;           // bit 6, RST only
inline constexpr std::uint8_t agreement = 0x40;            // bit 7, RST only
inline constexpr std::uint8_t topology_change_ack = 0x80;  // bit 8, TCA
inline constexpr unsigned role_shift = 2;
}  // namespace bpdu_flag

/// The flags octet as a value.
struct bpdu_flags {
  std::uint8_t bits = 0;

  constexpr bool tc() const noexcept { return (bits & bpdu_flag::topology_change) != 0; }
  constexpr bool proposal() const noexcept { return (bits & bpdu_flag::proposal) != 0; }
  constexpr bool learning() const noexcept { return (bits & bpdu_flag::learning) != 0; }
  constexpr bool forwarding() const noexcept { return (bits & bpdu_flag::forwarding) != 0; }
  constexpr bool agreement() const noexcept { return (bits & bpdu_flag::agreement) != 0; }
  constexpr bool tca() const noexcept { return (bits & bpdu_flag::topology_change_ack) != 0; }
  constexpr bpdu_role role() const noexcept {
    return static_cast<bpdu_role>((bits & bpdu_flag::role_mask) >> bpdu_flag::role_shift);
  }
  /// Sets or clears the bits in `mask`.
  constexpr bpdu_flags& set(std::uint8_t mask, bool on = true) noexcept {
    bits = static_cast<std::uint8_t>(on ? (bits | mask) : (bits & ~mask));
    return *this;
  }
  constexpr bpdu_flags& set_role(bpdu_role r) noexcept {
    bits = static_cast<std::uint8_t>((bits & ~bpdu_flag::role_mask) |
                                     (static_cast<unsigned>(r) << bpdu_flag::role_shift));
    return *this;
  }

  friend constexpr bool operator==(bpdu_flags, bpdu_flags) noexcept = default;
};

/// Zero-copy view of a BPDU over `B` bytes (the LLC payload). Body getters (root() onward)
/// are valid only for Configuration and RST BPDUs.
template <byte_type B>
class bpdu_view {
 public:
  struct field {
    static constexpr std::size_t protocol_id = 0;
    static constexpr std::size_t version = 2;
    static constexpr std::size_t type = 3;
    static constexpr std::size_t flags = 4;
    static constexpr std::size_t root = 5;
    static constexpr std::size_t root_path_cost = 13;
    static constexpr std::size_t bridge = 17;
    static constexpr std::size_t port = 25;
    static constexpr std::size_t message_age = 27;
    static constexpr std::size_t max_age = 29;
    static constexpr std::size_t hello_time = 31;
    static constexpr std::size_t forward_delay = 33;
    static constexpr std::size_t version1_length = 35;
  };
  static_assert(field::flags == bpdu_tcn_len);
  static_assert(field::version1_length == bpdu_config_len);
  static_assert(field::version1_length + 1 == bpdu_rst_len);

  /// Wraps without checking; call check_len() before reading, or use checked().
  constexpr explicit bpdu_view(std::span<B> buf) noexcept : buf_(buf) {}
  static constexpr std::optional<bpdu_view> checked(std::span<B> buf) noexcept {
    bpdu_view v{buf};
    if (!v.check_len()) return std::nullopt;
    return v;
  }
  /// The 4-byte header is present, and so is the body its type needs (35 bytes for a
  /// Configuration BPDU, 36 for an RST BPDU).
  constexpr bool check_len() const noexcept {
    if (buf_.size() < bpdu_tcn_len) return false;
    return buf_.size() >= needed_len();
  }
  /// Bytes this BPDU's type needs; 4 for TCN and for unknown types. Needs 4 bytes.
  constexpr std::size_t needed_len() const noexcept {
    switch (type()) {
      case static_cast<std::uint8_t>(bpdu_type::config): return bpdu_config_len;
      case static_cast<std::uint8_t>(bpdu_type::rst): return bpdu_rst_len;
      default: return bpdu_tcn_len;
    }
  }

  constexpr std::uint16_t protocol_id() const noexcept { return get_u16(buf_, field::protocol_id); }
  constexpr std::uint8_t version() const noexcept { return get_u8(buf_, field::version); }
  constexpr std::uint8_t type() const noexcept { return get_u8(buf_, field::type); }
  constexpr bpdu_flags flags() const noexcept { return {get_u8(buf_, field::flags)}; }
  constexpr bridge_id root() const noexcept { return bridge_id::read(buf_, field::root); }
  constexpr std::uint32_t root_path_cost() const noexcept {
    return get_u32(buf_, field::root_path_cost);
  }
  constexpr bridge_id bridge() const noexcept { return bridge_id::read(buf_, field::bridge); }
  constexpr port_id port() const noexcept { return {get_u16(buf_, field::port)}; }
  constexpr std::uint16_t message_age() const noexcept { return get_u16(buf_, field::message_age); }
  constexpr std::uint16_t max_age() const noexcept { return get_u16(buf_, field::max_age); }
  constexpr std::uint16_t hello_time() const noexcept { return get_u16(buf_, field::hello_time); }
  constexpr std::uint16_t forward_delay() const noexcept {
    return get_u16(buf_, field::forward_delay);
  }
  /// RST BPDUs only.
  constexpr std::uint8_t version1_length() const noexcept {
    return get_u8(buf_, field::version1_length);
  }
  constexpr std::span<B> buffer() const noexcept { return buf_; }

  constexpr void set_protocol_id(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::protocol_id, v);
  }
  constexpr void set_version(std::uint8_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u8(buf_, field::version, v);
  }
  constexpr void set_type(std::uint8_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u8(buf_, field::type, v);
  }
  constexpr void set_flags(bpdu_flags f) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u8(buf_, field::flags, f.bits);
  }
  constexpr void set_root(const bridge_id& id) const noexcept
    requires(!std::is_const_v<B>)
  {
    id.write(buf_, field::root);
  }
  constexpr void set_root_path_cost(std::uint32_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u32(buf_, field::root_path_cost, v);
  }
  constexpr void set_bridge(const bridge_id& id) const noexcept
    requires(!std::is_const_v<B>)
  {
    id.write(buf_, field::bridge);
  }
  constexpr void set_port(port_id p) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::port, p.value);
  }
  constexpr void set_message_age(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::message_age, v);
  }
  constexpr void set_max_age(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::max_age, v);
  }
  constexpr void set_hello_time(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::hello_time, v);
  }
  constexpr void set_forward_delay(std::uint16_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u16(buf_, field::forward_delay, v);
  }
  constexpr void set_version1_length(std::uint8_t v) const noexcept
    requires(!std::is_const_v<B>)
  {
    put_u8(buf_, field::version1_length, v);
  }

 private:
  std::span<B> buf_;
};

using bpdu_packet = bpdu_view<std::byte>;
using bpdu_packet_const = bpdu_view<const std::byte>;

/// A Configuration, TCN or RST BPDU as a value. For a TCN BPDU only `type` and `version`
/// are meaningful and the rest stay default. Time fields keep the raw 1/256 s encoding so
/// that emit reproduces received bytes; convert with bpdu_time_to_ns().
struct bpdu_repr {
  bpdu_type type = bpdu_type::config;
  std::uint8_t version = bpdu_version_stp;  ///< kept as received (3 = MST read as RST)
  bpdu_flags flags;
  bridge_id root;                 ///< Root Identifier, 9.3.1
  std::uint32_t root_path_cost = 0;
  bridge_id bridge;               ///< Bridge Identifier of the transmitting bridge, 9.3.1
  port_id port;                   ///< Port Identifier of the transmitting port, 9.3.1
  std::uint16_t message_age = 0;  ///< 1/256 s
  std::uint16_t max_age = 0;      ///< 1/256 s
  std::uint16_t hello_time = 0;   ///< 1/256 s
  std::uint16_t forward_delay = 0;  ///< 1/256 s

  /// Decodes a BPDU as 802.1D-2004 9.3.4 (and 802.1Q-2018 14.4) classify them. Errors:
  /// truncated (shorter than 4 bytes or than its type's size); bad_version (protocol id
  /// not 0, or an RST type with a version below 2); bad_type (type not 0x00, 0x02, 0x80);
  /// bad_length (RST BPDU whose Version 1 Length is not 0, 9.3.3).
  static parse_result<bpdu_repr> parse(const_bytes buf) noexcept;
  /// Writes buffer_len() bytes: 4 (TCN), 35 (Configuration) or 36 (RST, with a zero
  /// Version 1 Length).
  void emit(bpdu_packet v) const noexcept;
  constexpr std::size_t buffer_len() const noexcept {
    switch (type) {
      case bpdu_type::tcn: return bpdu_tcn_len;
      case bpdu_type::rst: return bpdu_rst_len;
      case bpdu_type::config: break;
    }
    return bpdu_config_len;
  }
  /// The 802.3 length field of the frame that carries this BPDU: LLC header + BPDU
  /// (38 for a Configuration BPDU, 7 for TCN, 39 for RST).
  constexpr std::uint16_t length_field() const noexcept {
    return static_cast<std::uint16_t>(llc_u_header_len + buffer_len());
  }
  /// 802.1D-2004 9.3.4 a): a Configuration BPDU is processed only if Message Age < Max Age.
  /// Left to the engine so that wire stays behaviour-free.
  constexpr bool message_age_valid() const noexcept { return message_age < max_age; }

  /// A Topology Change Notification BPDU (802.1D-2004 9.3.2).
  static constexpr bpdu_repr tcn() noexcept {
    bpdu_repr r;
    r.type = bpdu_type::tcn;
    return r;
  }

  friend constexpr bool operator==(const bpdu_repr&, const bpdu_repr&) noexcept = default;
};

}  // namespace vnetsim::wire

template <>
struct fmt::formatter<vnetsim::wire::bridge_id> : fmt::formatter<std::string_view> {
  auto format(const vnetsim::wire::bridge_id& id, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(id.to_string(), ctx);
  }
};
