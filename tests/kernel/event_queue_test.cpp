#include "vnetsim/kernel/event_queue.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "vnetsim/kernel/rng.hpp"

using namespace vnetsim;
using namespace vnetsim::literals;
using vnetsim::kernel::event_queue;

namespace {

/// Pops every event; their args in pop order.
std::vector<std::uint64_t> drain_args(event_queue& q) {
  std::vector<std::uint64_t> args;
  while (auto e = q.pop()) args.push_back(e->arg);
  return args;
}

/// A random mix of pushes, cancels, pops and pop_until look-aheads, checked against a
/// brute-force reference: every pop returns the live event with the smallest (time, seq).
struct random_workload {
  std::uint64_t seed = 0;
  int steps = 0;
  std::size_t max_live = std::numeric_limits<std::size_t>::max();  // no push beyond this many
  std::int64_t lookahead = 0;  // pop_until limits are now + [0, lookahead)
  std::size_t min_pops = 0;
  std::function<std::int64_t(kernel::rng&, std::int64_t now)> push_time;
};

void check_against_reference(const random_workload& w) {
  kernel::rng r(w.seed);
  event_queue q;
  struct ref_event {
    std::int64_t time;
    bool live;
  };
  std::vector<ref_event> ref;  // index = seq = arg
  std::vector<kernel::event_handle> handles;
  std::size_t live = 0;
  std::int64_t now = 0;
  std::size_t pops = 0;
  auto expect_pop = [&](const std::optional<kernel::event>& e) {
    std::size_t best = ref.size();  // the earliest live event; the lowest seq among ties
    for (std::size_t i = 0; i < ref.size(); ++i) {
      if (ref[i].live && (best == ref.size() || ref[i].time < ref[best].time)) best = i;
    }
    if (best == ref.size()) {
      CHECK_FALSE(e.has_value());
      return;
    }
    REQUIRE(e.has_value());
    CHECK(e->arg == best);
    CHECK(e->seq == best);
    CHECK(e->time.ns() == ref[best].time);
    ref[best].live = false;
    --live;
    now = e->time.ns();
    ++pops;
  };
  for (int step = 0; step < w.steps; ++step) {
    const auto op = r.uniform_below(10);
    if (op < 5 && live < w.max_live) {
      const std::int64_t t = w.push_time(r, now);
      handles.push_back(q.push(sim_time::from_ns(t), 1, 0, ref.size()));
      ref.push_back({t, true});
      ++live;
    } else if (op < 6 && !handles.empty()) {
      const auto i = r.uniform_below(handles.size());
      const bool did = q.cancel(handles[i]).has_value();
      CHECK(did == ref[i].live);
      if (ref[i].live) --live;
      ref[i].live = false;
    } else if (op < 7) {
      // Look ahead to a limit: either the next event is within it, or nothing changes.
      const auto limit =
          sim_time::from_ns(now + static_cast<std::int64_t>(r.uniform_below(static_cast<std::uint64_t>(w.lookahead))));
      const auto next = q.next_time();
      auto e = q.pop_until(limit);
      if (next && *next <= limit) {
        expect_pop(e);
      } else {
        CHECK_FALSE(e.has_value());
        now = limit.ns();  // as the simulator does after run_until(limit)
      }
    } else {
      expect_pop(q.pop());
    }
    CHECK(q.size() == live);
  }
  while (!q.empty()) expect_pop(q.pop());
  expect_pop(q.pop());
  CHECK(pops > w.min_pops);
}

}  // namespace

TEST_CASE("event_queue pops in time order and FIFO among equal times") {
  event_queue q;
  q.push(5_s, 1, 0, 50);
  q.push(1_s, 1, 0, 10);
  q.push(5_s, 1, 0, 51);
  q.push(3_s, 1, 0, 30);
  q.push(5_s, 1, 0, 52);
  q.push(1_s, 1, 0, 11);
  CHECK(q.size() == 6);
  CHECK(q.next_time() == 1_s);
  const auto args = drain_args(q);
  CHECK(args == std::vector<std::uint64_t>{10, 11, 30, 50, 51, 52});
  CHECK(q.empty());
  CHECK_FALSE(q.pop().has_value());
}

TEST_CASE("event_queue seq counts pushes and orders ties") {
  event_queue q;
  auto h0 = q.push(2_s, 1, 7, 0);
  q.push(2_s, 1, 8, 0);
  (void)h0;
  auto a = q.pop();
  auto b = q.pop();
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->seq == 0);
  CHECK(b->seq == 1);
  CHECK(a->target == 7);
  CHECK(b->target == 8);
  CHECK(q.pushed() == 2);
}

