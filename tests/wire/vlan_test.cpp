// IEEE 802.1Q tags: TCI fields, the tag-stack parsers and in-place insert/strip.
#include "vnetsim/wire/vlan.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <optional>
#include <vector>
#include "captures.hpp"
#include "wire_test_support.hpp"

using namespace vnetsim::wire;
using namespace vnetsim::wire::test;

namespace {


// captures.hpp's tagged_garp, untagged.
constexpr auto untagged_garp = make_bytes(
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x50, 0x56, 0x01, 0x02, 0x03, 0x08, 0x06,
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
    0x00, 0x50, 0x56, 0x01, 0x02, 0x03, 0x0a, 0x00, 0x00, 0x05,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x05,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
static_assert(untagged_garp.size() == 60);

// 802.1ad Q-in-Q: S-tag VID 10 outside a C-tag VID 100, then IPv4. tshark: "IEEE 802.1ad,
// ID: 10" then "802.1Q Virtual LAN, PRI: 0, DEI: 0, ID: 100".
constexpr auto qinq_frame = make_bytes(
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x50, 0x56, 0x01, 0x02, 0x03,
    0x88, 0xa8, 0x00, 0x0a,  // S-tag VID 10
    0x81, 0x00, 0x00, 0x64,  // C-tag VID 100
    0x08, 0x00,              // IPv4
    0x45, 0x00);

template <std::size_t N>
std::vector<std::byte> to_vec(const std::array<std::byte, N>& a) {
  return {a.begin(), a.end()};
}

}  // namespace

TEST_CASE("vlan: tag view decodes PCP, DEI and VID of a captured C-tag") {
  const vlan_tag_const v{const_bytes{tagged_garp}.subspan(vlan_tag_offset)};
  REQUIRE(v.check_len());
  CHECK(v.tpid() == 0x8100);
  CHECK(v.tci() == 0xa064);
  CHECK(v.pcp() == 5);
  CHECK_FALSE(v.dei());
  CHECK(v.vid() == 100);

  const auto r = vlan_repr::parse(v);
  CHECK(r == vlan_repr{vlan_tpid_c, 5, false, 100});
  CHECK(r.tci() == 0xa064);

  std::array<std::byte, 4> out{};
  r.emit(vlan_tag{out});
  CHECK(std::ranges::equal(out, const_bytes{tagged_garp}.subspan(12, 4)));
}

TEST_CASE("vlan: TCI bit edges: DEI, PCP 7, VID 0 (priority tag) and 4095 (reserved)") {
  auto all = make_bytes(0x81, 0x00, 0xff, 0xff);
  const auto r = vlan_repr::parse(vlan_tag_const{all});
  CHECK(r.pcp == 7);
  CHECK(r.dei);
  CHECK(r.vid == 4095);
  CHECK(r.is_reserved_vid());
  CHECK_FALSE(r.is_priority_tag());

  const vlan_repr prio{vlan_tpid_c, 3, false, vlan_vid_null};
  CHECK(prio.tci() == 0x6000);
  CHECK(prio.is_priority_tag());

  const vlan_repr dei_only{vlan_tpid_c, 0, true, 1};
  CHECK(dei_only.tci() == 0x1001);

  // emit masks out-of-range values instead of corrupting neighbouring bits.
  const vlan_repr wide{vlan_tpid_c, 0x0f, false, 0x1fff};
  CHECK(wide.tci() == 0xefff);

  std::array<std::byte, 3> short_buf{};
  CHECK_FALSE(vlan_tag::checked(short_buf).has_value());
}

TEST_CASE("vlan: parse_tag_stack on untagged and single-tagged frames") {
  SUBCASE("untagged") {
    const auto s = parse_tag_stack(untagged_garp);
    REQUIRE(s.has_value());
    CHECK(s->tag_count == 0);
    CHECK_FALSE(s->is_tagged());
    CHECK_FALSE(s->outer.has_value());
    CHECK_FALSE(s->vid().has_value());
    CHECK(s->inner_type == 0x0806);
    CHECK(s->payload_offset == 14);
  }
  SUBCASE("one C-tag") {
    const auto s = parse_tag_stack(tagged_garp);
    REQUIRE(s.has_value());
    CHECK(s->tag_count == 1);
    REQUIRE(s->outer.has_value());
    CHECK(s->outer->vid == 100);
    CHECK(s->outer->pcp == 5);
    CHECK(s->vid() == std::optional<std::uint16_t>{100});
    CHECK(s->inner_type == 0x0806);
    CHECK(s->payload_offset == 18);
    // The payload offset lands on the ARP header.
    CHECK(get_u16(tagged_garp, s->payload_offset) == 0x0001);
  }
  SUBCASE("priority-tagged frame has no VID") {
    auto f = to_vec(tagged_garp);
    put_u16(f, 14, 0xa000);  // PCP 5, VID 0
    const auto s = parse_tag_stack(f);
    REQUIRE(s.has_value());
    CHECK(s->tag_count == 1);
    CHECK(s->outer->is_priority_tag());
    CHECK_FALSE(s->vid().has_value());
  }
  SUBCASE("802.3 length field after a tag is reported as the inner type") {
    auto f = to_vec(tagged_garp);
    put_u16(f, 16, 38);
    const auto s = parse_tag_stack(f);
    REQUIRE(s.has_value());
    CHECK(s->inner_type == 38);
  }
}

TEST_CASE("vlan: stacked tags are rejected by the single-tag parser but described") {
  SUBCASE("S-tag outside C-tag (802.1ad)") {
    const auto p = parse_tag_stack(qinq_frame);
    REQUIRE_FALSE(p.has_value());
    CHECK(error_of(p) == parse_error::stacked_tag);

    const auto d = describe_tag_stack(qinq_frame);
    REQUIRE(d.has_value());
    CHECK(d->tag_count == 2);
    CHECK(d->outer->tpid == vlan_tpid_s);
    CHECK(d->outer->vid == 10);
    CHECK(d->inner_type == 0x0800);
    CHECK(d->payload_offset == 22);
  }
  SUBCASE("C-tag inside C-tag") {
    auto f = to_vec(qinq_frame);
    put_u16(f, 12, vlan_tpid_c);
    CHECK(error_of(parse_tag_stack(f)) == parse_error::stacked_tag);
    const auto d = describe_tag_stack(f);
    REQUIRE(d.has_value());
    CHECK(d->tag_count == 2);
    CHECK(d->outer->tpid == vlan_tpid_c);
  }
  SUBCASE("a lone S-tag is Q-in-Q too") {
    auto f = to_vec(tagged_garp);
    put_u16(f, 12, vlan_tpid_s);
    CHECK(error_of(parse_tag_stack(f)) == parse_error::stacked_tag);
    const auto d = describe_tag_stack(f);
    REQUIRE(d.has_value());
    CHECK(d->tag_count == 1);
    CHECK(d->inner_type == 0x0806);
  }
  SUBCASE("three tags") {
    const auto f = make_bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  //
                              0x88, 0xa8, 0, 1, 0x81, 0x00, 0, 2, 0x81, 0x00, 0, 3, 0x08, 0x00);
    const auto d = describe_tag_stack(f);
    REQUIRE(d.has_value());
    CHECK(d->tag_count == 3);
    CHECK(d->payload_offset == 26);
    CHECK(error_of(parse_tag_stack(f)) == parse_error::stacked_tag);
  }
}

