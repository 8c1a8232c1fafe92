// How error replies echo a name the peer sent: bounded, on one line, and
// readable, as Redis echoes it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace coronet::detail {

/// Longest part of a peer-supplied name echoed in an error reply (Redis's
/// `%.128s`).
inline constexpr std::size_t max_echoed_name = 128;

/// Appends at most `limit` bytes of `text` to `out` for an error message such
/// as `ERR unknown command 'x'`: cut without a mark, as Redis's `%.128s` cuts.
/// Bytes outside printable ASCII, `'` and `\` are written `\xHH` (Redis
/// sends them as they are, CR and LF as spaces), so the error stays on one
/// line, a terminal shows it as sent, and the quotes around it stay
/// unambiguous; printable names read exactly as Redis writes them. The codecs
/// write error lines without escaping them again. Throws only `std::bad_alloc`.
template <class Out>
void append_quoted_name(Out& out, std::string_view text, std::size_t limit = max_echoed_name) {
  static constexpr char hex[] = "0123456789abcdef";
  for (char c : text.substr(0, limit)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '\'' || c == '\\') {
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 0xf];
    } else {
      out += c;
    }
  }
}

}  // namespace coronet::detail
