#include "vnetsim/dev/nic.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "vnetsim/wire/ethernet.hpp"
#include "vnetsim/wire/ipv4.hpp"
#include "vnetsim/wire/tcp.hpp"
#include "vnetsim/wire/udp.hpp"
#include "vnetsim/wire/vlan.hpp"

namespace vnetsim::dev {

namespace {

constexpr std::uint16_t ether_ipv4 = 0x0800;   // RFC 894
constexpr std::uint16_t tpid_8021q = 0x8100;   // IEEE 802.1Q-2018 9.5
constexpr std::uint8_t proto_tcp = 6;          // IANA protocol numbers (RFC 9293, RFC 768)
constexpr std::uint8_t proto_udp = 17;


}  // namespace

nic_set::nic_set(kernel::simulator& sim, frame_pool& pool, link_set& links)
    : sim_(&sim), pool_(&pool), links_(&links) {
  carrier_kind_ = sim.register_kind("nic/carrier", &nic_set::on_carrier, this);
  detect_kind_ = sim.register_kind("nic/link-detect", &nic_set::on_detect, this);
}

nic_id nic_set::add(std::string_view name, const nic_config& cfg) {
  if (cfg.speed_bps == 0) throw nic_error(fmt::format("nic \"{}\": speed must be above 0 bit/s", name));
  if (cfg.rx_ring == 0 || cfg.tx_ring == 0) {
    throw nic_error(fmt::format("nic \"{}\": rx and tx rings need at least one descriptor", name));
  }
  if (cfg.detect_down < sim_time::zero() || cfg.detect_up < sim_time::zero()) {
    throw nic_error(fmt::format("nic \"{}\": link detection delays must not be negative", name));
  }
  if (find(name)) throw nic_error(fmt::format("nic \"{}\": the name is already used", name));
  nic& n = nics_.emplace_back();
  n.name = std::string(name);
  n.cfg = cfg;
  return static_cast<nic_id>(nics_.size() - 1);
}

nic_set::nic& nic_set::at(nic_id id) {
  if (id >= nics_.size()) throw nic_error(fmt::format("nic id {} does not exist", id));
  return nics_[id];
}

const nic_set::nic& nic_set::at(nic_id id) const {
  if (id >= nics_.size()) throw nic_error(fmt::format("nic id {} does not exist", id));
  return nics_[id];
}

std::optional<nic_id> nic_set::find(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < nics_.size(); ++i) {
    if (nics_[i].name == name) return static_cast<nic_id>(i);
  }
  return std::nullopt;
}

endpoint nic_set::endpoint_for(nic_id id, kernel::event_kind arrive_kind) const {
  (void)at(id);
  return endpoint{arrive_kind, carrier_kind_, id, 0};
}

void nic_set::attach(nic_id id, link_id link, link_side side) {
  nic& n = at(id);
  if (n.link) throw nic_error(fmt::format("nic \"{}\": already attached to a link", n.name));
  n.link = link;
  n.side = side;
  n.carrier = links_->carrier(link);
  n.link_up = n.carrier;
  n.tx_ready = n.link_up;
}

void nic_set::charge(nic& n, nic_work w, bool hardware, std::size_t bytes) noexcept {
  const auto i = static_cast<std::size_t>(w);
  if (hardware) {
    ++n.work.hw_ops[i];
    return;
  }
  ++n.work.sw_ops[i];
  n.work.sw_bytes[i] += bytes;
  const cpu_cost& c = n.cfg.cost.software[i];
  n.work.sw_cpu_ns += c.ns_per_op + (std::uint64_t{c.ps_per_byte} * bytes) / 1000;
}

