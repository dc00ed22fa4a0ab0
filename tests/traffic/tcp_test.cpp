// The TCP engine with no kernel: state by state against a hand-driven peer (smoltcp
// style), then pairs of engines joined by tcp_harness.hpp's delayed path with scripted
// losses. Times are exact nanoseconds of the model.
#include "vnetsim/traffic/tcp.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "../kernel/alloc_counter.hpp"
#include "tcp_harness.hpp"

using namespace vnetsim;
using namespace vnetsim::literals;
using namespace vnetsim::test_tcp;

namespace {

constexpr std::uint32_t iss_a = 1000;
constexpr std::uint32_t iss_b = 5000;

/// A connection from A to a hand-driven peer B, with its sink.
struct solo {
  tcp::connection c;
  capture_sink s;
  explicit solo(const tcp::config& cfg = {}) : c(cfg, ep_a, ep_b, iss_a) {}
  void rx(const wire::tcp_repr& seg, sim_time now, std::uint64_t off = 0, std::size_t len = 0) {
    c.on_segment(seg, pattern(off, len), now, s);
  }
  const tx& last() const { return s.txs.back(); }
};

/// `solo` taken to ESTABLISHED by an active open: SYN at 0, SYN-ACK at 10 ms with MSS
/// `peer_mss` and no window scale. Peer ISS is iss_b; our data offset k has seq iss_a+1+k.
solo established_active(const tcp::config& cfg = {}, std::uint16_t peer_mss = 1460,
                        std::uint16_t peer_window = 65535) {
  solo x(cfg);
  x.c.open_active(0_ms, x.s);
  auto synack = segment(iss_b, iss_a + 1, tcp_flags::syn | tcp_flags::ack, peer_window);
  synack.mss = peer_mss;
  x.rx(synack, 10_ms);
  REQUIRE(x.c.current_state() == state::established);
  x.s.txs.clear();
  return x;
}

std::uint32_t a_seq(std::uint64_t off) { return iss_a + 1 + static_cast<std::uint32_t>(off); }
std::uint32_t b_seq(std::uint64_t off) { return iss_b + 1 + static_cast<std::uint32_t>(off); }

}  // namespace

TEST_CASE("tcp: state names are RFC 9293's") {
  CHECK(tcp::to_string(state::closed) == "CLOSED");
  CHECK(tcp::to_string(state::listen) == "LISTEN");
  CHECK(tcp::to_string(state::syn_sent) == "SYN-SENT");
  CHECK(tcp::to_string(state::syn_received) == "SYN-RECEIVED");
  CHECK(tcp::to_string(state::established) == "ESTABLISHED");
  CHECK(tcp::to_string(state::fin_wait_1) == "FIN-WAIT-1");
  CHECK(tcp::to_string(state::fin_wait_2) == "FIN-WAIT-2");
  CHECK(tcp::to_string(state::close_wait) == "CLOSE-WAIT");
  CHECK(tcp::to_string(state::closing) == "CLOSING");
  CHECK(tcp::to_string(state::last_ack) == "LAST-ACK");
  CHECK(tcp::to_string(state::time_wait) == "TIME-WAIT");
}

TEST_CASE("tcp: configuration and API errors name the rule") {
  tcp::config c;
  c.mss = 10;
  CHECK_THROWS_WITH_AS(c.validate(), "tcp::config: mss 10 is below 64 bytes", tcp::tcp_error);
  c = {};
  c.delayed_ack = 500_ms;
  CHECK_THROWS_WITH_AS(c.validate(), "tcp::config: delayed_ack 0.5s must be in [0, 0.5s) (RFC 5681 4.2)",
                       tcp::tcp_error);
  c = {};
  c.max_rto = 100_ms;
  CHECK_THROWS_AS(tcp::connection(c, ep_a, ep_b, 1), tcp::tcp_error);
  c = {};
  c.recv_buffer = 1u << 31;
  CHECK_THROWS_WITH_AS(c.validate(), "tcp::config: recv_buffer 2147483648 exceeds 65535 << 14 (RFC 7323 2.3)",
                       tcp::tcp_error);

  solo x;
  CHECK_THROWS_WITH_AS(x.c.send(10, 0_ms, x.s), "tcp::connection::send: connection not open (state CLOSED)",
                       tcp::tcp_error);
  CHECK_THROWS_WITH_AS(x.c.close(0_ms, x.s), "tcp::connection::close: connection does not exist (state CLOSED)",
                       tcp::tcp_error);
  x.c.open_active(0_ms, x.s);
  CHECK_THROWS_WITH_AS(x.c.listen(0_ms, x.s), "tcp::connection::listen: connection already exists (state SYN-SENT)",
                       tcp::tcp_error);
  x.c.close(1_ms, x.s);
  CHECK_THROWS_WITH_AS(x.c.open_active(2_ms, x.s),
                       "tcp::connection::open_active: connection already used; make a new one with a "
                       "new ISS (RFC 9293 3.4.1)",
                       tcp::tcp_error);
  auto y = established_active();
  y.c.close(1_s, y.s);
  CHECK_THROWS_WITH_AS(y.c.send(1, 1_s, y.s), "tcp::connection::send: connection closing (state FIN-WAIT-1)",
                       tcp::tcp_error);
  CHECK_THROWS_WITH_AS(y.c.close(1_s, y.s), "tcp::connection::close: connection closing (state FIN-WAIT-1)",
                       tcp::tcp_error);
}

TEST_CASE("tcp: payload pattern") {
  std::vector<std::byte> v(70000);
  tcp::fill_payload(v, 65000);
  for (std::size_t i = 0; i < v.size(); ++i) REQUIRE(v[i] == tcp::payload_pattern(65000 + i));
  CHECK(tcp::payload_matches(v, 65000));
  CHECK_FALSE(tcp::payload_matches(v, 65000 + 1460));  // misplaced by one MSS
  v[1234] ^= std::byte{1};
  CHECK_FALSE(tcp::payload_matches(v, 65000));
}