TEST_CASE("vlan: truncated frames") {
  const const_bytes tagged{tagged_garp};
  CHECK(error_of(describe_tag_stack(tagged.first(13))) == parse_error::truncated);
  CHECK(error_of(parse_tag_stack(tagged.first(0))) == parse_error::truncated);
  // TPID present, TCI or inner type cut off.
  CHECK(error_of(parse_tag_stack(tagged.first(14))) == parse_error::truncated);
  CHECK(error_of(parse_tag_stack(tagged.first(16))) == parse_error::truncated);
  CHECK(error_of(parse_tag_stack(tagged.first(17))) == parse_error::truncated);
  // Header, tag and inner type exactly: an empty payload is fine.
  const auto s = parse_tag_stack(tagged.first(18));
  REQUIRE(s.has_value());
  CHECK(s->payload_offset == 18);
  // Second tag cut off.
  CHECK(error_of(describe_tag_stack(const_bytes{qinq_frame}.first(20))) == parse_error::truncated);
  // Untagged header only.
  CHECK(parse_tag_stack(const_bytes{untagged_garp}.first(14)).has_value());
}

TEST_CASE("vlan: emit_tag_in_place moves only the 12 address bytes") {
  // 4 bytes of headroom (sentinel 0xee) then the untagged frame.
  std::vector<std::byte> buf(vlan_headroom, std::byte{0xee});
  buf.insert(buf.end(), untagged_garp.begin(), untagged_garp.end());
  const std::vector<std::byte> before = buf;
  const std::byte* payload_addr = buf.data() + vlan_headroom + vlan_tag_offset;

  const vlan_repr tag{vlan_tpid_c, 5, false, 100};
  const auto tagged = emit_tag_in_place(buf, tag);
  REQUIRE(tagged.has_value());
  CHECK(tagged->data() == buf.data());
  CHECK(tagged->size() == buf.size());

  // The result is byte for byte the captured tagged frame (same padding length plus 4).
  REQUIRE(tagged->size() == untagged_garp.size() + 4);
  CHECK(std::ranges::equal(tagged->first(18), const_bytes{tagged_garp}.first(18)));
  CHECK(std::ranges::equal(tagged->subspan(18, 28), const_bytes{tagged_garp}.subspan(18, 28)));

  // Everything from the old type field on is untouched and at the same address.
  CHECK(buf.data() + 16 == payload_addr);
  CHECK(std::equal(buf.begin() + 16, buf.end(), before.begin() + 16));
  // Only [0, 16) changed: 12 moved address bytes and the 4-byte tag.
  std::size_t first_unchanged = buf.size();
  for (std::size_t i = buf.size(); i-- > 0;) {
    if (buf[i] != before[i]) break;
    first_unchanged = i;
  }
  CHECK(first_unchanged <= 16);

  const auto s = parse_tag_stack(*tagged);
  REQUIRE(s.has_value());
  CHECK(s->vid() == std::optional<std::uint16_t>{100});
  CHECK(s->inner_type == 0x0806);
}

