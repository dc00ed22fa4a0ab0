#include "vnetsim/wire/beacon.hpp"

namespace vnetsim::wire {

parse_result<beacon_repr> beacon_repr::parse(const_bytes buf) noexcept {
  const auto v = beacon_packet_const::checked(buf);
  if (!v) return parse_error::truncated;
  if (v->magic() != beacon_magic) return parse_error::bad_type;
  if (v->version() != beacon_version) return parse_error::bad_version;
  return beacon_repr{v->flags(), v->bond_id(), v->member_index(), v->sequence(),
                     v->sender_mac()};
}

void beacon_repr::emit(beacon_packet v) const noexcept {
  v.set_magic(beacon_magic);
  v.set_version(beacon_version);
  v.set_flags(flags);
  v.set_bond_id(bond_id);
  v.set_member_index(member_index);
  v.set_sequence(sequence);
  v.set_sender_mac(sender_mac);
  v.clear_padding();
}

parse_result<beacon_frame_repr> beacon_frame_repr::parse(const_bytes frame,
                                                         std::uint16_t ether_type) noexcept {
  const auto stack = parse_tag_stack(frame);
  if (!stack) return *stack.error();
  if (stack->inner_type != ether_type) return parse_error::bad_type;
  const auto b = beacon_repr::parse(frame.subspan(stack->payload_offset));
  if (!b) return *b.error();
  return beacon_frame_repr{ethernet_frame_const{frame}.src(), stack->outer, ether_type, *b};
}

void beacon_frame_repr::emit(bytes frame) const noexcept {
  const ethernet_frame eth{frame};
  eth.set_dst(mac_address::broadcast());
  eth.set_src(src);
  std::size_t at = ethernet_frame::field::type;
  if (tag) {
    tag->emit(vlan_tag{frame.subspan(at)});
    at += vlan_tag_len;
  }
  put_u16(frame, at, ether_type);
  beacon.emit(beacon_packet{frame.subspan(at + 2)});
}

}  // namespace vnetsim::wire
