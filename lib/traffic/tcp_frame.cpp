#include "vnetsim/traffic/tcp_frame.hpp"

#include "vnetsim/wire/ethernet.hpp"
#include "vnetsim/wire/tcp.hpp"

namespace vnetsim::tcp {

dev::frame_ref write_frame(dev::frame_pool& pool, sim_time now, const frame_path& path,
                           std::uint16_t ip_ident, const wire::tcp_repr& seg,
                           std::uint64_t payload_offset, std::uint32_t payload_len,
                           std::uint16_t tso_mss, frame_offload offload,
                           frame_error* error) noexcept {
  const auto fail = [error](frame_error e) {
    if (error) *error = e;
    return dev::frame_ref{};
  };
  wire::tcp_repr hdr = seg;
  hdr.payload = {};
  const std::size_t tcp_len = hdr.header_len() + payload_len;
  if (wire::ipv4_min_header_len + tcp_len > wire::ipv4_max_total_len) {
    return fail(frame_error::too_big);
  }
  const std::size_t ip_at = wire::ethernet_header_len;
  const std::size_t tcp_at = ip_at + wire::ipv4_min_header_len;
  dev::frame_ref f = pool.allocate(tcp_at + tcp_len, now);
  if (!f) return fail(frame_error::pool_exhausted);
  const auto bytes = f.data();

  const wire::ethernet_repr eth{path.dst_mac, path.src_mac,
                                static_cast<std::uint16_t>(wire::ether_type::ipv4)};
  eth.emit(wire::ethernet_frame{bytes});

  // Checksums in software unless the NIC offers them; a super-segment's are filled per
  // segment by the segmentation (dev/nic.cpp), so none are computed here.
  const bool sw = !offload.checksum && tso_mss == 0;
  const auto mode = sw ? wire::checksum_mode::full : wire::checksum_mode::skip;
  wire::ipv4_repr ip;
  ip.src = path.src_ip;
  ip.dst = path.dst_ip;
  ip.protocol = wire::ip_protocol::tcp;
  ip.payload_len = static_cast<std::uint16_t>(tcp_len);
  ip.ttl = path.ttl;
  ip.dscp = path.dscp;
  ip.ident = ip_ident;
  ip.dont_frag = true;
  ip.emit(wire::ipv4_packet{bytes.subspan(ip_at)}, mode);

  // Header with a zero checksum, then the pattern, then the checksum over both.
  const wire::tcp_packet tcp{bytes.subspan(tcp_at, tcp_len)};
  hdr.emit(tcp, path.src_ip, path.dst_ip, wire::checksum_mode::skip);
  fill_payload(bytes.subspan(tcp_at + hdr.header_len(), payload_len), payload_offset);
  if (sw) tcp.fill_checksum(path.src_ip, path.dst_ip);

  dev::frame_meta& m = f.meta();
  m.vlan_tci = path.vlan_tci;
  m.tso_mss = tso_mss;
  if (!sw) m.csum = dev::csum_offload::ipv4_header | dev::csum_offload::l4;
  if (error) *error = frame_error::none;
  return f;
}

}  // namespace vnetsim::tcp
