// Ethernet II / 802.3 header: type versus length field, round trip.
#include "vnetsim/wire/ethernet.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <vector>

using namespace vnetsim::wire;

namespace {

// Ethernet II: an ARP request as captured (see arp_test.cpp), header and 4 payload bytes.
constexpr auto eth2 = make_bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  //
                                 0x20, 0xdf, 0xb9, 0xb9, 0x85, 0xe2,  //
                                 0x08, 0x06,                          //
                                 0x00, 0x01, 0x08, 0x00);

// IEEE 802.3 length framing: the Cisco STP frame header (see bpdu_test.cpp), length 38.
constexpr auto ieee8023 = make_bytes(0x01, 0x80, 0xc2, 0x00, 0x00, 0x00,  //
                                     0x00, 0x1c, 0x0e, 0x87, 0x85, 0x04,  //
                                     0x00, 0x26,                          //
                                     0x42, 0x42, 0x03);

}  // namespace

TEST_CASE("ethernet: Ethernet II header with an EtherType") {
  const auto v = ethernet_frame_const::checked(eth2);
  REQUIRE(v.has_value());
  CHECK(v->dst().is_broadcast());
  CHECK(v->src() == *mac_address::parse("20:df:b9:b9:85:e2"));
  CHECK(v->type_or_len() == 0x0806);
  CHECK(v->is_ether_type());
  CHECK_FALSE(v->is_length());
  CHECK(v->payload().size() == 4);
  CHECK(v->payload().data() == eth2.data() + 14);

  const auto r = ethernet_repr::parse(const_bytes{eth2});
  REQUIRE(r.has_value());
  CHECK(r->type_or_len == static_cast<std::uint16_t>(ether_type::arp));
  CHECK(r->buffer_len() == 14);

  std::array<std::byte, 14> out{};
  r->emit(ethernet_frame{out});
  CHECK(std::ranges::equal(out, const_bytes{eth2}.first(14)));
}

TEST_CASE("ethernet: 802.3 header with a length") {
  const ethernet_frame_const v{ieee8023};
  CHECK(v.dst() == *mac_address::parse("01:80:c2:00:00:00"));
  CHECK(v.type_or_len() == 38);
  CHECK(v.is_length());
  CHECK_FALSE(v.is_ether_type());

  const auto r = ethernet_repr::parse(v);
  std::array<std::byte, 14> out{};
  r.emit(ethernet_frame{out});
  CHECK(std::ranges::equal(out, const_bytes{ieee8023}.first(14)));
}

TEST_CASE("ethernet: the type/length boundaries of IEEE 802.3 3.2.6") {
  std::vector<std::byte> f(eth2.begin(), eth2.end());
  const ethernet_frame v{f};
  v.set_type_or_len(1500);
  CHECK(v.is_length());
  CHECK_FALSE(v.is_ether_type());
  v.set_type_or_len(1501);  // neither
  CHECK_FALSE(v.is_length());
  CHECK_FALSE(v.is_ether_type());
  v.set_type_or_len(0x05ff);
  CHECK_FALSE(v.is_length());
  CHECK_FALSE(v.is_ether_type());
  v.set_type_or_len(0x0600);
  CHECK(v.is_ether_type());
  v.set_type_or_len(0);
  CHECK(v.is_length());
}

TEST_CASE("ethernet: setters write big-endian fields at the right offsets") {
  std::array<std::byte, 20> buf{};
  const ethernet_frame v{buf};
  v.set_dst(*mac_address::parse("01:02:03:04:05:06"));
  v.set_src(*mac_address::parse("0a:0b:0c:0d:0e:0f"));
  v.set_type_or_len(0x88b5);
  const auto expect = make_bytes(1, 2, 3, 4, 5, 6, 10, 11, 12, 13, 14, 15, 0x88, 0xb5);
  CHECK(std::ranges::equal(std::span{buf}.first(14), expect));
  CHECK(buf[14] == std::byte{0});
  const ethernet_repr r{*mac_address::parse("01:02:03:04:05:06"),
                        *mac_address::parse("0a:0b:0c:0d:0e:0f"), 0x88b5};
  CHECK(ethernet_repr::parse(const_bytes{buf}) == r);
}

TEST_CASE("ethernet: short buffers") {
  CHECK_FALSE(ethernet_frame_const::checked(const_bytes{eth2}.first(13)).has_value());
  CHECK_FALSE(ethernet_repr::parse(const_bytes{eth2}.first(13)).has_value());
  CHECK(ethernet_repr::parse(const_bytes{eth2}.first(14)).has_value());
  CHECK(ethernet_frame_const{const_bytes{eth2}.first(14)}.payload().empty());
}

TEST_CASE("ethernet: frame-size constants") {
  CHECK(ethernet_min_frame_len == ethernet_header_len + ethernet_min_payload_len +
                                      ethernet_fcs_len);
  CHECK(ethernet_max_length_field == ethernet_max_payload_len);
  CHECK(ethernet_min_ether_type == 0x0600);
}
