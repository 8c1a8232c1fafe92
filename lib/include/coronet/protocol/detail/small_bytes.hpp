// Strings of at most 8 bytes, copied and searched without a call: the
// texts of the commonest replies (`PONG`, `OK`). Not an API: the RESP encoder
// and response_writer's inline status path use them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "coronet/core/output_buffer.hpp"

namespace coronet::detail {

/// Copies the `n` (at most 8) bytes at `src` to `dst` with at most two loads
/// and two stores, overlapping below 8 bytes.
inline void copy_upto8(char* dst, const char* src, std::size_t n) noexcept {
  if (n >= 4) {
    std::uint32_t head;
    std::uint32_t tail;
    std::memcpy(&head, src, 4);
    std::memcpy(&tail, src + n - 4, 4);
    std::memcpy(dst, &head, 4);
    std::memcpy(dst + n - 4, &tail, 4);
  } else if (n > 0) {
    const char first = src[0];
    const char middle = src[n / 2];
    const char last = src[n - 1];
    dst[0] = first;
    dst[n / 2] = middle;
    dst[n - 1] = last;
  }
}

/// True when one of the `n` (at most 8) bytes at `p` is CR or LF: the bytes
/// in one word (some twice, the rest spaces). One test first rules out every
/// byte below 0x0E (CR is 0x0D, LF 0x0A), which is the common answer; a word
/// with such a byte is then tested for either value at once.
inline bool has_line_break_upto8(const char* p, std::size_t n) noexcept {
  std::uint64_t w = 0;
  if (n >= 4) {
    std::uint32_t head;
    std::uint32_t tail;
    std::memcpy(&head, p, 4);
    std::memcpy(&tail, p + n - 4, 4);
    w = head | static_cast<std::uint64_t>(tail) << 32;
  } else if (n > 0) {
    const auto byte = [p](std::size_t i) { return static_cast<std::uint64_t>(static_cast<unsigned char>(p[i])); };
    w = byte(0) | byte(n / 2) << 8 | byte(n - 1) << 16 | std::uint64_t{0x2020202020} << 24;
  } else {
    return false;
  }
  constexpr std::uint64_t ones = 0x0101010101010101u;
  constexpr std::uint64_t highs = ones * 0x80;
  // Some byte of x is below `limit` (at most 0x80; exact as a yes/no answer).
  const auto byte_below = [](std::uint64_t x, std::uint64_t limit) { return ((x - ones * limit) & ~x & highs) != 0; };
  if (!byte_below(w, 0x0E))
    return false;
  return byte_below(w ^ (ones * '\r'), 1) || byte_below(w ^ (ones * '\n'), 1);
}

/// `<type><text>\r\n` for a `text` of at most 8 bytes without CR or LF (a RESP
/// status or error line), with room made once and no call.
inline void put_line_upto8(output_buffer& out, char type, std::string_view text) {
  const std::size_t n = text.size();
  char* at = out.prepare(8 + 3);
  at[0] = type;
  copy_upto8(at + 1, text.data(), n);
  at[n + 1] = '\r';
  at[n + 2] = '\n';
  out.commit(n + 3);
}

}  // namespace coronet::detail