bool nic_set::fill_checksums(nic& n, frame_ref& f, csum_offload what) {
  const auto off = wire::frame_ipv4_offset(f.cdata());
  if (!off) return false;
  const wire::ipv4_packet ip{f.data().subspan(*off)};
  const std::size_t ip_len = ip.total_len();
  if (has(what, csum_offload::ipv4_header)) {
    ip.fill_checksum();
    charge(n, nic_work::tx_checksum, n.cfg.caps.tx_checksum, ip.header_len());
  }
  if (has(what, csum_offload::l4) && !ip.more_frags() && ip.frag_offset() == 0) {
    const std::span<std::byte> l4 = ip.buffer().subspan(ip.header_len(), ip_len - ip.header_len());
    if (ip.protocol() == proto_tcp) {
      if (l4.size() < wire::tcp_min_header_len) return false;
      wire::tcp_packet{l4}.fill_checksum(ip.src_addr(), ip.dst_addr());
    } else if (ip.protocol() == proto_udp) {
      if (l4.size() < wire::udp_header_len) return false;
      wire::udp_packet{l4}.fill_checksum(ip.src_addr(), ip.dst_addr());
    } else {
      return false;
    }
    charge(n, nic_work::tx_checksum, n.cfg.caps.tx_checksum, l4.size());
  }
  return true;
}

nic_tx_result nic_set::send_one(nic& n, frame_ref f) {
  if (f.meta().vlan_tci) {
    // Insert the descriptor's tag into the headroom: 12 address bytes move, the payload
    // does not. A shared buffer (a flood) is copied first so other holders keep theirs,
    // and the metadata edited below is the copy's (taken after unshare()).
    if (!f.unique()) {
      f.unshare();
      ++n.stats.copies;
    }
    frame_meta& m = f.meta();
    const wire::vlan_repr tag{tpid_8021q, static_cast<std::uint8_t>(*m.vlan_tci >> 13),
                              ((*m.vlan_tci >> 12) & 1) != 0,
                              static_cast<std::uint16_t>(*m.vlan_tci & 0x0fff)};
    if (!f.push_front(wire::vlan_tag_len)) {
      ++n.stats.ifOutErrors;
      return nic_tx_result::malformed;
    }
    if (!wire::emit_tag_in_place(f.data(), tag)) {
      ++n.stats.ifOutErrors;
      return nic_tx_result::malformed;
    }
    m.vlan_tci.reset();
    charge(n, nic_work::vlan_insert, n.cfg.caps.vlan_insert, wire::vlan_tag_len);
  }
  return send_plain(n, std::move(f));
}

