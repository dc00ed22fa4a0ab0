#include "vnetsim/dev/nic.hpp"

#include <cstring>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "vnetsim/wire/ethernet.hpp"
#include "vnetsim/wire/ipv4.hpp"
#include "vnetsim/wire/tcp.hpp"
#include "vnetsim/wire/udp.hpp"

using namespace vnetsim;
using namespace vnetsim::literals;
using dev::link_side;

namespace {

const auto mac_a = wire::mac_address::from_u64(0x005056000001);
const auto mac_b = wire::mac_address::from_u64(0x005056000002);
const wire::ipv4_address ip_a{10, 0, 0, 1};
const wire::ipv4_address ip_b{10, 0, 0, 2};

/// Two NICs joined by one 1 Gb/s link; frames that NIC b accepts are kept with their bytes.
struct pair_bench {
  kernel::simulator sim;
  kernel::rng_streams streams{1};
  dev::frame_pool pool;
  dev::link_set links{sim, streams};
  dev::nic_set nics{sim, pool, links};
  kernel::event_kind arrive = 0;
  kernel::event_kind owner = 0;
  dev::nic_id a = 0, b = 0;
  dev::link_id link = 0;
  struct rx {
    sim_time at;
    std::vector<std::byte> bytes;
    std::optional<std::uint16_t> tci;
  };
  std::vector<rx> received;
  std::vector<std::string> link_log;

  explicit pair_bench(dev::nic_config ca = {}, dev::nic_config cb = {}) {
    arrive = sim.register_kind(
        "test/nic-arrive",
        [](void* ctx, kernel::simulator& s, const kernel::event& ev) {
          auto& t = *static_cast<pair_bench*>(ctx);
          auto arr = t.links.take_arrival(ev.target);
          auto f = t.nics.receive(arr.device, std::move(arr.frame));
          if (f) {
            t.received.push_back({s.now(), {f.cdata().begin(), f.cdata().end()}, f.meta().vlan_tci});
          }
        },
        this);
    owner = sim.register_kind(
        "test/owner",
        [](void* ctx, kernel::simulator& s, const kernel::event& ev) {
          auto& t = *static_cast<pair_bench*>(ctx);
          t.link_log.push_back(fmt::format("{} nic{} {}", s.now(), ev.arg & 0xffffffffu,
                                           (ev.arg >> 32) ? "up" : "down"));
        },
        this);
    ca.mac = mac_a;
    cb.mac = mac_b;
    ca.owner_kind = cb.owner_kind = owner;
    a = nics.add("vmnic0", ca);
    b = nics.add("peer", cb);
    link = links.add("cable", {}, nics.endpoint_for(a, arrive), nics.endpoint_for(b, arrive));
    nics.attach(a, link, link_side::a);
    nics.attach(b, link, link_side::b);
  }

  /// An Ethernet + IPv4 + TCP frame (20-byte TCP header) with `payload_len` bytes of
  /// counting payload; checksums left zero (an offload request fills them).
  dev::frame_ref tcp_frame(std::size_t payload_len, std::uint8_t flags) {
    const std::size_t len = 14 + 20 + 20 + payload_len;
    auto f = pool.allocate(len, sim.now());
    REQUIRE(f);
    auto d = f.data();
    std::memset(d.data(), 0, len);
    wire::ethernet_repr{mac_b, mac_a, 0x0800}.emit(wire::ethernet_frame{d});
    const wire::ipv4_packet ip{d.subspan(14)};
    ip.set_version_ihl(4, 5);
    ip.set_total_len(static_cast<std::uint16_t>(40 + payload_len));
    ip.set_ident(0x1000);
    ip.set_flags_frag(true, false, 0);
    ip.set_ttl(64);
    ip.set_protocol(6);
    ip.set_src_addr(ip_a);
    ip.set_dst_addr(ip_b);
    const wire::tcp_packet tcp{d.subspan(34)};
    tcp.set_src_port(40000);
    tcp.set_dst_port(80);
    tcp.set_seq_number(1000);
    tcp.set_ack_number(5000);
    tcp.set_data_offset(5);
    tcp.set_flags(static_cast<wire::tcp_flags>(flags));
    tcp.set_window(65535);
    for (std::size_t i = 0; i < payload_len; ++i) d[54 + i] = static_cast<std::byte>(i & 0xff);
    return f;
  }
};

}  // namespace

