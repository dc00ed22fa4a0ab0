#include "vnetsim/traffic/flow_stats.hpp"

#include <algorithm>
#include <bit>

namespace vnetsim::traffic {

sequence_tracker::sequence_tracker(std::uint64_t capacity)
    : bits_((capacity + 63) / 64, 0), capacity_(capacity) {}

std::size_t latency_histogram::bucket_of(std::uint64_t ns) noexcept {
  if (ns < linear_limit) return static_cast<std::size_t>(ns);
  const unsigned e = 63u - static_cast<unsigned>(std::countl_zero(ns));  // >= 6
  const auto mantissa = static_cast<std::size_t>((ns >> (e - sub_bucket_bits)) & 31u);
  return linear_limit + (e - 6) * (std::size_t{1} << sub_bucket_bits) + mantissa;
}

std::uint64_t latency_histogram::bucket_floor(std::size_t bucket) noexcept {
  if (bucket < linear_limit) return bucket;
  const std::size_t i = bucket - linear_limit;
  const std::size_t e = i / (std::size_t{1} << sub_bucket_bits) + 6;
  const std::uint64_t mantissa = i % (std::size_t{1} << sub_bucket_bits);
  return (32 + mantissa) << (e - sub_bucket_bits);
}

void latency_histogram::record(sim_time latency) noexcept {
  const std::uint64_t ns = latency.ns() < 0 ? 0 : static_cast<std::uint64_t>(latency.ns());
  const sim_time v = sim_time::from_ns(static_cast<sim_time::rep>(ns));
  ++buckets_[bucket_of(ns)];
  if (count_ == 0 || v < min_) min_ = v;
  if (count_ == 0 || v > max_) max_ = v;
  ++count_;
  sum_ns_ += ns;
}

sim_time latency_histogram::mean() const noexcept {
  if (count_ == 0) return sim_time::zero();
  return sim_time::from_ns(static_cast<sim_time::rep>(sum_ns_ / count_));
}

sim_time latency_histogram::percentile(double p) const noexcept {
  if (count_ == 0) return sim_time::zero();
  p = std::clamp(p, 0.0, 100.0);
  // Nearest rank: ceil(p/100 * N), at least 1.
  const double exact = p / 100.0 * static_cast<double>(count_);
  auto rank = static_cast<std::uint64_t>(exact);
  if (static_cast<double>(rank) < exact) ++rank;
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  if (rank == count_) return max_;  // the largest sample, known exactly
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < bucket_count; ++b) {
    seen += buckets_[b];
    if (seen >= rank) {
      const auto floor = sim_time::from_ns(static_cast<sim_time::rep>(bucket_floor(b)));
      return std::clamp(floor, min_, max_);
    }
  }
  return max_;
}

}  // namespace vnetsim::traffic
