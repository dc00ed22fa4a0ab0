#include "vnetsim/dev/frame_pool.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

using namespace vnetsim;
using namespace vnetsim::dev;

namespace {

/// A pool small enough to exhaust: `max` buffers per class, `per_slab` per slab.
frame_pool_config small_config(std::uint32_t per_slab, std::uint32_t initial, std::uint32_t max) {
  frame_pool_config cfg;
  for (auto& c : cfg.classes) c = {per_slab, initial, max};
  return cfg;
}

std::uintptr_t addr(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

void fill(std::span<std::byte> b, std::uint8_t seed) {
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::byte>(seed + i);
}

}  // namespace

TEST_CASE("size classes: a frame takes the smallest class that holds it") {
  CHECK(frame_class_for(0) == frame_class::standard);
  CHECK(frame_class_for(1522) == frame_class::standard);
  CHECK(frame_class_for(1523) == frame_class::jumbo);
  CHECK(frame_class_for(9022) == frame_class::jumbo);
  CHECK(frame_class_for(9023) == frame_class::tso);
  CHECK(frame_class_for(65553) == frame_class::tso);
  CHECK_FALSE(frame_class_for(65554).has_value());
  CHECK(frame_headroom >= 4);
  CHECK(frame_headroom % 64 == 0);

  frame_pool pool;
  const auto now = sim_time::from_us(5);
  auto a = pool.allocate(60, now);
  auto b = pool.allocate(9000, now);
  auto c = pool.allocate(65553, now);
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(c);
  CHECK(a.size_class() == frame_class::standard);
  CHECK(b.size_class() == frame_class::jumbo);
  CHECK(c.size_class() == frame_class::tso);
  CHECK(a.size() == 60);
  CHECK(b.size() == 9000);
  CHECK(c.size() == 65553);
  CHECK(a.headroom() == frame_headroom);
  CHECK(a.capacity() == standard_frame_capacity);
  CHECK(b.capacity() == jumbo_frame_capacity);
  CHECK(c.capacity() == tso_frame_capacity);
  // A fresh frame's Ethernet header is cache-line aligned.
  CHECK(addr(a.data().data()) % 64 == 0);
  CHECK(addr(b.data().data()) % 64 == 0);
  CHECK(addr(c.data().data()) % 64 == 0);
  CHECK(pool.stats(frame_class::standard).in_use == 1);
  CHECK(pool.stats(frame_class::jumbo).in_use == 1);
  CHECK(pool.stats(frame_class::tso).in_use == 1);
  CHECK(pool.outstanding() == 3);

  // Explicit class: a small frame in a jumbo buffer; too big for the class is refused.
  auto d = pool.allocate(frame_class::jumbo, 64, now);
  REQUIRE(d);
  CHECK(d.size_class() == frame_class::jumbo);
  CHECK(d.capacity() == jumbo_frame_capacity);
  CHECK_FALSE(pool.allocate(frame_class::standard, 1523, now));
  CHECK(pool.stats().oversize == 1);
}

TEST_CASE("a whole TSO super-frame is writable end to end") {
  frame_pool pool;
  auto f = pool.allocate(tso_frame_capacity, sim_time::zero());
  REQUIRE(f);
  fill(f.data(), 7);
  CHECK(f.data().back() == static_cast<std::byte>(static_cast<std::uint8_t>(7 + tso_frame_capacity - 1)));
  CHECK_FALSE(f.resize(tso_frame_capacity + 1));
  CHECK(f.size() == tso_frame_capacity);
}

TEST_CASE("fresh metadata: defaults and the creation time") {
  frame_pool pool;
  auto f = pool.allocate(100, sim_time::from_ms(42));
  REQUIRE(f);
  frame_meta expected;
  expected.created = sim_time::from_ms(42);
  CHECK(f.meta() == expected);
  CHECK_FALSE(f.meta().vlan_tci.has_value());
  CHECK(f.meta().csum == csum_offload::none);
  CHECK(f.meta().tso_mss == 0);
  CHECK(f.meta().ingress_port == no_ingress_port);
  CHECK(f.meta().flow_id == 0);
  CHECK(f.meta().flow_seq == 0);
}

TEST_CASE("copying a handle shares the bytes and the last release returns the buffer") {
  frame_pool pool;
  auto a = pool.allocate(64, sim_time::zero());
  REQUIRE(a);
  fill(a.data(), 1);
  CHECK(a.use_count() == 1);
  CHECK(a.unique());

  std::vector<frame_ref> ports(8, a);  // flood to 8 ports
  CHECK(a.use_count() == 9);
  CHECK_FALSE(a.unique());
  for (const auto& p : ports) {
    CHECK(p.data().data() == a.data().data());  // same bytes, not a copy
    CHECK(p.same_buffer(a));
    CHECK(p.size() == 64);
  }
  // Metadata is shared too.
  ports[3].meta().flow_id = 77;
  CHECK(a.meta().flow_id == 77);

  const auto& st = pool.stats(frame_class::standard);
  CHECK(st.allocated == 1);
  CHECK(st.in_use == 1);

  a.reset();
  CHECK_FALSE(a);
  CHECK(ports[0].use_count() == 8);
  CHECK(st.released == 0);
  ports.resize(1);
  CHECK(ports[0].use_count() == 1);
  CHECK(st.released == 0);
  CHECK(st.in_use == 1);
  ports.clear();
  CHECK(st.released == 1);
  CHECK(st.in_use == 0);
  CHECK(pool.outstanding() == 0);
}

TEST_CASE("copy and move assignment keep the counts right") {
  frame_pool pool;
  auto a = pool.allocate(64, sim_time::zero());
  auto b = pool.allocate(64, sim_time::zero());
  REQUIRE(a);
  REQUIRE(b);
  const auto* a_bytes = a.data().data();
  const auto& st = pool.stats(frame_class::standard);

  b = a;  // b's old buffer goes back
  CHECK(st.released == 1);
  CHECK(b.data().data() == a_bytes);
  CHECK(a.use_count() == 2);

  frame_ref c = std::move(a);
  CHECK_FALSE(a);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  CHECK(a.size() == 0);
  CHECK(c.use_count() == 2);

  auto& self = c;
  c = self;  // self-assignment
  CHECK(c.use_count() == 2);
  c = std::move(self);
  CHECK(c.use_count() == 2);
  CHECK(c.data().data() == a_bytes);

  b = frame_ref{};
  CHECK(c.use_count() == 1);
  c = frame_ref{};
  CHECK(st.released == 2);
  CHECK(st.in_use == 0);
}

TEST_CASE("free list: buffers come back last-in first-out") {
  frame_pool pool(small_config(4, 4, 4));
  auto a = pool.allocate(64, sim_time::zero());
  auto b = pool.allocate(64, sim_time::zero());
  auto c = pool.allocate(64, sim_time::zero());
  REQUIRE(c);
  const auto* pa = a.data().data();
  const auto* pb = b.data().data();
  const auto* pc = c.data().data();
  CHECK(pa != pb);
  CHECK(pb != pc);
  // Release in the order b, a, c: the next allocations see c, a, b.
  b.reset();
  a.reset();
  c.reset();
  auto x = pool.allocate(64, sim_time::zero());
  auto y = pool.allocate(64, sim_time::zero());
  auto z = pool.allocate(64, sim_time::zero());
  CHECK(x.data().data() == pc);
  CHECK(y.data().data() == pa);
  CHECK(z.data().data() == pb);
}

TEST_CASE("exhaustion is counted and answered with an empty handle") {
  frame_pool pool(small_config(4, 0, 6));
  const auto& st = pool.stats(frame_class::standard);
  CHECK(st.capacity == 0);
  CHECK(st.max_frames == 6);

  std::vector<frame_ref> held;
  for (int i = 0; i < 6; ++i) {
    auto f = pool.allocate(100, sim_time::zero());
    REQUIRE(f);
    held.push_back(std::move(f));
  }
  CHECK(st.capacity == 6);  // one full slab and a partial one, capped at the maximum
  CHECK(st.slabs == 2);

  auto none = pool.allocate(100, sim_time::zero());
  CHECK_FALSE(none);
  CHECK(none.size() == 0);
  CHECK(none.data().empty());
  CHECK(st.exhausted == 1);
  CHECK_FALSE(pool.allocate(100, sim_time::zero()));
  CHECK(st.exhausted == 2);
  // Cloning from an exhausted class fails the same way.
  CHECK_FALSE(held[0].clone());
  CHECK(st.exhausted == 3);
  // Other classes are independent.
  CHECK(pool.allocate(2000, sim_time::zero()));
  CHECK(pool.stats(frame_class::jumbo).exhausted == 0);

  CHECK(st.in_use == 6);
  CHECK(st.high_water == 6);
  held.pop_back();
  CHECK(st.in_use == 5);
  auto again = pool.allocate(100, sim_time::zero());
  CHECK(again);
  CHECK(st.allocated == 7);
  CHECK(st.released == 1);
  CHECK(st.high_water == 6);
  CHECK(st.exhausted == 3);
}

TEST_CASE("a class with max_frames 0 is always exhausted") {
  auto cfg = small_config(4, 0, 8);
  cfg.classes[static_cast<std::size_t>(frame_class::tso)].max_frames = 0;
  frame_pool pool(cfg);
  CHECK_FALSE(pool.allocate(20000, sim_time::zero()));
  CHECK(pool.stats(frame_class::tso).exhausted == 1);
  CHECK(pool.stats().oversize == 0);
}

TEST_CASE("warm-up: after reserve() the pool allocates no more slabs") {
  frame_pool pool(small_config(64, 0, 1024));
  CHECK(pool.reserve(frame_class::standard, 256));
  const auto& st = pool.stats(frame_class::standard);
  CHECK(st.capacity == 256);
  CHECK(st.slabs == 4);
  for (int round = 0; round < 100; ++round) {
    std::vector<frame_ref> v;
    for (int i = 0; i < 256; ++i) v.push_back(pool.allocate(1500, sim_time::zero()));
    CHECK(v.back());
  }
  CHECK(st.slabs == 4);
  CHECK(st.capacity == 256);
  CHECK(st.high_water == 256);
  // Reserving past the maximum stops at it and says so.
  CHECK_FALSE(pool.reserve(frame_class::standard, 2000));
  CHECK(st.capacity == 1024);
}

TEST_CASE("802.1Q tag insertion into the headroom moves no payload") {
  frame_pool pool;
  auto f = pool.allocate(60, sim_time::zero());
  REQUIRE(f);
  // dst, src, EtherType 0x0800, then 46 bytes of payload.
  fill(f.data(), 0x10);
  f.data()[12] = std::byte{0x08};
  f.data()[13] = std::byte{0x00};
  const std::byte* payload = f.data().data() + 14;
  std::vector<std::byte> before(f.data().begin(), f.data().end());

  REQUIRE(f.push_front(4));
  CHECK(f.size() == 64);
  CHECK(f.headroom() == frame_headroom - 4);
  auto d = f.data();
  std::memmove(d.data(), d.data() + 4, 12);  // addresses forward
  d[12] = std::byte{0x81};
  d[13] = std::byte{0x00};
  d[14] = std::byte{0x20};  // PCP 1, VID 0x064
  d[15] = std::byte{0x64};

  CHECK(f.data().data() + 18 == payload);  // payload did not move
  CHECK(std::memcmp(f.data().data(), before.data(), 12) == 0);
  CHECK(std::memcmp(f.data().data() + 16, before.data() + 12, 48) == 0);

  // Untag: addresses back, pull the 4 bytes off the front.
  std::memmove(d.data() + 4, d.data(), 12);
  REQUIRE(f.pull_front(4));
  CHECK(f.size() == 60);
  CHECK(f.headroom() == frame_headroom);
  CHECK(f.data().data() + 14 == payload);
  CHECK(std::memcmp(f.data().data(), before.data(), before.size()) == 0);
}

TEST_CASE("resize within the buffer") {
  frame_pool pool;
  auto f = pool.allocate(100, sim_time::zero());
  REQUIRE(f);
  CHECK(f.resize(1522));
  CHECK(f.size() == 1522);
  CHECK(f.resize(0));
  CHECK(f.size() == 0);
  CHECK(f.data().empty());
  CHECK(f.pull_front(0));
  // After a push, the capacity from the new start grows by the same amount.
  CHECK(f.push_front(8));
  CHECK(f.capacity() == standard_frame_capacity + 8);
  CHECK(f.resize(standard_frame_capacity + 8));
  CHECK_FALSE(f.resize(standard_frame_capacity + 9));
}

TEST_CASE("metadata and geometry are reset when a buffer is reused") {
  frame_pool pool(small_config(1, 1, 1));
  auto f = pool.allocate(64, sim_time::from_s(1));
  REQUIRE(f);
  const auto* bytes = f.data().data();
  f.meta().vlan_tci = 0x2064;
  f.meta().csum = csum_offload::ipv4_header | csum_offload::l4;
  f.meta().tso_mss = 1448;
  f.meta().ingress_port = 3;
  f.meta().flow_id = 9;
  f.meta().flow_seq = 123456789;
  CHECK(has(f.meta().csum, csum_offload::l4));
  REQUIRE(f.push_front(4));
  f.reset();

  auto g = pool.allocate(100, sim_time::from_s(2));
  REQUIRE(g);
  CHECK(g.data().data() == bytes);  // the same buffer (the pool has only one)
  frame_meta expected;
  expected.created = sim_time::from_s(2);
  CHECK(g.meta() == expected);
  CHECK(g.headroom() == frame_headroom);
  CHECK(g.size() == 100);
}

TEST_CASE("clone is a deep copy and unshare copies only when shared") {
  frame_pool pool;
  auto a = pool.allocate(200, sim_time::from_us(1));
  REQUIRE(a);
  fill(a.data(), 3);
  REQUIRE(a.pull_front(14));  // a different headroom, kept by the clone
  a.meta().flow_id = 5;
  a.meta().flow_seq = 6;
  a.meta().vlan_tci = 100;

  auto b = a.clone();
  REQUIRE(b);
  CHECK_FALSE(b.same_buffer(a));
  CHECK(b.data().data() != a.data().data());
  CHECK(b.size() == a.size());
  CHECK(b.headroom() == a.headroom());
  CHECK(std::memcmp(b.data().data(), a.data().data(), a.size()) == 0);
  CHECK(b.meta() == a.meta());
  b.data()[0] = std::byte{0xee};
  CHECK(a.data()[0] != std::byte{0xee});
  CHECK(pool.stats(frame_class::standard).in_use == 2);

  // unshare on a unique handle: no copy.
  const auto* pa = a.data().data();
  CHECK(a.unshare());
  CHECK(a.data().data() == pa);

  // unshare on a shared handle: a private copy; the other holder keeps the original.
  frame_ref other = a;
  CHECK_FALSE(a.push_front(4));  // refused while shared
  CHECK(a.unshare());
  CHECK(a.unique());
  CHECK(other.unique());
  CHECK(a.data().data() != pa);
  CHECK(other.data().data() == pa);
  CHECK(a.push_front(4));
  CHECK(other.size() == 186);
}

TEST_CASE("bad calls return false or empty and never crash") {
  frame_pool pool;
  auto f = pool.allocate(64, sim_time::zero());
  REQUIRE(f);
  CHECK_FALSE(f.pull_front(65));
  CHECK_FALSE(f.push_front(frame_headroom + 1));
  CHECK_FALSE(f.resize(standard_frame_capacity + 1));
  CHECK(f.size() == 64);
  CHECK(f.headroom() == frame_headroom);
  CHECK(pool.stats().refused_edits == 3);

  // Edits on a shared frame are refused: they would move it under the other holder.
  frame_ref g = f;
  CHECK_FALSE(g.push_front(4));
  CHECK_FALSE(g.pull_front(4));
  CHECK_FALSE(g.resize(10));
  CHECK(pool.stats().refused_edits == 6);
  CHECK(f.size() == 64);

  // Oversized requests.
  CHECK_FALSE(pool.allocate(tso_frame_capacity + 1, sim_time::zero()));
  CHECK_FALSE(pool.allocate(std::size_t{1} << 40, sim_time::zero()));
  CHECK(pool.stats().oversize == 2);
  CHECK(pool.stats(frame_class::tso).exhausted == 0);

  // A class outside the enum.
  const auto bogus = static_cast<frame_class>(7);
  CHECK_FALSE(pool.allocate(bogus, 0, sim_time::zero()));
  CHECK(pool.stats().oversize == 3);
  CHECK_FALSE(pool.reserve(bogus, 1));
  CHECK(pool.stats(bogus).allocated == 0);
  CHECK(frame_capacity(bogus) == 0);

  // An empty handle answers everything.
  frame_ref e;
  CHECK_FALSE(e);
  CHECK(e.empty());
  CHECK(e.size() == 0);
  CHECK(e.headroom() == 0);
  CHECK(e.capacity() == 0);
  CHECK(e.data().empty());
  CHECK(e.use_count() == 0);
  CHECK_FALSE(e.unique());
  CHECK_FALSE(e.push_front(1));
  CHECK_FALSE(e.pull_front(0));
  CHECK_FALSE(e.resize(0));
  CHECK_FALSE(e.clone());
  CHECK_FALSE(e.unshare());
  CHECK_FALSE(e.same_buffer(frame_ref{}));
  e.meta().flow_id = 12;  // goes nowhere
  CHECK(e.meta().flow_id == 0);
  e.reset();
  e.reset();

  // allocate_copy
  const std::array<std::byte, 3> src{std::byte{1}, std::byte{2}, std::byte{3}};
  auto c = pool.allocate_copy(src, sim_time::zero());
  REQUIRE(c);
  CHECK(c.size() == 3);
  CHECK(c.data()[2] == std::byte{3});
  CHECK(pool.allocate_copy({}, sim_time::zero()).size() == 0);
}

TEST_CASE("destroying the pool with frames outstanding keeps their buffers alive") {
  auto pool = std::make_unique<frame_pool>(small_config(4, 4, 8));
  auto a = pool->allocate(64, sim_time::zero());
  auto b = pool->allocate(3000, sim_time::zero());
  REQUIRE(a);
  REQUIRE(b);
  frame_ref a2 = a;
  pool.reset();
  // The frames still work, including clone from the orphaned class.
  fill(a.data(), 9);
  CHECK(a2.data()[1] == std::byte{10});
  auto a3 = a.clone();
  REQUIRE(a3);
  CHECK(a3.data()[1] == std::byte{10});
  a.reset();
  a2.reset();
  a3.reset();
  CHECK(b.push_front(4));
  b.reset();  // the last one frees the slabs (the sanitizer build checks for leaks)
  CHECK_FALSE(b);
}

TEST_CASE("destroying an idle pool frees everything at once") {
  auto pool = std::make_unique<frame_pool>();
  {
    auto a = pool->allocate(64, sim_time::zero());
    CHECK(pool->outstanding() == 1);
  }
  CHECK(pool->outstanding() == 0);
  pool.reset();
}
