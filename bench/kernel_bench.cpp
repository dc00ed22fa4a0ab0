// Event-kernel benchmarks. The hold model is defined as in the reference measurement
// of ns-3 on this machine class (issue "Foundation"): N events pending; each fired event
// schedules one new event at now + Exp(mean N x 1 us) drawn from our own RNG; 10 M
// events per run; set-up excluded. Reported: events/s and bytes per pending event.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>

#include "vnetsim/kernel/rng.hpp"
#include "vnetsim/kernel/simulator.hpp"

using namespace vnetsim;
using namespace vnetsim::literals;

namespace {

constexpr std::uint64_t hold_events = 10'000'000;

struct hold_state {
  kernel::rng rng{2026};
  sim_time mean;
  std::uint64_t remaining = 0;
  kernel::event_kind kind = 0;

  static void fire(void* ctx, kernel::simulator& sim, const kernel::event&) {
    auto& h = *static_cast<hold_state*>(ctx);
    if (--h.remaining == 0) {
      sim.stop();
      return;
    }
    sim.schedule_in(h.rng.exponential(h.mean), h.kind, 0);
  }
};

void BM_hold_model(benchmark::State& state) {
  const auto n = static_cast<std::uint64_t>(state.range(0));
  double bytes_per_event = 0;
  for (auto _ : state) {
    state.PauseTiming();
    {
      auto sim = std::make_unique<kernel::simulator>();
      hold_state h;
      h.mean = sim_time::from_us(static_cast<sim_time::rep>(n));
      h.remaining = hold_events;
      h.kind = sim->register_kind("hold", &hold_state::fire, &h);
      sim->reserve(n + 1);
      for (std::uint64_t i = 0; i < n; ++i) sim->schedule_in(h.rng.exponential(h.mean), h.kind, 0);
      // Warm the buckets to their working size outside the timed part: run n events.
      h.remaining = n + 1;
      sim->run();
      h.remaining = hold_events;
      state.ResumeTiming();
      sim->run();
      state.PauseTiming();
      benchmark::DoNotOptimize(sim->now());
      bytes_per_event = static_cast<double>(sim->queue().memory_bytes()) / static_cast<double>(n);
      if (sim->events_run() != hold_events + n + 1) state.SkipWithError("wrong event count");
    }
    state.ResumeTiming();
  }
  state.counters["events_per_s"] = benchmark::Counter(
      static_cast<double>(hold_events), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["bytes_per_pending"] = bytes_per_event;
}
BENCHMARK(BM_hold_model)->Arg(1'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->Iterations(1);

// The same hold model on the bare queue: the cost of the data structure alone.
void BM_hold_queue_only(benchmark::State& state) {
  const auto n = static_cast<std::uint64_t>(state.range(0));
  kernel::event_queue q;
  kernel::rng rng(7);
  const sim_time mean = sim_time::from_us(static_cast<sim_time::rep>(n));
  q.reserve(n + 1);
  for (std::uint64_t i = 0; i < n; ++i) q.push(rng.exponential(mean), 1, 0, 0);
  for (auto _ : state) {
    auto e = q.pop();
    q.push(e->time + rng.exponential(mean), 1, 0, 0);
  }
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_hold_queue_only)->Arg(1'000)->Arg(1'000'000);

// Schedule then cancel: a timer restarted on every frame (O(1) both ways).
void BM_schedule_cancel(benchmark::State& state) {
  kernel::simulator sim;
  struct nop {
    static void fire(void*, kernel::simulator&, const kernel::event&) {}
  };
  const auto k = sim.register_kind("nop", &nop::fire, nullptr);
  sim.reserve(1024);
  std::uint64_t i = 0;
  for (auto _ : state) {
    auto h = sim.schedule_in(1_s, k, 0, i++);
    benchmark::DoNotOptimize(sim.cancel(h));
    // Let time pass now and then so the run loop drops the cancelled entries.
    if ((i & 1023) == 0) sim.run_for(2_s);
  }
}
BENCHMARK(BM_schedule_cancel);

// An inline callback scheduled and run: the set-up / scripted-fault path.
void BM_inline_callback(benchmark::State& state) {
  kernel::simulator sim;
  sim.reserve(16, 16);
  std::uint64_t count = 0;
  for (auto _ : state) {
    sim.schedule_in(1_us, [&count](kernel::simulator&) { ++count; });
    sim.run();
  }
  benchmark::DoNotOptimize(count);
}
BENCHMARK(BM_inline_callback);

void BM_rng_exponential(benchmark::State& state) {
  kernel::rng r(1);
  for (auto _ : state) benchmark::DoNotOptimize(r.exponential(1000.0));
}
BENCHMARK(BM_rng_exponential);

void BM_rng_next(benchmark::State& state) {
  kernel::rng r(1);
  for (auto _ : state) benchmark::DoNotOptimize(r.next_u64());
}
BENCHMARK(BM_rng_next);

}  // namespace
