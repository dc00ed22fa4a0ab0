#pragma once
// Helpers shared by the wire tests: an independent reference checksum and a parse-error
// accessor that never mistakes a success for an error.
#include <cstdint>
#include <optional>

#include "vnetsim/wire/bytes.hpp"
#include "vnetsim/wire/parse_result.hpp"

namespace vnetsim::wire::test {

/// Reference RFC 1071 checksum, written the slow obvious way (big-endian 16-bit words,
/// odd byte padded with zero, folded at the end, complemented) to check the fast one.
inline std::uint16_t naive_checksum(const_bytes b) {
  std::uint32_t s = 0;
  for (std::size_t i = 0; i < b.size(); i += 2) {
    const std::uint32_t hi = static_cast<std::uint32_t>(b[i]) << 8;
    const std::uint32_t lo = i + 1 < b.size() ? static_cast<std::uint32_t>(b[i + 1]) : 0;
    s += hi | lo;
  }
  while (s >> 16) s = (s & 0xffffU) + (s >> 16);
  return static_cast<std::uint16_t>(~s);
}

/// The parse error, or nullopt when the parse succeeded.
template <class T>
std::optional<parse_error> error_of(const parse_result<T>& r) {
  return r.error();
}

}  // namespace vnetsim::wire::test
