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
  constexpr explicit mac_address(std::array<std::uint8_t, 6> octets) noexcept : o_(octets) {}
  /// From the low 48 bits of `v` (most significant octet first on the wire).
  static constexpr mac_address from_u64(std::uint64_t v) noexcept {
    mac_address m;
    for (int i = 5; i >= 0; --i) {
      m.o_[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v & 0xff);
      v >>= 8;
    }
    return m;
  }
  static constexpr mac_address read(const_bytes b, std::size_t off) noexcept {
    return from_u64(get_u48(b, off));
  }
  constexpr void write(bytes b, std::size_t off) const noexcept { put_u48(b, off, to_u64()); }

  /// Parses `aa:bb:cc:dd:ee:ff` or `aa-bb-cc-dd-ee-ff` (hex, either case); nullopt otherwise.
  static std::optional<mac_address> parse(std::string_view text) noexcept;

  static constexpr mac_address broadcast() noexcept { return from_u64(0xffff'ffff'ffffULL); }

  constexpr std::uint64_t to_u64() const noexcept {
    std::uint64_t v = 0;
    for (auto x : o_) v = (v << 8) | x;
    return v;
  }
  constexpr const std::array<std::uint8_t, 6>& octets() const noexcept { return o_; }

  /// I/G bit (IEEE 802-2014 8.2): set for group (multicast and broadcast) addresses.
  constexpr bool is_multicast() const noexcept { return (o_[0] & 0x01) != 0; }
  constexpr bool is_broadcast() const noexcept { return to_u64() == 0xffff'ffff'ffffULL; }
  constexpr bool is_unicast() const noexcept { return !is_multicast(); }
  /// U/L bit (IEEE 802-2014 8.2): set for locally administered addresses.
  constexpr bool is_local() const noexcept { return (o_[0] & 0x02) != 0; }
  constexpr bool is_zero() const noexcept { return to_u64() == 0; }
  constexpr std::uint32_t oui() const noexcept { return static_cast<std::uint32_t>(to_u64() >> 24); }

  /// Lower-case colon form, `00:50:56:00:00:01`.
  std::string to_string() const;

  friend constexpr auto operator<=>(const mac_address&, const mac_address&) noexcept = default;

 private:
  std::array<std::uint8_t, 6> o_{};
};

}  // namespace vnetsim::wire

template <>
struct fmt::formatter<vnetsim::wire::mac_address> : fmt::formatter<std::string_view> {
  auto format(const vnetsim::wire::mac_address& m, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(m.to_string(), ctx);
  }
};