TEST_CASE("vlan: strip_tag_in_place is the inverse and leaves the payload in place") {
  std::vector<std::byte> buf(tagged_garp.begin(), tagged_garp.end());
  const std::vector<std::byte> before = buf;
  const std::byte* payload_addr = buf.data() + 16;

  const auto untagged = strip_tag_in_place(buf);
  REQUIRE(untagged.has_value());
  CHECK(untagged->data() == buf.data() + 4);
  CHECK(untagged->size() == buf.size() - 4);
  // New frame: addresses moved forward, then the old inner type and payload unmoved.
  CHECK(std::ranges::equal(untagged->first(14), const_bytes{untagged_garp}.first(14)));
  CHECK(untagged->data() + 12 == payload_addr);
  CHECK(std::equal(buf.begin() + 16, buf.end(), before.begin() + 16));
  // The headroom bytes [0, 4) are left as they were.
  CHECK(std::equal(buf.begin(), buf.begin() + 4, before.begin()));

  // Insert then strip restores the original bytes.
  std::vector<std::byte> round(vlan_headroom, std::byte{0});
  round.insert(round.end(), untagged_garp.begin(), untagged_garp.end());
  const auto t = emit_tag_in_place(round, vlan_repr{vlan_tpid_c, 0, true, 4094});
  REQUIRE(t.has_value());
  const auto u = strip_tag_in_place(*t);
  REQUIRE(u.has_value());
  CHECK(std::ranges::equal(*u, untagged_garp));
}

TEST_CASE("vlan: in-place insert/strip refuse short or untagged buffers") {
  std::vector<std::byte> small(vlan_headroom + ethernet_header_len - 1);
  CHECK_FALSE(emit_tag_in_place(small, vlan_repr{}).has_value());
  std::vector<std::byte> just(vlan_headroom + ethernet_header_len);
  CHECK(emit_tag_in_place(just, vlan_repr{}).has_value());

  std::vector<std::byte> untagged(untagged_garp.begin(), untagged_garp.end());
  CHECK_FALSE(strip_tag_in_place(untagged).has_value());
  CHECK(std::ranges::equal(untagged, untagged_garp));  // not modified
  std::vector<std::byte> short_tagged(tagged_garp.begin(), tagged_garp.begin() + 17);
  CHECK_FALSE(strip_tag_in_place(short_tagged).has_value());
}

TEST_CASE("vlan: constants") {
  CHECK(is_vlan_tpid(0x8100));
  CHECK(is_vlan_tpid(0x88a8));
  CHECK_FALSE(is_vlan_tpid(0x9100));
  CHECK_FALSE(is_vlan_tpid(0x0800));
  CHECK(vlan_tagged_header_len == 18);
  CHECK(vlan_vid_max == 4094);
}
