// How error replies echo a name the peer sent: bounded and printable.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace coronet::detail {

/// Longest part of a peer-supplied name echoed in an error reply.
inline constexpr std::size_t max_echoed_name = 128;

/// Appends `name` for an error message such as `ERR unknown command 'x'`:
/// at most `max_echoed_name` bytes (then `...`), with bytes outside printable
/// ASCII, `'` and `\` written as `\xHH`, so the result stays on one line and
/// the quotes around it stay unambiguous. Throws only `std::bad_alloc`.
inline void append_quoted_name(std::string& out, std::string_view name) {
  static constexpr char hex[] = "0123456789abcdef";
  const bool truncated = name.size() > max_echoed_name;
  for (char c : name.substr(0, max_echoed_name)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '\'' || c == '\\') {
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 0xf];
    } else {
      out += c;
    }
  }
  if (truncated)
    out += "...";
}

}  // namespace coronet::detail