TEST_CASE("event_queue cancel is by handle and safe after the event is gone") {
  event_queue q;
  auto a = q.push(1_s, 1, 0, 1);
  auto b = q.push(2_s, 1, 0, 2);
  auto c = q.push(2_s, 1, 0, 3);
  CHECK(q.pending(b));
  auto cancelled = q.cancel(b);
  REQUIRE(cancelled);
  CHECK(cancelled->arg == 2);
  CHECK_FALSE(q.pending(b));
  CHECK_FALSE(q.cancel(b).has_value());  // twice
  CHECK(q.size() == 2);

  auto e1 = q.pop();
  REQUIRE(e1);
  CHECK(e1->arg == 1);
  CHECK_FALSE(q.cancel(a).has_value());  // already ran
  // The slot of `a` is reused by the next push: the old handle must not reach it.
  auto d = q.push(3_s, 1, 0, 4);
  CHECK_FALSE(q.cancel(a).has_value());
  CHECK(q.pending(d));
  CHECK(q.pending(c));

  auto e2 = q.pop();
  REQUIRE(e2);
  CHECK(e2->arg == 3);
  auto e3 = q.pop();
  REQUIRE(e3);
  CHECK(e3->arg == 4);
  CHECK_FALSE(q.pop().has_value());
  CHECK_FALSE(kernel::event_handle{}.valid());
  CHECK_FALSE(q.cancel(kernel::event_handle{}).has_value());
}

TEST_CASE("event_queue pop_until leaves later events and lets earlier ones be pushed") {
  event_queue q;
  q.push(10_s, 1, 0, 10);
  CHECK_FALSE(q.pop_until(5_s).has_value());
  // The queue did not move its lower bound past 5 s: events between 5 s and 10 s are fine.
  q.push(6_s, 1, 0, 6);
  q.push(5_s, 1, 0, 5);
  auto a = q.pop_until(5_s);
  REQUIRE(a);
  CHECK(a->arg == 5);
  CHECK_FALSE(q.pop_until(5_s).has_value());
  CHECK(q.pop()->arg == 6);
  CHECK(q.pop()->arg == 10);
}

TEST_CASE("event_queue next_time skips cancelled events") {
  event_queue q;
  auto a = q.push(1_s, 1, 0, 1);
  q.push(4_s, 1, 0, 4);
  q.cancel(a);
  CHECK(q.next_time() == 4_s);
  CHECK(q.pop()->arg == 4);
  CHECK_FALSE(q.next_time().has_value());
}

TEST_CASE("event_queue agrees with a brute-force reference on a random workload") {
  // Pushes never before the last pop, with many ties, and now and then far ahead.
  random_workload w;
  w.seed = 42;
  w.steps = 6000;
  w.lookahead = 4000;
  w.min_pops = 1000;
  w.push_time = [](kernel::rng& r, std::int64_t now) {
    return now + static_cast<std::int64_t>(r.uniform_below(8)) * 1000 *
                     static_cast<std::int64_t>(r.uniform_below(3)) +
           (r.bernoulli(0.1) ? (std::int64_t{1} << static_cast<int>(r.uniform_below(41))) : 0);
  };
  check_against_reference(w);
}

