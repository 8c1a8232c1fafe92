#include "command/command_meters.hpp"

#include <mutex>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#endif

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

void command_meters::prepare(std::size_t commands, bool timed, std::uint32_t sample_every) {
  timed_ = timed;
  sample_every_ = sample_every == 0 ? 1 : sample_every;
  latency_clock::calibrate();
  if (const std::size_t n = size_.load(std::memory_order_relaxed); n != 0) {
    // Prepared before (a server run again): the countdowns restart, so that a change of
    // `timed` takes effect at each command's next call.
    for (std::size_t i = 0; i < n; ++i)
      commands_[i].until_sample = 0;
    return;
  }
  if (commands == 0)
    return;
  commands_ = std::make_unique<command_counters[]>(commands);
  size_.store(commands, std::memory_order_release);
}

}  // namespace coronet::detail
