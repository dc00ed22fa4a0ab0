#include "vnetsim/wire/arp.hpp"

namespace vnetsim::wire {

parse_result<arp_repr> arp_repr::parse(const_bytes buf) noexcept {
  const auto v = arp_packet_const::checked(buf);
  if (!v) return parse_error::truncated;
  if (v->htype() != arp_htype_ethernet || v->ptype() != arp_ptype_ipv4) {
    return parse_error::unsupported;
  }
  if (v->hlen() != arp_hlen_ethernet || v->plen() != arp_plen_ipv4) {
    return parse_error::bad_length;
  }
  const std::uint16_t op = v->oper();
  if (op < static_cast<std::uint16_t>(arp_operation::request) ||
      op > static_cast<std::uint16_t>(arp_operation::reverse_reply)) {
    return parse_error::bad_type;
  }
  return arp_repr{static_cast<arp_operation>(op), v->sha(), v->spa(), v->tha(), v->tpa()};
}

}  // namespace vnetsim::wire
