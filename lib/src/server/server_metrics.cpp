#include "coronet/server/server_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#endif

#include "coronet/server/server.hpp"
#include "coronet/net/timer.hpp"
#include "server/detail/worker_metrics.hpp"

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

namespace {

// True when CPUID says the timestamp counter is invariant (constant rate in
// every P-, C- and T-state: Intel SDM CPUID.80000007H:EDX[8], AMD likewise).
bool invariant_tsc() noexcept {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  unsigned eax;
  unsigned ebx;
  unsigned ecx;
  unsigned edx;
  if (__get_cpuid(0x80000000u, &eax, &ebx, &ecx, &edx) == 0 || eax < 0x80000007u)
    return false;
  if (__get_cpuid(0x80000007u, &eax, &ebx, &ecx, &edx) == 0)
    return false;
  return (edx & (1u << 8)) != 0;
#else
  return false;
#endif
}

}  // namespace

void latency_clock::calibrate() noexcept {
  static std::once_flag once;
  std::call_once(once, [] {
    if (!invariant_tsc())
      return;
    use_tsc_.store(true, std::memory_order_relaxed);
    const std::uint64_t ns0 = monotonic_ns();
    const std::uint64_t tick0 = now();
    std::uint64_t ns1 = ns0;
    while (ns1 - ns0 < 2000000)
      ns1 = monotonic_ns();
    const std::uint64_t tick1 = now();
    const double rate = tick1 > tick0 ? static_cast<double>(ns1 - ns0) / static_cast<double>(tick1 - tick0) : 2.0;
    if (rate > 1.0) {  // no counter, or one slower than 1 GHz: the fixed-point rate would not fit
      use_tsc_.store(false, std::memory_order_relaxed);
      return;
    }
    ns_per_tick_.store(rate, std::memory_order_relaxed);
    ns_per_tick_q32_.store(static_cast<std::uint64_t>(rate * 4294967296.0), std::memory_order_relaxed);
  });
}

void worker_metrics::prepare(std::size_t commands) {
  latency_clock::calibrate();
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
    for (std::size_t b = 0; b < latency_histogram::bucket_count; ++b) {
      const std::uint64_t n = from.latency[b].get();
      to.latency.counts[b] += n;
      to.calls += n;
    }
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
  while (!srv.draining()) {
    next += std::chrono::seconds(1);
    ticks.expires_at(next);
    co_await ticks.wait();
    if (!srv.draining())
      rate.tick(srv.stats().requests);
  }
}

}  // namespace coronet::detail
