#include "coronet/server/server_metrics.hpp"

#include <algorithm>

#include "coronet/server/server.hpp"
#include "coronet/net/timer.hpp"
#include "server/detail/worker_metrics.hpp"

namespace coronet::detail {

void worker_metrics::add_to(server_metrics& out) const {
  const std::size_t n = std::min(size_.load(std::memory_order_acquire), out.commands.size());
  for (std::size_t i = 0; i < n; ++i) {
    const command_counters& from = commands_[i];
    command_metrics& to = out.commands[i];
    for (std::size_t b = 0; b < latency_histogram::bucket_count; ++b) {
      const std::uint64_t n = from.latency[b].get();
      to.latency.counts[b] += n;
      to.calls += n;
    }
    to.errors += from.errors.get();
    to.calls += from.untimed_calls.get();
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
  while (!srv.draining()) {
    next += std::chrono::seconds(1);
    ticks.expires_at(next);
    co_await ticks.wait();
    if (!srv.draining())
      rate.tick(srv.stats().requests);
  }
}

}  // namespace coronet::detail
