// 48-bit MAC addresses: parsing, printing, predicates.
#include "vnetsim/wire/mac.hpp"

#include <doctest/doctest.h>

#include <array>
#include <span>

#include "vnetsim/wire/bytes.hpp"

using namespace vnetsim::wire;

TEST_CASE("mac: parse colon and dash forms, either case") {
  const auto a = mac_address::parse("00:1c:0e:87:85:00");
  REQUIRE(a.has_value());
  CHECK(a->octets() == std::array<std::uint8_t, 6>{0x00, 0x1c, 0x0e, 0x87, 0x85, 0x00});
  CHECK(mac_address::parse("00-1C-0E-87-85-00") == a);
  CHECK(mac_address::parse("00:1C:0e:87:85:00") == a);
  CHECK(mac_address::parse("ff:ff:ff:ff:ff:ff") == mac_address::broadcast());
}

TEST_CASE("mac: parse rejects malformed text") {
  CHECK_FALSE(mac_address::parse("").has_value());
  CHECK_FALSE(mac_address::parse("00:1c:0e:87:85").has_value());        // too short
  CHECK_FALSE(mac_address::parse("00:1c:0e:87:85:00:").has_value());    // too long
  CHECK_FALSE(mac_address::parse("00:1c:0e:87:85:0").has_value());
  CHECK_FALSE(mac_address::parse("00:1c-0e:87:85:00").has_value());     // mixed separators
  CHECK_FALSE(mac_address::parse("00.1c.0e.87.85.00").has_value());     // wrong separator
  CHECK_FALSE(mac_address::parse("0g:1c:0e:87:85:00").has_value());     // not hex
  CHECK_FALSE(mac_address::parse("001c:0e:87:85:00:").has_value());
  CHECK_FALSE(mac_address::parse("001c.0e87.8500").has_value());        // Cisco dotted form
}

TEST_CASE("mac: print") {
  const auto a = *mac_address::parse("00-50-56-9A-12-34");
  CHECK(a.to_string() == "00:50:56:9a:12:34");
  CHECK(fmt::format("{}", a) == "00:50:56:9a:12:34");
  CHECK(fmt::format("[{:>19}]", a) == "[  00:50:56:9a:12:34]");
  CHECK(mac_address{}.to_string() == "00:00:00:00:00:00");
  CHECK(mac_address::parse(a.to_string()) == a);
}

TEST_CASE("mac: group, broadcast, local and zero predicates") {
  const auto broadcast = mac_address::broadcast();
  CHECK(broadcast.is_broadcast());
  CHECK(broadcast.is_multicast());
  CHECK_FALSE(broadcast.is_unicast());

  const auto stp = *mac_address::parse("01:80:c2:00:00:00");
  CHECK(stp.is_multicast());
  CHECK_FALSE(stp.is_broadcast());
  CHECK_FALSE(stp.is_local());
  CHECK(stp.oui() == 0x0180c2);

  const auto vmware = *mac_address::parse("00:50:56:9a:12:34");
  CHECK(vmware.is_unicast());
  CHECK_FALSE(vmware.is_multicast());
  CHECK_FALSE(vmware.is_local());
  CHECK(vmware.oui() == 0x005056);

  const auto local = *mac_address::parse("02:00:00:00:00:01");
  CHECK(local.is_local());
  CHECK(local.is_unicast());

  CHECK(mac_address{}.is_zero());
  CHECK_FALSE(vmware.is_zero());
}

TEST_CASE("mac: integer and byte conversions") {
  constexpr auto m = mac_address::from_u64(0x001c'0e87'8500ULL);
  static_assert(m.to_u64() == 0x001c'0e87'8500ULL);
  CHECK(m.octets()[1] == 0x1c);
  CHECK(mac_address::from_u64(0xabcd'0000'0000'0001ULL).to_u64() == 1);  // top bits dropped

  std::array<std::byte, 8> buf{};
  m.write(buf, 1);
  CHECK(buf[0] == std::byte{0});
  CHECK(buf[1] == std::byte{0x00});
  CHECK(buf[2] == std::byte{0x1c});
  CHECK(buf[6] == std::byte{0x00});
  CHECK(buf[5] == std::byte{0x85});
  CHECK(buf[7] == std::byte{0});
  CHECK(mac_address::read(buf, 1) == m);
}

TEST_CASE("mac: ordering is numeric") {
  const auto a = *mac_address::parse("00:00:00:00:00:02");
  const auto b = *mac_address::parse("00:00:00:00:01:00");
  const auto c = *mac_address::parse("01:00:00:00:00:00");
  CHECK(a < b);
  CHECK(b < c);
  CHECK((a < c) == (a.to_u64() < c.to_u64()));
  CHECK(a != b);
}

TEST_CASE("load_be64: one load equals get_u64, and its top 48 bits the MAC at that offset") {
  const std::array<std::uint8_t, 16> raw{0x00, 0x50, 0x56, 0x01, 0x02, 0x03, 0x00, 0x0c,
                                         0x29, 0xaa, 0xbb, 0xcc, 0x08, 0x06, 0xff, 0xee};
  const auto b = std::as_bytes(std::span(raw));
  CHECK(load_be64(b.data()) == 0x0050'5601'0203'000cULL);
  CHECK(load_be64(b.data()) == get_u64(b, 0));
  CHECK((load_be64(b.data() + 6) >> 16) == mac_address::read(b, 6).to_u64());
  CHECK((load_be64(b.data() + 6) & 0xffff) == 0x0806);
}
