// The per-source-address reply limit of coronet::datagram_server (private).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include <asio/ip/address.hpp>

#include "coronet/datagram/datagram_server.hpp"

namespace coronet::detail {

// Entries looked at for one source address in the rate limiter's table.
inline constexpr std::size_t rate_probe_length = 8;

// Per-source-address reply limit as a generic cell rate algorithm: each
// address keeps one "theoretical arrival time"; a reply is allowed while it
// is at most `burst - 1` intervals ahead of now, and moves it one interval on.
// A keyed hash keeps a peer from choosing which entries collide.
class source_rate_limiter {
public:
  explicit source_rate_limiter(const reply_rate_limit& limit) {
    if (limit.per_second == 0)
      return;
    interval_ = 1'000'000'000 / static_cast<std::int64_t>(limit.per_second);
    tolerance_ = interval_ * (static_cast<std::int64_t>(limit.burst) - 1);
    table_.resize(std::bit_ceil(std::max(limit.tracked_sources, rate_probe_length)));
    std::random_device seed;
    seed_ = (static_cast<std::uint64_t>(seed()) << 32) ^ seed();
  }

  // True if a reply to `a` would be allowed now; changes nothing.
  bool allows(const asio::ip::address& a, std::int64_t now) const noexcept {
    if (table_.empty())
      return true;
    const key_type k = key_of(a);
    const std::size_t start = index_of(k);
    for (std::size_t i = 0; i < rate_probe_length; ++i) {
      const entry& e = table_[(start + i) & (table_.size() - 1)];
      if (e.used && e.key == k)
        return std::max(e.tat, now) - now <= tolerance_;
    }
    return true;
  }

  // Spends one reply for `a`; false (and nothing spent) if none is left.
  bool take(const asio::ip::address& a, std::int64_t now) noexcept {
    if (table_.empty())
      return true;
    const key_type k = key_of(a);
    const std::size_t start = index_of(k);
    entry* victim = nullptr;
    for (std::size_t i = 0; i < rate_probe_length; ++i) {
      entry& e = table_[(start + i) & (table_.size() - 1)];
      if (e.used && e.key == k) {
        const std::int64_t tat = std::max(e.tat, now);
        if (tat - now > tolerance_)
          return false;
        e.tat = tat + interval_;
        e.seen = now;
        return true;
      }
      if (victim == nullptr || !e.used || (victim->used && e.seen < victim->seen))
        victim = &e;
    }
    // New address: it starts with a full bucket (and may push out another).
    *victim = entry{k, true, now + interval_, now};
    return true;
  }

private:
  using key_type = std::array<unsigned char, 16>;
  struct entry {
    key_type key{};
    bool used = false;
    std::int64_t tat = 0;
    std::int64_t seen = 0;
  };

  static key_type key_of(const asio::ip::address& a) noexcept {
    if (a.is_v4())
      return asio::ip::make_address_v6(asio::ip::v4_mapped, a.to_v4()).to_bytes();
    return a.to_v6().to_bytes();
  }

  std::size_t index_of(const key_type& k) const noexcept {
    std::uint64_t h = 0xcbf29ce484222325ULL ^ seed_;
    for (unsigned char c : k)
      h = (h ^ c) * 0x100000001b3ULL;
    h ^= h >> 29;
    return static_cast<std::size_t>(h) & (table_.size() - 1);
  }

  std::vector<entry> table_;
  std::int64_t interval_ = 0;
  std::int64_t tolerance_ = 0;
  std::uint64_t seed_ = 0;
};

}  // namespace coronet::detail
