// Host per-frame path (issue 5): host_set::vnic_transmit from a VM's vNIC through the
// virtual switch (local MAC table miss), the bond's member choice (8-member out-mac bond,
// 256 buckets) and nic_set::transmit into the member's link queue. One iteration = one
// frame, so "Time" is ns per frame. 64 VMs take turns (different source MACs, so every
// member is used); each sends a new reference to its own prebuilt 64-byte frame (no
// payload copy, as a guest handing the host a buffer). The simulator is run dry every 2048
// frames (256 per member) so the 10 GbE queues never fill: `_tx_only` pauses timing around that drain;
// `_tx_arrival` keeps it timed (the link arrival event and the far end's take_arrival).
// `_nic_unattached` measures the host's share alone (the NIC refuses at its first check).
// Target: <= 50 ns per frame (14.88 Mframe/s of 64-byte frames on 10 GbE).
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "vnetsim/host/host.hpp"

using namespace vnetsim;

namespace {

constexpr unsigned members = 8;
constexpr unsigned vms = 64;

struct host_world {
  kernel::simulator sim;
  kernel::rng_streams streams{1};
  dev::frame_pool pool;
  dev::link_set links{sim, streams};
  dev::nic_set nics{sim, pool, links};
  host::host_set hs{sim, pool, links, nics, streams};
  kernel::event_kind sink_kind = 0;
  std::uint64_t delivered = 0;
  std::vector<host::vnic_id> vnics;
  std::vector<dev::frame_ref> frames;

  explicit host_world(bool attach = true) {
    sink_kind = sim.register_kind(
        "bench/sink",
        [](void* ctx, kernel::simulator&, const kernel::event& ev) {
          auto& w = *static_cast<host_world*>(ctx);
          if (w.links.take_arrival(ev.target).frame) ++w.delivered;
        },
        this);
    const auto h = hs.add_host("esx1");
    std::vector<unsigned> m;
    dev::link_config lc;
    lc.bandwidth_bps = 10'000'000'000;
    for (unsigned i = 0; i < members; ++i) {
      dev::nic_config c;
      c.mac = wire::mac_address::from_u64(0x0200'0000'0000ULL + i);
      c.speed_bps = lc.bandwidth_bps;
      const auto nic = hs.add_vmnic(h, c);
      const auto l = links.add(fmt::format("l{}", i), lc, hs.uplink_endpoint(nic), {sink_kind, 0, i, 0});
      if (attach) nics.attach(nic, l, dev::link_side::a);
      m.push_back(i);
    }
    hs.add_bond(h, 1, m);
    hs.add_vswitch(h, "net", host::bond_binding{1}, 64);
    for (unsigned i = 0; i < vms; ++i) {
      const auto vm = hs.add_vm(h, fmt::format("vm{}", i));
      host::vnic_config c;
      c.mac = wire::mac_address::from_u64(0x0050'5600'0000ULL + i + 1);
      c.network = "net";
      vnics.push_back(hs.add_vnic(vm, c));
      auto f = pool.allocate(60, sim.now());
      std::memset(f.data().data(), 0, 60);
      wire::mac_address::from_u64(0x0200'00ff'0001ULL).write(f.data(), 0);  // a host outside
      c.mac->write(f.data(), 6);
      f.data()[12] = std::byte{0x08};
      frames.push_back(std::move(f));
    }
    sim.reserve(1 << 12);
    if (attach) sim.run();  // starts the bond (unstarted, it takes every member as up)
  }
};

void host_transmit(benchmark::State& state, bool pause_drain) {
  host_world w;
  std::uint64_t frames = 0, sent = 0;
  unsigned k = 0, v = 0;
  constexpr unsigned batch = 2048;  // 256 per member: below the 1000-frame queue
  for (auto _ : state) {
    sent += w.hs.vnic_transmit(w.vnics[v], w.frames[v]) == host::tx_result::sent;
    if (++v == vms) v = 0;
    ++frames;
    if (++k == batch) {
      k = 0;
      if (pause_drain) state.PauseTiming();
      w.sim.run();
      if (pause_drain) state.ResumeTiming();
    }
  }
  w.sim.run();
  state.SetItemsProcessed(static_cast<std::int64_t>(frames));
  state.counters["ns/frame"] = benchmark::Counter(static_cast<double>(frames),
                                                  benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  if (sent != frames || w.delivered != frames) state.SkipWithError("frames lost");
}

void bm_host_vnic_to_nic_queue_tx_only(benchmark::State& state) { host_transmit(state, true); }
BENCHMARK(bm_host_vnic_to_nic_queue_tx_only);

void bm_host_vnic_to_nic_queue_tx_arrival(benchmark::State& state) { host_transmit(state, false); }
BENCHMARK(bm_host_vnic_to_nic_queue_tx_arrival);

/// The host's share alone: the same path with the member NICs not attached to a link, so
/// nic_set::transmit returns at its first check (the frame is counted as dropped_nic).
void bm_host_vnic_path_nic_unattached(benchmark::State& state) {
  host_world w(false);
  std::uint64_t frames = 0, refused = 0;
  unsigned v = 0;
  for (auto _ : state) {
    refused += w.hs.vnic_transmit(w.vnics[v], w.frames[v]) == host::tx_result::dropped_nic;
    if (++v == vms) v = 0;
    ++frames;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(frames));
  state.counters["ns/frame"] = benchmark::Counter(static_cast<double>(frames),
                                                  benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  if (refused != frames) state.SkipWithError("unexpected result");
}
BENCHMARK(bm_host_vnic_path_nic_unattached);

}  // namespace
