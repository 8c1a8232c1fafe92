// The inline request grammar (sdssplitargs'): words separated by blanks, with
// quoted parts decoded in place. The one-pass split of the common line of plain
// words, which resp_request_parser tries first, is in
// coronet/protocol/resp/detail/request_fast.hpp.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "protocol/detail/hex.hpp"
#include "protocol/resp/resp_wire.hpp"

namespace coronet::detail::resp {

inline bool is_blank(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

inline char unescape(char c) noexcept {
  switch (c) {
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'b': return '\b';
    case 'a': return '\a';
    default: return c;
  }
}

enum class split_outcome { ok, unbalanced, too_many };

// A quoted part, from just after its opening `quote` to just after the closing one,
// decoded into data[w...]: double quotes know \xHH and C escapes, single quotes only \'.
// False when the quote is not closed, or is followed by something other than a blank.
inline bool read_quoted(char* data, std::size_t size, std::size_t& r, std::size_t& w, char quote) noexcept {
  for (;;) {
    if (r == size)
      return false;
    const char c = data[r];
    if (quote == '"' && c == '\\' && r + 3 < size && data[r + 1] == 'x' && detail::hex_value(data[r + 2]) >= 0 &&
        detail::hex_value(data[r + 3]) >= 0) {
      data[w++] = static_cast<char>(detail::hex_value(data[r + 2]) * 16 + detail::hex_value(data[r + 3]));
      r += 4;
    } else if (quote == '"' && c == '\\' && r + 1 < size) {
      data[w++] = unescape(data[r + 1]);
      r += 2;
    } else if (quote == '\'' && c == '\\' && r + 1 < size && data[r + 1] == '\'') {
      data[w++] = '\'';
      r += 2;
    } else if (c == quote) {
      ++r;
      return r == size || is_blank(data[r]);
    } else {
      data[w++] = c;
      ++r;
    }
  }
}

// The bytes that end the plain part of an inline word: a separator, or a quote.
constexpr std::array<bool, 256> ends_plain_part = [] {
  std::array<bool, 256> table{};
  for (const char c : {' ', '\n', '\r', '\t', '"', '\''})
    table[static_cast<unsigned char>(c)] = true;
  return table;
}();

// sdssplitargs' grammar, decoding in place: a word's plain part stays where it
// is; a quoted part is decoded over itself from its opening quote on, and
// decoding only ever shrinks, so the write position never passes the read
// position.
inline split_outcome split_quoted(std::span<char> line, std::vector<std::string_view>& words, std::size_t max_words) {
  char* const data = line.data();
  const std::size_t size = line.size();
  std::size_t r = 0;
  for (;;) {
    while (r < size && is_blank(data[r]))
      ++r;
    if (r == size)
      return split_outcome::ok;
    const std::size_t start = r;
    // The plain part of a word is only scanned, one table lookup per byte: its bytes stay
    // where they are.
    while (r < size && !ends_plain_part[static_cast<unsigned char>(data[r])])
      ++r;
    std::size_t w = r;
    if (r < size && (data[r] == '"' || data[r] == '\'')) {
      // A quoted part ends the word: its own loop, so plain words pay nothing for it.
      const char quote = data[r++];
      if (!read_quoted(data, size, r, w, quote))
        return split_outcome::unbalanced;
    }
    if (words.size() == max_words)
      return split_outcome::too_many;
    words.emplace_back(data + start, w - start);
  }
}

}  // namespace coronet::detail::resp
