// Workload A on ns-3 (bench/compare, issue 9): the hold model. N events pending; each
// fired event schedules one new event at now + Exp(mean N x 1 us); E timed events after
// N warm-up events; set-up excluded. --scheduler picks the ns-3 scheduler class
// (ns3::PriorityQueueScheduler is ns-3.37's fastest on this model; ns3::MapScheduler is
// its default). Prints one "key=value" line.
#include <ns3/core-module.h>

#include "compare_common.hpp"

namespace {

std::uint64_t g_fired = 0;
std::uint64_t g_warm = 0;
std::uint64_t g_total = 0;
double g_mean_ns = 0;
double g_t0 = 0;
double g_c0 = 0;
bench_compare::exp_source g_rng(2026);

void fire() {
  ++g_fired;
  if (g_fired == g_warm) {
    g_t0 = bench_compare::wall_s();
    g_c0 = bench_compare::cpu_s();
  }
  if (g_fired == g_total) {
    ns3::Simulator::Stop();
    return;
  }
  ns3::Simulator::Schedule(ns3::NanoSeconds(static_cast<std::int64_t>(g_rng.next(g_mean_ns))), &fire);
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t n = bench_compare::arg_u64(argc, argv, "--pending", 1000);
  const std::uint64_t events = bench_compare::arg_u64(argc, argv, "--events", 10'000'000);
  const std::string sched = bench_compare::arg_str(argc, argv, "--scheduler", "ns3::PriorityQueueScheduler");
  ns3::ObjectFactory f;
  f.SetTypeId(sched);
  ns3::Simulator::SetScheduler(f);
  g_mean_ns = static_cast<double>(n) * 1000.0;
  g_warm = n;
  g_total = n + events;
  const std::uint64_t rss0 = bench_compare::rss_bytes();
  for (std::uint64_t i = 0; i < n; ++i) {
    ns3::Simulator::Schedule(ns3::NanoSeconds(static_cast<std::int64_t>(g_rng.next(g_mean_ns))), &fire);
  }
  const std::uint64_t rss1 = bench_compare::rss_bytes();
  ns3::Simulator::Run();
  const double secs = bench_compare::wall_s() - g_t0;
  const double cpu_secs = bench_compare::cpu_s() - g_c0;
  std::printf("side=ns3 workload=A scheduler=%s pending=%llu events=%llu seconds=%.6f cpu_seconds=%.6f events_per_s=%.0f "
              "bytes_per_pending=%.1f peak_rss_kib=%ld\n",
              sched.c_str(), static_cast<unsigned long long>(n), static_cast<unsigned long long>(events), secs, cpu_secs,
              static_cast<double>(events) / secs,
              static_cast<double>(rss1 - rss0) / static_cast<double>(n), bench_compare::peak_rss_kib());
  ns3::Simulator::Destroy();
  return 0;
}
