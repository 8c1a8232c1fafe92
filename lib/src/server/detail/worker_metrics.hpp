// The live counters behind server::metrics(): per server thread, written
// only by that thread (no lock, no read-modify-write, no allocation on the
// request path), read from any thread (relaxed atomics).
#pragma once

#include <time.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "coronet/core/detail/thread_counter.hpp"
#include "coronet/server/server_metrics.hpp"
#include "coronet/protocol/wire_protocol.hpp"
#include "coronet/core/task.hpp"

namespace coronet {
class server;
}  // namespace coronet

namespace coronet::detail {

// CLOCK_MONOTONIC in nanoseconds (steady_clock's clock, without its call).
inline std::uint64_t monotonic_ns() noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

// The clock that times requests, read twice per request: the CPU's
// timestamp counter (rdtsc, a few cycles, no call) on x86-64 when it is
// invariant (constant rate, never stops) and ticks at 1 GHz or more, else
// CLOCK_MONOTONIC. Its ticks are converted to nanoseconds with a rate
// measured once per process against CLOCK_MONOTONIC (calibrate()).
class latency_clock {
public:
  // Measures the counter's rate (about 2 ms, once per process; later calls
  // return at once). Call before the first now() of a server's workers.
  static void calibrate() noexcept;

  static std::uint64_t now() noexcept {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (use_tsc_.load(std::memory_order_relaxed)) {
      std::uint32_t lo;
      std::uint32_t hi;
      __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
      return (static_cast<std::uint64_t>(hi) << 32) | lo;
    }
#endif
    return monotonic_ns();
  }

  // Nanoseconds in `ticks` ticks between two now()s; 0 if `end` is before
  // `start` (counters of two cores a thread moved between may differ a little).
  static std::uint64_t elapsed_ns(std::uint64_t start, std::uint64_t end) noexcept {
    if (end <= start)
      return 0;
    const std::uint64_t ticks = end - start;
    // The 32.32 fixed-point rate is at most 1.0, so below 2^32 ticks the
    // product cannot overflow.
    if (ticks < (std::uint64_t{1} << 32))
      return (ticks * ns_per_tick_q32_.load(std::memory_order_relaxed)) >> 32;
    return static_cast<std::uint64_t>(static_cast<double>(ticks) * ns_per_tick_.load(std::memory_order_relaxed));
  }

private:
  // Written once by calibrate(), before any worker reads them.
  static inline std::atomic<bool> use_tsc_{false};
  static inline std::atomic<std::uint64_t> ns_per_tick_q32_{std::uint64_t{1} << 32};
  static inline std::atomic<double> ns_per_tick_{1.0};
};

// One command's counters on one thread.
struct command_counters {
  // Counts a call that took `ns` nanoseconds. Owning thread only.
  void record(std::uint64_t ns, bool error) noexcept {
    if (error)
      errors.add();
    latency[latency_histogram::bucket_of(ns)].add();
  }

  // Calls are the sum of the latency buckets: one store less per request.
  thread_counter errors;
  std::array<thread_counter, latency_histogram::bucket_count> latency;
};

// What one server thread measures.
class worker_metrics {
public:
  // Protocols counted (wire_protocol values below this).
  static constexpr std::size_t max_protocols = 8;

  // Sizes the command table for a router of `commands` commands. Call once,
  // before the worker serves; readers on other threads see either no table
  // or the whole of it. Throws std::bad_alloc.
  void prepare(std::size_t commands);

  // The counters of the command at `index` (in router::commands()), or null
  // for an index beyond the table (a command registered after run() started,
  // which the router forbids). Owning thread only.
  command_counters* slot(std::size_t index) noexcept {
    return index < size_.load(std::memory_order_relaxed) ? &commands_[index] : nullptr;
  }

  // Counts a request for a name the router does not know. Owning thread only.
  void record_unknown() noexcept { unknown_.add(); }

  // A connection began (ended) being served with `p`. Owning thread only.
  void opened(wire_protocol p) noexcept { opened_[slot(p)].add(); }
  void closed(wire_protocol p) noexcept { closed_[slot(p)].add(); }

  // Adds this thread's counts to `out` (whose `commands` already lists the
  // router's commands by name). Any thread.
  void add_to(server_metrics& out) const;

private:
  static std::size_t slot(wire_protocol p) noexcept {
    const auto i = static_cast<std::size_t>(p);
    return i < max_protocols ? i : max_protocols - 1;
  }

  std::unique_ptr<command_counters[]> commands_;
  std::atomic<std::size_t> size_{0};
  thread_counter unknown_;
  std::array<thread_counter, max_protocols> opened_;
  std::array<thread_counter, max_protocols> closed_;
};

// Requests answered per second over the last minute: a ring of 60 slots that
// one thread ticks once a second with the server's request total; any thread
// reads it.
class request_rate {
public:
  static constexpr std::size_t slots = 60;

  // Closes the second that ends now, whose end saw `total` requests so far.
  // Ticking thread only.
  void tick(std::uint64_t total) noexcept {
    const std::uint64_t n = ticks_.load(std::memory_order_relaxed);
    per_second_[n % slots].store(total - last_total_, std::memory_order_relaxed);
    last_total_ = total;
    ticks_.store(n + 1, std::memory_order_release);
  }

  // The last (up to 60) seconds' counts, oldest first, into `out`. Any thread.
  void read(std::vector<std::uint64_t>& out) const;

private:
  std::array<std::atomic<std::uint64_t>, slots> per_second_{};
  std::atomic<std::uint64_t> ticks_{0};
  std::uint64_t last_total_ = 0;
};

// Ticks `rate` once a second with `srv`'s request total until `srv` drains
// or the task is cancelled. A server's background task: the drain cancels it,
// but a cancellation that comes while the tick runs (its wait already
// complete) reaches no wait, so the drain is checked as well.
task<void> tick_request_rate(const server& srv, request_rate& rate);

}  // namespace coronet::detail
