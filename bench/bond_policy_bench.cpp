// Bond member choice per frame (STYLE.md "Hot path": a fixed bucket array indexed by
// hash): bond::policy::select() for out-mac and out-ip with 4 members, cycling over 64
// source MACs / 64 IP pairs so the branch predictor cannot learn one answer. Time per
// iteration is ns per frame.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>

#include "vnetsim/proto/bond_policy.hpp"

namespace {

using namespace vnetsim;

bond::config four_members(const char* mode) {
  bond::config c;
  for (std::uint16_t v = 0; v < 4; ++v) c.members.push_back({v, {}, true});
  c.load_balance_mode = mode;
  return c;
}

std::array<bond::frame_key, 64> keys(bool ipv4) {
  std::array<bond::frame_key, 64> k{};
  for (std::size_t i = 0; i < k.size(); ++i) {
    k[i].src_mac = wire::mac_address::from_u64(0x0050'5600'0000ULL + i * 37 + 1);
    k[i].ipv4 = ipv4;
    k[i].src_ip = wire::ipv4_address(10, 0, 0, static_cast<std::uint8_t>(1 + i % 8));
    k[i].dst_ip = wire::ipv4_address(10, 0, 1, static_cast<std::uint8_t>(1 + (i * 13) % 64));
    k[i].length = 1514;
  }
  return k;
}

void run(benchmark::State& state, const char* mode, bool ipv4) {
  bond::policy p(four_members(mode));
  const auto k = keys(ipv4);
  std::size_t i = 0;
  for (auto _ : state) {
    auto m = p.select(k[i++ & 63]);
    benchmark::DoNotOptimize(m);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_select_out_mac(benchmark::State& state) { run(state, "out-mac", false); }
void BM_select_out_ip(benchmark::State& state) { run(state, "out-ip", true); }
void BM_select_out_ip_non_ip(benchmark::State& state) { run(state, "out-ip", false); }

}  // namespace

BENCHMARK(BM_select_out_mac);
BENCHMARK(BM_select_out_ip);
BENCHMARK(BM_select_out_ip_non_ip);
