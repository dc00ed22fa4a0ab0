// Link transmit cost (issue "Physical network"): link_set::send and take_arrival per
// frame, one benchmark iteration per frame, so "Time" is ns per frame. Both ends are an
// arrival kind whose handler only calls take_arrival. The simulator is run dry every
// `batch` frames (the argument): `_send_only` pauses timing around that drain (send:
// settle, queue checks, serialization time, ring slot, one event push); `_send_arrival`
// keeps it timed (plus the event pop, dispatch, take_arrival and the frame's release).
// batch 1 keeps the ring and the event heap at one entry; 256 lets them fill.
#include <benchmark/benchmark.h>

#include <cstring>

#include "vnetsim/dev/link.hpp"

using namespace vnetsim;

namespace {

struct link_world {
  kernel::simulator sim;
  kernel::rng_streams streams{1};
  dev::frame_pool pool;
  dev::link_set links{sim, streams};
  kernel::event_kind sink_kind = 0;
  dev::link_id link = 0;
  std::uint64_t delivered = 0;

  explicit link_world(const dev::link_config& lc) {
    sink_kind = sim.register_kind(
        "bench/sink",
        [](void* ctx, kernel::simulator&, const kernel::event& ev) {
          auto& w = *static_cast<link_world*>(ctx);
          if (w.links.take_arrival(ev.target).frame) ++w.delivered;
        },
        this);
    link = links.add("l", lc, {sink_kind, 0, 0, 0}, {sink_kind, 0, 1, 0});
    sim.reserve(1 << 12);
  }

  dev::frame_ref frame(std::size_t len) {
    auto f = pool.allocate(len, sim.now());
    std::memset(f.data().data(), 0, len);
    return f;
  }
};

void link_transmit(benchmark::State& state, bool pause_drain) {
  dev::link_config lc;  // defaults: 1000-frame queue
  lc.bandwidth_bps = 10'000'000'000;
  const int batch = static_cast<int>(state.range(0));
  link_world w(lc);
  const auto f = w.frame(60);
  std::uint64_t frames = 0;
  int k = 0;
  for (auto _ : state) {
    w.links.send(w.link, dev::link_side::a, f);  // a new reference to the shared buffer
    ++frames;
    if (++k == batch) {
      k = 0;
      if (pause_drain) state.PauseTiming();
      w.sim.run();
      if (pause_drain) state.ResumeTiming();
    }
  }
  w.sim.run();  // the loop has stopped the timer
  state.SetItemsProcessed(static_cast<std::int64_t>(frames));
  state.counters["ns/frame"] = benchmark::Counter(
      static_cast<double>(frames), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  if (w.delivered != frames) state.SkipWithError("frames lost");
}

void bm_link_send_only(benchmark::State& state) { link_transmit(state, true); }
BENCHMARK(bm_link_send_only)->Arg(256);

void bm_link_send_arrival(benchmark::State& state) { link_transmit(state, false); }
BENCHMARK(bm_link_send_arrival)->Arg(1)->Arg(256);

}  // namespace
