// TCP from a VM through an ESX host's bond (host_world.hpp): the VM's endpoint gets the
// capabilities its vNIC offers (host_set::vnic_capabilities, the intersection over the bond's
// members [AG2]), so TSO and checksum offload follow the bond; a member joining or leaving
// changes them during a transfer; the per-segment path allocates nothing.
#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "../kernel/alloc_counter.hpp"
#include "vnetsim/report/pcap_writer.hpp"
#include "../report/tshark.hpp"
#include "host_world.hpp"
#include "vnetsim/traffic/tcp_set.hpp"

using namespace vnetsim;
using namespace vnetsim::literals;

namespace {

constexpr auto seg = static_cast<std::size_t>(dev::nic_work::segmentation);
constexpr auto tx_csum = static_cast<std::size_t>(dev::nic_work::tx_checksum);

dev::nic_capabilities without_tso() {
  dev::nic_capabilities c;
  c.tso = false;
  return c;
}

tcp::bulk_session_config bulk(std::uint64_t bytes, tcp::tso_mode mode) {
  tcp::bulk_session_config b;
  b.name = "bulk";
  b.client = 1;  // the VM
  b.server = 0;  // the peer
  b.tso = mode;
  b.app.bytes = bytes;
  b.client_tcp.recv_buffer = b.server_tcp.recv_buffer = 1024 * 1024;
  b.client_tcp.send_buffer = 4 * 1024 * 1024;
  return b;
}

std::uint64_t member_work(const test::host_world& w, std::size_t kind, bool hardware) {
  std::uint64_t n = 0;
  for (const auto nic : w.vmnic) n += hardware ? w.nics.work(nic).hw_ops[kind] : w.nics.work(nic).sw_ops[kind];
  return n;
}

/// What tshark's own TCP analysis finds in a capture.
struct tshark_analysis {
  std::size_t frames = 0, bad = 0, retransmissions = 0, dup_acks = 0, window_full = 0;
};

tshark_analysis run_tshark(const std::filesystem::path& file) {
  constexpr std::array fields = {
      "frame.number", "_ws.malformed", "ip.checksum.status", "tcp.checksum.status", "tcp.analysis.retransmission",
      "tcp.analysis.fast_retransmission", "tcp.analysis.duplicate_ack", "tcp.analysis.window_full",
      "frame.protocols", "tcp.analysis.out_of_order", "tcp.analysis.spurious_retransmission"};
  tshark_analysis a;
  for (const auto& line : test::tshark_lines(file, test::tcp_analysis_prefs, "", fields)) {
    const auto f = test::split(line, '\t', fields.size());
    ++a.frames;
    const bool is_tcp = f[8].find(":tcp") != std::string::npos;
    if (!f[1].empty() || (is_tcp && (f[2] != "1" || f[3] != "1"))) ++a.bad;
    // Seen at the sender, a segment tshark calls out-of-order can only be a resend (it
    // says so when a resend follows its original within an RTT).
    if (!f[4].empty() || !f[5].empty() || !f[9].empty() || !f[10].empty()) ++a.retransmissions;
    if (!f[6].empty()) ++a.dup_acks;
    if (!f[7].empty()) ++a.window_full;
  }
  return a;
}

}  // namespace

