// TCP on the endpoint stack (tcp_set): sessions between endpoints of a traffic::endpoint_set.
// A bulk transfer through a 3 s outage captured at the sender and checked by tshark (no
// malformed frames, good checksums, tshark's retransmission count equal to ours); TSO on
// NICs through a switch with a cable pull; request/response; set-up errors.
#include "vnetsim/traffic/tcp_set.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "vnetsim/report/pcap_writer.hpp"
#include "../kernel/alloc_counter.hpp"
#include "../report/tshark.hpp"
#include "tcp_harness.hpp"
#include "worlds.hpp"

using namespace vnetsim;
using namespace vnetsim::literals;
using vnetsim::test::ep_config;
using vnetsim::test::ep_ip;

namespace {

/// Two endpoints on a test wire (attach_custom, checksums in software) with a line rate, a one-way delay
/// and an outage that drops everything sent in [from, to). The capture is taken at
/// endpoint 0: its frames as it sends them, endpoint 1's as they arrive.
struct wire_world {
  kernel::simulator sim;
  kernel::rng_streams streams{7};
  dev::frame_pool pool;
  traffic::endpoint_set eps{sim, pool, streams};
  tcp::tcp_set tcps{sim, eps, streams};
  sim_time delay = 1_ms;
  std::uint64_t rate_bps = 100'000'000;  // plus 24 bytes of preamble, FCS and gap per frame
  std::array<sim_time, 2> line_free{};
  sim_time outage_from = sim_time::max(), outage_to = sim_time::max();
  std::optional<report::pcap_writer> pcap;
  std::size_t captured = 0;

  wire_world() {
    for (std::uint32_t i = 0; i < 2; ++i) {
      auto c = ep_config(i);
      c.tx_checksum_offload = false;
      const auto id = eps.add(c);
      eps.attach_custom(id, &wire_world::on_tx, this, id);
    }
  }

