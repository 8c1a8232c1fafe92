// Pieces of RESP2 framing shared by the request parser and the client's
// reply parser: error texts, line ends, lengths.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>
#include <string_view>

#include "coronet/protocol/detail/saturating.hpp"
#include "coronet/protocol/parse_result.hpp"

namespace coronet::detail::resp {

inline constexpr std::string_view too_large = "request too large";
inline constexpr std::string_view invalid_multibulk = "protocol error: invalid multibulk length";
inline constexpr std::string_view invalid_bulk = "protocol error: invalid bulk length";
inline constexpr std::string_view bulk_unterminated = "protocol error: bulk not terminated by CRLF";

constexpr parse_result fail(std::string_view message) noexcept { return {parse_status::error, 0, message}; }

enum class line_end { found, incomplete, too_long, bad_terminator };

// Looks for the CR LF ending the line that starts at `start`, searching from
// `from` (bytes before it are known to hold no CR). The line's content may
// be at most `max` bytes. On `found`, `cr` is the CR's offset; on
// `incomplete`, `resume` is where a later search may start.
inline line_end find_crlf(std::span<const char> input, std::size_t start, std::size_t from, std::size_t max,
                          std::size_t& cr, std::size_t& resume) noexcept {
  const std::size_t limit = std::min(input.size(), saturating_add(saturating_add(start, max), 1));
  if (from < limit) {
    const void* hit = std::memchr(input.data() + from, '\r', limit - from);
    if (hit != nullptr) {
      cr = static_cast<std::size_t>(static_cast<const char*>(hit) - input.data());
      if (cr + 1 >= input.size()) {
        resume = cr;
        return line_end::incomplete;
      }
      return input[cr + 1] == '\n' ? line_end::found : line_end::bad_terminator;
    }
  }
  if (input.size() - start > max)
    return line_end::too_long;
  resume = std::max(from, limit);
  return line_end::incomplete;
}

}  // namespace coronet::detail::resp
