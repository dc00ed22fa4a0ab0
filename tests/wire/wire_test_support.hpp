#pragma once
// Helpers shared by the wire tests: independent reference checksums (RFC 1071, and over
// the UDP/TCP pseudo-header) and a parse-error accessor that never mistakes a success for
// an error.
#include <cstdint>
#include <optional>
#include <vector>

#include "vnetsim/wire/bytes.hpp"
#include "vnetsim/wire/ipv4.hpp"
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

/// The two hosts of the captured UDP and TCP packets (udp_test.cpp, tcp_test.cpp).
inline const ipv4_address client(10, 0, 0, 1);
inline const ipv4_address server(10, 0, 0, 2);

/// Reference UDP/TCP checksum: the pseudo-header (RFC 768 for UDP, RFC 9293 3.1 for TCP:
/// source, destination, zero, protocol, length) laid out as bytes, then the datagram or
/// segment, through naive_checksum.
inline std::uint16_t naive_pseudo_checksum(ipv4_address src, ipv4_address dst, ip_protocol protocol,
                                           const_bytes l4) {
  std::vector<std::byte> all(12);
  src.write(all, 0);
  dst.write(all, 4);
  all[8] = std::byte{0};
  all[9] = std::byte{static_cast<std::uint8_t>(protocol)};
  put_u16(all, 10, static_cast<std::uint16_t>(l4.size()));
  all.insert(all.end(), l4.begin(), l4.end());
  return naive_checksum(all);
}

/// The parse error, or nullopt when the parse succeeded.
template <class T>
std::optional<parse_error> error_of(const parse_result<T>& r) {
  return r.error();
}

}  // namespace vnetsim::wire::test
