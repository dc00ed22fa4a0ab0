#include "vnetsim/net/switch.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstring>
#include <optional>
#include <span>
#include <utility>

#include <fmt/format.h>

#include "vnetsim/proto/path_cost.hpp"
#include "vnetsim/wire/bpdu.hpp"
#include "vnetsim/wire/bytes.hpp"
#include "vnetsim/wire/ethernet.hpp"
#include "vnetsim/wire/lacp.hpp"
#include "vnetsim/wire/llc.hpp"
#include "vnetsim/wire/vlan.hpp"

namespace vnetsim::net {

namespace {

/// 802.1D-2004 7.12.6 Table 7-10: 01-80-C2-00-00-00 .. 0F are never relayed.
constexpr std::uint64_t reserved_group_base = 0x0180'c200'0000ULL;
constexpr bool is_reserved_group(wire::mac_address m) noexcept {
  return (m.to_u64() & ~std::uint64_t{0xf}) == reserved_group_base;
}

constexpr std::uint64_t detect_seq_mask = 0x7fff'ffffULL;

using wire::load_be64;

/// The BPDU of an untagged frame to the STP group: 802.3 length-framed, LLC 42 42 03, then
/// the BPDU (802.1D-2004 9.3) [CiscoBPDU]; nullopt when it is not a valid BPDU.
std::optional<wire::bpdu_repr> parse_bpdu_frame(std::span<const std::byte> frame) {
  const auto len = wire::get_u16(frame, wire::ethernet_frame_const::field::type);
  const auto data = wire::length_framed_data(len, frame.subspan(wire::ethernet_header_len));
  if (!data || data->size() < wire::llc_u_header_len) return std::nullopt;
  const auto llc = wire::llc_repr::parse(*data);
  if (!llc || *llc != wire::stp_llc) return std::nullopt;
  const auto bpdu = wire::bpdu_repr::parse(data->subspan(wire::llc_u_header_len));
  if (!bpdu) return std::nullopt;
  return *bpdu;
}

/// The VLAN part of a port configuration, which every member of a channel must share.
bool same_vlan_config(const port_config& a, const port_config& b) noexcept {
  return a.mode == b.mode && a.access_vlan == b.access_vlan &&
         a.allowed_vlans == b.allowed_vlans && a.native_vlan == b.native_vlan;
}

}  // namespace

switch_set::switch_set(kernel::simulator& sim, dev::link_set& links) : sim_(&sim), links_(&links) {
  arrive_kind_ = sim.register_kind("switch/arrive", &switch_set::on_arrival, this);
  carrier_kind_ = sim.register_kind("switch/carrier", &switch_set::on_carrier, this);
  detect_kind_ = sim.register_kind("switch/carrier_detect", &switch_set::on_carrier_detect, this);
  stp_kind_ = sim.register_kind("switch/stp_timer", &switch_set::on_stp_timer, this);
  lacp_kind_ = sim.register_kind("switch/lacp_timer", &switch_set::on_lacp_timer, this);
  events_.reserve(256);
}

switch_set::switch_set(kernel::simulator& sim, dev::link_set& links, dev::frame_pool& pool)
    : switch_set(sim, links) {
  pool_ = &pool;
}

switch_set::~switch_set() = default;

/// Spanning tree engine output for one switch (control path: virtual calls are fine here).
class stp_sink_impl final : public stp::sink {
 public:
  stp_sink_impl(switch_set& set, switch_id id) : set_(&set), id_(id) {}
  void transmit(stp::port_index port, const wire::bpdu_repr& bpdu) override {
    set_->send_bpdu(id_, static_cast<port_no>(port), bpdu);
  }
  void topology_change(bool active, sim_time forward_delay, sim_time now) override {
    // 802.1D-1998 8.3.5: age with Forward Delay while the Topology Change flag is set.
    auto& s = set_->switches_[id_];
    s.table.set_short_ageing_time(forward_delay);
    s.table.set_topology_change(active);
    s.next_sweep = now;
  }

 private:
  switch_set* set_;
  switch_id id_;
};

class rstp_sink_impl final : public rstp::sink {
 public:
  rstp_sink_impl(switch_set& set, switch_id id) : set_(&set), id_(id) {}
  void transmit(rstp::port_index port, const wire::bpdu_repr& bpdu, sim_time) override {
    set_->send_bpdu(id_, static_cast<port_no>(port), bpdu);
  }
  void flush_fdb(rstp::port_index port, rstp::flush_reason, sim_time) override {
    set_->switches_[id_].table.flush_port(static_cast<port_no>(port));
  }

 private:
  switch_set* set_;
  switch_id id_;
};

/// LACP engine output for one switch (control path).
class lacp_sink_impl final : public lacp::sink {
 public:
  lacp_sink_impl(switch_set& set, switch_id id) : set_(&set), id_(id) {}
  void transmit(sim_time, lacp::port_index port, const wire::lacp_repr& pdu) override {
    set_->send_lacpdu(id_, set_->switches_[id_].lacp_ports[port], pdu);
  }

