// Bounded per-source-address tables: what the AUTH throttle and the datagram
// server's reply rate limit remember about each peer address (private).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include <asio/ip/address.hpp>

namespace coronet::detail {

// A peer address as a table key: IPv4 (in either spelling, plain or
// IPv4-mapped IPv6) as IPv4-mapped IPv6, so both are one source; other IPv6
// addresses cut to their /64, the block one host or one customer gets, so a
// peer cannot get a fresh record for every address of its own block.
using source_key = std::array<unsigned char, 16>;

inline source_key source_key_of(const asio::ip::address& a) noexcept {
  source_key k{};
  if (a.is_v4()) {
    k[10] = 0xff;
    k[11] = 0xff;
    const auto b = a.to_v4().to_bytes();
    std::memcpy(k.data() + 12, b.data(), b.size());
    return k;
  }
  const auto b = a.to_v6().to_bytes();
  std::memcpy(k.data(), b.data(), b.size());
  if (!a.to_v6().is_v4_mapped())
    std::fill(k.begin() + 8, k.end(), static_cast<unsigned char>(0));
  return k;
}

// A table of `Record`s for at most a fixed number of source addresses. Set
// associative: a keyed hash (with a seed drawn per table, so that a peer
// cannot choose addresses that fall into one set and push each other's
// records out) picks a set of `Ways` slots. A new address takes a free slot
// of its set, else the slot of the address used least recently
// (`Record::last_used`, any type with `<`). Not thread-safe.
template <class Record, std::size_t Ways>
class source_table {
public:
  // Empty: `find` finds nothing until `allocate`.
  source_table() : seed_(random_seed()) {}

  // Makes room for `sources` addresses (at least `Ways`; rounded up to a
  // power of two of sets), all free. Throws `std::bad_alloc`.
  void allocate(std::size_t sources) {
    std::size_t sets = 1;
    while (sets * Ways < std::max(sources, Ways))
      sets *= 2;
    slots_.assign(sets * Ways, slot{});
    set_mask_ = sets - 1;
  }

  bool allocated() const noexcept { return !slots_.empty(); }

  // The record of `k`, or null. Allocates nothing.
  Record* find(const source_key& k) noexcept {
    if (slots_.empty())
      return nullptr;
    slot* set = set_of(k);
    for (std::size_t i = 0; i < Ways; ++i)
      if (set[i].used && set[i].key == k)
        return &set[i].record;
    return nullptr;
  }
  const Record* find(const source_key& k) const noexcept { return const_cast<source_table*>(this)->find(k); }

  // The record of `k`: the one found, or a value-initialised one in place of
  // a free or the least recently used slot of its set (`added` says which).
  // The table must be allocated.
  Record& find_or_add(const source_key& k, bool& added) noexcept {
    slot* set = set_of(k);
    slot* victim = set;
    for (std::size_t i = 0; i < Ways; ++i) {
      if (set[i].used && set[i].key == k) {
        added = false;
        return set[i].record;
      }
      if (victim->used && (!set[i].used || set[i].record.last_used < victim->record.last_used))
        victim = set + i;
    }
    *victim = slot{k, true, Record{}};
    added = true;
    return victim->record;
  }

private:
  struct slot {
    source_key key{};
    bool used = false;
    Record record{};
  };

  static std::uint64_t random_seed() {
    std::random_device device;
    return static_cast<std::uint64_t>(device()) << 32 | device();
  }

  static std::uint64_t mix(std::uint64_t x) noexcept {
    // splitmix64's finaliser: every input bit reaches every output bit.
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
  }

  slot* set_of(const source_key& k) noexcept {
    std::uint64_t hi = 0;
    std::uint64_t lo = 0;
    std::memcpy(&hi, k.data(), 8);
    std::memcpy(&lo, k.data() + 8, 8);
    return slots_.data() + (static_cast<std::size_t>(mix(mix(hi ^ seed_) ^ lo)) & set_mask_) * Ways;
  }

  std::vector<slot> slots_;
  std::size_t set_mask_ = 0;
  const std::uint64_t seed_;
};

}  // namespace coronet::detail
