#include "vnetsim/report/pcap_writer.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "vnetsim/wire/arp.hpp"
#include "vnetsim/wire/beacon.hpp"
#include "vnetsim/wire/bpdu.hpp"
#include "vnetsim/wire/ethernet.hpp"
#include "vnetsim/wire/icmp.hpp"
#include "vnetsim/wire/ipv4.hpp"
#include "vnetsim/wire/lacp.hpp"
#include "vnetsim/wire/llc.hpp"
#include "vnetsim/wire/tcp.hpp"
#include "vnetsim/wire/udp.hpp"
#include "vnetsim/wire/vlan.hpp"
#include "tshark.hpp"

using namespace vnetsim;
using namespace vnetsim::report;
using vnetsim::test::split;

namespace {

std::vector<std::byte> bytes_of(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int x : v) out.push_back(static_cast<std::byte>(x));
  return out;
}

std::vector<std::byte> read_file(const std::filesystem::path& p) {
  std::vector<std::byte> out;
  std::FILE* f = std::fopen(p.c_str(), "rb");
  REQUIRE(f != nullptr);
  int c = 0;
  while ((c = std::fgetc(f)) != EOF) out.push_back(static_cast<std::byte>(c));
  std::fclose(f);
  return out;
}

void put_le32(std::vector<std::byte>& b, std::size_t off, std::uint32_t v) {
  for (std::size_t i = 0; i < 4; ++i) b.at(off + i) = static_cast<std::byte>((v >> (8 * i)) & 0xff);
}

std::filesystem::path tmp_path(const std::string& name) {
  return std::filesystem::path(VNETSIM_TEST_TMPDIR) / name;
}

std::vector<std::byte> frame_of(std::size_t n, std::uint8_t seed) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>(seed + i);
  return v;
}

}  // namespace

TEST_CASE("file header: nanosecond magic and version 2.4 and zone 0 and sigfigs 0 and snaplen and Ethernet") {
  const auto h = pcap_file_header();
  const auto expected = bytes_of({
      0x4d, 0x3c, 0xb2, 0xa1,  // magic 0xa1b23c4d, little-endian
      0x02, 0x00, 0x04, 0x00,  // version 2.4
      0x00, 0x00, 0x00, 0x00,  // thiszone
      0x00, 0x00, 0x00, 0x00,  // sigfigs
      0x00, 0x00, 0x04, 0x00,  // snaplen 262144 = 0x00040000
      0x01, 0x00, 0x00, 0x00,  // LINKTYPE_ETHERNET
  });
  CHECK(std::vector<std::byte>(h.begin(), h.end()) == expected);

  const auto h2 = pcap_file_header(0x01020304, 0x0a0b0c0d);
  CHECK(std::vector<std::byte>(h2.begin() + 16, h2.end()) ==
        bytes_of({0x04, 0x03, 0x02, 0x01, 0x0d, 0x0c, 0x0b, 0x0a}));
}

TEST_CASE("record header: seconds then nanoseconds then incl_len then orig_len") {
  const auto h = pcap_record_header(sim_time::from_s(0x01020304) + sim_time::from_ns(999'999'999),
                                    0x05dc, 0x0600);
  CHECK(std::vector<std::byte>(h.begin(), h.end()) ==
        bytes_of({0x04, 0x03, 0x02, 0x01,     // ts_sec
                  0xff, 0xc9, 0x9a, 0x3b,     // ts_nsec 999999999 = 0x3b9ac9ff
                  0xdc, 0x05, 0x00, 0x00,     // incl_len 1500
                  0x00, 0x06, 0x00, 0x00}));  // orig_len 1536
  // Negative times are written as zero; seconds past 2^32 - 1 saturate.
  const auto neg = pcap_record_header(sim_time::from_ns(-5), 1, 1);
  CHECK(std::vector<std::byte>(neg.begin(), neg.begin() + 8) == bytes_of({0, 0, 0, 0, 0, 0, 0, 0}));
  const auto big = pcap_record_header(sim_time::from_s(std::int64_t{1} << 33) + sim_time::from_ns(7), 1, 1);
  CHECK(std::vector<std::byte>(big.begin(), big.begin() + 8) ==
        bytes_of({0xff, 0xff, 0xff, 0xff, 7, 0, 0, 0}));
}

