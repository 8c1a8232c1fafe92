// The live counters behind server::metrics(): per server thread, written
// only by that thread (no lock, no read-modify-write, no allocation on the
// request path), read from any thread (relaxed atomics).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "command/command_meters.hpp"
#include "coronet/core/detail/thread_counter.hpp"
#include "coronet/server/server_metrics.hpp"
#include "coronet/protocol/wire_protocol.hpp"
#include "coronet/core/task.hpp"

namespace coronet {
class server;
}  // namespace coronet

namespace coronet::detail {

// What one server thread measures: its commands' calls and its connections.
class worker_metrics : public command_meters {
public:
  // Protocols counted (wire_protocol values below this).
  static constexpr std::size_t max_protocols = 8;

  // A connection began (ended) being served with `p`. Owning thread only.
  void opened(wire_protocol p) noexcept { opened_[protocol_slot(p)].add(); }
  void closed(wire_protocol p) noexcept { closed_[protocol_slot(p)].add(); }

  // Adds this thread's counts to `out` (whose `commands` already lists the
  // router's commands by name). Any thread.
  void add_to(server_metrics& out) const;

  // HTTP sent to a command port (server_stats::security_attacks).
  thread_counter security_attacks;

private:
  static std::size_t protocol_slot(wire_protocol p) noexcept {
    const auto i = static_cast<std::size_t>(p);
    return i < max_protocols ? i : max_protocols - 1;
  }

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
