#include "vnetsim/wire/ipv4.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <fmt/format.h>
#include "wire_test_support.hpp"

using namespace vnetsim::wire;
using namespace vnetsim::wire::test;

namespace {


// The IPv4 header example: version 4, IHL 5, total length 115, DF, TTL 64, UDP,
// checksum 0xb861, 192.168.0.1 -> 192.168.0.199.
constexpr auto example_header = make_bytes(0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00,
                                           0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01,
                                           0xc0, 0xa8, 0x00, 0xc7);

std::vector<std::byte> example_packet() {
  std::vector<std::byte> p(115);
  std::copy(example_header.begin(), example_header.end(), p.begin());
  for (std::size_t i = 20; i < p.size(); ++i) p[i] = static_cast<std::byte>(i);
  return p;
}

// IGMPv3 membership report 10.0.0.1 -> 224.0.0.22 with the Router Alert option
// (RFC 2113: 94 04 00 00), IHL 6, DSCP CS6, TTL 1, protocol 2. Checked with tshark.
constexpr auto igmp_with_router_alert = make_bytes(
    0x46, 0xc0, 0x00, 0x28, 0x00, 0x00, 0x40, 0x00, 0x01, 0x02, 0xf9, 0xf8, 0x0a, 0x00, 0x00,
    0x01, 0xe0, 0x00, 0x00, 0x16, 0x94, 0x04, 0x00, 0x00, 0x22, 0x00, 0xea, 0x34, 0x00, 0x00,
    0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0xef, 0xc8, 0x00, 0x01);

// Two fragments of one datagram (ident 0x4242): the first with MF and offset 0 carrying
// 16 bytes, the last with offset 2 units = 16 bytes carrying 8.
constexpr auto first_fragment = make_bytes(
    0x45, 0x00, 0x00, 0x24, 0x42, 0x42, 0x20, 0x00, 0x40, 0x11, 0x04, 0x85, 0x0a, 0x00, 0x00,
    0x01, 0x0a, 0x00, 0x00, 0x02, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
    0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f);
constexpr auto last_fragment = make_bytes(
    0x45, 0x00, 0x00, 0x1c, 0x42, 0x42, 0x00, 0x02, 0x40, 0x11, 0x24, 0x8b, 0x0a, 0x00, 0x00,
    0x01, 0x0a, 0x00, 0x00, 0x02, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97);

}  // namespace

TEST_CASE("ipv4: address parse, print and fmt") {
  const auto a = ipv4_address::parse("192.168.0.199");
  REQUIRE(a);
  CHECK(a->to_u32() == 0xc0a800c7U);
  CHECK(*a == ipv4_address(192, 168, 0, 199));
  CHECK(a->octets() == std::array<std::uint8_t, 4>{192, 168, 0, 199});
  CHECK(a->to_string() == "192.168.0.199");
  CHECK(fmt::format("{}", *a) == "192.168.0.199");
  CHECK(fmt::format("[{:>15}]", ipv4_address(10, 0, 0, 1)) == "[       10.0.0.1]");
  CHECK(ipv4_address::parse("0.0.0.0") == ipv4_address::unspecified());
  CHECK(ipv4_address::parse("255.255.255.255") == ipv4_address::broadcast());
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-4", "01.2.3.4",
                          "1..2.3", "1.2.3.4 ", " 1.2.3.4", "a.b.c.d", "1.2.3.4.", "1234.1.1.1",
                          ".1.2.3"}) {
    CHECK_MESSAGE(!ipv4_address::parse(bad), bad);
  }
  CHECK(ipv4_address(10, 0, 0, 1) < ipv4_address(10, 0, 0, 2));
}

TEST_CASE("ipv4: address predicates") {
  CHECK(ipv4_address::broadcast().is_broadcast());
  CHECK(ipv4_address::unspecified().is_unspecified());
  CHECK(ipv4_address(224, 0, 0, 22).is_multicast());
  CHECK(ipv4_address(239, 255, 255, 250).is_multicast());
  CHECK_FALSE(ipv4_address(240, 0, 0, 1).is_multicast());
  CHECK_FALSE(ipv4_address(223, 255, 255, 255).is_multicast());
  CHECK(ipv4_address(127, 0, 0, 1).is_loopback());
  CHECK(ipv4_address(169, 254, 7, 9).is_link_local());
  CHECK(ipv4_address(10, 1, 2, 3).is_private());
  CHECK(ipv4_address(172, 16, 0, 1).is_private());
  CHECK(ipv4_address(172, 31, 255, 255).is_private());
  CHECK_FALSE(ipv4_address(172, 32, 0, 1).is_private());
  CHECK(ipv4_address(192, 168, 1, 1).is_private());
  CHECK_FALSE(ipv4_address(192, 169, 1, 1).is_private());
  CHECK(ipv4_address(8, 8, 8, 8).is_unicast());
  CHECK_FALSE(ipv4_address(224, 0, 0, 1).is_unicast());
  CHECK_FALSE(ipv4_address::broadcast().is_unicast());
}

