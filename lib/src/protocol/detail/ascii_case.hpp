// ASCII case-insensitive comparison, for protocol tokens (header names, methods,
// command names): no locale, no allocation.
#pragma once

#include <algorithm>
#include <string_view>

namespace coronet::detail {

constexpr char ascii_lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

constexpr bool ascii_iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

}  // namespace coronet::detail
