#include "vnetsim/kernel/sim_time.hpp"

#include <array>

namespace vnetsim {

namespace {

struct unit {
  std::string_view name;
  sim_time::rep ns;
};
// Longest names first so that "ms" is not read as "m" + "s".
constexpr std::array<unit, 6> units{{
    {"min", 60'000'000'000},
    {"ms", 1'000'000},
    {"us", 1'000},
    {"ns", 1},
    {"h", 3'600'000'000'000},
    {"s", 1'000'000'000},
}};

constexpr sim_time::rep rep_max = std::numeric_limits<sim_time::rep>::max();

}  // namespace

std::optional<sim_time> sim_time::parse(std::string_view text) noexcept {
  const unit* u = nullptr;
  for (const auto& c : units) {
    if (text.size() > c.name.size() && text.ends_with(c.name)) {
      u = &c;
      break;
    }
  }
  if (u == nullptr) return std::nullopt;
  text.remove_suffix(u->name.size());

  // Integer part, then an optional fraction; at least one digit overall.
  rep whole = 0;
  std::size_t i = 0;
  bool any_digit = false;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    const rep d = text[i] - '0';
    if (whole > (rep_max - d) / 10) return std::nullopt;
    whole = whole * 10 + d;
    any_digit = true;
  }
  rep frac_num = 0;  // fraction digits as an integer
  rep frac_den = 1;  // 10^(number of fraction digits)
  if (i < text.size() && text[i] == '.') {
    ++i;
    bool frac_digit = false;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      if (frac_den > rep_max / 10 / u->ns) return std::nullopt;  // more precision than 1 ns
      frac_num = frac_num * 10 + (text[i] - '0');
      frac_den *= 10;
      frac_digit = true;
    }
    if (!frac_digit) return std::nullopt;
    any_digit = true;
  }
  if (!any_digit || i != text.size()) return std::nullopt;

  if (whole > rep_max / u->ns) return std::nullopt;
  const rep whole_ns = whole * u->ns;
  // frac_num < frac_den and frac_den * u->ns fits, so the product cannot overflow.
  const rep scaled = frac_num * u->ns;
  if (scaled % frac_den != 0) return std::nullopt;  // not a whole number of nanoseconds
  const rep frac_ns = scaled / frac_den;
  if (whole_ns > rep_max - frac_ns) return std::nullopt;
  return sim_time::from_ns(whole_ns + frac_ns);
}

std::string sim_time::to_string() const {
  // Work on the magnitude as unsigned so that the most negative value prints too.
  const bool negative = ns_ < 0;
  const std::uint64_t mag =
      negative ? std::uint64_t{0} - static_cast<std::uint64_t>(ns_) : static_cast<std::uint64_t>(ns_);
  const std::uint64_t secs = mag / 1'000'000'000;
  std::uint64_t frac = mag % 1'000'000'000;
  if (frac == 0) return fmt::format("{}{}s", negative ? "-" : "", secs);
  int digits = 9;
  while (frac % 10 == 0) {
    frac /= 10;
    --digits;
  }
  return fmt::format("{}{}.{:0{}}s", negative ? "-" : "", secs, frac, digits);
}

}  // namespace vnetsim