  static void on_tx(void* ctx, std::uint32_t port, dev::frame_ref f) {
    auto& w = *static_cast<wire_world*>(ctx);
    const sim_time now = w.sim.now();
    if (port == 0 && w.pcap) {
      w.pcap->write(now, f);
      ++w.captured;
    }
    if (now >= w.outage_from && now < w.outage_to) return;
    // Serialisation at rate_bps per direction, then the delay.
    sim_time& free = w.line_free[port];
    free = std::max(free, now) + sim_time::from_ns(static_cast<sim_time::rep>(
                                     (f.size() + 24) * 8 * 1'000'000'000ULL / w.rate_bps));
    w.sim.schedule_at(free + w.delay, [&w, f, port](kernel::simulator& s) {
      if (port == 1 && w.pcap) {
        w.pcap->write(s.now(), f);
        ++w.captured;
      }
      w.eps.receive(1 - port, f);
    });
  }
};

/// Endpoints 0 .. n-1 (ep_config) on 1 Gb/s NICs, linked at 1 Gb/s to switch ports 0 .. n-1.
void add_gig_endpoints(test::net_world& w, std::uint32_t n) {
  dev::link_config lc;
  lc.bandwidth_bps = 1'000'000'000;
  dev::nic_config nc;
  nc.speed_bps = 1'000'000'000;
  for (std::uint32_t i = 0; i < n; ++i) w.add(ep_config(i), lc, nc);
}

struct tshark_counts {
  std::size_t frames = 0, tcp_frames = 0, bad = 0, retransmissions = 0;
};

tshark_counts run_tshark(const std::filesystem::path& file) {
  constexpr std::array fields = {"frame.number",        "_ws.malformed",       "ip.checksum.status",
                                 "tcp.checksum.status", "tcp.analysis.retransmission", "frame.protocols"};
  tshark_counts c;
  for (const auto& line : test::tshark_lines(file, test::tcp_checksum_prefs, "", fields)) {
    const auto f = test::split(line, '\t', fields.size());
    ++c.frames;
    const bool is_tcp = f[5].find(":tcp") != std::string::npos;
    if (!f[1].empty() || (is_tcp && (f[2] != "1" || f[3] != "1"))) ++c.bad;
    if (is_tcp) ++c.tcp_frames;
    if (!f[4].empty()) ++c.retransmissions;
  }
  return c;
}

}  // namespace

TEST_CASE("tcp set: bulk transfer through a 3 s outage, pcap checked by tshark") {
  wire_world w;
  const auto file = std::filesystem::path(VNETSIM_TEST_TMPDIR) / "tcp_set_outage.pcap";
  w.pcap.emplace(file);
  w.outage_from = 1_s;
  w.outage_to = 4_s;
  tcp::bulk_session_config c;
  c.name = "bulk";
  c.client = 0;
  c.server = 1;
  c.start = 100_ms;
  c.app.bytes = 20'000'000;
  c.client_tcp.send_buffer = 128 * 1024;
  const auto s = w.tcps.add_tcp_bulk(c);
  w.sim.run_until(60_s);
  w.pcap->close();
  const auto r = w.tcps.report(s);
  CHECK(r.app.complete);
  CHECK(r.app.bytes_delivered == 20'000'000);
  CHECK(r.server.bad_payload == 0);
  CHECK(r.client_state == tcp::state::time_wait);  // 2 MSL = 240 s
  CHECK(r.server_state == tcp::state::closed);
  CHECK(r.tx_dropped == 0);
  CHECK(w.tcps.counters().no_connection == 0);
  CHECK(w.tcps.counters().bad_segments == 0);
  CHECK(r.client.rto_events >= 2);
  // In-flight data still arrives for ~10 ms after the outage starts; the stall ends with
  // the first retransmission after it.
  CHECK(r.app.longest_stall > 2900_ms);
  const auto t = run_tshark(file);
  CHECK(t.frames == w.captured);
  CHECK(t.bad == 0);
  CHECK(t.retransmissions == r.client.tcpRetransSegs);
  MESSAGE("bulk over the endpoint stack: stall ", r.app.longest_stall.to_string(), " from ",
          r.app.longest_stall_start->to_string(), ", ", r.client.rto_events, " RTO events, ",
          r.client.tcpRetransSegs, " retransmissions (tshark ", t.retransmissions, "), ",
          t.frames, " frames");
}

TEST_CASE("tcp set: TSO on NICs through a switch, a cable pull, and request/response") {
  test::net_world w(4);
  add_gig_endpoints(w, 3);
  tcp::tcp_set tcps(w.sim, w.eps, w.streams);
  tcp::bulk_session_config b;
  b.name = "bulk";
  b.client = 0;
  b.server = 1;
  b.app.bytes = 50'000'000;
  b.client_tcp.min_rto = tcp::linux_min_rto;
  const auto bulk = tcps.add_tcp_bulk(b);
  tcp::rr_session_config q;
  q.name = "rr";
  q.client = 2;
  q.server = 1;
  q.tso = tcp::tso_mode::off;
  q.app.transactions = 100;
  q.app.think_time = 20_ms;
  const auto rr = tcps.add_tcp_rr(q);
  // Pull the server's cable for 1 s in the middle of the transfer.
  w.sim.schedule_at(200_ms, [&](kernel::simulator&) { w.links.set_carrier(w.link_of[1], false); });
  w.sim.schedule_at(1200_ms, [&](kernel::simulator&) { w.links.set_carrier(w.link_of[1], true); });
  w.sim.run_until(30_s);

  const auto r = tcps.report(bulk);
  CHECK(r.app.complete);
  CHECK(r.app.bytes_delivered == 50'000'000);
  CHECK(r.server.bad_payload == 0);
  CHECK(r.client.tso_super_segments > 0);  // the NICs offer TSO: automatic mode uses it
  CHECK(tcps.client(bulk).settings().tso);
  CHECK(tcps.client(bulk).settings().tso_max_payload == 65535 - 40);
  const auto seg = static_cast<std::size_t>(dev::nic_work::segmentation);
  CHECK(w.nics.work(w.nic_of[0]).hw_ops[seg] > 0);
  CHECK(w.nics.work(w.nic_of[0]).sw_ops[seg] == 0);
  CHECK(r.client.rto_events >= 1);
  CHECK(r.app.longest_stall > 1_s);
  const auto q_r = tcps.report(rr);
  CHECK(q_r.app.transactions == 100);
  CHECK(q_r.client_state == tcp::state::time_wait);
  CHECK(q_r.server_state == tcp::state::closed);
  CHECK_FALSE(tcps.client(rr).settings().tso);
  CHECK(q_r.app.longest_stall > 1_s);  // the shared server cable
  CHECK(tcps.counters().bad_segments == 0);
  CHECK(tcps.counters().no_connection == 0);
  MESSAGE("over NICs and a switch: bulk stall ", r.app.longest_stall.to_string(), ", ",
          r.client.rto_events, " RTO events, ", r.client.tso_super_segments,
          " super-segments, done at ", r.app.completed_at->to_string(), "; rr longest stall ",
          q_r.app.longest_stall.to_string(), ", max transaction ",
          q_r.app.max_transaction_time.to_string());
  CHECK_FALSE(tcps.log().empty());
}

TEST_CASE("tcp set: set-up errors name the session and the rule") {
  wire_world w;
  tcp::bulk_session_config c;
  c.name = "a";
  c.client = 0;
  c.server = 1;
  c.client_port = 40000;
  w.tcps.add_tcp_bulk(c);
  CHECK_THROWS_WITH_AS(w.tcps.add_tcp_bulk(c), "tcp session \"a\": the name is already used",
                       tcp::tcp_error);
  c.name = "b";
  CHECK_THROWS_WITH_AS(w.tcps.add_tcp_bulk(c),
                       "tcp session \"b\": 10.0.0.1:40000 <-> 10.0.0.2:5001 is already used by "
                       "session \"a\"",
                       tcp::tcp_error);
  c.server = 0;
  CHECK_THROWS_WITH_AS(w.tcps.add_tcp_bulk(c),
                       "tcp session \"b\": client and server are the same endpoint", tcp::tcp_error);
  c.server = 7;
  CHECK_THROWS_AS(w.tcps.add_tcp_bulk(c), tcp::tcp_error);
  c.server = 1;
  c.client_port = 0;
  c.client_tcp.mss = 10;
  CHECK_THROWS_WITH_AS(w.tcps.add_tcp_bulk(c),
                       "tcp session \"b\": client configuration: tcp::config: mss 10 is below 64 bytes",
                       tcp::tcp_error);
  CHECK(w.tcps.size() == 1);
  CHECK(w.tcps.find("a") == std::optional<tcp::session_id>(0));
}

TEST_CASE("tcp set: steady state allocates nothing; runs repeat exactly") {
  const auto run = [](bool count_allocations) {
    test::net_world w(4);
    add_gig_endpoints(w, 2);
    tcp::tcp_set tcps(w.sim, w.eps, w.streams);
    tcp::bulk_session_config b;
    b.name = "bulk";
    b.client = 0;
    b.server = 1;
    const auto s = tcps.add_tcp_bulk(b);
    w.sim.run_until(1500_ms);  // warm-up: queues, rings and pools at their working size
    const std::uint64_t bytes = tcps.report(s).app.bytes_delivered;  // report() allocates
    const std::size_t before = vnetsim::test::allocation_count();
    w.sim.run_until(3500_ms);
    if (count_allocations) {
      CHECK(vnetsim::test::allocation_count() == before);
      CHECK(tcps.report(s).app.bytes_delivered - bytes > 200'000'000);
    }
    return std::make_pair(tcps.log(), tcps.report(s).app.goodput_bytes);
  };
  const auto first = run(true);
  const auto second = run(false);
  CHECK(first == second);
}

TEST_CASE("tcp set: a segment for no connection is answered with a RST (RFC 9293 3.10.7.1)") {
  test::hub_world w;
  for (std::uint32_t i = 0; i < 2; ++i) w.add(ep_config(i));
  tcp::tcp_set tcps(w.sim, w.eps, w.streams);
  tcp::bulk_session_config c;  // installs the TCP hook on both; starts late
  c.name = "late";
  c.client = 0;
  c.server = 1;
  c.start = 10_s;
  tcps.add_tcp_bulk(c);
  // Endpoint 0 sends hand-made segments to port 7 of endpoint 1, where nothing listens.
  const auto send = [&](wire::tcp_flags flags, std::uint32_t seq, std::uint32_t ack, std::size_t data) {
    wire::tcp_repr r;
    r.src_port = 1234;
    r.dst_port = 7;
    r.seq = seq;
    r.ack = ack;
    r.flags = flags;
    r.window = 1000;
    auto f = w.eps.allocate_ip_frame(r.header_len() + data);
    REQUIRE(f);
    const auto l4 = f.data().subspan(traffic::ip_l4_offset, r.header_len() + data);
    std::fill(l4.begin(), l4.end(), std::byte{0x5a});
    r.emit(wire::tcp_packet{l4}, ep_ip(0), ep_ip(1), wire::checksum_mode::skip);
    REQUIRE(w.eps.send_ip(0, ep_ip(1), wire::ip_protocol::tcp, std::move(f)));
    w.sim.run_until(w.sim.now() + 1_ms);
  };
  const auto replies = [&] {
    std::vector<wire::tcp_repr> out;
    for (const auto* t : w.frames(1, 0x0800)) {
      const auto ip = wire::ipv4_packet_const{std::span<const std::byte>(t->bytes).subspan(14)};
      if (ip.protocol() != static_cast<std::uint8_t>(wire::ip_protocol::tcp)) continue;
      const auto seg = wire::tcp_repr::parse(ip.buffer().subspan(20, ip.total_len() - 20), ep_ip(1), ep_ip(0));
      REQUIRE(seg);
      out.push_back(*seg);
    }
    return out;
  };
  using wire::tcp_flags;
  send(tcp_flags::syn, 1000, 0, 0);  // ACK bit off: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
  auto r = replies();
  REQUIRE(r.size() == 1);
  CHECK(r[0].flags == (tcp_flags::rst | tcp_flags::ack));
  CHECK(r[0].seq == 0);
  CHECK(r[0].ack == 1001);  // the SYN counts one
  CHECK(r[0].src_port == 7);
  CHECK(r[0].dst_port == 1234);
  CHECK(r[0].window == 0);
  send(tcp_flags::ack | tcp_flags::psh, 5000, 777, 10);  // ACK bit on: <SEQ=SEG.ACK><CTL=RST>
  r = replies();
  REQUIRE(r.size() == 2);
  CHECK(r[1].flags == tcp_flags::rst);
  CHECK(r[1].seq == 777);
  send(tcp_flags::fin, 0xffff'fff0u, 0, 20);  // FIN + 20 bytes, wrapping: ACK = SEQ + 21
  r = replies();
  REQUIRE(r.size() == 3);
  CHECK(r[2].ack == 0xffff'fff0u + 21);
  send(tcp_flags::rst, 42, 0, 0);  // a RST is never answered
  CHECK(replies().size() == 3);
  CHECK(tcps.counters().rsts_sent == 3);
  // Endpoint 0 got the three RSTs for its port 1234, no connection there either: dropped
  // without a reply (they carry RST).
  CHECK(tcps.counters().no_connection == 4 + 3);
  CHECK(tcps.counters().bad_segments == 0);
}
