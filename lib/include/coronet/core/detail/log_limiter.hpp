// Rate limiting for log messages a peer can trigger at will.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "coronet/core/log.hpp"

namespace coronet::detail {

/// Lets one message through per interval and counts the ones it drops; the
/// next message that passes says how many were dropped. Thread-safe.
class log_limiter {
public:
  explicit log_limiter(std::chrono::steady_clock::duration interval = std::chrono::seconds(1)) noexcept
      : interval_(interval.count()) {}

  /// Logs `message` at `level` unless a message passed less than an interval ago.
  void log(log_level level, std::string_view message) noexcept {
    const std::int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
    std::int64_t last = last_.load(std::memory_order_relaxed);
    if (now - last < interval_ || !last_.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
      suppressed_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    const std::uint64_t dropped = suppressed_.exchange(0, std::memory_order_relaxed);
    if (dropped == 0) {
      coronet::log(level, message);
      return;
    }
    try {
      coronet::log(level, std::string(message) + " (" + std::to_string(dropped) + " similar messages suppressed)");
    } catch (...) {
      coronet::log(level, message);
    }
  }

private:
  std::int64_t interval_;
  std::atomic<std::int64_t> last_{std::numeric_limits<std::int64_t>::min() / 2};
  std::atomic<std::uint64_t> suppressed_{0};
};

}  // namespace coronet::detail
