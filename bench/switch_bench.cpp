// Frames per wall second through one switch: known unicast between two links (learning
// done), and a broadcast flooded to 16 ports. Each iteration queues a batch of frames on the
// ingress link and runs the simulator dry, so the numbers include the link arrivals (one
// event per frame per hop) and the sinks taking the frames.
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

  explicit bench_world(std::uint16_t ports) {
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
      const auto id = links.add(fmt::format("h{}", p), lc, {sink_kind, 0, p, 0}, sws.endpoint(sw, p));
      sws.attach(sw, p, id, dev::link_side::b);
      host_link.push_back(id);
    }
    sim.reserve(1 << 16);
  }

  dev::frame_ref frame(std::uint64_t dst, std::uint64_t src) {
    auto f = pool.allocate(60, sim.now());
    std::memset(f.data().data(), 0, 60);
    wire::mac_address::from_u64(dst).write(f.data(), 0);
    wire::mac_address::from_u64(src).write(f.data(), 6);
    f.data()[12] = std::byte{0x08};
    return f;
  }
};

constexpr int batch = 256;

void bm_switch_known_unicast(benchmark::State& state) {
  bench_world w(2);
  const std::uint64_t a = 0x0050'5600'0001ULL, b = 0x0050'5600'0002ULL;
  // Learning: each host speaks once.
  w.links.send(w.host_link[0], dev::link_side::a, w.frame(b, a));
  w.links.send(w.host_link[1], dev::link_side::a, w.frame(a, b));
  w.sim.run();
  const auto f = w.frame(b, a);  // shared, never edited on this path
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) w.links.send(w.host_link[0], dev::link_side::a, f);
    w.sim.run();
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["frames/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * batch), benchmark::Counter::kIsRate);
  if (w.sws.counters(w.sw).unknown_unicast_floods != 1) state.SkipWithError("unexpected floods");
}
BENCHMARK(bm_switch_known_unicast);

void bm_switch_flood_16(benchmark::State& state) {
  bench_world w(17);
  const auto f = w.frame(0xffff'ffff'ffffULL, 0x0050'5600'0001ULL);
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) w.links.send(w.host_link[0], dev::link_side::a, f);
    w.sim.run();
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["frames/s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * batch), benchmark::Counter::kIsRate);
  state.counters["copies/s"] = benchmark::Counter(static_cast<double>(w.delivered),
                                                  benchmark::Counter::kIsRate);
}
BENCHMARK(bm_switch_flood_16);

}  // namespace
