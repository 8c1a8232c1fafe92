// Decimal integers on the wire: strict parsing (as Redis' string2ll) and appending.
#pragma once

#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace coronet::detail {

// Accepts exactly "0" or an optional '-' then [1-9][0-9]*, within int64_t:
// no '+', no spaces, no leading zeros, no "-0" -- what Redis accepts for lengths.
inline bool parse_decimal(std::string_view text, std::int64_t& value) noexcept {
  if (text.empty())
    return false;
  if (text == "0") {
    value = 0;
    return true;
  }
  bool negative = false;
  if (text.front() == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  if (text.empty() || text.front() < '1' || text.front() > '9')
    return false;
  // Accumulate as unsigned so that INT64_MIN is reachable without overflow.
  const std::uint64_t limit = negative ? std::uint64_t{1} << 63
                                       : static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  std::uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return false;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (v > (limit - digit) / 10)
      return false;
    v = v * 10 + digit;
  }
  value = negative ? static_cast<std::int64_t>(0 - v) : static_cast<std::int64_t>(v);
  return true;
}

inline void append_decimal(std::string& out, std::int64_t value) {
  char digits[24];
  const auto r = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, r.ptr);
}

}  // namespace coronet::detail
