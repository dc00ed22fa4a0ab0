#include "vnetsim/dev/link.hpp"

#include <cmath>
#include <string>
#include <vector>

#include <doctest/doctest.h>

using namespace vnetsim;
using namespace vnetsim::literals;
using dev::link_side;

namespace {

/// A network of links with a recording receiver at every end: each arrival is kept with
/// its time, receiving device and port, and the first byte of the frame (a sequence tag).
struct bench {
  kernel::simulator sim;
  kernel::rng_streams streams{42};
  dev::frame_pool pool;
  dev::link_set links{sim, streams};
  kernel::event_kind arrive_kind = 0;
  kernel::event_kind carrier_kind = 0;

  struct rx {
    sim_time at;
    std::uint32_t device;
    std::uint32_t port;
    int tag;
    const std::byte* data;
  };
  std::vector<rx> received;
  std::vector<std::string> carrier_log;

  bench() {
    arrive_kind = sim.register_kind(
        "test/arrive",
        [](void* ctx, kernel::simulator& s, const kernel::event& ev) {
          auto& b = *static_cast<bench*>(ctx);
          auto a = b.links.take_arrival(ev.target);
          if (a.frame) {
            b.received.push_back({s.now(), a.device, a.port,
                                  std::to_integer<int>(a.frame.data()[0]), a.frame.data().data()});
          }
        },
        this);
    carrier_kind = sim.register_kind(
        "test/carrier",
        [](void* ctx, kernel::simulator& s, const kernel::event& ev) {
          auto& b = *static_cast<bench*>(ctx);
          b.carrier_log.push_back(fmt::format("{} dev{} port{} {}", s.now(), ev.target,
                                              ev.arg & 0xffffffffu, (ev.arg >> 32) ? "up" : "down"));
        },
        this);
  }

  dev::link_id add(std::string_view name, const dev::link_config& cfg = {}) {
    return links.add(name, cfg, {arrive_kind, carrier_kind, 1, 10}, {arrive_kind, carrier_kind, 2, 20});
  }

  /// A frame of `len` bytes whose first byte is `tag`.
  dev::frame_ref frame(std::size_t len, int tag) {
    auto f = pool.allocate(len, sim.now());
    REQUIRE(f);
    std::fill(f.data().begin(), f.data().end(), std::byte{0});
    f.data()[0] = static_cast<std::byte>(tag);
    return f;
  }
};

}  // namespace

