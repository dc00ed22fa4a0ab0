#pragma once
// Two TCP endpoints, each a tcp::connection behind a dev::nic, joined by one dev::link and
// run by kernel::simulator: the path an endpoint stack will give TCP, without ARP or
// routing. Shared by tests/traffic/tcp_nic_test.cpp and bench/tcp_bench.cpp.
//
// Frames are written by tcp::write_frame (checksums offloaded when the NIC has them,
// super-segments when `tso`); arrivals go through nic_set::receive (checksum check), are
// parsed with wire::, and fed to the connection. Each connection's timer is one pending
// event of kind "tcp/timer", moved when next_deadline() changes. End 0 runs a bulk sender.
#include <array>
#include <cstdint>
#include <functional>
#include <optional>

#include "vnetsim/dev/frame_pool.hpp"
#include "vnetsim/dev/link.hpp"
#include "vnetsim/dev/nic.hpp"
#include "vnetsim/kernel/rng.hpp"
#include "vnetsim/kernel/simulator.hpp"
#include "vnetsim/traffic/tcp.hpp"
#include "vnetsim/traffic/tcp_frame.hpp"
#include "vnetsim/wire/ethernet.hpp"
#include "vnetsim/wire/ipv4.hpp"
#include "vnetsim/wire/tcp.hpp"

namespace vnetsim::test_tcp {

struct nic_world_config {
  tcp::config tcp_a, tcp_b;
  dev::nic_capabilities caps;  // both NICs
  dev::link_config link;
  std::uint64_t bulk_bytes = ~std::uint64_t{0};
};

class nic_world {
 public:
  struct end final : tcp::sink {
    nic_world* w = nullptr;
    std::size_t index = 0;
    std::optional<tcp::connection> conn;
    dev::nic_id nic = 0;
    tcp::frame_path path;
    tcp::frame_offload offload;
    std::uint16_t ident = 0;
    kernel::event_handle timer;
    std::optional<sim_time> timer_at;
    std::uint64_t delivered = 0;
    std::uint64_t frame_errors = 0;
    std::uint64_t nic_refused = 0;
    std::optional<sim_time> last_delivery;

    void transmit(sim_time now, const wire::tcp_repr& seg, std::uint64_t off, std::uint32_t len,
                  std::uint16_t tso_mss) override {
      dev::frame_ref f = tcp::write_frame(w->pool, now, path, ident++, seg, off, len, tso_mss, offload);
      if (!f) {
        ++frame_errors;
        return;
      }
      if (w->nics.transmit(nic, std::move(f)) != dev::nic_tx_result::sent) ++nic_refused;
    }
    void deliver(sim_time now, std::uint64_t, std::uint32_t len) override {
      delivered += len;
      last_delivery = now;
      if (w->on_deliver) w->on_deliver(index, now, len);
    }
  };

  kernel::simulator sim;
  kernel::rng_streams streams{1};
  dev::frame_pool pool;
  dev::link_set links{sim, streams};
  dev::nic_set nics{sim, pool, links};
  kernel::event_kind arrive_kind = 0, timer_kind = 0;
  dev::link_id link = 0;
  std::array<end, 2> ends;
  std::uint64_t bulk_bytes;
  std::uint64_t parse_errors = 0;
  /// Every frame a NIC accepted, before it reaches the connection.
  std::function<void(std::size_t to, sim_time now, const dev::frame_ref&)> on_rx;
  std::function<void(std::size_t to, sim_time now, std::uint32_t len)> on_deliver;

