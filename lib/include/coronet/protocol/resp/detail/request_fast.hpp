// The common RESP requests in one pass, for resp_request_parser::parse (inline
// in resp_codec.hpp, so that a server's request loop makes no call to parse
// them): a whole multibulk request with canonical lengths, and an inline line
// of plain words. Anything else is left, untouched but for `words` cleared,
// to the general parser, which reports the exact error. Not a public API.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "coronet/protocol/codec_limits.hpp"
#include "coronet/protocol/detail/saturating.hpp"

namespace coronet::detail::resp_fast {

// Reads a canonical length ([1-9][0-9]{0,8}, or a lone 0 when `zero_ok`)
// followed by CR LF at `pos` (at most in.size()); advances `pos` past the
// CR LF. False for anything else, which the general parser then judges.
[[gnu::always_inline]] inline bool read_length(std::span<const char> in, std::size_t& pos, std::size_t& value,
                                               bool zero_ok) noexcept {
  // One digit from 1 to 9, the common case ("*1", "$4"): three byte tests, no loop.
  if (in.size() - pos >= 3) {
    const auto digit = static_cast<unsigned>(static_cast<unsigned char>(in[pos])) - '0';
    if (digit - 1 < 9 && in[pos + 1] == '\r' && in[pos + 2] == '\n') {
      value = digit;
      pos += 3;
      return true;
    }
  }
  std::size_t i = pos;
  if (i >= in.size() || in[i] < '0' || in[i] > '9')
    return false;
  std::size_t v = 0;
  if (in[i] == '0') {
    if (!zero_ok)
      return false;
    ++i;
  } else {
    const std::size_t digits_end = std::min(in.size(), i + 9);
    while (i < digits_end && in[i] >= '0' && in[i] <= '9')
      v = v * 10 + static_cast<std::size_t>(in[i++] - '0');
  }
  if (i + 1 >= in.size() || in[i] != '\r' || in[i + 1] != '\n')
    return false;
  value = v;
  pos = i + 2;
  return true;
}

// The header of the commonest requests, `*N\r\n$L\r\n` with one digit in each
// (N from 1 to 9, L from 0 to 9), tested as one 8-byte word: true with N in
// `count` and L in `length`, else false (the header is then read line by line).
[[gnu::always_inline]] inline bool read_short_header(std::span<const char> in, std::size_t& count,
                                                     std::size_t& length) noexcept {
  if constexpr (std::endian::native != std::endian::little) {
    return false;
  } else {
    if (in.size() < 8)
      return false;
    std::uint64_t word;
    std::memcpy(&word, in.data(), 8);
    constexpr auto at = [](char c, int byte) {
      return static_cast<std::uint64_t>(static_cast<unsigned char>(c)) << (8 * byte);
    };
    constexpr std::uint64_t framing = at('*', 0) | at('\r', 2) | at('\n', 3) | at('$', 4) | at('\r', 6) | at('\n', 7);
    constexpr std::uint64_t framing_mask = 0xffff00ffffff00ffu;  // every byte but 1 and 5, the digits
    const auto n = static_cast<unsigned>((word >> 8) & 0xff) - '1';
    const auto l = static_cast<unsigned>((word >> 40) & 0xff) - '0';
    if ((word & framing_mask) != framing || n > 8 || l > 9)
      return false;
    count = n + 1;
    length = l;
    return true;
  }
}

// The bulk of `length` bytes at `pos`, which must end in CR LF: added to
// `words`, `pos` moved past it. False, with nothing changed, for a bulk too
// long or not whole.
[[gnu::always_inline]] inline bool take_bulk(std::span<char> in, std::size_t& pos, std::size_t length,
                                             std::vector<std::string_view>& words, const codec_limits& limits) {
  // The CR LF compared as one 2-byte word.
  if (length > limits.max_bulk_bytes || in.size() - pos < length + 2 ||
      std::memcmp(in.data() + pos + length, "\r\n", 2) != 0)
    return false;
  words.emplace_back(in.data() + pos, length);
  pos += length + 2;
  return true;
}

// The common case in one pass: a whole multibulk request already in the
// buffer, every length canonical and within limits. Returns false, with
// `words` cleared, for anything else; the general parser handles it (and
// reports the exact error).
[[gnu::always_inline]] inline bool parse_whole_multibulk(std::span<char> in, std::vector<std::string_view>& words,
                                                         const codec_limits& limits, std::size_t& consumed) {
  // Its header lines are at most 10 bytes; a tighter line limit is the
  // general parser's to enforce.
  if (limits.max_request_bytes < 10)
    return false;
  std::size_t pos = 1;
  std::size_t count = 0;
  std::size_t length = 0;
  // With the short header, the first bulk's length is read already: one call
  // site of take_bulk, which the request loop inlines whole.
  bool length_read = read_short_header(in, count, length);
  if (length_read)
    pos = 8;
  else if (!read_length(in, pos, count, false))
    return false;
  if (count > limits.max_args)
    return false;
  for (std::size_t k = 0; k < count; ++k) {
    if (!length_read && (pos >= in.size() || in[pos] != '$' || !read_length(in, ++pos, length, true))) {
      words.clear();
      return false;
    }
    length_read = false;
    if (!take_bulk(in, pos, length, words, limits)) {
      words.clear();
      return false;
    }
  }
  consumed = pos;
  return true;
}

// How the one-pass inline parser below sees a byte: part of a word, a blank
// between words, the end of the line, or one it leaves to the general parser
// (a quote, and \v and \f, which sdssplitargs treats as blanks only before
// a word).
enum class inline_byte : std::uint8_t { plain, blank, end, other };

inline constexpr std::array<inline_byte, 256> inline_bytes = [] {
  std::array<inline_byte, 256> table{};
  for (const char c : {' ', '\t', '\r'})
    table[static_cast<unsigned char>(c)] = inline_byte::blank;
  table['\n'] = inline_byte::end;
  for (const char c : {'"', '\'', '\v', '\f'})
    table[static_cast<unsigned char>(c)] = inline_byte::other;
  return table;
}();

// plain_word_end below relies on this.
static_assert([] {
  for (unsigned c = 0x28; c < 256; ++c)
    if (inline_bytes[c] != inline_byte::plain)
      return false;
  return true;
}());

// The end of the plain word that starts at `i` (`data[i]` may be any byte):
// the index of its first byte in [i, window) that is not plain, or `window`.
// Eight bytes at a time where eight are there: every byte that is not plain
// is below '(' (0x28), so a word of bytes that are all at or above it is all
// plain, and the first byte below it is found with one subtraction and a
// count of trailing zeros (exact for the lowest such byte; a borrow can only
// mark bytes above it). The few plain bytes below '(' (controls, '!', '#',
// '$', '%', '&') are stepped over one at a time.
[[gnu::always_inline]] inline std::size_t plain_word_end(const char* data, std::size_t i,
                                                         std::size_t window) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    constexpr std::uint64_t ones = 0x0101010101010101u;
    constexpr std::uint64_t highs = 0x8080808080808080u;
    while (window - i >= 8) {
      std::uint64_t word;
      std::memcpy(&word, data + i, 8);
      const std::uint64_t below = (word - ones * 0x28) & ~word & highs;
      if (below == 0) {
        i += 8;
        continue;
      }
      i += static_cast<std::size_t>(std::countr_zero(below)) / 8;
      if (inline_bytes[static_cast<unsigned char>(data[i])] != inline_byte::plain)
        return i;
      ++i;
    }
  }
  while (i < window && inline_bytes[static_cast<unsigned char>(data[i])] == inline_byte::plain)
    ++i;
  return i;
}

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
    i = plain_word_end(data, i, window);
    if (i == start || words.size() == limits.max_args)
      break;  // a quote, \v or \f (i == start), or one word too many
    words.emplace_back(data + start, i - start);
    // The commonest end, CR LF right after the last word, without the loop's
    // two more turns (the CR as a blank, then the LF).
    if (i + 1 < window && data[i] == '\r' && data[i + 1] == '\n') {
      if (i > limits.max_request_bytes)
        break;
      consumed = i + 2;
      return true;
    }
  }
  words.clear();
  return false;
}

}  // namespace coronet::detail::resp_fast
