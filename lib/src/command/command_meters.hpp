// The live per-command counters the dispatch path writes: per thread, written
// only by that thread (no lock, no read-modify-write, no allocation on the
// request path), read from any thread (relaxed atomics). A server's worker
// metrics extend them with what only a server knows (connections).
#pragma once

#include <time.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "coronet/command/latency_histogram.hpp"
#include "coronet/core/detail/thread_counter.hpp"

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
  // Counts a call that took `ns` nanoseconds. Owning thread only. Out of line:
  // one call in latency_sample_every is timed.
  [[gnu::noinline]] void record(std::uint64_t ns, bool error) noexcept {
    if (error)
      errors.add();
    latency[latency_histogram::bucket_of(ns)].add();
  }
  // Counts a call that was not timed. Owning thread only.
  [[gnu::always_inline]] void record_untimed(bool error) noexcept {
    if (error)
      errors.add();
    untimed_calls.add();
  }

  // Counts a call begun at latency_clock::now() `started`, or not timed if
  // `started` is 0 (no clock reads 0 while a server runs). Owning thread only.
  [[gnu::always_inline]] void finish(std::uint64_t started, bool error) noexcept {
    if (started == 0) [[likely]]
      record_untimed(error);
    else
      record(latency_clock::elapsed_ns(started, latency_clock::now()), error);
  }

  // Calls are the sum of the latency buckets (the timed calls) and untimed_calls.
  thread_counter errors;
  std::array<thread_counter, latency_histogram::bucket_count> latency;
  // Calls not timed (latency tracking off, or not sampled), in no bucket.
  thread_counter untimed_calls;
  // Calls to leave untimed before the next timed one (see command_meters::sample).
  std::uint32_t until_sample = 0;
};

// The calls of one thread's router commands, by index in router::commands().
class command_meters {
public:
  // Sizes the command table for a router of `commands` commands and
  // calibrates latency_clock. Call before the thread dispatches (from any
  // thread while it does not); readers on other threads see either no table
  // or the whole of it. Called again (a server run again), it keeps the table
  // and restarts each command's sampling countdown.
  // With `timed` false, calls are counted but not timed; otherwise each
  // command's first call is timed, then one in `sample_every` (0 is taken
  // as 1: every call). Throws std::bad_alloc.
  void prepare(std::size_t commands, bool timed = true, std::uint32_t sample_every = 1);

  // Whether calls are timed at all (prepare's `timed`). Owning thread only.
  bool timed() const noexcept { return timed_; }

  // Whether the call about to be made on `c` is one to time: a test and a
  // decrement per call, the clock only for the sampled ones. Untimed, the
  // countdown starts from its largest value each time it runs out, so the
  // common call does not test timed() as well. Owning thread only.
  [[gnu::always_inline]] bool sample(command_counters& c) noexcept {
    if (c.until_sample != 0) [[likely]] {
      --c.until_sample;
      return false;
    }
    return restart_countdown(c);
  }

  // The counters of the command at `index` (in router::commands()); for an
  // index beyond the table (a command registered after run() started, which
  // the router forbids), a spare set that no reader sees. Owning thread only.
  command_counters& slot(std::size_t index) noexcept {
    return index < size_.load(std::memory_order_relaxed) ? commands_[index] : spare_;
  }

  // Where a call of the command at `index` is counted, and when it began:
  // its counters (as slot(), never null) and latency_clock::now() if it is
  // one to time (sample()), else 0. Owning thread only.
  [[gnu::always_inline]] std::pair<command_counters*, std::uint64_t> begin_call(std::size_t index) noexcept {
    command_counters& c = slot(index);
    return {&c, sample(c) ? latency_clock::now() : 0};
  }

  // Counts a request for a name the router does not know. Owning thread only.
  void record_unknown() noexcept { unknown_.add(); }

protected:
  // sample() when `c`'s countdown ran out: whether to time this call, and
  // the countdown to the next one.
  bool restart_countdown(command_counters& c) noexcept {
    if (!timed_) {
      c.until_sample = UINT32_MAX;
      return false;
    }
    c.until_sample = sample_every_ - 1;
    return true;
  }

  std::unique_ptr<command_counters[]> commands_;
  command_counters spare_;
  std::atomic<std::size_t> size_{0};
  thread_counter unknown_;
  bool timed_ = true;
  std::uint32_t sample_every_ = 1;
};

}  // namespace coronet::detail
