// The pieces of a RESP reply, as encode_resp_reply and the response writer append them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace coronet::detail::resp {

// `<type><text>\r\n` (a simple string or an error line), CR and LF inside
// turned into spaces, as Redis does.
void append_line_text(std::string& out, char type, std::string_view text);

// `<type><value>\r\n`: an integer, or an aggregate's or bulk string's header.
void append_header(std::string& out, char type, std::int64_t value);

// `<type><size>\r\n<data>\r\n`: a bulk string (or RESP2's form of another string kind).
void append_bulk(std::string& out, char type, std::string_view data);

}  // namespace coronet::detail::resp
