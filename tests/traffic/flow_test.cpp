// UDP flow accounting with frames injected by hand (duplicates, reordering, a gap, exact
// latencies), and a capture of real endpoint traffic checked by tshark.
#include "vnetsim/traffic/endpoint.hpp"

#include <array>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "vnetsim/wire/arp.hpp"
#include "vnetsim/wire/ethernet.hpp"
#include "vnetsim/wire/udp.hpp"
#include "../report/tshark.hpp"
#include "worlds.hpp"

using namespace vnetsim;
using namespace vnetsim::literals;
using namespace vnetsim::test;

namespace {

/// Makes `ep` know `other` by injecting an ARP request from `other` addressed to it.
void teach(hub_world& w, traffic::endpoint_id ep, std::uint32_t other) {
  std::vector<std::byte> b(60, std::byte{0});
  wire::ethernet_repr{wire::mac_address::broadcast(), ep_mac(other), 0x0806}.emit(wire::ethernet_frame{std::span(b)});
  wire::arp_repr{wire::arp_operation::request, ep_mac(other), ep_ip(other).to_u32(), wire::mac_address{},
                 ep_ip(ep).to_u32()}
      .emit(wire::arp_packet{std::span(b).subspan(14)});
  w.inject(ep, b);
}

}  // namespace

TEST_CASE("UDP flow: duplicates, reordering, loss, longest gap and latency percentiles from injected frames") {
  hub_world w;
  w.hold = true;
  const auto a = w.add(ep_config(0));
  const auto b = w.add(ep_config(1));
  teach(w, a, 1);
  w.sent.clear();  // a's ARP reply
  const auto fc = flow_cfg("f", a, 1, 1000, 10_ms);
  const auto f = w.eps.add_udp_flow(fc);
  w.sim.run();
  REQUIRE(w.sent.size() == 10);
  for (std::size_t k = 0; k < 10; ++k) {
    const auto payload = std::span(w.sent[k].bytes).subspan(42);
    CHECK(wire::get_u32(payload, 0) == traffic::udp_flow_magic);
    CHECK(wire::get_u32(payload, 4) == f);
    CHECK(wire::get_u64(payload, 8) == k);
    CHECK(wire::get_u64(payload, 16) == k * 1'000'000);  // sent at k ms
    CHECK(w.sent[k].meta.flow_id == f + 1);
    CHECK(w.sent[k].meta.flow_seq == k);
  }
  // Delivery i happens at 20 + i ms; seq 6 never arrives.
  const std::array<std::size_t, 12> order{0, 2, 1, 1, 4, 3, 5, 5, 5, 7, 8, 9};
  for (std::size_t i = 0; i < order.size(); ++i) {
    w.sim.run_until(20_ms + 1_ms * static_cast<sim_time::rep>(i));
    w.eps.receive(b, w.sent[order[i]].frame);
  }
  w.sim.run_until(100_ms);
  const auto& s = w.eps.flow_stats(f);
  CHECK(s.sent == 10);
  CHECK(s.delivered == 9);
  CHECK(s.duplicated == 3);
  CHECK(s.reordered == 2);  // 1 after 2, 3 after 4 (RFC 4737)
  CHECK(s.lost == 1);
  CHECK(s.in_flight == 0);
  // Fresh deliveries at 20, 21, 22, 24, 25, 26, 29, 30, 31 ms.
  CHECK(s.first_delivery == 20_ms);
  CHECK(s.last_delivery == 31_ms);
  CHECK(s.longest_gap == 3_ms);
  CHECK(s.gap_start == 26_ms);
  CHECK(s.gap_end == 29_ms);
  // Latencies 20, 19, 21, 20, 22, 21, 22, 22, 22 ms: sorted 19 20 20 21 21 22 22 22 22.
  CHECK(s.latency_min == 19_ms);
  CHECK(s.latency_max == 22_ms);
  CHECK(s.latency_p50 == sim_time::from_ns(20'971'520));  // 21 ms, as its bucket's floor
  CHECK(s.latency_p50 <= 21_ms);
  CHECK((21_ms - s.latency_p50).ns() * 32 <= (21_ms).ns());
  CHECK(s.latency_p90 == 22_ms);
  CHECK(s.latency_p99 == 22_ms);
  CHECK(s.latency_mean == sim_time::from_ns(189'000'000 / 9));
  CHECK(w.eps.counters(b).udpInDatagrams == 12);

  // A datagram on the flow's port without a flow header.
  auto junk = w.pool.allocate_copy(w.sent[0].bytes, w.sim.now());
  const auto jd = junk.data();
  wire::put_u32(jd, 42, 0xdeadbeef);
  wire::udp_packet{jd.subspan(34)}.fill_checksum(ep_ip(0), ep_ip(1));
  w.eps.receive(b, junk);
  CHECK(w.eps.flow_stats(f).bad_payload == 1);
}

