// Endpoints on NICs across real links and a net::switch_set switch: ping RTTs exact to the
// link and switch model, ping timeouts on a link failure, UDP flows at a constant rate
// (exact counts and latency), Poisson arrivals (mean and determinism), loss and the
// longest gap during a scripted carrier outage; no allocation on the steady-state path.
#include "vnetsim/traffic/endpoint.hpp"

#include <doctest/doctest.h>

#include "../kernel/alloc_counter.hpp"
#include "worlds.hpp"

using namespace vnetsim;
using namespace vnetsim::literals;
using namespace vnetsim::test;
using traffic::probe_status;

namespace {

/// One way from an endpoint's NIC to another's through the switch, for a frame of `len`
/// bytes on idle 1 Gb/s links with the default 500 ns delay and the switch's 5 us latency.
sim_time one_way(std::size_t len) {
  const auto ser = dev::serialization_time(len, 1'000'000'000);
  return ser + 500_ns + net::default_forwarding_latency + ser + 500_ns;
}

/// A flow "flow" of 64-byte payloads (worlds.hpp's flow_cfg).
traffic::udp_flow_config flow_cfg(traffic::endpoint_id src, std::uint32_t dst, std::uint64_t pps,
                                  sim_time stop) {
  auto f = test::flow_cfg("flow", src, dst, pps, stop);
  f.payload_len = 64;
  return f;
}

}  // namespace

TEST_CASE("ping across NIC, link, switch, link, NIC: RTTs exact to the link and switch model") {
  net_world w;
  const auto a = w.add(ep_config(0));
  w.add(ep_config(1));
  auto pc = ping_cfg(a, 1, 4);
  pc.interval = 100_ms;
  const auto p = w.eps.add_ping(pc);
  w.sim.run();
  const auto r = w.eps.ping_results(p);
  REQUIRE(r.size() == 4);
  // 98-byte echo frames: 14 + 20 + 8 + 56. ARP frames are 60 bytes.
  const sim_time echo_rtt = one_way(98) * 2;
  const sim_time arp_rtt = one_way(60) * 2;
  CHECK(echo_rtt == sim_time::from_ns(15'904));  // 2 * (976 + 500 + 5000 + 976 + 500)
  CHECK(r[0].status == probe_status::replied);
  CHECK(r[0].rtt == arp_rtt + echo_rtt);  // the first probe waits for ARP
  for (std::size_t i = 1; i < 4; ++i) {
    CHECK(r[i].status == probe_status::replied);
    CHECK(r[i].sent == 100_ms * static_cast<sim_time::rep>(i));
    CHECK(r[i].rtt == echo_rtt);
  }
  CHECK(w.nics.stats(w.nic_of[0]).ifOutUcastPkts == 4);
  CHECK(w.nics.stats(w.nic_of[0]).ifOutBroadcastPkts == 1);
}

TEST_CASE("ping: probes time out while a link is down, and answer again after") {
  net_world w;
  const auto a = w.add(ep_config(0));
  const auto b = w.add(ep_config(1));
  auto pc = ping_cfg(a, 1, 10);
  pc.interval = 1_s;
  pc.timeout = 500_ms;
  const auto p = w.eps.add_ping(pc);
  // B's link fails at 2.5 s and comes back at 5.5 s: probes 3, 4 and 5 go unanswered.
  w.sim.schedule_at(2500_ms, [&](kernel::simulator&) { w.links.set_carrier(w.link_of[b], false); });
  w.sim.schedule_at(5500_ms, [&](kernel::simulator&) { w.links.set_carrier(w.link_of[b], true); });
  w.sim.run();
  const auto r = w.eps.ping_results(p);
  for (std::uint32_t i = 0; i < 10; ++i) {
    CAPTURE(i);
    const bool lost = i >= 3 && i <= 5;
    CHECK(r[i].status == (lost ? probe_status::timed_out : probe_status::replied));
    if (!lost && i > 0) CHECK(r[i].rtt == one_way(98) * 2);
  }
  CHECK(w.eps.counters(b).icmpInEchos == 7);
}

TEST_CASE("UDP flow at a constant rate: exact counts and one-way latency") {
  net_world w;
  const auto a = w.add(ep_config(0));
  const auto b = w.add(ep_config(1));
  const auto f = w.eps.add_udp_flow(flow_cfg(a, 1, 1000, 1_s));
  w.sim.run();
  const auto& s = w.eps.flow_stats(f);
  CHECK(s.sent == 1000);
  CHECK(s.delivered == 1000);
  CHECK(s.lost == 0);
  CHECK(s.in_flight == 0);
  CHECK(s.duplicated == 0);
  CHECK(s.reordered == 0);
  // 64-byte payload: 14 + 20 + 8 + 64 = 106-byte frames.
  const sim_time lat = one_way(106);
  CHECK(lat == sim_time::from_ns(1'040 + 500 + 5'000 + 1'040 + 500));
  CHECK(s.latency_min == lat);
  CHECK(s.latency_p50 == lat);
  CHECK(s.latency_p90 == lat);
  CHECK(s.latency_p99 == lat);
  CHECK(s.latency_max == lat + one_way(60) * 2);  // packet 0 waited for ARP
  CHECK(s.first_delivery == s.latency_max);
  CHECK(s.last_delivery == 999_ms + lat);
  CHECK(s.longest_gap == 1_ms);  // packet 0 came late (ARP), so the gap after it is shorter
  CHECK(w.eps.counters(b).udpInDatagrams == 1000);
  CHECK(w.eps.counters(a).udpOutDatagrams == 1000);
  // The NIC offers checksum offload: the endpoint asked for it and did none itself.
  CHECK(w.eps.counters(a).sw_checksums == 0);
  CHECK(w.nics.work(w.nic_of[0]).hw_ops[static_cast<std::size_t>(dev::nic_work::tx_checksum)] == 2000);
}

TEST_CASE("UDP flow by bit rate: packet k leaves at start + floor(k * bits / rate)") {
  net_world w;
  const auto a = w.add(ep_config(0));
  w.add(ep_config(1));
  auto cfg = flow_cfg(a, 1, 0, 10_ms);
  cfg.rate_bps = 3'000'000;  // 512 bits per packet: one every 170.666 us
  cfg.start = 1_ms;
  const auto f = w.eps.add_udp_flow(cfg);
  w.sim.run();
  const auto& s = w.eps.flow_stats(f);
  // k < 9 ms / 170.666 us = 52.73: 53 packets.
  CHECK(s.sent == 53);
  CHECK(s.delivered == 53);
  CHECK(s.last_delivery == 1_ms + sim_time::from_ns(52 * 512'000'000'000 / 3'000'000) + one_way(106));
}

TEST_CASE("UDP flow with Poisson arrivals: mean within bounds, deterministic by seed") {
  const auto run = [](std::uint64_t seed) {
    net_world w(8, seed);
    const auto a = w.add(ep_config(0));
    w.add(ep_config(1));
    auto cfg = flow_cfg(a, 1, 10'000, 1_s);
    cfg.process = traffic::arrival_process::poisson;
    const auto f = w.eps.add_udp_flow(cfg);
    w.sim.run();
    return w.eps.flow_stats(f);
  };
  const auto s1 = run(1);
  const auto s1b = run(1);
  const auto s2 = run(2);
  // Mean 10000, standard deviation 100: within 5 sigma.
  CHECK(s1.sent >= 9'500);
  CHECK(s1.sent <= 10'500);
  CHECK(s2.sent >= 9'500);
  CHECK(s2.sent <= 10'500);
  CHECK(s1.delivered == s1.sent);
  CHECK(s1.sent == s1b.sent);
  CHECK(s1.last_delivery == s1b.last_delivery);
  CHECK(s1.longest_gap == s1b.longest_gap);
  CHECK(s1.latency_p99 == s1b.latency_p99);
  CHECK((s1.sent != s2.sent || s1.last_delivery != s2.last_delivery));
}

TEST_CASE("UDP flow through a scripted carrier outage: exact loss and longest gap") {
  net_world w;
  const auto a = w.add(ep_config(0));
  w.add(ep_config(1));
  const auto f = w.eps.add_udp_flow(flow_cfg(a, 1, 1000, 1_s));
  // A's link down from 300.5 ms to 500.5 ms: packets 301..500 find the NIC's link down.
  w.sim.schedule_at(300'500_us, [&](kernel::simulator&) { w.links.set_carrier(w.link_of[a], false); });
  w.sim.schedule_at(500'500_us, [&](kernel::simulator&) { w.links.set_carrier(w.link_of[a], true); });
  w.sim.run();
  const auto& s = w.eps.flow_stats(f);
  const sim_time lat = one_way(106);
  CHECK(s.sent == 1000);
  CHECK(s.delivered == 800);
  CHECK(s.lost == 200);
  CHECK(s.longest_gap == 201_ms);
  CHECK(s.gap_start == 300_ms + lat);
  CHECK(s.gap_end == 501_ms + lat);
  CHECK(w.eps.counters(a).dropped(traffic::drop_reason::tx_link_down) == 200);
}

TEST_CASE("UDP flow: frames held beyond the ARP queue are lost and counted") {
  net_world w;
  const auto a = w.add(ep_config(0));
  w.add(ep_config(1));
  // One every 2 us; ARP takes 2 * 7344 ns: packets 0..7 wait, 3 are held (the oldest dropped).
  const auto f = w.eps.add_udp_flow(flow_cfg(a, 1, 500'000, 2_ms));
  w.sim.run();
  CHECK(w.eps.flow_stats(f).lost == 5);
  CHECK(w.eps.counters(a).dropped(traffic::drop_reason::arp_queue_overflow) == 5);
  CHECK(w.eps.flow_stats(f).reordered == 0);
}

TEST_CASE("UDP flow: frames still on the wire at the end are in flight, not lost") {
  net_world w;
  auto c = ep_config(0);
  c.arp.queue_len = 16;
  const auto a = w.add(c);
  w.add(ep_config(1));
  const auto f = w.eps.add_udp_flow(flow_cfg(a, 1, 500'000, 2_ms));
  // At 2 ms, packets sent at 1992, 1994, 1996 and 1998 us are still travelling (8.08 us one way).
  w.sim.run_until(2_ms);
  const auto& s = w.eps.flow_stats(f);
  CHECK(s.sent == 1000);
  REQUIRE(s.latency_min == one_way(106));
  CHECK(s.in_flight == 4);
  CHECK(s.lost == 0);
  CHECK(s.delivered == 996);
  w.sim.run();
  CHECK(w.eps.flow_stats(f).delivered == 1000);
  CHECK(w.eps.flow_stats(f).in_flight == 0);
}

TEST_CASE("UDP flow and ping series in steady state allocate nothing per frame") {
  net_world w;
  const auto a = w.add(ep_config(0));
  const auto b = w.add(ep_config(1));
  w.eps.add_udp_flow(flow_cfg(a, 1, 100'000, 1_s));
  auto pc = ping_cfg(b, 0, 1000);
  pc.interval = 1_ms;
  pc.timeout = 5_ms;  // a steady number of pending timeouts (the event queue does not grow)
  const auto p = w.eps.add_ping(pc);
  w.sim.run_until(100_ms);  // warm up: ARP, pool slabs, link rings, event queue
  const auto before = allocation_count();
  w.sim.run_until(900_ms);
  CHECK(allocation_count() == before);
  CHECK(w.eps.ping_results(p)[899].status == probe_status::replied);
}

TEST_CASE("scale: 2000 endpoints and 1000 flows on one switch, each flow exact") {
  net_world w(2000);
  for (std::uint32_t i = 0; i < 2000; ++i) {
    auto c = ep_config(i);
    c.ip = wire::ipv4_address{10, 0, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i & 0xff)};
    c.ip = wire::ipv4_address{c.ip.to_u32() + 1};
    c.prefix_len = 16;
    w.add(c);
  }
  std::vector<traffic::flow_id> flows;
  for (std::uint32_t i = 0; i < 1000; ++i) {
    traffic::udp_flow_config f;
    f.name = fmt::format("f{}", i);
    f.src = 2 * i;
    f.dst = w.eps.config(2 * i + 1).ip;
    f.dst_port = 5001;
    f.rate_pps = 100;
    f.start = 1_ms * static_cast<sim_time::rep>(i % 10);
    f.stop = f.start + 100_ms;
    flows.push_back(w.eps.add_udp_flow(f));
  }
  w.sim.run();
  for (std::uint32_t i = 0; i < 1000; ++i) {
    CAPTURE(i);
    const auto& s = w.eps.flow_stats(flows[i]);
    CHECK(s.sent == 10);
    CHECK(s.delivered == 10);
    CHECK(s.latency_p50 == one_way(106));
  }
  CHECK(w.eps.find("ep1999") == 1999u);
  CHECK(w.eps.find_flow("f999") == flows[999]);
}

TEST_CASE("a NIC without tx checksum offload: the endpoint fills the checksums itself") {
  net_world w;
  dev::nic_config plain;
  plain.caps.tx_checksum = false;
  const auto a = w.add(ep_config(0), {}, plain);
  w.add(ep_config(1));
  CHECK_FALSE(w.eps.offloads_checksum(a));
  REQUIRE(w.eps.nic_caps(a) != nullptr);
  CHECK_FALSE(w.eps.nic_caps(a)->tx_checksum);
  const auto f = w.eps.add_udp_flow(flow_cfg(a, 1, 1000, 100_ms));
  w.sim.run();
  CHECK(w.eps.flow_stats(f).delivered == 100);
  CHECK(w.eps.counters(a).sw_checksums == 200);  // IPv4 header + UDP, per datagram
  const auto& work = w.nics.work(w.nic_of[a]);
  CHECK(work.hw_ops[static_cast<std::size_t>(dev::nic_work::tx_checksum)] == 0);
  CHECK(work.sw_ops[static_cast<std::size_t>(dev::nic_work::tx_checksum)] == 0);
  CHECK(w.nics.stats(w.nic_of[1]).ifInErrors == 0);  // the receiver's NIC found them good
}

TEST_CASE("determinism: the same seed gives the same results, line for line") {
  const auto run = [](std::uint64_t seed) {
    net_world w(8, seed);
    const auto a = w.add(ep_config(0));
    const auto b = w.add(ep_config(1));
    auto fc = flow_cfg(a, 1, 20'000, 300_ms);
    fc.process = traffic::arrival_process::poisson;
    const auto f = w.eps.add_udp_flow(fc);
    auto pc = ping_cfg(b, 0, 30);
    pc.interval = 10_ms;
    pc.timeout = 5_ms;
    const auto p = w.eps.add_ping(pc);
    w.sim.schedule_at(100_ms, [&](kernel::simulator&) { w.links.set_carrier(w.link_of[a], false); });
    w.sim.schedule_at(150_ms, [&](kernel::simulator&) { w.links.set_carrier(w.link_of[a], true); });
    w.sim.run();
    std::string out;
    for (const auto& e : w.eps.arp_log()) out += w.eps.format(e) + "\n";
    const auto& s = w.eps.flow_stats(f);
    out += fmt::format("flow {} {} {} {} {} {} {} {}\n", s.sent, s.delivered, s.lost, s.longest_gap.ns(),
                       s.gap_start.ns(), s.latency_p50.ns(), s.latency_p99.ns(), s.latency_max.ns());
    for (const auto& r : w.eps.ping_results(p)) {
      out += fmt::format("probe {} {} {}\n", r.seq, traffic::to_string(r.status), r.rtt.ns());
    }
    return out;
  };
  const auto first = run(11);
  CHECK(first == run(11));
  CHECK(first != run(12));
  CHECK(first.find("timed_out") != std::string::npos);  // the outage shows in the ping series
}
