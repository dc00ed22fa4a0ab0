// vnetsim's NIC-team beacon frame (its own documented format, see beacon.hpp).
#include "vnetsim/wire/beacon.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <optional>
#include <vector>
#include "wire_test_support.hpp"

using namespace vnetsim::wire;
using namespace vnetsim::wire::test;

namespace {


// Beacon from vmnic1 (00:50:56:aa:00:02), member 1 of bond 3, sequence 0x01020304,
// untagged, default EtherType 0x88b5.
constexpr auto beacon_frame = make_bytes(
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // broadcast
    0x00, 0x50, 0x56, 0xaa, 0x00, 0x02,  // src: sending vmnic
    0x88, 0xb5,                          // local experimental EtherType 1
    0x56, 0x4e, 0x53, 0x42,              // "VNSB"
    0x01,                                // version
    0x00,                                // flags
    0x00, 0x03,                          // bond id
    0x00, 0x01,                          // member index
    0x01, 0x02, 0x03, 0x04,              // sequence
    0x00, 0x50, 0x56, 0xaa, 0x00, 0x02,  // sender MAC
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
static_assert(beacon_frame.size() == 60);

// The same beacon tagged with SwitchFailoverBeaconVlanID 200 and a configured EtherType
// 0x88b6.
constexpr auto tagged_beacon_frame = make_bytes(
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x50, 0x56, 0xaa, 0x00, 0x02,
    0x81, 0x00, 0x00, 0xc8,  // VID 200
    0x88, 0xb6,
    0x56, 0x4e, 0x53, 0x42, 0x01, 0x00, 0x00, 0x03, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04,
    0x00, 0x50, 0x56, 0xaa, 0x00, 0x02,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
static_assert(tagged_beacon_frame.size() == 64);

const mac_address vmnic1 = *mac_address::parse("00:50:56:aa:00:02");

std::vector<std::byte> payload() {
  const auto p = const_bytes{beacon_frame}.subspan(14);
  return {p.begin(), p.end()};
}

}  // namespace

TEST_CASE("beacon: payload fields and exact re-emission") {
  const auto p = payload();
  const auto v = beacon_packet_const::checked(p);
  REQUIRE(v.has_value());
  CHECK(v->magic() == beacon_magic);
  CHECK(v->version() == 1);

  const auto r = beacon_repr::parse(p);
  REQUIRE(r.has_value());
  CHECK(r->flags == 0);
  CHECK(r->bond_id == 3);
  CHECK(r->member_index == 1);
  CHECK(r->sequence == 0x01020304);
  CHECK(r->sender_mac == vmnic1);
  CHECK(r->buffer_len() == 46);

  std::array<std::byte, beacon_payload_len> out{};
  out.fill(std::byte{0xaa});  // padding must be zeroed
  r->emit(beacon_packet{out});
  CHECK(std::ranges::equal(out, p));
}

TEST_CASE("beacon: format constants") {
  CHECK(beacon_default_ether_type == 0x88b5);
  // "VNSB" in ASCII.
  const auto m = make_bytes('V', 'N', 'S', 'B');
  CHECK(get_u32(m, 0) == beacon_magic);
  CHECK(beacon_payload_len == ethernet_min_payload_len);
}

TEST_CASE("beacon: untagged frame") {
  const auto f = beacon_frame_repr::parse(beacon_frame);
  REQUIRE(f.has_value());
  CHECK(f->src == vmnic1);
  CHECK_FALSE(f->tag.has_value());
  CHECK(f->ether_type == beacon_default_ether_type);
  CHECK(f->beacon.sequence == 0x01020304);
  CHECK(f->buffer_len() == 60);

  std::array<std::byte, 60> out{};
  out.fill(std::byte{0x55});
  f->emit(out);
  CHECK(std::ranges::equal(out, beacon_frame));
}

TEST_CASE("beacon: tagged frame with a configured EtherType") {
  const auto f = beacon_frame_repr::parse(tagged_beacon_frame, 0x88b6);
  REQUIRE(f.has_value());
  REQUIRE(f->tag.has_value());
  CHECK(f->tag->vid == 200);
  CHECK(f->ether_type == 0x88b6);
  CHECK(f->beacon.member_index == 1);
  CHECK(f->buffer_len() == 64);

  std::array<std::byte, 64> out{};
  f->emit(out);
  CHECK(std::ranges::equal(out, tagged_beacon_frame));

  // Built from scratch.
  beacon_frame_repr b;
  b.src = vmnic1;
  b.tag = vlan_repr{vlan_tpid_c, 0, false, 200};
  b.ether_type = 0x88b6;
  b.beacon = {0, 3, 1, 0x01020304, vmnic1};
  CHECK(b == *f);
}

TEST_CASE("beacon: flags are carried unchanged") {
  beacon_repr r{0xa5, 0xfffe, 9, 0xffffffff, vmnic1};
  std::array<std::byte, 46> out{};
  r.emit(beacon_packet{out});
  CHECK(get_u8(out, 5) == 0xa5);
  const auto back = beacon_repr::parse(out);
  REQUIRE(back.has_value());
  CHECK(*back == r);
}

TEST_CASE("beacon: rejections") {
  auto p = payload();
  SUBCASE("payload shorter than 46 bytes") {
    CHECK(error_of(beacon_repr::parse(std::span{p}.first(45))) == parse_error::truncated);
    CHECK(error_of(beacon_repr::parse(std::span{p}.first(20))) == parse_error::truncated);
  }
  SUBCASE("bad magic") {
    put_u8(p, 3, 'X');
    CHECK(error_of(beacon_repr::parse(p)) == parse_error::bad_type);
  }
  SUBCASE("bad version") {
    put_u8(p, 4, 0);
    CHECK(error_of(beacon_repr::parse(p)) == parse_error::bad_version);
    put_u8(p, 4, 2);
    CHECK(error_of(beacon_repr::parse(p)) == parse_error::bad_version);
  }
  SUBCASE("frame with another EtherType") {
    CHECK(error_of(beacon_frame_repr::parse(beacon_frame, 0x88b6)) == parse_error::bad_type);
    CHECK(error_of(beacon_frame_repr::parse(tagged_beacon_frame)) == parse_error::bad_type);
  }
  SUBCASE("frame truncated") {
    CHECK(error_of(beacon_frame_repr::parse(const_bytes{beacon_frame}.first(13))) ==
          parse_error::truncated);
    CHECK(error_of(beacon_frame_repr::parse(const_bytes{beacon_frame}.first(59))) ==
          parse_error::truncated);
  }
  SUBCASE("stacked tags") {
    std::vector<std::byte> f(tagged_beacon_frame.begin(), tagged_beacon_frame.end());
    put_u16(f, 12, vlan_tpid_s);
    CHECK(error_of(beacon_frame_repr::parse(f, 0x88b6)) == parse_error::stacked_tag);
  }
}
