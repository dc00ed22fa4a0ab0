// LACPDU (802.1AX-2014 6.4.2) round trips and rejections.
#include "vnetsim/wire/lacp.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

#include "vnetsim/wire/ethernet.hpp"
#include "wire_test_support.hpp"

using namespace vnetsim::wire;
using namespace vnetsim::wire::test;

namespace {


// A steady-state LACPDU from a Linux bond member (Intel NIC 00:1b:21:88:a5:c1) to a Cisco
// switch, both sides Active/Aggregatable/In sync/Collecting/Distributing with the long
// timeout: actor and partner state 0x3d. Hand-written to the layout of teaming-facts.md
// [OVSlacp][OpenBSD]; tshark decodes it as "Actor State: 0x3d, LACP Activity, Aggregation,
// Synchronization, Collecting, Distributing" with Actor Key 13, Partner Key 33,
// Partner Port 260, Collector Max Delay 0, then Terminator and Pad.
constexpr auto lacp_frame = make_bytes(
    0x01, 0x80, 0xc2, 0x00, 0x00, 0x02,  // dst: Slow_Protocols_Multicast
    0x00, 0x1b, 0x21, 0x88, 0xa5, 0xc1,  // src
    0x88, 0x09,                          // Slow Protocols
    0x01, 0x01,                          // subtype LACP, version 1
    0x01, 0x14,                          // actor TLV, 20
    0x80, 0x00,                          // system priority 32768
    0x00, 0x1b, 0x21, 0x88, 0xa5, 0xc0,  // system
    0x00, 0x0d,                          // key 13
    0x80, 0x00,                          // port priority 32768
    0x00, 0x01,                          // port 1
    0x3d,                                // state
    0x00, 0x00, 0x00,                    // reserved
    0x02, 0x14,                          // partner TLV, 20
    0x80, 0x00, 0x00, 0x1c, 0x0e, 0x87, 0x85, 0x00, 0x00, 0x21, 0x80, 0x00, 0x01, 0x04,
    0x3d, 0x00, 0x00, 0x00,
    0x03, 0x10,                          // collector TLV, 16
    0x00, 0x00,                          // max delay 0
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  // reserved (12)
    0x00, 0x00,                          // terminator
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  // reserved (50)
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
static_assert(lacp_frame.size() == ethernet_header_len + lacpdu_len);

std::vector<std::byte> pdu() {
  const auto p = const_bytes{lacp_frame}.subspan(ethernet_header_len);
  return {p.begin(), p.end()};
}

}  // namespace

TEST_CASE("lacp: captured-layout LACPDU with actor state 0x3d") {
  const ethernet_frame_const eth{lacp_frame};
  CHECK(eth.dst() == slow_protocols_address);
  CHECK(eth.type_or_len() == slow_protocols_ether_type);

  const auto r = lacp_repr::parse(eth.payload());
  REQUIRE(r.has_value());
  CHECK(r->actor.system_priority == 32768);
  CHECK(r->actor.system == *mac_address::parse("00:1b:21:88:a5:c0"));
  CHECK(r->actor.key == 13);
  CHECK(r->actor.port_priority == 32768);
  CHECK(r->actor.port == 1);
  CHECK(r->actor.state.bits == 0x3d);
  CHECK(r->actor.state.activity());
  CHECK_FALSE(r->actor.state.short_timeout());
  CHECK(r->actor.state.aggregation());
  CHECK(r->actor.state.synchronization());
  CHECK(r->actor.state.collecting());
  CHECK(r->actor.state.distributing());
  CHECK_FALSE(r->actor.state.defaulted());
  CHECK_FALSE(r->actor.state.expired());

  CHECK(r->partner.system == *mac_address::parse("00:1c:0e:87:85:00"));
  CHECK(r->partner.key == 33);
  CHECK(r->partner.port == 260);
  CHECK(r->partner.state.bits == 0x3d);
  CHECK(r->collector_max_delay == 0);
  CHECK(r->buffer_len() == 110);

  // emit writes every byte, reserved ones included, over a dirty buffer.
  std::array<std::byte, lacpdu_len> out{};
  out.fill(std::byte{0xaa});
  r->emit(lacp_packet{out});
  CHECK(std::ranges::equal(out, eth.payload()));
}

TEST_CASE("lacp: view offsets") {
  const auto p = pdu();
  const auto v = lacp_packet_const::checked(p);
  REQUIRE(v.has_value());
  CHECK(v->subtype() == 1);
  CHECK(v->version() == 1);
  CHECK(v->actor().tlv_type() == 1);
  CHECK(v->actor().tlv_len() == 20);
  CHECK(v->partner().tlv_type() == 2);
  CHECK(v->partner().port_priority() == 32768);
  CHECK(v->collector_type() == 3);
  CHECK(v->collector_len() == 16);
  CHECK(v->terminator_type() == 0);
  CHECK(v->terminator_len() == 0);
}

TEST_CASE("lacp: state bits") {
  CHECK(lacp_state_bit::activity == 0x01);
  CHECK(lacp_state_bit::timeout == 0x02);
  CHECK(lacp_state_bit::aggregation == 0x04);
  CHECK(lacp_state_bit::synchronization == 0x08);
  CHECK(lacp_state_bit::collecting == 0x10);
  CHECK(lacp_state_bit::distributing == 0x20);
  CHECK(lacp_state_bit::defaulted == 0x40);
  CHECK(lacp_state_bit::expired == 0x80);

  lacp_state s;
  s.set(lacp_state_bit::activity).set(lacp_state_bit::aggregation);
  s.set(lacp_state_bit::synchronization).set(lacp_state_bit::collecting);
  s.set(lacp_state_bit::distributing);
  CHECK(s.bits == 0x3d);
  s.set(lacp_state_bit::timeout).set(lacp_state_bit::synchronization, false);
  CHECK(s.bits == 0x37);
  CHECK(s.short_timeout());
  CHECK_FALSE(s.synchronization());
  s.set(lacp_state_bit::defaulted).set(lacp_state_bit::expired);
  CHECK(s.defaulted());
  CHECK(s.expired());
}

TEST_CASE("lacp: a repr built by hand round-trips") {
  lacp_repr r;
  r.actor = {0xffff, *mac_address::parse("02:00:00:00:00:01"), 0x1234, 255, 7,
             lacp_state{0x47}};
  r.partner = {1, *mac_address::parse("02:00:00:00:00:02"), 2, 3, 4, lacp_state{0xc2}};
  r.collector_max_delay = 500;
  std::array<std::byte, lacpdu_len> out{};
  r.emit(lacp_packet{out});
  CHECK(get_u16(out, 2 + 2) == 0xffff);
  CHECK(get_u16(out, 44) == 500);
  const auto back = lacp_repr::parse(out);
  REQUIRE(back.has_value());
  CHECK(*back == r);
}

TEST_CASE("lacp: reserved bytes are ignored on receipt") {
  auto p = pdu();
  put_u8(p, 19, 0xff);   // actor reserved
  put_u8(p, 50, 0xff);   // collector reserved
  put_u8(p, 109, 0xff);  // trailing reserved
  const auto r = lacp_repr::parse(p);
  REQUIRE(r.has_value());
  CHECK(*r == *lacp_repr::parse(pdu()));
}

TEST_CASE("lacp: rejections") {
  auto p = pdu();
  SUBCASE("truncated") {
    CHECK(error_of(lacp_repr::parse(std::span{p}.first(109))) == parse_error::truncated);
    CHECK(error_of(lacp_repr::parse(const_bytes{})) == parse_error::truncated);
  }
  SUBCASE("Marker subtype") {
    put_u8(p, 0, slow_subtype_marker);
    CHECK(error_of(lacp_repr::parse(p)) == parse_error::bad_type);
  }
  SUBCASE("version not 1") {
    put_u8(p, 1, 0);
    CHECK(error_of(lacp_repr::parse(p)) == parse_error::bad_version);
    put_u8(p, 1, 2);
    CHECK(error_of(lacp_repr::parse(p)) == parse_error::bad_version);
  }
  SUBCASE("actor TLV type or length") {
    put_u8(p, 2, lacp_tlv_partner);
    CHECK(error_of(lacp_repr::parse(p)) == parse_error::bad_option);
    put_u8(p, 2, lacp_tlv_actor);
    put_u8(p, 3, 19);
    CHECK(error_of(lacp_repr::parse(p)) == parse_error::bad_option);
  }
  SUBCASE("partner TLV type or length") {
    put_u8(p, 22, lacp_tlv_actor);
    CHECK(error_of(lacp_repr::parse(p)) == parse_error::bad_option);
    put_u8(p, 22, lacp_tlv_partner);
    put_u8(p, 23, 21);
    CHECK(error_of(lacp_repr::parse(p)) == parse_error::bad_option);
  }
  SUBCASE("collector TLV type or length") {
    put_u8(p, 42, 4);
    CHECK(error_of(lacp_repr::parse(p)) == parse_error::bad_option);
    put_u8(p, 42, lacp_tlv_collector);
    put_u8(p, 43, 15);
    CHECK(error_of(lacp_repr::parse(p)) == parse_error::bad_option);
  }
  SUBCASE("terminator type or length") {
    put_u8(p, 58, 1);
    CHECK(error_of(lacp_repr::parse(p)) == parse_error::bad_option);
    put_u8(p, 58, 0);
    put_u8(p, 59, 2);
    CHECK(error_of(lacp_repr::parse(p)) == parse_error::bad_option);
  }
}
