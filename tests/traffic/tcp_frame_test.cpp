// The frame-writing helper: bytes that wire:: parses back with valid checksums, the
// offload and TSO metadata, and a capture of a lossy transfer that tshark must decode
// without complaint and whose retransmission count must equal the engine's.
#include "vnetsim/traffic/tcp_frame.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "../report/tshark.hpp"
#include "tcp_harness.hpp"
#include "vnetsim/report/pcap_writer.hpp"
#include "vnetsim/wire/ethernet.hpp"

using namespace vnetsim;
using namespace vnetsim::literals;
using namespace vnetsim::test_tcp;

namespace {

tcp::frame_path make_path(wire::mac_address src_mac, wire::mac_address dst_mac,
                          wire::ipv4_address src, wire::ipv4_address dst) {
  tcp::frame_path p;
  p.src_mac = src_mac;
  p.dst_mac = dst_mac;
  p.src_ip = src;
  p.dst_ip = dst;
  return p;
}

const tcp::frame_path path_ab = make_path(wire::mac_address{{0x00, 0x50, 0x56, 0x00, 0x00, 0x01}},
                                          wire::mac_address{{0x00, 0x50, 0x56, 0x00, 0x00, 0x02}},
                                          ep_a.addr, ep_b.addr);

wire::tcp_repr data_header() {
  wire::tcp_repr r;
  r.src_port = ep_a.port;
  r.dst_port = ep_b.port;
  r.seq = 0xfffff000;  // wraps inside the payload
  r.ack = 77;
  r.flags = tcp_flags::ack | tcp_flags::psh;
  r.window = 4096;
  return r;
}

}  // namespace

TEST_CASE("tcp frame: software checksums parse back") {
  dev::frame_pool pool;
  SUBCASE("data segment") {
    tcp::frame_error err = tcp::frame_error::too_big;
    const auto f = tcp::write_frame(pool, 5_ms, path_ab, 0x1234, data_header(), 123456, 1000, 0,
                                    {}, &err);
    REQUIRE(f);
    CHECK(err == tcp::frame_error::none);
    CHECK(f.size() == 14 + 20 + 20 + 1000);
    CHECK(f.meta().csum == dev::csum_offload::none);
    CHECK(f.meta().tso_mss == 0);
    const auto eth = wire::ethernet_repr::parse(f.cdata());
    REQUIRE(eth);
    CHECK(eth->dst == path_ab.dst_mac);
    CHECK(eth->src == path_ab.src_mac);
    CHECK(eth->type_or_len == 0x0800);
    const auto ip = wire::ipv4_repr::parse(f.cdata().subspan(14));
    REQUIRE(ip);
    CHECK(ip->src == ep_a.addr);
    CHECK(ip->dst == ep_b.addr);
    CHECK(ip->protocol == wire::ip_protocol::tcp);
    CHECK(ip->payload_len == 1020);
    CHECK(ip->ident == 0x1234);
    CHECK(ip->dont_frag);
    CHECK(ip->ttl == 64);
    const auto tcp = wire::tcp_repr::parse(f.cdata().subspan(34), ep_a.addr, ep_b.addr);
    REQUIRE(tcp);
    auto want = data_header();
    want.payload = tcp->payload;
    CHECK(*tcp == want);
    CHECK(tcp->payload.size() == 1000);
    CHECK(tcp::payload_matches(tcp->payload, 123456));
  }
  SUBCASE("SYN with options") {
    auto syn = data_header();
    syn.flags = tcp_flags::syn;
    syn.mss = 1460;
    syn.window_scale = 7;
    const auto f = tcp::write_frame(pool, 0_ms, path_ab, 1, syn, 0, 0, 0, {});
    REQUIRE(f);
    CHECK(f.size() == 14 + 20 + 28);  // MSS 4, NOP + window scale 4
    const auto tcp = wire::tcp_repr::parse(f.cdata().subspan(34), ep_a.addr, ep_b.addr);
    REQUIRE(tcp);
    CHECK(tcp->mss == std::optional<std::uint16_t>(1460));
    CHECK(tcp->window_scale == std::optional<std::uint8_t>(7));
    CHECK(tcp->payload.empty());
  }
}

