// The live counters behind server::metrics(): per server thread, written
// only by that thread (no lock, no read-modify-write, no allocation on the
// request path), read from any thread (relaxed atomics).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "coronet/detail/thread_counter.hpp"
#include "coronet/framework/server_metrics.hpp"
#include "coronet/framework/wire_protocol.hpp"
#include "coronet/task.hpp"

namespace coronet {
class server;
}  // namespace coronet

namespace coronet::detail {

// One command's counters on one thread.
struct command_counters {
  thread_counter calls;
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

  // Counts a call of the command at `index` (in router::commands()) that
  // took `elapsed`. Owning thread only. An index beyond the table (a command
  // registered after run() started, which the router forbids) is not counted.
  void record(std::size_t index, std::chrono::steady_clock::duration elapsed, bool error) noexcept {
    if (index >= size_.load(std::memory_order_relaxed))
      return;
    command_counters& c = commands_[index];
    c.calls.add();
    if (error)
      c.errors.add();
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count();
    c.latency[latency_histogram::bucket_of(ns > 0 ? static_cast<std::uint64_t>(ns) : 0)].add();
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

// Ticks `rate` once a second with `srv`'s request total until cancelled (a
// server's background task: the drain ends it).
task<void> tick_request_rate(const server& srv, request_rate& rate);

}  // namespace coronet::detail