TEST_CASE("ipv4: subnet helpers and CIDR") {
  CHECK(ipv4_address::netmask(0) == ipv4_address(0, 0, 0, 0));
  CHECK(ipv4_address::netmask(8) == ipv4_address(255, 0, 0, 0));
  CHECK(ipv4_address::netmask(23) == ipv4_address(255, 255, 254, 0));
  CHECK(ipv4_address::netmask(32) == ipv4_address::broadcast());
  CHECK(ipv4_address::netmask(40) == ipv4_address::broadcast());
  for (std::uint8_t n = 0; n <= 32; ++n) CHECK(ipv4_address::netmask(n).mask_prefix_len() == n);
  CHECK_FALSE(ipv4_address(255, 0, 255, 0).mask_prefix_len());
  CHECK_FALSE(ipv4_address(0, 0, 0, 255).mask_prefix_len());

  const ipv4_address host(192, 168, 10, 77);
  CHECK(host.network(24) == ipv4_address(192, 168, 10, 0));
  CHECK(host.same_subnet(ipv4_address(192, 168, 10, 1), 24));
  CHECK_FALSE(host.same_subnet(ipv4_address(192, 168, 11, 1), 24));
  CHECK(host.same_subnet(ipv4_address(192, 168, 11, 1), 22));

  const auto c = ipv4_cidr::parse("10.1.2.3/20");
  REQUIRE(c);
  CHECK(c->address() == ipv4_address(10, 1, 2, 3));
  CHECK(c->prefix_len() == 20);
  CHECK(c->netmask() == ipv4_address(255, 255, 240, 0));
  CHECK(c->network() == ipv4_address(10, 1, 0, 0));
  CHECK(c->broadcast() == ipv4_address(10, 1, 15, 255));
  CHECK(c->contains(ipv4_address(10, 1, 15, 254)));
  CHECK_FALSE(c->contains(ipv4_address(10, 1, 16, 0)));
  CHECK(c->to_string() == "10.1.2.3/20");
  CHECK(fmt::format("{}", *c) == "10.1.2.3/20");
  CHECK(ipv4_cidr::parse("0.0.0.0/0")->contains(ipv4_address(1, 2, 3, 4)));
  CHECK(ipv4_cidr::parse("1.2.3.4/32")->broadcast() == ipv4_address(1, 2, 3, 4));
  for (const char* bad : {"10.1.2.3", "10.1.2.3/", "10.1.2.3/33", "10.1.2.3/08", "10.1.2/8",
                          "10.1.2.3/x", "10.1.2.3/-1", "10.1.2.3/1 "}) {
    CHECK_MESSAGE(!ipv4_cidr::parse(bad), bad);
  }
}

TEST_CASE("ipv4: the example header parses field by field") {
  const auto pkt = example_packet();
  const auto v = ipv4_packet_const::checked(pkt);
  REQUIRE(v);
  CHECK(v->version() == 4);
  CHECK(v->ihl() == 5);
  CHECK(v->header_len() == 20);
  CHECK(v->dscp() == 0);
  CHECK(v->ecn() == 0);
  CHECK(v->total_len() == 115);
  CHECK(v->ident() == 0);
  CHECK(v->dont_frag());
  CHECK_FALSE(v->more_frags());
  CHECK_FALSE(v->reserved_flag());
  CHECK(v->frag_offset() == 0);
  CHECK(v->ttl() == 64);
  CHECK(v->protocol() == 17);
  CHECK(v->checksum() == 0xb861);
  CHECK(v->src_addr() == ipv4_address(192, 168, 0, 1));
  CHECK(v->dst_addr() == ipv4_address(192, 168, 0, 199));
  CHECK(v->options().empty());
  CHECK(v->payload().size() == 95);
  CHECK(v->payload().data() == pkt.data() + 20);
  CHECK(v->verify_checksum());
  CHECK(naive_checksum(v->header()) == 0);

  const auto r = ipv4_repr::parse(const_bytes{pkt});
  REQUIRE(r);
  CHECK(r->src == ipv4_address(192, 168, 0, 1));
  CHECK(r->dst == ipv4_address(192, 168, 0, 199));
  CHECK(r->protocol == ip_protocol::udp);
  CHECK(r->payload_len == 95);
  CHECK(r->ttl == 64);
  CHECK(r->dont_frag);
  CHECK_FALSE(r->is_fragment());
  CHECK(r->header_len() == 20);
  CHECK(r->buffer_len() == 115);
}

