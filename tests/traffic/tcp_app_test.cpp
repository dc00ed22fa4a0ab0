// Applications on the TCP engine: the progress meter's bins and stalls, a bulk transfer
// and request/response through an outage, over tcp_harness.hpp's two-engine path.
#include "vnetsim/traffic/tcp_app.hpp"

#include <doctest/doctest.h>

#include <vector>

#include "tcp_harness.hpp"

using namespace vnetsim;
using namespace vnetsim::literals;
using namespace vnetsim::test_tcp;

TEST_CASE("tcp app: progress meter bins and stalls") {
  tcp::progress_meter m(100_ms, 1_s);
  m.start(0_ms);
  m.progress(50_ms, 1000);
  m.progress(250_ms, 500);
  m.progress(1250_ms, 100);  // a 1 s gap
  CHECK(m.longest_stall(1250_ms) == 1_s);
  CHECK(m.longest_stall_start(1250_ms) == std::optional<sim_time>(250_ms));
  // An open gap counts up to now.
  CHECK(m.longest_stall(3_s) == 1750_ms);
  CHECK(m.longest_stall_start(3_s) == std::optional<sim_time>(1250_ms));
  m.stop(1300_ms);
  CHECK(m.longest_stall(5_s) == 1_s);  // nothing outstanding: idle time is no stall
  std::vector<std::uint64_t> want(13, 0);
  want[0] = 1000;
  want[2] = 500;
  want[12] = 100;
  CHECK(std::vector<std::uint64_t>(m.bins().begin(), m.bins().end()) == want);
  CHECK(m.goodput_bps(0) == doctest::Approx(80'000.0));
  CHECK(m.bytes() == 1600);
  CHECK_THROWS_AS(tcp::progress_meter(0_ms), tcp::tcp_error);
}

TEST_CASE("tcp app: bulk transfer through a 3 s outage") {
  tcp::config c;
  c.min_rto = tcp::linux_min_rto;
  pair_harness h(c, tcp::config{}, 5_ms);
  h.rate_bps = 100'000'000;
  h.outage = std::pair{1_s + 2500_us, 4_s + 2500_us};
  h.sa.record = false;
  h.sb.record = false;
  tcp::bulk_config bc;
  bc.bytes = 60'000'000;
  tcp::bulk_app app(bc);
  h.sb.on_deliver = [&](sim_time now, std::uint64_t off, std::uint32_t len) {
    app.on_delivered(now, off, len);
  };
  h.after_event = [&](sim_time now) {
    app.pump(h.a, now, h.sa);
    if (h.b.current_state() == state::close_wait) h.b.close(now, h.sb);  // the receiver's end
  };
  std::optional<sim_time> before, after;
  h.after_rx = [&](int to, sim_time now) {
    if (to != 1 || h.sb.last_delivery != now) return;
    if (now < 2_s) before = now;
    if (now > 2_s && !after) after = now;
  };
  h.connect();
  h.run_until(30_s);
  const auto r = app.report(h.a, 30_s);
  CHECK(r.complete);
  CHECK(r.bytes_delivered == 60'000'000);
  CHECK(h.b.counters().bad_payload == 0);
  // The stall is the gap in delivery around the outage, to the nanosecond.
  REQUIRE(before);
  REQUIRE(after);
  CHECK(r.longest_stall == *after - *before);
  CHECK(r.longest_stall_start == before);
  CHECK(r.longest_stall > 3_s);  // the outage, rounded up to the next backed-off RTO
  CHECK(r.rto_events == h.a.counters().rto_events);
  CHECK(r.rto_events >= 3);
  CHECK(r.retransmissions == h.a.counters().tcpRetransSegs);
  // Goodput bins: full rate before, zero through the stall, full rate after.
  CHECK(r.bin == 100_ms);
  CHECK(r.goodput_bytes[5] > 1'000'000);  // 100 Mb/s is 1.25 MB per 100 ms
  const auto first_idle = static_cast<std::size_t>(*before / 100_ms) + 1;
  const auto last_idle = static_cast<std::size_t>(*after / 100_ms);  // exclusive
  CHECK(last_idle - first_idle >= 29);
  for (std::size_t i = first_idle; i < last_idle; ++i) CHECK(r.goodput_bytes[i] == 0);
  CHECK(r.goodput_bytes[last_idle + 10] > 1'000'000);
  // The sender closed after the last byte; both ends finished.
  CHECK(h.b.current_state() == state::closed);
  CHECK(h.a.current_state() == state::time_wait);
  MESSAGE("bulk: stall ", r.longest_stall, " from ", *r.longest_stall_start, ", ",
          r.retransmissions, " retransmissions, ", r.rto_events, " RTO events, done at ",
          *r.completed_at);
}

TEST_CASE("tcp app: request/response") {
  tcp::rr_config rc;
  rc.request_bytes = 100;
  rc.response_bytes = 10'000;
  rc.think_time = 10_ms;
  rc.transactions = 50;
  const auto run = [&](std::optional<std::pair<sim_time, sim_time>> outage) {
    pair_harness h(tcp::config{}, tcp::config{}, 5_ms);
    h.outage = outage;
    h.sa.record = false;
    h.sb.record = false;
    tcp::rr_app app(rc);
    h.sa.on_deliver = [&](sim_time now, std::uint64_t off, std::uint32_t len) {
      app.on_client_delivered(now, off, len);
    };
    h.sb.on_deliver = [&](sim_time now, std::uint64_t off, std::uint32_t len) {
      app.on_server_delivered(now, off, len);
    };
    h.after_event = [&](sim_time now) {
      app.pump_client(h.a, now, h.sa);
      app.pump_server(h.b, now, h.sb);
    };
    h.extra_deadline = [&] { return app.next_deadline(); };
    h.extra_timer = [&](sim_time now) { app.on_timer(now); };
    h.connect();
    h.run_until(60_s);
    CHECK(app.transactions() == 50);
    CHECK(h.a.counters().bytes_delivered == 50 * 10'000);
    CHECK(h.b.counters().bytes_delivered == 50 * 100);
    CHECK(h.a.current_state() == state::time_wait);
    CHECK(h.b.current_state() == state::closed);
    return app.report(h.a, h.b, 60_s);
  };
  const auto clean = run(std::nullopt);
  CHECK(clean.complete);
  CHECK(clean.transactions == 50);
  CHECK(clean.retransmissions == 0);
  // A response of 7 segments: the request's trip (5 ms) plus the response's, in two
  // windows the first time (IW 3 segments), with delayed ACKs at most 200 ms more.
  CHECK(clean.max_transaction_time >= 20_ms);
  CHECK(clean.max_transaction_time < 300_ms);
  const auto cut = run(std::pair{500_ms, 2_s});
  CHECK(cut.complete);
  CHECK(cut.rto_events >= 1);
  CHECK(cut.longest_stall > 1500_ms);
  // The transaction that met the outage took longest; part of its response came early.
  CHECK(cut.max_transaction_time >= cut.longest_stall);
  MESSAGE("request/response: clean max transaction ", clean.max_transaction_time,
          "; with a 1.5 s outage, longest stall ", cut.longest_stall, ", ", cut.rto_events,
          " RTO events, ", cut.retransmissions, " retransmissions");
}
