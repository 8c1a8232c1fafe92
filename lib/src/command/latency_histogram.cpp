#include "coronet/command/latency_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace coronet {

std::uint64_t latency_histogram::total() const noexcept {
  std::uint64_t n = 0;
  for (std::uint64_t c : counts)
    n += c;
  return n;
}

std::chrono::nanoseconds latency_histogram::percentile(double q) const noexcept {
  const std::uint64_t n = total();
  if (n == 0)
    return std::chrono::nanoseconds(0);
  if (!(q > 0.0))  // also NaN
    q = 0.0;
  q = std::min(q, 1.0);
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(n)));
  rank = std::clamp<std::uint64_t>(rank, 1, n);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    seen += counts[i];
    if (seen >= rank)
      return std::chrono::nanoseconds(static_cast<std::int64_t>(upper_bound(i)));
  }
  return std::chrono::nanoseconds(static_cast<std::int64_t>(upper_bound(bucket_count - 1)));
}

latency_histogram& latency_histogram::operator+=(const latency_histogram& other) noexcept {
  for (std::size_t i = 0; i < bucket_count; ++i)
    counts[i] += other.counts[i];
  return *this;
}

}  // namespace coronet
