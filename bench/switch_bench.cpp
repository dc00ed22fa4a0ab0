// Switch forwarding cost (issue "Physical network": learned unicast <= 30 ns per frame,
// flooding to 48 ports).
//
// Two ways of driving the switch:
// - receive(): switch_set::receive() is called directly, one frame per benchmark iteration,
//   so "Time" is ns per frame. The egress events pile up and are drained by sim.run()
//   every `drain_every` frames. `_recv_only` pauses timing around the drain: it measures the
//   switch's own work (parse, VLAN, fdb learn/lookup, egress choice, counters) plus
//   link_set::send (ring slot and one event push). `_hop` keeps the drain timed: the egress
//   arrival event (pop, dispatch, take_arrival, frame release) is included too.
// - end to end (`bm_switch_known_unicast`, `bm_switch_flood_16`): a batch of frames is queued
//   on the ingress link and the simulator is run dry, so an iteration is a batch and the
//   numbers include two link hops and two events per frame.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "vnetsim/net/switch.hpp"

using namespace vnetsim;

namespace {

struct bench_world {
  kernel::simulator sim;
  kernel::rng_streams streams{1};
  dev::frame_pool pool;
  dev::link_set links{sim, streams};
  net::switch_set sws{sim, links};
  kernel::event_kind sink_kind = 0;
  std::vector<dev::link_id> host_link;
  std::uint64_t delivered = 0;
  net::switch_id sw = 0;

  /// `configure(port, cfg)` may change each port's configuration before it is attached.
  template <class Configure>
  bench_world(std::uint16_t ports, Configure&& configure) {
    sink_kind = sim.register_kind(
        "bench/sink",
        [](void* ctx, kernel::simulator&, const kernel::event& ev) {
          auto& w = *static_cast<bench_world*>(ctx);
          if (w.links.take_arrival(ev.target).frame) ++w.delivered;
        },
        this);
    net::switch_config cfg;
    cfg.name = "sw";
    cfg.ports = ports;
    sw = sws.add(cfg);
    dev::link_config lc;
    lc.bandwidth_bps = 100'000'000'000;  // keep queues short: the switch is what is measured
    lc.queue_frames = 0;
    for (net::port_no p = 0; p < ports; ++p) {
      net::port_config pc;
      if (configure(p, pc)) sws.configure_port(sw, p, pc);
      const auto id = links.add(fmt::format("h{}", p), lc, {sink_kind, 0, p, 0}, sws.endpoint(sw, p));
      sws.attach(sw, p, id, dev::link_side::b);
      host_link.push_back(id);
    }
    sim.reserve(1 << 16);
  }
  explicit bench_world(std::uint16_t ports)
      : bench_world(ports, [](net::port_no, net::port_config&) { return false; }) {}

  /// A 60-byte frame, IPv4-typed, optionally 802.1Q-tagged with `vid`.
  dev::frame_ref frame(std::uint64_t dst, std::uint64_t src, int vid = -1) {
    auto f = pool.allocate(60, sim.now());
    std::memset(f.data().data(), 0, 60);
    wire::mac_address::from_u64(dst).write(f.data(), 0);
    wire::mac_address::from_u64(src).write(f.data(), 6);
    std::size_t off = 12;
    if (vid >= 0) {
      f.data()[12] = std::byte{0x81};
      f.data()[13] = std::byte{0x00};
      f.data()[14] = static_cast<std::byte>((vid >> 8) & 0x0f);
      f.data()[15] = static_cast<std::byte>(vid & 0xff);
      off = 16;
    }
    f.data()[off] = std::byte{0x08};
    return f;
  }