TEST_CASE("tcp: one state at a time, against a hand-driven peer") {
  SUBCASE("CLOSED answers with RST") {
    solo x;
    x.rx(segment(77, 0, tcp_flags::syn), 1_ms);  // ACK off: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><RST,ACK>
    REQUIRE(x.s.txs.size() == 1);
    CHECK(x.last().seg.flags == (tcp_flags::rst | tcp_flags::ack));
    CHECK(x.last().seg.seq == 0);
    CHECK(x.last().seg.ack == 78);
    x.rx(segment(77, 4242, tcp_flags::ack), 2_ms);  // ACK on: <SEQ=SEG.ACK><CTL=RST>
    REQUIRE(x.s.txs.size() == 2);
    CHECK(x.last().seg.flags == tcp_flags::rst);
    CHECK(x.last().seg.seq == 4242);
    x.rx(segment(77, 0, tcp_flags::rst), 3_ms);  // a RST is never answered
    CHECK(x.s.txs.size() == 2);
    CHECK(x.c.counters().tcpOutRsts == 2);
    CHECK(x.c.current_state() == state::closed);
  }

  SUBCASE("LISTEN: SYN gives SYN-ACK with options; ACK gives RST; RST is ignored") {
    tcp::connection c({}, ep_a, ep_b, iss_a);
    capture_sink s;
    c.listen(0_ms, s);
    CHECK(c.current_state() == state::listen);
    c.on_segment(segment(1, 0, tcp_flags::rst), {}, 1_ms, s);
    CHECK(s.txs.empty());
    c.on_segment(segment(1, 99, tcp_flags::ack), {}, 2_ms, s);
    REQUIRE(s.txs.size() == 1);
    CHECK(s.txs[0].seg.flags == tcp_flags::rst);
    CHECK(s.txs[0].seg.seq == 99);
    auto syn = segment(iss_b, 0, tcp_flags::syn);
    syn.mss = 1000;
    syn.window_scale = 2;
    c.on_segment(syn, {}, 3_ms, s);
    CHECK(c.current_state() == state::syn_received);
    REQUIRE(s.txs.size() == 2);
    const auto& sa = s.txs[1].seg;
    CHECK(sa.flags == (tcp_flags::syn | tcp_flags::ack));
    CHECK(sa.seq == iss_a);
    CHECK(sa.ack == iss_b + 1);
    CHECK(sa.mss == std::optional<std::uint16_t>(1460));
    CHECK(sa.window_scale == std::optional<std::uint8_t>(3));  // 256 KiB >> 3 = 32768
    CHECK(sa.window == 65535);                                   // a SYN is never scaled
    CHECK(c.smss() == 1000);
    CHECK(c.snd_wscale() == 2);
    CHECK(c.rcv_wscale() == 3);
    CHECK(c.counters().tcpPassiveOpens == 1);
    CHECK(c.rto_deadline() == std::optional<sim_time>(1003_ms));
  }

  SUBCASE("SYN-SENT: SYN options, retransmissions at 1, 3, 7 ... s and failure") {
    solo x;
    x.c.open_active(0_ms, x.s);
    CHECK(x.c.current_state() == state::syn_sent);
    REQUIRE(x.s.txs.size() == 1);
    CHECK(x.last().seg.flags == tcp_flags::syn);
    CHECK(x.last().seg.seq == iss_a);
    CHECK(x.last().seg.mss == std::optional<std::uint16_t>(1460));
    CHECK(x.last().seg.window_scale == std::optional<std::uint8_t>(3));
    std::vector<sim_time> at;
    while (auto d = x.c.next_deadline()) x.c.on_timer(*d, x.s);
    for (const auto& t : x.s.txs) at.push_back(t.at);
    // Initial RTO 1 s doubled per expiry (RFC 6298 2.1, 5.5); 6 retransmissions.
    CHECK(at == std::vector<sim_time>{0_s, 1_s, 3_s, 7_s, 15_s, 31_s, 63_s});
    CHECK(x.c.current_state() == state::closed);
    CHECK(std::get<2>(x.s.states.back()) == 123_s);  // 63 s + the 60 s maximum RTO
    CHECK(x.c.counters().tcpAttemptFails == 1);
    CHECK(x.c.counters().rto_events == 6);
  }

  SUBCASE("SYN-SENT: unacceptable ACK gives RST; RST without ACK is ignored; RST with ACK refuses") {
    solo x;
    x.c.open_active(0_ms, x.s);
    x.rx(segment(iss_b, iss_a + 7, tcp_flags::syn | tcp_flags::ack), 1_ms);
    CHECK(x.last().seg.flags == tcp_flags::rst);
    CHECK(x.last().seg.seq == iss_a + 7);
    x.rx(segment(iss_b, 0, tcp_flags::rst), 2_ms);
    CHECK(x.c.current_state() == state::syn_sent);
    x.rx(segment(0, iss_a + 1, tcp_flags::rst | tcp_flags::ack), 3_ms);
    CHECK(x.c.current_state() == state::closed);
    CHECK(x.c.next_deadline() == std::nullopt);
    CHECK(x.s.logs.back() == "0.003s tcp 10.0.0.1:1000>10.0.0.2:2000: SYN-SENT=>CLOSED");
  }

  SUBCASE("SYN-SENT: a SYN without ACK is a simultaneous open") {
    solo x;
    x.c.open_active(0_ms, x.s);
    x.rx(segment(iss_b, 0, tcp_flags::syn), 5_ms);
    CHECK(x.c.current_state() == state::syn_received);
    CHECK(x.last().seg.flags == (tcp_flags::syn | tcp_flags::ack));
    CHECK(x.last().seg.seq == iss_a);
    CHECK(x.last().seg.ack == iss_b + 1);
  }

  SUBCASE("SYN-RECEIVED: ACK establishes; a repeated SYN repeats the SYN-ACK; RST returns to LISTEN") {
    tcp::connection c({}, ep_a, ep_b, iss_a);
    capture_sink s;
    c.listen(0_ms, s);
    c.on_segment(segment(iss_b, 0, tcp_flags::syn), {}, 1_ms, s);
    c.on_segment(segment(iss_b, 0, tcp_flags::syn), {}, 2_ms, s);
    REQUIRE(s.txs.size() == 2);
    CHECK(s.txs[1].seg.flags == (tcp_flags::syn | tcp_flags::ack));
    CHECK(c.counters().tcpRetransSegs == 1);
    SUBCASE("RST") {
      c.on_segment(segment(iss_b + 1, 0, tcp_flags::rst), {}, 3_ms, s);
      CHECK(c.current_state() == state::listen);
      CHECK(c.next_deadline() == std::nullopt);
      CHECK(c.counters().tcpAttemptFails == 1);
    }
    SUBCASE("bad ACK") {
      c.on_segment(segment(iss_b + 1, iss_a + 9, tcp_flags::ack), {}, 3_ms, s);
      CHECK(c.current_state() == state::syn_received);
      CHECK(s.txs.back().seg.flags == tcp_flags::rst);
      CHECK(s.txs.back().seg.seq == iss_a + 9);
    }
    SUBCASE("ACK") {
      c.on_segment(segment(iss_b + 1, iss_a + 1, tcp_flags::ack), {}, 3_ms, s);
      CHECK(c.current_state() == state::established);
      CHECK(c.next_deadline() == std::nullopt);
      // The SYN-ACK was sent twice: one SMSS of initial window (RFC 5681 3.1), RTO 3 s
      // (RFC 6298 5.7), no RTT sample (Karn).
      CHECK(c.cwnd() == 536);  // no MSS option in the SYN: 536 (RFC 9293 3.7.1)
      CHECK(c.rto() == 3_s);
      CHECK(c.srtt() == std::nullopt);
    }
  }

  SUBCASE("ESTABLISHED: data, RST and SYN handling (RFC 5961 challenge ACKs)") {
    auto x = established_active();
    CHECK(x.c.srtt() == std::optional<sim_time>(10_ms));
    x.rx(segment(b_seq(0), a_seq(0), tcp_flags::ack | tcp_flags::psh), 20_ms, 0, 100);
    CHECK(x.s.deliveries == std::vector<std::pair<std::uint64_t, std::uint32_t>>{{0, 100}});
    CHECK(x.c.delayed_ack_deadline() == std::optional<sim_time>(220_ms));
    // A RST inside the window but not at RCV.NXT: challenge ACK, no reset.
    x.rx(segment(b_seq(500), 0, tcp_flags::rst), 30_ms);
    CHECK(x.c.current_state() == state::established);
    CHECK(x.last().seg.flags == tcp_flags::ack);
    CHECK(x.last().seg.ack == b_seq(100));
    // A SYN: challenge ACK.
    x.rx(segment(b_seq(100), 0, tcp_flags::syn), 31_ms);
    CHECK(x.c.current_state() == state::established);
    CHECK(x.last().seg.flags == tcp_flags::ack);
    CHECK(x.last().at == 31_ms);
    // A RST at RCV.NXT resets.
    x.rx(segment(b_seq(100), 0, tcp_flags::rst), 32_ms);
    CHECK(x.c.current_state() == state::closed);
    CHECK(x.c.counters().tcpEstabResets == 1);
  }

  SUBCASE("FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT -> CLOSED") {
    auto x = established_active();
    x.c.close(1_s, x.s);
    CHECK(x.c.current_state() == state::fin_wait_1);
    CHECK(x.last().seg.flags == (tcp_flags::fin | tcp_flags::ack));
    CHECK(x.last().seg.seq == a_seq(0));
    x.rx(segment(b_seq(0), a_seq(1), tcp_flags::ack), 1010_ms);
    CHECK(x.c.current_state() == state::fin_wait_2);
    CHECK(x.c.next_deadline() == std::nullopt);
    x.rx(segment(b_seq(0), a_seq(1), tcp_flags::fin | tcp_flags::ack), 2_s);
    CHECK(x.c.current_state() == state::time_wait);
    CHECK(x.last().seg.ack == b_seq(1));
    CHECK(x.c.next_deadline() == std::optional<sim_time>(2_s + 240_s));  // 2 * MSL
    // TIME-WAIT: a retransmitted FIN is acknowledged and restarts the timer.
    x.rx(segment(b_seq(0), a_seq(1), tcp_flags::fin | tcp_flags::ack), 3_s);
    CHECK(x.last().at == 3_s);
    CHECK(x.last().seg.ack == b_seq(1));
    CHECK(x.c.next_deadline() == std::optional<sim_time>(3_s + 240_s));
    x.c.on_timer(243_s, x.s);
    CHECK(x.c.current_state() == state::closed);
    CHECK(std::get<2>(x.s.states.back()) == 243_s);
  }

  SUBCASE("FIN-WAIT-1 -> CLOSING -> TIME-WAIT (simultaneous close)") {
    auto x = established_active();
    x.c.close(1_s, x.s);
    x.rx(segment(b_seq(0), a_seq(0), tcp_flags::fin | tcp_flags::ack), 1005_ms);
    CHECK(x.c.current_state() == state::closing);
    CHECK(x.last().seg.ack == b_seq(1));
    x.rx(segment(b_seq(1), a_seq(1), tcp_flags::ack), 1010_ms);
    CHECK(x.c.current_state() == state::time_wait);
  }

  SUBCASE("FIN-WAIT-1: FIN and ACK of our FIN together go to TIME-WAIT") {
    auto x = established_active();
    x.c.close(1_s, x.s);
    x.rx(segment(b_seq(0), a_seq(1), tcp_flags::fin | tcp_flags::ack), 1010_ms);
    CHECK(x.c.current_state() == state::time_wait);
  }

  SUBCASE("CLOSE-WAIT -> LAST-ACK -> CLOSED") {
    auto x = established_active();
    x.rx(segment(b_seq(0), a_seq(0), tcp_flags::fin | tcp_flags::ack), 1_s);
    CHECK(x.c.current_state() == state::close_wait);
    CHECK(x.last().seg.flags == tcp_flags::ack);  // FIN acknowledged at once
    CHECK(x.last().seg.ack == b_seq(1));
    CHECK(x.c.send(10, 2_s, x.s) == 10);  // data may still go out in CLOSE-WAIT
    CHECK(x.last().len == 10);
    x.c.close(3_s, x.s);
    CHECK(x.c.current_state() == state::last_ack);
    x.rx(segment(b_seq(1), a_seq(10), tcp_flags::ack), 3010_ms);
    CHECK(x.c.current_state() == state::last_ack);  // data acked, FIN not yet
    x.rx(segment(b_seq(1), a_seq(11), tcp_flags::ack), 3020_ms);
    CHECK(x.c.current_state() == state::closed);
  }

  SUBCASE("LAST-ACK: the FIN is retransmitted on RTO") {
    auto x = established_active();
    x.rx(segment(b_seq(0), a_seq(0), tcp_flags::fin | tcp_flags::ack), 1_s);
    x.c.close(2_s, x.s);
    const sim_time rto = x.c.rto();
    CHECK(x.c.next_deadline() == std::optional<sim_time>(2_s + rto));
    x.c.on_timer(2_s + rto, x.s);
    CHECK(x.last().seg.flags == (tcp_flags::fin | tcp_flags::ack));
    CHECK(x.last().seg.seq == a_seq(0));
    CHECK(x.c.counters().retrans_rto == 1);
  }
}

