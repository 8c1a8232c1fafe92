// How the router finds a command name of at most 8 bytes in any case: the
// name as one word, compared once (router::find).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace coronet::detail {

inline constexpr std::size_t short_name_max = 8;

// The bytes of a name of 1 to 8 bytes in one word, byte i at bits 8i (zeros
// above its length): at most three loads, whatever the length.
[[gnu::always_inline]] inline std::uint64_t short_word(const char* p, std::size_t n) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    if (n >= 4) {
      std::uint32_t lo;
      std::uint32_t hi;
      std::memcpy(&lo, p, 4);
      std::memcpy(&hi, p + n - 4, 4);
      // Below 8 bytes the two loads overlap; the bytes they share are the
      // same, so OR keeps them.
      return lo | static_cast<std::uint64_t>(hi) << (8 * (n - 4));
    }
  }
  const auto at = [p](std::size_t i) {
    return static_cast<std::uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  };
  if constexpr (std::endian::native == std::endian::little)
    return at(0) | at(n / 2) | at(n - 1);
  std::uint64_t w = 0;
  for (std::size_t i = 0; i < n; ++i)
    w |= at(i);
  return w;
}

// The slot a short name's word hashes to, the same for every spelling of a
// name that differs in case only (the case bit of every byte is set first).
[[gnu::always_inline]] inline std::size_t short_slot(std::uint64_t word, std::size_t n, unsigned shift) noexcept {
  return static_cast<std::size_t>(((word | 0x2020202020202020u) ^ n) * 0x9e3779b97f4a7c15u >> shift);
}

}  // namespace coronet::detail
