// The pieces of a RESP reply, as encode_resp_reply and the response writer append them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "coronet/core/output_buffer.hpp"
#include "coronet/protocol/detail/small_bytes.hpp"

namespace coronet::detail::resp {

// Replies of at most this many bytes are written in place: room for the whole
// reply is made once, then its bytes are stored.
inline constexpr std::size_t short_reply = 64;

// `<type><text>\r\n` for a text of at most `short_reply` bytes without CR or LF.
inline void put_short_line(output_buffer& out, char type, std::string_view text) {
  const std::size_t n = text.size();
  char* at = out.prepare(short_reply + 3);
  at[0] = type;
  std::memcpy(at + 1, text.data(), n);
  at[n + 1] = '\r';
  at[n + 2] = '\n';
  out.commit(n + 3);
}

// `append_line_text` for a text longer than 8 bytes or holding CR or LF.
void append_line_text_slow(output_buffer& out, char type, std::string_view text);

// `<type><text>\r\n` (a simple string or an error line), CR and LF inside
// turned into spaces, as Redis does. Inline for the short texts most replies
// are (`+OK`, `+PONG`).
inline void append_line_text(output_buffer& out, char type, std::string_view text) {
  if (text.size() <= 8 && !has_line_break_upto8(text.data(), text.size()))
    put_line_upto8(out, type, text);
  else
    append_line_text_slow(out, type, text);
}

// `<type><value>\r\n`: an integer, or an aggregate's or bulk string's header.
void append_header(output_buffer& out, char type, std::int64_t value);

// `<type><size>\r\n<data>\r\n`: a bulk string (or RESP2's form of another string kind).
void append_bulk(output_buffer& out, char type, std::string_view data);

}  // namespace coronet::detail::resp
