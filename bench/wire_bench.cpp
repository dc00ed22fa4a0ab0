// Parse and emit cost per frame for the data-path headers: Ethernet, IPv4, ICMP echo, UDP
// and TCP with options. Each parse verifies its checksum (checksum_mode::full) and each emit
// fills it, as a host without offloads would. Time per iteration is ns per frame.
#include <benchmark/benchmark.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "vnetsim/wire/ethernet.hpp"
#include "vnetsim/wire/icmp.hpp"
#include "vnetsim/wire/ipv4.hpp"
#include "vnetsim/wire/tcp.hpp"
#include "vnetsim/wire/udp.hpp"

namespace {

using namespace vnetsim::wire;

const mac_address mac_a = mac_address::from_u64(0x005056000001ULL);
const mac_address mac_b = mac_address::from_u64(0x005056000002ULL);
const ipv4_address ip_a(10, 0, 0, 1);
const ipv4_address ip_b(10, 0, 0, 2);

constexpr std::size_t eth = ethernet_header_len;
constexpr std::size_t ip_hdr = ipv4_min_header_len;

/// A frame builder: Ethernet + IPv4 + the given L4 bytes, all checksums filled.
struct frames {
  std::vector<std::byte> echo;  // ping: 56 data bytes, 98-byte frame
  std::vector<std::byte> udp;   // 100-byte UDP payload
  std::vector<std::byte> syn;   // TCP SYN with MSS, SACK-permitted, timestamps, window scale
  std::array<std::byte, 56> ping_data{};
  std::array<std::byte, 100> udp_data{};

  static void put_headers(std::span<std::byte> f, ip_protocol p, std::size_t l4_len) {
    ethernet_repr{mac_b, mac_a, static_cast<std::uint16_t>(ether_type::ipv4)}.emit(
        ethernet_frame{f});
    ipv4_repr ip;
    ip.src = ip_a;
    ip.dst = ip_b;
    ip.protocol = p;
    ip.payload_len = static_cast<std::uint16_t>(l4_len);
    ip.dont_frag = true;
    ip.emit(ipv4_packet{f.subspan(eth)});
  }

  frames() {
    for (std::size_t i = 0; i < ping_data.size(); ++i) ping_data[i] = static_cast<std::byte>(i);
    for (std::size_t i = 0; i < udp_data.size(); ++i) udp_data[i] = static_cast<std::byte>(i * 3);

    const icmp_repr e = icmp_repr::echo_request(0x1234, 1, ping_data);
    echo.resize(eth + ip_hdr + e.buffer_len());
    put_headers(echo, ip_protocol::icmp, e.buffer_len());
    e.emit(icmp_packet{std::span<std::byte>{echo}.subspan(eth + ip_hdr)});

    const udp_repr u{53000, 53, udp_data};
    udp.resize(eth + ip_hdr + u.buffer_len());
    put_headers(udp, ip_protocol::udp, u.buffer_len());
    u.emit(udp_packet{std::span<std::byte>{udp}.subspan(eth + ip_hdr)}, ip_a, ip_b);

    const tcp_repr t = syn_repr();
    syn.resize(eth + ip_hdr + t.buffer_len());
    put_headers(syn, ip_protocol::tcp, t.buffer_len());
    t.emit(tcp_packet{std::span<std::byte>{syn}.subspan(eth + ip_hdr)}, ip_a, ip_b);
  }

  static tcp_repr syn_repr() {
    tcp_repr t;
    t.src_port = 45678;
    t.dst_port = 80;
    t.seq = 0x3e8f1a2bU;
    t.flags = tcp_flags::syn;
    t.window = 64240;
    t.mss = 1460;
    t.sack_permitted = true;
    t.timestamps = tcp_timestamps{0xa3c1e2f1U, 0};
    t.window_scale = 7;
    return t;
  }
};

const frames& sample() {
  static const frames f;
  return f;
}

void per_frame(benchmark::State& state) { state.SetItemsProcessed(state.iterations()); }

// --- Ethernet -------------------------------------------------------------------------

void BM_parse_ethernet(benchmark::State& state) {
  const const_bytes f = sample().udp;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.data());
    auto r = ethernet_repr::parse(f);
    benchmark::DoNotOptimize(r);
  }
  per_frame(state);
}
BENCHMARK(BM_parse_ethernet);