nic_tx_result nic_set::segment(nic& n, frame_ref f) {
  // TCP segmentation (the hardware's, or the host's in software): each segment gets a
  // copy of the headers, its share of the payload, its own IPv4 Total Length and
  // Identification (incremented per segment), TCP sequence number and checksums; FIN and
  // PSH stay on the last segment only and CWR on the first only (RFC 3168 6.1.2 for CWR).
  const auto off = wire::frame_ipv4_offset(f.cdata());
  if (!off) {
    ++n.stats.ifOutErrors;
    return nic_tx_result::malformed;
  }
  const wire::ipv4_packet_const ip{f.cdata().subspan(*off)};
  if (ip.protocol() != proto_tcp || ip.more_frags() || ip.frag_offset() != 0) {
    ++n.stats.ifOutErrors;
    return nic_tx_result::malformed;
  }
  const std::size_t ip_hlen = ip.header_len();
  const std::span<const std::byte> seg_bytes =
      ip.buffer().subspan(ip_hlen, std::size_t{ip.total_len()} - ip_hlen);
  if (seg_bytes.size() < wire::tcp_min_header_len) {
    ++n.stats.ifOutErrors;
    return nic_tx_result::malformed;
  }
  const wire::tcp_packet_const tcp{seg_bytes};
  const std::size_t tcp_hlen = tcp.header_len();
  if (tcp_hlen < wire::tcp_min_header_len || tcp_hlen > seg_bytes.size()) {
    ++n.stats.ifOutErrors;
    return nic_tx_result::malformed;
  }
  const std::size_t hdr_len = *off + ip_hlen + tcp_hlen;
  const std::span<const std::byte> payload = seg_bytes.subspan(tcp_hlen);
  const std::size_t mss = f.meta().tso_mss;
  const bool hw = n.cfg.caps.tso;
  const std::uint32_t seq0 = tcp.seq_number();
  const std::uint16_t ident0 = ip.ident();
  const auto flags0 = static_cast<std::uint8_t>(tcp.flags());
  constexpr std::uint8_t fin_psh = 0x01 | 0x08;  // RFC 9293 3.1 control bits
  constexpr std::uint8_t cwr = 0x80;             // RFC 3168 6.1.2
  const std::size_t count = (payload.size() + mss - 1) / mss;
  nic_tx_result result = nic_tx_result::sent;
  for (std::size_t i = 0, done = 0; i < count; ++i) {
    const std::size_t len = std::min(mss, payload.size() - done);
    frame_ref g = pool_->allocate(hdr_len + len, sim_->now());
    if (!g) {  // pool exhausted: counted by the pool, and here
      ++n.stats.ifOutDiscards;
      result = nic_tx_result::queue_full;
      done += len;
      continue;
    }
    std::memcpy(g.data().data(), f.cdata().data(), hdr_len);
    std::memcpy(g.data().data() + hdr_len, payload.data() + done, len);
    g.meta() = f.meta();
    g.meta().tso_mss = 0;
    g.meta().csum = csum_offload::none;
    const wire::ipv4_packet gip{g.data().subspan(*off)};
    gip.set_total_len(static_cast<std::uint16_t>(ip_hlen + tcp_hlen + len));
    gip.set_ident(static_cast<std::uint16_t>(ident0 + i));
    gip.fill_checksum();
    const wire::tcp_packet gtcp{gip.buffer().subspan(ip_hlen, tcp_hlen + len)};
    gtcp.set_seq_number(seq0 + static_cast<std::uint32_t>(done));
    std::uint8_t flags = flags0;
    if (i + 1 < count) flags &= static_cast<std::uint8_t>(~fin_psh);
    if (i > 0) flags &= static_cast<std::uint8_t>(~cwr);
    gtcp.set_flags(static_cast<wire::tcp_flags>(flags));
    gtcp.fill_checksum(gip.src_addr(), gip.dst_addr());
    charge(n, nic_work::tx_checksum, hw || n.cfg.caps.tx_checksum, ip_hlen + tcp_hlen + len);
    const auto r = send_one(n, std::move(g));
    if (r != nic_tx_result::sent) result = r;
    done += len;
  }
  charge(n, nic_work::segmentation, hw, payload.size() + count * hdr_len);
  return result;
}

nic_tx_result nic_set::transmit_checked(nic& n, frame_ref frame) {
  if (!n.link) {
    ++n.stats.ifOutDiscards;
    return nic_tx_result::not_attached;
  }
  if (!n.link_up) {
    ++n.stats.ifOutDiscards;
    return nic_tx_result::link_down;
  }
  if (frame.size() < wire::ethernet_header_len) {
    ++n.stats.ifOutErrors;
    return nic_tx_result::malformed;
  }
  const frame_meta& m = frame.meta();
  if (m.tso_mss != 0 && frame.size() > wire::ethernet_header_len + wire::ethernet_max_payload_len) {
    if (n.cfg.caps.tso && frame.size() > n.cfg.caps.tso_max_frame) {
      ++n.stats.ifOutDiscards;
      return nic_tx_result::too_big;
    }
    return segment(n, std::move(frame));
  }
  if (m.csum != csum_offload::none) {
    if (!frame.unique()) {
      frame.unshare();
      ++n.stats.copies;
    }
    if (!fill_checksums(n, frame, m.csum)) {
      ++n.stats.ifOutErrors;
      return nic_tx_result::malformed;
    }
    frame.meta().csum = csum_offload::none;
  }
  return send_one(n, std::move(frame));
}

