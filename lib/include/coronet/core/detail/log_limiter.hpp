// Rate limiting for log messages a peer can trigger at will.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <limits>
#include <string>
#include <string_view>

#include "coronet/core/log.hpp"

namespace coronet::detail {

/// Lets one message through per interval and counts the ones it drops; the
/// next message that passes, or `flush()` once the interval is over, says how
/// many were dropped. Thread-safe.
class log_limiter {
public:
  explicit log_limiter(std::chrono::steady_clock::duration interval = std::chrono::seconds(1)) noexcept
      : interval_(interval.count()) {}
  /// As above; `topic` (static storage, e.g. a literal) names the messages in
  /// the line `flush()` writes.
  explicit log_limiter(std::string_view topic,
                       std::chrono::steady_clock::duration interval = std::chrono::seconds(1)) noexcept
      : interval_(interval.count()), topic_(topic) {}

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

  /// When messages were dropped and the interval since the last one that
  /// passed is over, logs "<topic> (N similar messages suppressed)" at `level`
  /// and returns true (that line counts as the interval's message). For a
  /// timer: the count of a burst then shows when its interval ends, not with
  /// the next message, which may never come.
  bool flush(log_level level = log_level::info) noexcept {
    if (suppressed_.load(std::memory_order_relaxed) == 0)
      return false;
    const std::int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
    std::int64_t last = last_.load(std::memory_order_relaxed);
    if (now - last < interval_ || !last_.compare_exchange_strong(last, now, std::memory_order_relaxed))
      return false;
    const std::uint64_t dropped = suppressed_.exchange(0, std::memory_order_relaxed);
    if (dropped == 0)
      return false;
    try {
      coronet::log(level, std::string(topic_) + " (" + std::to_string(dropped) + " similar messages suppressed)");
    } catch (const std::exception&) {
      coronet::log(level, topic_);
    }
    return true;
  }

private:
  std::int64_t interval_;
  std::string_view topic_ = "log messages";
  std::atomic<std::int64_t> last_{std::numeric_limits<std::int64_t>::min() / 2};
  std::atomic<std::uint64_t> suppressed_{0};
};

}  // namespace coronet::detail
