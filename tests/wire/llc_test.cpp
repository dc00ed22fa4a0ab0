// IEEE 802.2 LLC header and the 802.3 length field.
#include "vnetsim/wire/llc.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <optional>
#include <vector>
#include "captures.hpp"
#include "wire_test_support.hpp"

using namespace vnetsim::wire;
using namespace vnetsim::wire::test;

TEST_CASE("llc: the LLC header of a captured STP frame") {
  const const_bytes frame{config_frame};
  const auto data = length_framed_data(get_u16(frame, 12), frame.subspan(14));
  REQUIRE(data.has_value());
  CHECK(data->size() == 38);
  CHECK(data->data() == frame.data() + 14);  // a view, not a copy

  const llc_header_const v{*data};
  REQUIRE(v.check_len());
  CHECK(v.dsap() == 0x42);
  CHECK(v.ssap() == 0x42);
  CHECK(v.control() == 0x03);
  CHECK(v.is_u_format());
  CHECK(v.payload().size() == 35);

  const auto r = llc_repr::parse(*data);
  REQUIRE(r.has_value());
  CHECK(*r == stp_llc);
  CHECK(r->buffer_len() == 3);

  std::array<std::byte, 3> out{};
  r->emit(llc_header{out});
  CHECK(std::ranges::equal(out, frame.subspan(14, 3)));
}

TEST_CASE("llc: U-format only") {
  const auto snap = make_bytes(0xaa, 0xaa, 0x03);
  const auto r = llc_repr::parse(snap);
  REQUIRE(r.has_value());
  CHECK(r->dsap == llc_sap_snap);

  // I-format (low bit 0) and S-format (low bits 01) have a 2-byte control field.
  const auto i_format = make_bytes(0x42, 0x42, 0x00, 0x00);
  CHECK(error_of(llc_repr::parse(i_format)) == parse_error::unsupported);
  CHECK_FALSE(llc_header_const{i_format}.is_u_format());
  const auto s_format = make_bytes(0x42, 0x42, 0x01, 0x00);
  CHECK(error_of(llc_repr::parse(s_format)) == parse_error::unsupported);
  // TEST frames (control 0xe3) are U-format.
  const auto test_cmd = make_bytes(0x00, 0x00, 0xe3);
  CHECK(llc_repr::parse(test_cmd).has_value());

  const auto two = make_bytes(0x42, 0x42);
  CHECK(error_of(llc_repr::parse(two)) == parse_error::truncated);
  CHECK_FALSE(llc_header_const::checked(two).has_value());
}

TEST_CASE("llc: 802.3 length field consistency") {
  std::vector<std::byte> data(1500);
  SUBCASE("within the bytes present, padding excluded") {
    const auto d = length_framed_data(38, const_bytes{data}.first(46));
    REQUIRE(d.has_value());
    CHECK(d->size() == 38);
  }
  SUBCASE("the largest length, 1500") {
    const auto d = length_framed_data(1500, data);
    REQUIRE(d.has_value());
    CHECK(d->size() == 1500);
  }
  SUBCASE("zero length") {
    const auto d = length_framed_data(0, data);
    REQUIRE(d.has_value());
    CHECK(d->empty());
  }
  SUBCASE("more than the bytes present") {
    CHECK(error_of(length_framed_data(39, const_bytes{data}.first(38))) == parse_error::truncated);
  }
  SUBCASE("1501..1535 are neither length nor EtherType") {
    CHECK(error_of(length_framed_data(1501, data)) == parse_error::bad_length);
    CHECK(error_of(length_framed_data(0x05ff, data)) == parse_error::bad_length);
  }
  SUBCASE("an EtherType is not a length") {
    CHECK(error_of(length_framed_data(0x0600, data)) == parse_error::bad_type);
    CHECK(error_of(length_framed_data(0x0800, data)) == parse_error::bad_type);
    CHECK(error_of(length_framed_data(0x8870, data)) == parse_error::bad_type);
  }
}