 private:
  switch_set* set_;
  switch_id id_;
};

switch_set::sw& switch_set::at(switch_id id) {
  if (id >= switches_.size()) throw switch_error(fmt::format("switch {}: no such switch", id));
  return switches_[id];
}
const switch_set::sw& switch_set::at(switch_id id) const {
  if (id >= switches_.size()) throw switch_error(fmt::format("switch {}: no such switch", id));
  return switches_[id];
}
switch_set::port& switch_set::at(sw& s, switch_id id, port_no p) {
  if (p >= s.ports.size()) {
    throw switch_error(fmt::format("switch {} ({}) port {}: no such port (the switch has {})", id,
                                   s.cfg.name, p, s.ports.size()));
  }
  return s.ports[p];
}
const switch_set::port& switch_set::at(const sw& s, switch_id id, port_no p) const {
  if (p >= s.ports.size()) {
    throw switch_error(fmt::format("switch {} ({}) port {}: no such port (the switch has {})", id,
                                   s.cfg.name, p, s.ports.size()));
  }
  return s.ports[p];
}

void switch_set::apply_port_config(switch_id id, port& p, port_no n, const port_config& cfg) {
  const auto& name = switches_.empty() || id >= switches_.size() ? std::string() : switches_[id].cfg.name;
  auto bad = [&](std::string_view rule) {
    return switch_error(fmt::format("switch {} ({}) port {}: {}", id, name, n, rule));
  };
  auto check_vid = [&](vlan_id v, std::string_view what) {
    if (v < min_vlan || v > max_vlan) {
      throw bad(fmt::format("{} {} outside 1-4094 (IEEE 802.1Q-2018 Table 9-2)", what, v));
    }
  };
  std::array<std::uint64_t, 64> member{};
  auto set = [&](vlan_id v) { member[v >> 6] |= std::uint64_t{1} << (v & 63); };
  vlan_id pvid = 1;
  if (cfg.mode == port_mode::access) {
    check_vid(cfg.access_vlan, "access VLAN");
    set(cfg.access_vlan);
    pvid = cfg.access_vlan;
  } else {
    check_vid(cfg.native_vlan, "native VLAN");
    if (cfg.allowed_vlans.empty()) {
      for (vlan_id v = min_vlan; v <= max_vlan; ++v) set(v);
    } else {
      for (vlan_id v : cfg.allowed_vlans) {
        check_vid(v, "allowed VLAN");
        set(v);
      }
    }
    if (!((member[cfg.native_vlan >> 6] >> (cfg.native_vlan & 63)) & 1u)) {
      throw bad(fmt::format("native VLAN {} is not in the allowed list", cfg.native_vlan));
    }
    pvid = cfg.native_vlan;
  }
  p.cfg = cfg;
  p.member = member;
  p.pvid = pvid;
  p.trunk = cfg.mode == port_mode::trunk;
  sync_hot(switches_[id], n);
}

switch_id switch_set::add(const switch_config& cfg) {
  const auto id = static_cast<switch_id>(switches_.size());
  if (cfg.ports == 0 || cfg.ports > max_switch_ports) {
    throw switch_error(fmt::format("switch {} ({}): {} ports, must be 1-{}", id, cfg.name,
                                   cfg.ports, max_switch_ports));
  }
  if (cfg.latency < sim_time::zero() || cfg.link_detect_delay < sim_time::zero()) {
    throw switch_error(fmt::format("switch {} ({}): negative latency or detection delay", id,
                                   cfg.name));
  }
  sw s(cfg);
  s.ports.resize(cfg.ports);
  s.hot.resize(cfg.ports);
  s.nports = cfg.ports;
  s.scratch.resize(cfg.ports);
  switches_.push_back(std::move(s));
  sw& added = switches_.back();
  for (port_no n = 0; n < cfg.ports; ++n) {
    try {
      apply_port_config(id, added.ports[n], n, cfg.default_port);
    } catch (...) {
      switches_.pop_back();
      throw;
    }
  }
  if (cfg.stp != stp_mode::none) {
    try {
      if (pool_ == nullptr) {
        throw switch_error(fmt::format(
            "switch {} ({}): a spanning tree needs the switch_set to have a frame pool", id, cfg.name));
      }
      const auto addr = cfg.stp == stp_mode::stp ? cfg.stp_bridge.address : cfg.rstp_bridge.address;
      if (addr.is_zero() || addr.is_multicast()) {
        throw switch_error(fmt::format("switch {} ({}): the spanning tree bridge address must be a "
                                       "unicast MAC, not {}", id, cfg.name, addr));
      }
      make_engine(id);
    } catch (const std::invalid_argument& e) {
      switches_.pop_back();
      if (dynamic_cast<const switch_error*>(&e)) throw;
      throw switch_error(fmt::format("switch {} ({}): spanning tree: {}", id, cfg.name, e.what()));
    }
  }
  nswitches_ = switches_.size();  // the switch is complete: receive() may take frames for it
  return id;
}

void switch_set::make_engine(switch_id id) {
  sw& s = switches_[id];
  const sim_time now = sim_->now();
  if (s.timer.valid()) sim_->cancel(s.timer);
  s.timer = {};
  s.timer_at.reset();
  s.stp.reset();
  s.rstp.reset();
  // Engine ports: the physical ports, then one per channel (see the file comment). A
  // member's own engine port is never enabled; its channel's is, while the channel is up.
  const std::size_t nports = s.ports.size();
  const std::size_t total = nports + s.channels.size();
  auto enabled = [&](std::size_t i) {
    return i < nports ? s.ports[i].oper_up && s.ports[i].channel == no_channel
                      : !s.channels[i - nports].active.empty();
  };
  if (s.cfg.stp == stp_mode::stp) {
    std::vector<stp::port_config> pcs(total);
    for (std::size_t i = 0; i < total; ++i) {
      if (i >= nports) {
        pcs[i].path_cost = channel_path_cost(s, s.channels[i - nports]);
        continue;
      }
      pcs[i].edge = s.ports[i].cfg.edge;
      pcs[i].path_cost = port_path_cost(s, static_cast<port_no>(i));
    }
    s.stp = std::make_unique<stp::engine>(s.cfg.stp_bridge, pcs);
    s.stp_out = std::make_unique<stp_sink_impl>(*this, id);
    for (std::size_t i = 0; i < total; ++i) {
      if (enabled(i)) s.stp->set_port_enabled(i, true, now, *s.stp_out);
    }
    s.stp->start(now, *s.stp_out);
  } else if (s.cfg.stp == stp_mode::rstp) {
    std::vector<rstp::port_config> pcs(total);
    for (std::size_t i = 0; i < total; ++i) {
      if (i >= nports) {
        pcs[i].path_cost = channel_path_cost(s, s.channels[i - nports]);
        continue;
      }
      pcs[i].admin_edge = s.ports[i].cfg.edge;
      pcs[i].path_cost = port_path_cost(s, static_cast<port_no>(i));
    }
    s.rstp = std::make_unique<rstp::engine>(s.cfg.rstp_bridge, pcs);
    s.rstp_out = std::make_unique<rstp_sink_impl>(*this, id);
    for (std::size_t i = 0; i < total; ++i) {
      if (enabled(i)) s.rstp->set_port_enabled(i, true, now, *s.rstp_out);
    }
  }
  after_engine(id);
}

void switch_set::after_engine(switch_id id) {
  sw& s = switches_[id];
  std::optional<sim_time> next;
  // A member reads its channel's engine port.
  if (s.stp) {
    const auto st = s.stp->port_states();
    for (port_no i = 0; i < s.ports.size(); ++i) {
      const auto e = engine_port_of(s, i);
      s.ports[i].stp_learning = stp::learns(st[e]);
      s.ports[i].stp_forwarding = stp::forwards(st[e]);
    }
    next = s.stp->next_deadline();
  } else if (s.rstp) {
    const auto st = s.rstp->ports();
    for (port_no i = 0; i < s.ports.size(); ++i) {
      const auto e = engine_port_of(s, i);
      s.ports[i].stp_learning = rstp::learns(st[e].state);
      s.ports[i].stp_forwarding = rstp::forwards(st[e].state);
    }
    next = s.rstp->next_deadline();
  } else {
    for (auto& p : s.ports) p.stp_learning = p.stp_forwarding = true;
  }
  sync_hot_all(s);
  if (next == s.timer_at && (s.timer.valid() || !next)) return;
  if (s.timer.valid()) sim_->cancel(s.timer);
  s.timer = {};
  s.timer_at = next;
  if (next) s.timer = sim_->schedule_at(std::max(*next, sim_->now()), stp_kind_, id);
}

void switch_set::on_stp_timer(void* ctx, kernel::simulator& sim, const kernel::event& ev) {
  auto& self = *static_cast<switch_set*>(ctx);
  sw& s = self.switches_[ev.target];
  s.timer = {};
  s.timer_at.reset();
  if (s.stp) s.stp->on_timer(sim.now(), *s.stp_out);
  if (s.rstp) s.rstp->on_timer(sim.now(), *s.rstp_out);
  self.after_engine(ev.target);
}

std::size_t switch_set::engine_port_of(const sw& s, port_no n) noexcept {
  const std::uint16_t ch = s.ports[n].channel;
  return ch == no_channel ? std::size_t{n} : s.ports.size() + ch;
}

proto::path_cost_method switch_set::cost_method(const sw& s) noexcept {
  return s.cfg.stp == stp_mode::stp ? s.cfg.stp_bridge.cost_method
                                    : proto::path_cost_method::ieee2004;
}

std::uint32_t switch_set::port_path_cost(const sw& s, port_no n) const {
  const port& p = s.ports[n];
  if (p.cfg.path_cost != 0) return p.cfg.path_cost;
  // The recommended cost of the attached link's speed (802.1D-2004 17.14 Table 17-3, or
  // 802.1D-1998 Table 8-5 under STP's default method; 802.1t's long costs [proto/path_cost.hpp]).
  if (p.attached) return proto::default_path_cost(cost_method(s), links_->config(p.link).bandwidth_bps);
  // Speed unknown: the engine's own default.
  return s.cfg.stp == stp_mode::stp ? stp::port_config{}.path_cost : rstp::port_config{}.path_cost;
}

void switch_set::refresh_port_path_cost(switch_id id, port_no n) {
  sw& s = switches_[id];
  // A member's engine port stays disabled; its channel has its own cost.
  if (s.ports[n].channel != no_channel) return;
  const std::uint32_t cost = port_path_cost(s, n);
  const sim_time now = sim_->now();
  if (s.stp && n < s.stp->port_count() && cost != s.stp->config(n).path_cost) {
    s.stp->set_path_cost(n, cost, now, *s.stp_out);
  } else if (s.rstp && n < s.rstp->port_count() && cost != s.rstp->config(n).path_cost) {
    s.rstp->set_path_cost(n, cost, now, *s.rstp_out);
  } else {
    return;
  }
  after_engine(id);
}

std::uint32_t switch_set::channel_path_cost(const sw& s, const channel& c) const {
  if (c.cfg.path_cost != 0) return c.cfg.path_cost;
  // The aggregate speed of every configured member that is attached (802.1D-2004 17.14
  // Table 17-3 / 802.1D-1998 Table 8-5 with the Aggregator's speed, 802.1AX-2014 6.1).
  std::uint64_t speed = 0;
  for (port_no m : c.members) {
    if (s.ports[m].attached) speed += links_->config(s.ports[m].link).bandwidth_bps;
  }
  return proto::default_path_cost(cost_method(s), speed);
}

void switch_set::channel_engine_enabled(switch_id id, std::uint16_t ch, bool up) {
  sw& s = switches_[id];
  const std::size_t e = s.ports.size() + ch;
  // No engine, or one built before this channel (add_port_channel rebuilds it next).
  if (s.stp ? e >= s.stp->port_count() : !s.rstp || e >= s.rstp->port_count()) return;
  const sim_time now = sim_->now();
  if (s.stp) {
    if (up) {
      const auto cost = channel_path_cost(s, s.channels[ch]);
      if (cost != s.stp->config(e).path_cost) s.stp->set_path_cost(e, cost, now, *s.stp_out);
    }
    s.stp->set_port_enabled(e, up, now, *s.stp_out);
  } else {
    if (up) {
      const auto cost = channel_path_cost(s, s.channels[ch]);
      if (cost != s.rstp->config(e).path_cost) s.rstp->set_path_cost(e, cost, now, *s.rstp_out);
    }
    s.rstp->set_port_enabled(e, up, now, *s.rstp_out);
  }
  after_engine(id);
}

void switch_set::engine_port_enabled(switch_id id, port_no n, bool up) {
  sw& s = switches_[id];
  if (s.ports[n].channel != no_channel) {
    // A member: the spanning tree sees only its channel (rebuild_channel).
  } else if (s.stp) {
    s.stp->set_port_enabled(n, up, sim_->now(), *s.stp_out);
    after_engine(id);
  } else if (s.rstp) {
    s.rstp->set_port_enabled(n, up, sim_->now(), *s.rstp_out);
    after_engine(id);
  }
  if (s.lacp && s.ports[n].lacp_index != no_channel) {
    s.lacp->set_port_enabled(s.ports[n].lacp_index, up, sim_->now(), *s.lacp_out);
    after_lacp(id);
  }
}

void switch_set::engine_receive(switch_id id, port_no n, std::span<const std::byte> frame) {
  sw& s = switches_[id];
  const auto bpdu = parse_bpdu_frame(frame);
  if (!bpdu) {
    ++s.c.bpdus_bad;
    return;
  }
  ++s.c.bpdus_in;
  const std::size_t e = engine_port_of(s, n);  // a member's BPDU is its channel's
  if (s.stp) {
    s.stp->on_pdu(e, *bpdu, sim_->now(), *s.stp_out);
  } else {
    s.rstp->on_pdu(e, *bpdu, sim_->now(), *s.rstp_out);
  }
  after_engine(id);
}

void switch_set::send_bpdu(switch_id id, port_no n, const wire::bpdu_repr& bpdu) {
  sw& s = switches_[id];
  if (n >= s.ports.size()) {
    // A channel's engine port: out of exactly one member, the first active one.
    const channel& c = s.channels[n - s.ports.size()];
    if (c.active.empty()) return;  // not reached: the engine port is disabled then
    n = c.active.front();
  }
  port& p = s.ports[n];
  if (!p.oper_up || pool_ == nullptr) return;
  const std::size_t body = wire::ethernet_header_len + wire::llc_u_header_len + bpdu.buffer_len();
  const std::size_t len = std::max<std::size_t>(body, dev::wire_min_frame);
  auto f = pool_->allocate(len, sim_->now());
  if (!f) {
    ++p.c.out_discards;
    return;
  }
  auto b = f.data();
  std::fill(b.begin(), b.end(), std::byte{0});  // padding
  const auto& addr = s.cfg.stp == stp_mode::stp ? s.cfg.stp_bridge.address : s.cfg.rstp_bridge.address;
  wire::ethernet_repr{wire::stp_group_address, addr, bpdu.length_field()}.emit(wire::ethernet_frame{b});
  wire::stp_llc.emit(wire::llc_header{b.subspan(wire::ethernet_header_len)});
  bpdu.emit(wire::bpdu_packet{b.subspan(wire::ethernet_header_len + wire::llc_u_header_len)});
  ++s.c.bpdus_out;
  transmit(p, s.hot[n], std::move(f), wire::stp_group_address, sim_->now());
}

void switch_set::configure_port(switch_id id, port_no n, const port_config& cfg) {
  sw& s = at(id);
  port& p = at(s, id, n);
  if (p.channel != no_channel && !same_vlan_config(p.cfg, cfg)) {
    throw switch_error(fmt::format(
        "switch {} ({}) port {}: member of port-channel {}: its VLAN configuration must stay "
        "identical to the other members'", id, s.cfg.name, n, s.channels[p.channel].cfg.name));
  }
  apply_port_config(id, p, n, cfg);
  if (!cfg.admin_up && p.err_disabled) clear_err_disabled_flag(id, n);  // as shutdown
  if (p.channel != no_channel) {
    // A member's engine port stays disabled; the channel's has its own cost, never edge.
  } else if (s.stp) {
    s.stp->set_port_edge(n, cfg.edge);
    refresh_port_path_cost(id, n);  // configured, or (0) from the link's speed again
    after_engine(id);
  } else if (s.rstp) {
    s.rstp->set_admin_edge(n, cfg.edge);
    refresh_port_path_cost(id, n);
    after_engine(id);
  }
  update_oper(id, n);
  // VLAN membership changed: forget what was learned on the port.
  s.table.flush_port(n);
}

dev::endpoint switch_set::endpoint(switch_id id, port_no n) const {
  const sw& s = at(id);
  (void)at(s, id, n);
  return {arrive_kind_, carrier_kind_, id, n};
}

void switch_set::attach(switch_id id, port_no n, dev::link_id link, dev::link_side side) {
  sw& s = at(id);
  port& p = at(s, id, n);
  if (p.attached) {
    throw switch_error(fmt::format("switch {} ({}) port {}: already attached to link {}", id,
                                   s.cfg.name, n, links_->name(p.link)));
  }
  const bool carrier = links_->carrier(link);  // throws link_error on an unknown link
  p.attached = true;
  p.link = link;
  p.side = side;
  p.carrier = carrier;
  sync_hot(s, n);
  refresh_port_path_cost(id, n);  // the link's speed is known now
  update_oper(id, n);
}

void switch_set::on_arrival(void* ctx, kernel::simulator&, const kernel::event& ev) {
  auto& self = *static_cast<switch_set*>(ctx);
  auto a = self.links_->take_arrival(ev.target);
  if (a.frame) self.receive(a.device, static_cast<port_no>(a.port), std::move(a.frame));
}

void switch_set::on_carrier(void* ctx, kernel::simulator& sim, const kernel::event& ev) {
  auto& self = *static_cast<switch_set*>(ctx);
  const auto n = static_cast<port_no>(ev.arg & 0xffff'ffffu);
  const bool up = (ev.arg >> 32) & 1u;
  sw& s = self.at(ev.target);
  port& p = self.at(s, ev.target, n);
  if (s.cfg.link_detect_delay == sim_time::zero()) {
    ++p.carrier_seq;
    self.apply_carrier(ev.target, n, up);
    return;
  }
  // The last change within the detection delay wins: older pending detections are stale.
  const std::uint64_t seq = ++p.carrier_seq & detect_seq_mask;
  sim.schedule_in(s.cfg.link_detect_delay, self.detect_kind_, ev.target,
                  (seq << 33) | (std::uint64_t{up} << 32) | n);
}

void switch_set::on_carrier_detect(void* ctx, kernel::simulator&, const kernel::event& ev) {
  auto& self = *static_cast<switch_set*>(ctx);
  const auto n = static_cast<port_no>(ev.arg & 0xffff'ffffu);
  const bool up = (ev.arg >> 32) & 1u;
  const std::uint64_t seq = ev.arg >> 33;
  sw& s = self.at(ev.target);
  port& p = self.at(s, ev.target, n);
  if ((p.carrier_seq & detect_seq_mask) != seq) return;  // superseded
  self.apply_carrier(ev.target, n, up);
}

void switch_set::apply_carrier(switch_id id, port_no n, bool up) {
  switches_[id].ports[n].carrier = up;
  update_oper(id, n);
}

void switch_set::update_oper(switch_id id, port_no n) {
  sw& s = switches_[id];
  port& p = s.ports[n];
  const bool up = s.powered && p.cfg.admin_up && !p.err_disabled && p.attached && p.carrier;
  if (up == p.oper_up) return;
  p.oper_up = up;
  sync_hot(s, n);
  if (!up) s.table.flush_port(n);
  log({up ? switch_event::kind::port_up : switch_event::kind::port_down, sim_->now(), id, n, n, 0,
       {}});
  engine_port_enabled(id, n, up);
  if (p.channel != no_channel) rebuild_channel(id, p.channel);
}

void switch_set::log(const switch_event& e) {
  if (events_.size() >= event_limit_) {
    ++switches_[e.sw].c.events_not_logged;
    return;
  }
  events_.push_back(e);
}

void switch_set::set_admin(switch_id id, port_no n, bool up) {
  sw& s = at(id);
  port& p = at(s, id, n);
  p.cfg.admin_up = up;
  if (!up && p.err_disabled) clear_err_disabled_flag(id, n);  // shutdown recovers it
  update_oper(id, n);
}

void switch_set::clear_err_disable(switch_id id, port_no n) {
  sw& s = at(id);
  if (!at(s, id, n).err_disabled) return;
  clear_err_disabled_flag(id, n);
  update_oper(id, n);
}

bool switch_set::port_err_disabled(switch_id id, port_no n) const {
  const sw& s = at(id);
  return at(s, id, n).err_disabled;
}

void switch_set::clear_err_disabled_flag(switch_id id, port_no n) {
  switches_[id].ports[n].err_disabled = false;
  log({switch_event::kind::err_disable_cleared, sim_->now(), id, n, n, 0, {}});
}

void switch_set::err_disable(switch_id id, port_no n, wire::mac_address src) {
  sw& s = switches_[id];
  port& p = s.ports[n];
  if (p.err_disabled) return;
  p.err_disabled = true;
  ++s.c.bpdu_guard_err_disables;
  log({switch_event::kind::err_disabled, sim_->now(), id, n, n, 0, src});
  update_oper(id, n);  // down now: flushed, engine port disabled, port_down logged
}

void switch_set::set_power(switch_id id, bool on) {
  sw& s = at(id);
  if (s.powered == on) return;
  s.powered = on;
  log({on ? switch_event::kind::power_on : switch_event::kind::power_off, sim_->now(), id, 0, 0, 0,
       {}});
  if (!on) {
    s.table.flush_all();
    s.table.set_topology_change(false);
    if (s.timer.valid()) sim_->cancel(s.timer);
    s.timer = {};
    s.timer_at.reset();
    s.stp.reset();
    s.rstp.reset();
    if (s.lacp) {
      s.lacp.reset();
      after_lacp(id);  // members stop collecting and distributing; timer cancelled
    }
  } else {
    // A rebooted bridge starts from scratch; ports join as carrier returns. The
    // err-disabled state is not kept across a reload.
    for (auto& p : s.ports) p.err_disabled = false;
    if (s.cfg.stp != stp_mode::none) make_engine(id);
    if (!s.lacp_ports.empty()) make_lacp_engine(id);
  }
  for (port_no n = 0; n < s.ports.size(); ++n) {
    port& p = s.ports[n];
    if (!p.attached) continue;
    if (!on && links_->carrier(p.link)) {
      p.powered_down_link = true;
      links_->set_carrier(p.link, false);
    } else if (on && p.powered_down_link) {
      p.powered_down_link = false;
      links_->set_carrier(p.link, true);
    }
    update_oper(id, n);
  }
}

void switch_set::set_trap_ether_type(switch_id id, std::optional<std::uint16_t> type) {
  at(id).trap = type ? std::uint32_t{*type} : no_trap;
}

void switch_set::set_topology_change(switch_id id, bool active) {
  sw& s = at(id);
  s.table.set_topology_change(active);
  s.next_sweep = sim_->now();  // re-sweep at the next frame with the new ageing time
}

std::string_view switch_set::name(switch_id id) const { return at(id).cfg.name; }
std::size_t switch_set::port_count(switch_id id) const { return at(id).ports.size(); }
bool switch_set::port_up(switch_id id, port_no n) const {
  const sw& s = at(id);
  return at(s, id, n).oper_up;
}
bool switch_set::powered(switch_id id) const { return at(id).powered; }
bool switch_set::port_learning(switch_id id, port_no n) const {
  const sw& s = at(id);
  return at(s, id, n).stp_learning;
}
bool switch_set::port_forwarding(switch_id id, port_no n) const {
  const sw& s = at(id);
  return at(s, id, n).stp_forwarding;
}
const stp::engine* switch_set::stp_engine(switch_id id) const { return at(id).stp.get(); }
const rstp::engine* switch_set::rstp_engine(switch_id id) const { return at(id).rstp.get(); }
const port_counters& switch_set::counters(switch_id id, port_no n) const {
  const sw& s = at(id);
  return at(s, id, n).c;
}
const switch_counters& switch_set::counters(switch_id id) const { return at(id).c; }
const net::fdb& switch_set::fdb(switch_id id) const { return at(id).table; }
net::fdb& switch_set::fdb(switch_id id) { return at(id).table; }

std::string switch_set::to_string(const switch_event& e) const {
  const std::string_view n = e.sw < switches_.size() ? std::string_view(switches_[e.sw].cfg.name)
                                                     : std::string_view("?");
  // Logical channel ports print as the channel's name.
  auto pn = [&](port_no p) -> std::string {
    if (e.sw < switches_.size()) {
      const sw& s = switches_[e.sw];
      if (p >= s.ports.size() && p - s.ports.size() < s.channels.size()) {
        return s.channels[p - s.ports.size()].cfg.name;
      }
    }
    return fmt::format("{}", p);
  };
  switch (e.what) {
    case switch_event::kind::mac_flap:
      return fmt::format("{} {}: %SW_MATM-4-MACFLAP_NOTIF: Host {} in vlan {} is flapping between "
                         "port {} and port {}",
                         e.at, n, e.mac, e.vlan, pn(e.other_port), pn(e.port));
    case switch_event::kind::mac_pinned:
      return fmt::format("{} {}: MAC move guard: host {} in vlan {} pinned to port {}", e.at, n,
                         e.mac, e.vlan, pn(e.port));
    case switch_event::kind::port_up:
      return fmt::format("{} {}: port {} up", e.at, n, e.port);
    case switch_event::kind::port_down:
      return fmt::format("{} {}: port {} down", e.at, n, e.port);
    case switch_event::kind::power_off:
      return fmt::format("{} {}: power off", e.at, n);
    case switch_event::kind::power_on:
      return fmt::format("{} {}: power on", e.at, n);
    case switch_event::kind::channel_member_active:
      return fmt::format("{} {}: port {} active in port-channel {}", e.at, n, e.port,
                         pn(e.other_port));
    case switch_event::kind::channel_member_inactive:
      return fmt::format("{} {}: port {} inactive in port-channel {}", e.at, n, e.port,
                         pn(e.other_port));
    case switch_event::kind::err_disabled:
      // The Cisco message's shape (Catalyst 4500 System Message Guide OL-13091-01).
      return fmt::format("{} {}: %SPANTREE-2-BLOCK_BPDUGUARD: Received BPDU on port {} with BPDU "
                         "Guard enabled. Disabling port.", e.at, n, e.port);
    case switch_event::kind::err_disable_cleared:
      return fmt::format("{} {}: port {} re-enabled from err-disable", e.at, n, e.port);
  }
  return {};
}

void switch_set::transmit(port& p, const hot_port& h, dev::frame_ref f, wire::mac_address dst,
                          sim_time ready) {
  const std::size_t len = f.size();
  if (links_->send(h.link, h.side, std::move(f), ready) != dev::send_result::queued) {
    ++p.c.out_discards;
    return;
  }
  p.c.out_octets += len;
  ++p.c.tp_out_frames;
  if (dst.is_broadcast()) {
    ++p.c.out_broadcast_pkts;
  } else if (dst.is_multicast()) {
    ++p.c.out_multicast_pkts;
  } else {
    ++p.c.out_ucast_pkts;
  }
}

void switch_set::sync_hot(sw& s, port_no n) noexcept {
  const port& p = s.ports[n];
  hot_port& h = s.hot[n];
  h.link = p.link;
  h.side = p.side;
  h.pvid = p.pvid;
  h.channel = p.channel;
  h.lport = p.channel == no_channel ? n : static_cast<port_no>(s.ports.size() + p.channel);
  h.flags = static_cast<std::uint8_t>(
      (p.oper_up ? hot_up : 0) | (p.stp_learning ? hot_learning : 0) |
      (p.stp_forwarding ? hot_forwarding : 0) | (p.collecting ? hot_collecting : 0) |
      (p.trunk ? hot_trunk : 0));
}

bool switch_set::hot_in_sync(const sw& s) noexcept {
  for (port_no n = 0; n < s.ports.size(); ++n) {
    const port& p = s.ports[n];
    if (p.oper_up && !s.powered) return false;  // receive() reads hot_up as "and powered"
    const hot_port& h = s.hot[n];
    const auto lport =
        p.channel == no_channel ? n : static_cast<port_no>(s.ports.size() + p.channel);
    const bool ok = h.link == p.link && h.side == p.side && h.pvid == p.pvid &&
                    h.channel == p.channel && h.lport == lport &&
                    ((h.flags & hot_up) != 0) == p.oper_up &&
                    ((h.flags & hot_learning) != 0) == p.stp_learning &&
                    ((h.flags & hot_forwarding) != 0) == p.stp_forwarding &&
                    ((h.flags & hot_collecting) != 0) == p.collecting &&
                    ((h.flags & hot_trunk) != 0) == p.trunk;
    if (!ok) return false;
  }
  return true;
}

void switch_set::sync_hot_all(sw& s) noexcept {
  for (port_no n = 0; n < s.ports.size(); ++n) sync_hot(s, n);
}

void switch_set::learned_other(sw& s, switch_id id, const learn_result& r, port_no lin,
                               vlan_id vlan, wire::mac_address src, sim_time now) {
  switch (r.what) {
    case learn_result::kind::moved:
      ++s.c.mac_flaps;
      log({switch_event::kind::mac_flap, now, id, lin, r.old_port, vlan, src});
      if (r.pinned_now) log({switch_event::kind::mac_pinned, now, id, lin, r.old_port, vlan, src});
      break;
    case learn_result::kind::table_full: ++s.c.learn_table_full; break;
    case learn_result::kind::guarded: ++s.c.move_guard_blocks; break;
    default: break;
  }
}

void switch_set::learn_source(sw& s, switch_id id, vlan_id vlan, wire::mac_address src,
                              port_no lin, sim_time now) {
  const learn_result r = s.table.learn(vlan, src, lin, now);
  if (r.what != learn_result::kind::refreshed && r.what != learn_result::kind::learned) {
    learned_other(s, id, r, lin, vlan, src, now);
  }
}

port_no switch_set::channel_member_of(const sw& s, port_no lport,
                                      std::span<const std::byte> frame) noexcept {
  const channel& c = s.channels[lport - s.nports];
  if (c.active.empty()) return no_channel;
  const std::uint64_t w1 = load_be64(frame.data() + 6);
  const auto dst = wire::mac_address::from_u64(load_be64(frame.data()) >> 16);
  const auto src = wire::mac_address::from_u64(w1 >> 16);
  const auto type = static_cast<std::uint16_t>(w1);
  return c.bucket[channel_hash_of(c.cfg.hash, frame, src, dst, wire::ethernet_header_len, type)];
}

void switch_set::forward_untagged(sw& s, switch_id id, port_no in, dev::frame_ref frame,
                                  sim_time now) {
  const auto data = frame.cdata();
  const std::uint64_t w1 = load_be64(data.data() + 6);
  const auto dst = wire::mac_address::from_u64(load_be64(data.data()) >> 16);
  const auto src = wire::mac_address::from_u64(w1 >> 16);
  const auto type = static_cast<std::uint16_t>(w1);
  const hot_port& ih = s.hot[in];
  forward(s, id, rx_frame{dst, src, type, 0, false, ih.pvid, in, ih.lport, wire::ethernet_header_len},
          std::move(frame), now);
}

void switch_set::receive(switch_id id, port_no in, dev::frame_ref frame) {
  if (id >= nswitches_ || in >= switches_[id].nports) [[unlikely]] {
    (void)at(at(id), id, in);  // throws naming the switch and port
  }
  sw& s = switches_[id];
  const hot_port& ih = s.hot[in];
  assert(hot_in_sync(s));  // debug builds: the hot copy never goes stale
  const sim_time now = sim_->now();
  const auto data = frame.cdata();
  // Fast path: an untagged unicast on a port that is up (so the switch is powered:
  // update_oper), learning, forwarding and collecting, no sweep due, no trap of its type.
  // It does exactly what the general path below does for such a frame, from fewer,
  // compact reads (STYLE.md "Hot path").
  constexpr std::uint8_t rx_ok = hot_up | hot_learning | hot_forwarding | hot_collecting;
  if ((ih.flags & rx_ok) != rx_ok || data.size() < wire::ethernet_header_len ||
      now >= s.next_sweep) [[unlikely]] {
    receive_general(s, id, in, std::move(frame), now);
    return;
  }
  // dst = bytes 0-5 (I/G bit: bit 0 of byte 0), src = bytes 6-11, type = bytes 12-13
  // (IEEE 802.3 3.1.1, 3.2.3).
  const std::uint64_t w1 = load_be64(data.data() + 6);
  const auto src = wire::mac_address::from_u64(w1 >> 16);
  const auto type = static_cast<std::uint16_t>(w1);
  const bool dst_group = (std::to_integer<unsigned>(data[0]) & 1u) != 0;
  if (dst_group || !src.is_unicast() || wire::is_vlan_tpid(type) || type == s.trap) [[unlikely]] {
    receive_general(s, id, in, std::move(frame), now);
    return;
  }
  const std::size_t len = data.size();
  port_counters& ic = s.ports[in].c;
  ic.in_octets += len;
  ++ic.in_ucast_pkts;
  ++ic.tp_in_frames;
  const vlan_id vlan = ih.pvid;
  const port_no lin = ih.lport;
  if (!s.table.refresh(vlan, src, lin, now)) [[unlikely]] learn_source(s, id, vlan, src, lin, now);
  const auto dst = wire::mac_address::from_u64(load_be64(data.data()) >> 16);
  port_no to = s.table.find(vlan, dst, now);
  if (to == net::fdb::no_port || to == lin) [[unlikely]] {
    forward_untagged(s, id, in, std::move(frame), now);  // flood, or filter
    return;
  }
  if (to >= s.nports) [[unlikely]] {
    to = channel_member_of(s, to, data);
    if (to == no_channel) {
      forward_untagged(s, id, in, std::move(frame), now);  // counted there as a drop
      return;
    }
  }
  // Untagged out iff the egress port's PVID is the VLAN (access: its VLAN, so a member;
  // trunk: the native VLAN, always allowed).
  const hot_port& oh = s.hot[to];
  constexpr std::uint8_t tx_ok = hot_up | hot_forwarding;
  if ((oh.flags & tx_ok) != tx_ok || oh.pvid != vlan) [[unlikely]] {
    forward_untagged(s, id, in, std::move(frame), now);
    return;
  }
  // transmit(), for a unicast.
  port_counters& oc = s.ports[to].c;
  if (links_->send(oh.link, oh.side, std::move(frame), now + s.latency) !=
      dev::send_result::queued) [[unlikely]] {
    ++oc.out_discards;
    return;
  }
  oc.out_octets += len;
  ++oc.tp_out_frames;
  ++oc.out_ucast_pkts;
}

void switch_set::receive_general(sw& s, switch_id id, port_no in, dev::frame_ref frame,
                                 sim_time now) {
  port& ip = s.ports[in];
  if (!s.powered) [[unlikely]] {
    ++s.c.powered_off_drops;
    return;
  }
  const auto data = frame.cdata();
  ip.c.in_octets += data.size();
  const auto eth = wire::ethernet_repr::parse(data);
  if (!eth) [[unlikely]] {
    ++ip.c.in_errors;
    return;
  }
  if (eth->dst.is_broadcast()) {
    ++ip.c.in_broadcast_pkts;
  } else if (eth->dst.is_multicast()) {
    ++ip.c.in_multicast_pkts;
  } else {
    ++ip.c.in_ucast_pkts;
  }
  if (!ip.oper_up) [[unlikely]] {
    ++ip.c.in_discards;
    return;
  }
  ++ip.c.tp_in_frames;

  // The tag, parsed once: VLAN classification and ingress filtering (802.1Q-2018 8.6.2).
  bool in_tagged = false;
  std::uint16_t in_tci = 0;
  std::uint16_t inner_type = eth->type_or_len;
  if (wire::is_vlan_tpid(eth->type_or_len)) {
    const auto stack = wire::parse_tag_stack(data);
    if (!stack) [[unlikely]] {
      ++ip.c.in_errors;
      return;
    }
    in_tagged = true;
    in_tci = stack->outer->tci();
    inner_type = stack->inner_type;
  }
  const std::uint16_t tag_vid = in_tci & wire::vlan_vid_mask;
  vlan_id vlan = ip.pvid;
  if (in_tagged && tag_vid != wire::vlan_vid_null) {
    if (!ip.trunk || tag_vid > max_vlan || !ip.is_member(tag_vid)) {
      ++ip.c.in_discards;
      ++ip.c.vlan_discards;
      return;
    }
    vlan = tag_vid;
  }

  if (is_reserved_group(eth->dst)) [[unlikely]] {
    // Never relayed (802.1D-2004 7.12.6); BPDUs go to the spanning tree engine, unless
    // BPDU guard err-disables the port first (with or without an engine).
    if (eth->dst == wire::stp_group_address && !in_tagged && ip.cfg.bpdu_guard) {
      if (parse_bpdu_frame(data)) {
        err_disable(id, in, eth->src);
        return;
      }
    }
    if (eth->dst == wire::stp_group_address && !in_tagged && (s.stp || s.rstp)) {
      engine_receive(id, in, data);
    } else if (eth->dst == wire::slow_protocols_address && !in_tagged &&
               eth->type_or_len == wire::slow_protocols_ether_type && s.lacp &&
               ip.lacp_index != no_channel) {
      lacp_receive(id, in, data);
    } else {
      ++s.c.control_frames;
    }
    return;
  }
  if (inner_type == s.trap) [[unlikely]] {
    ++s.c.trapped;
    return;
  }

  if (!ip.collecting) [[unlikely]] {
    ++ip.c.in_discards;
    ++s.c.channel_not_collecting_drops;
    return;
  }
  if (!ip.stp_learning) {
    ++ip.c.in_discards;
    return;
  }
  // The logical ingress port: the channel, for a member (one port for learning).
  const auto nports = static_cast<port_no>(s.ports.size());
  const port_no lin = ip.channel == no_channel ? in : static_cast<port_no>(nports + ip.channel);
  const std::size_t l3_off = wire::ethernet_header_len + (in_tagged ? wire::vlan_tag_len : 0);
  if (now >= s.next_sweep) [[unlikely]] {
    s.table.sweep(now);
    s.next_sweep = now + s.table.ageing_time_in_force() / 4;
  }
  if (eth->src.is_unicast()) {
    const learn_result r = s.table.learn(vlan, eth->src, lin, now);
    if (r.what != learn_result::kind::learned && r.what != learn_result::kind::refreshed)
        [[unlikely]] {
      learned_other(s, id, r, lin, vlan, eth->src, now);
    }
  }
  if (!ip.stp_forwarding) {
    ++ip.c.in_discards;
    return;
  }
  forward(s, id, rx_frame{eth->dst, eth->src, inner_type, in_tci, in_tagged, vlan, in, lin, l3_off},
          std::move(frame), now);
}

void switch_set::forward(sw& s, switch_id id, const rx_frame& rx, dev::frame_ref frame,
                         sim_time now) {
  (void)id;
  port& ip = s.ports[rx.in];
  const hot_port& ih = s.hot[rx.in];
  const vlan_id vlan = rx.vlan;
  const auto data = frame.cdata();
  const auto nports = static_cast<port_no>(s.ports.size());
  auto member_for = [&](const channel& c) {
    return c.bucket[channel_hash_of(c.cfg.hash, data, rx.src, rx.dst, rx.l3_off, rx.inner_type)];
  };

  // Egress set, each port with its form: 0 untagged, 1 tagged with `vlan`.
  egress* const out = s.scratch.data();  // sized to the port count: no bound checks needed
  std::size_t count = 0;
  std::size_t need[2] = {0, 0};
  auto add = [&](port_no n) {
    const hot_port& h = s.hot[n];
    constexpr std::uint8_t tx_ok = hot_up | hot_forwarding;
    if ((h.flags & tx_ok) != tx_ok) return false;
    std::uint16_t form = 0;
    if (h.flags & hot_trunk) {
      if (!s.ports[n].is_member(vlan)) return false;
      form = vlan != h.pvid;
    } else if (h.pvid != vlan) {
      return false;  // an access port is a member of its VLAN only
    }
    out[count++] = {n, form};
    ++need[form];
    return true;
  };
  if (rx.dst.is_unicast()) {
    if (const auto known = s.table.lookup(vlan, rx.dst, now)) {
      if (*known == rx.lin) {
        ++ip.c.tp_in_discards;  // filtered: the destination is on the ingress segment
        return;
      }
      port_no to = *known;
      if (to >= nports) {
        const channel& c = s.channels[to - nports];
        if (c.active.empty()) [[unlikely]] {
          ++ip.c.in_discards;
          ++s.c.channel_down_drops;
          return;
        }
        to = member_for(c);
      }
      if (!add(to)) {
        ++ip.c.in_discards;
        return;
      }
    } else {
      ++s.c.unknown_unicast_floods;
      if (s.table.size() >= s.table.capacity()) ++s.c.fdb_overflow_floods;
    }
  }
  if (count == 0) {
    // A flood within the VLAN.
    for (port_no n = 0; n < nports; ++n) {
      if (n == rx.in) continue;
      const std::uint16_t ch = s.hot[n].channel;
      if (ch != no_channel) {
        // Split horizon, and one copy per channel: the member the hash picks.
        if (ch == ih.channel) continue;
        const channel& c = s.channels[ch];
        if (c.active.empty() || member_for(c) != n) continue;
      }
      add(n);
    }
    if (count == 0) return;
  }

  // Egress forms: the received frame serves the form it already has; the other is made
  // once (in place when nobody else needs the original).
  const bool in_tagged = rx.in_tagged;
  const std::uint16_t tag_vid = rx.in_tci & wire::vlan_vid_mask;
  const bool is_orig[2] = {!in_tagged, in_tagged && tag_vid == vlan};
  int conversions = static_cast<int>(need[0] && !is_orig[0]) + static_cast<int>(need[1] && !is_orig[1]);
  const bool orig_used = (need[0] && is_orig[0]) || (need[1] && is_orig[1]);
  dev::frame_ref form[2];
  for (int k = 0; k < 2; ++k) {
    if (need[k] == 0) continue;
    if (is_orig[k]) {
      form[k] = frame;
      continue;
    }
    dev::frame_ref f = (!orig_used && conversions == 1) ? std::move(frame) : frame.clone();
    --conversions;
    bool ok = f.unshare();
    if (ok && k == 0) {
      ok = wire::strip_tag_in_place(f.data()).has_value() && f.pull_front(wire::vlan_tag_len);
    } else if (ok && in_tagged) {
      // Priority-tagged in, tagged out: rewrite the VID, keep PCP and DEI.
      wire::put_u16(f.data(), wire::vlan_tag_offset + 2,
                    static_cast<std::uint16_t>((rx.in_tci & ~wire::vlan_vid_mask) | vlan));
    } else if (ok) {
      ok = f.push_front(wire::vlan_tag_len) &&
           wire::emit_tag_in_place(f.data(), wire::vlan_repr{wire::vlan_tpid_c, 0, false, vlan})
               .has_value();
    }
    if (!ok) [[unlikely]] {
      for (std::size_t i = 0; i < count; ++i) {
        if (out[i].form == k) ++s.ports[out[i].port].c.out_discards;
      }
      need[k] = 0;
      continue;
    }
    form[k] = std::move(f);
  }
  frame.reset();
  const sim_time ready = now + s.latency;
  // transmit() for each, with what it would work out per copy worked out once.
  std::uint64_t port_counters::*const out_cast =
      rx.dst.is_broadcast()   ? &port_counters::out_broadcast_pkts
      : rx.dst.is_multicast() ? &port_counters::out_multicast_pkts
                              : &port_counters::out_ucast_pkts;
  const std::size_t len[2] = {form[0].size(), form[1].size()};
  for (std::size_t i = 0; i < count; ++i) {
    const egress e = out[i];
    if (need[e.form] == 0) continue;
    port& p = s.ports[e.port];
    const hot_port& h = s.hot[e.port];
    if (links_->send(h.link, h.side, form[e.form], ready) != dev::send_result::queued) {
      ++p.c.out_discards;  // a shared handle each
      continue;
    }
    p.c.out_octets += len[e.form];
    ++p.c.tp_out_frames;
    ++(p.c.*out_cast);
  }
}

// ---- port-channels ------------------------------------------------------------------------

channel_id switch_set::add_port_channel(switch_id id, const port_channel_config& config) {
  sw& s = at(id);
  port_channel_config cfg = config;
  const auto ch = static_cast<std::uint16_t>(s.channels.size());
  if (cfg.name.empty()) cfg.name = fmt::format("Po{}", ch + 1);
  auto bad = [&](std::string_view rule) {
    return switch_error(fmt::format("switch {} ({}) port-channel {}: {}", id, s.cfg.name, cfg.name,
                                    rule));
  };
  if (cfg.members.empty()) throw bad("no member ports");
  auto sorted = cfg.members;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const port_no m = sorted[i];
    if (m >= s.ports.size()) {
      throw bad(fmt::format("member port {} does not exist (the switch has {})", m,
                            s.ports.size()));
    }
    if (i > 0 && sorted[i - 1] == m) throw bad(fmt::format("member port {} listed twice", m));
    if (s.ports[m].channel != no_channel) {
      throw bad(fmt::format("member port {} is already in port-channel {}", m,
                            s.channels[s.ports[m].channel].cfg.name));
    }
    if (!same_vlan_config(s.ports[m].cfg, s.ports[sorted[0]].cfg)) {
      throw bad(fmt::format("member port {} has a VLAN configuration different from port {} "
                            "(members must be identical)", m, sorted[0]));
    }
  }
  if (cfg.mode == channel_mode::lacp) {
    if (pool_ == nullptr) throw bad("mode lacp needs the switch_set to have a frame pool");
    if (s.cfg.lacp_system.is_zero() || s.cfg.lacp_system.is_multicast()) {
      throw bad(fmt::format("mode lacp needs switch_config::lacp_system to be a unicast MAC, not {}",
                            s.cfg.lacp_system));
    }
  }
  if (s.stp || s.rstp) {
    // The engine gains the channel's port: it is rebuilt below (the spanning tree restarts).
    if (s.timer.valid()) sim_->cancel(s.timer);
    s.timer = {};
    s.timer_at.reset();
    s.stp.reset();
    s.rstp.reset();
  }
  channel c;
  c.cfg = cfg;
  c.members = sorted;
  c.active.reserve(sorted.size());
  s.channels.push_back(std::move(c));
  for (port_no m : sorted) {
    s.ports[m].channel = ch;
    sync_hot(s, m);
    s.table.flush_port(m);  // learning now happens on the channel
  }
  if (cfg.mode == channel_mode::lacp) {
    try {
      make_lacp_engine(id);
    } catch (const lacp::config_error& e) {
      for (port_no m : sorted) s.ports[m].channel = no_channel;
      sync_hot_all(s);
      s.channels.pop_back();
      make_lacp_engine(id);
      if (s.cfg.stp != stp_mode::none && s.powered) make_engine(id);
      throw bad(fmt::format("LACP: {}", e.what()));
    }
  } else {
    rebuild_channel(id, ch);
  }
  if (s.cfg.stp != stp_mode::none && s.powered) {
    try {
      make_engine(id);
    } catch (const std::invalid_argument& e) {
      for (port_no m : sorted) s.ports[m].channel = no_channel;
      sync_hot_all(s);
      s.channels.pop_back();
      if (cfg.mode == channel_mode::lacp) make_lacp_engine(id);
      make_engine(id);
      throw bad(fmt::format("spanning tree: {}", e.what()));
    }
  }
  return ch;
}

void switch_set::make_lacp_engine(switch_id id) {
  sw& s = switches_[id];
  if (s.lacp_timer.valid()) sim_->cancel(s.lacp_timer);
  s.lacp_timer = {};
  s.lacp_timer_at.reset();
  s.lacp.reset();
  s.lacp_ports.clear();
  for (auto& p : s.ports) p.lacp_index = no_channel;
  lacp::system_config sc;
  sc.system_priority = s.cfg.lacp_system_priority;
  sc.system = s.cfg.lacp_system;
  sc.timers = s.cfg.lacp_timers;
  for (std::uint16_t ch = 0; ch < s.channels.size(); ++ch) {
    const channel& c = s.channels[ch];
    if (c.cfg.mode != channel_mode::lacp) continue;
    for (port_no m : c.members) {
      lacp::port_config pc;
      pc.port_number = static_cast<std::uint16_t>(m + 1);  // 6.3.4: non-zero, unique
      pc.port_priority = c.cfg.port_priority;
      pc.key = static_cast<std::uint16_t>(ch + 1);  // one key per channel (6.3.5)
      pc.lacp_activity = c.cfg.activity;
      pc.timeout = c.cfg.rate;
      s.ports[m].lacp_index = static_cast<std::uint16_t>(s.lacp_ports.size());
      s.lacp_ports.push_back(m);
      sc.ports.push_back(pc);
    }
  }
  if (!s.lacp_ports.empty() && s.powered) {
    s.lacp = std::make_unique<lacp::engine>(sc);  // throws lacp::config_error
    if (!s.lacp_out) s.lacp_out = std::make_unique<lacp_sink_impl>(*this, id);
    const sim_time now = sim_->now();
    s.lacp->begin(now, *s.lacp_out);
    for (std::size_t i = 0; i < s.lacp_ports.size(); ++i) {
      if (s.ports[s.lacp_ports[i]].oper_up) {
        s.lacp->set_port_enabled(static_cast<lacp::port_index>(i), true, now, *s.lacp_out);
      }
    }
  }
  after_lacp(id);
}

void switch_set::after_lacp(switch_id id) {
  sw& s = switches_[id];
  std::optional<sim_time> next;
  if (s.lacp) {
    const auto table = s.lacp->port_table();
    for (std::size_t i = 0; i < s.lacp_ports.size(); ++i) {
      port& p = s.ports[s.lacp_ports[i]];
      p.collecting = table[i].collecting;
      p.distributing = table[i].distributing;
    }
    next = s.lacp->next_deadline();
  } else {
    for (port_no m : s.lacp_ports) s.ports[m].collecting = s.ports[m].distributing = false;
  }
  sync_hot_all(s);
  for (std::uint16_t ch = 0; ch < s.channels.size(); ++ch) rebuild_channel(id, ch);
  if (next == s.lacp_timer_at && (s.lacp_timer.valid() || !next)) return;
  if (s.lacp_timer.valid()) sim_->cancel(s.lacp_timer);
  s.lacp_timer = {};
  s.lacp_timer_at = next;
  if (next) s.lacp_timer = sim_->schedule_at(std::max(*next, sim_->now()), lacp_kind_, id);
}

void switch_set::on_lacp_timer(void* ctx, kernel::simulator& sim, const kernel::event& ev) {
  auto& self = *static_cast<switch_set*>(ctx);
  sw& s = self.switches_[ev.target];
  s.lacp_timer = {};
  s.lacp_timer_at.reset();
  if (s.lacp) s.lacp->on_timer(sim.now(), *s.lacp_out);
  self.after_lacp(ev.target);
}

void switch_set::lacp_receive(switch_id id, port_no n, std::span<const std::byte> frame) {
  sw& s = switches_[id];
  const auto idx = s.ports[n].lacp_index;
  const auto pdu = wire::lacp_repr::parse(frame.subspan(wire::ethernet_header_len));
  if (!pdu) {
    ++s.c.lacpdus_bad;
    s.lacp->on_bad_pdu(idx, *pdu.error());
    return;
  }
  ++s.c.lacpdus_in;
  s.lacp->on_pdu(idx, pdu.value(), sim_->now(), *s.lacp_out);
  after_lacp(id);
}

void switch_set::send_lacpdu(switch_id id, port_no n, const wire::lacp_repr& pdu) {
  sw& s = switches_[id];
  port& p = s.ports[n];
  if (!p.oper_up || pool_ == nullptr) return;
  // 14-byte Ethernet header + 110-byte LACPDU = 124 bytes (802.1AX-2014 6.4.2).
  const std::size_t len = wire::ethernet_header_len + pdu.buffer_len();
  auto f = pool_->allocate(len, sim_->now());
  if (!f) {
    ++p.c.out_discards;
    return;
  }
  auto b = f.data();
  wire::ethernet_repr{wire::slow_protocols_address, s.cfg.lacp_system,
                      wire::slow_protocols_ether_type}
      .emit(wire::ethernet_frame{b});
  pdu.emit(wire::lacp_packet{b.subspan(wire::ethernet_header_len)});
  ++s.c.lacpdus_out;
  transmit(p, s.hot[n], std::move(f), wire::slow_protocols_address, sim_->now());
}

void switch_set::rebuild_channel(switch_id id, std::uint16_t ch) {
  sw& s = switches_[id];
  channel& c = s.channels[ch];
  const bool was_up = !c.active.empty();
  const auto cport = static_cast<port_no>(s.ports.size() + ch);
  c.active.clear();  // capacity reserved at creation: no allocation
  for (port_no m : c.members) {
    port& p = s.ports[m];
    const bool act = p.oper_up && p.collecting && p.distributing;
    if (act) c.active.push_back(m);
    if (act != p.channel_active) {
      p.channel_active = act;
      log({act ? switch_event::kind::channel_member_active
               : switch_event::kind::channel_member_inactive,
           sim_->now(), id, m, cport, 0, {}});
    }
  }
  const bool up = !c.active.empty();
  if (up) {
    for (std::size_t b = 0; b < channel_buckets; ++b) c.bucket[b] = c.active[b % c.active.size()];
  } else if (was_up) {
    s.table.flush_port(cport);
  }
  if (up != was_up) channel_engine_enabled(id, ch, up);
}

std::uint8_t switch_set::channel_hash_of(channel_hash h, std::span<const std::byte> frame,
                                         wire::mac_address src, wire::mac_address dst,
                                         std::size_t l3_offset, std::uint16_t l3_type) noexcept {
  std::uint64_t key = 0;
  switch (h) {
    case channel_hash::src_mac: key = src.to_u64(); break;
    case channel_hash::dst_mac: key = dst.to_u64(); break;
    case channel_hash::src_dst_ip:
      // IPv4 (RFC 791): source at 12, destination at 16; anything else: src-dst-mac.
      if (l3_type == 0x0800 && frame.size() >= l3_offset + 20 &&
          (std::to_integer<unsigned>(frame[l3_offset]) >> 4) == 4) {
        key = wire::get_u32(frame, l3_offset + 12) ^ wire::get_u32(frame, l3_offset + 16);
        break;
      }
      [[fallthrough]];
    case channel_hash::src_dst_mac: key = src.to_u64() ^ dst.to_u64(); break;
  }
  key ^= key >> 32;
  key ^= key >> 16;
  key ^= key >> 8;
  return static_cast<std::uint8_t>(key);
}

std::size_t switch_set::channel_count(switch_id id) const { return at(id).channels.size(); }

const port_channel_config& switch_set::channel_config(switch_id id, channel_id ch) const {
  const sw& s = at(id);
  if (ch >= s.channels.size()) {
    throw switch_error(fmt::format("switch {} ({}): no port-channel {}", id, s.cfg.name, ch));
  }
  return s.channels[ch].cfg;
}

port_no switch_set::channel_port(switch_id id, channel_id ch) const {
  (void)channel_config(id, ch);
  return static_cast<port_no>(at(id).ports.size() + ch);
}

std::optional<channel_id> switch_set::channel_of(switch_id id, port_no n) const {
  const sw& s = at(id);
  const port& p = at(s, id, n);
  if (p.channel == no_channel) return std::nullopt;
  return p.channel;
}

std::span<const port_no> switch_set::channel_active(switch_id id, channel_id ch) const {
  (void)channel_config(id, ch);
  return at(id).channels[ch].active;
}

bool switch_set::channel_up(switch_id id, channel_id ch) const {
  return !channel_active(id, ch).empty();
}

std::optional<port_no> switch_set::channel_member_for(switch_id id, channel_id ch,
                                                      std::span<const std::byte> frame) const {
  (void)channel_config(id, ch);
  const channel& c = at(id).channels[ch];
  if (c.active.empty()) return std::nullopt;
  const auto eth = wire::ethernet_repr::parse(frame);
  if (!eth) return std::nullopt;
  std::size_t l3 = wire::ethernet_header_len;
  std::uint16_t type = eth->type_or_len;
  if (wire::is_vlan_tpid(type)) {
    const auto stack = wire::parse_tag_stack(frame);
    if (!stack) return std::nullopt;
    l3 += wire::vlan_tag_len;
    type = stack->inner_type;
  }
  return c.bucket[channel_hash_of(c.cfg.hash, frame, eth->src, eth->dst, l3, type)];
}

const lacp::engine* switch_set::lacp_engine(switch_id id) const { return at(id).lacp.get(); }

std::optional<lacp::port_index> switch_set::lacp_port(switch_id id, port_no n) const {
  const sw& s = at(id);
  const port& p = at(s, id, n);
  if (p.lacp_index == no_channel) return std::nullopt;
  return p.lacp_index;
}

}  // namespace vnetsim::net
