#include "coronet/command/auth_throttle.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "net/detail/source_table.hpp"

namespace coronet {
namespace {

// The failure count stops growing here: the delay has long reached its cap.
constexpr std::uint32_t max_count = 1u << 20;

// At most ten lines a second for all sources together: many addresses failing at once
// cannot flood the log.
constexpr auto min_line_gap = std::chrono::milliseconds(100);

}  // namespace

struct auth_throttle::record {
  std::uint32_t failures = 0;
  std::uint64_t unlogged = 0;
  clock::time_point decayed_at{};
  // The last failure.
  clock::time_point last_used{};
  clock::time_point next_turn{};
  clock::time_point logged_at{};
};

struct auth_throttle::table : detail::source_table<record, 4> {};

auth_throttle::auth_throttle(const auth_throttle_options& options)
    : options_(options), table_(std::make_unique<table>()) {
  // Checked here, not at the first wrong password: the table is sized from it then, under
  // the lock, where a size that cannot be allocated (or overflows) would fail an AUTH.
  if (options_.max_sources > max_sources_limit)
    throw std::invalid_argument("auth_throttle_options::max_sources " + std::to_string(options_.max_sources) +
                                " is over the limit of " + std::to_string(max_sources_limit));
}

auth_throttle::~auth_throttle() = default;

void auth_throttle::decay(record& e, clock::time_point now) const noexcept {
  const clock::duration period = options_.decay;
  if (period <= clock::duration::zero()) {
    e.decayed_at = now;
    return;
  }
  if (now <= e.decayed_at)
    return;
  const auto halvings = (now - e.decayed_at) / period;
  if (halvings <= 0)
    return;
  e.failures = halvings >= 32 ? 0u : e.failures >> halvings;
  e.decayed_at += halvings * period;
}

auth_throttle::clock::duration auth_throttle::delay_for(std::uint32_t failures) const noexcept {
  if (options_.max_delay.count() <= 0 || failures <= options_.failures_before_delay)
    return {};
  const std::uint32_t doublings = failures - options_.failures_before_delay - 1;
  const clock::duration cap = options_.max_delay;
  clock::duration d = std::max<clock::duration>(options_.first_delay, clock::duration(1));
  for (std::uint32_t i = 0; i < doublings && d < cap; ++i)
    d *= 2;
  return std::min(d, cap);
}

auth_throttle::admission auth_throttle::admit(const asio::ip::address& source, clock::time_point now) noexcept {
  const detail::source_key k = detail::source_key_of(source);
  std::lock_guard lock(mutex_);
  record* e = table_->find(k);
  if (e == nullptr)
    return {};
  decay(*e, now);
  const clock::duration gap = delay_for(e->failures);
  if (gap == clock::duration::zero())
    return {};
  // Turns are `gap` apart, however many connections the address has: its
  // guesses per second are bounded, not just per connection.
  const clock::time_point turn = std::max(now, e->next_turn) + gap;
  if (turn - now > clock::duration(options_.max_wait)) {
    ++refused_;
    return {.wait = {}, .refused = true};
  }
  e->next_turn = turn;
  ++delayed_;
  return {.wait = turn - now, .refused = false};
}

auth_throttle::failure auth_throttle::failed(const asio::ip::address& source, clock::time_point now) {
  const detail::source_key k = detail::source_key_of(source);
  std::lock_guard lock(mutex_);
  if (!table_->allocated())
    table_->allocate(options_.max_sources);
  bool added = false;
  // A new address takes a free slot, else that of the address whose last failure is the oldest.
  record* e = &table_->find_or_add(k, added);
  if (added) {
    e->decayed_at = now;
    e->logged_at = now - options_.decay - clock::duration(1);
  }
  decay(*e, now);
  e->failures = std::min(e->failures + 1, max_count);
  e->last_used = now;
  ++e->unlogged;
  failure f;
  f.failures = e->failures;
  f.delay = delay_for(e->failures);
  f.unlogged = e->unlogged;
  // A source's line that does not fit the global budget is not lost: its next failure tries again.
  if (now - e->logged_at >= clock::duration(options_.decay) && (!logged_any_ || now - last_line_ >= min_line_gap)) {
    f.log = true;
    e->logged_at = now;
    e->unlogged = 0;
    last_line_ = now;
    logged_any_ = true;
  }
  return f;
}

std::uint64_t auth_throttle::delayed() const noexcept {
  std::lock_guard lock(mutex_);
  return delayed_;
}

std::uint64_t auth_throttle::refused() const noexcept {
  std::lock_guard lock(mutex_);
  return refused_;
}

}  // namespace coronet
