// The inline request grammar (sdssplitargs'): words separated by blanks, with
// quoted parts decoded in place; and the one-pass split of the common line of
// plain words that resp_request_parser tries first.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "coronet/protocol/codec_limits.hpp"
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

// How the one-pass inline parser below sees a byte: part of a word, a blank
// between words, the end of the line, or one it leaves to the general parser
// (a quote, and \v and \f, which sdssplitargs treats as blanks only before
// a word).
enum class inline_byte : std::uint8_t { plain, blank, end, other };

constexpr std::array<inline_byte, 256> inline_bytes = [] {
  std::array<inline_byte, 256> table{};
  for (const char c : {' ', '\t', '\r'})
    table[static_cast<unsigned char>(c)] = inline_byte::blank;
  table['\n'] = inline_byte::end;
  for (const char c : {'"', '\'', '\v', '\f'})
    table[static_cast<unsigned char>(c)] = inline_byte::other;
  return table;
}();

// The common inline request in one pass: a line of plain words (no quotes),
// whole in the buffer, within the limits. Each CR is a blank, as in
// split_quoted, so the CR of a line's CR LF ends its last word. Returns
// false, with `words` cleared, for anything else; the general parser handles
// it (and reports the exact error).
[[gnu::always_inline]] inline bool parse_plain_inline(std::span<char> in, std::vector<std::string_view>& words,
                                                      const codec_limits& limits, std::size_t& consumed) {
  const char* const data = in.data();

  // The general parser looks for the LF within max_request_bytes + 2 bytes.
  const std::size_t window = std::min(in.size(), saturating_add(limits.max_request_bytes, 2));
  std::size_t i = 0;
  for (;;) {
    while (i < window && inline_bytes[static_cast<unsigned char>(data[i])] == inline_byte::blank)
      ++i;
    if (i == window)
      break;
    if (inline_bytes[static_cast<unsigned char>(data[i])] == inline_byte::end) {
      const std::size_t length = i > 0 && data[i - 1] == '\r' ? i - 1 : i;
      if (length > limits.max_request_bytes)
        break;
      consumed = i + 1;
      return true;
    }
    const std::size_t start = i;
    while (i < window && inline_bytes[static_cast<unsigned char>(data[i])] == inline_byte::plain)
      ++i;
    if (i == start || words.size() == limits.max_args)
      break;  // a quote, \v or \f (i == start), or one word too many
    words.emplace_back(data + start, i - start);
  }
  words.clear();
  return false;
}

}  // namespace coronet::detail::resp
