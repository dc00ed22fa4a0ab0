#include "vnetsim/wire/llc.hpp"

namespace vnetsim::wire {

parse_result<llc_repr> llc_repr::parse(const_bytes buf) noexcept {
  const auto v = llc_header_const::checked(buf);
  if (!v) return parse_error::truncated;
  if (!v->is_u_format()) return parse_error::unsupported;
  return parse(*v);
}

parse_result<const_bytes> length_framed_data(std::uint16_t length_field,
                                             const_bytes data) noexcept {
  if (length_field >= ethernet_min_ether_type) return parse_error::bad_type;
  if (length_field > ethernet_max_length_field) return parse_error::bad_length;
  if (length_field > data.size()) return parse_error::truncated;
  return data.first(length_field);
}

}  // namespace vnetsim::wire