TEST_CASE("tcp frame: checksum offload and TSO metadata") {
  dev::frame_pool pool;
  tcp::frame_path p = path_ab;
  p.vlan_tci = 0x0064;
  const auto f = tcp::write_frame(pool, 0_ms, p, 9, data_header(), 0, 100, 0, {true});
  REQUIRE(f);
  CHECK(f.meta().csum == (dev::csum_offload::ipv4_header | dev::csum_offload::l4));
  CHECK(f.meta().vlan_tci == std::optional<std::uint16_t>(0x0064));
  // Left for the NIC: the parse fails until the checksums are filled.
  CHECK(wire::ipv4_repr::parse(f.cdata().subspan(14)).error() == wire::parse_error::bad_checksum);
  const wire::ipv4_packet ip{f.data().subspan(14)};
  ip.fill_checksum();
  wire::tcp_packet{ip.payload()}.fill_checksum(ep_a.addr, ep_b.addr);
  CHECK(wire::ipv4_repr::parse(f.cdata().subspan(14)));
  CHECK(wire::tcp_repr::parse(f.cdata().subspan(34), ep_a.addr, ep_b.addr));

  // A super-segment: the largest whole number of 1460-byte MSS in a 65535-byte datagram.
  const auto g = tcp::write_frame(pool, 0_ms, path_ab, 9, data_header(), 0, 44 * 1460, 1460, {});
  REQUIRE(g);
  CHECK(g.size() == 14 + 20 + 20 + 44 * 1460);
  CHECK(g.size_class() == dev::frame_class::tso);
  CHECK(g.meta().tso_mss == 1460);
  CHECK(g.meta().csum == (dev::csum_offload::ipv4_header | dev::csum_offload::l4));
  const wire::ipv4_packet_const gip{g.cdata().subspan(14)};
  CHECK(gip.total_len() == 20 + 20 + 44 * 1460);
  CHECK(tcp::payload_matches(g.cdata().subspan(54), 0));

  tcp::frame_error err = tcp::frame_error::none;
  CHECK_FALSE(tcp::write_frame(pool, 0_ms, path_ab, 9, data_header(), 0, 65535 - 39, 1460, {}, &err));
  CHECK(err == tcp::frame_error::too_big);
}

namespace {

struct tshark_counts {
  std::size_t frames = 0, bad = 0, retransmissions = 0, fast_retransmissions = 0,
              dup_acks = 0, tcp_checksum_good = 0, window_full = 0;
};

/// Runs tshark with TCP analysis and checksum validation; counts per field.
tshark_counts run_tshark(const std::filesystem::path& file) {
  constexpr std::array fields = {
      "frame.number", "_ws.malformed", "ip.checksum.status", "tcp.checksum.status", "tcp.analysis.retransmission",
      "tcp.analysis.fast_retransmission", "tcp.analysis.duplicate_ack", "tcp.analysis.window_full"};
  tshark_counts c;
  for (const auto& line : test::tshark_lines(file, test::tcp_analysis_prefs, "-E occurrence=a", fields)) {
    const auto f = test::split(line, '\t');
    REQUIRE(f.size() == 8);
    ++c.frames;
    // Malformed, or an IP/TCP checksum status other than 2 ("good").
    if (!f[1].empty() || f[2] != "1" || f[3] != "1") {
      ++c.bad;
      MESSAGE("frame ", f[0], ": malformed '", f[1], "' ip ", f[2], " tcp ", f[3]);
    }
    if (f[3] == "1") ++c.tcp_checksum_good;  // 0 bad, 1 good, 2 unverified
    if (!f[4].empty()) ++c.retransmissions;
    if (!f[5].empty()) ++c.fast_retransmissions;
    if (!f[6].empty()) ++c.dup_acks;
    if (!f[7].empty()) ++c.window_full;
  }
  return c;
}

}  // namespace

