// Workload B on vnetsim (bench/compare, issue 9): a switched LAN. H hosts (default 8),
// each a traffic::endpoint on a dev::nic, on 1 Gb/s full-duplex links with 500 ns
// propagation delay to one net::switch_set learning switch; host i sends UDP to host
// (i + H/2) mod H at 20,000 packets/s of 1000 payload bytes for 10 s. The switch's
// store-and-forward latency is set to 0 to match ns-3's BridgeNetDevice, which forwards
// in zero time. A frame-hop is one frame delivered at the far end of one link.
// Prints one "key=value" line.
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "../bench_world.hpp"
#include "compare_common.hpp"
#include "vnetsim/dev/link.hpp"
#include "vnetsim/dev/nic.hpp"
#include "vnetsim/net/switch.hpp"
#include "vnetsim/traffic/endpoint.hpp"

using namespace vnetsim;

namespace {

struct lan_world : bench::world {
  std::vector<traffic::flow_id> flows;

  lan_world(std::uint32_t hosts, std::uint64_t pps, std::uint32_t payload, sim_time duration) {
    net::switch_config sc;
    sc.name = "sw";
    sc.ports = static_cast<std::uint16_t>(hosts);
    sc.latency = sim_time::zero();
    const auto sw = sws.add(sc);
    dev::link_config lc;
    lc.bandwidth_bps = 1'000'000'000;
    lc.delay = sim_time::from_ns(500);
    for (std::uint32_t i = 0; i < hosts; ++i) {
      traffic::endpoint_config c;
      c.name = fmt::format("h{}", i);
      c.mac = wire::mac_address::from_u64(0x0050'5600'1000ULL + i);
      c.ip = wire::ipv4_address{10, 0, static_cast<std::uint8_t>((i + 1) >> 8), static_cast<std::uint8_t>((i + 1) & 0xff)};
      c.prefix_len = 16;
      add_station(c, sw, static_cast<net::port_no>(i), lc);
    }
    for (std::uint32_t i = 0; i < hosts; ++i) {
      const std::uint32_t d = (i + hosts / 2) % hosts;
      const auto f = bench::udp_flow(
          fmt::format("f{}", i), i,
          wire::ipv4_address{10, 0, static_cast<std::uint8_t>((d + 1) >> 8), static_cast<std::uint8_t>((d + 1) & 0xff)},
          payload, pps, duration);
      flows.push_back(eps.add_udp_flow(f));
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  const auto hosts = static_cast<std::uint32_t>(bench_compare::arg_u64(argc, argv, "--hosts", 8));
  const std::uint64_t pps = bench_compare::arg_u64(argc, argv, "--pps", 20'000);
  const auto payload = static_cast<std::uint32_t>(bench_compare::arg_u64(argc, argv, "--payload", 1000));
  const std::uint64_t ms = bench_compare::arg_u64(argc, argv, "--seconds-ms", 10'000);
  if (hosts < 2 || hosts % 2 != 0 || hosts > 1000 || pps == 0 || ms == 0) {
    std::fprintf(stderr, "vnetsim_lan: --hosts must be even in 2..1000, --pps and --seconds-ms >= 1\n");
    return 2;
  }
  const double t_setup = bench_compare::wall_s();
  auto w = std::make_unique<lan_world>(hosts, pps, payload, sim_time::from_ms(static_cast<sim_time::rep>(ms)));
  const double t0 = bench_compare::wall_s();
  const double c0 = bench_compare::cpu_s();
  // One extra millisecond lets the last packets arrive.
  w->sim.run_until(sim_time::from_ms(static_cast<sim_time::rep>(ms + 1)));
  const double secs = bench_compare::wall_s() - t0;
  const double cpu_secs = bench_compare::cpu_s() - c0;
  const auto [sent, delivered] = bench::totals(w->eps, w->flows);
  const std::uint64_t lost = sent - delivered;
  const std::uint64_t hops = bench::frame_hops(w->links);
  const double events = static_cast<double>(w->sim.events_run());
  std::printf("side=vnetsim workload=B hosts=%u sent=%llu delivered=%llu lost=%llu frame_hops=%llu "
              "events=%.0f seconds=%.6f cpu_seconds=%.6f setup_seconds=%.6f packets_per_s=%.0f frame_hops_per_s=%.0f "
              "events_per_packet=%.2f peak_rss_kib=%ld\n",
              hosts, static_cast<unsigned long long>(sent), static_cast<unsigned long long>(delivered),
              static_cast<unsigned long long>(lost), static_cast<unsigned long long>(hops), events, secs, cpu_secs,
              t0 - t_setup, static_cast<double>(delivered) / secs, static_cast<double>(hops) / secs,
              events / static_cast<double>(delivered), bench_compare::peak_rss_kib());
  return 0;
}
