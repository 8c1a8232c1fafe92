// Matching command arguments such as option names without regard to case, as
// Redis does (strcasecmp): ASCII letters only, no locale.
#pragma once

#include <cstddef>
#include <string_view>

namespace coronet::detail {

// True if `a`, with ASCII letters lowered, equals `lower`, which must already
// be all lower case.
inline bool equals_lower(std::string_view a, std::string_view lower) noexcept {
  if (a.size() != lower.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i])
      return false;
  }
  return true;
}

}  // namespace coronet::detail