  explicit nic_world(const nic_world_config& cfg) : bulk_bytes(cfg.bulk_bytes) {
    arrive_kind = sim.register_kind("tcp-world/arrive", &nic_world::on_arrive, this);
    timer_kind = sim.register_kind("tcp/timer", &nic_world::on_timer, this);
    const std::array<wire::mac_address, 2> macs{wire::mac_address::from_u64(0x005056000001),
                                                wire::mac_address::from_u64(0x005056000002)};
    const std::array<tcp::endpoint, 2> eps{tcp::endpoint{wire::ipv4_address(10, 0, 0, 1), 40000},
                                           tcp::endpoint{wire::ipv4_address(10, 0, 0, 2), 5001}};
    for (std::size_t i = 0; i < 2; ++i) {
      end& e = ends[i];
      e.w = this;
      e.index = i;
      e.conn.emplace(i == 0 ? cfg.tcp_a : cfg.tcp_b, eps[i], eps[1 - i],
                     static_cast<std::uint32_t>(0x10000000u * (i + 1)));
      dev::nic_config nc;
      nc.mac = macs[i];
      nc.speed_bps = cfg.link.bandwidth_bps;
      nc.caps = cfg.caps;
      e.nic = nics.add(i == 0 ? "a" : "b", nc);
      e.path.src_mac = macs[i];
      e.path.dst_mac = macs[1 - i];
      e.path.src_ip = eps[i].addr;
      e.path.dst_ip = eps[1 - i].addr;
      e.offload.checksum = cfg.caps.tx_checksum;
    }
    link = links.add("wire", cfg.link, nics.endpoint_for(ends[0].nic, arrive_kind),
                     nics.endpoint_for(ends[1].nic, arrive_kind));
    nics.attach(ends[0].nic, link, dev::link_side::a);
    nics.attach(ends[1].nic, link, dev::link_side::b);
    sim.reserve(1 << 14);
  }

  tcp::connection& a() { return *ends[0].conn; }
  tcp::connection& b() { return *ends[1].conn; }

  /// B listens, A opens, at now().
  void connect() {
    b().listen(sim.now(), ends[1]);
    a().open_active(sim.now(), ends[0]);
    after(ends[0]);
    after(ends[1]);
  }

  /// After any event of end `e`: A's bulk top-up, then the timer event follows the deadline.
  void after(end& e) {
    tcp::connection& c = *e.conn;
    if (e.index == 0 && (c.current_state() == tcp::state::established)) {
      const std::uint64_t want = bulk_bytes - c.bytes_written();
      if (want != 0) {
        c.send(static_cast<std::size_t>(std::min<std::uint64_t>(want, 1u << 30)), sim.now(), e);
      }
    }
    const auto d = c.next_deadline();
    if (d == e.timer_at) return;
    if (e.timer_at) sim.cancel(e.timer);
    e.timer_at = d;
    if (d) e.timer = sim.schedule_at(std::max(*d, sim.now()), timer_kind, static_cast<std::uint32_t>(e.index));
  }

 private:
  static void on_arrive(void* ctx, kernel::simulator& s, const kernel::event& ev) {
    auto& w = *static_cast<nic_world*>(ctx);
    auto arr = w.links.take_arrival(ev.target);
    if (!arr.frame) return;
    dev::frame_ref f = w.nics.receive(arr.device, std::move(arr.frame));
    if (!f) return;
    end& e = w.ends[arr.device == w.ends[0].nic ? 0 : 1];
    if (w.on_rx) w.on_rx(e.index, s.now(), f);
    const auto bytes = f.cdata();
    const auto ip = wire::ipv4_repr::parse(bytes.subspan(wire::ethernet_header_len),
                                           wire::checksum_mode::skip);
    if (!ip || ip->protocol != wire::ip_protocol::tcp) {
      ++w.parse_errors;
      return;
    }
    const auto l4 = bytes.subspan(wire::ethernet_header_len + ip->header_len(), ip->payload_len);
    const auto seg = wire::tcp_repr::parse(l4, ip->src, ip->dst, wire::checksum_mode::skip);
    if (!seg) {
      ++w.parse_errors;
      return;
    }
    e.conn->on_segment(*seg, seg->payload, s.now(), e);
    w.after(e);
  }

  static void on_timer(void* ctx, kernel::simulator& s, const kernel::event& ev) {
    auto& w = *static_cast<nic_world*>(ctx);
    end& e = w.ends[ev.target];
    e.timer_at.reset();
    e.conn->on_timer(s.now(), e);
    w.after(e);
  }
};

}  // namespace vnetsim::test_tcp
