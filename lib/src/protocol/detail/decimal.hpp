// Decimal numbers on the wire: strict integer parsing (as Redis' string2ll),
// appending integers and doubles (as Redis' d2string).
#pragma once

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
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

// Appends `value` in decimal to `out` (a std::string or an output_buffer).
template <class Out>
void append_decimal(Out& out, std::int64_t value) {
  char digits[24];
  const auto r = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, static_cast<std::size_t>(r.ptr - digits));
}

// Room for the longest text `format_double` writes: 25 bytes, a sign and up
// to 17 digits followed by up to 7 zeros (`-1.2345678901234567e-308` is 24).
inline constexpr std::size_t max_double_chars = 32;

// Writes `value` to `buf` as Redis 7.2+ formats a double reply (util.c
// d2string) and returns the length: `nan`, `inf`, `-inf`, `0`, `-0`; an
// integer in plain digits when it is one of magnitude up to 2^62; otherwise
// the shortest digits that read back as `value`, plain when the exponent is
// small (`0.001`, `123.5`, `1234567000000`) and else scientific with an
// unpadded exponent (`1e-7`, `1.5e+300`). Redis finds the digits with Grisu2,
// which for about 0.2% of doubles ends in another digit or keeps one more than
// the shortest; both read back exactly.
inline std::size_t format_double(double value, char (&buf)[max_double_chars]) {
  char* p = buf;
  auto put = [&p](std::string_view s) {
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  };
  if (std::isnan(value)) {
    put("nan");
  } else if (std::isinf(value)) {
    put(value < 0 ? "-inf" : "inf");
  } else if (value == 0) {
    put(std::signbit(value) ? "-0" : "0");
  } else if (constexpr double integer_range = static_cast<double>(std::numeric_limits<std::int64_t>::max() / 2);
             value >= -integer_range && value <= integer_range &&
             static_cast<double>(static_cast<std::int64_t>(value)) == value) {
    p = std::to_chars(p, buf + max_double_chars, static_cast<std::int64_t>(value)).ptr;
  } else {
    // Shortest round-trip digits as d[.ddd]e<sign><exponent>.
    char sci[max_double_chars];
    const auto r = std::to_chars(sci, sci + sizeof sci, std::fabs(value), std::chars_format::scientific);
    const std::string_view text(sci, static_cast<std::size_t>(r.ptr - sci));
    const std::size_t e = text.find('e');
    char digits[max_double_chars];
    int ndigits = 0;
    for (char c : text.substr(0, e))
      if (c != '.')
        digits[ndigits++] = c;
    int exponent = 0;  // of the first digit
    const char* sign = text.data() + e + 1;
    std::from_chars(*sign == '+' ? sign + 1 : sign, r.ptr, exponent);
    const int k = exponent - (ndigits - 1);  // of the last digit
    const int magnitude = exponent < 0 ? -exponent : exponent;
    const std::string_view all(digits, static_cast<std::size_t>(ndigits));
    if (value < 0)
      put("-");
    if (k >= 0 && magnitude < ndigits + 7) {
      put(all);
      std::memset(p, '0', static_cast<std::size_t>(k));
      p += k;
    } else if (k < 0 && (k > -7 || magnitude < 4)) {
      const int whole_digits = ndigits + k;
      if (whole_digits <= 0) {
        put("0.");
        std::memset(p, '0', static_cast<std::size_t>(-whole_digits));
        p += -whole_digits;
        put(all);
      } else {
        put(all.substr(0, static_cast<std::size_t>(whole_digits)));
        put(".");
        put(all.substr(static_cast<std::size_t>(whole_digits)));
      }
    } else {
      put(all.substr(0, 1));
      if (ndigits > 1) {
        put(".");
        put(all.substr(1));
      }
      put(exponent < 0 ? "e-" : "e+");
      p = std::to_chars(p, buf + max_double_chars, magnitude).ptr;
    }
  }
  return static_cast<std::size_t>(p - buf);
}

// Appends `value` formatted by `format_double`.
template <class Out>
void append_double(Out& out, double value) {
  char buf[max_double_chars];
  out.append(buf, format_double(value, buf));
}

}  // namespace coronet::detail
