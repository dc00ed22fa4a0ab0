#include "vnetsim/proto/config_error.hpp"

#include <doctest/doctest.h>

#include <string>
#include <type_traits>

#include "vnetsim/proto/beacon.hpp"
#include "vnetsim/proto/bond_policy.hpp"
#include "vnetsim/proto/lacp.hpp"
#include "vnetsim/proto/rstp.hpp"

using namespace vnetsim;

static_assert(std::is_base_of_v<proto::config_error, bond::config_error>);
static_assert(std::is_base_of_v<proto::config_error, beacon::config_error>);
static_assert(std::is_base_of_v<proto::config_error, lacp::config_error>);
static_assert(std::is_base_of_v<proto::config_error, rstp::config_error>);

TEST_CASE("config_error: what() names component, parameter, value and rule") {
  const proto::config_error e("stp", "hello_time", "11s", "must be within [1s, 10s]");
  CHECK(std::string(e.what()) == "stp: hello_time = 11s: must be within [1s, 10s]");
  CHECK(e.parameter() == "hello_time");
  CHECK(e.value() == "11s");
  CHECK(e.rule() == "must be within [1s, 10s]");
}

TEST_CASE("config_error: each engine's error is caught through the common base") {
  const auto caught = [](auto thrower) -> std::string {
    try {
      thrower();
    } catch (const proto::config_error& e) {
      return e.what();
    }
    return "not caught";
  };
  CHECK(caught([] { throw bond::config_error("members", "0", "x"); }) == "bond: members = 0: x");
  CHECK(caught([] { throw beacon::config_error("vlan_id", "0", "x"); }) ==
        "beacon: vlan_id = 0: x");
  CHECK(caught([] { throw lacp::config_error("ports", "0", "x"); }) == "lacp: ports = 0: x");
  CHECK(caught([] { throw rstp::config_error("max_age", "5s", "x"); }) ==
        "rstp: max_age = 5s: x");
  // A real engine's rejection, not only a hand-thrown one.
  CHECK(caught([] { bond::policy p(bond::config{}); }) ==
        "bond: members = 0: a bond needs at least one adapter");
}