TEST_CASE("tcp: handshake and teardown between two engines, exact times") {
  pair_harness h({}, {}, 10_ms, iss_a, iss_b);
  h.connect();
  h.at(1_s, [&](sim_time t) { h.a.close(t, h.sa); });
  h.at(1500_ms, [&](sim_time t) { h.b.close(t, h.sb); });
  h.run_until(300_s);
  using st = std::tuple<state, state, sim_time>;
  CHECK(h.sa.states == std::vector<st>{{state::closed, state::syn_sent, 0_ms},
                                       {state::syn_sent, state::established, 20_ms},
                                       {state::established, state::fin_wait_1, 1_s},
                                       {state::fin_wait_1, state::fin_wait_2, 1020_ms},
                                       {state::fin_wait_2, state::time_wait, 1510_ms},
                                       {state::time_wait, state::closed, 241510_ms}});
  CHECK(h.sb.states == std::vector<st>{{state::closed, state::listen, 0_ms},
                                       {state::listen, state::syn_received, 10_ms},
                                       {state::syn_received, state::established, 30_ms},
                                       {state::established, state::close_wait, 1010_ms},
                                       {state::close_wait, state::last_ack, 1500_ms},
                                       {state::last_ack, state::closed, 1520_ms}});
  CHECK(h.sa.logs[1] == "0.02s tcp 10.0.0.1:1000>10.0.0.2:2000: SYN-SENT=>ESTABLISHED");
  // SYN-ACK RTT sample at B (20 ms) and SYN RTT sample at A (20 ms): RFC 6298 2.2.
  CHECK(h.a.srtt() == std::optional<sim_time>(20_ms));
  CHECK(h.a.rttvar() == 7500_us);  // 10 ms after the SYN, then (3 * 10 + 0) / 4 after the FIN
  CHECK(h.a.rto() == 1_s);         // 20 + 4 * 7.5 = 50 ms, raised to the 1 s minimum (2.4)
  CHECK(h.b.srtt() == std::optional<sim_time>(20_ms));
  CHECK(h.a.counters().tcpOutSegs == 4);  // SYN, ACK, FIN, ACK
  CHECK(h.b.counters().tcpOutSegs == 3);  // SYN-ACK, ACK, FIN
}

