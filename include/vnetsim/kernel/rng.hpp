#pragma once
/// Seeded random numbers that are bit-identical on every compiler, standard library and
/// machine: our own generator (xoshiro256**, Blackman and Vigna 2018, seeded through
/// SplitMix64) and our own distributions, built from integer operations and IEEE-754
/// basic arithmetic only (no std::*_distribution, whose output the C++ standard leaves
/// to the implementation, and no libm call, whose last bit varies between libraries).
///
/// One scenario seed gives a family of independent named sub-streams: each component
/// asks for `streams.get("sw1/port3/loss")`, so adding a component or reordering
/// components does not change the numbers any other component draws.

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vnetsim/kernel/sim_time.hpp"

namespace vnetsim::kernel {

/// SplitMix64 step (Steele, Lea and Flood 2014): used to expand seeds.
constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9e37'79b9'7f4a'7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58'476d'1ce4'e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d0'49bb'1331'11ebULL;
  return z ^ (z >> 31);
}

/// 64-bit FNV-1a of a name (stream names are hashed, never compared as pointers).
constexpr std::uint64_t fnv1a64(std::string_view s) noexcept {
  std::uint64_t h = 0xcbf2'9ce4'8422'2325ULL;
  for (char c : s) {
    h ^= static_cast<std::uint8_t>(c);
    h *= 0x0000'0100'0000'01b3ULL;
  }
  return h;
}

/// Natural logarithm of x > 0, identical on every IEEE-754 double platform (the result
/// is within 2 ulp of the true value; what matters here is that it is the same
/// everywhere). Returns -infinity for 0 and NaN for negative input.
double deterministic_log(double x) noexcept;

/// e^x, identical on every IEEE-754 double platform (within 2 ulp of the true value).
/// Returns 0 below -745, +infinity above 709.78, NaN for NaN.
double deterministic_exp(double x) noexcept;

namespace detail {
/// The part of the exponential ziggurat's tables that the common draw reads (see
/// rng::exponential): k[i], the accept threshold of layer i, and w[i], the scale from a
/// 32-bit draw to x in layer i.
struct exp_layers {
  std::array<std::uint32_t, 256> k;
  std::array<double, 256> w;
};
/// Filled while rng.cpp's statics are initialised. Before that it is all zeros (static
/// storage is zeroed first), which sends every draw to the slow path, which reads its own
/// copy of the tables: a draw is the same whenever it happens, and the common case reads
/// no initialisation guard.
extern const exp_layers exp_fast;
}  // namespace detail

/// One random stream. Every operation is O(1) (uniform_int: expected O(1), with a
/// rejection probability below 2^-32 for bounds under 2^32).
class rng {
 public:
  /// A stream from a 64-bit seed; equal seeds give equal streams.
  explicit rng(std::uint64_t seed) noexcept;
  /// A stream from a raw xoshiro256** state (must not be all zero), for checkpoints and tests.
  static rng from_state(const std::array<std::uint64_t, 4>& state) noexcept;

  /// Next 64 raw bits (xoshiro256**). Inline: the hot draws are built on it.
  std::uint64_t next_u64() noexcept {
    const std::uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = std::rotl(s_[3], 45);
    return result;
  }

  /// Uniform in [0, 1) with 53 random bits.
  double uniform01() noexcept;
  /// Uniform in (0, 1] with 53 random bits (safe to take the logarithm of).
  double uniform01_open_low() noexcept;
  /// Uniform integer in [0, bound); bound 0 returns 0. Unbiased (Lemire 2019).
  std::uint64_t uniform_below(std::uint64_t bound) noexcept;
  /// Uniform integer in [lo, hi] (inclusive); requires lo <= hi.
  std::int64_t uniform_int(std::int64_t lo, std::int64_t hi) noexcept;
  /// True with probability p (p <= 0: never; p >= 1: always).
  bool bernoulli(double p) noexcept;
  /// Exponentially distributed with the given mean: the ziggurat method (Marsaglia and
  /// Tsang 2000, 256 layers) with tables built from deterministic_exp/log, so the same
  /// seed gives the same values everywhere. About 99% of draws take one table lookup
  /// and one multiplication.
  double exponential(double mean) noexcept {
    const std::uint64_t bits = next_u64();
    const auto jz = static_cast<std::uint32_t>(bits >> 32);
    const auto iz = static_cast<std::size_t>(bits & 0xff);
    if (jz < detail::exp_fast.k[iz]) [[likely]] {
      return mean * (static_cast<double>(jz) * detail::exp_fast.w[iz]);  // inside the layer's rectangle
    }
    return mean * exponential_tail_or_wedge(jz, iz);
  }
  /// Exponentially distributed duration, rounded to the nearest nanosecond.
  sim_time exponential(sim_time mean) noexcept {
    const double ns = exponential(static_cast<double>(mean.ns()));
    // Round half up; the cast of a finite non-negative double is exact-defined.
    constexpr double max_ns = 9.2e18;
    return sim_time::from_ns(static_cast<sim_time::rep>(ns < max_ns ? ns + 0.5 : max_ns));
  }

  /// Raw state, for tests and checkpoints.
  const std::array<std::uint64_t, 4>& state() const noexcept { return s_; }

 private:
  /// The rare ziggurat cases (tail and wedge), for the draw (jz, iz) that missed its layer
  /// (or any draw, before the tables are initialised).
  [[gnu::noinline]] double exponential_tail_or_wedge(std::uint32_t jz, std::size_t iz) noexcept;

  std::array<std::uint64_t, 4> s_{};
};

/// The family of named sub-streams of one seed.
class rng_streams {
 public:
  explicit rng_streams(std::uint64_t seed) noexcept : seed_(seed) {}
  std::uint64_t seed() const noexcept { return seed_; }
  /// The stream for `name`: a pure function of (seed, name). O(length of name).
  rng get(std::string_view name) const noexcept;

 private:
  std::uint64_t seed_;
};

}  // namespace vnetsim::kernel
