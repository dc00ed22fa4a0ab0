#include "vnetsim/wire/tcp.hpp"

namespace vnetsim::wire {

namespace {

namespace opt = tcp_option;

/// Reads the options area into `r`; nullopt when every option is well formed.
std::optional<parse_error> parse_options(const_bytes o, tcp_repr& r) noexcept {
  std::size_t i = 0;
  while (i < o.size()) {
    const std::uint8_t kind = get_u8(o, i);
    if (kind == opt::eol) break;  // the rest is padding (RFC 9293 3.2)
    if (kind == opt::nop) {
      ++i;
      continue;
    }
    // Every other kind has a length byte counting kind and length (RFC 9293 3.1).
    if (i + 1 >= o.size()) return parse_error::bad_option;
    const std::uint8_t len = get_u8(o, i + 1);
    if (len < 2 || len > o.size() - i) return parse_error::bad_option;
    const const_bytes body = o.subspan(i + 2, len - 2U);
    switch (kind) {
      case opt::mss:
        if (len != opt::mss_len) return parse_error::bad_option;
        r.mss = get_u16(body, 0);
        break;
      case opt::window_scale:
        if (len != opt::window_scale_len) return parse_error::bad_option;
        r.window_scale = std::min(get_u8(body, 0), opt::max_window_scale);  // RFC 7323 2.3
        break;
      case opt::sack_permitted:
        if (len != opt::sack_permitted_len) return parse_error::bad_option;
        r.sack_permitted = true;
        break;
      case opt::sack: {
        // RFC 2018 3: length 2 + 8n, n = 1..4.
        const std::size_t n = body.size() / opt::sack_block_len;
        if (body.size() % opt::sack_block_len != 0 || n == 0 || n > opt::max_sack_blocks) {
          return parse_error::bad_option;
        }
        for (std::size_t b = 0; b < n; ++b) {
          r.sack_blocks[b] = {get_u32(body, b * 8), get_u32(body, b * 8 + 4)};
        }
        r.sack_count = static_cast<std::uint8_t>(n);
        break;
      }
      case opt::timestamps:
        if (len != opt::timestamps_len) return parse_error::bad_option;
        r.timestamps = tcp_timestamps{get_u32(body, 0), get_u32(body, 4)};
        break;
      default:
        break;  // unknown kind with a valid length: ignored (RFC 9293 3.1)
    }
    i += len;
  }
  return std::nullopt;
}

/// Option bytes before any SACK blocks: MSS 4, timestamps 12 (with SACK-permitted or two
/// NOPs), SACK-permitted alone 4 (two NOPs), window scale 4 (one NOP).
std::size_t base_options_len(const tcp_repr& r) noexcept {
  std::size_t n = 0;
  if (r.mss) n += opt::mss_len;
  if (r.timestamps) {
    n += 2 + opt::timestamps_len;
  } else if (r.sack_permitted) {
    n += 2 + opt::sack_permitted_len;
  }
  if (r.window_scale) n += 1 + opt::window_scale_len;
  return n;
}

}  // namespace

std::size_t tcp_repr::emitted_sack_count() const noexcept {
  const std::size_t base = base_options_len(*this);
  const std::size_t room = tcp_max_options_len - base;
  if (sack_count == 0 || room < 4 + opt::sack_block_len) return 0;
  return std::min({std::size_t{sack_count}, (room - 4) / opt::sack_block_len,
                   opt::max_sack_blocks});
}

std::size_t tcp_repr::options_len() const noexcept {
  const std::size_t k = emitted_sack_count();
  const std::size_t n = base_options_len(*this) + (k == 0 ? 0 : 4 + k * opt::sack_block_len);
  return (n + 3) / 4 * 4;
}

parse_result<tcp_repr> tcp_repr::parse(tcp_packet_const v, ipv4_address src, ipv4_address dst,
                                       checksum_mode mode) noexcept {
  if (mode == checksum_mode::full && !v.verify_checksum(src, dst)) {
    return parse_error::bad_checksum;
  }
  tcp_repr r;
  r.src_port = v.src_port();
  r.dst_port = v.dst_port();
  r.seq = v.seq_number();
  r.ack = v.ack_number();
  r.flags = v.flags();
  r.window = v.window();
  r.urgent_pointer = v.urgent_pointer();
  if (const auto e = parse_options(v.options(), r)) return *e;
  r.payload = v.payload();
  return r;
}

parse_result<tcp_repr> tcp_repr::parse(const_bytes buf, ipv4_address src, ipv4_address dst,
                                       checksum_mode mode) noexcept {
  const tcp_packet_const v{buf};
  if (const auto e = v.length_error()) return *e;
  return parse(v, src, dst, mode);
}

void tcp_repr::emit(tcp_packet out_view, ipv4_address src, ipv4_address dst,
                    checksum_mode mode) const noexcept {
  // The segment only, not any slack after it in the buffer.
  const tcp_packet v{out_view.buffer().first(buffer_len())};
  const std::size_t hlen = header_len();

  // The checksum is summed from the values as they are written, and from the payload's
  // source before it is copied: reading back the bytes just stored would stall.
  // The payload starts at an even offset (hlen % 4 == 0), so its folded sum is one more
  // big-endian word of the segment.
  const std::uint16_t payload_sum =
      mode == checksum_mode::full ? ones_complement_sum(payload) : std::uint16_t{0};

  // Move the payload before writing options: re-emitted in place with a different header
  // length, its source may overlap the new option area (the fixed header cannot, as the
  // payload starts at 20 or later).
  const bytes data = v.buffer().subspan(hlen);  // not v.payload(): no Data Offset yet
  if (!payload.empty() && payload.data() != data.data()) {
    std::memmove(data.data(), payload.data(), payload.size());
  }

  v.set_src_port(src_port);
  v.set_dst_port(dst_port);
  v.set_seq_number(seq);
  v.set_ack_number(ack);
  v.set_data_offset(static_cast<std::uint8_t>(hlen / 4));
  v.set_flags(flags);
  v.set_window(window);
  v.set_urgent_pointer(urgent_pointer);
  auto acc = ipv4_pseudo_header(src, dst, ip_protocol::tcp,
                                static_cast<std::uint16_t>(buffer_len()));
  acc.add_u16(src_port);
  acc.add_u16(dst_port);
  acc.add_u32(seq);
  acc.add_u32(ack);
  acc.add_u16(static_cast<std::uint16_t>(((hlen / 4) << 12) | static_cast<std::uint8_t>(flags)));
  acc.add_u16(window);
  acc.add_u16(urgent_pointer);

  // Options, each byte also added at its place in a big-endian word (offsets within the
  // option area have the parity of offsets in the segment, since it starts at 20).
  const bytes o = v.options();
  std::size_t i = 0;
  std::uint32_t opt_sum = 0;
  const auto u8 = [&o, &i, &opt_sum](std::uint8_t b) noexcept {
    put_u8(o, i, b);
    opt_sum += (i % 2 == 0) ? std::uint32_t{b} << 8 : std::uint32_t{b};
    ++i;
  };
  const auto u16 = [&u8](std::uint16_t w) noexcept {
    u8(static_cast<std::uint8_t>(w >> 8));
    u8(static_cast<std::uint8_t>(w & 0xff));
  };
  const auto u32 = [&u16](std::uint32_t w) noexcept {
    u16(static_cast<std::uint16_t>(w >> 16));
    u16(static_cast<std::uint16_t>(w & 0xffff));
  };
  if (mss) {
    u8(opt::mss);
    u8(opt::mss_len);
    u16(*mss);
  }
  if (timestamps) {
    if (sack_permitted) {
      u8(opt::sack_permitted);
      u8(opt::sack_permitted_len);
    } else {
      u8(opt::nop);
      u8(opt::nop);
    }
    u8(opt::timestamps);
    u8(opt::timestamps_len);
    u32(timestamps->tsval);
    u32(timestamps->tsecr);
  } else if (sack_permitted) {
    u8(opt::nop);
    u8(opt::nop);
    u8(opt::sack_permitted);
    u8(opt::sack_permitted_len);
  }
  if (window_scale) {
    u8(opt::nop);
    u8(opt::window_scale);
    u8(opt::window_scale_len);
    u8(std::min(*window_scale, opt::max_window_scale));  // RFC 7323 2.3
  }
  if (const std::size_t k = emitted_sack_count(); k != 0) {
    u8(opt::nop);
    u8(opt::nop);
    u8(opt::sack);
    u8(static_cast<std::uint8_t>(2 + k * opt::sack_block_len));
    for (std::size_t b = 0; b < k; ++b) {
      u32(sack_blocks[b].left);
      u32(sack_blocks[b].right);
    }
  }
  fill_zero(o, i, o.size() - i);  // End of Option List, then zero padding (RFC 9293 3.1)

  acc.add_u16(detail::fold(opt_sum));
  acc.add_u16(payload_sum);
  v.set_checksum(mode == checksum_mode::full ? acc.checksum() : 0);
}

}  // namespace vnetsim::wire