TEST_CASE("tcp: simultaneous open and close") {
  pair_harness h({}, {}, 10_ms, iss_a, iss_b);
  h.a.open_active(0_ms, h.sa);
  h.b.open_active(0_ms, h.sb);
  h.at(1_s, [&](sim_time t) {
    h.a.close(t, h.sa);
    h.b.close(t, h.sb);
  });
  h.run_until(2_s);
  using st = std::tuple<state, state, sim_time>;
  const std::vector<st> want{{state::closed, state::syn_sent, 0_ms},
                             {state::syn_sent, state::syn_received, 10_ms},
                             {state::syn_received, state::established, 20_ms},
                             {state::established, state::fin_wait_1, 1_s},
                             {state::fin_wait_1, state::closing, 1010_ms},
                             {state::closing, state::time_wait, 1020_ms}};
  CHECK(h.sa.states == want);
  CHECK(h.sb.states == want);
}

TEST_CASE("tcp: RTO computation follows RFC 6298 2.2-2.5 exactly") {
  tcp::config cfg;
  cfg.min_rto = 1_ms;
  cfg.clock_granularity = 5_ms;
  auto x = established_active(cfg);  // SYN RTT sample 10 ms
  // 2.2: SRTT = R, RTTVAR = R/2, RTO = SRTT + max(G, K*RTTVAR) = 10 + 20.
  CHECK(x.c.srtt() == std::optional<sim_time>(10_ms));
  CHECK(x.c.rttvar() == 5_ms);
  CHECK(x.c.rto() == 30_ms);
  // Samples of 100 ms, 120 ms, 80 ms on single segments acknowledged after R.
  sim_time t = 1_s;
  std::uint64_t off = 0;
  sim_time srtt = 10_ms, rttvar = 5_ms;
  std::vector<sim_time> samples{100_ms, 120_ms, 80_ms};
  samples.resize(60, 10_ms);
  for (const sim_time r : samples) {
    REQUIRE(x.c.send(100, t, x.s) == 100);
    x.rx(segment(b_seq(0), a_seq(off + 100), tcp_flags::ack), t + r);
    off += 100;
    // 2.3: RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R'|, then SRTT = 7/8 SRTT + 1/8 R'.
    rttvar = (rttvar * 3 + (srtt > r ? srtt - r : r - srtt)) / 4;
    srtt = (srtt * 7 + r) / 8;
    const sim_time rto = srtt + std::max(5_ms, rttvar * 4);
    CHECK(x.c.srtt() == std::optional<sim_time>(srtt));
    CHECK(x.c.rttvar() == rttvar);
    CHECK(x.c.rto() == rto);
    t += 1_s;
  }
  // RTTVAR has decayed below G / K: the clock granularity now sets RTO - SRTT (2.3).
  CHECK(rttvar * 4 < 5_ms);
  CHECK(x.c.rto() == *x.c.srtt() + 5_ms);

  SUBCASE("written-out values for the first three samples") {
    auto y = established_active(cfg);
    y.c.send(100, 1_s, y.s);
    y.rx(segment(b_seq(0), a_seq(100), tcp_flags::ack), 1100_ms);
    // RTTVAR = (3*5 + |10-100|)/4 = 26.25; SRTT = (7*10 + 100)/8 = 21.25; RTO = 21.25 + 105.
    CHECK(y.c.rttvar() == 26250_us);
    CHECK(*y.c.srtt() == 21250_us);
    CHECK(y.c.rto() == 126250_us);
    y.c.send(100, 2_s, y.s);
    y.rx(segment(b_seq(0), a_seq(200), tcp_flags::ack), 2120_ms);
    // RTTVAR = (3*26.25 + 98.75)/4 = 44.375; SRTT = (7*21.25 + 120)/8 = 33.59375.
    CHECK(y.c.rttvar() == 44375_us);
    CHECK(*y.c.srtt() == sim_time::from_ns(33'593'750));
    CHECK(y.c.rto() == sim_time::from_ns(33'593'750 + 4 * 44'375'000));
  }
  SUBCASE("minimum and maximum RTO") {
    tcp::config c2;
    c2.max_rto = 2_s;
    auto z = established_active(c2);
    CHECK(z.c.rto() == 1_s);  // 10 + 20 ms, raised to the 1 s minimum
    z.c.send(100, 1_s, z.s);
    z.c.on_timer(2_s, z.s);
    CHECK(z.c.rto() == 2_s);
    z.c.on_timer(4_s, z.s);
    CHECK(z.c.rto() == 2_s);  // capped
    CHECK(z.c.next_deadline() == std::optional<sim_time>(6_s));
  }
  SUBCASE("Karn: no sample from a retransmitted segment; back-off kept until a fresh sample") {
    auto z = established_active();
    z.c.send(100, 1_s, z.s);
    z.c.on_timer(2_s, z.s);  // RTO 1 s -> 2 s
    CHECK(z.c.rto() == 2_s);
    z.rx(segment(b_seq(0), a_seq(100), tcp_flags::ack), 2100_ms);
    CHECK(*z.c.srtt() == 10_ms);  // unchanged
    CHECK(z.c.rto() == 2_s);      // still backed off
    z.c.send(100, 3_s, z.s);
    z.rx(segment(b_seq(0), a_seq(200), tcp_flags::ack), 3010_ms);
    CHECK(z.c.rto() == 1_s);
  }
}

namespace {

/// A sender at SMSS 1000 (peer MSS 1000, IW 4 * 1000, RFC 5681 3.1) that has grown cwnd to
/// 8000 in slow start: 12 segments sent (offsets 0 .. 11000), 4 acknowledged.
solo newreno_start(sim_time& t) {
  auto x = established_active({}, 1000);
  CHECK(x.c.cwnd() == 4000);
  x.c.send(100000, 1_s, x.s);
  CHECK(x.s.data().size() == 4);
  t = 1100_ms;
  for (std::uint64_t k = 1; k <= 4; ++k) {
    x.rx(segment(b_seq(0), a_seq(k * 1000), tcp_flags::ack), t);
    CHECK(x.c.cwnd() == 4000 + k * 1000);  // slow start, RFC 5681 eq. 2
    t += 1_ms;
  }
  const auto d = x.s.data();
  REQUIRE(d.size() == 12);
  CHECK(d.back().off == 11000);
  CHECK(x.c.bytes_in_flight() == 8000);
  return x;
}

using cw = std::pair<std::uint64_t, std::uint64_t>;  // (cwnd, ssthresh)
constexpr std::uint64_t inf = ~std::uint64_t{0};

}  // namespace

