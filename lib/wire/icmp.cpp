#include "vnetsim/wire/icmp.hpp"

namespace vnetsim::wire {

parse_result<icmp_repr> icmp_repr::parse(icmp_packet_const v, checksum_mode mode) noexcept {
  if (mode == checksum_mode::full && !v.verify_checksum()) return parse_error::bad_checksum;
  icmp_repr r;
  r.type = static_cast<icmp_type>(v.msg_type());
  r.code = v.code();
  r.data = v.data();
  switch (r.type) {
    case icmp_type::echo_request:
    case icmp_type::echo_reply:
      if (r.code != 0) return parse_error::bad_type;  // RFC 792: "Code 0"
      r.ident = v.echo_ident();
      r.seq = v.echo_seq();
      return r;
    case icmp_type::dst_unreachable:
      if (r.code > icmp_unreachable_max_code) return parse_error::bad_type;
      r.next_hop_mtu = v.next_hop_mtu();  // zero ("unused") unless code 4 (RFC 1191 4)
      return r;
    case icmp_type::time_exceeded:
      if (r.code > icmp_time_exceeded_max_code) return parse_error::bad_type;
      return r;
    case icmp_type::source_quench:
    case icmp_type::redirect:
    case icmp_type::parameter_problem:
    case icmp_type::timestamp:
    case icmp_type::timestamp_reply:
    case icmp_type::info_request:
    case icmp_type::info_reply:
      return parse_error::unsupported;
  }
  return parse_error::bad_type;
}

parse_result<icmp_repr> icmp_repr::parse(const_bytes buf, checksum_mode mode) noexcept {
  const auto v = icmp_packet_const::checked(buf);
  if (!v) return parse_error::truncated;
  return parse(*v, mode);
}

void icmp_repr::emit(icmp_packet out_view, checksum_mode mode) const noexcept {
  // The message only, not any slack after it in the buffer.
  const icmp_packet v{out_view.buffer().first(buffer_len())};
  // The 4 type-specific bytes (RFC 792): identifier and sequence number for echo; for
  // destination unreachable, unused and the next-hop MTU (RFC 1191 4); otherwise unused.
  std::uint16_t rest_hi = 0;
  std::uint16_t rest_lo = 0;
  if (is_echo()) {
    rest_hi = ident;
    rest_lo = seq;
  } else if (type == icmp_type::dst_unreachable) {
    rest_lo = next_hop_mtu;
  }
  // The checksum from the values and the data's source, before it is copied: reading back
  // the bytes just stored would stall.
  std::uint16_t checksum = 0;
  if (mode == checksum_mode::full) {
    checksum_accumulator acc;
    acc.add_u16(static_cast<std::uint16_t>((static_cast<unsigned>(type) << 8) | code));
    acc.add_u16(rest_hi);
    acc.add_u16(rest_lo);
    acc.add(data);
    checksum = acc.checksum();
  }
  v.set_msg_type(static_cast<std::uint8_t>(type));
  v.set_code(code);
  v.set_checksum(checksum);
  put_u16(v.buffer(), icmp_packet::field::echo_ident, rest_hi);
  put_u16(v.buffer(), icmp_packet::field::echo_seq, rest_lo);
  const bytes out = v.data();
  // `data` may already be in place (an echo reply built over its request).
  if (!data.empty() && data.data() != out.data()) {
    std::memmove(out.data(), data.data(), data.size());
  }
}

}  // namespace vnetsim::wire