  /// Host a and host b speak once each, so both MACs are learned (a on port 0, b on port 1).
  void learn_pair(std::uint64_t a, std::uint64_t b) {
    links.send(host_link[0], dev::link_side::a, frame(b, a));
    links.send(host_link[1], dev::link_side::a, frame(a, b));
    sim.run();
  }
};

constexpr std::uint64_t mac_a = 0x0050'5600'0001ULL;
constexpr std::uint64_t mac_b = 0x0050'5600'0002ULL;
constexpr std::uint64_t mac_bcast = 0xffff'ffff'ffffULL;

/// ns per frame as a counter (the Time column already is, for one frame per iteration).
benchmark::Counter per_frame(double frames) {
  return benchmark::Counter(frames, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

/// Calls receive(sw, in, f) once per iteration; every `drain_every` frames runs the
/// simulator dry, with the timer paused when `pause_drain`. Returns frames received.
std::uint64_t receive_loop(benchmark::State& state, bench_world& w, net::port_no in,
                           const dev::frame_ref& f, int drain_every, bool pause_drain) {
  std::uint64_t frames = 0;
  int k = 0;
  for (auto _ : state) {
    w.sws.receive(w.sw, in, f);  // a new reference; the shared buffer is never edited
    ++frames;
    if (++k == drain_every) {
      k = 0;
      if (pause_drain) state.PauseTiming();
      w.sim.run();
      if (pause_drain) state.ResumeTiming();
    }
  }
  w.sim.run();  // the loop has stopped the timer
  return frames;
}

// ---- learned unicast ------------------------------------------------------------------------

/// 1024 frames between drains: PauseTiming/ResumeTiming (a few hundred ns, CPU-time clock
/// reads) adds well under 1 ns per frame; the event heap stays at 1024 entries.
constexpr int unicast_drain = 1024;

void unicast_receive(benchmark::State& state, bool pause_drain) {
  bench_world w(static_cast<std::uint16_t>(state.range(0)));
  w.learn_pair(mac_a, mac_b);
  const auto f = w.frame(mac_b, mac_a);
  const auto delivered0 = w.delivered;
  const auto frames = receive_loop(state, w, 0, f, unicast_drain, pause_drain);
  state.SetItemsProcessed(static_cast<std::int64_t>(frames));
  state.counters["ns/frame"] = per_frame(static_cast<double>(frames));
  if (w.sws.counters(w.sw).unknown_unicast_floods != 1) state.SkipWithError("unexpected floods");
  if (w.delivered - delivered0 != frames) state.SkipWithError("frames lost");
}

/// (a) receive() + link_set::send only; the egress arrival events run untimed.
void bm_switch_unicast_recv_only(benchmark::State& state) { unicast_receive(state, true); }
BENCHMARK(bm_switch_unicast_recv_only)->Arg(2)->Arg(49);

/// (b) the full hop: (a) plus the egress arrival event (pop, dispatch, take_arrival, release).
void bm_switch_unicast_hop(benchmark::State& state) { unicast_receive(state, false); }
BENCHMARK(bm_switch_unicast_hop)->Arg(2)->Arg(49);

// ---- flooding to 48 ports ---------------------------------------------------------------------

/// 64 frames x 48 copies = 3072 events between drains.
constexpr int flood_drain = 64;
constexpr std::uint16_t flood_ports = 49;

void flood_receive(benchmark::State& state, bench_world& w, const dev::frame_ref& f,
                   bool pause_drain) {
  const auto delivered0 = w.delivered;
  const auto frames = receive_loop(state, w, 0, f, flood_drain, pause_drain);
  const auto copies = w.delivered - delivered0;
  state.SetItemsProcessed(static_cast<std::int64_t>(frames));
  state.counters["ns/frame"] = per_frame(static_cast<double>(frames));
  state.counters["ns/copy"] = per_frame(static_cast<double>(copies));
  state.counters["copies/s"] = benchmark::Counter(static_cast<double>(copies), benchmark::Counter::kIsRate);
  if (copies != frames * (flood_ports - 1)) state.SkipWithError("not 48 copies per frame");
}

/// Broadcast into one 49-port switch, every port an access port of VLAN 1 (untagged in and
/// out): one buffer, 48 handles, 48 sends.
void bm_switch_flood48(benchmark::State& state) {
  bench_world w(flood_ports);
  const auto f = w.frame(mac_bcast, mac_a);
  flood_receive(state, w, f, state.range(0) != 0);
}
BENCHMARK(bm_switch_flood48)->ArgName("pause_drain")->Arg(1)->Arg(0);

/// Mixed tagging, VLAN 10: odd ports are access ports of VLAN 10 (untagged), even ports
/// trunks allowing 1 and 10, native 1 (tagged 10); 24 of each form among the 48 egress
/// ports. Ingress port 0 is a trunk: arg tagged_in=1 sends a frame tagged 10 (the
/// original serves the trunks, one untagged copy is made by clone + strip); tagged_in=0
/// uses port 1 (access 10) as the ingress with an untagged frame (the original serves the
/// access ports, one tagged copy is made by clone + push); the egress split then is 25
/// tagged / 23 untagged.
void bm_switch_flood48_mixed(benchmark::State& state) {
  const bool tagged_in = state.range(0) != 0;
  bench_world w(flood_ports, [](net::port_no p, net::port_config& pc) {
    if (p % 2 == 1) {
      pc.access_vlan = 10;
    } else {
      pc.mode = net::port_mode::trunk;
      pc.allowed_vlans = {1, 10};
      pc.native_vlan = 1;
    }
    return true;
  });
  const auto f = tagged_in ? w.frame(mac_bcast, mac_a, 10) : w.frame(mac_bcast, mac_a);
  const net::port_no in = tagged_in ? 0 : 1;
  const auto delivered0 = w.delivered;
  const auto frames = receive_loop(state, w, in, f, flood_drain, state.range(1) != 0);
  const auto copies = w.delivered - delivered0;
  state.SetItemsProcessed(static_cast<std::int64_t>(frames));
  state.counters["ns/frame"] = per_frame(static_cast<double>(frames));
  state.counters["ns/copy"] = per_frame(static_cast<double>(copies));
  state.counters["copies/s"] = benchmark::Counter(static_cast<double>(copies), benchmark::Counter::kIsRate);
  if (copies != frames * (flood_ports - 1)) state.SkipWithError("not 48 copies per frame");
}
BENCHMARK(bm_switch_flood48_mixed)
    ->ArgNames({"tagged_in", "pause_drain"})
    ->Args({1, 1})
    ->Args({0, 1})
    ->Args({1, 0})
    ->Args({0, 0});

// ---- end to end: ingress link, arrival, switch, egress link, sink -------------------------------

constexpr int batch = 256;

void bm_switch_known_unicast(benchmark::State& state) {
  bench_world w(2);
  w.learn_pair(mac_a, mac_b);
  const auto f = w.frame(mac_b, mac_a);  // shared, never edited on this path
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) w.links.send(w.host_link[0], dev::link_side::a, f);
    w.sim.run();
  }
  const auto frames = static_cast<double>(state.iterations() * batch);
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["frames/s"] = benchmark::Counter(frames, benchmark::Counter::kIsRate);
  state.counters["ns/frame"] = per_frame(frames);
  if (w.sws.counters(w.sw).unknown_unicast_floods != 1) state.SkipWithError("unexpected floods");
}
BENCHMARK(bm_switch_known_unicast);

void bm_switch_flood_16(benchmark::State& state) {
  bench_world w(17);
  const auto f = w.frame(mac_bcast, mac_a);
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) w.links.send(w.host_link[0], dev::link_side::a, f);
    w.sim.run();
  }
  const auto frames = static_cast<double>(state.iterations() * batch);
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["frames/s"] = benchmark::Counter(frames, benchmark::Counter::kIsRate);
  state.counters["ns/frame"] = per_frame(frames);
  state.counters["copies/s"] = benchmark::Counter(static_cast<double>(w.delivered),
                                                  benchmark::Counter::kIsRate);
}
BENCHMARK(bm_switch_flood_16);

}  // namespace