void BM_emit_ethernet(benchmark::State& state) {
  std::array<std::byte, 64> out{};
  const ethernet_repr r{mac_b, mac_a, static_cast<std::uint16_t>(ether_type::ipv4)};
  for (auto _ : state) {
    benchmark::DoNotOptimize(r);
    r.emit(ethernet_frame{out});
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  per_frame(state);
}
BENCHMARK(BM_emit_ethernet);

// --- IPv4 -----------------------------------------------------------------------------

void BM_parse_ipv4(benchmark::State& state) {
  const const_bytes p = const_bytes{sample().udp}.subspan(eth);
  for (auto _ : state) {
    benchmark::DoNotOptimize(p.data());
    auto r = ipv4_repr::parse(p);
    benchmark::DoNotOptimize(r);
  }
  per_frame(state);
}
BENCHMARK(BM_parse_ipv4);

void BM_emit_ipv4(benchmark::State& state) {
  std::array<std::byte, 20> out{};
  ipv4_repr r;
  r.src = ip_a;
  r.dst = ip_b;
  r.protocol = ip_protocol::udp;
  r.payload_len = 108;
  r.dont_frag = true;
  for (auto _ : state) {
    benchmark::DoNotOptimize(r);
    r.emit(ipv4_packet{out});
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  per_frame(state);
}
BENCHMARK(BM_emit_ipv4);

// --- ICMP echo ------------------------------------------------------------------------

void BM_parse_icmp_echo(benchmark::State& state) {
  const const_bytes m = const_bytes{sample().echo}.subspan(eth + ip_hdr);
  for (auto _ : state) {
    benchmark::DoNotOptimize(m.data());
    auto r = icmp_repr::parse(m);
    benchmark::DoNotOptimize(r);
  }
  per_frame(state);
}
BENCHMARK(BM_parse_icmp_echo);

void BM_emit_icmp_echo(benchmark::State& state) {
  std::array<std::byte, 64> out{};
  const icmp_repr r = icmp_repr::echo_reply(0x1234, 1, sample().ping_data);
  for (auto _ : state) {
    benchmark::DoNotOptimize(r);
    r.emit(icmp_packet{out});
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  per_frame(state);
}
BENCHMARK(BM_emit_icmp_echo);

// --- UDP ------------------------------------------------------------------------------

void BM_parse_udp(benchmark::State& state) {
  const const_bytes d = const_bytes{sample().udp}.subspan(eth + ip_hdr);
  for (auto _ : state) {
    benchmark::DoNotOptimize(d.data());
    auto r = udp_repr::parse(d, ip_a, ip_b);
    benchmark::DoNotOptimize(r);
  }
  per_frame(state);
}
BENCHMARK(BM_parse_udp);

void BM_emit_udp(benchmark::State& state) {
  std::array<std::byte, 108> out{};
  const udp_repr r{53000, 53, sample().udp_data};
  for (auto _ : state) {
    benchmark::DoNotOptimize(r);
    r.emit(udp_packet{out}, ip_a, ip_b);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  per_frame(state);
}
BENCHMARK(BM_emit_udp);

// --- TCP with options -----------------------------------------------------------------

void BM_parse_tcp_syn_options(benchmark::State& state) {
  const const_bytes s = const_bytes{sample().syn}.subspan(eth + ip_hdr);
  for (auto _ : state) {
    benchmark::DoNotOptimize(s.data());
    auto r = tcp_repr::parse(s, ip_a, ip_b);
    benchmark::DoNotOptimize(r);
  }
  per_frame(state);
}
BENCHMARK(BM_parse_tcp_syn_options);

void BM_emit_tcp_syn_options(benchmark::State& state) {
  std::array<std::byte, 40> out{};
  const tcp_repr r = frames::syn_repr();
  for (auto _ : state) {
    benchmark::DoNotOptimize(r);
    r.emit(tcp_packet{out}, ip_a, ip_b);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  per_frame(state);
}
BENCHMARK(BM_emit_tcp_syn_options);

// --- A whole frame, as a device's receive path sees it --------------------------------

void BM_parse_frame_eth_ipv4_tcp(benchmark::State& state) {
  const const_bytes f = sample().syn;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.data());
    const auto e = ethernet_repr::parse(f);
    const ipv4_packet_const ipv{f.subspan(eth)};
    const auto ip = ipv4_repr::parse(ipv.buffer());
    const auto t = tcp_repr::parse(ipv.payload(), ip->src, ip->dst);
    benchmark::DoNotOptimize(e);
    benchmark::DoNotOptimize(t);
  }
  per_frame(state);
}
BENCHMARK(BM_parse_frame_eth_ipv4_tcp);

void BM_emit_frame_eth_ipv4_udp(benchmark::State& state) {
  std::array<std::byte, eth + ip_hdr + 108> out{};
  const udp_repr u{53000, 53, sample().udp_data};
  for (auto _ : state) {
    benchmark::DoNotOptimize(u);
    frames::put_headers(out, ip_protocol::udp, u.buffer_len());
    u.emit(udp_packet{std::span<std::byte>{out}.subspan(eth + ip_hdr)}, ip_a, ip_b);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  per_frame(state);
}
BENCHMARK(BM_emit_frame_eth_ipv4_udp);

}  // namespace
