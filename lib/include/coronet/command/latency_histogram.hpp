// How long calls took, bucketed: what the router's dispatch records per
// command and what server::metrics() reports.
#pragma once

#include <array>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace coronet {

/// A latency histogram with log-linear buckets, as HdrHistogram lays them
/// out: values below 8 ns have a bucket each; above, every power of two is
/// cut into 8 equal buckets, so a bucket is at most 12.5% of its lower bound
/// wide. Values of 2^40 ns (about 18 min) and more fall into the last bucket.
/// A plain value type: a snapshot, not the live counters.
class latency_histogram {
public:
  /// Sub-buckets per power of two, as a number of bits (8 buckets).
  static constexpr unsigned sub_bucket_bits = 3;
  /// Values from 2^max_exponent ns on share the last bucket.
  static constexpr unsigned max_exponent = 40;
  /// Number of buckets.
  static constexpr std::size_t bucket_count = (max_exponent - sub_bucket_bits + 1) << sub_bucket_bits;

  /// The bucket that counts a latency of `ns` nanoseconds.
  static constexpr std::size_t bucket_of(std::uint64_t ns) noexcept {
    constexpr std::uint64_t sub = std::uint64_t{1} << sub_bucket_bits;
    if (ns < sub)
      return static_cast<std::size_t>(ns);
    if (ns >= (std::uint64_t{1} << max_exponent))
      return bucket_count - 1;
    const unsigned top = static_cast<unsigned>(std::bit_width(ns)) - 1;  // >= sub_bucket_bits
    const unsigned shift = top - sub_bucket_bits;
    return static_cast<std::size_t>(((shift + 1) << sub_bucket_bits) + ((ns >> shift) & (sub - 1)));
  }

  /// The smallest latency (ns) that bucket `i` counts.
  static constexpr std::uint64_t lower_bound(std::size_t i) noexcept {
    constexpr std::size_t sub = std::size_t{1} << sub_bucket_bits;
    if (i < sub)
      return i;
    const std::size_t group = i >> sub_bucket_bits;  // >= 1
    return static_cast<std::uint64_t>(sub + (i & (sub - 1))) << (group - 1);
  }

  /// The largest latency (ns) that bucket `i` counts (for the last bucket,
  /// the largest below 2^max_exponent, though it also counts larger ones).
  static constexpr std::uint64_t upper_bound(std::size_t i) noexcept {
    if (i + 1 >= bucket_count)
      return (std::uint64_t{1} << max_exponent) - 1;
    return lower_bound(i + 1) - 1;
  }

  /// Counts per bucket.
  std::array<std::uint64_t, bucket_count> counts{};

  /// Latencies counted.
  std::uint64_t total() const noexcept;

  /// The latency at quantile `q` (0 to 1; clamped), as the upper bound of the
  /// bucket holding the value of rank ceil(q * total()): at least the true
  /// value and at most 12.5% above it (for values below 2^40 ns). Zero when
  /// nothing was counted.
  std::chrono::nanoseconds percentile(double q) const noexcept;

  /// Adds `other`'s counts to this one's.
  latency_histogram& operator+=(const latency_histogram& other) noexcept;
};

}  // namespace coronet
