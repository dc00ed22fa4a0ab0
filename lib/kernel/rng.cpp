#include "vnetsim/kernel/rng.hpp"

#include <array>
#include <bit>
#include <cmath>
#include <limits>

namespace vnetsim::kernel {

namespace {

/// 2^-53: the spacing of doubles in [0.5, 1).
constexpr double two_pow_minus_53 = 1.0 / 9007199254740992.0;

/// ln 2 split in a high part with trailing zero bits (so e * ln2_hi is exact for
/// |e| < 2^11) and the rest (the fdlibm split, a property of the number, not code).
constexpr double ln2_hi = 6.93147180369123816490e-01;
constexpr double ln2_lo = 1.90821492927058770002e-10;

/// ln(v) for v in [0.5, 1], by the atanh series ln v = 2 atanh((v-1)/(v+1)) with enough
/// terms for full double precision; used only at compile time to build the table below.
constexpr double series_log(double v) {
  const double s = (v - 1.0) / (v + 1.0);
  const double s2 = s * s;
  double poly = 0;
  for (int k = 40; k >= 0; --k) poly = 1.0 / (2.0 * k + 1.0) + s2 * poly;
  return 2.0 * s * poly;
}

/// The reduction table: for i = 0..127, c_i = 1 + i/128, inv[i] = 1/c_i rounded to
/// double, and neg_log[i] = -ln(inv[i]) (so ln m = ln(m * inv[i]) + neg_log[i] exactly
/// in real arithmetic). Built at compile time from IEEE basic operations only.
struct log_table {
  std::array<double, 128> inv{};
  std::array<double, 128> neg_log{};
};
constexpr log_table make_log_table() {
  log_table t;
  for (int i = 0; i < 128; ++i) {
    t.inv[static_cast<std::size_t>(i)] = 1.0 / (1.0 + i / 128.0);
    t.neg_log[static_cast<std::size_t>(i)] = -series_log(t.inv[static_cast<std::size_t>(i)]);
  }
  return t;
}
constexpr log_table log_tab = make_log_table();

}  // namespace

double deterministic_log(double x) noexcept {
  if (std::isnan(x) || x < 0) return std::numeric_limits<double>::quiet_NaN();
  if (x == 0) return -std::numeric_limits<double>::infinity();
  if (std::isinf(x)) return x;
  auto bits = std::bit_cast<std::uint64_t>(x);
  int e = static_cast<int>((bits >> 52) & 0x7ff) - 1023;
  if (e == -1023) {  // subnormal: scale by 2^54 (exact) and renormalise
    bits = std::bit_cast<std::uint64_t>(x * 18014398509481984.0);
    e = static_cast<int>((bits >> 52) & 0x7ff) - 1023 - 54;
  }
  const std::uint64_t frac = bits & ((std::uint64_t{1} << 52) - 1);
  // m in [1, 2); i = the 7 leading fraction bits, rounded, so m / c_i is within 2^-8 of 1.
  // When rounding reaches 128 (m just below 2), use m/2 and e+1 instead: c_0 = 1.
  auto i = static_cast<std::size_t>((frac + (std::uint64_t{1} << 44)) >> 45);
  double m = std::bit_cast<double>(frac | (std::uint64_t{1023} << 52));
  if (i == 128) {
    m *= 0.5;  // exact
    ++e;
    i = 0;
  }
  // r = m * inv - 1: the product is rounded once, the subtraction is exact (Sterbenz).
  const double r = m * log_tab.inv[i] - 1.0;
  // ln(1 + r) for |r| <= 2^-8 + 2^-52: Taylor to r^7; the first omitted term is < 2^-67.
  const double r2 = r * r;
  const double p = (-1.0 / 2 + r * (1.0 / 3)) + r2 * ((-1.0 / 4 + r * (1.0 / 5)) + r2 * (-1.0 / 6 + r * (1.0 / 7)));
  const double log1p_r = r + r2 * p;
  const double de = static_cast<double>(e);
  return de * ln2_hi + ((de * ln2_lo + log_tab.neg_log[i]) + log1p_r);
}

double deterministic_exp(double x) noexcept {
  if (std::isnan(x)) return x;
  if (x > 709.782712893384) return std::numeric_limits<double>::infinity();
  if (x < -745.2) return 0.0;
  // x = k ln2 + r with |r| <= ln2/2 (k by rounding; the products use the exact ln2_hi).
  const double kf = x * 1.44269504088896338700 + (x < 0 ? -0.5 : 0.5);  // log2(e)
  const auto k = static_cast<int>(kf);  // truncation after adding +-0.5: round to nearest
  const double dk = static_cast<double>(k);
  const double r = (x - dk * ln2_hi) - dk * ln2_lo;
  // e^r by its Taylor series to r^13: |r| <= 0.347, the first omitted term is < 2^-60.
  double p = 1.0 / 6227020800.0;  // 1/13!
  double fact = 6227020800.0;
  for (int n = 12; n >= 1; --n) {
    fact /= static_cast<double>(n + 1);  // exact: n! is exactly representable for n <= 18
    p = 1.0 / fact + r * p;
  }
  const double er = 1.0 + r * p;
  // 2^k in two steps so that a subnormal result is rounded once, as it would be anyway.
  if (k < -1000) return std::ldexp(std::ldexp(er, k + 1000), -1000);
  return std::ldexp(er, k);
}

rng::rng(std::uint64_t seed) noexcept {
  std::uint64_t sm = seed;
  for (auto& w : s_) w = splitmix64(sm);
  // xoshiro's state must not be all zero; SplitMix64 never yields four zero words,
  // but keep the guarantee explicit.
  if ((s_[0] | s_[1] | s_[2] | s_[3]) == 0) s_[0] = 1;
}

rng rng::from_state(const std::array<std::uint64_t, 4>& state) noexcept {
  rng r(0);
  r.s_ = state;
  if ((r.s_[0] | r.s_[1] | r.s_[2] | r.s_[3]) == 0) r.s_[0] = 1;
  return r;
}

double rng::uniform01() noexcept {
  return static_cast<double>(next_u64() >> 11) * two_pow_minus_53;
}

double rng::uniform01_open_low() noexcept {
  return static_cast<double>((next_u64() >> 11) + 1) * two_pow_minus_53;
}

std::uint64_t rng::uniform_below(std::uint64_t bound) noexcept {
  if (bound == 0) return 0;
  // Lemire's nearly divisionless method: the high half of a 64x64 product.
  unsigned __int128 m = static_cast<unsigned __int128>(next_u64()) * bound;
  auto low = static_cast<std::uint64_t>(m);
  if (low < bound) {
    const std::uint64_t threshold = (0 - bound) % bound;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(next_u64()) * bound;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

std::int64_t rng::uniform_int(std::int64_t lo, std::int64_t hi) noexcept {
  const std::uint64_t span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
  if (span == std::numeric_limits<std::uint64_t>::max()) return static_cast<std::int64_t>(next_u64());
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(lo) + uniform_below(span + 1));
}

bool rng::bernoulli(double p) noexcept {
  if (p <= 0) return false;
  if (p >= 1) return true;
  return uniform01() < p;
}

namespace {

/// Ziggurat tables for the unit exponential (Marsaglia and Tsang 2000, "The ziggurat
/// method for generating random variables", J. Stat. Softw. 5(8), section 4): 256 layers
/// of equal area v, the base strip reaching out to r. Built once, from IEEE basic
/// operations and our deterministic exp/log, so they are bit-identical everywhere.
struct ziggurat_exp {
  static constexpr double r = 7.69711747013104972;   // rightmost layer edge [M&T 2000]
  static constexpr double v = 3.949659822581572e-3;  // area of each layer [M&T 2000]
  static constexpr double m = 4294967296.0;          // 2^32: the layer draw's resolution
  std::array<std::uint32_t, 256> k{};  // accept threshold: jz < k[i] lies inside the layer
  std::array<double, 256> w{};         // scale from a 32-bit draw to x in layer i
  std::array<double, 256> f{};         // e^-x at layer i's edge

  ziggurat_exp() noexcept {
    double de = r;
    double te = r;
    const double q = v / deterministic_exp(-de);
    k[0] = static_cast<std::uint32_t>((de / q) * m);
    k[1] = 0;
    w[0] = q / m;
    w[255] = de / m;
    f[0] = 1.0;
    f[255] = deterministic_exp(-de);
    for (int i = 254; i >= 1; --i) {
      de = -deterministic_log(v / de + deterministic_exp(-de));
      k[static_cast<std::size_t>(i + 1)] = static_cast<std::uint32_t>((de / te) * m);
      te = de;
      f[static_cast<std::size_t>(i)] = deterministic_exp(-de);
      w[static_cast<std::size_t>(i)] = de / m;
    }
  }
};

const ziggurat_exp& zig_exp() noexcept {
  static const ziggurat_exp t;
  return t;
}

}  // namespace

namespace detail {
const exp_layers exp_fast = [] {
  const ziggurat_exp& z = zig_exp();
  return exp_layers{z.k, z.w};
}();
}  // namespace detail

double rng::exponential_tail_or_wedge(std::uint32_t jz, std::size_t iz) noexcept {
  // Kept out of line so that the common case (inline in the header) needs no stack frame.
  const ziggurat_exp& z = zig_exp();
  for (;;) {
    const double x = static_cast<double>(jz) * z.w[iz];
    // Inside the layer's rectangle: only reached here while detail::exp_fast is still
    // zero (a draw during static initialisation); the same answer as the common case.
    if (jz < z.k[iz]) return x;
    if (iz == 0) {
      // The tail beyond r is again exponential: r + Exp(1).
      return ziggurat_exp::r - deterministic_log(uniform01_open_low());
    }
    // In the wedge: accept under the curve e^-x.
    if (z.f[iz] + uniform01() * (z.f[iz - 1] - z.f[iz]) < deterministic_exp(-x)) return x;
    const std::uint64_t bits = next_u64();
    jz = static_cast<std::uint32_t>(bits >> 32);
    iz = static_cast<std::size_t>(bits & 0xff);
  }
}

rng rng_streams::get(std::string_view name) const noexcept {
  std::uint64_t mix = seed_ ^ fnv1a64(name);
  return rng{splitmix64(mix)};
}

}  // namespace vnetsim::kernel