TEST_CASE("ipv4: repr emit reproduces the example header byte for byte") {
  const auto pkt = example_packet();
  const auto r = ipv4_repr::parse(const_bytes{pkt});
  REQUIRE(r);
  std::array<std::byte, 20> out{};
  out.fill(std::byte{0xee});
  r->emit(ipv4_packet{out});
  CHECK(out == example_header);

  // Built from scratch rather than parsed.
  ipv4_repr fresh;
  fresh.src = *ipv4_address::parse("192.168.0.1");
  fresh.dst = *ipv4_address::parse("192.168.0.199");
  fresh.protocol = ip_protocol::udp;
  fresh.payload_len = 95;
  fresh.ttl = 64;
  fresh.dont_frag = true;
  std::array<std::byte, 20> out2{};
  fresh.emit(ipv4_packet{out2});
  CHECK(out2 == example_header);
  CHECK(fresh == *r);
}

TEST_CASE("ipv4: fill_checksum computes 0xb861 and agrees with the naive reference") {
  auto h = example_header;
  const ipv4_packet v{h};
  v.set_checksum(0x1234);
  v.fill_checksum();
  CHECK(v.checksum() == 0xb861);
  v.set_checksum(0);
  CHECK(naive_checksum(h) == 0xb861);
}

TEST_CASE("ipv4: options are kept as bytes and round-trip") {
  const auto r = ipv4_repr::parse(const_bytes{igmp_with_router_alert});
  REQUIRE(r);
  CHECK(r->header_len() == 24);
  REQUIRE(r->options.size() == 4);
  CHECK(r->options[0] == std::byte{0x94});  // Router Alert, RFC 2113
  CHECK(r->protocol == static_cast<ip_protocol>(2));
  CHECK(r->dscp == 48);  // CS6
  CHECK(r->ttl == 1);
  CHECK(r->dst.is_multicast());
  CHECK(r->payload_len == 16);
  const ipv4_packet_const v{igmp_with_router_alert};
  CHECK(naive_checksum(v.header()) == 0);

  std::array<std::byte, 40> out{};
  r->emit(ipv4_packet{out});
  std::copy_n(v.payload().begin(), 16, out.begin() + 24);
  CHECK(out == igmp_with_router_alert);
}

TEST_CASE("ipv4: options not a multiple of 4 are padded with zeros") {
  constexpr auto opt = make_bytes(0x07, 0x03, 0x04);  // a 3-byte Record Route, RFC 791 3.1
  ipv4_repr r;
  r.src = ipv4_address(10, 0, 0, 1);
  r.dst = ipv4_address(10, 0, 0, 2);
  r.protocol = ip_protocol::icmp;
  r.options = opt;
  r.payload_len = 4;
  CHECK(r.header_len() == 24);
  std::array<std::byte, 28> out{};
  out.fill(std::byte{0xaa});
  r.emit(ipv4_packet{out});
  const ipv4_packet_const v{out};
  CHECK(v.ihl() == 6);
  CHECK(v.total_len() == 28);
  CHECK(v.options()[3] == std::byte{0});  // End of Option List
  CHECK(v.verify_checksum());
  const auto back = ipv4_repr::parse(const_bytes{out});
  REQUIRE(back);
  CHECK(back->options.size() == 4);
  CHECK(back->options.first(3)[2] == std::byte{0x04});
}

