#pragma once
/// Simulated time: a signed 64-bit count of nanoseconds since the start of the run
/// (range about +-292 years). A distinct type, so that a duration is never confused
/// with a count of frames or bytes. All operations are constexpr and O(1).

#include <compare>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace vnetsim {

class sim_time {
 public:
  using rep = std::int64_t;

  constexpr sim_time() noexcept = default;
  static constexpr sim_time from_ns(rep ns) noexcept { return sim_time{ns}; }
  static constexpr sim_time from_us(rep us) noexcept { return sim_time{us * 1'000}; }
  static constexpr sim_time from_ms(rep ms) noexcept { return sim_time{ms * 1'000'000}; }
  static constexpr sim_time from_s(rep s) noexcept { return sim_time{s * 1'000'000'000}; }
  static constexpr sim_time zero() noexcept { return sim_time{0}; }
  static constexpr sim_time max() noexcept { return sim_time{std::numeric_limits<rep>::max()}; }

  constexpr rep ns() const noexcept { return ns_; }
  /// Seconds as a double, for reports and rates; never used to order events.
  constexpr double seconds() const noexcept { return static_cast<double>(ns_) / 1e9; }

  /// Parses a duration with a unit: "2.5s", "100ms", "250us", "40ns", "1.5min".
  /// Decimal digits are exact (no floating point); nullopt on anything else,
  /// including a missing unit, a negative value, or overflow.
  static std::optional<sim_time> parse(std::string_view text) noexcept;

  /// Shortest exact decimal form in seconds: "2s", "0.1s", "1.000000001s", "-0.5s".
  std::string to_string() const;

  constexpr sim_time& operator+=(sim_time d) noexcept { ns_ += d.ns_; return *this; }
  constexpr sim_time& operator-=(sim_time d) noexcept { ns_ -= d.ns_; return *this; }
  friend constexpr sim_time operator+(sim_time a, sim_time b) noexcept { return sim_time{a.ns_ + b.ns_}; }
  friend constexpr sim_time operator-(sim_time a, sim_time b) noexcept { return sim_time{a.ns_ - b.ns_}; }
  friend constexpr sim_time operator-(sim_time a) noexcept { return sim_time{-a.ns_}; }
  friend constexpr sim_time operator*(sim_time a, rep k) noexcept { return sim_time{a.ns_ * k}; }
  friend constexpr sim_time operator*(rep k, sim_time a) noexcept { return sim_time{a.ns_ * k}; }
  /// Integer division, truncating toward zero.
  friend constexpr sim_time operator/(sim_time a, rep k) noexcept { return sim_time{a.ns_ / k}; }
  /// How many whole `b` fit in `a`.
  friend constexpr rep operator/(sim_time a, sim_time b) noexcept { return a.ns_ / b.ns_; }
  friend constexpr sim_time operator%(sim_time a, sim_time b) noexcept { return sim_time{a.ns_ % b.ns_}; }
  friend constexpr auto operator<=>(sim_time, sim_time) noexcept = default;

 private:
  constexpr explicit sim_time(rep ns) noexcept : ns_(ns) {}
  rep ns_ = 0;
};

namespace literals {
constexpr sim_time operator""_ns(unsigned long long v) { return sim_time::from_ns(static_cast<sim_time::rep>(v)); }
constexpr sim_time operator""_us(unsigned long long v) { return sim_time::from_us(static_cast<sim_time::rep>(v)); }
constexpr sim_time operator""_ms(unsigned long long v) { return sim_time::from_ms(static_cast<sim_time::rep>(v)); }
constexpr sim_time operator""_s(unsigned long long v) { return sim_time::from_s(static_cast<sim_time::rep>(v)); }
constexpr sim_time operator""_min(unsigned long long v) { return sim_time::from_s(static_cast<sim_time::rep>(v) * 60); }
}  // namespace literals

}  // namespace vnetsim

template <>
struct fmt::formatter<vnetsim::sim_time> : fmt::formatter<std::string_view> {
  auto format(vnetsim::sim_time t, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(t.to_string(), ctx);
  }
};
