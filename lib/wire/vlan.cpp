#include "vnetsim/wire/vlan.hpp"

#include <cstring>

namespace vnetsim::wire {

parse_result<vlan_stack_repr> describe_tag_stack(const_bytes frame) noexcept {
  if (frame.size() < ethernet_header_len) return parse_error::truncated;
  vlan_stack_repr r;
  // `at` is the offset of the current type/length field; each tag adds 4 bytes.
  std::size_t at = ethernet_view<const std::byte>::field::type;
  std::uint16_t type = get_u16(frame, at);
  while (is_vlan_tpid(type)) {
    // The tag's TCI and the next type field must both be present.
    if (frame.size() < at + vlan_tag_len + 2) return parse_error::truncated;
    if (r.tag_count == 0) r.outer = vlan_repr::parse(vlan_tag_const{frame.subspan(at)});
    ++r.tag_count;
    at += vlan_tag_len;
    type = get_u16(frame, at);
  }
  r.inner_type = type;
  r.payload_offset = at + 2;
  return r;
}

parse_result<vlan_stack_repr> parse_tag_stack(const_bytes frame) noexcept {
  auto r = describe_tag_stack(frame);
  if (!r) return r;
  if (r->tag_count > 1 || (r->outer && r->outer->tpid != vlan_tpid_c)) {
    return parse_error::stacked_tag;
  }
  return r;
}

std::optional<bytes> emit_tag_in_place(bytes buf, const vlan_repr& tag) noexcept {
  if (buf.size() < vlan_headroom + ethernet_header_len) return std::nullopt;
  // Addresses from [4, 16) to [0, 12): the ranges overlap, hence memmove.
  std::memmove(buf.data(), buf.data() + vlan_headroom, vlan_moved_len);
  tag.emit(vlan_tag{buf.subspan(vlan_tag_offset)});
  return buf;
}

std::optional<bytes> strip_tag_in_place(bytes frame) noexcept {
  if (frame.size() < vlan_tagged_header_len) return std::nullopt;
  if (!is_vlan_tpid(get_u16(frame, vlan_tag_offset))) return std::nullopt;
  // Addresses from [0, 12) to [4, 16), over the tag.
  std::memmove(frame.data() + vlan_headroom, frame.data(), vlan_moved_len);
  return frame.subspan(vlan_headroom);
}

}  // namespace vnetsim::wire
