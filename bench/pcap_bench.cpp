// pcap writer throughput: 1500-byte records to /dev/null.
#include <benchmark/benchmark.h>

#include <vector>

#include "vnetsim/report/pcap_writer.hpp"

using namespace vnetsim;
using namespace vnetsim::report;

namespace {

void bm_pcap_write(benchmark::State& state) {
  const auto len = static_cast<std::size_t>(state.range(0));
  std::vector<std::byte> frame(len, std::byte{0x5a});
  pcap_writer w("/dev/null");
  sim_time t = sim_time::zero();
  for (auto _ : state) {
    w.write(t, frame);
    t += sim_time::from_ns(1230);
  }
  w.close();
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(len + pcap_record_header_len));
  state.counters["records/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(bm_pcap_write)->Arg(1500)->Arg(64);

}  // namespace
