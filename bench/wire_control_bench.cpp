// Control-plane wire formats: parse and emit of the VLAN tag stack, ARP, STP/RSTP BPDUs,
// LACPDUs and team beacons, and in-place tag insert+strip. One iteration = one frame, so
// the reported time is ns per frame. Inputs pass through DoNotOptimize before each parse
// and emitted buffers after each emit, so neither can be hoisted out of the loop.
#include <benchmark/benchmark.h>

#include <array>
#include <cstddef>
#include <vector>

#include "vnetsim/wire/arp.hpp"
#include "vnetsim/wire/beacon.hpp"
#include "vnetsim/wire/bpdu.hpp"
#include "vnetsim/wire/ethernet.hpp"
#include "vnetsim/wire/lacp.hpp"
#include "vnetsim/wire/llc.hpp"
#include "vnetsim/wire/vlan.hpp"
// The captured frames (tagged_garp, config_frame, rst_bpdu) the wire tests read.
#include "../tests/wire/captures.hpp"

namespace {

using namespace vnetsim::wire;
using namespace vnetsim::wire::test;

lacp_repr sample_lacp() {
  lacp_repr r;
  r.actor = {32768, *mac_address::parse("00:1b:21:88:a5:c0"), 13, 32768, 1, lacp_state{0x3d}};
  r.partner = {32768, *mac_address::parse("00:1c:0e:87:85:00"), 33, 32768, 260,
               lacp_state{0x3d}};
  return r;
}

beacon_frame_repr sample_beacon() {
  beacon_frame_repr b;
  b.src = *mac_address::parse("00:50:56:aa:00:02");
  b.tag = vlan_repr{vlan_tpid_c, 0, false, 200};
  b.beacon = {0, 3, 1, 0x01020304, b.src};
  return b;
}

void BM_vlan_parse_tag_stack(benchmark::State& state) {
  const_bytes f{tagged_garp};
  for (auto _ : state) {
    benchmark::DoNotOptimize(f);
    auto s = parse_tag_stack(f);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_vlan_parse_tag_stack);

void BM_vlan_emit_tag(benchmark::State& state) {
  std::array<std::byte, 4> out{};
  vlan_repr tag{vlan_tpid_c, 5, false, 100};
  for (auto _ : state) {
    benchmark::DoNotOptimize(tag);
    tag.emit(vlan_tag{out});
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_vlan_emit_tag);

void BM_vlan_insert_strip_in_place(benchmark::State& state) {
  // vlan_headroom bytes, then an untagged 60-byte frame (the tagged one, stripped).
  std::vector<std::byte> buf(tagged_garp.begin(), tagged_garp.end());
  if (!strip_tag_in_place(buf)) state.SkipWithError("strip failed");
  const vlan_repr tag{vlan_tpid_c, 5, false, 100};
  for (auto _ : state) {
    auto tagged = emit_tag_in_place(buf, tag);  // whole buffer: 64-byte tagged frame
    benchmark::DoNotOptimize(tagged);
    auto untagged = strip_tag_in_place(*tagged);  // back to headroom + untagged frame
    benchmark::DoNotOptimize(untagged);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_vlan_insert_strip_in_place);

void BM_arp_parse(benchmark::State& state) {
  const_bytes p = const_bytes{tagged_garp}.subspan(18);
  for (auto _ : state) {
    benchmark::DoNotOptimize(p);
    auto r = arp_repr::parse(p);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_arp_parse);

void BM_arp_emit(benchmark::State& state) {
  std::array<std::byte, arp_packet_len> out{};
  auto r = arp_repr::reverse_request_for(*mac_address::parse("00:50:56:9a:12:34"));
  for (auto _ : state) {
    benchmark::DoNotOptimize(r);
    r.emit(arp_packet{out});
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_arp_emit);

/// Whole receive path of a Configuration BPDU: Ethernet, length field, LLC, BPDU.
void BM_bpdu_config_parse_frame(benchmark::State& state) {
  const_bytes f{config_frame};
  for (auto _ : state) {
    benchmark::DoNotOptimize(f);
    const ethernet_frame_const eth{f};
    auto data = length_framed_data(eth.type_or_len(), eth.payload());
    auto llc = llc_repr::parse(*data);
    benchmark::DoNotOptimize(llc);
    auto r = bpdu_repr::parse(data->subspan(llc_u_header_len));
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_bpdu_config_parse_frame);

void BM_bpdu_config_parse(benchmark::State& state) {
  const_bytes b = const_bytes{config_frame}.subspan(17, bpdu_config_len);
  for (auto _ : state) {
    benchmark::DoNotOptimize(b);
    auto r = bpdu_repr::parse(b);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_bpdu_config_parse);

void BM_bpdu_config_emit(benchmark::State& state) {
  std::array<std::byte, bpdu_config_len> out{};
  auto r = *bpdu_repr::parse(const_bytes{config_frame}.subspan(17, bpdu_config_len));
  for (auto _ : state) {
    benchmark::DoNotOptimize(r);
    r.emit(bpdu_packet{out});
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_bpdu_config_emit);

void BM_bpdu_rst_parse(benchmark::State& state) {
  const_bytes b{rst_bpdu};
  for (auto _ : state) {
    benchmark::DoNotOptimize(b);
    auto r = bpdu_repr::parse(b);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_bpdu_rst_parse);

void BM_bpdu_rst_emit(benchmark::State& state) {
  std::array<std::byte, bpdu_rst_len> out{};
  auto r = *bpdu_repr::parse(rst_bpdu);
  for (auto _ : state) {
    benchmark::DoNotOptimize(r);
    r.emit(bpdu_packet{out});
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_bpdu_rst_emit);

void BM_lacp_parse(benchmark::State& state) {
  std::array<std::byte, lacpdu_len> pdu{};
  sample_lacp().emit(lacp_packet{pdu});
  const_bytes p{pdu};
  for (auto _ : state) {
    benchmark::DoNotOptimize(p);
    auto r = lacp_repr::parse(p);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_lacp_parse);

void BM_lacp_emit(benchmark::State& state) {
  std::array<std::byte, lacpdu_len> out{};
  auto r = sample_lacp();
  for (auto _ : state) {
    benchmark::DoNotOptimize(r);
    r.emit(lacp_packet{out});
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_lacp_emit);

void BM_beacon_frame_parse(benchmark::State& state) {
  const auto b = sample_beacon();
  std::array<std::byte, 64> frame{};
  b.emit(frame);
  const_bytes f{frame};
  for (auto _ : state) {
    benchmark::DoNotOptimize(f);
    auto r = beacon_frame_repr::parse(f);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_beacon_frame_parse);

void BM_beacon_frame_emit(benchmark::State& state) {
  std::array<std::byte, 64> out{};
  auto b = sample_beacon();
  for (auto _ : state) {
    benchmark::DoNotOptimize(b);
    b.emit(out);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_beacon_frame_emit);

}  // namespace
