// A statistics counter that one thread writes and any thread reads.
#pragma once

#include <atomic>
#include <cstdint>

namespace coronet::detail {

/// Written only by the thread that owns it (a plain load and store, no
/// locked read-modify-write on the hot path); read from any thread.
class thread_counter {
public:
  /// Adds `n`; call only from the owning thread.
  [[gnu::always_inline]] void add(std::uint64_t n = 1) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  /// The current value; any thread.
  std::uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<std::uint64_t> value_{0};
};

}  // namespace coronet::detail