TEST_CASE("a written file is exactly the header and records byte for byte") {
  const auto path = tmp_path("pcap_exact.pcap");
  const auto f1 = frame_of(60, 0x20);
  const auto f2 = frame_of(14, 0x80);
  {
    pcap_writer w(path);
    CHECK(w.is_open());
    CHECK(w.name() == path.string());
    w.write(sim_time::from_ns(1'500'000'123), f1);
    w.write(sim_time::from_s(3), f2);
    CHECK(w.records() == 2);
    CHECK(w.bytes() == 24 + 16 + 60 + 16 + 14);
    w.close();
    CHECK_FALSE(w.is_open());
    w.close();  // idempotent
  }
  const auto got = read_file(path);
  std::vector<std::byte> expected;
  const auto fh = pcap_file_header();
  expected.insert(expected.end(), fh.begin(), fh.end());
  expected.insert(expected.end(), {std::byte{1}, std::byte{0}, std::byte{0}, std::byte{0}});
  for (auto b : bytes_of({0x7b, 0x65, 0xcd, 0x1d, 60, 0, 0, 0, 60, 0, 0, 0})) expected.push_back(b);  // 500000123
  expected.insert(expected.end(), f1.begin(), f1.end());
  for (auto b : bytes_of({3, 0, 0, 0, 0, 0, 0, 0, 14, 0, 0, 0, 14, 0, 0, 0})) expected.push_back(b);
  expected.insert(expected.end(), f2.begin(), f2.end());
  CHECK(got == expected);

  auto r = pcap_reader::open(path);
  REQUIRE(r.ok());
  CHECK(r.nanosecond());
  CHECK_FALSE(r.big_endian());
  CHECK(r.version_major() == 2);
  CHECK(r.version_minor() == 4);
  CHECK(r.snaplen() == pcap_default_snaplen);
  CHECK(r.linktype() == linktype_ethernet);
  const auto recs = r.records();
  REQUIRE(recs.size() == 2);
  CHECK(recs[0].ts == sim_time::from_ns(1'500'000'123));
  CHECK(recs[0].orig_len == 60);
  CHECK(std::vector<std::byte>(recs[0].data.begin(), recs[0].data.end()) == f1);
  CHECK(recs[1].ts == sim_time::from_s(3));
  CHECK(std::vector<std::byte>(recs[1].data.begin(), recs[1].data.end()) == f2);
  CHECK(r.ok());
  CHECK_FALSE(r.next());
  r.rewind();
  CHECK(r.next()->orig_len == 60);
}

TEST_CASE("records longer than snaplen are truncated and orig_len keeps the wire length") {
  const auto path = tmp_path("pcap_snaplen.pcap");
  const auto big = frame_of(100, 1);
  {
    pcap_writer w(path, 64);
    w.write(sim_time::zero(), big);
    w.write(sim_time::zero(), std::span<const std::byte>(big).first(20), 90);
    // A large record bypasses the buffer.
    pcap_writer w2(tmp_path("pcap_large.pcap"));
    const auto huge = frame_of(100'000, 5);
    w2.write(sim_time::from_s(1), huge);
    w2.write(sim_time::from_s(2), big);
    w2.close();
    auto r2 = pcap_reader::open(tmp_path("pcap_large.pcap"));
    const auto recs2 = r2.records();
    REQUIRE(recs2.size() == 2);
    CHECK(std::vector<std::byte>(recs2[0].data.begin(), recs2[0].data.end()) == huge);
    CHECK(recs2[1].data.size() == 100);
  }
  auto r = pcap_reader::open(path);
  CHECK(r.snaplen() == 64);
  const auto recs = r.records();
  REQUIRE(recs.size() == 2);
  CHECK(recs[0].data.size() == 64);
  CHECK(recs[0].orig_len == 100);
  CHECK(std::vector<std::byte>(recs[0].data.begin(), recs[0].data.end()) ==
        std::vector<std::byte>(big.begin(), big.begin() + 64));
  CHECK(recs[1].data.size() == 20);
  CHECK(recs[1].orig_len == 90);
  CHECK(r.ok());
}

TEST_CASE("a pooled frame's out-of-band VLAN tag is written as an 802.1Q tag") {
  dev::frame_pool pool;
  auto f = pool.allocate(60, sim_time::zero());
  REQUIRE(f);
  const auto bytes = frame_of(60, 0x30);
  std::copy(bytes.begin(), bytes.end(), f.data().begin());
  f.meta().vlan_tci = 0x6064;  // PCP 3, VID 100

  const auto path = tmp_path("pcap_tci.pcap");
  {
    pcap_writer w(path);
    w.write(sim_time::from_ms(1), f);
    f.meta().vlan_tci.reset();
    w.write(sim_time::from_ms(2), f);
    w.write(sim_time::from_ms(3), dev::frame_ref{});  // empty handle: an empty record
  }
  auto r = pcap_reader::open(path);
  const auto recs = r.records();
  REQUIRE(recs.size() == 3);
  REQUIRE(recs[0].data.size() == 64);
  CHECK(recs[0].orig_len == 64);
  std::vector<std::byte> tagged(bytes.begin(), bytes.begin() + 12);
  for (auto b : bytes_of({0x81, 0x00, 0x60, 0x64})) tagged.push_back(b);
  tagged.insert(tagged.end(), bytes.begin() + 12, bytes.end());
  CHECK(std::vector<std::byte>(recs[0].data.begin(), recs[0].data.end()) == tagged);
  CHECK(std::vector<std::byte>(recs[1].data.begin(), recs[1].data.end()) == bytes);
  CHECK(recs[2].data.empty());
}

TEST_CASE("writing to a caller's FILE*") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  {
    pcap_writer w(f, 128);
    CHECK(w.name() == "<stream>");
    w.write(sim_time::from_us(7), frame_of(10, 0));
    w.flush();
  }
  // The writer did not close the stream.
  REQUIRE(std::fseek(f, 0, SEEK_END) == 0);
  CHECK(std::ftell(f) == 24 + 16 + 10);
  std::rewind(f);
  std::vector<std::byte> all(50);
  REQUIRE(std::fread(all.data(), 1, all.size(), f) == 50);
  std::fclose(f);
  pcap_reader r(all);
  REQUIRE(r.ok());
  CHECK(r.snaplen() == 128);
  auto rec = r.next();
  REQUIRE(rec);
  CHECK(rec->ts == sim_time::from_us(7));
  CHECK_THROWS_AS(pcap_writer(static_cast<std::FILE*>(nullptr)), pcap_error);
}

TEST_CASE("errors name the path and the errno text and there are no writes after close") {
  const auto bad = std::filesystem::path(VNETSIM_TEST_TMPDIR) / "no-such-dir" / "x.pcap";
  std::string msg;
  try {
    pcap_writer w(bad);
  } catch (const pcap_error& e) {
    msg = e.what();
  }
  CHECK(msg.find(bad.string()) != std::string::npos);
  CHECK(msg.find("No such file or directory") != std::string::npos);

  std::string rmsg;
  try {
    (void)pcap_reader::open(bad);
  } catch (const pcap_error& e) {
    rmsg = e.what();
  }
  CHECK(rmsg.find(bad.string()) != std::string::npos);

  pcap_writer w(tmp_path("pcap_closed.pcap"));
  w.close();
  CHECK_THROWS_AS(w.write(sim_time::zero(), frame_of(4, 0)), pcap_error);

  // /dev/full accepts the open and fails the write.
  if (std::filesystem::exists("/dev/full")) {
    std::string fmsg;
    try {
      pcap_writer full("/dev/full");
      for (int i = 0; i < 100; ++i) full.write(sim_time::zero(), frame_of(1500, 0));
      full.close();
    } catch (const pcap_error& e) {
      fmsg = e.what();
    }
    CHECK(fmsg.find("/dev/full") != std::string::npos);
    CHECK(fmsg.find("No space left on device") != std::string::npos);
  }
}

TEST_CASE("a moved writer keeps writing to the same file") {
  const auto path = tmp_path("pcap_moved.pcap");
  {
    pcap_writer a(path);
    a.write(sim_time::zero(), frame_of(20, 0));
    pcap_writer b(std::move(a));
    CHECK_FALSE(a.is_open());  // NOLINT(bugprone-use-after-move)
    b.write(sim_time::zero(), frame_of(20, 0));
    pcap_writer c(tmp_path("pcap_moved_other.pcap"));
    c = std::move(b);
    c.write(sim_time::zero(), frame_of(20, 0));
    CHECK(c.records() == 3);
  }
  auto r = pcap_reader::open(path);
  CHECK(r.records().size() == 3);
  CHECK(r.ok());
  CHECK(pcap_reader::open(tmp_path("pcap_moved_other.pcap")).records().empty());
}

TEST_CASE("reader: bounds and format checks") {
  const auto fh = pcap_file_header(64);
  std::vector<std::byte> good(fh.begin(), fh.end());
  const auto rh = pcap_record_header(sim_time::from_s(1), 4, 4);
  good.insert(good.end(), rh.begin(), rh.end());
  for (auto b : bytes_of({1, 2, 3, 4})) good.push_back(b);

  SUBCASE("valid") {
    pcap_reader r(good);
    CHECK(r.ok());
    CHECK(r.records().size() == 1);
    CHECK(r.ok());
  }
  SUBCASE("short file header") {
    pcap_reader r(std::vector<std::byte>(good.begin(), good.begin() + 23));
    CHECK(r.error() == pcap_read_error::truncated_file_header);
    CHECK_FALSE(r.next());
  }
  SUBCASE("bad magic") {
    auto b = good;
    b[0] = std::byte{0};
    pcap_reader r(b);
    CHECK(r.error() == pcap_read_error::bad_magic);
    CHECK_FALSE(r.next());
  }
  SUBCASE("bad version") {
    auto b = good;
    b[4] = std::byte{3};
    pcap_reader r(b);
    CHECK(r.error() == pcap_read_error::bad_version);
    CHECK(to_string(r.error()) == "bad version");
    CHECK_FALSE(r.next());
    r.rewind();
    CHECK(r.error() == pcap_read_error::bad_version);
  }
  SUBCASE("truncated record data") {
    pcap_reader r(std::vector<std::byte>(good.begin(), good.end() - 1));
    CHECK(r.ok());
    CHECK_FALSE(r.next());
    CHECK(r.error() == pcap_read_error::truncated_record);
    r.rewind();
    CHECK(r.ok());
  }
  SUBCASE("truncated record header") {
    pcap_reader r(std::vector<std::byte>(good.begin(), good.begin() + 24 + 15));
    CHECK_FALSE(r.next());
    CHECK(r.error() == pcap_read_error::truncated_record_header);
  }
  SUBCASE("incl_len past snaplen") {
    auto b = good;
    b[24 + 8] = std::byte{65};
    pcap_reader r(b);
    CHECK_FALSE(r.next());
    CHECK(r.error() == pcap_read_error::record_over_snaplen);
  }
  SUBCASE("incl_len near 2^32 does not wrap the bounds check") {
    auto b = good;
    put_le32(b, 16, 0xffff'ffffu);      // snaplen
    put_le32(b, 24 + 8, 0xffff'ffffu);  // incl_len
    pcap_reader r(b);
    CHECK_FALSE(r.next());
    CHECK(r.error() == pcap_read_error::truncated_record);
  }
  SUBCASE("big-endian microsecond file") {
    const auto be = bytes_of({0xa1, 0xb2, 0xc3, 0xd4, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0,
                              0, 0, 0xff, 0xff, 0, 0, 0, 1,
                              0, 0, 0, 2, 0, 0, 0x01, 0xf4, 0, 0, 0, 2, 0, 0, 0, 3, 0xaa, 0xbb});
    pcap_reader r(be);
    REQUIRE(r.ok());
    CHECK(r.big_endian());
    CHECK_FALSE(r.nanosecond());
    CHECK(r.snaplen() == 65535);
    CHECK(r.linktype() == 1);
    auto rec = r.next();
    REQUIRE(rec);
    CHECK(rec->ts == sim_time::from_s(2) + sim_time::from_us(500));
    CHECK(rec->orig_len == 3);
    CHECK(std::vector<std::byte>(rec->data.begin(), rec->data.end()) == bytes_of({0xaa, 0xbb}));
    CHECK_FALSE(r.next());
    CHECK(r.ok());
  }
}

// ---------------------------------------------------------------------------------------
// tshark: frames of every wire type, built through the wire reprs' emit(), must decode as
// the intended protocol chain with good checksums and no malformed or bad-checksum entry.

namespace {

using namespace vnetsim::wire;

constexpr auto mac_a = mac_address::from_u64(0x0050'5600'0001ULL);
constexpr auto mac_b = mac_address::from_u64(0x0050'5600'0002ULL);
constexpr ipv4_address ip_a{10, 0, 0, 1};
constexpr ipv4_address ip_b{10, 0, 0, 2};
/// Minimum frame without FCS (IEEE 802.3-2018 4.4.2): shorter frames are padded with zeros.
constexpr std::size_t min_frame_len = ethernet_min_frame_len - ethernet_fcs_len;

/// One frame to capture and what tshark must make of it.
struct capture_case {
  std::string label;
  dev::frame_ref frame;
  std::string protocols;  ///< expected frame.protocols
  bool ip = false;        ///< ip.checksum.status must be Good
  std::string l4;         ///< "udp", "tcp" or "icmp": that checksum status must be Good
};

/// A zeroed frame of max(len, 60) bytes with its Ethernet header written.
dev::frame_ref eth_frame(dev::frame_pool& pool, std::size_t len, mac_address dst,
                         std::uint16_t type_or_len) {
  auto f = pool.allocate(std::max(len, min_frame_len), sim_time::zero());
  REQUIRE(f);
  std::fill(f.data().begin(), f.data().end(), std::byte{0});
  ethernet_repr{dst, mac_a, type_or_len}.emit(ethernet_frame{f.data()});
  return f;
}

std::vector<std::byte> text_bytes(std::string_view s) {
  std::vector<std::byte> out;
  for (char c : s) out.push_back(static_cast<std::byte>(c));
  return out;
}

/// Ethernet + IPv4 + an L4 message of `l4_len` bytes written by `emit_l4` at its offset.
template <class F>
dev::frame_ref ipv4_frame(dev::frame_pool& pool, ipv4_address src, ipv4_address dst,
                          ip_protocol proto, std::size_t l4_len, std::uint16_t ident, F emit_l4) {
  ipv4_repr ip;
  ip.src = src;
  ip.dst = dst;
  ip.protocol = proto;
  ip.payload_len = static_cast<std::uint16_t>(l4_len);
  ip.ident = ident;
  ip.dont_frag = true;
  const std::size_t l3 = ethernet_header_len;
  auto f = eth_frame(pool, l3 + ip.buffer_len(), src == ip_a ? mac_b : mac_a,
                     static_cast<std::uint16_t>(ether_type::ipv4));
  if (src != ip_a) ethernet_repr{mac_a, mac_b, 0x0800}.emit(ethernet_frame{f.data()});
  ip.emit(ipv4_packet{f.data().subspan(l3, ip.buffer_len())});
  emit_l4(f.data().subspan(l3 + ip.header_len(), l4_len));
  return f;
}

dev::frame_ref udp_frame(dev::frame_pool& pool, const std::vector<std::byte>& payload) {
  const udp_repr u{40000, 50000, payload};
  return ipv4_frame(pool, ip_a, ip_b, ip_protocol::udp, u.buffer_len(), 1,
                    [&](bytes b) { u.emit(udp_packet{b}, ip_a, ip_b); });
}

dev::frame_ref tcp_frame(dev::frame_pool& pool, const tcp_repr& t, bool from_a) {
  const auto src = from_a ? ip_a : ip_b;
  const auto dst = from_a ? ip_b : ip_a;
  return ipv4_frame(pool, src, dst, ip_protocol::tcp, t.buffer_len(), 3,
                    [&](bytes b) { t.emit(tcp_packet{b}, src, dst); });
}

dev::frame_ref icmp_frame(dev::frame_pool& pool, const icmp_repr& m, bool from_a) {
  return ipv4_frame(pool, from_a ? ip_a : ip_b, from_a ? ip_b : ip_a, ip_protocol::icmp,
                    m.buffer_len(), 2, [&](bytes b) { m.emit(icmp_packet{b}); });
}

dev::frame_ref bpdu_frame(dev::frame_pool& pool, const bpdu_repr& bpdu) {
  const std::size_t len = ethernet_header_len + llc_u_header_len + bpdu.buffer_len();
  auto f = eth_frame(pool, len, stp_group_address, bpdu.length_field());
  stp_llc.emit(llc_header{f.data().subspan(ethernet_header_len)});
  bpdu.emit(bpdu_packet{f.data().subspan(ethernet_header_len + llc_u_header_len, bpdu.buffer_len())});
  return f;
}

bpdu_repr config_bpdu() {
  bpdu_repr b;
  b.type = bpdu_type::config;
  b.version = bpdu_version_stp;
  b.root = bridge_id::make(0x8000, 1, mac_b);
  b.root_path_cost = 19;
  b.bridge = bridge_id::make(0x8000, 1, mac_a);
  b.port = port_id::make(0x80, 2);
  b.message_age = bpdu_time_from_s(1);
  b.max_age = bpdu_time_from_s(20);
  b.hello_time = bpdu_time_from_s(2);
  b.forward_delay = bpdu_time_from_s(15);
  return b;
}

std::vector<capture_case> every_wire_type(dev::frame_pool& pool) {
  std::vector<capture_case> cases;
  const auto hello = text_bytes("vnetsim frame payload");

  {  // Ethernet II, an experimental EtherType with opaque data.
    auto f = eth_frame(pool, 60, mac_b, 0x88b6);
    const auto data = text_bytes("ethernet ii payload");
    std::copy(data.begin(), data.end(), f.data().begin() + ethernet_header_len);
    cases.push_back({"ethernet ii", f, "eth:ethertype:data", false, ""});
  }
  {  // IEEE 802.3 length framing with a U-format LLC header (null SAPs) and data.
    const auto data = text_bytes("llc data");
    const llc_repr llc{llc_sap_null, llc_sap_null, llc_control_ui};
    auto f = eth_frame(pool, ethernet_header_len + llc.buffer_len() + data.size(), mac_b,
                       static_cast<std::uint16_t>(llc.buffer_len() + data.size()));
    llc.emit(llc_header{f.data().subspan(ethernet_header_len)});
    std::copy(data.begin(), data.end(), f.data().begin() + ethernet_header_len + 3);
    cases.push_back({"802.3 llc", f, "eth:llc:data", false, ""});
  }
  {  // 802.1Q tag inserted in place into the headroom of a UDP frame.
    auto f = udp_frame(pool, hello);
    const auto* payload = f.data().data() + ethernet_header_len;
    REQUIRE(f.push_front(vlan_tag_len));
    const vlan_repr tag{vlan_tpid_c, 3, false, 100};
    REQUIRE(emit_tag_in_place(f.data(), tag));
    CHECK(f.data().data() + vlan_tagged_header_len == payload);
    cases.push_back({"802.1q in bytes", f, "eth:ethertype:vlan:ethertype:ip:udp:data", true, "udp"});
  }
  {  // 802.1Q tag out of band: the writer puts it into the record.
    auto f = udp_frame(pool, hello);
    f.meta().vlan_tci = vlan_repr{vlan_tpid_c, 5, false, 200}.tci();
    cases.push_back({"802.1q out of band", f, "eth:ethertype:vlan:ethertype:ip:udp:data", true, "udp"});
  }
  {  // ARP request and RARP request.
    arp_repr arp{arp_operation::request, mac_a, ip_a.to_u32(), mac_address{}, ip_b.to_u32()};
    auto f = eth_frame(pool, ethernet_header_len + arp.buffer_len(), mac_address::broadcast(),
                       ether_type_for(arp.operation));
    arp.emit(arp_packet{f.data().subspan(ethernet_header_len)});
    cases.push_back({"arp", f, "eth:ethertype:arp", false, ""});

    arp_repr rarp{arp_operation::reverse_request, mac_a, 0, mac_a, 0};
    auto g = eth_frame(pool, ethernet_header_len + rarp.buffer_len(), mac_address::broadcast(),
                       ether_type_for(rarp.operation));
    rarp.emit(arp_packet{g.data().subspan(ethernet_header_len)});
    cases.push_back({"rarp", g, "eth:ethertype:arp", false, ""});
  }
  {  // ICMP echo request and its reply.
    const auto data = text_bytes("0123456789abcdefghijklmnopqrstuvwxyz!!!!");
    cases.push_back({"icmp echo request", icmp_frame(pool, icmp_repr::echo_request(0x1234, 1, data), true),
                     "eth:ethertype:ip:icmp:data", true, "icmp"});
    cases.push_back({"icmp echo reply", icmp_frame(pool, icmp_repr::echo_reply(0x1234, 1, data), false),
                     "eth:ethertype:ip:icmp:data", true, "icmp"});
  }
  {  // UDP, longer than the minimum frame.
    cases.push_back({"udp", udp_frame(pool, std::vector<std::byte>(1000, std::byte{0x42})),
                     "eth:ethertype:ip:udp:data", true, "udp"});
  }
  {  // TCP: SYN with MSS, WS, SACK-permitted and timestamps; SYN-ACK; a data segment.
    tcp_repr syn;
    syn.src_port = 40001;
    syn.dst_port = 50001;
    syn.seq = 1000;
    syn.flags = tcp_flags::syn;
    syn.window = 64240;
    syn.mss = 1460;
    syn.window_scale = 7;
    syn.sack_permitted = true;
    syn.timestamps = tcp_timestamps{111, 0};
    cases.push_back({"tcp syn", tcp_frame(pool, syn, true), "eth:ethertype:ip:tcp", true, "tcp"});

    tcp_repr synack = syn;
    synack.src_port = syn.dst_port;
    synack.dst_port = syn.src_port;
    synack.seq = 5000;
    synack.ack = syn.seq + 1;
    synack.flags = tcp_flags::syn | tcp_flags::ack;
    synack.window = 65160;
    synack.timestamps = tcp_timestamps{222, 111};
    cases.push_back({"tcp syn-ack", tcp_frame(pool, synack, false), "eth:ethertype:ip:tcp", true, "tcp"});

    const auto data = std::vector<std::byte>(600, std::byte{0x61});
    tcp_repr seg;
    seg.src_port = syn.src_port;
    seg.dst_port = syn.dst_port;
    seg.seq = syn.seq + 1;
    seg.ack = synack.seq + 1;
    seg.flags = tcp_flags::ack | tcp_flags::psh;
    seg.window = 502;
    seg.timestamps = tcp_timestamps{333, 222};
    seg.payload = data;
    cases.push_back({"tcp data", tcp_frame(pool, seg, true), "eth:ethertype:ip:tcp:data", true, "tcp"});
  }
  {  // STP Configuration, STP TCN and RSTP BPDUs.
    cases.push_back({"stp config bpdu", bpdu_frame(pool, config_bpdu()), "eth:llc:stp", false, ""});
    cases.push_back({"stp tcn bpdu", bpdu_frame(pool, bpdu_repr::tcn()), "eth:llc:stp", false, ""});
    auto rst = config_bpdu();
    rst.type = bpdu_type::rst;
    rst.version = bpdu_version_rstp;
    rst.flags.set_role(bpdu_role::root).set(bpdu_flag::learning).set(bpdu_flag::forwarding).set(bpdu_flag::agreement);
    cases.push_back({"rstp bpdu", bpdu_frame(pool, rst), "eth:llc:stp", false, ""});
  }
  {  // LACPDU.
    lacp_repr lacp;
    lacp.actor = {0x8000, mac_a, 17, 0x00ff, 1, {0x3d}};
    lacp.partner = {0x8000, mac_b, 33, 0x00ff, 7, {0x3f}};
    lacp.collector_max_delay = 5;
    auto f = eth_frame(pool, ethernet_header_len + lacp.buffer_len(), slow_protocols_address,
                       slow_protocols_ether_type);
    lacp.emit(lacp_packet{f.data().subspan(ethernet_header_len)});
    cases.push_back({"lacpdu", f, "eth:ethertype:slow:lacp", false, ""});
  }
  {  // Beacon, untagged and tagged.
    beacon_frame_repr beacon;
    beacon.src = mac_a;
    beacon.beacon = {0, 1, 2, 42, mac_a};
    auto f = pool.allocate(beacon.buffer_len(), sim_time::zero());
    REQUIRE(f);
    beacon.emit(f.data());
    cases.push_back({"beacon", f, "eth:ethertype:data", false, ""});

    beacon.tag = vlan_repr{vlan_tpid_c, 7, false, 4000};
    auto g = pool.allocate(beacon.buffer_len(), sim_time::zero());
    REQUIRE(g);
    beacon.emit(g.data());
    cases.push_back({"tagged beacon", g, "eth:ethertype:vlan:ethertype:data", false, ""});
  }
  return cases;
}

/// The capture time of frame `i` (0-based): distinct seconds and nanoseconds.
sim_time capture_time(std::size_t i) {
  return sim_time::from_s(static_cast<std::int64_t>(i) + 1) +
         sim_time::from_ns(static_cast<std::int64_t>(100'000'001 * i + 123) % 1'000'000'000);
}

/// The same time as tshark prints frame.time_epoch: seconds, a dot, nine digits.
std::string epoch_text(sim_time t) {
  return fmt::format("{}.{:09}", t.ns() / 1'000'000'000, t.ns() % 1'000'000'000);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// One line of tshark -T fields output.
struct tshark_row {
  std::string number, protocols, messages, severities, time_epoch;
  std::string ip_status, udp_status, tcp_status, icmp_status, malformed;
};

constexpr std::array tshark_fields = {
    "frame.number",        "frame.protocols",     "_ws.expert.message",
    "_ws.expert.severity", "frame.time_epoch",    "ip.checksum.status",
    "udp.checksum.status", "tcp.checksum.status", "icmp.checksum.status",
    "_ws.malformed",
};

/// Runs tshark over `file` with checksum validation on; one row per frame.
std::vector<tshark_row> run_tshark(const std::filesystem::path& file) {
  std::vector<tshark_row> rows;
  for (const auto& line : test::tshark_lines(
           file, "-o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE",
           "-E aggregator='|' -E occurrence=a", tshark_fields)) {
    const auto f = split(line, '\t');
    REQUIRE_MESSAGE(f.size() == std::size(tshark_fields), "unexpected line: " << line);
    rows.push_back({f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9]});
  }
  return rows;
}

/// Wireshark expert severities (epan/proto.h PI_WARN, PI_ERROR).
constexpr long expert_warn = 0x00600000;

/// Expert entries that say the frame is broken: malformed, bad checksum, or any entry of
/// severity warning or worse.
std::vector<std::string> bad_expert_entries(const tshark_row& r) {
  std::vector<std::string> bad;
  const auto msgs = split(r.messages, '|');
  const auto sevs = split(r.severities, '|');
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    if (msgs[i].empty()) continue;
    const long sev = i < sevs.size() && !sevs[i].empty() ? std::stol(sevs[i]) : 0;
    const auto m = lower(msgs[i]);
    if (m.find("malformed") != std::string::npos || m.find("checksum") != std::string::npos ||
        sev >= expert_warn) {
      bad.push_back(msgs[i] + " (severity " + std::to_string(sev) + ")");
    }
  }
  if (!r.malformed.empty()) bad.push_back("_ws.malformed: " + r.malformed);
  return bad;
}

}  // namespace

TEST_CASE("tshark decodes every wire type as intended with good checksums") {
  dev::frame_pool pool;
  auto cases = every_wire_type(pool);
  REQUIRE(cases.size() == 18);

  const auto path = tmp_path("every_wire_type.pcap");
  {
    pcap_writer w(path);
    for (std::size_t i = 0; i < cases.size(); ++i) w.write(capture_time(i), cases[i].frame);
    w.close();
  }
  const auto rows = run_tshark(path);
  REQUIRE(rows.size() == cases.size());

  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    const auto& r = rows[i];
    CAPTURE(c.label);
    CHECK(r.number == std::to_string(i + 1));
    CHECK(r.protocols == c.protocols);
    CHECK(r.time_epoch == epoch_text(capture_time(i)));
    CHECK_MESSAGE(bad_expert_entries(r).empty(), "expert: " << r.messages << " / " << r.severities);
    // Status 1 = Good (epan/proto.h PROTO_CHECKSUM_E_GOOD).
    if (c.ip) CHECK(r.ip_status == "1");
    if (c.l4 == "udp") CHECK(r.udp_status == "1");
    if (c.l4 == "tcp") CHECK(r.tcp_status == "1");
    if (c.l4 == "icmp") CHECK(r.icmp_status == "1");
  }
}

TEST_CASE("tshark check catches a bad checksum and a malformed frame and a wrong timestamp") {
  // The same harness on frames that are wrong on purpose: it must see each fault.
  dev::frame_pool pool;
  auto bad_sum = udp_frame(pool, text_bytes("checksum"));
  bad_sum.data()[ethernet_header_len + 10] ^= std::byte{0xff};  // IPv4 header checksum
  auto truncated = udp_frame(pool, std::vector<std::byte>(200, std::byte{1}));
  REQUIRE(truncated.resize(ethernet_header_len + 10));  // IPv4 header cut short

  const auto path = tmp_path("broken.pcap");
  {
    pcap_writer w(path);
    w.write(sim_time::from_ns(1'000'000'001), bad_sum);
    w.write(sim_time::from_ns(2'000'000'002), truncated);
  }
  const auto rows = run_tshark(path);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].ip_status == "0");
  CHECK_FALSE(bad_expert_entries(rows[0]).empty());
  CHECK(lower(rows[0].messages).find("bad checksum") != std::string::npos);
  CHECK_FALSE(bad_expert_entries(rows[1]).empty());
  CHECK_FALSE(rows[1].malformed.empty());
  CHECK(rows[0].time_epoch == "1.000000001");
  CHECK(rows[1].time_epoch != epoch_text(sim_time::from_ns(2'000'000'003)));
}
