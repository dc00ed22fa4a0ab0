#include "vnetsim/wire/ipv4.hpp"

#include <charconv>

namespace vnetsim::wire {

namespace {

/// Parses one decimal octet, 0..255, without leading zeros or a sign.
std::optional<std::uint8_t> parse_octet(std::string_view s) noexcept {
  if (s.empty() || s.size() > 3 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  unsigned v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v > 255) return std::nullopt;
  return static_cast<std::uint8_t>(v);
}

}  // namespace

std::optional<ipv4_address> ipv4_address::parse(std::string_view text) noexcept {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    const std::size_t dot = text.find('.');
    const bool last = i == 3;
    if (last != (dot == std::string_view::npos)) return std::nullopt;
    const auto octet = parse_octet(text.substr(0, dot));
    if (!octet) return std::nullopt;
    v = (v << 8) | *octet;
    if (!last) text.remove_prefix(dot + 1);
  }
  return ipv4_address{v};
}

std::string ipv4_address::to_string() const {
  const auto o = octets();
  return fmt::format("{}.{}.{}.{}", o[0], o[1], o[2], o[3]);
}

std::optional<ipv4_cidr> ipv4_cidr::parse(std::string_view text) noexcept {
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto addr = ipv4_address::parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  const std::string_view len = text.substr(slash + 1);
  if (len.empty() || len.size() > 2 || (len.size() > 1 && len[0] == '0')) return std::nullopt;
  unsigned n = 0;
  const auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), n);
  if (ec != std::errc{} || end != len.data() + len.size() || n > max_prefix_len) {
    return std::nullopt;
  }
  return ipv4_cidr{*addr, static_cast<std::uint8_t>(n)};
}

std::string ipv4_cidr::to_string() const {
  return fmt::format("{}/{}", address_.to_string(), prefix_len_);
}

parse_result<ipv4_repr> ipv4_repr::parse(ipv4_packet_const v, checksum_mode mode) noexcept {
  if (v.version() != ipv4_version) return parse_error::bad_version;
  if (mode == checksum_mode::full && !v.verify_checksum()) return parse_error::bad_checksum;
  ipv4_repr r;
  r.src = v.src_addr();
  r.dst = v.dst_addr();
  r.protocol = static_cast<ip_protocol>(v.protocol());
  r.payload_len = static_cast<std::uint16_t>(v.total_len() - v.header_len());
  r.ttl = v.ttl();
  r.dscp = v.dscp();
  r.ecn = v.ecn();
  r.ident = v.ident();
  r.dont_frag = v.dont_frag();
  r.more_frags = v.more_frags();
  r.frag_offset = v.frag_offset();
  r.options = v.options();
  return r;
}

parse_result<ipv4_repr> ipv4_repr::parse(const_bytes buf, checksum_mode mode) noexcept {
  const ipv4_packet_const v{buf};
  if (const auto e = v.length_error()) return *e;
  return parse(v, mode);
}

void ipv4_repr::emit(ipv4_packet v, checksum_mode mode) const noexcept {
  const std::size_t hlen = header_len();
  const std::uint8_t ver_ihl =
      ipv4_packet::ver_ihl_byte(ipv4_version, static_cast<std::uint8_t>(hlen / 4));
  const std::uint8_t tos = ipv4_packet::dscp_ecn_byte(dscp, ecn);
  const auto total = static_cast<std::uint16_t>(buffer_len());
  const std::uint16_t flags_frag =
      ipv4_packet::flags_frag_word(dont_frag, more_frags, frag_offset);
  const auto proto = static_cast<std::uint8_t>(protocol);

  // The checksum from the values (RFC 791 3.1: the 16-bit words of the header, the checksum
  // field as zero; RFC 1071), the options summed from their source before they are copied.
  checksum_accumulator acc;
  if (mode == checksum_mode::full) {
    acc.add_u16(static_cast<std::uint16_t>((ver_ihl << 8) | tos));
    acc.add_u16(total);
    acc.add_u16(ident);
    acc.add_u16(flags_frag);
    acc.add_u16(static_cast<std::uint16_t>((ttl << 8) | proto));
    acc.add_u32(src.to_u32());
    acc.add_u32(dst.to_u32());
    if (!options.empty()) acc.add(options);  // the zero padding adds nothing
  }

  put_u8(v.buffer(), ipv4_packet::field::ver_ihl, ver_ihl);
  put_u8(v.buffer(), ipv4_packet::field::dscp_ecn, tos);
  v.set_total_len(total);
  v.set_ident(ident);
  put_u16(v.buffer(), ipv4_packet::field::flags_frag, flags_frag);
  v.set_ttl(ttl);
  v.set_protocol(proto);
  v.set_checksum(mode == checksum_mode::full ? acc.checksum() : 0);
  v.set_src_addr(src);
  v.set_dst_addr(dst);
  const bytes opts = v.options();  // sized by the IHL just written
  // The repr's options may already live in `v` (parse, change a field, emit in place).
  if (!options.empty() && options.data() != opts.data()) {
    std::memmove(opts.data(), options.data(), options.size());
  }
  fill_zero(opts, options.size(), opts.size() - options.size());
}

}  // namespace vnetsim::wire
