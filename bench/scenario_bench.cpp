// Scenario layer: loading (parse + validation with positions) and whole runs of bundled
// scenarios through the builder (events per second of simulated network, report included).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "vnetsim/report/run_report.hpp"
#include "vnetsim/scenario/loader.hpp"
#include "vnetsim/scenario/world.hpp"

using namespace vnetsim;

namespace {

std::string slurp(const char* name) {
  std::ifstream f(std::filesystem::path(VNETSIM_SOURCE_DIR) / "scenarios" / name, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void BM_load_scenario(benchmark::State& state) {
  const std::string text = slurp("stp_root_port_failover.json");
  for (auto _ : state) {
    auto r = scenario::load_scenario(text);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_load_scenario);

/// A whole run: build, run to the duration, evaluate, write the JSON report.
void run_scenario(benchmark::State& state, const char* name) {
  const std::string text = slurp(name);
  const auto m = *scenario::load_scenario(text).model;
  std::uint64_t events = 0;
  for (auto _ : state) {
    scenario::world w(m.seed, m.observe_interval);
    scenario::build(w, m);
    w.run_until(m.duration);
    const auto r = w.evaluate();
    auto json = report::json_report(w, {m.name, "", m.seed, m.duration, {}}, r);
    benchmark::DoNotOptimize(json);
    events += w.sim().events_run();
  }
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
void BM_run_static_etherchannel(benchmark::State& state) {
  run_scenario(state, "static_etherchannel_member_failure.json");
}
BENCHMARK(BM_run_static_etherchannel)->Unit(benchmark::kMillisecond);
void BM_run_stp_root_port_failover(benchmark::State& state) { run_scenario(state, "stp_root_port_failover.json"); }
BENCHMARK(BM_run_stp_root_port_failover)->Unit(benchmark::kMillisecond);
void BM_run_mac_flap_loop(benchmark::State& state) { run_scenario(state, "mac_flap_loop_without_stp.json"); }
BENCHMARK(BM_run_mac_flap_loop)->Unit(benchmark::kMillisecond);
/// A host with a service console: boot, commands, console pings, the 10 ms Management
/// Interface watch (40 s simulated).
void BM_run_console_share_eth0_broken(benchmark::State& state) { run_scenario(state, "esx_console_share_eth0_broken.json"); }
BENCHMARK(BM_run_console_share_eth0_broken)->Unit(benchmark::kMillisecond);

}  // namespace
