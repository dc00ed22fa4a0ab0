#pragma once
/// 48-bit IEEE 802 MAC address (IEEE 802-2014 clause 8): a value type with parsing,
/// printing and the group/local predicates.

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "vnetsim/wire/bytes.hpp"

namespace vnetsim::wire {

class mac_address {
 public:
  static constexpr std::size_t size = 6;

  constexpr mac_address() noexcept = default;
  constexpr explicit mac_address(std::array<std::uint8_t, 6> octets) noexcept {
    for (auto x : octets) v_ = (v_ << 8) | x;
  }
  /// From the low 48 bits of `v` (most significant octet first on the wire).
  static constexpr mac_address from_u64(std::uint64_t v) noexcept {
    mac_address m;
    m.v_ = v & 0xffff'ffff'ffffULL;
    return m;
  }
  static constexpr mac_address read(const_bytes b, std::size_t off) noexcept {
    return from_u64(get_u48(b, off));
  }
  constexpr void write(bytes b, std::size_t off) const noexcept { put_u48(b, off, to_u64()); }

  /// Parses `aa:bb:cc:dd:ee:ff` or `aa-bb-cc-dd-ee-ff` (hex, either case); nullopt otherwise.
  static std::optional<mac_address> parse(std::string_view text) noexcept;

  static constexpr mac_address broadcast() noexcept { return from_u64(0xffff'ffff'ffffULL); }

  constexpr std::uint64_t to_u64() const noexcept { return v_; }
  constexpr std::array<std::uint8_t, 6> octets() const noexcept {
    std::array<std::uint8_t, 6> o{};
    for (std::size_t i = 0; i < 6; ++i) o[i] = static_cast<std::uint8_t>(v_ >> (40 - 8 * i));
    return o;
  }

  /// I/G bit (IEEE 802-2014 8.2): set for group (multicast and broadcast) addresses.
  constexpr bool is_multicast() const noexcept { return ((v_ >> 40) & 0x01) != 0; }
  constexpr bool is_broadcast() const noexcept { return v_ == 0xffff'ffff'ffffULL; }
  constexpr bool is_unicast() const noexcept { return !is_multicast(); }
  /// U/L bit (IEEE 802-2014 8.2): set for locally administered addresses.
  constexpr bool is_local() const noexcept { return ((v_ >> 40) & 0x02) != 0; }
  constexpr bool is_zero() const noexcept { return to_u64() == 0; }
  constexpr std::uint32_t oui() const noexcept { return static_cast<std::uint32_t>(to_u64() >> 24); }

  /// Lower-case colon form, `00:50:56:00:00:01`.
  std::string to_string() const;

  /// Orders as the octet strings do (the value is big-endian).
  friend constexpr auto operator<=>(const mac_address&, const mac_address&) noexcept = default;

 private:
  std::uint64_t v_ = 0;  // the 48 bits, first octet on the wire most significant
};

}  // namespace vnetsim::wire

template <>
struct fmt::formatter<vnetsim::wire::mac_address> : fmt::formatter<std::string_view> {
  auto format(const vnetsim::wire::mac_address& m, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(m.to_string(), ctx);
  }
};
