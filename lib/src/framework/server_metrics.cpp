#include "coronet/framework/server_metrics.hpp"

#include <algorithm>
#include <cmath>

#include "coronet/framework/server.hpp"
#include "coronet/net/timer.hpp"
#include "detail/worker_metrics.hpp"

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

namespace coronet::detail {

void worker_metrics::prepare(std::size_t commands) {
  if (size_.load(std::memory_order_relaxed) != 0 || commands == 0)
    return;
  commands_ = std::make_unique<command_counters[]>(commands);
  size_.store(commands, std::memory_order_release);
}

void worker_metrics::add_to(server_metrics& out) const {
  const std::size_t n = std::min(size_.load(std::memory_order_acquire), out.commands.size());
  for (std::size_t i = 0; i < n; ++i) {
    const command_counters& from = commands_[i];
    command_metrics& to = out.commands[i];
    for (std::size_t b = 0; b < latency_histogram::bucket_count; ++b)
      to.latency.counts[b] += from.latency[b].get();
    to.calls += from.calls.get();
    to.errors += from.errors.get();
  }
  out.unknown_commands += unknown_.get();
  for (std::size_t p = 0; p < max_protocols; ++p) {
    // Closed before opened: `now` is never negative.
    const std::uint64_t closed = closed_[p].get();
    const std::uint64_t opened = opened_[p].get();
    if (opened == 0)
      continue;
    const auto protocol = static_cast<wire_protocol>(p);
    auto it = std::find_if(out.connections.begin(), out.connections.end(),
                           [protocol](const protocol_connections& c) { return c.protocol == protocol; });
    if (it == out.connections.end()) {
      out.connections.push_back(protocol_connections{protocol, 0, 0});
      it = out.connections.end() - 1;
    }
    it->now += opened - std::min(closed, opened);
    it->total += opened;
  }
}

void request_rate::read(std::vector<std::uint64_t>& out) const {
  const std::uint64_t n = ticks_.load(std::memory_order_acquire);
  const std::uint64_t first = n > slots ? n - slots : 0;
  out.clear();
  out.reserve(static_cast<std::size_t>(n - first));
  for (std::uint64_t i = first; i < n; ++i)
    out.push_back(per_second_[i % slots].load(std::memory_order_relaxed));
}

}  // namespace coronet::detail

namespace coronet::detail {

task<void> tick_request_rate(const server& srv, request_rate& rate) {
  timer ticks(co_await this_executor);
  // Ticks at whole seconds from now, so a late wake-up does not shift the
  // ones after it.
  auto next = std::chrono::steady_clock::now();
  for (;;) {
    next += std::chrono::seconds(1);
    ticks.expires_at(next);
    co_await ticks.wait();
    rate.tick(srv.stats().requests);
  }
}

}  // namespace coronet::detail
