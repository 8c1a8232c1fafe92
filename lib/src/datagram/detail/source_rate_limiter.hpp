// The per-source-address reply limit of coronet::datagram_server (private).
#pragma once

#include <algorithm>
#include <cstdint>

#include <asio/ip/address.hpp>

#include "coronet/datagram/datagram_server.hpp"
#include "net/detail/source_table.hpp"

namespace coronet::detail {

// Per-source-address reply limit as a generic cell rate algorithm: each
// address keeps one "theoretical arrival time"; a reply is allowed while it
// is at most `burst - 1` intervals ahead of now, and moves it one interval on.
class source_rate_limiter {
public:
  explicit source_rate_limiter(const reply_rate_limit& limit) {
    if (limit.per_second == 0)
      return;
    interval_ = 1'000'000'000 / static_cast<std::int64_t>(limit.per_second);
    tolerance_ = interval_ * (static_cast<std::int64_t>(limit.burst) - 1);
    table_.allocate(limit.tracked_sources);
  }

  // True if a reply to `a` would be allowed now; changes nothing.
  bool allows(const asio::ip::address& a, std::int64_t now) const noexcept {
    const record* r = table_.find(source_key_of(a));
    return r == nullptr || std::max(r->tat, now) - now <= tolerance_;
  }

  // Spends one reply for `a`; false (and nothing spent) if none is left.
  bool take(const asio::ip::address& a, std::int64_t now) noexcept {
    if (!table_.allocated())
      return true;
    bool added = false;
    record& r = table_.find_or_add(source_key_of(a), added);
    // A new address starts with a full bucket (and may push out another).
    const std::int64_t tat = added ? now : std::max(r.tat, now);
    if (tat - now > tolerance_)
      return false;
    r.tat = tat + interval_;
    r.last_used = now;
    return true;
  }

private:
  struct record {
    std::int64_t tat = 0;
    std::int64_t last_used = 0;
  };

  source_table<record, 8> table_;
  std::int64_t interval_ = 0;
  std::int64_t tolerance_ = 0;
};

}  // namespace coronet::detail