frame_ref nic_set::receive(nic_id id, frame_ref f) {
  nic& n = nics_[id];
  if (!f) return f;
  if (!n.link_up || f.size() < wire::ethernet_header_len) {
    ++n.stats.ifInDiscards;
    return frame_ref{};
  }
  const auto dst = wire::mac_address::read(f.cdata(), 0);
  if (!n.cfg.promiscuous && dst.is_unicast() && dst != n.cfg.mac) {
    ++n.stats.ifInDiscards;
    return frame_ref{};
  }
  n.stats.ifInOctets += f.size();
  if (dst.is_broadcast()) {
    ++n.stats.ifInBroadcastPkts;
  } else if (dst.is_multicast()) {
    ++n.stats.ifInMulticastPkts;
  } else {
    ++n.stats.ifInUcastPkts;
  }
  // Checksum verification of IPv4 and its TCP/UDP payload (unfragmented datagrams).
  if (const auto off = wire::frame_ipv4_offset(f.cdata())) {
    const wire::ipv4_packet_const ip{f.cdata().subspan(*off)};
    bool ok = ip.verify_checksum();
    std::size_t bytes = ip.header_len();
    if (ok && !ip.more_frags() && ip.frag_offset() == 0) {
      const auto l4 = ip.payload();
      if (ip.protocol() == proto_tcp && l4.size() >= wire::tcp_min_header_len) {
        ok = wire::tcp_packet_const{l4}.verify_checksum(ip.src_addr(), ip.dst_addr());
        bytes += l4.size();
      } else if (ip.protocol() == proto_udp && l4.size() >= wire::udp_header_len) {
        const wire::udp_packet_const udp{l4};
        ok = !udp.length_error() && udp.verify_checksum(ip.src_addr(), ip.dst_addr());
        bytes += l4.size();
      }
    }
    charge(n, nic_work::rx_checksum, n.cfg.caps.rx_checksum, bytes);
    if (!ok) {
      ++n.stats.ifInErrors;
      return frame_ref{};
    }
  }
  if (n.cfg.rx_vlan_strip && f.size() >= wire::ethernet_header_len + 4 &&
      wire::get_u16(f.cdata(), 12) == tpid_8021q) {
    if (!f.unique()) {
      f.unshare();
      ++n.stats.copies;
    }
    const std::uint16_t tci = wire::get_u16(f.cdata(), 14);
    if (wire::strip_tag_in_place(f.data()) && f.pull_front(wire::vlan_tag_len)) {
      f.meta().vlan_tci = tci;
      charge(n, nic_work::vlan_strip, n.cfg.caps.vlan_strip, wire::vlan_tag_len);
    }
  }
  return f;
}

void nic_set::on_carrier(void* ctx, kernel::simulator& sim, const kernel::event& ev) {
  auto& self = *static_cast<nic_set*>(ctx);
  nic& n = self.nics_[ev.target];
  const bool up = (ev.arg >> 32) != 0;
  n.carrier = up;
  ++n.detect_generation;  // a pending detection of the opposite change is now stale
  const sim_time delay = up ? n.cfg.detect_up : n.cfg.detect_down;
  if (delay == sim_time::zero()) {
    self.set_link(ev.target, up);
  } else {
    sim.schedule_in(delay, self.detect_kind_, ev.target, (n.detect_generation << 1) | (up ? 1 : 0));
  }
}

void nic_set::on_detect(void* ctx, kernel::simulator&, const kernel::event& ev) {
  auto& self = *static_cast<nic_set*>(ctx);
  const nic& n = self.nics_[ev.target];
  if ((ev.arg >> 1) != n.detect_generation) return;  // the carrier changed again meanwhile
  self.set_link(ev.target, (ev.arg & 1) != 0);
}

void nic_set::set_link(nic_id id, bool up) {
  nic& n = nics_[id];
  if (n.link_up == up) return;
  n.link_up = up;
  n.tx_ready = up && n.link.has_value();
  ++n.stats.link_changes;
  if (n.cfg.owner_kind != 0) {
    sim_->schedule_at(sim_->now(), n.cfg.owner_kind, n.cfg.owner_target,
                      std::uint64_t{id} | (std::uint64_t{up} << 32));
  }
}

}  // namespace vnetsim::dev
