#include "vnetsim/wire/bpdu.hpp"

namespace vnetsim::wire {

std::string bridge_id::to_string() const {
  return fmt::format("{:04x}.{:012x}", priority, address.to_u64());
}

parse_result<bpdu_repr> bpdu_repr::parse(const_bytes buf) noexcept {
  if (buf.size() < bpdu_tcn_len) return parse_error::truncated;
  const bpdu_packet_const v{buf};
  // 802.1D-2004 9.3.4 / 802.1Q-2018 14.4: the Protocol Identifier must be 0.
  if (v.protocol_id() != bpdu_protocol_id) return parse_error::bad_version;
  bpdu_repr r;
  r.version = v.version();
  switch (v.type()) {
    case static_cast<std::uint8_t>(bpdu_type::tcn):
      // 9.3.4 b): any version; only the header is read.
      r.type = bpdu_type::tcn;
      return r;
    case static_cast<std::uint8_t>(bpdu_type::config):
      // 9.3.4 a): any version, at least 35 bytes.
      r.type = bpdu_type::config;
      if (buf.size() < bpdu_config_len) return parse_error::truncated;
      break;
    case static_cast<std::uint8_t>(bpdu_type::rst):
      // 9.3.4 c): version 2 or greater, at least 36 bytes.
      r.type = bpdu_type::rst;
      if (r.version < bpdu_version_rstp) return parse_error::bad_version;
      if (buf.size() < bpdu_rst_len) return parse_error::truncated;
      if (v.version1_length() != 0) return parse_error::bad_length;  // 9.3.3
      break;
    default:
      return parse_error::bad_type;
  }
  r.flags = v.flags();
  r.root = v.root();
  r.root_path_cost = v.root_path_cost();
  r.bridge = v.bridge();
  r.port = v.port();
  r.message_age = v.message_age();
  r.max_age = v.max_age();
  r.hello_time = v.hello_time();
  r.forward_delay = v.forward_delay();
  return r;
}

void bpdu_repr::emit(bpdu_packet v) const noexcept {
  v.set_protocol_id(bpdu_protocol_id);
  v.set_version(version);
  v.set_type(static_cast<std::uint8_t>(type));
  if (type == bpdu_type::tcn) return;
  v.set_flags(flags);
  v.set_root(root);
  v.set_root_path_cost(root_path_cost);
  v.set_bridge(bridge);
  v.set_port(port);
  v.set_message_age(message_age);
  v.set_max_age(max_age);
  v.set_hello_time(hello_time);
  v.set_forward_delay(forward_delay);
  if (type == bpdu_type::rst) v.set_version1_length(0);
}

}  // namespace vnetsim::wire