TEST_CASE("tcp through a bond: a failover mid-transfer, tshark's TCP analysis agrees with our counters") {
  // Captured inside the guest (host_world::vm_tap): every segment the VM sends, every one it
  // receives. 1 Gb/s, 250 us per link (RTT about 1 ms), a 57 KiB receive window so the
  // sender fills it (window full); 2 % loss towards the peer for 100 ms (duplicate ACKs,
  // fast retransmits); the VM's member loses its cable at 300 ms (10 ms to detect, then
  // failover: an RTO), and gets it back at 700 ms (failback). Checksums in software in
  // the VM (what a capture in a guest with offload would show as bad is not the point).
  test::host_world_config hc;
  hc.speed_bps = 1'000'000'000;
  hc.delay = 250_us;
  hc.members = {without_tso(), without_tso()};
  hc.vm_checksum_offload = false;
  hc.detect_down = 10_ms;
  test::host_world w(hc);
  const auto file = std::filesystem::path(VNETSIM_TEST_TMPDIR) / "tcp_bond_failover.pcap";
  std::optional<report::pcap_writer> pcap(std::in_place, file);
  std::size_t captured = 0;
  w.vm_tap = [&](bool, sim_time at, const dev::frame_ref& f) {
    pcap->write(at, f);
    ++captured;
  };
  tcp::tcp_set tcps(w.sim, w.eps, w.streams);
  auto b = bulk(40'000'000, tcp::tso_mode::automatic);
  b.client_tcp.min_rto = tcp::linux_min_rto;
  b.server_tcp.recv_buffer = 40 * 1460;  // whole segments, so the sender reaches its edge
  const auto s = tcps.add_tcp_bulk(b);
  w.sim.schedule_at(100_ms, [&](kernel::simulator&) { w.links.set_loss(w.peer_link, dev::link_side::b, 0.02); });
  w.sim.schedule_at(200_ms, [&](kernel::simulator&) { w.links.set_loss(w.peer_link, dev::link_side::b, 0); });
  std::optional<std::size_t> pulled;
  w.sim.schedule_at(300_ms, [&](kernel::simulator&) {
    for (std::size_t m = 0; m < w.vmnic.size(); ++m) {
      if (w.nics.stats(w.vmnic[m]).ifOutUcastPkts > 0) pulled = m;
    }
    REQUIRE(pulled);
    w.links.set_carrier(w.uplink[*pulled], false);
  });
  w.sim.schedule_at(700_ms, [&](kernel::simulator&) { w.links.set_carrier(w.uplink[*pulled], true); });
  w.sim.run_until(10_s);
  pcap->close();

  const auto r = tcps.report(s);
  CHECK(r.app.complete);
  CHECK(r.app.bytes_delivered == 40'000'000);
  CHECK(r.server.bad_payload == 0);
  CHECK(w.bond().failovers >= 1);
  CHECK(w.bond().failbacks >= 1);
  CHECK(r.client.rto_events >= 1);
  CHECK(r.client.retrans_fast >= 1);
  CHECK(r.client.dup_acks_in > 0);
  CHECK(r.client.window_full > 0);
  const auto t = run_tshark(file);
  CHECK(t.frames == captured);
  CHECK(t.bad == 0);
  CHECK(t.retransmissions == r.client.tcpRetransSegs + r.server.tcpRetransSegs);
  CHECK(t.dup_acks == r.client.dup_acks_in + r.server.dup_acks_in);
  CHECK(t.window_full == r.client.window_full + r.server.window_full);
  MESSAGE("failover at 300 ms, failback at 700 ms: stall ", r.app.longest_stall.to_string(), "; ",
          t.frames, " frames; retransmissions ", r.client.tcpRetransSegs, " (tshark ", t.retransmissions,
          "), duplicate ACKs ", r.client.dup_acks_in, " (tshark ", t.dup_acks, "), window full ",
          r.client.window_full, " (tshark ", t.window_full, "), RTO events ", r.client.rto_events,
          ", fast recoveries ", r.client.fast_recoveries);
}