TEST_CASE("ipv4: fragments") {
  const auto f1 = ipv4_repr::parse(const_bytes{first_fragment});
  REQUIRE(f1);
  CHECK(f1->more_frags);
  CHECK_FALSE(f1->dont_frag);
  CHECK(f1->frag_offset == 0);
  CHECK(f1->is_fragment());
  CHECK(f1->ident == 0x4242);
  CHECK(f1->payload_len == 16);

  const auto f2 = ipv4_repr::parse(const_bytes{last_fragment});
  REQUIRE(f2);
  CHECK_FALSE(f2->more_frags);
  CHECK(f2->frag_offset == 16);
  CHECK(f2->is_fragment());

  std::array<std::byte, 20> out{};
  f1->emit(ipv4_packet{out});
  CHECK(std::equal(out.begin(), out.end(), first_fragment.begin()));
  f2->emit(ipv4_packet{out});
  CHECK(std::equal(out.begin(), out.end(), last_fragment.begin()));

  // The largest offset, 8191 units.
  ipv4_repr big = *f2;
  big.frag_offset = 8191 * 8;
  big.payload_len = 0;
  big.emit(ipv4_packet{out});
  CHECK(ipv4_packet_const{out}.frag_offset() == 65528);
}

TEST_CASE("ipv4: Ethernet padding after Total Length is not payload") {
  std::array<std::byte, 46> padded{};  // minimum Ethernet payload, IEEE 802.3 3.2.7
  std::copy(last_fragment.begin(), last_fragment.end(), padded.begin());
  const auto v = ipv4_packet_const::checked(padded);
  REQUIRE(v);
  CHECK(v->payload().size() == 8);
  CHECK(ipv4_repr::parse(const_bytes{padded})->payload_len == 8);
}

TEST_CASE("ipv4: rejects every short buffer as truncated") {
  const auto pkt = example_packet();
  for (std::size_t n = 0; n < 20; ++n) {
    const const_bytes b{pkt.data(), n};
    CHECK_FALSE(ipv4_packet_const::checked(b));
    const auto r = ipv4_repr::parse(b);
    REQUIRE_FALSE(r);
    CHECK(r.error() == parse_error::truncated);
  }
  // The header alone, Total Length 115 claiming more than the 20 bytes there.
  const auto r = ipv4_repr::parse(const_bytes{example_header});
  REQUIRE_FALSE(r);
  CHECK(r.error() == parse_error::truncated);
  const auto r2 = ipv4_repr::parse(const_bytes{pkt.data(), 114});
  REQUIRE_FALSE(r2);
  CHECK(r2.error() == parse_error::truncated);
}

TEST_CASE("ipv4: rejects IHL below 5 and IHL past the buffer") {
  auto pkt = example_packet();
  for (std::uint8_t ihl = 0; ihl < 5; ++ihl) {
    pkt[0] = static_cast<std::byte>(0x40 | ihl);
    const auto r = ipv4_repr::parse(const_bytes{pkt});
    REQUIRE_FALSE(r);
    CHECK(r.error() == parse_error::bad_length);
  }
  // IHL 15 = 60 bytes in a 40-byte buffer.
  std::array<std::byte, 40> small{};
  std::copy(example_header.begin(), example_header.end(), small.begin());
  small[0] = std::byte{0x4f};
  put_u16(small, 2, 40);
  const auto r = ipv4_repr::parse(const_bytes{small});
  REQUIRE_FALSE(r);
  CHECK(r.error() == parse_error::truncated);
  CHECK_FALSE(ipv4_packet_const::checked(small));
}

TEST_CASE("ipv4: rejects Total Length below the header length") {
  auto pkt = example_packet();
  for (const std::uint16_t total : {0, 1, 19}) {
    put_u16(pkt, 2, total);
    ipv4_packet{pkt}.fill_checksum();
    const auto r = ipv4_repr::parse(const_bytes{pkt});
    REQUIRE_FALSE(r);
    CHECK(r.error() == parse_error::bad_length);
  }
  // Exactly the header: an empty payload is fine.
  put_u16(pkt, 2, 20);
  ipv4_packet{pkt}.fill_checksum();
  const auto r = ipv4_repr::parse(const_bytes{pkt});
  REQUIRE(r);
  CHECK(r->payload_len == 0);
}

TEST_CASE("ipv4: rejects a version other than 4") {
  auto pkt = example_packet();
  pkt[0] = std::byte{0x65};
  ipv4_packet{pkt}.fill_checksum();
  const auto r = ipv4_repr::parse(const_bytes{pkt});
  REQUIRE_FALSE(r);
  CHECK(r.error() == parse_error::bad_version);
}