TEST_CASE("a bond's capabilities are the intersection of its members'") {
  dev::nic_capabilities full;
  dev::nic_capabilities no_tso;
  no_tso.tso = false;
  no_tso.tso_max_frame = 32768;
  const auto both = full & no_tso;
  CHECK_FALSE(both.tso);
  CHECK(both.vlan_insert);
  CHECK(both.tx_checksum);
  CHECK(both.tso_max_frame == 32768);
  CHECK((full & full) == full);
}

TEST_CASE("TSO segments a super-frame into MSS-sized frames with correct headers and checksums") {
  // ACK|PSH|FIN on the super-frame: FIN and PSH must stay on the last segment only.
  auto run = [](bool hw_tso) {
    dev::nic_config ca;
    ca.caps.tso = hw_tso;
    pair_bench t(ca);
    auto f = t.tcp_frame(4000, 0x10 | 0x08 | 0x01);
    f.meta().tso_mss = 1448;
    f.meta().csum = dev::csum_offload::ipv4_header | dev::csum_offload::l4;
    CHECK(t.nics.transmit(t.a, std::move(f)) == dev::nic_tx_result::sent);
    t.sim.run();
    return std::pair{std::move(t.received), t.nics.work(t.a)};
  };
  const auto [hw_rx, hw_work] = run(true);
  REQUIRE(hw_rx.size() == 3);
  const std::size_t sizes[] = {1448, 1448, 1104};
  std::uint32_t seq = 1000;
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& bytes = hw_rx[i].bytes;
    REQUIRE(bytes.size() == 54 + sizes[i]);
    const wire::ipv4_packet_const ip{std::span<const std::byte>(bytes).subspan(14)};
    CHECK(ip.total_len() == 40 + sizes[i]);
    CHECK(ip.ident() == 0x1000 + i);
    CHECK(ip.verify_checksum());
    const wire::tcp_packet_const tcp{ip.payload()};
    CHECK(tcp.seq_number() == seq);
    CHECK(tcp.verify_checksum(ip_a, ip_b));
    CHECK(tcp.fin() == (i == 2));
    CHECK(tcp.psh() == (i == 2));
    CHECK(std::to_integer<int>(tcp.payload()[0]) == static_cast<int>((seq - 1000) & 0xff));
    seq += static_cast<std::uint32_t>(sizes[i]);
  }
  // Back to back on the wire: arrivals one serialization time apart.
  CHECK(hw_rx[1].at - hw_rx[0].at == dev::serialization_time(54 + 1448, 1'000'000'000));
  CHECK(hw_work.hw_ops[static_cast<std::size_t>(dev::nic_work::segmentation)] == 1);
  CHECK(hw_work.sw_ops[static_cast<std::size_t>(dev::nic_work::segmentation)] == 0);
  CHECK(hw_work.sw_cpu_ns == 0);

  SUBCASE("without TSO, software segments: the same bytes, and the cost is counted") {
    const auto [sw_rx, sw_work] = run(false);
    REQUIRE(sw_rx.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) CHECK(sw_rx[i].bytes == hw_rx[i].bytes);
    const auto seg = static_cast<std::size_t>(dev::nic_work::segmentation);
    CHECK(sw_work.sw_ops[seg] == 1);
    CHECK(sw_work.hw_ops[seg] == 0);
    // Default model: 500 ns + 300 ps per byte over 4000 payload + 3 x 54 header bytes.
    CHECK(sw_work.sw_bytes[seg] == 4000 + 3 * 54);
    CHECK(sw_work.sw_cpu_ns == 500 + (300ULL * (4000 + 3 * 54)) / 1000);
  }
}

TEST_CASE("checksum offload fills IPv4 and TCP/UDP checksums, in hardware or software") {
  for (const bool hw : {true, false}) {
    CAPTURE(hw);
    dev::nic_config ca;
    ca.caps.tx_checksum = hw;
    pair_bench t(ca);
    auto f = t.tcp_frame(100, 0x18);
    f.meta().csum = dev::csum_offload::ipv4_header | dev::csum_offload::l4;
    CHECK(t.nics.transmit(t.a, std::move(f)) == dev::nic_tx_result::sent);
    t.sim.run();
    REQUIRE(t.received.size() == 1);  // b verified both checksums on receive
    const wire::ipv4_packet_const ip{std::span<const std::byte>(t.received[0].bytes).subspan(14)};
    CHECK(ip.checksum() != 0);
    CHECK(ip.verify_checksum());
    const auto i = static_cast<std::size_t>(dev::nic_work::tx_checksum);
    CHECK(t.nics.work(t.a).hw_ops[i] == (hw ? 2 : 0));
    CHECK(t.nics.work(t.a).sw_ops[i] == (hw ? 0 : 2));
    CHECK(t.nics.work(t.b).hw_ops[static_cast<std::size_t>(dev::nic_work::rx_checksum)] == 1);
  }
}

TEST_CASE("a bad checksum is dropped on receive and counted as an input error") {
  pair_bench t;
  auto f = t.tcp_frame(100, 0x18);
  f.meta().csum = dev::csum_offload::ipv4_header;  // TCP checksum left zero: wrong
  t.nics.transmit(t.a, std::move(f));
  t.sim.run();
  CHECK(t.received.empty());
  CHECK(t.nics.stats(t.b).ifInErrors == 1);
}

TEST_CASE("VLAN tag insertion uses headroom and stripping hands the tag to the descriptor") {
  for (const bool hw : {true, false}) {
    CAPTURE(hw);
    dev::nic_config ca, cb;
    ca.caps.vlan_insert = hw;
    cb.caps.vlan_strip = hw;
    pair_bench t(ca, cb);
    auto f = t.tcp_frame(10, 0x10);
    f.meta().csum = dev::csum_offload::ipv4_header | dev::csum_offload::l4;
    f.meta().vlan_tci = 0x2064;  // PCP 1, VID 100
    t.nics.transmit(t.a, std::move(f));
    t.sim.run();
    REQUIRE(t.received.size() == 1);
    // b does not strip (rx_vlan_strip off): the tag is in the bytes, after the addresses.
    const auto& bytes = t.received[0].bytes;
    REQUIRE(bytes.size() == 4 + 54 + 10);
    CHECK(std::to_integer<int>(bytes[12]) == 0x81);
    CHECK(std::to_integer<int>(bytes[13]) == 0x00);
    CHECK(std::to_integer<int>(bytes[14]) == 0x20);
    CHECK(std::to_integer<int>(bytes[15]) == 0x64);
    CHECK(std::to_integer<int>(bytes[16]) == 0x08);  // then the IPv4 EtherType
    CHECK(wire::mac_address::read(bytes, 0) == mac_b);
    const auto i = static_cast<std::size_t>(dev::nic_work::vlan_insert);
    CHECK(t.nics.work(t.a).hw_ops[i] == (hw ? 1 : 0));
    CHECK(t.nics.work(t.a).sw_ops[i] == (hw ? 0 : 1));
  }
  SUBCASE("stripping on receive") {
    dev::nic_config cb;
    cb.rx_vlan_strip = true;
    pair_bench t({}, cb);
    auto f = t.tcp_frame(10, 0x10);
    f.meta().csum = dev::csum_offload::ipv4_header | dev::csum_offload::l4;
    f.meta().vlan_tci = 0x0064;
    t.nics.transmit(t.a, std::move(f));
    t.sim.run();
    REQUIRE(t.received.size() == 1);
    CHECK(t.received[0].tci == 0x0064);
    CHECK(t.received[0].bytes.size() == 54 + 10);
    CHECK(std::to_integer<int>(t.received[0].bytes[12]) == 0x08);
    CHECK(t.nics.work(t.b).hw_ops[static_cast<std::size_t>(dev::nic_work::vlan_strip)] == 1);
  }
}

TEST_CASE("inserting a tag into a shared frame edits the copy, never the other holders' frame") {
  dev::nic_config cb;
  cb.caps.rx_checksum = false;  // the frame carries no checksums: do not verify them
  cb.rx_vlan_strip = true;
  pair_bench t({}, cb);
  auto f = t.tcp_frame(10, 0x10);
  f.meta().vlan_tci = 0x0064;  // no checksum request: tag insertion is the first edit
  const dev::frame_ref other = f;  // a second holder, as a flood leaves one
  t.nics.transmit(t.a, dev::frame_ref(f));
  t.sim.run();
  CHECK(t.nics.stats(t.a).copies == 1);
  CHECK(t.links.stats(t.link, link_side::a).out_octets == 4 + 54 + 10);
  // The other holder's frame keeps its descriptor tag and its untagged bytes.
  CHECK(other.meta().vlan_tci == 0x0064);
  CHECK(other.size() == 54 + 10);
  CHECK(std::to_integer<int>(other.cdata()[12]) == 0x08);
}

TEST_CASE("the address filter drops other unicast unless promiscuous") {
  for (const bool promisc : {false, true}) {
    CAPTURE(promisc);
    dev::nic_config cb;
    cb.promiscuous = promisc;
    pair_bench t({}, cb);
    auto f = t.pool.allocate(60, t.sim.now());
    std::memset(f.data().data(), 0, 60);
    wire::ethernet_repr{wire::mac_address::from_u64(0x005056000099), mac_a, 0x88b5}.emit(
        wire::ethernet_frame{f.data()});
    t.nics.transmit(t.a, std::move(f));
    t.sim.run();
    CHECK(t.received.size() == (promisc ? 1u : 0u));
    CHECK(t.nics.stats(t.b).ifInDiscards == (promisc ? 0u : 1u));
  }
}

TEST_CASE("link state follows the carrier after the detection delays, and a short flap is not seen") {
  dev::nic_config ca;
  ca.detect_down = 10_ms;
  ca.detect_up = 2_s;
  pair_bench t(ca);
  CHECK(t.nics.link_up(t.a));
  t.sim.schedule_at(1_s, [&](kernel::simulator&) { t.links.set_carrier(t.link, false); });
  t.sim.schedule_at(1005_ms, [&](kernel::simulator&) {
    // Carrier already gone, link not yet detected down: transmit still tries, the link refuses.
    CHECK(t.nics.link_up(t.a));
    CHECK(t.nics.transmit(t.a, t.tcp_frame(10, 0x10)) == dev::nic_tx_result::link_down);
  });
  t.sim.schedule_at(3_s, [&](kernel::simulator&) { t.links.set_carrier(t.link, true); });
  t.sim.schedule_at(10_s, [&](kernel::simulator&) { t.links.set_carrier(t.link, false); });
  t.sim.schedule_at(10_s + 5_ms, [&](kernel::simulator&) { t.links.set_carrier(t.link, true); });
  t.sim.run();
  // b has no delays: it follows the carrier at once.
  CHECK(t.link_log == std::vector<std::string>{"1s nic1 down", "1.01s nic0 down", "3s nic1 up",
                                               "5s nic0 up", "10s nic1 down", "10.005s nic1 up"});
  // nic0 never saw the 5 ms flap: its pending down detection was cancelled by the restore.
  CHECK(t.nics.stats(t.a).ifOutDiscards == 1);
}

TEST_CASE("transmit refuses what it cannot send, with a reason and a counter") {
  pair_bench t;
  auto tiny = t.pool.allocate(10, t.sim.now());
  CHECK(t.nics.transmit(t.a, std::move(tiny)) == dev::nic_tx_result::malformed);
  auto not_ip = t.pool.allocate(2000, t.sim.now());
  std::memset(not_ip.data().data(), 0, 2000);
  not_ip.meta().tso_mss = 1000;
  CHECK(t.nics.transmit(t.a, std::move(not_ip)) == dev::nic_tx_result::malformed);
  CHECK(t.nics.stats(t.a).ifOutErrors == 2);
  t.links.set_carrier(t.link, false);
  t.sim.run();
  CHECK(t.nics.transmit(t.a, t.tcp_frame(10, 0x10)) == dev::nic_tx_result::link_down);
}

TEST_CASE("NIC configuration errors name the NIC and the rule") {
  kernel::simulator sim;
  kernel::rng_streams streams(1);
  dev::frame_pool pool;
  dev::link_set links(sim, streams);
  dev::nic_set nics(sim, pool, links);
  dev::nic_config zero;
  zero.speed_bps = 0;
  CHECK_THROWS_WITH_AS(nics.add("n0", zero), "nic \"n0\": speed must be above 0 bit/s", dev::nic_error);
  dev::nic_config ring;
  ring.rx_ring = 0;
  CHECK_THROWS_WITH_AS(nics.add("n1", ring), "nic \"n1\": rx and tx rings need at least one descriptor",
                       dev::nic_error);
  const auto id = nics.add("vmnic0", {});
  CHECK_THROWS_WITH_AS(nics.add("vmnic0", {}), "nic \"vmnic0\": the name is already used", dev::nic_error);
  const auto l = links.add("c", {}, nics.endpoint_for(id, 1), nics.endpoint_for(id, 1));
  nics.attach(id, l, link_side::a);
  CHECK_THROWS_WITH_AS(nics.attach(id, l, link_side::b), "nic \"vmnic0\": already attached to a link",
                       dev::nic_error);
  CHECK_THROWS_AS(nics.link_up(7), dev::nic_error);
}

TEST_CASE("a plain frame goes to the link as it is, counted by destination kind") {
  pair_bench t;
  const auto send = [&](wire::mac_address dst, std::size_t len) {
    auto f = t.pool.allocate(len, t.sim.now());
    REQUIRE(f);
    std::memset(f.data().data(), 0x5a, len);
    dst.write(f.data(), 0);
    mac_a.write(f.data(), 6);
    return t.nics.transmit(t.a, std::move(f));
  };
  CHECK(send(mac_b, 14) == dev::nic_tx_result::sent);  // a bare header is a whole frame
  CHECK(send(wire::mac_address::from_u64(0x0100'5e00'0001ULL), 60) == dev::nic_tx_result::sent);
  CHECK(send(wire::mac_address::broadcast(), 64) == dev::nic_tx_result::sent);
  t.sim.run();
  const auto& s = t.nics.stats(t.a);
  CHECK(s.ifOutUcastPkts == 1);
  CHECK(s.ifOutMulticastPkts == 1);
  CHECK(s.ifOutBroadcastPkts == 1);
  CHECK(s.ifOutOctets == 14 + 60 + 64);
  CHECK(s.ifOutDiscards == 0);
  CHECK(s.copies == 0);
  REQUIRE(t.received.size() == 3);
  CHECK(t.received[0].bytes.size() == 14);
  CHECK(std::to_integer<int>(t.received[0].bytes[13]) == 0x5a);
  // 14 bytes pad to 64 on the wire: 84 byte times at 1 Gb/s = 672 ns, + the 500 ns delay.
  CHECK(t.received[0].at == sim_time::from_ns(672 + 500));
  CHECK(t.pool.outstanding() == 0);
}

TEST_CASE("transmit consumes the frame whatever the result") {
  pair_bench t;
  auto runt = t.pool.allocate(13, t.sim.now());
  CHECK(t.nics.transmit(t.a, std::move(runt)) == dev::nic_tx_result::malformed);
  CHECK_FALSE(runt);
  auto ok = t.tcp_frame(10, 0x10);
  CHECK(t.nics.transmit(t.a, std::move(ok)) == dev::nic_tx_result::sent);
  CHECK_FALSE(ok);
  t.links.set_carrier(t.link, false);
  t.sim.run();
  auto down = t.tcp_frame(10, 0x10);
  CHECK(t.nics.transmit(t.a, std::move(down)) == dev::nic_tx_result::link_down);
  CHECK_FALSE(down);
  CHECK(t.pool.outstanding() == 0);
  CHECK(t.nics.stats(t.a).ifOutErrors == 1);
  CHECK(t.nics.stats(t.a).ifOutDiscards == 1);
}

TEST_CASE("a NIC whose carrier comes up before it is attached still refuses as not attached") {
  kernel::simulator sim;
  kernel::rng_streams streams(1);
  dev::frame_pool pool;
  dev::link_set links(sim, streams);
  dev::nic_set nics(sim, pool, links);
  const auto arrive = sim.register_kind("test/drop", [](void*, kernel::simulator&, const kernel::event&) {}, nullptr);
  const auto n = nics.add("vmnic0", {});
  const auto peer = nics.add("peer", {});
  const auto l = links.add("cable", {}, nics.endpoint_for(n, arrive), nics.endpoint_for(peer, arrive));
  nics.attach(peer, l, link_side::b);
  links.set_carrier(l, false);
  sim.run();
  links.set_carrier(l, true);  // the carrier events reach vmnic0: it sees the link up
  sim.run();
  CHECK(nics.link_up(n));
  auto f = pool.allocate(60, sim.now());
  std::memset(f.data().data(), 0, 60);
  CHECK(nics.transmit(n, std::move(f)) == dev::nic_tx_result::not_attached);
  CHECK(nics.stats(n).ifOutDiscards == 1);
  nics.attach(n, l, link_side::a);
  auto g = pool.allocate(60, sim.now());
  std::memset(g.data().data(), 0, 60);
  CHECK(nics.transmit(n, std::move(g)) == dev::nic_tx_result::sent);
  CHECK(nics.stats(n).ifOutUcastPkts == 1);
}
