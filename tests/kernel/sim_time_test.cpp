#include "vnetsim/kernel/sim_time.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace vnetsim;
using namespace vnetsim::literals;

TEST_CASE("sim_time literals count nanoseconds") {
  CHECK((2_s).ns() == 2'000'000'000);
  CHECK((100_ms).ns() == 100'000'000);
  CHECK((250_us).ns() == 250'000);
  CHECK((40_ns).ns() == 40);
  CHECK((2_min).ns() == 120'000'000'000);
  CHECK(1_s + 500_ms == sim_time::from_ms(1500));
  CHECK(3_s / 2 == 1500_ms);
  CHECK(3_s / 1_s == 3);
  CHECK(7_s % 2_s == 1_s);
  CHECK(-(1_s) < 0_s);
}

TEST_CASE("sim_time prints the shortest exact decimal in seconds") {
  CHECK((2_s).to_string() == "2s");
  CHECK((100_ms).to_string() == "0.1s");
  CHECK((1500_us).to_string() == "0.0015s");
  CHECK(sim_time::from_ns(1'000'000'001).to_string() == "1.000000001s");
  CHECK((0_s).to_string() == "0s");
  CHECK((-(500_ms)).to_string() == "-0.5s");
  CHECK(sim_time::max().to_string() == "9223372036.854775807s");
  CHECK(sim_time::from_ns(std::numeric_limits<std::int64_t>::min()).to_string() ==
        "-9223372036.854775808s");
  CHECK(fmt::format("at {}", 30_s + 1_ms) == "at 30.001s");
}

TEST_CASE("sim_time parses durations with units exactly") {
  CHECK(sim_time::parse("2.5s") == 2500_ms);
  CHECK(sim_time::parse("100ms") == 100_ms);
  CHECK(sim_time::parse("250us") == 250_us);
  CHECK(sim_time::parse("40ns") == 40_ns);
  CHECK(sim_time::parse("1.5min") == 90_s);
  CHECK(sim_time::parse("1h") == sim_time::from_s(3600));
  CHECK(sim_time::parse(".5s") == 500_ms);
  CHECK(sim_time::parse("0.000000001s") == 1_ns);
  CHECK(sim_time::parse("0.1s") == 100_ms);  // exact: no binary floating point involved
  CHECK(sim_time::parse("9223372036.854775807s") == sim_time::max());

  SUBCASE("rejects what is not a duration") {
    for (const char* bad : {"", "s", "5", "5 s", "-1s", "1.s", "1.5ns", "0.0000000001s", "1e3ms",
                            "10m", "9223372036.854775808s", "99999999999999999999ns", "1,5s"}) {
      INFO(bad);
      CHECK_FALSE(sim_time::parse(bad).has_value());
    }
  }
}