// ---------------------------------------------------------------------------------------
// tshark over a capture of ARP, gratuitous ARP, ping and a UDP flow.

namespace {

struct row {
  std::string protocols, messages, ip_status, udp_status, icmp_status, malformed;
};

std::vector<row> run_tshark(const std::filesystem::path& file) {
  constexpr std::array fields = {"frame.protocols",     "_ws.expert.message",   "ip.checksum.status",
                                 "udp.checksum.status", "icmp.checksum.status", "_ws.malformed"};
  std::vector<row> rows;
  for (const auto& line : tshark_lines(file, "-o ip.check_checksum:TRUE -o udp.check_checksum:TRUE",
                                       "-E aggregator='|' -E occurrence=a", fields)) {
    const auto f = split(line, '\t');
    REQUIRE(f.size() == 6);
    rows.push_back({f[0], f[1], f[2], f[3], f[4], f[5]});
  }
  return rows;
}

}  // namespace

TEST_CASE("a capture of endpoint traffic decodes in tshark: no malformed packets, good checksums") {
  const std::filesystem::path path = std::filesystem::path(VNETSIM_TEST_TMPDIR) / "traffic_flow.pcap";
  std::size_t frames = 0;
  {
    hub_world w;
    w.pcap.emplace(path);
    auto ca = ep_config(0);
    ca.arp.gratuitous_at_start = true;
    const auto a = w.add(ca);
    w.add(ep_config(1));
    auto fc = flow_cfg("f", a, 1, 1000, 6_ms);
    fc.payload_len = 1000;
    fc.start = 1_ms;
    const auto f = w.eps.add_udp_flow(fc);
    auto pc = ping_cfg(a, 1, 2);
    pc.interval = 10_ms;
    w.eps.add_ping(pc);
    w.sim.run();
    CHECK(w.eps.flow_stats(f).delivered == 5);
    w.pcap->close();
    frames = w.sent.size();
  }
  // 1 gratuitous ARP, ARP request + reply, 5 UDP, 2 echo requests + 2 replies.
  REQUIRE(frames == 12);
  const auto rows = run_tshark(path);
  REQUIRE(rows.size() == frames);
  std::size_t arp = 0, udp = 0, icmp = 0;
  for (const auto& r : rows) {
    CAPTURE(r.protocols);
    CHECK(r.malformed.empty());
    std::string m = r.messages;
    for (auto& ch : m) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    CHECK(m.find("malformed") == std::string::npos);
    CHECK(m.find("checksum") == std::string::npos);
    if (r.protocols == "eth:ethertype:arp") {
      ++arp;
      continue;
    }
    CHECK(r.ip_status == "1");  // PROTO_CHECKSUM_E_GOOD
    if (r.protocols == "eth:ethertype:ip:udp:data") {
      ++udp;
      CHECK(r.udp_status == "1");
    } else if (r.protocols == "eth:ethertype:ip:icmp:data") {
      ++icmp;
      CHECK(r.icmp_status == "1");
    } else {
      FAIL("unexpected protocols " << r.protocols);
    }
  }
  CHECK(arp == 3);
  CHECK(udp == 5);
  CHECK(icmp == 4);
}
