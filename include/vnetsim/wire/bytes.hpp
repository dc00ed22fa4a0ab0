#pragma once
/// Big-endian (network order) field access over byte spans: the one place every
/// wire view reads and writes multi-byte fields. Callers check bounds first
/// (each view's check_len()); these functions assume the offset is in range.

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

namespace vnetsim::wire {

/// A view's byte type: `std::byte` for a mutable view, `const std::byte` for a read-only one.
template <class B>
concept byte_type = std::is_same_v<std::remove_const_t<B>, std::byte>;

using bytes = std::span<std::byte>;
using const_bytes = std::span<const std::byte>;

constexpr std::uint8_t get_u8(const_bytes b, std::size_t off) noexcept {
  return static_cast<std::uint8_t>(b[off]);
}
constexpr std::uint16_t get_u16(const_bytes b, std::size_t off) noexcept {
  return static_cast<std::uint16_t>((static_cast<unsigned>(b[off]) << 8) |
                                    static_cast<unsigned>(b[off + 1]));
}
constexpr std::uint32_t get_u32(const_bytes b, std::size_t off) noexcept {
  return (std::uint32_t{get_u16(b, off)} << 16) | get_u16(b, off + 2);
}
constexpr std::uint64_t get_u48(const_bytes b, std::size_t off) noexcept {
  return (std::uint64_t{get_u16(b, off)} << 32) | get_u32(b, off + 2);
}
constexpr std::uint64_t get_u64(const_bytes b, std::size_t off) noexcept {
  return (std::uint64_t{get_u32(b, off)} << 32) | get_u32(b, off + 4);
}

/// The 8 bytes at `p`, big-endian, as one unaligned load and one byte swap (GCC builtin;
/// the project builds with GCC 12): for frame paths that read a MAC address and the two
/// bytes after it at once. The caller guarantees 8 readable bytes at `p`.
inline std::uint64_t load_be64(const std::byte* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  return v;
}

constexpr void put_u8(bytes b, std::size_t off, std::uint8_t v) noexcept {
  b[off] = static_cast<std::byte>(v);
}
constexpr void put_u16(bytes b, std::size_t off, std::uint16_t v) noexcept {
  b[off] = static_cast<std::byte>(v >> 8);
  b[off + 1] = static_cast<std::byte>(v & 0xff);
}
constexpr void put_u32(bytes b, std::size_t off, std::uint32_t v) noexcept {
  put_u16(b, off, static_cast<std::uint16_t>(v >> 16));
  put_u16(b, off + 2, static_cast<std::uint16_t>(v & 0xffff));
}
constexpr void put_u48(bytes b, std::size_t off, std::uint64_t v) noexcept {
  put_u16(b, off, static_cast<std::uint16_t>(v >> 32));
  put_u32(b, off + 2, static_cast<std::uint32_t>(v & 0xffffffffu));
}
constexpr void put_u64(bytes b, std::size_t off, std::uint64_t v) noexcept {
  put_u32(b, off, static_cast<std::uint32_t>(v >> 32));
  put_u32(b, off + 4, static_cast<std::uint32_t>(v & 0xffffffffu));
}

/// Zero `n` bytes at `off` (reserved fields, padding).
inline void fill_zero(bytes b, std::size_t off, std::size_t n) noexcept {
  if (n != 0) std::memset(b.data() + off, 0, n);
}

/// Bytes from a list of integers, for tests and constant tables: `make_bytes(0x01, 0x80, 0xc2)`.
template <class... T>
constexpr auto make_bytes(T... v) noexcept {
  return std::array<std::byte, sizeof...(T)>{static_cast<std::byte>(v)...};
}

}  // namespace vnetsim::wire