TEST_CASE("tcp: NewReno recovery from one loss (RFC 5681 3.2, RFC 6582 3.2)") {
  sim_time t;
  auto x = newreno_start(t);
  std::vector<cw> seq;
  const auto ack = [&](std::uint64_t off) {
    x.rx(segment(b_seq(0), a_seq(off), tcp_flags::ack), t);
    seq.emplace_back(x.c.cwnd(), x.c.ssthresh());
    t += 1_ms;
  };
  // Offset 4000 is lost: segments 5000 .. 11000 each bring a duplicate ACK for 4000.
  for (int i = 0; i < 7; ++i) ack(4000);
  // The retransmission fills the hole: a full ACK of everything sent before recovery.
  ack(12000);
  CHECK(seq == std::vector<cw>{{8000, inf}, {8000, inf},
                               {7000, 4000},  // ssthresh = 8000 / 2, cwnd = ssthresh + 3 SMSS
                               {8000, 4000}, {9000, 4000}, {10000, 4000}, {11000, 4000},
                               {4000, 4000}});  // min(ssthresh, FlightSize 3000 + SMSS)
  std::vector<std::uint64_t> offs;
  for (const auto& d : x.s.data()) offs.push_back(d.off);
  // 12 initial segments; the fast retransmit of 4000; new data 12000 .. 14000 sent as the
  // inflated window passes the flight size; 15000 after the full ACK.
  CHECK(offs == std::vector<std::uint64_t>{0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000,
                                           9000, 10000, 11000, 4000, 12000, 13000, 14000,
                                           15000});
  const auto& c = x.c.counters();
  CHECK(c.dup_acks_in == 7);
  CHECK(c.fast_recoveries == 1);
  CHECK(c.retrans_fast == 1);
  CHECK(c.tcpRetransSegs == 1);
  CHECK(c.retrans_rto == 0);
  CHECK(c.partial_acks == 0);
  CHECK_FALSE(x.c.in_fast_recovery());
  // Congestion avoidance now (cwnd == ssthresh): one SMSS per cwnd of bytes acknowledged.
  ack(13000);
  ack(14000);
  ack(15000);
  CHECK(x.c.cwnd() == 4000);
  ack(16000);
  CHECK(x.c.cwnd() == 5000);
}

TEST_CASE("tcp: NewReno recovery from two losses in one window (partial ACK)") {
  sim_time t;
  auto x = newreno_start(t);
  std::vector<cw> seq;
  const auto ack = [&](std::uint64_t off) {
    x.rx(segment(b_seq(0), a_seq(off), tcp_flags::ack), t);
    seq.emplace_back(x.c.cwnd(), x.c.ssthresh());
    t += 1_ms;
  };
  // 4000 and 7000 lost: duplicate ACKs from 5000, 6000, 8000, 9000, 10000, 11000.
  for (int i = 0; i < 6; ++i) ack(4000);
  const sim_time t_partial = t;
  ack(7000);  // the retransmitted 4000 arrives: partial ACK
  CHECK(x.c.rto_deadline() == std::optional<sim_time>(t_partial + x.c.rto()));
  ack(7000);  // 12000 arrives
  ack(7000);  // 13000 arrives
  ack(14000);  // the retransmitted 7000 arrives: full ACK
  CHECK(seq == std::vector<cw>{{8000, inf}, {8000, inf}, {7000, 4000}, {8000, 4000},
                               {9000, 4000}, {10000, 4000},
                               {8000, 4000},  // 10000 - 3000 acknowledged + SMSS
                               {9000, 4000}, {10000, 4000},
                               {4000, 4000}});  // min(4000, FlightSize 3000 + 1000)
  std::vector<std::uint64_t> offs;
  for (const auto& d : x.s.data()) offs.push_back(d.off);
  CHECK(offs == std::vector<std::uint64_t>{0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000,
                                           9000, 10000, 11000, 4000, 12000, 13000, 7000,
                                           14000, 15000, 16000, 17000});
  const auto& c = x.c.counters();
  CHECK(c.fast_recoveries == 1);
  CHECK(c.partial_acks == 1);
  CHECK(c.retrans_fast == 2);
  CHECK(c.dup_acks_in == 8);
}

TEST_CASE("tcp: no second fast retransmit for duplicate ACKs not past recover (RFC 6582 3.2 step 2)") {
  sim_time t;
  auto x = newreno_start(t);
  // An RTO first: recover = the highest sequence number sent.
  x.c.on_timer(*x.c.rto_deadline(), x.s);
  CHECK(x.c.counters().rto_events == 1);
  CHECK(x.c.cwnd() == 1000);
  CHECK(x.c.ssthresh() == 4000);  // max(FlightSize 8000 / 2, 2 SMSS)
  t = *x.c.rto_deadline() - 1_ms;
  for (int i = 0; i < 3; ++i) x.rx(segment(b_seq(0), a_seq(4000), tcp_flags::ack), t);
  CHECK(x.c.counters().dup_acks_in == 3);
  CHECK(x.c.counters().fast_recoveries == 0);
}

TEST_CASE("tcp: delayed ACKs (RFC 5681 4.2, RFC 9293 3.8.6.3)") {
  auto x = established_active();
  const auto data = [&](std::uint64_t off, std::size_t len, sim_time at) {
    x.rx(segment(b_seq(off), a_seq(0), tcp_flags::ack), at, off, len);
  };
  data(0, 1460, 100_ms);
  CHECK(x.s.txs.empty());
  CHECK(x.c.next_deadline() == std::optional<sim_time>(300_ms));
  x.c.on_timer(300_ms, x.s);
  REQUIRE(x.s.txs.size() == 1);
  CHECK(x.last().at == 300_ms);
  CHECK(x.last().seg.ack == b_seq(1460));
  CHECK(x.c.counters().delayed_acks == 1);
  // Every second full-sized segment: at once.
  data(1460, 1460, 400_ms);
  CHECK(x.s.txs.size() == 1);
  data(2920, 1460, 401_ms);
  REQUIRE(x.s.txs.size() == 2);
  CHECK(x.last().at == 401_ms);
  CHECK(x.last().seg.ack == b_seq(4380));
  CHECK(x.c.next_deadline() == std::nullopt);
  // Small segments: the timer runs from the first unacknowledged one.
  data(4380, 100, 500_ms);
  data(4480, 100, 600_ms);
  CHECK(x.c.next_deadline() == std::optional<sim_time>(700_ms));
  x.c.on_timer(700_ms, x.s);
  CHECK(x.last().seg.ack == b_seq(4580));
  // Out of order: a duplicate ACK at once.
  data(6000, 100, 800_ms);
  CHECK(x.last().at == 800_ms);
  CHECK(x.last().seg.ack == b_seq(4580));
  CHECK(x.s.txs.size() == 4);

  SUBCASE("delayed ACKs off") {
    tcp::config cfg;
    cfg.delayed_ack = 0_ms;
    auto y = established_active(cfg);
    y.rx(segment(b_seq(0), a_seq(0), tcp_flags::ack), 100_ms, 0, 10);
    REQUIRE(y.s.txs.size() == 1);
    CHECK(y.last().at == 100_ms);
  }
}