TEST_CASE("event_queue sorts buckets of every small size exactly, ties first in, first out") {
  // A bucket of at most 15 entries is sorted into the run by a sorting network on keys
  // packed relative to its minimum (paths for up to 4, up to 8 and up to 15 entries);
  // larger ones are split. Cover each size around those limits, clustered and spread
  // times, many exact ties, and keys up to the top base-64 digit (bits 60..63), where the
  // packed offset uses all 60 bits it has.
  kernel::rng r(7);
  const std::uint64_t bases[] = {0, 1'000, std::uint64_t{1} << 40, std::uint64_t{1} << 60,
                                 (std::uint64_t{1} << 62) + 12'345};
  for (const std::uint64_t base : bases) {
    for (std::size_t n = 1; n <= 20; ++n) {
      for (int trial = 0; trial < 20; ++trial) {
        CAPTURE(base);
        CAPTURE(n);
        CAPTURE(trial);
        // spread: offsets up to 2^bits - 1, bits up to 60 (the whole digit 10 range).
        const int bits = trial < 5 ? 2 : trial < 10 ? 12 : static_cast<int>(20 + r.uniform_below(41));
        event_queue q;
        std::vector<std::pair<std::uint64_t, std::uint64_t>> want;  // (time, push order)
        for (std::size_t i = 0; i < n; ++i) {
          const std::uint64_t t = base + (r.next_u64() >> (64 - bits));
          q.push(sim_time::from_ns(static_cast<sim_time::rep>(t)), 1, 0, i);
          want.emplace_back(t, i);
        }
        std::stable_sort(want.begin(), want.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        std::vector<std::pair<std::uint64_t, std::uint64_t>> got;
        while (auto e = q.pop()) got.emplace_back(static_cast<std::uint64_t>(e->time.ns()), e->arg);
        CHECK(got == want);
      }
    }
  }
}

TEST_CASE("event_queue puts a push at or before the end of the run into the run") {
  // The run is the next few events, sorted, ahead of every bucketed event: a push at a
  // time up to the run's last time goes into it, in order, even once the run is used up.
  SUBCASE("into the middle of the run") {
    event_queue q;
    q.push(10_ns, 1, 0, 1);
    q.push(12_ns, 1, 0, 3);
    q.push(14_ns, 1, 0, 4);
    q.push(1_s, 1, 0, 9);
    CHECK(q.pop()->arg == 1);  // now = 10 ns; 12 and 14 are left in the run
    q.push(11_ns, 1, 0, 2);
    q.push(14_ns, 1, 0, 5);  // a tie with the run's last event: after it
    q.push(20_ns, 1, 0, 6);
    const auto args = drain_args(q);
    CHECK(args == std::vector<std::uint64_t>{2, 3, 4, 5, 6, 9});
  }
  SUBCASE("at the time of a run split off a large bucket") {
    // 20 events at 5 ns share a bucket too large to sort (more than 15): the split puts
    // them in the run, and a push at 5 ns from the first of them joins the run at its end.
    event_queue q;
    q.push(1_ns, 1, 0, 100);
    for (std::uint64_t i = 0; i < 20; ++i) q.push(5_ns, 1, 0, i);
    q.push(7_ns, 1, 0, 200);
    CHECK(q.pop()->arg == 100);
    CHECK(q.pop()->arg == 0);
    q.push(5_ns, 1, 0, 20);
    const auto args = drain_args(q);
    std::vector<std::uint64_t> want;
    for (std::uint64_t i = 1; i <= 20; ++i) want.push_back(i);
    want.push_back(200);
    CHECK(args == want);
  }
  event_queue q;
  q.push(10_ns, 1, 0, 1);
  q.push(12_ns, 1, 0, 2);
  q.push(1_s, 1, 0, 9);
  CHECK(q.pop()->arg == 1);
  CHECK(q.pop()->arg == 2);  // the run {10, 12} is used up; now = 12 ns
  q.push(12_ns, 1, 0, 3);    // at now
  q.push(15_ns, 1, 0, 5);    // after the run's end, before the bucketed 1 s
  q.push(13_ns, 1, 0, 4);
  q.push(12_ns, 1, 0, 6);    // a tie with arg 3: after it
  const auto args = drain_args(q);
  CHECK(args == std::vector<std::uint64_t>{3, 6, 4, 5, 9});
}

TEST_CASE("event_queue puts a push below every bucketed key into the run") {
  // While the run is shorter than 16 entries, a push earlier than every bucketed key
  // joins the run (appended at its end, or inserted) instead of a bucket.
  SUBCASE("one event re-armed at a time, a far timer pending, storage does not grow") {
    event_queue q;
    q.push(1_s, 1, 0, 999);  // the far timer
    q.push(100_ns, 1, 0, 0);
    const auto bytes = q.memory_bytes();
    std::int64_t t = 100;
    for (std::uint64_t i = 0; i < 10'000; ++i) {
      auto e = q.pop();
      REQUIRE(e);
      CHECK(e->arg == i);
      CHECK(e->time.ns() == t);
      t += 300;
      q.push(sim_time::from_ns(t), 1, 0, i + 1);
    }
    CHECK(q.memory_bytes() == bytes);
    CHECK(q.size() == 2);
    // t is now 3,000,100 ns: the last re-armed event comes first, then the timer.
    CHECK(q.pop()->arg == 10'000);
    CHECK(q.pop()->arg == 999);
    CHECK(q.empty());
  }
  SUBCASE("a push at a bucketed time goes after it (first in, first out)") {
    event_queue q;
    q.push(1_ns, 1, 0, 0);
    q.push(100_us, 1, 0, 1);  // bucketed
    CHECK(q.pop()->arg == 0);
    q.push(100_us, 1, 0, 2);  // equal to the lowest bucketed key: not into the run
    q.push(99'999_ns, 1, 0, 3);  // one below it: into the run
    const auto args = drain_args(q);
    CHECK(args == std::vector<std::uint64_t>{3, 1, 2});
  }
  SUBCASE("ties with the run's last element, and an insertion before it") {
    event_queue q;
    q.push(5_ns, 1, 0, 0);
    q.push(1_ms, 1, 0, 9);
    q.push(7_ns, 1, 0, 1);  // appended
    q.push(7_ns, 1, 0, 2);  // a tie with the run's last element: after it
    q.push(6_ns, 1, 0, 3);  // inserted before the run's end
    q.push(5_ns, 1, 0, 4);  // inserted after the equal 5 ns
    const auto args = drain_args(q);
    CHECK(args == std::vector<std::uint64_t>{0, 4, 3, 1, 2, 9});
  }
  SUBCASE("cancel of an event appended to the run") {
    event_queue q;
    q.push(1_ms, 1, 0, 9);
    q.push(10_ns, 1, 0, 0);
    auto h = q.push(20_ns, 1, 0, 1);
    q.push(30_ns, 1, 0, 2);
    CHECK(q.cancel(h).has_value());
    CHECK_FALSE(q.pending(h));
    CHECK(q.size() == 3);
    CHECK(q.next_time() == 10_ns);
    CHECK(q.pop()->arg == 0);
    CHECK(q.next_time() == 30_ns);
    CHECK(q.pop()->arg == 2);  // the cancelled one is skipped
    CHECK_FALSE(q.cancel(h).has_value());
    CHECK(q.pop()->arg == 9);
    CHECK(q.empty());
  }
  SUBCASE("the run stops taking later pushes at 16 entries") {
    // 40 increasing pushes into an empty queue: 16 go into the run, the rest into buckets;
    // then pushes between them and earlier than all of them still come out in order.
    event_queue q;
    std::vector<std::pair<std::int64_t, std::uint64_t>> want;
    for (std::uint64_t i = 0; i < 40; ++i) {
      const auto t = static_cast<std::int64_t>(100 * (i + 1));
      q.push(sim_time::from_ns(t), 1, 0, i);
      want.emplace_back(t, i);
    }
    for (std::uint64_t i = 0; i < 40; ++i) {
      const auto t = static_cast<std::int64_t>(50 + 100 * ((i * 7) % 40));
      q.push(sim_time::from_ns(t), 1, 0, 100 + i);
      want.emplace_back(t, 100 + i);
    }
    std::stable_sort(want.begin(), want.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::pair<std::int64_t, std::uint64_t>> got;
    while (auto e = q.pop()) got.emplace_back(e->time.ns(), e->arg);
    CHECK(got == want);
  }
  SUBCASE("pop_until stopping inside the run, then pushes at the stop time") {
    event_queue q;
    q.push(1_s, 1, 0, 9);
    q.push(10_ns, 1, 0, 0);
    q.push(30_ns, 1, 0, 2);
    CHECK(q.pop_until(20_ns)->arg == 0);
    CHECK_FALSE(q.pop_until(20_ns).has_value());  // 30 ns waits in the run
    q.push(20_ns, 1, 0, 1);  // at the stop time: before it
    q.push(30_ns, 1, 0, 3);  // a tie with it: after it
    q.push(40_ns, 1, 0, 4);  // appended
    const auto args = drain_args(q);
    CHECK(args == std::vector<std::uint64_t>{1, 2, 3, 4, 9});
  }
}

TEST_CASE("event_queue agrees with a brute-force reference with few events pending") {
  // The run's fast path in use: a handful of events pending, short delays with many ties,
  // some far timers in buckets, cancels, and pop_until stopping between events.
  random_workload w;
  w.seed = 2027;
  w.steps = 40'000;
  w.max_live = 24;
  w.lookahead = 300;
  w.min_pops = 10'000;
  w.push_time = [](kernel::rng& r, std::int64_t now) {
    std::int64_t t = now + static_cast<std::int64_t>(r.uniform_below(5)) * 100;
    if (r.bernoulli(0.05)) t += std::int64_t{1} << static_cast<int>(10 + r.uniform_below(30));
    return t;
  };
  check_against_reference(w);
}

TEST_CASE("event_queue hands a long run's latest time back to the buckets, ties in order") {
  // Random pushes into an empty queue: the first 16 make a run reaching far ahead, and
  // later pushes before its end would each be inserted into it. Once it holds 16, its
  // latest time (every entry at that time, in order) goes back to a bucket instead.
  kernel::rng r(99);
  event_queue q;
  std::vector<std::pair<std::int64_t, std::uint64_t>> want;
  for (std::uint64_t i = 0; i < 5000; ++i) {
    const auto t = static_cast<std::int64_t>(r.uniform_below(400)) * 1000;  // many ties
    q.push(sim_time::from_ns(t), 1, 0, i);
    want.emplace_back(t, i);
  }
  std::stable_sort(want.begin(), want.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::pair<std::int64_t, std::uint64_t>> got;
  while (auto e = q.pop()) got.emplace_back(e->time.ns(), e->arg);
  CHECK(got == want);
}
