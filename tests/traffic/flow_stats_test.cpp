#include "vnetsim/traffic/flow_stats.hpp"

#include <doctest/doctest.h>

using namespace vnetsim;
using namespace vnetsim::literals;
using traffic::latency_histogram;
using traffic::sequence_tracker;

TEST_CASE("sequence_tracker: fresh, duplicate, reordered (RFC 4737 3.3), out of range") {
  sequence_tracker t(100);
  CHECK(t.capacity() == 100);
  using v = sequence_tracker::verdict;
  CHECK(t.record(0) == v::fresh);
  CHECK(t.record(2) == v::fresh);
  CHECK(t.next_expected() == 3);
  CHECK(t.record(1) == v::fresh);  // 1 < NextExp 3: reordered
  CHECK(t.record(1) == v::duplicate);
  CHECK(t.record(2) == v::duplicate);
  CHECK(t.record(99) == v::fresh);
  CHECK(t.record(64) == v::fresh);  // reordered, other bitmap word
  CHECK(t.record(100) == v::out_of_range);
  CHECK(t.unique() == 5);
  CHECK(t.duplicates() == 2);
  CHECK(t.reordered() == 2);
  CHECK(t.out_of_range() == 1);
  CHECK(t.received(64));
  CHECK_FALSE(t.received(63));
  CHECK_FALSE(t.received(1000));
}

TEST_CASE("latency_histogram: bucket bounds are log-linear with 1/32 precision") {
  for (std::uint64_t v = 0; v < 64; ++v) {
    CHECK(latency_histogram::bucket_of(v) == v);
    CHECK(latency_histogram::bucket_floor(v) == v);
  }
  CHECK(latency_histogram::bucket_of(64) == 64);
  CHECK(latency_histogram::bucket_of(65) == 64);  // [64, 66) is one bucket
  CHECK(latency_histogram::bucket_of(66) == 65);
  CHECK(latency_histogram::bucket_of(128) == 96);
  CHECK(latency_histogram::bucket_floor(96) == 128);
  // Every bucket's floor maps back to it, floors increase, and width <= floor / 32.
  for (std::size_t b = 0; b + 1 < latency_histogram::bucket_count; ++b) {
    const auto lo = latency_histogram::bucket_floor(b);
    const auto hi = latency_histogram::bucket_floor(b + 1);
    REQUIRE(latency_histogram::bucket_of(lo) == b);
    REQUIRE(latency_histogram::bucket_of(hi - 1) == b);
    REQUIRE(hi > lo);
    if (lo >= 64) REQUIRE((hi - lo) * 32 <= lo);
  }
  CHECK(latency_histogram::bucket_of(~std::uint64_t{0}) == latency_histogram::bucket_count - 1);
}

TEST_CASE("latency_histogram: nearest-rank percentiles, exact extremes") {
  latency_histogram h;
  CHECK(h.percentile(50) == sim_time::zero());
  // 1..100 us: nearest rank p50 = 50 us, p90 = 90 us, p99 = 99 us (reported as bucket
  // floors, within 1/32 below).
  for (int i = 1; i <= 100; ++i) h.record(sim_time::from_us(i));
  CHECK(h.count() == 100);
  CHECK(h.min() == 1_us);
  CHECK(h.max() == 100_us);
  CHECK(h.mean() == sim_time::from_ns(50'500));
  const auto close = [](sim_time got, sim_time want) {
    return got <= want && (want - got).ns() * 32 <= want.ns();
  };
  CHECK(close(h.percentile(50), 50_us));
  CHECK(close(h.percentile(90), 90_us));
  CHECK(close(h.percentile(99), 99_us));
  CHECK(h.percentile(100) == 100_us);
  CHECK(h.percentile(1) == 1_us);  // clamped to the exact minimum
  // p50 of 50 us lies in bucket [49152, 50176): reported 49152 ns.
  CHECK(h.percentile(50) == sim_time::from_ns(49'152));

  latency_histogram c;
  for (int i = 0; i < 10; ++i) c.record(sim_time::from_ns(7'952));
  CHECK(c.percentile(50) == sim_time::from_ns(7'952));  // exact when the bucket holds one value
  CHECK(c.percentile(99) == sim_time::from_ns(7'952));
}