TEST_CASE("tcp: out-of-order segments are held as ranges, bounded and counted") {
  tcp::config cfg;
  SUBCASE("reassembly") {
    auto x = established_active(cfg);
    const auto data = [&](std::uint64_t off, std::size_t len, sim_time at, tcp_flags f = tcp_flags::ack) {
      x.rx(segment(b_seq(off), a_seq(0), f), at, off, len);
    };
    using rng = std::pair<std::uint64_t, std::uint64_t>;
    const auto ranges = [&] {
      return std::vector<rng>(x.c.ooo_ranges().begin(), x.c.ooo_ranges().end());
    };
    data(1000, 1000, 1_ms);
    CHECK(ranges() == std::vector<rng>{{1000, 2000}});
    CHECK(x.last().seg.ack == b_seq(0));  // duplicate ACK at once
    data(3000, 1000, 2_ms);
    data(5000, 500, 3_ms, tcp_flags::ack | tcp_flags::fin);  // FIN at offset 5500, early
    CHECK(ranges() == std::vector<rng>{{1000, 2000}, {3000, 4000}, {5000, 5500}});
    data(1500, 500, 4_ms);  // inside a held range
    CHECK(x.c.counters().dup_segments_in == 1);
    data(2000, 1000, 5_ms);  // joins two ranges
    CHECK(ranges() == std::vector<rng>{{1000, 4000}, {5000, 5500}});
    CHECK(x.c.counters().ooo_segments_in == 4);
    CHECK(x.s.deliveries.empty());
    data(0, 1000, 6_ms);
    CHECK(x.s.deliveries == std::vector<std::pair<std::uint64_t, std::uint32_t>>{{0, 1000}, {1000, 3000}});
    CHECK(ranges() == std::vector<rng>{{5000, 5500}});
    CHECK(x.last().at == 6_ms);  // a filled gap is acknowledged at once
    CHECK(x.last().seg.ack == b_seq(4000));
    data(4000, 1000, 7_ms);
    CHECK(x.c.current_state() == state::close_wait);  // the early FIN now counts
    CHECK(x.last().seg.ack == b_seq(5501));
    CHECK(x.c.counters().bytes_delivered == 5500);
    CHECK(x.c.counters().bad_payload == 0);
    // An old segment again: duplicate, acknowledged.
    data(0, 1000, 8_ms);
    CHECK(x.c.counters().dup_segments_in == 2);
    CHECK(x.last().at == 8_ms);
  }
  SUBCASE("table full: dropped and counted") {
    cfg.max_ooo_ranges = 1;
    auto x = established_active(cfg);
    x.rx(segment(b_seq(1000), a_seq(0), tcp_flags::ack), 1_ms, 1000, 1000);
    x.rx(segment(b_seq(3000), a_seq(0), tcp_flags::ack), 2_ms, 3000, 1000);
    CHECK(x.c.counters().ooo_dropped == 1);
    x.rx(segment(b_seq(2000), a_seq(0), tcp_flags::ack), 3_ms, 2000, 1000);  // adjacent: merged
    CHECK(x.c.ooo_ranges().size() == 1);
    CHECK(x.c.ooo_ranges()[0] == std::pair<std::uint64_t, std::uint64_t>{1000, 3000});
  }
  SUBCASE("wrong bytes are counted") {
    auto x = established_active(cfg);
    x.c.on_segment(segment(b_seq(0), a_seq(0), tcp_flags::ack), pattern(7, 100), 1_ms, x.s);
    CHECK(x.c.counters().bad_payload == 1);
  }
  SUBCASE("beyond the window: not acceptable") {
    cfg.recv_buffer = 4000;
    auto x = established_active(cfg);
    x.rx(segment(b_seq(4000), a_seq(0), tcp_flags::ack), 1_ms, 4000, 100);
    CHECK(x.c.counters().out_of_window == 1);
    CHECK(x.c.ooo_ranges().empty());
    x.rx(segment(b_seq(3900), a_seq(0), tcp_flags::ack), 2_ms, 3900, 200);  // trimmed to 100
    CHECK(x.c.ooo_ranges()[0] == std::pair<std::uint64_t, std::uint64_t>{3900, 4000});
  }
}

namespace {

struct outage_result {
  sim_time last_ack;                 // A's last ACK of new data before the outage
  sim_time rto0;                     // A's RTO when the outage began
  std::vector<sim_time> rto_resends;  // times of the RTO retransmissions, in order
  sim_time resumed;                  // first delivery at B after the outage
  sim_time last_before;              // last delivery at B before it
  std::uint64_t rto_events = 0;
};

/// A bulk transfer A -> B over a 5 ms path (B acknowledges every segment, so every RTT
/// sample is exactly 10 ms) with everything sent in [1.0025 s, 4.0025 s) lost: the last
/// ACK of new data arrives at 1 s (sent at 0.995 s).
outage_result run_outage(sim_time min_rto) {
  tcp::config ca;
  ca.min_rto = min_rto;
  ca.send_buffer = 64 * 1024;
  tcp::config cb;
  cb.delayed_ack = 0_ms;
  pair_harness h(ca, cb, 5_ms);
  h.outage = std::pair{1_s + 2500_us, 4_s + 2500_us};
  h.bulk_a = true;
  outage_result r;
  std::uint64_t acked = 0;
  std::optional<sim_time> last_before;
  h.after_rx = [&](int to, sim_time now) {
    if (to == 0 && h.a.counters().bytes_acked > acked) {
      acked = h.a.counters().bytes_acked;
      if (now < 1_s + 5_ms) r.last_ack = now;
    }
    if (to == 1 && now < 1_s + 5_ms) last_before = h.sb.last_delivery;
    if (to == 1 && now > 4_s && r.resumed == sim_time::zero() && h.sb.last_delivery == now) {
      r.resumed = now;
    }
  };
  h.at(999_ms, [&](sim_time) { r.rto0 = h.a.rto(); });
  h.connect();
  h.sa.record = true;
  h.run_until(20_s);
  r.last_before = *last_before;
  std::uint64_t max_end = 0;
  for (const auto& t : h.sa.txs) {
    if (t.len == 0) continue;
    if (t.off < max_end && t.at > 1_s && t.at <= r.resumed) r.rto_resends.push_back(t.at);
    max_end = std::max(max_end, t.off + t.len);
  }
  r.rto_events = h.a.counters().rto_events;
  CHECK(h.b.counters().bad_payload == 0);
  CHECK(h.sb.gaps == 0);
  return r;
}

}  // namespace

TEST_CASE("tcp: exponential back-off through a 3 s outage (RFC 6298 5.5)") {
  SUBCASE("minimum RTO 1 s (RFC 6298 2.4)") {
    const auto r = run_outage(1_s);
    CHECK(r.rto0 == 1_s);
    // Timer restarted by the last ACK, then 1, 2, 4 s: at L+1, L+3 (both lost) and L+7.
    const sim_time l = r.last_ack;
    CHECK(r.rto_resends == std::vector<sim_time>{l + 1_s, l + 3_s, l + 7_s});
    // The resent segment had reached B before the outage (its ACK was lost): B acknowledges
    // it at once and new data arrives one round trip later.
    CHECK(r.resumed == l + 7_s + 15_ms);
    CHECK(r.rto_events == 3);
    MESSAGE("min RTO 1 s: last ACK ", l, ", delivery stalled from ", r.last_before, " to ",
            r.resumed, " for a 3 s outage");
  }
  SUBCASE("minimum RTO 200 ms (Linux)") {
    const auto r = run_outage(200_ms);
    CHECK(r.rto0 == 200_ms);
    const sim_time l = r.last_ack;
    CHECK(r.rto_resends == std::vector<sim_time>{l + 200_ms, l + 600_ms, l + 1400_ms,
                                                 l + 3000_ms, l + 6200_ms});
    CHECK(r.resumed == l + 6200_ms + 15_ms);
    CHECK(r.rto_events == 5);
    MESSAGE("min RTO 200 ms: last ACK ", l, ", delivery stalled from ", r.last_before, " to ",
            r.resumed, " for a 3 s outage");
  }
}

