// Workload A on vnetsim (bench/compare, issue 9): the hold model through the full
// simulator loop, as ns3_hold.cc does it on ns-3 (same delays from bench_compare::exp_source,
// same warm-up of N events, set-up excluded). Prints one "key=value" line.
#include <cstdio>
#include <memory>

#include "compare_common.hpp"
#include "vnetsim/kernel/simulator.hpp"

using namespace vnetsim;

namespace {

struct hold_state {
  bench_compare::exp_source rng{2026};
  double mean_ns = 0;
  std::uint64_t fired = 0;
  std::uint64_t warm = 0;
  std::uint64_t total = 0;
  double t0 = 0;
  double c0 = 0;
  kernel::event_kind kind = 0;

  sim_time delay() { return sim_time::from_ns(static_cast<sim_time::rep>(rng.next(mean_ns))); }

  static void fire(void* ctx, kernel::simulator& sim, const kernel::event&) {
    auto& h = *static_cast<hold_state*>(ctx);
    ++h.fired;
    if (h.fired == h.warm) {
      h.t0 = bench_compare::wall_s();
      h.c0 = bench_compare::cpu_s();
    }
    if (h.fired == h.total) {
      sim.stop();
      return;
    }
    sim.schedule_in(h.delay(), h.kind, 0);
  }
};

}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t n = bench_compare::arg_u64(argc, argv, "--pending", 1000);
  const std::uint64_t events = bench_compare::arg_u64(argc, argv, "--events", 10'000'000);
  if (n == 0 || events == 0) {
    std::fprintf(stderr, "vnetsim_hold: --pending and --events must be >= 1\n");
    return 2;
  }
  auto sim = std::make_unique<kernel::simulator>();
  hold_state h;
  h.mean_ns = static_cast<double>(n) * 1000.0;
  h.warm = n;
  h.total = n + events;
  h.kind = sim->register_kind("hold", &hold_state::fire, &h);
  const std::uint64_t rss0 = bench_compare::rss_bytes();
  for (std::uint64_t i = 0; i < n; ++i) sim->schedule_in(h.delay(), h.kind, 0);
  const std::uint64_t rss1 = bench_compare::rss_bytes();
  sim->run();
  const double secs = bench_compare::wall_s() - h.t0;
  const double cpu_secs = bench_compare::cpu_s() - h.c0;
  if (sim->events_run() != h.total) {
    std::fprintf(stderr, "vnetsim_hold: ran %llu events, expected %llu\n",
                 static_cast<unsigned long long>(sim->events_run()), static_cast<unsigned long long>(h.total));
    return 1;
  }
  std::printf("side=vnetsim workload=A scheduler=radix-heap pending=%llu events=%llu seconds=%.6f cpu_seconds=%.6f "
              "events_per_s=%.0f bytes_per_pending=%.1f queue_bytes_per_pending=%.1f peak_rss_kib=%ld\n",
              static_cast<unsigned long long>(n), static_cast<unsigned long long>(events), secs, cpu_secs,
              static_cast<double>(events) / secs,
              static_cast<double>(rss1 - rss0) / static_cast<double>(n),
              static_cast<double>(sim->queue().memory_bytes()) / static_cast<double>(n),
              bench_compare::peak_rss_kib());
  return 0;
}