TEST_CASE("tcp through a bond: TSO and checksum offload follow the members' capabilities") {
  struct row {
    std::string name;
    std::vector<dev::nic_capabilities> members;
    tcp::tso_mode mode;
  };
  const std::vector<row> rows{
      {"both members with TSO", {dev::nic_capabilities{}, dev::nic_capabilities{}}, tcp::tso_mode::automatic},
      {"one member without TSO", {dev::nic_capabilities{}, without_tso()}, tcp::tso_mode::automatic},
      {"one member without TSO, TSO forced on", {dev::nic_capabilities{}, without_tso()}, tcp::tso_mode::on},
  };
  for (const row& r : rows) {
    CAPTURE(r.name);
    test::host_world_config c;
    c.members = r.members;
    test::host_world w(c);
    tcp::tcp_set tcps(w.sim, w.eps, w.streams);
    const auto s = tcps.add_tcp_bulk(bulk(20'000'000, r.mode));
    w.sim.run_until(2_s);
    const auto rep = tcps.report(s);
    CHECK(rep.app.complete);
    CHECK(rep.app.bytes_delivered == 20'000'000);
    CHECK(rep.server.bad_payload == 0);
    CHECK(rep.client.tcpRetransSegs == 0);
    CHECK(tcps.counters().bad_segments == 0);
    CHECK(w.nics.stats(w.peer_nic).ifInErrors == 0);  // every segment's checksums good
    const auto& caps = w.hosts.vnic_capabilities(w.vnic);
    CHECK(w.eps.nic_caps(w.vm_ep) == &caps);
    const bool bond_tso = r.members[1].tso;
    CHECK(caps.tso == bond_tso);
    CHECK(caps.tx_checksum);
    CHECK(w.eps.offloads_checksum(w.vm_ep));  // both members fill checksums
    const auto& work = w.bond().work;
    const std::uint64_t supers = rep.client.tso_super_segments;
    if (bond_tso) {
      // Super-segments to the NIC, which segments them in hardware.
      CHECK(tcps.client(s).settings().tso);
      CHECK(supers > 0);
      CHECK(member_work(w, seg, true) == supers);
      CHECK(work.sw_ops[seg] == 0);
      CHECK(work.sw_cpu_ns == 0);
    } else if (r.mode == tcp::tso_mode::automatic) {
      // The bond has no TSO: the VM's stack cuts MSS segments itself; nobody segments.
      CHECK_FALSE(tcps.client(s).settings().tso);
      CHECK(supers == 0);
      CHECK(member_work(w, seg, true) + member_work(w, seg, false) + work.sw_ops[seg] == 0);
      CHECK(work.sw_cpu_ns == 0);
    } else {
      // TSO forced on a bond without it: the host segments in software and charges it.
      CHECK(supers > 0);
      CHECK(work.sw_ops[seg] == supers);
      CHECK(member_work(w, seg, true) == 0);
      CHECK(work.sw_ops[tx_csum] > supers);  // each segment's checksums, in software
      CHECK(work.sw_cpu_ns > 0);
    }
    // Every segment of the VM's data leaves as one frame on a member.
    std::uint64_t frames_out = 0;
    for (const auto nic : w.vmnic) frames_out += w.nics.stats(nic).ifOutUcastPkts;
    CHECK(frames_out == rep.client.tcpOutSegs);
    CHECK(w.eps.counters(w.vm_ep).sw_checksums == 0);
    MESSAGE(r.name, ": ", rep.client.tcpOutSegs, " segments, ", supers, " super-segments, host software ",
            work.sw_ops[seg], " segmentations, ", work.sw_cpu_ns, " ns CPU; done at ",
            rep.app.completed_at->to_string());
  }
}

TEST_CASE("tcp through a bond: a member without checksum offload makes the VM checksum in software") {
  dev::nic_capabilities no_csum;
  no_csum.tx_checksum = false;
  test::host_world_config c;
  c.members = {dev::nic_capabilities{}, no_csum};
  test::host_world w(c);
  tcp::tcp_set tcps(w.sim, w.eps, w.streams);
  const auto s = tcps.add_tcp_bulk(bulk(2'000'000, tcp::tso_mode::automatic));
  w.sim.run_until(1_s);
  const auto rep = tcps.report(s);
  CHECK(rep.app.bytes_delivered == 2'000'000);
  CHECK_FALSE(w.hosts.vnic_capabilities(w.vnic).tx_checksum);
  CHECK_FALSE(w.eps.offloads_checksum(w.vm_ep));
  // The VM fills the IPv4 and TCP checksums of every segment it sends (ARP needs none).
  CHECK(w.eps.counters(w.vm_ep).sw_checksums == 2 * w.eps.counters(w.vm_ep).ipOutRequests);
  CHECK(member_work(w, tx_csum, true) == 0);
  CHECK(w.bond().work.sw_ops[tx_csum] == 0);  // nothing left for the host to fill
  CHECK(w.nics.stats(w.peer_nic).ifInErrors == 0);
}