TEST_CASE("serialization time counts preamble, FCS, padding and the inter-packet gap") {
  // IEEE 802.3: 8 preamble+SFD, 4 FCS, 12 IPG; minimum frame 64 bytes with FCS.
  CHECK(dev::serialization_time(1500, 1'000'000'000) == sim_time::from_ns((1500 + 24) * 8));
  CHECK(dev::serialization_time(1514, 1'000'000'000) == 12304_ns);
  CHECK(dev::serialization_time(42, 1'000'000'000) == 672_ns);  // padded to 60: 84 bytes
  CHECK(dev::serialization_time(60, 1'000'000'000) == 672_ns);
  CHECK(dev::serialization_time(1514, 10'000'000'000) == 1231_ns);  // 12304 bits / 10 = 1230.4, rounded up
  CHECK(dev::serialization_time(1514, 100'000'000) == 123040_ns);
}

TEST_CASE("serializer: the same nanoseconds as serialization_time, without a division per frame") {
  // den = 1 (multiplication), small den (reciprocal), den above 32 bits and a dividend
  // above 32 bits (division), odd rates.
  const std::uint64_t rates[] = {1, 3, 7, 56'000, 1'000'000, 10'000'000, 100'000'000,
                                 123'456'789, 999'999'999, 1'000'000'000, 1'000'000'007,
                                 2'500'000'000, 10'000'000'000, 25'000'000'000, 40'000'000'000,
                                 100'000'000'000, 400'000'000'000, 1'000'000'000'000,
                                 (1ULL << 40) + 1};
  for (const auto bps : rates) {
    const dev::serializer ser(bps);
    std::size_t mismatches = 0;
    std::size_t first_bad = 0;
    for (std::size_t len = 0; len <= dev::tso_frame_capacity; ++len) {
      if (ser(len) != dev::serialization_time(len, bps)) {
        if (mismatches++ == 0) first_bad = len;
      }
    }
    INFO("bps ", bps, ", first bad length ", first_bad);
    CHECK(mismatches == 0);
  }
  CHECK(dev::serializer(10'000'000'000)(60) == 68_ns);  // 672 bits / 10 = 67.2, rounded up
  CHECK(dev::serializer(1'000'000'000)(1514) == 12304_ns);
}

TEST_CASE("a frame arrives after serialization plus propagation, with its bytes unmoved") {
  bench b;
  const auto id = b.add("l1");
  auto f = b.frame(1514, 7);
  const std::byte* bytes = f.data().data();
  CHECK(b.links.send(id, link_side::a, std::move(f)) == dev::send_result::queued);
  b.sim.run();
  REQUIRE(b.received.size() == 1);
  CHECK(b.received[0].at == 12304_ns + 500_ns);
  CHECK(b.received[0].device == 2);
  CHECK(b.received[0].port == 20);
  CHECK(b.received[0].tag == 7);
  CHECK(b.received[0].data == bytes);  // zero copy
  const auto& st = b.links.stats(id, link_side::a);
  CHECK(st.out_frames == 1);
  CHECK(st.out_octets == 1514);
  CHECK(st.delivered == 1);
}

TEST_CASE("back-to-back frames queue behind each other in order, both directions independent") {
  bench b;
  const auto id = b.add("l1");
  for (int i = 0; i < 3; ++i) b.links.send(id, link_side::a, b.frame(1514, i));
  b.links.send(id, link_side::b, b.frame(60, 9));
  CHECK(b.links.queued_frames(id, link_side::a) == 2);  // one on the wire, two waiting
  b.sim.run();
  REQUIRE(b.received.size() == 4);
  CHECK(b.received[0].tag == 9);  // the other direction is not behind the long frames
  CHECK(b.received[0].at == 672_ns + 500_ns);
  CHECK(b.received[0].device == 1);
  for (int i = 0; i < 3; ++i) {
    CHECK(b.received[static_cast<std::size_t>(i + 1)].tag == i);
    CHECK(b.received[static_cast<std::size_t>(i + 1)].at == 12304_ns * (i + 1) + 500_ns);
  }
}

TEST_CASE("the egress queue tail-drops past its frame or byte limit") {
  SUBCASE("frame limit") {
    bench b;
    dev::link_config cfg;
    cfg.queue_frames = 2;
    const auto id = b.add("l1", cfg);
    int queued = 0, dropped = 0;
    for (int i = 0; i < 5; ++i) {
      const auto r = b.links.send(id, link_side::a, b.frame(1000, i));
      (r == dev::send_result::queued ? queued : dropped) += 1;
    }
    CHECK(queued == 3);  // one transmitting + two waiting
    CHECK(dropped == 2);
    CHECK(b.links.stats(id, link_side::a).out_discards == 2);
    CHECK(b.links.stats(id, link_side::a).queue_high_water == 2);
    b.sim.run();
    CHECK(b.received.size() == 3);
    CHECK(b.received.back().tag == 2);
    // The queue drains as time passes: after the first frame is on the wire, room again.
    CHECK(b.links.queued_frames(id, link_side::a) == 0);
  }
  SUBCASE("byte limit") {
    bench b;
    dev::link_config cfg;
    cfg.queue_frames = 0;
    cfg.queue_bytes = 2500;
    const auto id = b.add("l1", cfg);
    CHECK(b.links.send(id, link_side::a, b.frame(1500, 0)) == dev::send_result::queued);  // on the wire
    CHECK(b.links.send(id, link_side::a, b.frame(1500, 1)) == dev::send_result::queued);  // 1500 waiting
    CHECK(b.links.send(id, link_side::a, b.frame(1500, 2)) == dev::send_result::queue_full);  // 3000 > 2500
    CHECK(b.links.send(id, link_side::a, b.frame(900, 3)) == dev::send_result::queued);  // 2400
    CHECK(b.links.stats(id, link_side::a).out_discards == 1);
  }
}

TEST_CASE("carrier loss loses what is queued and on the wire, tells both ends, and is reversible") {
  bench b;
  const auto id = b.add("l1");
  for (int i = 0; i < 3; ++i) b.links.send(id, link_side::a, b.frame(1514, i));
  // Cut at 13 us: frame 0 arrived at 12.804 us; frame 1 is on the wire, frame 2 queued.
  b.sim.schedule_at(13_us, [&](kernel::simulator&) { b.links.set_carrier(id, false); });
  b.sim.run_until(20_us);
  REQUIRE(b.received.size() == 1);
  CHECK(b.received[0].tag == 0);
  CHECK_FALSE(b.links.carrier(id));
  CHECK(b.carrier_log == std::vector<std::string>{"0.000013s dev1 port10 down", "0.000013s dev2 port20 down"});
  CHECK(b.links.send(id, link_side::b, b.frame(100, 5)) == dev::send_result::no_carrier);
  b.sim.run();
  const auto& st = b.links.stats(id, link_side::a);
  CHECK(st.lost_carrier == 2);
  CHECK(st.delivered == 1);
  CHECK(b.links.stats(id, link_side::b).no_carrier == 1);

  // Restore: the line starts fresh at the restore time.
  b.sim.schedule_at(1_ms, [&](kernel::simulator&) {
    b.links.set_carrier(id, true);
    b.links.send(id, link_side::a, b.frame(1514, 6));
  });
  b.sim.run();
  REQUIRE(b.received.size() == 2);
  CHECK(b.received[1].tag == 6);
  CHECK(b.received[1].at == 1_ms + 12304_ns + 500_ns);
  CHECK(b.carrier_log.size() == 4);
  CHECK(b.carrier_log[2] == "0.001s dev1 port10 up");
}

TEST_CASE("a black hole swallows one direction silently, with carrier up") {
  bench b;
  const auto id = b.add("l1");
  b.links.set_black_hole(id, link_side::a, true);
  b.links.send(id, link_side::a, b.frame(100, 1));
  b.links.send(id, link_side::b, b.frame(100, 2));
  b.sim.run();
  REQUIRE(b.received.size() == 1);
  CHECK(b.received[0].tag == 2);
  CHECK(b.links.carrier(id));
  CHECK(b.carrier_log.empty());
  CHECK(b.links.stats(id, link_side::a).lost_black_hole == 1);
  b.links.set_black_hole(id, link_side::a, false);
  b.links.send(id, link_side::a, b.frame(100, 3));
  b.sim.run();
  CHECK(b.received.size() == 2);
}

TEST_CASE("random loss and bit errors drop at the configured rates, reproducibly") {
  auto run = [](std::uint64_t seed, double loss, double ber) {
    kernel::simulator sim;
    kernel::rng_streams streams(seed);
    dev::frame_pool pool;
    dev::link_set links(sim, streams);
    struct ctx_t {
      dev::link_set* links;
      std::string trace;
    } ctx{&links, {}};
    const auto k = sim.register_kind(
        "arrive",
        [](void* c, kernel::simulator&, const kernel::event& ev) {
          auto& x = *static_cast<ctx_t*>(c);
          x.trace += x.links->take_arrival(ev.target).frame ? '1' : '0';
        },
        &ctx);
    dev::link_config cfg;
    cfg.queue_frames = 0;
    const auto id = links.add("lossy", cfg, {k, 0, 1, 1}, {k, 0, 2, 2});
    links.set_loss(id, link_side::a, loss);
    links.set_bit_error_rate(id, link_side::a, ber);
    for (int i = 0; i < 20000; ++i) links.send(id, link_side::a, pool.allocate(1500, sim.now()));
    sim.run();
    return std::pair{ctx.trace, links.stats(id, link_side::a)};
  };
  const auto [trace, st] = run(1, 0.25, 0.0);
  CHECK(st.lost_random + st.delivered == 20000);
  // Binomial(20000, 0.25): mean 5000, sd 61; allow 5 sd.
  CHECK(std::abs(static_cast<double>(st.lost_random) - 5000) < 5 * 61.3);
  CHECK(run(1, 0.25, 0.0).first == trace);  // same seed, same losses
  CHECK(run(2, 0.25, 0.0).first != trace);

  // BER 1e-5 over (1500 + 4) * 8 bits: P(error) = 1 - (1 - 1e-5)^12032 = 0.11336.
  const auto [t2, st2] = run(1, 0.0, 1e-5);
  const double p = 1 - std::pow(1 - 1e-5, 12032);
  const double sd = std::sqrt(20000 * p * (1 - p));
  CHECK(std::abs(static_cast<double>(st2.fcs_errors) - 20000 * p) < 5 * sd);
  CHECK(st2.lost_random == 0);
}

TEST_CASE("a delay change applies to later frames and never reorders a direction") {
  bench b;
  dev::link_config cfg;
  cfg.delay = 1_ms;
  const auto id = b.add("l1", cfg);
  b.links.send(id, link_side::a, b.frame(60, 1));  // arrives at 1 ms + 672 ns
  b.sim.schedule_at(1_us, [&](kernel::simulator&) {
    b.links.set_delay(id, 10_us);
    b.links.send(id, link_side::a, b.frame(60, 2));  // would arrive at ~11.7 us: held behind frame 1
  });
  b.sim.schedule_at(2_ms, [&](kernel::simulator&) { b.links.send(id, link_side::a, b.frame(60, 3)); });
  b.sim.run();
  REQUIRE(b.received.size() == 3);
  CHECK(b.received[0].tag == 1);
  CHECK(b.received[0].at == 1_ms + 672_ns);
  CHECK(b.received[1].tag == 2);
  CHECK(b.received[1].at == 1_ms + 672_ns);
  CHECK(b.received[2].at == 2_ms + 672_ns + 10_us);
}

TEST_CASE("link configuration errors name the link and the rule") {
  bench b;
  dev::link_config zero;
  zero.bandwidth_bps = 0;
  CHECK_THROWS_WITH_AS(b.add("z", zero), "link \"z\": bandwidth must be above 0 bit/s", dev::link_error);
  dev::link_config neg;
  neg.delay = -(1_us);
  CHECK_THROWS_WITH_AS(b.add("n", neg), "link \"n\": delay -0.000001s is negative", dev::link_error);
  const auto id = b.add("ok");
  CHECK_THROWS_WITH_AS(b.add("ok"), "link \"ok\": the name is already used", dev::link_error);
  CHECK_THROWS_WITH_AS(b.links.set_loss(id, link_side::a, 1.5),
                       "link \"ok\": loss probability 1.5 is outside [0, 1]", dev::link_error);
  CHECK_THROWS_WITH_AS(b.links.set_carrier(99, false), "link id 99 does not exist", dev::link_error);
  CHECK(b.links.find("ok") == id);
  CHECK_FALSE(b.links.find("nope").has_value());
}

TEST_CASE("a frame that is ready later starts then, and later frames queue behind it") {
  bench b;
  const auto id = b.add("l1");
  b.links.send(id, link_side::a, b.frame(60, 1), 5_us);  // e.g. store-and-forward latency
  b.links.send(id, link_side::a, b.frame(60, 2));        // behind it, though ready now
  CHECK(b.links.queued_frames(id, link_side::a) == 2);
  b.sim.run();
  REQUIRE(b.received.size() == 2);
  CHECK(b.received[0].at == 5_us + 672_ns + 500_ns);
  CHECK(b.received[1].at == 5_us + 2 * 672_ns + 500_ns);
}

TEST_CASE("tap: sees each delivered frame of its direction at its arrival, before the receiver") {
  bench b;
  const auto id = b.add("l");
  struct seen {
    sim_time at;
    std::uint32_t link;
    link_side from;
    int tag;
    std::size_t received_before;
  };
  struct ctx_t {
    std::vector<seen> log;
    bench* b;
  } ctx{{}, &b};
  b.links.set_tap(id, link_side::a,
                  [](void* c, std::uint32_t link, link_side from, sim_time at, const dev::frame_ref& f) {
                    auto& x = *static_cast<ctx_t*>(c);
                    x.log.push_back({at, link, from, std::to_integer<int>(f.cdata()[0]), x.b->received.size()});
                  },
                  &ctx);
  b.links.send(id, link_side::a, b.frame(60, 1));
  b.links.send(id, link_side::b, b.frame(60, 2));  // other direction: no tap
  b.sim.run_until(10_us);
  b.links.set_black_hole(id, link_side::a, true);  // judged at arrival, so only frame 3
  b.links.send(id, link_side::a, b.frame(60, 3));  // lost: not delivered, not tapped
  b.sim.run_until(1_ms);
  REQUIRE(ctx.log.size() == 1);
  CHECK(ctx.log[0].at == 672_ns + 500_ns);  // 60 bytes at 1 Gb/s (84 on the wire) + 500 ns
  CHECK(ctx.log[0].link == id);
  CHECK(ctx.log[0].from == link_side::a);
  CHECK(ctx.log[0].tag == 1);
  CHECK(ctx.log[0].received_before == 0);  // called before the receiver got it
  CHECK(b.received.size() == 2);
  // Removing the tap stops the calls.
  b.links.set_black_hole(id, link_side::a, false);
  b.links.set_tap(id, link_side::a, nullptr, &ctx);
  b.links.send(id, link_side::a, b.frame(60, 4));
  b.sim.run_until(2_ms);
  CHECK(ctx.log.size() == 1);
  CHECK(b.received.size() == 3);
}

// ---- the in-flight FIFO: one pending arrival event per direction ------------------------

TEST_CASE("many frames in flight: one pending event per direction, each frame at its own nanosecond") {
  bench b;
  dev::link_config cfg;
  cfg.bandwidth_bps = 10'000'000'000;  // 60 bytes: 84 on the wire, 67.2 ns -> 68 ns
  cfg.delay = 1_ms;                    // ~14,700 minimum frames fit on the wire
  cfg.queue_frames = 0;
  const auto id = b.add("long", cfg);
  constexpr int n = 5000;  // the ring grows from 16 to 8192 entries
  for (int i = 0; i < n; ++i) {
    REQUIRE(b.links.send(id, link_side::a, b.frame(60, i & 0xff)) == dev::send_result::queued);
  }
  for (int i = 0; i < 3; ++i) b.links.send(id, link_side::b, b.frame(60, 200 + i));
  CHECK(b.sim.pending_events() == 2);  // not one per frame
  const auto events_before = b.sim.events_run();
  b.sim.run_until(1_ms + 68_ns * 100);  // the first 100 have arrived (the 100th at 1 ms + 6.8 us)
  CHECK(b.received.size() == 100 + 3);
  CHECK(b.sim.pending_events() == 1);  // direction a, armed for frame 100; b is empty
  b.sim.run();
  REQUIRE(b.received.size() == n + 3);
  CHECK(b.sim.events_run() - events_before == n + 3);  // still one event per arrival
  int a = 0;
  for (const auto& r : b.received) {
    if (r.device == 1) continue;  // direction b
    CHECK(r.tag == (a & 0xff));
    CHECK(r.at == 68_ns * (a + 1) + 1_ms);
    ++a;
  }
  CHECK(a == n);
  CHECK(b.sim.pending_events() == 0);
  const auto& st = b.links.stats(id, link_side::a);
  CHECK(st.delivered == n);
  CHECK(st.queue_high_water == n - 1);
}

TEST_CASE("queue limits hold with frames on the wire, and the ring is reused without reordering") {
  bench b;
  dev::link_config cfg;
  cfg.delay = 100_us;  // 1514-byte frames: 12.304 us each, ~8 on the wire at once
  cfg.queue_frames = 4;
  const auto id = b.add("l", cfg);
  // Every 12.304 us, 2 frames: the queue fills up to its limit and then drops one in two.
  int tag = 0;
  std::vector<int> accepted;
  for (int k = 0; k < 40; ++k) {
    b.sim.schedule_at(12304_ns * k, [&, id](kernel::simulator&) {
      for (int j = 0; j < 2; ++j) {
        const int t = tag++;
        if (b.links.send(id, link_side::a, b.frame(1514, t)) == dev::send_result::queued) {
          accepted.push_back(t);
        }
      }
      CHECK(b.links.queued_frames(id, link_side::a) <= 4);
    });
  }
  b.sim.run();
  const auto& st = b.links.stats(id, link_side::a);
  // Sent at k: frame 2k starts at once or waits; the queue reaches 4 waiting at k = 3,
  // then every instant adds 2 and transmission removes 1: one drop per instant from k = 4.
  CHECK(st.out_discards == 36);
  CHECK(st.queue_high_water == 4);
  REQUIRE(b.received.size() == accepted.size());
  CHECK(accepted.size() == 44);
  for (std::size_t i = 0; i < accepted.size(); ++i) {
    CHECK(b.received[i].tag == accepted[i]);
    // Back to back from 0: the line never idles.
    CHECK(b.received[i].at == 12304_ns * static_cast<sim_time::rep>(i + 1) + 100_us);
  }
  CHECK(b.sim.pending_events() == 0);
}

TEST_CASE("faults act on every frame in flight at its arrival, with one event per direction") {
  bench b;
  dev::link_config cfg;
  cfg.delay = 50_us;
  cfg.queue_frames = 0;
  const auto id = b.add("l", cfg);
  // 20 frames of 60 bytes back to back: frame i (0-based) arrives at 672 ns * (i + 1) + 50 us.
  auto burst = [&](int first) {
    for (int i = 0; i < 20; ++i) b.links.send(id, link_side::a, b.frame(60, first + i));
  };
  SUBCASE("black hole on then off mid-flight: exactly the frames arriving meanwhile vanish") {
    burst(0);
    // Frame 4 arrives at 53.36 us, frame 5 at 54.032 us, frame 9 at 56.72 us, frame 10 at 57.392 us.
    b.sim.schedule_at(53_us + 500_ns, [&](kernel::simulator&) { b.links.set_black_hole(id, link_side::a, true); });
    b.sim.schedule_at(57_us, [&](kernel::simulator&) { b.links.set_black_hole(id, link_side::a, false); });
    b.sim.run();
    REQUIRE(b.received.size() == 15);
    CHECK(b.received[4].tag == 4);
    CHECK(b.received[4].at == 672_ns * 5 + 50_us);
    CHECK(b.received[5].tag == 10);
    CHECK(b.received[5].at == 672_ns * 11 + 50_us);
    CHECK(b.links.stats(id, link_side::a).lost_black_hole == 5);
  }
  SUBCASE("carrier cut mid-flight and restored before the lost frames were due") {
    burst(0);
    b.sim.schedule_at(5_us, [&](kernel::simulator&) {
      b.links.set_carrier(id, false);  // all 20 on the wire or queued: lost
      b.links.set_carrier(id, true);
      burst(100);  // a fresh line from 5 us; held behind the lost frames' arrivals
    });
    b.sim.run();
    const auto& st = b.links.stats(id, link_side::a);
    CHECK(st.lost_carrier == 20);
    REQUIRE(b.received.size() == 20);
    // New frame j would arrive at 5 us + 672 ns * (j + 1) + 50 us, after the last lost one
    // (at 672 ns * 20 + 50 us = 63.44 us) only from j = 12 on; earlier ones are held to it.
    for (int j = 0; j < 20; ++j) {
      const auto& r = b.received[static_cast<std::size_t>(j)];
      CHECK(r.tag == 100 + j);
      CHECK(r.at == std::max(5_us + 672_ns * (j + 1) + 50_us, 672_ns * 20 + 50_us));
    }
  }
  SUBCASE("delay changes mid-flight: later frames take the new delay, none overtakes") {
    burst(0);
    b.sim.schedule_at(3_us, [&](kernel::simulator&) {
      b.links.set_delay(id, 1_us);  // shorter: held behind frame 19 (63.44 us)
      for (int i = 0; i < 3; ++i) b.links.send(id, link_side::a, b.frame(60, 50 + i));
    });
    b.sim.schedule_at(80_us, [&](kernel::simulator&) {
      b.links.set_delay(id, 200_us);  // longer: simply later
      b.links.send(id, link_side::a, b.frame(60, 60));
      b.links.send(id, link_side::a, b.frame(60, 61));
    });
    b.sim.run();
    REQUIRE(b.received.size() == 25);
    for (int i = 0; i < 20; ++i) CHECK(b.received[static_cast<std::size_t>(i)].at == 672_ns * (i + 1) + 50_us);
    for (int i = 20; i < 23; ++i) {
      CHECK(b.received[static_cast<std::size_t>(i)].tag == 50 + i - 20);
      CHECK(b.received[static_cast<std::size_t>(i)].at == 672_ns * 20 + 50_us);  // same nanosecond, FIFO
    }
    CHECK(b.received[23].at == 80_us + 672_ns + 200_us);
    CHECK(b.received[24].at == 80_us + 2 * 672_ns + 200_us);
    CHECK(b.links.stats(id, link_side::a).delivered == 25);
  }
  CHECK(b.sim.pending_events() == 0);
}

TEST_CASE("same-nanosecond arrivals on two links run in the order their events were armed") {
  // Two links, frames sent at once on both: each direction's first frame is armed at
  // send() (link 1 first), so they alternate l1, l2 at every common arrival time.
  bench b;
  const auto l1 = b.add("l1");
  const auto l2 = b.add("l2");
  for (int i = 0; i < 3; ++i) {
    b.links.send(l1, link_side::a, b.frame(60, 10 + i));
    b.links.send(l2, link_side::a, b.frame(60, 20 + i));
  }
  b.sim.run();
  REQUIRE(b.received.size() == 6);
  const int want[] = {10, 20, 11, 21, 12, 22};
  for (std::size_t i = 0; i < 6; ++i) {
    CHECK(b.received[i].tag == want[i]);
    CHECK(b.received[i].at == 672_ns * static_cast<sim_time::rep>(i / 2 + 1) + 500_ns);
  }
}

TEST_CASE("frames of changing lengths each take their own serialization time") {
  // send() reuses the previous frame's serialization time only for the same length.
  const std::size_t lens[] = {60, 1514, 1514, 42, 60, 100, 1514};
  SUBCASE("1 Gb/s, exact nanoseconds") {
    bench b;
    const auto l = b.add("l");  // 1 Gb/s, 500 ns
    for (int i = 0; i < 7; ++i) b.links.send(l, link_side::a, b.frame(lens[i], i));
    b.sim.run();
    // 672, 12304, 12304, 672 (padded), 672, 992, 12304 ns back to back, then 500 ns.
    const sim_time want[] = {1172_ns, 13476_ns, 25780_ns, 26452_ns, 27124_ns, 28116_ns, 40420_ns};
    REQUIRE(b.received.size() == 7);
    for (int i = 0; i < 7; ++i) {
      CHECK(b.received[i].tag == i);
      CHECK(b.received[i].at == want[i]);
    }
  }
  SUBCASE("other rates: the sum of serialization_time()") {
    for (std::uint64_t bps : {100'000'000'000ULL, 3'000'000'000ULL, 100'000ULL}) {
      CAPTURE(bps);
      bench b;
      dev::link_config cfg;
      cfg.bandwidth_bps = bps;
      const auto l = b.add("l", cfg);
      sim_time end = sim_time::zero();
      for (int i = 0; i < 7; ++i) b.links.send(l, link_side::a, b.frame(lens[i], i));
      b.sim.run();
      REQUIRE(b.received.size() == 7);
      for (int i = 0; i < 7; ++i) {
        end = end + dev::serialization_time(lens[i], bps);
        CHECK(b.received[i].at == end + cfg.delay);
      }
    }
  }
}

TEST_CASE("a frame that waited and arrived before the next send leaves the byte count") {
  // A store-and-forward device's frames all wait (ready later than now); with no send()
  // between one's start and its arrival, the arrival itself takes it out of the count.
  bench b;
  dev::link_config cfg;
  cfg.queue_frames = 0;
  cfg.queue_bytes = 1000;
  const auto id = b.add("l1", cfg);
  for (int i = 0; i < 3; ++i) {
    CHECK(b.links.send(id, link_side::a, b.frame(600, i), b.sim.now() + 5_us) ==
          dev::send_result::queued);
    b.sim.run();
  }
  CHECK(b.received.size() == 3);
  CHECK(b.links.stats(id, link_side::a).out_discards == 0);
  // Two waiting at once: 1200 bytes > 1000.
  CHECK(b.links.send(id, link_side::a, b.frame(600, 3), b.sim.now() + 5_us) == dev::send_result::queued);
  CHECK(b.links.send(id, link_side::a, b.frame(600, 4), b.sim.now() + 5_us) == dev::send_result::queue_full);
  CHECK(b.links.queued_frames(id, link_side::a) == 1);
  b.sim.run_until(b.sim.now() + 5_us);  // frame 3 starts: nothing waits any more
  CHECK(b.links.queued_frames(id, link_side::a) == 0);
  CHECK(b.links.send(id, link_side::a, b.frame(600, 5), b.sim.now() + 5_us) == dev::send_result::queued);
  b.sim.run();
  CHECK(b.received.size() == 5);
}