TEST_CASE("tcp: window scaling fills a large bandwidth-delay product (RFC 7323)") {
  // 100 Mb/s, 50 ms each way: a BDP of 1.25 MB, far above a 64 KiB window.
  const auto run = [](bool scaling) {
    tcp::config c;
    c.recv_buffer = 4 * 1024 * 1024;
    c.send_buffer = 8 * 1024 * 1024;
    c.window_scaling = scaling;
    pair_harness h(c, c, 50_ms);
    h.rate_bps = 100'000'000;
    h.bulk_a = true;
    h.sa.record = false;
    h.sb.record = false;
    h.connect();
    h.run_until(10_s);
    CHECK(h.b.counters().bad_payload == 0);
    if (scaling) {
      CHECK(h.a.snd_wscale() == 7);  // 4 MiB >> 7 = 32768 fits 16 bits; >> 6 does not
      CHECK(h.b.rcv_wscale() == 7);
      CHECK(h.a.snd_wnd() == 4u * 1024 * 1024);
    } else {
      CHECK(h.a.snd_wscale() == 0);
      CHECK(h.a.snd_wnd() == 65535);
    }
    return h.sb.delivered;
  };
  const std::uint64_t with = run(true);
  const std::uint64_t without = run(false);
  MESSAGE("10 s at 100 Mb/s, RTT 100 ms: ", with, " bytes with scaling, ", without, " without");
  // Without scaling: at most 65535 bytes per 100 ms round trip.
  CHECK(without <= 65535ull * 100);
  CHECK(with > 10 * without);
  CHECK(with <= 100'000'000ull / 8 * 10);
}

TEST_CASE("tcp: TSO super-segments") {
  tcp::config c;
  c.tso = true;
  c.send_buffer = 4 * 1024 * 1024;
  c.recv_buffer = 4 * 1024 * 1024;
  pair_harness h(c, tcp::config{}, 1_ms);
  h.rate_bps = 10'000'000'000;
  h.bulk_a = true;
  h.bulk_limit = 20'000'000;
  h.connect();
  h.run_until(2_s);
  CHECK(h.sb.delivered == 20'000'000);
  CHECK(h.b.counters().bad_payload == 0);
  const auto d = h.sa.data();
  REQUIRE(!d.empty());
  // The initial window, 3 * 1460 (RFC 5681 3.1), in one super-segment.
  CHECK(d[0].len == 4380);
  CHECK(d[0].tso_mss == 1460);
  std::uint32_t largest = 0;
  std::uint64_t wire_segments = 0;
  for (const auto& t : d) {
    const bool tail = t.off + t.len == 20'000'000;
    CHECK(t.len <= tcp::max_tso_payload);
    if (!tail) CHECK(t.len % 1460 == 0);
    CHECK(t.tso_mss == (t.len > 1460 ? 1460 : 0));
    largest = std::max(largest, t.len);
    wire_segments += (t.len + 1459) / 1460;
  }
  CHECK(largest == 44 * 1460);  // the most whole MSS in a 65535-byte datagram
  CHECK(h.a.counters().tso_super_segments > 0);
  CHECK(h.a.counters().tcpOutSegs == wire_segments + 2);  // + SYN and the handshake ACK
  MESSAGE(d.size(), " super-segments for ", wire_segments, " wire segments");

  SUBCASE("without TSO every segment is at most one MSS") {
    pair_harness g(tcp::config{}, tcp::config{}, 1_ms);
    g.bulk_a = true;
    g.bulk_limit = 1'000'000;
    g.connect();
    g.run_until(2_s);
    CHECK(g.sb.delivered == 1'000'000);
    for (const auto& t : g.sa.data()) {
      CHECK(t.len <= 1460);
      CHECK(t.tso_mss == 0);
    }
  }
}

TEST_CASE("tcp: no heap allocation per segment in steady state") {
  tcp::config c;
  c.tso = true;
  pair_harness h(c, tcp::config{}, 1_ms);
  h.rate_bps = 1'000'000'000;
  h.bulk_a = true;
  h.sa.record = false;
  h.sb.record = false;
  h.connect();
  h.run_until(500_ms);
  const std::uint64_t before_bytes = h.sb.delivered;
  const std::size_t before = vnetsim::test::allocation_count();
  h.run_until(1500_ms);
  const std::size_t after = vnetsim::test::allocation_count();
  // 1 Gb/s carries 125 MB/s of frames, 120.5 MB/s of payload at 1460 per 1514 bytes.
  CHECK(h.sb.delivered - before_bytes > 100'000'000);
  CHECK(h.a.cwnd() < 2 * 1024 * 1024);  // receiver-limited: cwnd stays validated
  CHECK(after == before);
}

TEST_CASE("tcp: initial window (RFC 5681 3.1 eq. 1, RFC 6928 2)") {
  for (const auto& [mss, want] : std::vector<std::pair<std::uint16_t, std::uint64_t>>{
           {536, 4 * 536}, {1095, 4 * 1095}, {1096, 3 * 1096}, {1460, 3 * 1460},
           {2190, 3 * 2190}, {2191, 2 * 2191}, {8960, 2 * 8960}}) {
    tcp::config c;
    c.mss = 9000;
    CAPTURE(mss);
    CHECK(established_active(c, mss).c.cwnd() == want);
  }
  tcp::config c;
  c.initial_window = tcp::initial_window_rule::rfc6928;
  CHECK(established_active(c, 1460).c.cwnd() == 14600);  // min(10 * 1460, max(2920, 14600))
  CHECK(established_active(c, 536).c.cwnd() == 5360);
  c.mss = 9000;
  CHECK(established_active(c, 8960).c.cwnd() == 17920);  // max(2 * MSS, 14600)
}

