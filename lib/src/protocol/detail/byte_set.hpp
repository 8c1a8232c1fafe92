// Finding the bytes an encoder must treat specially, one table lookup a byte.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace coronet::detail {

// A set of byte values, built at compile time.
class byte_set {
public:
  constexpr byte_set(std::string_view members) noexcept : in_{} {
    for (char c : members)
      in_[static_cast<unsigned char>(c)] = true;
  }

  constexpr bool contains(char c) const noexcept { return in_[static_cast<unsigned char>(c)]; }

  // Index of the first byte of `s` at or after `from` in the set; s.size() if none.
  constexpr std::size_t find_in(std::string_view s, std::size_t from = 0) const noexcept {
    while (from < s.size() && !contains(s[from]))
      ++from;
    return from;
  }

private:
  std::array<bool, 256> in_;
};

}  // namespace coronet::detail
