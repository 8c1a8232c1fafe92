#include "coronet/command/auth_throttle.hpp"

#include <algorithm>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>

namespace coronet {
namespace {

// The failure count stops growing here: the delay has long reached its cap.
constexpr std::uint32_t max_count = 1u << 20;

// At most ten lines a second for all sources together: many addresses failing at once
// cannot flood the log.
constexpr auto min_line_gap = std::chrono::milliseconds(100);

std::uint64_t random_seed() {
  std::random_device device;
  return static_cast<std::uint64_t>(device()) << 32 | device();
}

std::uint64_t mix(std::uint64_t x) noexcept {
  // splitmix64's finaliser: every input bit reaches every output bit.
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

auth_throttle::auth_throttle(const auth_throttle_options& options) : options_(options), seed_(random_seed()) {
  // Checked here, not at the first wrong password: the table is sized from it then, under
  // the lock, where a size that cannot be allocated (or overflows) would fail an AUTH.
  if (options_.max_sources > max_sources_limit)
    throw std::invalid_argument("auth_throttle_options::max_sources " + std::to_string(options_.max_sources) +
                                " is over the limit of " + std::to_string(max_sources_limit));
}

auth_throttle::key_type auth_throttle::key_of(const asio::ip::address& a) noexcept {
  key_type k{};
  if (a.is_v4()) {
    // As IPv4-mapped IPv6, so both spellings of one IPv4 address are one source.
    k[10] = 0xff;
    k[11] = 0xff;
    const auto b = a.to_v4().to_bytes();
    std::memcpy(k.data() + 12, b.data(), b.size());
    return k;
  }
  const auto b = a.to_v6().to_bytes();
  std::memcpy(k.data(), b.data(), b.size());
  if (!a.to_v6().is_v4_mapped())
    std::fill(k.begin() + 8, k.end(), static_cast<unsigned char>(0));  // one /64
  return k;
}

std::size_t auth_throttle::set_of(const key_type& k) const noexcept {
  // Keyed with a random seed, so that a peer cannot pick addresses that fall
  // into one set and push each other's records out.
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;
  std::memcpy(&hi, k.data(), 8);
  std::memcpy(&lo, k.data() + 8, 8);
  return static_cast<std::size_t>(mix(mix(hi ^ seed_) ^ lo) & (sets_ - 1));
}

auth_throttle::entry* auth_throttle::find(const key_type& k) noexcept {
  if (table_.empty())
    return nullptr;
  entry* set = table_.data() + set_of(k) * ways;
  for (std::size_t i = 0; i < ways; ++i)
    if (set[i].used && set[i].key == k)
      return set + i;
  return nullptr;
}

void auth_throttle::decay(entry& e, clock::time_point now) const noexcept {
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
  const key_type k = key_of(source);
  std::lock_guard lock(mutex_);
  entry* e = find(k);
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
  const key_type k = key_of(source);
  std::lock_guard lock(mutex_);
  if (table_.empty()) {
    std::size_t sets = 1;
    while (sets * ways < std::max<std::size_t>(options_.max_sources, ways))
      sets *= 2;
    table_.resize(sets * ways);
    sets_ = sets;
  }
  entry* e = find(k);
  if (e == nullptr) {
    // A free way, else the one whose last failure is the oldest.
    entry* set = table_.data() + set_of(k) * ways;
    e = set;
    for (std::size_t i = 0; i < ways; ++i) {
      if (!set[i].used) {
        e = set + i;
        break;
      }
      if (set[i].last_failure < e->last_failure)
        e = set + i;
    }
    *e = entry{};
    e->key = k;
    e->used = true;
    e->decayed_at = now;
    e->logged_at = now - options_.decay - clock::duration(1);
  }
  decay(*e, now);
  e->failures = std::min(e->failures + 1, max_count);
  e->last_failure = now;
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