TEST_CASE("tcp: user calls") {
  SUBCASE("ABORT sends a RST at SND.NXT") {
    auto x = established_active();
    x.c.send(100, 1_s, x.s);
    x.c.abort(2_s, x.s);
    CHECK(x.c.current_state() == state::closed);
    CHECK(x.last().seg.flags == tcp_flags::rst);
    CHECK(x.last().seg.seq == a_seq(100));
    CHECK(x.c.next_deadline() == std::nullopt);
  }
  SUBCASE("CLOSE in SYN-RECEIVED: the FIN follows the handshake") {
    tcp::connection c({}, ep_a, ep_b, iss_a);
    capture_sink s;
    c.listen(0_ms, s);
    c.on_segment(segment(iss_b, 0, tcp_flags::syn), {}, 1_ms, s);
    c.close(2_ms, s);
    CHECK(c.current_state() == state::syn_received);
    c.on_segment(segment(iss_b + 1, iss_a + 1, tcp_flags::ack), {}, 3_ms, s);
    CHECK(c.current_state() == state::fin_wait_1);
    CHECK(s.txs.back().seg.flags == (tcp_flags::fin | tcp_flags::ack));
    CHECK(s.txs.back().at == 3_ms);
  }
  SUBCASE("CLOSE in LISTEN and SYN-SENT") {
    tcp::connection c({}, ep_a, ep_b, iss_a);
    capture_sink s;
    c.listen(0_ms, s);
    c.close(1_ms, s);
    CHECK(c.current_state() == state::closed);
    c.open_active(2_ms, s);
    CHECK(c.counters().tcpActiveOpens == 1);
    c.close(3_ms, s);
    CHECK(c.current_state() == state::closed);
    CHECK(c.next_deadline() == std::nullopt);
  }
  SUBCASE("the send buffer bounds what send() takes") {
    tcp::config cfg;
    cfg.send_buffer = 10'000;
    auto x = established_active(cfg);
    CHECK(x.c.send(25'000, 1_s, x.s) == 10'000);
    CHECK(x.c.send(1, 1_s, x.s) == 0);
    x.rx(segment(b_seq(0), a_seq(1460), tcp_flags::ack), 1010_ms);
    CHECK(x.c.bytes_unacked() == 10'000 - 1460);
    CHECK(x.c.send(25'000, 1010_ms, x.s) == 1460);
  }
  SUBCASE("data and FIN queued in SYN-SENT go out once ESTABLISHED") {
    solo x;
    x.c.open_active(0_ms, x.s);
    CHECK(x.c.send(1000, 1_ms, x.s) == 1000);
    CHECK(x.s.txs.size() == 1);  // only the SYN
    auto synack = segment(iss_b, iss_a + 1, tcp_flags::syn | tcp_flags::ack);
    synack.mss = 1460;
    x.rx(synack, 10_ms);
    REQUIRE(x.s.txs.size() == 2);
    CHECK(x.last().len == 1000);
    CHECK(x.last().seg.flags == (tcp_flags::ack | tcp_flags::psh));
    CHECK(x.last().seg.ack == iss_b + 1);
  }
}

TEST_CASE("tcp: a zero window is probed by the persist timer (RFC 9293 3.8.6.1)") {
  tcp::config cfg;
  cfg.delayed_ack = sim_time::zero();
  auto x = established_active(cfg, 1000, 3000);
  CHECK(x.c.send(10'000, 20_ms, x.s) == 10'000);
  auto d = x.s.data();
  REQUIRE(d.size() == 3);  // the peer's 3000-byte window
  // The peer acknowledges all three but closes its window: nothing in flight, data waiting.
  x.rx(segment(b_seq(0), a_seq(3000), tcp_flags::ack, 0), 30_ms);
  CHECK(x.c.snd_wnd() == 0);
  CHECK_FALSE(x.c.rto_deadline());
  const sim_time rto = x.c.rto();
  REQUIRE(x.c.persist_deadline() == std::optional<sim_time>(30_ms + rto));
  x.s.txs.clear();
  // First probe after one RTO: SEG.SEQ = SND.UNA - 1, no data; then at 2 x RTO.
  x.c.on_timer(30_ms + rto, x.s);
  REQUIRE(x.s.txs.size() == 1);
  CHECK(x.last().seg.seq == a_seq(3000) - 1);
  CHECK(x.last().len == 0);
  CHECK(x.last().seg.flags == tcp_flags::ack);
  CHECK(x.c.persist_deadline() == std::optional<sim_time>(30_ms + 3 * rto));
  // The peer answers with the window still closed: the timer keeps its doubled deadline.
  x.rx(segment(b_seq(0), a_seq(3000), tcp_flags::ack, 0), 30_ms + rto + 10_ms);
  CHECK(x.c.persist_deadline() == std::optional<sim_time>(30_ms + 3 * rto));
  x.c.on_timer(30_ms + 3 * rto, x.s);
  CHECK(x.s.txs.size() == 2);
  CHECK(x.c.persist_deadline() == std::optional<sim_time>(30_ms + 7 * rto));
  CHECK(x.c.counters().persist_probes == 2);
  // The window opens: data flows, the timer stops.
  x.rx(segment(b_seq(0), a_seq(3000), tcp_flags::ack, 2000), 30_ms + 4 * rto);
  CHECK_FALSE(x.c.persist_deadline());
  REQUIRE(x.s.txs.size() == 4);
  CHECK(x.s.txs[2].off == 3000);
  CHECK(x.s.txs[3].off == 4000);
  // The interval is capped at max_rto.
  tcp::config capped = cfg;
  capped.max_rto = 2_s;
  auto y = established_active(capped, 1000, 1000);
  y.c.send(5000, 20_ms, y.s);
  y.rx(segment(b_seq(0), a_seq(1000), tcp_flags::ack, 0), 30_ms);
  sim_time last = 30_ms;
  for (int i = 0; i < 4; ++i) {
    const sim_time at = *y.c.persist_deadline();
    CHECK(at - last <= 2_s);
    y.c.on_timer(at, y.s);
    last = at;
  }
  CHECK(*y.c.persist_deadline() - last == 2_s);
  CHECK(y.c.counters().persist_probes == 4);
}

TEST_CASE("tcp: retransmission limits") {
  SUBCASE("an established connection gives up after max_retransmissions") {
    tcp::config cfg;
    cfg.max_retransmissions = 3;
    auto x = established_active(cfg);
    x.c.send(100, 1_s, x.s);
    while (auto d = x.c.next_deadline()) x.c.on_timer(*d, x.s);
    std::vector<sim_time> at;
    for (const auto& t : x.s.data()) at.push_back(t.at);
    CHECK(at == std::vector<sim_time>{1_s, 2_s, 4_s, 8_s});
    CHECK(x.c.current_state() == state::closed);
    CHECK(x.last().seg.flags == tcp_flags::rst);
    CHECK(x.last().at == 16_s);
    CHECK(x.c.counters().aborts == 1);
    CHECK(x.c.counters().tcpEstabResets == 1);
    CHECK(x.c.counters().rto_events == 3);
    CHECK(x.c.counters().retrans_rto == 3);
    // ssthresh set on the first timeout only (RFC 5681 3.1): max(100 / 2, 2 * 1460).
    CHECK(x.c.ssthresh() == 2920);
  }
  SUBCASE("FIN-WAIT-1: the FIN is resent on RTO and RST stops it") {
    auto x = established_active();
    x.c.close(1_s, x.s);
    x.c.on_timer(2_s, x.s);
    CHECK(x.last().seg.flags == (tcp_flags::fin | tcp_flags::ack));
    CHECK(x.last().at == 2_s);
    CHECK(x.c.next_deadline() == std::optional<sim_time>(4_s));
    x.rx(segment(b_seq(0), 0, tcp_flags::rst), 3_s);
    CHECK(x.c.current_state() == state::closed);
    CHECK(x.c.next_deadline() == std::nullopt);
  }
}
