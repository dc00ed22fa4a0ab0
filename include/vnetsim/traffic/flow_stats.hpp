#pragma once
/// Receiver-side accounting of a sequenced flow, with no allocation per packet: a
/// sequence tracker (a bitmap sized at set-up from the expected packet count, giving
/// unique deliveries, duplicates and reordering) and a log-linear latency histogram
/// (fixed buckets, nearest-rank percentiles with a documented precision).
///
/// Both are plain values with no kernel or device inside, unit-tested on their own.

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "vnetsim/kernel/sim_time.hpp"

namespace vnetsim::traffic {

/// Which sequence numbers arrived: one bit per sequence number below `capacity`
/// (sized at set-up, never grown). Reordering follows RFC 4737 3.3: a packet is
/// reordered when its sequence number is below NextExp, one past the highest
/// sequence number received so far.
class sequence_tracker {
 public:
  enum class verdict : std::uint8_t { fresh, duplicate, out_of_range };

  sequence_tracker() = default;
  /// Room for sequence numbers 0 .. capacity-1 (capacity / 8 bytes, allocated here).
  explicit sequence_tracker(std::uint64_t capacity);

  /// Records one arrival. O(1), no allocation.
  verdict record(std::uint64_t seq) noexcept {
    if (seq >= capacity_) [[unlikely]] {
      ++out_of_range_;
      return verdict::out_of_range;
    }
    std::uint64_t& word = bits_[seq >> 6];
    const std::uint64_t bit = std::uint64_t{1} << (seq & 63);
    if ((word & bit) != 0) {
      ++duplicates_;
      return verdict::duplicate;
    }
    word |= bit;
    ++unique_;
    if (seq < next_expected_) {
      ++reordered_;  // RFC 4737 3.3: s < NextExp
    } else {
      next_expected_ = seq + 1;
    }
    return verdict::fresh;
  }

  bool received(std::uint64_t seq) const noexcept {
    return seq < capacity_ && (bits_[seq >> 6] & (std::uint64_t{1} << (seq & 63))) != 0;
  }
  std::uint64_t capacity() const noexcept { return capacity_; }
  std::uint64_t unique() const noexcept { return unique_; }
  std::uint64_t duplicates() const noexcept { return duplicates_; }
  std::uint64_t reordered() const noexcept { return reordered_; }
  std::uint64_t out_of_range() const noexcept { return out_of_range_; }
  /// RFC 4737 NextExp: one past the highest sequence number received.
  std::uint64_t next_expected() const noexcept { return next_expected_; }

 private:
  std::vector<std::uint64_t> bits_;
  std::uint64_t capacity_ = 0;
  std::uint64_t unique_ = 0;
  std::uint64_t duplicates_ = 0;
  std::uint64_t reordered_ = 0;
  std::uint64_t out_of_range_ = 0;
  std::uint64_t next_expected_ = 0;
};

/// Latency histogram in nanoseconds with log-linear buckets (the HdrHistogram idea):
/// values below 64 ns have one bucket each; above, every power of two is split into 32
/// buckets, so a bucket spans at most 1/32 of its lower bound. A percentile is reported
/// as the lower bound of the bucket holding the nearest-rank sample, clamped to the
/// exact minimum and maximum (p100 is the exact maximum): it is never above the true value and at most 3.125%
/// (1/32) below it, and exact when every sample in that bucket is equal.
/// Storage is a fixed array (no allocation); record() is O(1).
class latency_histogram {
 public:
  static constexpr unsigned sub_bucket_bits = 5;  ///< 32 buckets per power of two
  static constexpr std::size_t linear_limit = 64;  ///< values below have exact buckets
  static constexpr std::size_t bucket_count = linear_limit + (64 - 6) * (1u << sub_bucket_bits);

  void record(sim_time latency) noexcept;

  std::uint64_t count() const noexcept { return count_; }
  /// Exact extremes and mean; zero when empty.
  sim_time min() const noexcept { return count_ ? min_ : sim_time::zero(); }
  sim_time max() const noexcept { return count_ ? max_ : sim_time::zero(); }
  sim_time mean() const noexcept;
  /// Nearest-rank percentile (the smallest value with at least p% of the samples at or
  /// below it), p in (0, 100]; zero when empty. See the class comment for the precision.
  sim_time percentile(double p) const noexcept;

  /// Bucket index of a non-negative value, and the lower bound of a bucket.
  static std::size_t bucket_of(std::uint64_t ns) noexcept;
  static std::uint64_t bucket_floor(std::size_t bucket) noexcept;

 private:
  std::array<std::uint32_t, bucket_count> buckets_{};
  std::uint64_t count_ = 0;
  sim_time min_;
  sim_time max_;
  // Sum of the samples in ns (a 128-bit pair would be exact; 2^64 ns is 584 years).
  std::uint64_t sum_ns_ = 0;
};

}  // namespace vnetsim::traffic
