#include "vnetsim/wire/udp.hpp"

namespace vnetsim::wire {

parse_result<udp_repr> udp_repr::parse(udp_packet_const v, ipv4_address src, ipv4_address dst,
                                       checksum_mode mode) noexcept {
  if (mode == checksum_mode::full && !v.verify_checksum(src, dst)) {
    return parse_error::bad_checksum;
  }
  return udp_repr{v.src_port(), v.dst_port(), v.payload()};
}

parse_result<udp_repr> udp_repr::parse(const_bytes buf, ipv4_address src, ipv4_address dst,
                                       checksum_mode mode) noexcept {
  const udp_packet_const v{buf};
  if (const auto e = v.length_error()) return *e;
  return parse(v, src, dst, mode);
}

void udp_repr::emit(udp_packet v, ipv4_address src, ipv4_address dst,
                    checksum_mode mode) const noexcept {
  const auto length = static_cast<std::uint16_t>(buffer_len());
  // The checksum from the values and the payload's source, before it is copied (which may
  // move it over itself): reading back the bytes just stored would stall.
  std::uint16_t checksum = 0;
  if (mode == checksum_mode::full) {
    auto acc = ipv4_pseudo_header(src, dst, ip_protocol::udp, length);
    acc.add_u16(src_port);
    acc.add_u16(dst_port);
    acc.add_u16(length);
    acc.add(payload);
    checksum = acc.checksum();
    if (checksum == 0) checksum = 0xffff;  // 0 means "no checksum" (RFC 768 "Checksum")
  }
  v.set_src_port(src_port);
  v.set_dst_port(dst_port);
  v.set_length(length);
  v.set_checksum(checksum);
  const bytes out = v.payload();  // sized by the Length just written
  // `payload` may already be in place (the application wrote it into the frame).
  if (!payload.empty() && payload.data() != out.data()) {
    std::memmove(out.data(), payload.data(), payload.size());
  }
}

}  // namespace vnetsim::wire