TEST_CASE("tcp through a bond: capabilities follow a member leaving and joining mid-transfer") {
  test::host_world_config c;
  c.members = {dev::nic_capabilities{}, without_tso()};
  test::host_world w(c);
  const dev::nic_capabilities& caps = w.hosts.vnic_capabilities(w.vnic);
  CHECK_FALSE(caps.tso);
  tcp::tcp_set tcps(w.sim, w.eps, w.streams);
  auto b = bulk(0, tcp::tso_mode::automatic);
  // The peer's ACKs go to the member that left until the switch relearns the VM's MAC from
  // a retransmission: a short minimum RTO keeps the stall short.
  b.client_tcp.min_rto = tcp::linux_min_rto;
  const auto s = tcps.add_tcp_bulk(b);
  std::uint64_t supers_before = 0, supers_mid = 0;
  // [AG2]: no binding change while a VM uses the switch, so power it off for the change.
  const auto rebind = [&](bool add) {
    w.hosts.set_vm_running(w.vm, false);
    if (add) {
      w.hosts.bond_add_member(w.esx, 1, 1);
    } else {
      w.hosts.bond_remove_member(w.esx, 1, 1);
    }
    w.hosts.set_vm_running(w.vm, true);
  };
  w.sim.schedule_at(300_ms, [&](kernel::simulator&) {
    supers_before = tcps.client(s).counters().tso_super_segments;
    rebind(false);
  });
  w.sim.schedule_at(1000_ms, [&](kernel::simulator&) {
    CHECK(caps.tso);
    CHECK(w.eps.nic_caps(w.vm_ep)->tso);
    CHECK(tcps.client(s).settings().tso);
    supers_mid = tcps.client(s).counters().tso_super_segments;
    rebind(true);
  });
  w.sim.schedule_at(1500_ms, [&](kernel::simulator&) { tcps.stop(s); });
  w.sim.run_until(3_s);
  const auto rep = tcps.report(s);
  CHECK_FALSE(caps.tso);
  CHECK_FALSE(tcps.client(s).settings().tso);
  CHECK(supers_before == 0);
  CHECK(supers_mid > 0);
  CHECK(rep.client.tso_super_segments == supers_mid);  // none after the member came back
  CHECK(rep.server.bad_payload == 0);
  CHECK(w.bond().work.sw_ops[seg] == 0);  // the stack always matched the bond
  std::size_t changes = 0;
  for (const auto& line : tcps.log()) changes += line.find("path capabilities changed") != std::string::npos;
  CHECK(changes == 2);
  MESSAGE("member left at 300 ms, back at 1 s: ", rep.app.bytes_delivered, " bytes, ", supers_mid,
          " super-segments while the bond had TSO");
}

TEST_CASE("tcp through a bond: the per-segment path allocates nothing") {
  for (const bool tso : {true, false}) {
    CAPTURE(tso);
    test::host_world_config c;
    c.members = {dev::nic_capabilities{}, tso ? dev::nic_capabilities{} : without_tso()};
    test::host_world w(c);
    tcp::tcp_set tcps(w.sim, w.eps, w.streams);
    const auto s = tcps.add_tcp_bulk(bulk(0, tcp::tso_mode::on));  // off-TSO: host segments
    w.sim.run_until(200_ms);  // warm-up: queues, rings and pools at their working size
    const std::uint64_t bytes = tcps.client(s).counters().bytes_acked;
    const std::size_t before = vnetsim::test::allocation_count();
    w.sim.run_until(400_ms);
    CHECK(vnetsim::test::allocation_count() == before);
    CHECK(tcps.client(s).counters().bytes_acked - bytes > 100'000'000);
  }
}
