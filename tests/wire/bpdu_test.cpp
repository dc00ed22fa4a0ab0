// STP/RSTP BPDUs (802.1D-2004 clause 9) from captured bytes.
#include "vnetsim/wire/bpdu.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

#include "vnetsim/wire/ethernet.hpp"
#include "vnetsim/wire/llc.hpp"
#include "captures.hpp"
#include "wire_test_support.hpp"

using namespace vnetsim::wire;
using namespace vnetsim::wire::test;

namespace {


constexpr std::int64_t s_ns = 1'000'000'000;

static_assert(rst_bpdu.size() == bpdu_rst_len);

// Topology Change Notification: tshark "BPDU Type: Topology Change Notification (0x80)".
constexpr auto tcn_bpdu = make_bytes(0x00, 0x00, 0x00, 0x80);

std::vector<std::byte> config_body() {
  const const_bytes f{config_frame};
  const auto b = f.subspan(17, 35);
  return {b.begin(), b.end()};
}

}  // namespace

TEST_CASE("bpdu: captured Cisco Configuration BPDU") {
  const ethernet_frame_const eth{config_frame};
  CHECK(eth.dst() == stp_group_address);
  REQUIRE(eth.is_length());
  const auto data = length_framed_data(eth.type_or_len(), eth.payload());
  REQUIRE(data.has_value());
  REQUIRE(*llc_repr::parse(*data) == stp_llc);
  const auto body = data->subspan(llc_u_header_len);
  CHECK(body.size() == bpdu_config_len);

  const auto r = bpdu_repr::parse(body);
  REQUIRE(r.has_value());
  CHECK(r->type == bpdu_type::config);
  CHECK(r->version == bpdu_version_stp);
  CHECK(r->flags.bits == 0);
  CHECK_FALSE(r->flags.tc());
  CHECK_FALSE(r->flags.tca());

  CHECK(r->root.priority == 0x8064);
  CHECK(r->root.priority_component() == 32768);
  CHECK(r->root.system_id_extension() == 100);
  CHECK(r->root.address == *mac_address::parse("00:1c:0e:87:78:00"));
  CHECK(r->root_path_cost == 4);
  CHECK(r->bridge.priority_component() == 32768);
  CHECK(r->bridge.system_id_extension() == 100);
  CHECK(r->bridge.address == *mac_address::parse("00:1c:0e:87:85:00"));
  CHECK(r->bridge.to_u64() == 0x8064'001c'0e87'8500ULL);
  CHECK(r->port.value == 0x8004);
  CHECK(r->port.priority() == 128);
  CHECK(r->port.number() == 4);

  CHECK(r->message_age == 0x0100);
  CHECK(r->max_age == 0x1400);
  CHECK(r->hello_time == 0x0200);
  CHECK(r->forward_delay == 0x0f00);
  CHECK(bpdu_time_to_ns(r->message_age) == 1 * s_ns);
  CHECK(bpdu_time_to_ns(r->max_age) == 20 * s_ns);
  CHECK(bpdu_time_to_ns(r->hello_time) == 2 * s_ns);
  CHECK(bpdu_time_to_ns(r->forward_delay) == 15 * s_ns);
  CHECK(r->message_age_valid());

  CHECK(r->buffer_len() == 35);
  CHECK(r->length_field() == 38);
  CHECK(r->length_field() == eth.type_or_len());

  std::array<std::byte, bpdu_config_len> out{};
  out.fill(std::byte{0xaa});
  r->emit(bpdu_packet{out});
  CHECK(std::ranges::equal(out, body));
}

TEST_CASE("bpdu: view field offsets on the captured BPDU") {
  const auto body = config_body();
  const auto v = bpdu_packet_const::checked(body);
  REQUIRE(v.has_value());
  CHECK(v->protocol_id() == 0);
  CHECK(v->type() == 0x00);
  CHECK(v->needed_len() == 35);
  CHECK(v->root().to_u64() == 0x8064'001c'0e87'7800ULL);
  CHECK(v->bridge().to_u64() == 0x8064'001c'0e87'8500ULL);
  CHECK(v->port().value == 0x8004);
  CHECK(v->forward_delay() == 0x0f00);
  CHECK_FALSE(bpdu_packet_const::checked(std::span{body}.first(34)).has_value());
}

TEST_CASE("bpdu: captured RST BPDU and its flags") {
  const auto r = bpdu_repr::parse(rst_bpdu);
  REQUIRE(r.has_value());
  CHECK(r->type == bpdu_type::rst);
  CHECK(r->version == bpdu_version_rstp);
  CHECK(r->flags.bits == 0x3d);
  CHECK(r->flags.tc());
  CHECK_FALSE(r->flags.proposal());
  CHECK(r->flags.role() == bpdu_role::designated);
  CHECK(r->flags.learning());
  CHECK(r->flags.forwarding());
  CHECK_FALSE(r->flags.agreement());
  CHECK_FALSE(r->flags.tca());
  CHECK(r->root == bridge_id::make(24576, 1, *mac_address::parse("00:0d:65:ad:f6:00")));
  CHECK(r->root_path_cost == 10);
  CHECK(r->bridge == bridge_id::make(32768, 1, *mac_address::parse("00:0b:fd:86:0f:00")));
  CHECK(r->port == port_id::make(128, 1));
  CHECK(bpdu_time_to_ns(r->message_age) == 1 * s_ns);
  CHECK(bpdu_time_to_ns(r->max_age) == 20 * s_ns);
  CHECK(r->buffer_len() == 36);
  CHECK(r->length_field() == 39);

  std::array<std::byte, bpdu_rst_len> out{};
  out.fill(std::byte{0xaa});
  r->emit(bpdu_packet{out});
  CHECK(std::ranges::equal(out, rst_bpdu));

  // The same flags built bit by bit.
  bpdu_flags f;
  f.set(bpdu_flag::topology_change).set(bpdu_flag::learning).set(bpdu_flag::forwarding);
  f.set_role(bpdu_role::designated);
  CHECK(f == r->flags);
}

TEST_CASE("bpdu: RST flag bits one by one") {
  bpdu_flags f;
  f.set(bpdu_flag::proposal);
  CHECK(f.bits == 0x02);
  CHECK(f.proposal());
  f.set_role(bpdu_role::alternate_backup);
  CHECK(f.bits == 0x06);
  f.set_role(bpdu_role::root);
  CHECK(f.bits == 0x0a);
  CHECK(f.role() == bpdu_role::root);
  f.set_role(bpdu_role::unknown);
  CHECK(f.bits == 0x02);
  f.set(bpdu_flag::agreement).set(bpdu_flag::topology_change_ack);
  CHECK(f.bits == 0xc2);
  CHECK(f.agreement());
  CHECK(f.tca());
  f.set(bpdu_flag::proposal, false);
  CHECK(f.bits == 0xc0);
}

TEST_CASE("bpdu: TCN BPDU") {
  const auto r = bpdu_repr::parse(tcn_bpdu);
  REQUIRE(r.has_value());
  CHECK(r->type == bpdu_type::tcn);
  CHECK(*r == bpdu_repr::tcn());
  CHECK(r->buffer_len() == 4);
  CHECK(r->length_field() == 7);
  std::array<std::byte, 4> out{};
  out.fill(std::byte{0xaa});
  r->emit(bpdu_packet{out});
  CHECK(std::ranges::equal(out, tcn_bpdu));
  // Padding after a TCN is ignored.
  const auto padded = make_bytes(0x00, 0x00, 0x00, 0x80, 0, 0, 0, 0, 0, 0);
  CHECK(bpdu_repr::parse(padded).has_value());
}

TEST_CASE("bpdu: rejections") {
  auto body = config_body();
  std::vector<std::byte> rst(rst_bpdu.begin(), rst_bpdu.end());
  SUBCASE("shorter than the header") {
    CHECK(error_of(bpdu_repr::parse(std::span{tcn_bpdu}.first(3))) == parse_error::truncated);
  }
  SUBCASE("Configuration BPDU shorter than 35 bytes") {
    CHECK(error_of(bpdu_repr::parse(std::span{body}.first(34))) == parse_error::truncated);
  }
  SUBCASE("RST BPDU shorter than 36 bytes") {
    CHECK(error_of(bpdu_repr::parse(std::span{rst}.first(35))) == parse_error::truncated);
  }
  SUBCASE("protocol identifier not 0") {
    put_u16(body, 0, 0x0001);
    CHECK(error_of(bpdu_repr::parse(body)) == parse_error::bad_version);
    put_u16(rst, 0, 0x4242);
    CHECK(error_of(bpdu_repr::parse(rst)) == parse_error::bad_version);
  }
  SUBCASE("RST type with a version below 2") {
    put_u8(rst, 2, 0);
    CHECK(error_of(bpdu_repr::parse(rst)) == parse_error::bad_version);
    put_u8(rst, 2, 1);
    CHECK(error_of(bpdu_repr::parse(rst)) == parse_error::bad_version);
  }
  SUBCASE("RST Version 1 Length not 0") {
    put_u8(rst, 35, 1);
    CHECK(error_of(bpdu_repr::parse(rst)) == parse_error::bad_length);
  }
  SUBCASE("unknown BPDU types") {
    put_u8(body, 3, 0x01);
    CHECK(error_of(bpdu_repr::parse(body)) == parse_error::bad_type);
    put_u8(body, 3, 0xff);
    CHECK(error_of(bpdu_repr::parse(body)) == parse_error::bad_type);
  }
}

TEST_CASE("bpdu: versions that 802.1D-2004 9.3.4 accepts") {
  SUBCASE("an MST BPDU (version 3) is read as RST, version kept") {
    std::vector<std::byte> mst(rst_bpdu.begin(), rst_bpdu.end());
    put_u8(mst, 2, bpdu_version_mstp);
    const auto r = bpdu_repr::parse(mst);
    REQUIRE(r.has_value());
    CHECK(r->type == bpdu_type::rst);
    CHECK(r->version == 3);
    std::array<std::byte, 36> out{};
    r->emit(bpdu_packet{out});
    CHECK(std::ranges::equal(out, mst));
  }
  SUBCASE("a Configuration BPDU is classified by type, whatever its version") {
    auto body = config_body();
    put_u8(body, 2, 2);
    const auto r = bpdu_repr::parse(body);
    REQUIRE(r.has_value());
    CHECK(r->type == bpdu_type::config);
    CHECK(r->version == 2);
  }
  SUBCASE("message age at or past max age is flagged, not rejected") {
    auto body = config_body();
    put_u16(body, 27, 0x1400);
    const auto r = bpdu_repr::parse(body);
    REQUIRE(r.has_value());
    CHECK_FALSE(r->message_age_valid());
  }
}

TEST_CASE("bpdu: bridge and port identifiers order as numbers, lower is better") {
  const auto a = *mac_address::parse("00:00:00:00:00:01");
  const auto b = *mac_address::parse("00:00:00:00:00:02");
  CHECK(bridge_id::make(4096, 0, b) < bridge_id::make(32768, 0, a));  // priority first
  CHECK(bridge_id::make(32768, 1, a) < bridge_id::make(32768, 1, b));  // then MAC
  CHECK(bridge_id::make(32768, 1, b) < bridge_id::make(32768, 2, a));  // extension is priority
  const auto x = bridge_id::make(24576, 1, *mac_address::parse("00:0d:65:ad:f6:00"));
  const auto y = bridge_id::make(32768, 1, *mac_address::parse("00:0b:fd:86:0f:00"));
  CHECK((x < y) == (x.to_u64() < y.to_u64()));
  CHECK(bridge_id::from_u64(x.to_u64()) == x);
  CHECK(bridge_id::make(32768 + 4095, 0, a).priority == 32768);  // low bits of prio dropped
  CHECK(bridge_id::make(0, 0x1fff, a).priority == 0x0fff);

  CHECK(x.to_string() == "6001.000d65adf600");
  CHECK(fmt::format("{}", y) == "8001.000bfd860f00");

  CHECK(port_id::make(128, 1) < port_id::make(128, 2));
  CHECK(port_id::make(16, 200) < port_id::make(128, 1));
  CHECK(port_id::make(240, 4095).value == 0xffff);
  CHECK(port_id::make(0x8f, 0x1001).value == 0x8001);
}

TEST_CASE("bpdu: time fields in 1/256 s and nanoseconds") {
  CHECK(bpdu_time_unit_ns * 256 == s_ns);
  CHECK(bpdu_time_from_s(2) == 0x0200);
  CHECK(bpdu_time_from_s(20) == 0x1400);
  CHECK(bpdu_time_from_s(15) == 0x0f00);
  CHECK(bpdu_time_to_ns(1) == 3'906'250);
  CHECK(bpdu_time_from_ns(2 * s_ns) == 0x0200);
  CHECK(bpdu_time_from_ns(s_ns / 2) == 0x0080);
  // Round to nearest, halves up.
  CHECK(bpdu_time_from_ns(bpdu_time_unit_ns / 2 - 1) == 0);
  CHECK(bpdu_time_from_ns(bpdu_time_unit_ns / 2) == 1);
  CHECK(bpdu_time_from_ns(bpdu_time_unit_ns + bpdu_time_unit_ns / 2 - 1) == 1);
  // Clamped.
  CHECK(bpdu_time_from_ns(-5) == 0);
  CHECK(bpdu_time_from_ns(256 * s_ns) == 0xffff);
  CHECK(bpdu_time_from_ns(bpdu_time_to_ns(0xffff)) == 0xffff);
  // Every encoding survives a round trip through nanoseconds.
  bool all = true;
  for (std::uint32_t t = 0; t <= 0xffff; ++t) {
    const auto e = static_cast<std::uint16_t>(t);
    all = all && bpdu_time_from_ns(bpdu_time_to_ns(e)) == e;
  }
  CHECK(all);
}
