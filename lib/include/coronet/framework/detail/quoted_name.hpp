// How error replies echo a name the peer sent: bounded and on one line, as
// Redis echoes it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace coronet::detail {

/// Longest part of a peer-supplied name echoed in an error reply (Redis's
/// `%.128s`).
inline constexpr std::size_t max_echoed_name = 128;

/// Appends at most `limit` bytes of `text` to `out` for an error message such
/// as `ERR unknown command 'x'`, as Redis does: cut without a mark, CR and LF
/// written as spaces (an error is one line), every other byte as it is. The
/// codecs make the line readable for their peers (the line protocol escapes
/// what a terminal would not show). Throws only `std::bad_alloc`.
inline void append_quoted_name(std::string& out, std::string_view text, std::size_t limit = max_echoed_name) {
  for (char c : text.substr(0, limit))
    out += (c == '\r' || c == '\n') ? ' ' : c;
}

}  // namespace coronet::detail
