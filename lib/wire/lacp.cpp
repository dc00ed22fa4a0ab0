#include "vnetsim/wire/lacp.hpp"

namespace vnetsim::wire {

parse_result<lacp_repr> lacp_repr::parse(const_bytes buf) noexcept {
  const auto v = lacp_packet_const::checked(buf);
  if (!v) return parse_error::truncated;
  if (v->subtype() != slow_subtype_lacp) return parse_error::bad_type;
  if (v->version() != lacp_version) return parse_error::bad_version;
  const auto actor = v->actor();
  const auto partner = v->partner();
  if (actor.tlv_type() != lacp_tlv_actor || actor.tlv_len() != lacp_info_len ||
      partner.tlv_type() != lacp_tlv_partner || partner.tlv_len() != lacp_info_len ||
      v->collector_type() != lacp_tlv_collector || v->collector_len() != lacp_collector_len ||
      v->terminator_type() != lacp_tlv_terminator ||
      v->terminator_len() != lacp_terminator_len) {
    return parse_error::bad_option;
  }
  return lacp_repr{lacp_info::parse(actor), lacp_info::parse(partner),
                   v->collector_max_delay()};
}

void lacp_repr::emit(lacp_packet v) const noexcept {
  v.clear_reserved();
  v.set_subtype(slow_subtype_lacp);
  v.set_version(lacp_version);
  actor.emit(v.actor(), lacp_tlv_actor);
  partner.emit(v.partner(), lacp_tlv_partner);
  v.set_collector(collector_max_delay);
  v.set_terminator();
}

}  // namespace vnetsim::wire
