#include "vnetsim/traffic/tcp_set.hpp"

#include <algorithm>
#include <array>
#include <tuple>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "vnetsim/wire/bytes.hpp"
#include "vnetsim/wire/ethernet.hpp"
#include "vnetsim/wire/ipv4.hpp"
#include "vnetsim/wire/tcp.hpp"

namespace vnetsim::tcp {

namespace {

/// Ethernet header plus one 802.1Q tag and the IPv4 and TCP headers without options: what
/// a TSO super-frame carries besides its payload.
constexpr std::uint32_t tso_frame_overhead = 14 + 4 + 20 + 20;

/// Whether a connection with `cfg` uses TSO under `mode` on a path with `caps` (nullptr:
/// none known), and the super-segment size.
std::pair<bool, std::uint32_t> tso_for(tso_mode mode, const dev::nic_capabilities* caps,
                                       const config& cfg) noexcept {
  bool on = false;
  switch (mode) {
    case tso_mode::automatic:
      on = caps != nullptr && caps->tso;
      break;
    case tso_mode::on:
      on = true;
      break;
    case tso_mode::off:
      on = false;
      break;
  }
  std::uint32_t max = cfg.tso_max_payload;
  if (on && caps != nullptr && caps->tso && caps->tso_max_frame > tso_frame_overhead) {
    max = std::min(max, caps->tso_max_frame - tso_frame_overhead);
  }
  return {on, max};
}

}  // namespace

void tcp_set::side_sink::transmit(sim_time, const wire::tcp_repr& seg, std::uint64_t off,
                                  std::uint32_t len, std::uint16_t tso_mss) {
  set->transmit(*s, side, seg, off, len, tso_mss);
}

void tcp_set::side_sink::log(sim_time, std::string_view line) { set->log_.emplace_back(line); }

struct tcp_set::session {
  session_id id = 0;
  std::string name;
  std::array<traffic::endpoint_id, 2> ep{};
  std::array<wire::ipv4_address, 2> ip{};
  std::array<std::optional<connection>, 2> conn;  // 0 client, 1 server
  std::array<side_sink, 2> sinks;
  std::optional<bulk_app> bulk;
  std::optional<rr_app> rr;
  tso_mode tso = tso_mode::automatic;
  std::array<config, 2> tcp_cfg;  // as configured, before the path's TSO
  sim_time start;
  bool started = false;
  kernel::event_handle timer;
  std::optional<sim_time> timer_at;
  std::uint64_t tx_dropped = 0;
};

void tcp_set::side_sink::deliver(sim_time now, std::uint64_t off, std::uint32_t len) {
  if (s->bulk) {
    if (side == 1) s->bulk->on_delivered(now, off, len);
  } else if (side == 0) {
    s->rr->on_client_delivered(now, off, len);
  } else {
    s->rr->on_server_delivered(now, off, len);
  }
}

tcp_set::tcp_set(kernel::simulator& sim, traffic::endpoint_set& eps,
                 const kernel::rng_streams& streams)
    : sim_(&sim), eps_(&eps), streams_(&streams) {
  // The engine reaches a session's sink by a direct call: no vtable, and the engine's
  // member templates accept it.
  static_assert(!std::is_polymorphic_v<side_sink>);
  static_assert(output_sink<side_sink>);
  timer_kind_ = sim.register_kind("tcp/timer", &tcp_set::on_timer, this);
}

tcp_set::~tcp_set() = default;

session_id tcp_set::add_tcp_bulk(const bulk_session_config& cfg) {
  auto s = std::make_unique<session>();
  s->bulk.emplace(cfg.app);
  return add(cfg, std::move(s));
}

session_id tcp_set::add_tcp_rr(const rr_session_config& cfg) {
  auto s = std::make_unique<session>();
  s->rr.emplace(cfg.app);
  return add(cfg, std::move(s));
}

session_id tcp_set::add(const session_config& cfg, std::unique_ptr<session> s) {
  const auto fail = [&cfg](std::string_view rule) {
    throw tcp_error(fmt::format("tcp session \"{}\": {}", cfg.name, rule));
  };
  if (cfg.name.empty()) fail("the name is empty");
  if (find(cfg.name)) fail("the name is already used");
  if (cfg.client >= eps_->size() || cfg.server >= eps_->size()) {
    fail(fmt::format("endpoint {} or {} does not exist ({} endpoints)", cfg.client, cfg.server,
                     eps_->size()));
  }
  if (cfg.client == cfg.server) fail("client and server are the same endpoint");
  if (cfg.start < sim_->now()) fail(fmt::format("start {} is before now {}", cfg.start, sim_->now()));
  const auto id = static_cast<session_id>(sessions_.size());
  const std::uint16_t cport =
      cfg.client_port != 0 ? cfg.client_port : static_cast<std::uint16_t>(first_dynamic_port + id % 16384);
  const std::uint16_t sport = cfg.server_port != 0 ? cfg.server_port : default_server_port;
  s->id = id;
  s->name = cfg.name;
  s->ep = {cfg.client, cfg.server};
  s->ip = {eps_->config(cfg.client).ip, eps_->config(cfg.server).ip};
  const std::array<std::uint16_t, 2> port{cport, sport};
  if (bindings_.size() < eps_->size()) bindings_.resize(eps_->size());
  for (int side = 0; side < 2; ++side) {
    for (const binding& b : bindings_[s->ep[side]]) {
      if (b.local_port == port[side] && b.remote == s->ip[1 - side] &&
          b.remote_port == port[1 - side]) {
        fail(fmt::format("{}:{} <-> {}:{} is already used by session \"{}\"", s->ip[side],
                         port[side], s->ip[1 - side], port[1 - side], sessions_[b.s]->name));
      }
    }
  }
  // Connections: TSO per the endpoint's NIC, ISS from the session's stream (RFC 9293 3.4.1
  // asks for unpredictable ISNs; a seeded stream keeps runs reproducible).
  kernel::rng iss = streams_->get(fmt::format("tcp/{}", cfg.name));
  for (int side = 0; side < 2; ++side) {
    config c = side == 0 ? cfg.client_tcp : cfg.server_tcp;
    s->tcp_cfg[side] = c;
    std::tie(c.tso, c.tso_max_payload) = tso_for(cfg.tso, eps_->nic_caps(s->ep[side]), c);
    try {
      s->conn[side].emplace(c, endpoint{s->ip[side], port[side]},
                            endpoint{s->ip[1 - side], port[1 - side]},
                            static_cast<std::uint32_t>(iss.next_u64()));
    } catch (const tcp_error& e) {
      fail(fmt::format("{} configuration: {}", side == 0 ? "client" : "server", e.what()));
    }
    s->sinks[side].set = this;
    s->sinks[side].s = s.get();
    s->sinks[side].side = side;
  }
  for (int side = 0; side < 2; ++side) {
    bindings_[s->ep[side]].push_back({port[side], s->ip[1 - side], port[1 - side], id, side});
    eps_->set_tcp_handler(s->ep[side], &tcp_set::on_rx, this);
  }
  s->tso = cfg.tso;
  s->start = cfg.start;
  sessions_.push_back(std::move(s));
  after(*sessions_.back());
  return id;
}

tcp_set::session& tcp_set::at(session_id s) {
  if (s >= sessions_.size()) throw tcp_error(fmt::format("tcp session {} does not exist", s));
  return *sessions_[s];
}
const tcp_set::session& tcp_set::at(session_id s) const {
  if (s >= sessions_.size()) throw tcp_error(fmt::format("tcp session {} does not exist", s));
  return *sessions_[s];
}

const connection& tcp_set::client(session_id s) const { return *at(s).conn[0]; }
const connection& tcp_set::server(session_id s) const { return *at(s).conn[1]; }

std::optional<session_id> tcp_set::find(std::string_view name) const {
  for (std::size_t i = 0; i < sessions_.size(); ++i) {
    if (sessions_[i]->name == name) return static_cast<session_id>(i);
  }
  return std::nullopt;
}

void tcp_set::stop(session_id id) {
  session& s = at(id);
  if (s.bulk) {
    if (s.conn[0]->current_state() == state::established ||
        s.conn[0]->current_state() == state::close_wait) {
      s.bulk->stop(*s.conn[0], sim_->now(), s.sinks[0]);
    }
  } else {
    s.rr->stop();
  }
  after(s);
}

session_report tcp_set::report(session_id id) const {
  const session& s = at(id);
  session_report r;
  r.name = s.name;
  r.app = s.bulk ? s.bulk->report(*s.conn[0], sim_->now())
                 : s.rr->report(*s.conn[0], *s.conn[1], sim_->now());
  r.client = s.conn[0]->counters();
  r.server = s.conn[1]->counters();
  r.client_state = s.conn[0]->current_state();
  r.server_state = s.conn[1]->current_state();
  r.tx_dropped = s.tx_dropped;
  return r;
}

void tcp_set::transmit(session& s, int side, const wire::tcp_repr& seg, std::uint64_t off,
                       std::uint32_t len, std::uint16_t tso_mss) {
  wire::tcp_repr hdr = seg;
  hdr.payload = {};
  const std::size_t hlen = hdr.header_len();
  dev::frame_ref f = eps_->allocate_ip_frame(hlen + len);
  if (!f) {
    ++s.tx_dropped;  // the pool counted it too
    return;
  }
  const auto l4 = f.data().subspan(traffic::ip_l4_offset, hlen + len);
  hdr.emit(wire::tcp_packet{l4}, s.ip[side], s.ip[1 - side], wire::checksum_mode::skip);
  fill_payload(l4.subspan(hlen), off);
  f.meta().tso_mss = tso_mss;
  // The checksum is filled by send_ip, in software or by the NIC per its offload.
  if (!eps_->send_ip(s.ep[side], s.ip[1 - side], wire::ip_protocol::tcp, std::move(f),
                     traffic::l4_checksum::fill)) {
    ++s.tx_dropped;
  }
}

void tcp_set::on_rx(void* ctx, traffic::endpoint_id ep, const wire::ipv4_address& src,
                    const wire::ipv4_address& dst, dev::frame_ref frame, std::size_t l4_offset) {
  auto& t = *static_cast<tcp_set*>(ctx);
  ++t.counters_.segments_in;
  // The segment ends at the IPv4 Total Length, not at the frame's end (Ethernet padding).
  const auto bytes = frame.cdata();
  const std::size_t ip_off =
      wire::get_u16(bytes, 12) == static_cast<std::uint16_t>(wire::ether_type::vlan) ? 18 : 14;
  const wire::ipv4_packet_const ip{bytes.subspan(ip_off)};
  const std::size_t total = ip.total_len();
  if (ip_off + ip.header_len() != l4_offset || ip_off + total > bytes.size() ||
      total < ip.header_len()) {
    ++t.counters_.bad_segments;
    return;
  }
  const auto l4 = bytes.subspan(l4_offset, total - ip.header_len());
  // A NIC verified the checksum on receive (dev::nic_set::receive), or the frame never
  // passed one (traffic::l4_checksum_pending); otherwise check here.
  const auto mode = t.eps_->nic_checks_rx(ep) || traffic::l4_checksum_pending(frame.meta())
                        ? wire::checksum_mode::skip
                        : wire::checksum_mode::full;
  const auto seg = wire::tcp_repr::parse(l4, src, dst, mode);
  if (!seg) {
    ++t.counters_.bad_segments;
    return;
  }
  for (const binding& b : t.bindings_[ep]) {
    if (b.local_port == seg->dst_port && b.remote == src && b.remote_port == seg->src_port) {
      session& s = *t.sessions_[b.s];
      if (!s.started) break;
      s.conn[b.side]->on_segment(*seg, seg->payload, t.sim_->now(), s.sinks[b.side]);
      t.after(s);
      return;
    }
  }
  ++t.counters_.no_connection;
  t.reset_unknown(ep, src, dst, *seg);
}

void tcp_set::reset_unknown(traffic::endpoint_id ep, const wire::ipv4_address& src,
                            const wire::ipv4_address& dst, const wire::tcp_repr& seg) {
  using wire::tcp_flags;
  // RFC 9293 3.10.7.1 (CLOSED): a RST is discarded; anything else is answered with a RST
  // the sender finds acceptable: <SEQ=SEG.ACK><CTL=RST> when the ACK bit is on, else
  // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> (SEG.LEN counts SYN and FIN).
  if ((seg.flags & tcp_flags::rst) != tcp_flags::none) return;
  wire::tcp_repr r;
  r.src_port = seg.dst_port;
  r.dst_port = seg.src_port;
  if ((seg.flags & tcp_flags::ack) != tcp_flags::none) {
    r.seq = seg.ack;
    r.flags = tcp_flags::rst;
  } else {
    const auto ctl = static_cast<std::uint32_t>((seg.flags & tcp_flags::syn) != tcp_flags::none) +
                     static_cast<std::uint32_t>((seg.flags & tcp_flags::fin) != tcp_flags::none);
    r.seq = 0;
    r.ack = seg.seq + static_cast<std::uint32_t>(seg.payload.size()) + ctl;
    r.flags = tcp_flags::rst | tcp_flags::ack;
  }
  dev::frame_ref f = eps_->allocate_ip_frame(r.header_len());
  if (!f) return;  // the pool counted it
  r.emit(wire::tcp_packet{f.data().subspan(traffic::ip_l4_offset, r.header_len())}, dst, src,
         wire::checksum_mode::skip);
  if (eps_->send_ip(ep, src, wire::ip_protocol::tcp, std::move(f), traffic::l4_checksum::fill)) {
    ++counters_.rsts_sent;
  }
}

void tcp_set::on_timer(void* ctx, kernel::simulator& sim, const kernel::event& ev) {
  auto& t = *static_cast<tcp_set*>(ctx);
  session& s = *t.sessions_[ev.target];
  s.timer_at.reset();
  const sim_time now = sim.now();
  if (!s.started) {
    if (now < s.start) {
      t.after(s);
      return;
    }
    s.started = true;
    s.conn[1]->listen(now, s.sinks[1]);
    s.conn[0]->open_active(now, s.sinks[0]);
  }
  for (int side = 0; side < 2; ++side) {
    const auto d = s.conn[side]->next_deadline();
    if (d && *d <= now) s.conn[side]->on_timer(now, s.sinks[side]);
  }
  if (s.rr) s.rr->on_timer(now);
  t.after(s);
}

void tcp_set::after(session& s) {
  const sim_time now = sim_->now();
  if (s.tso == tso_mode::automatic) {
    // The path's TSO follows the endpoint's capabilities (a bond member joining or
    // leaving changes them [AG2]). Two flag reads per event when nothing changed.
    for (int side = 0; side < 2; ++side) {
      const dev::nic_capabilities* caps = eps_->nic_caps(s.ep[side]);
      const config& now_cfg = s.conn[side]->settings();
      if ((caps != nullptr && caps->tso) == now_cfg.tso) continue;
      const auto [on, max] = tso_for(s.tso, caps, s.tcp_cfg[side]);
      s.conn[side]->set_tso(on, max);
      log_.push_back(fmt::format("{} tcp {} {}: TSO {} (path capabilities changed)", now,
                                 s.name, side == 0 ? "client" : "server", on ? "on" : "off"));
    }
  }
  if (s.started) {
    connection& c = *s.conn[0];
    connection& v = *s.conn[1];
    if (s.bulk) {
      s.bulk->pump(c, now, s.sinks[0]);
      // The receiving end closes once the sender has (its application only reads).
      if (v.current_state() == state::close_wait) v.close(now, s.sinks[1]);
    } else {
      s.rr->pump_client(c, now, s.sinks[0]);
      s.rr->pump_server(v, now, s.sinks[1]);
    }
  }
  std::optional<sim_time> d;
  const auto earliest = [&d](std::optional<sim_time> t) {
    if (t && (!d || *t < *d)) d = t;
  };
  if (!s.started) earliest(s.start);
  earliest(s.conn[0]->next_deadline());
  earliest(s.conn[1]->next_deadline());
  if (s.rr) earliest(s.rr->next_deadline());
  // Lazy re-arming: a deadline that moved later (the RTO restarted by an ACK, every few
  // segments) keeps the pending event, which finds nothing due and re-arms; only an
  // earlier deadline cancels it. So a bulk transfer leaves no cancelled event per ACK in
  // the queue.
  if (s.timer_at && (!d || *d >= *s.timer_at)) return;
  if (s.timer_at) sim_->cancel(s.timer);
  s.timer_at = d;
  if (d) s.timer = sim_->schedule_at(std::max(*d, now), timer_kind_, s.id);
}

}  // namespace vnetsim::tcp
