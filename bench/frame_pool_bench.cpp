// Frame pool hot path: allocate + release, flood sharing, and 802.1Q headroom edits.
#include <benchmark/benchmark.h>

#include <array>

#include "vnetsim/dev/frame_pool.hpp"

using namespace vnetsim;
using namespace vnetsim::dev;

namespace {

/// Allocate one standard frame and release it (target <= 10 ns).
void bm_allocate_release(benchmark::State& state) {
  frame_pool pool;
  const auto now = sim_time::from_us(1);
  for (auto _ : state) {
    frame_ref f = pool.allocate(1514, now);
    benchmark::DoNotOptimize(f.data().data());
  }
  state.counters["exhausted"] = static_cast<double>(pool.stats(frame_class::standard).exhausted);
}
BENCHMARK(bm_allocate_release);

/// Allocate, release in batches of 64 (the free list works as a stack, not one slot).
void bm_allocate_release_batch64(benchmark::State& state) {
  frame_pool pool;
  const auto now = sim_time::from_us(1);
  std::array<frame_ref, 64> held;
  for (auto _ : state) {
    for (auto& f : held) f = pool.allocate(1514, now);
    benchmark::DoNotOptimize(held.data());
    for (auto& f : held) f.reset();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(held.size()));
}
BENCHMARK(bm_allocate_release_batch64);

/// Flooding: allocate, share to 8 port handles, release all.
void bm_allocate_share8_release(benchmark::State& state) {
  frame_pool pool;
  const auto now = sim_time::from_us(1);
  std::array<frame_ref, 8> ports;
  for (auto _ : state) {
    frame_ref f = pool.allocate(1514, now);
    for (auto& p : ports) p = f;
    f.reset();
    benchmark::DoNotOptimize(ports[7].data().data());
    for (auto& p : ports) p.reset();
  }
}
BENCHMARK(bm_allocate_share8_release);

/// Tag and untag in the headroom: push_front(4) + pull_front(4), no byte moves.
void bm_push_pull_tag(benchmark::State& state) {
  frame_pool pool;
  frame_ref f = pool.allocate(1514, sim_time::zero());
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.push_front(4));
    benchmark::DoNotOptimize(f.data().data());
    benchmark::DoNotOptimize(f.pull_front(4));
  }
}
BENCHMARK(bm_push_pull_tag);

/// Deep copy of a 1514-byte frame (the price of unshare()).
void bm_clone_1514(benchmark::State& state) {
  frame_pool pool;
  frame_ref f = pool.allocate(1514, sim_time::zero());
  for (auto _ : state) {
    frame_ref c = f.clone();
    benchmark::DoNotOptimize(c.data().data());
  }
  state.SetBytesProcessed(state.iterations() * 1514);
}
BENCHMARK(bm_clone_1514);

}  // namespace