TEST_CASE("ipv4: rejects a bad header checksum unless told to skip it") {
  auto pkt = example_packet();
  pkt[11] = std::byte{0x62};  // 0xb861 -> 0xb862
  CHECK_FALSE(ipv4_packet_const{pkt}.verify_checksum());
  const auto r = ipv4_repr::parse(const_bytes{pkt});
  REQUIRE_FALSE(r);
  CHECK(r.error() == parse_error::bad_checksum);
  CHECK(ipv4_repr::parse(const_bytes{pkt}, checksum_mode::skip));
  // Every single-bit flip in the header is caught.
  pkt = example_packet();
  for (std::size_t bit = 0; bit < 160; ++bit) {
    if (bit / 8 == 0 || bit / 8 == 2 || bit / 8 == 3) continue;  // length fields: other errors
    pkt[bit / 8] ^= static_cast<std::byte>(0x80U >> (bit % 8));
    const auto bad = ipv4_repr::parse(const_bytes{pkt});
    CHECK_MESSAGE(!bad, "bit " << bit);
    pkt[bit / 8] ^= static_cast<std::byte>(0x80U >> (bit % 8));
  }
}

TEST_CASE("ipv4: emit with checksum_mode::skip leaves the checksum zero") {
  const auto r = ipv4_repr::parse(const_bytes{first_fragment});
  REQUIRE(r);
  std::array<std::byte, 20> out{};
  out.fill(std::byte{0xff});
  r->emit(ipv4_packet{out}, checksum_mode::skip);
  CHECK(ipv4_packet_const{out}.checksum() == 0);
}

TEST_CASE("ipv4: TTL decrement with RFC 1624 update equals fill_checksum") {
  auto pkt = example_packet();
  const ipv4_packet v{pkt};
  for (int hop = 0; hop < 64; ++hop) {
    const std::uint16_t old_word = get_u16(pkt, ipv4_packet::field::ttl);
    v.set_ttl(static_cast<std::uint8_t>(v.ttl() - 1));
    const std::uint16_t updated =
        checksum_update_u16(v.checksum(), old_word, get_u16(pkt, ipv4_packet::field::ttl));
    v.fill_checksum();
    REQUIRE(updated == v.checksum());
  }
  CHECK(v.ttl() == 0);
}

TEST_CASE("ipv4: view setters write the RFC 791 fields") {
  std::array<std::byte, 24> b{};
  const ipv4_packet v{b};
  v.set_version_ihl(4, 6);
  v.set_dscp_ecn(46, 1);  // EF (RFC 3246), ECT(1)
  v.set_total_len(24);
  v.set_ident(0xbeef);
  v.set_flags_frag(true, true, 1480);
  v.set_ttl(17);
  v.set_protocol(6);
  v.set_src_addr(ipv4_address(1, 2, 3, 4));
  v.set_dst_addr(ipv4_address(5, 6, 7, 8));
  v.fill_checksum();
  CHECK(b[0] == std::byte{0x46});
  CHECK(b[1] == std::byte{0xb9});
  CHECK(get_u16(b, 6) == (0x4000 | 0x2000 | 185));
  CHECK(v.dscp() == 46);
  CHECK(v.ecn() == 1);
  CHECK(v.frag_offset() == 1480);
  CHECK(v.dont_frag());
  CHECK(v.more_frags());
  CHECK(v.src_addr() == ipv4_address(1, 2, 3, 4));
  CHECK(v.dst_addr() == ipv4_address(5, 6, 7, 8));
  CHECK(naive_checksum(b) == 0);
}

TEST_CASE("ipv4: pseudo-header helper takes addresses and the protocol enum") {
  const auto a = ipv4_pseudo_header(ipv4_address(10, 0, 0, 1), ipv4_address(10, 0, 0, 2),
                                    ip_protocol::tcp, 40);
  const auto b = ipv4_pseudo_header(0x0a000001U, 0x0a000002U, 6, 40);
  CHECK(a.sum() == b.sum());
  constexpr auto ph = make_bytes(10, 0, 0, 1, 10, 0, 0, 2, 0, 6, 0, 40);
  CHECK(static_cast<std::uint16_t>(~a.sum()) == naive_checksum(ph));
}