TEST_CASE("tcp frame: tshark agrees with a lossy transfer captured at the sender") {
  tcp::config c;
  c.min_rto = tcp::linux_min_rto;
  tcp::config cb;
  cb.recv_buffer = 44 * 1460;  // below the 125 kB bandwidth-delay product: the window fills
  pair_harness h(c, cb, 5_ms);
  h.rate_bps = 100'000'000;
  h.bulk_a = true;
  h.bulk_limit = 3'000'000;
  h.outage = std::pair{400_ms, 1400_ms};
  bool lost = false;
  h.drop = [&](int from, const tx& t) {  // one loss early on: fast retransmit
    if (from != 0 || lost || t.off != 100 * 1460) return false;
    lost = true;
    return true;
  };
  // Wireshark calls an ACK a duplicate when it repeats the previous ACK number and window
  // with no data; RFC 5681 2 also asks for outstanding data. Count the ones A receives with
  // nothing outstanding, which only Wireshark counts.
  std::vector<wire::tcp_repr> b_in_flight;  // B's segments on the path, in order
  std::optional<wire::tcp_repr> prev_b;
  std::uint64_t idle_dups = 0;
  h.after_rx = [&](int to, sim_time) {
    if (to != 0) return;
    const wire::tcp_repr seg = b_in_flight.front();
    b_in_flight.erase(b_in_flight.begin());
    if (prev_b && seg.payload.empty() && seg.ack == prev_b->ack && seg.window == prev_b->window &&
        seg.flags == tcp_flags::ack && h.a.bytes_in_flight() == 0) {
      ++idle_dups;
    }
    prev_b = seg;
  };
  // The capture at A's NIC: A's frames as they leave, B's as they arrive.
  struct cap {
    sim_time at;
    std::size_t n;  // order of capture, for ties
    int from;
    tx t;
  };
  std::vector<cap> caps;
  h.tap = [&](int from, const tx& t, std::optional<sim_time> arrival) {
    if (from == 0) {
      caps.push_back({t.at, caps.size(), 0, t});
    } else if (arrival) {
      caps.push_back({*arrival, caps.size(), 1, t});
      b_in_flight.push_back(t.seg);
    }
  };
  h.connect();
  h.at(5_s, [&](sim_time t) { h.a.close(t, h.sa); });
  h.at(5_s, [&](sim_time t) { h.b.close(t, h.sb); });
  h.run_until(10_s);
  REQUIRE(h.sb.delivered == 3'000'000);
  std::sort(caps.begin(), caps.end(),
            [](const cap& x, const cap& y) { return std::tie(x.at, x.n) < std::tie(y.at, y.n); });

  const auto file = std::filesystem::path(VNETSIM_TEST_TMPDIR) / "tcp_lossy_transfer.pcap";
  {
    dev::frame_pool pool;
    report::pcap_writer w(file);
    const tcp::frame_path ba = make_path(path_ab.dst_mac, path_ab.src_mac, ep_b.addr, ep_a.addr);
    std::array<std::uint16_t, 2> ident{};
    for (const auto& k : caps) {
      const auto f = tcp::write_frame(pool, k.at, k.from == 0 ? path_ab : ba, ident[k.from]++,
                                      k.t.seg, k.t.off, k.t.len, 0, {});
      REQUIRE(f);
      w.write(k.at, f);
    }
    w.close();
  }
  const auto& s = h.a.counters();
  const auto t = run_tshark(file);
  MESSAGE("frames ", t.frames, ", tshark retransmissions ", t.retransmissions, " (fast ",
          t.fast_retransmissions, "), duplicate ACKs ", t.dup_acks, "; ours: retransmitted ",
          s.tcpRetransSegs, " (RTO ", s.retrans_rto, ", fast ", s.retrans_fast, "), dup ACKs in ",
          s.dup_acks_in, " (+ ", idle_dups, " with nothing outstanding), RTO events ", s.rto_events);
  CHECK(t.frames == caps.size());
  CHECK(t.bad == 0);
  CHECK(t.tcp_checksum_good == caps.size());
  CHECK(s.retrans_fast >= 1);
  CHECK(s.rto_events >= 2);
  // Wireshark marks a fast retransmission as a retransmission too.
  CHECK(t.retransmissions == s.tcpRetransSegs);
  CHECK(t.dup_acks == s.dup_acks_in + idle_dups);
  MESSAGE("window full: tshark ", t.window_full, ", ours ", s.window_full);
  CHECK(t.window_full == s.window_full);
  CHECK(t.fast_retransmissions == s.retrans_fast);
}
