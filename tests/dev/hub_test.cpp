#include "vnetsim/dev/hub.hpp"

#include <vector>

#include <doctest/doctest.h>

using namespace vnetsim;
using namespace vnetsim::literals;
using dev::link_side;

namespace {

/// A 4-port hub with a station on every port; stations record what they receive.
struct hub_bench {
  kernel::simulator sim;
  kernel::rng_streams streams{3};
  dev::frame_pool pool;
  dev::link_set links{sim, streams};
  dev::hub_set hubs{sim, links};
  kernel::event_kind to_hub = 0, to_station = 0;
  dev::hub_id hub = 0;
  std::vector<dev::link_id> cables;
  struct rx {
    sim_time at;
    std::uint32_t station;
    const std::byte* data;
  };
  std::vector<rx> received;

  hub_bench() {
    to_hub = sim.register_kind(
        "test/to-hub",
        [](void* ctx, kernel::simulator&, const kernel::event& ev) {
          auto& b = *static_cast<hub_bench*>(ctx);
          auto a = b.links.take_arrival(ev.target);
          if (a.frame) b.hubs.receive(a.device, a.port, std::move(a.frame));
        },
        this);
    to_station = sim.register_kind(
        "test/to-station",
        [](void* ctx, kernel::simulator& s, const kernel::event& ev) {
          auto& b = *static_cast<hub_bench*>(ctx);
          auto a = b.links.take_arrival(ev.target);
          if (a.frame) b.received.push_back({s.now(), a.device, a.frame.cdata().data()});
        },
        this);
    hub = hubs.add("lan1", 4, 1_us);
    for (std::uint32_t p = 0; p < 4; ++p) {
      const auto l = links.add(fmt::format("cable{}", p), {}, dev::endpoint{to_station, 0, p, 0},
                               hubs.endpoint_for(hub, p, to_hub));
      hubs.attach(hub, p, l, link_side::b);
      cables.push_back(l);
    }
  }
};

}  // namespace

TEST_CASE("a hub repeats a frame to every other port, sharing one buffer") {
  hub_bench b;
  auto f = b.pool.allocate(100, b.sim.now());
  const std::byte* bytes = f.data().data();
  b.links.send(b.cables[1], link_side::a, std::move(f));
  b.sim.run();
  REQUIRE(b.received.size() == 3);
  // Station -> hub (serialization + 500 ns), repeater latency 1 us, hub -> station again.
  const sim_time hop = dev::serialization_time(100, 1'000'000'000) + 500_ns;
  for (const auto& r : b.received) {
    CHECK(r.station != 1);
    CHECK(r.at == hop + 1_us + hop);
    CHECK(r.data == bytes);
  }
  CHECK(b.hubs.stats(b.hub).in_frames == 1);
  CHECK(b.hubs.stats(b.hub).out_frames == 3);
}

TEST_CASE("a hub port without carrier gets nothing, and that is counted") {
  hub_bench b;
  b.links.set_carrier(b.cables[3], false);
  b.links.send(b.cables[0], link_side::a, b.pool.allocate(60, b.sim.now()));
  b.sim.run();
  CHECK(b.received.size() == 2);
  CHECK(b.hubs.stats(b.hub).out_discards == 1);
}

TEST_CASE("hub configuration errors name the hub and the rule") {
  hub_bench b;
  CHECK_THROWS_WITH_AS(b.hubs.add("x", 1), "hub \"x\": needs at least 2 ports, not 1", dev::hub_error);
  CHECK_THROWS_WITH_AS(b.hubs.add("lan1", 2), "hub \"lan1\": the name is already used", dev::hub_error);
  CHECK_THROWS_WITH_AS(b.hubs.endpoint_for(b.hub, 9, b.to_hub), "hub \"lan1\": no port 9 (it has 4)",
                       dev::hub_error);
  CHECK_THROWS_WITH_AS(b.hubs.attach(b.hub, 0, b.cables[0], link_side::b),
                       "hub \"lan1\": port 0 is already attached", dev::hub_error);
}
