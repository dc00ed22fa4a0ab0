#pragma once
/// Turns one tcp::sink::transmit() call into an Ethernet + IPv4 + TCP frame from the frame
/// pool, so that an endpoint stack hands the engine's output to a NIC in one call.
///
/// The payload is payload_pattern() at the segment's stream offset (tcp.hpp), written in
/// place: no payload is stored or copied. Checksums are either computed here (software) or
/// left zero and requested from the NIC through frame_meta::csum (the NIC model fills them
/// in hardware or charges the software cost, dev/nic.hpp). A super-segment (tso_mss != 0)
/// carries frame_meta::tso_mss for the NIC to segment it; its checksums are always left to
/// the segmentation, which fills them per segment.
///
/// Per call: one pool allocation, no heap allocation, no virtual call. O(frame length).

#include <cstdint>
#include <optional>

#include "vnetsim/dev/frame_pool.hpp"
#include "vnetsim/traffic/tcp.hpp"
#include "vnetsim/wire/ipv4.hpp"
#include "vnetsim/wire/mac.hpp"

namespace vnetsim::tcp {

/// The addresses of one connection's frames.
struct frame_path {
  wire::mac_address src_mac;
  wire::mac_address dst_mac;  ///< the next hop's (ARP-resolved) address
  wire::ipv4_address src_ip;
  wire::ipv4_address dst_ip;
  std::uint8_t ttl = wire::ipv4_default_ttl;
  std::uint8_t dscp = 0;
  /// 802.1Q TCI for the NIC to insert (frame_meta::vlan_tci), when the port is tagged.
  std::optional<std::uint16_t> vlan_tci;
};

/// Checksum offload the egress NIC offers (every bond member's, nic_capabilities &).
struct frame_offload {
  bool checksum = false;
};

/// Why write_frame() returned an empty handle.
enum class frame_error : std::uint8_t {
  none,
  too_big,         ///< the IPv4 datagram would pass 65535 bytes (RFC 791 3.1)
  pool_exhausted,  ///< counted by the pool too
};

/// Writes the frame for a transmit() call: Ethernet II (type 0x0800, RFC 894), IPv4 with
/// DF set (RFC 791 3.1; Identification `ip_ident`), the TCP header of `seg` with its options
/// and `payload_len` pattern bytes from stream offset `payload_offset`. Empty on failure,
/// with the reason in `error` when given.
dev::frame_ref write_frame(dev::frame_pool& pool, sim_time now, const frame_path& path,
                           std::uint16_t ip_ident, const wire::tcp_repr& seg,
                           std::uint64_t payload_offset, std::uint32_t payload_len,
                           std::uint16_t tso_mss, frame_offload offload,
                           frame_error* error = nullptr) noexcept;

}  // namespace vnetsim::tcp
