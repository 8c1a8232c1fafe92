#include "coronet/command/response_writer.hpp"

#include "coronet/protocol/line/line_codec.hpp"
#include "coronet/protocol/resp/resp_codec.hpp"
#include "protocol/resp/resp_encode.hpp"

namespace coronet {

// The common kinds are written in RESP without a reply object; the line
// protocol's escapes and the rarer kinds go through the codec's encoder.
[[gnu::noinline]] void response_writer::encode(const reply& r) {
  if (out_ == nullptr)
    *into_ = r;
  else if (encoding_ == reply_encoding::line)
    encode_line_reply(r, *out_);
  else
    encode_resp_reply(r, *out_, encoding_ == reply_encoding::resp3 ? 3 : 2);
}

// Out of line: the reply it builds would give the RESP paths a large frame.
[[gnu::noinline]] void response_writer::encode_string(reply_kind kind, std::string_view value) {
  switch (kind) {
    case reply_kind::text: encode(reply::text(value)); break;
    case reply_kind::error: encode(reply::error_line(value)); break;
    default: encode(reply::bulk(value)); break;
  }
}

// Inlined into its three callers, each with its kind a constant.
inline void response_writer::write_string(reply_kind kind, std::string_view value) {
  if (!begin(kind == reply_kind::error))
    return;
  if (out_ == nullptr || encoding_ == reply_encoding::line)
    encode_string(kind, value);
  else if (kind == reply_kind::bulk)
    detail::resp::append_bulk(*out_, '$', value);
  else
    detail::resp::append_line_text(*out_, kind == reply_kind::error ? '-' : '+', value);
}

void response_writer::text_other(std::string_view value) { write_string(reply_kind::text, value); }

void response_writer::error_line(std::string_view line) { write_string(reply_kind::error, line); }

void response_writer::err(std::string_view message) {
  if (begin(true))
    encode(reply::err(message));
}

void response_writer::integer(std::int64_t value) {
  if (!begin(false))
    return;
  if (out_ != nullptr && encoding_ != reply_encoding::line)
    detail::resp::append_header(*out_, ':', value);
  else
    encode(reply::integer(value));
}

void response_writer::bulk(std::string_view value) { write_string(reply_kind::bulk, value); }

void response_writer::null() {
  if (begin(false))
    encode(reply::null());
}

void response_writer::value(const reply& r) {
  if (begin(r.kind() == reply_kind::error))
    encode(r);
}

}  // namespace coronet
