#pragma once
/// Recommended spanning tree port path costs, shared by the STP and RSTP engines: the
/// 802.1D-1998 Table 8-5 "short" (16-bit) values and the 802.1D-2004 Table 17-3 "long"
/// (32-bit) values, and the method that picks one of the two tables (Cisco's
/// "spanning-tree pathcost method short | long").
///
/// Invariant: every function returns a cost within its table's range (short: 1-65535,
/// long: 1-200,000,000), whatever the speed (0 = unknown counts as the slowest row).

#include <cstdint>
#include <string_view>

namespace vnetsim::proto {

/// Which table a bridge's recommended (and allowed) path costs come from.
enum class path_cost_method : std::uint8_t {
  ieee1998,  ///< 802.1D-1998 Table 8-5, costs 1-65535 (8.5.5.3)
  ieee2004,  ///< 802.1D-2004 Table 17-3, costs 1-200,000,000 (17.13.11)
};

constexpr std::string_view to_string(path_cost_method m) noexcept {
  switch (m) {
    case path_cost_method::ieee1998: return "802.1D-1998";
    case path_cost_method::ieee2004: return "802.1D-2004";
  }
  return "?";
}

/// Path Cost range of 802.1D-1998 8.5.5.3 / Table 8-5.
inline constexpr std::uint32_t min_short_path_cost = 1, max_short_path_cost = 65'535;
/// Port Path Cost range of 802.1D-2004 17.13.11 / Table 17-3.
inline constexpr std::uint32_t min_long_path_cost = 1, max_long_path_cost = 200'000'000;

/// 802.1D-1998 Table 8-5, recommended values: 4 Mb/s 250, 10 Mb/s 100, 16 Mb/s 62,
/// 100 Mb/s 19, 1 Gb/s 4, 10 Gb/s (and faster: the table saturates) 2. A speed between two
/// rows takes the slower row's cost; below 4 Mb/s (and 0, unknown) gives 250.
constexpr std::uint32_t short_path_cost(std::uint64_t speed_bps) noexcept {
  if (speed_bps >= 10'000'000'000ULL) return 2;
  if (speed_bps >= 1'000'000'000ULL) return 4;
  if (speed_bps >= 100'000'000ULL) return 19;
  if (speed_bps >= 16'000'000ULL) return 62;
  if (speed_bps >= 10'000'000ULL) return 100;
  return 250;
}

/// 802.1D-2004 Table 17-3: 20,000,000,000,000 / speed in b/s (10 Mb/s 2,000,000; 100 Mb/s
/// 200,000; 1 Gb/s 20,000; 10 Gb/s 2,000; 100 Gb/s 200; 1 Tb/s 20; 10 Tb/s 2), clamped to
/// 1-200,000,000; 0 (unknown) gives 200,000,000.
constexpr std::uint32_t long_path_cost(std::uint64_t speed_bps) noexcept {
  constexpr std::uint64_t numerator = 20'000'000'000'000ULL;
  if (speed_bps == 0) return max_long_path_cost;
  const std::uint64_t cost = numerator / speed_bps;
  if (cost < min_long_path_cost) return min_long_path_cost;
  if (cost > max_long_path_cost) return max_long_path_cost;
  return static_cast<std::uint32_t>(cost);
}

/// The recommended cost for a speed under `method`.
constexpr std::uint32_t default_path_cost(path_cost_method method, std::uint64_t speed_bps) noexcept {
  return method == path_cost_method::ieee2004 ? long_path_cost(speed_bps)
                                              : short_path_cost(speed_bps);
}
/// The largest cost `method` allows (the smallest is 1 for both).
constexpr std::uint32_t max_path_cost(path_cost_method method) noexcept {
  return method == path_cost_method::ieee2004 ? max_long_path_cost : max_short_path_cost;
}

static_assert(short_path_cost(100'000'000) == 19 && short_path_cost(100'000'000'000ULL) == 2);
static_assert(long_path_cost(10'000'000) == 2'000'000 && long_path_cost(10'000'000'000ULL) == 2'000);

}  // namespace vnetsim::proto
