// Internet checksum throughput (RFC 1071) on common frame sizes: an IPv4 header (20), the
// minimum Ethernet frame (64), the IPv4 minimum reassembly size (576, RFC 791 3.1), the
// Ethernet MTU (1500) and a jumbo frame (9000).
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "vnetsim/wire/checksum.hpp"

namespace {

using vnetsim::wire::const_bytes;

std::vector<std::byte> make_buffer(std::size_t n) {
  std::vector<std::byte> b(n + 8);
  std::uint32_t x = 1;
  for (auto& v : b) {
    x = x * 1664525U + 1013904223U;
    v = static_cast<std::byte>(x >> 24);
  }
  return b;
}

/// Whole-buffer sum at an 8-byte-aligned start (offset 0 of a vector).
void BM_checksum(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto buf = make_buffer(n);
  const const_bytes data{buf.data(), n};
  for (auto _ : state) {
    benchmark::DoNotOptimize(data.data());
    benchmark::DoNotOptimize(vnetsim::wire::internet_checksum(data));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(n));
}
BENCHMARK(BM_checksum)->Arg(20)->Arg(64)->Arg(576)->Arg(1500)->Arg(9000);

/// The same at an odd address, as after a 14-byte Ethernet header plus one.
void BM_checksum_unaligned(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto buf = make_buffer(n);
  const const_bytes data{buf.data() + 1, n};
  for (auto _ : state) {
    benchmark::DoNotOptimize(data.data());
    benchmark::DoNotOptimize(vnetsim::wire::internet_checksum(data));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(n));
}
BENCHMARK(BM_checksum_unaligned)->Arg(64)->Arg(576)->Arg(1500)->Arg(9000);

/// A TCP/UDP-style sum: IPv4 pseudo-header, then a 20-byte header, then the payload.
void BM_checksum_pseudo_header(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto buf = make_buffer(n);
  const const_bytes header{buf.data(), 20};
  const const_bytes payload{buf.data() + 20, n - 20};
  for (auto _ : state) {
    benchmark::DoNotOptimize(buf.data());
    auto acc = vnetsim::wire::ipv4_pseudo_header(0x0a000001U, 0x0a000002U, 6,
                                                 static_cast<std::uint16_t>(n));
    acc.add(header);
    acc.add(payload);
    benchmark::DoNotOptimize(acc.checksum());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(n));
}
BENCHMARK(BM_checksum_pseudo_header)->Arg(64)->Arg(576)->Arg(1500)->Arg(9000);

/// RFC 1624 incremental update of one 32-bit field (a NAT address rewrite).
void BM_checksum_update_u32(benchmark::State& state) {
  std::uint16_t hc = 0xb861;
  std::uint32_t addr = 0xc0a80001U;
  for (auto _ : state) {
    benchmark::DoNotOptimize(addr);
    hc = vnetsim::wire::checksum_update_u32(hc, addr, addr + 1);
    benchmark::DoNotOptimize(hc);
  }
}
BENCHMARK(BM_checksum_update_u32);

}  // namespace
