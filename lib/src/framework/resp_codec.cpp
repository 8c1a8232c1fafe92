#include "coronet/framework/resp_codec.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <utility>

#include "detail/byte_set.hpp"
#include "detail/decimal.hpp"
#include "detail/resp_wire.hpp"

namespace coronet {

namespace {

using namespace detail::resp;  // the framing shared with the other RESP side

void append_header(std::string& out, char type, std::int64_t value) {
  out.push_back(type);
  detail::append_decimal(out, value);
  out.append("\r\n", 2);
}

void append_bulk(std::string& out, char type, std::string_view data) {
  append_header(out, type, static_cast<std::int64_t>(data.size()));
  out.append(data);
  out.append("\r\n", 2);
}

constexpr detail::byte_set line_breaks("\r\n");

// A simple string or error line: CR and LF inside become spaces, as Redis
// does; runs without them are copied whole.
void append_line_text(std::string& out, char type, std::string_view text) {
  out.push_back(type);
  std::size_t run = 0;
  for (std::size_t i = line_breaks.find_in(text); i < text.size(); i = line_breaks.find_in(text, run)) {
    out.append(text.data() + run, i - run);
    out.push_back(' ');
    run = i + 1;
  }
  out.append(text.data() + run, text.size() - run);
  out.append("\r\n", 2);
}

// Client-side reply parsing: called once with out == nullptr to validate
// (nothing allocated from untrusted lengths), then again to build.
struct reply_reader {
  std::span<const char> input;
  const codec_limits& limits;
  std::string_view error{};

  parse_status failed(std::string_view message) noexcept {
    error = message;
    return parse_status::error;
  }

  parse_status read(std::size_t& pos, int depth, reply* out) {
    if (pos >= input.size())
      return parse_status::incomplete;
    const char type = input[pos];
    switch (type) {
      case '+':
      case '-':
      case ':':
      case '$':
      case '*': break;
      default: return failed("protocol error: invalid reply type");
    }
    std::size_t cr = 0;
    std::size_t resume = 0;
    switch (find_crlf(input, pos, pos + 1, limits.max_request_bytes, cr, resume)) {
      case line_end::incomplete: return parse_status::incomplete;
      case line_end::too_long: return failed("protocol error: line too long");
      case line_end::bad_terminator: return failed("protocol error: invalid line terminator");
      case line_end::found: break;
    }
    const std::string_view line(input.data() + pos + 1, cr - pos - 1);
    const std::size_t next = cr + 2;
    std::int64_t value = 0;
    if (type == '+' || type == '-') {
      if (out != nullptr)
        *out = type == '+' ? reply::text(line) : reply::error_line(line);
      pos = next;
      return parse_status::complete;
    }
    if (!detail::parse_decimal(line, value)) {
      return failed(type == ':' ? "protocol error: invalid integer" : type == '$' ? invalid_bulk : invalid_multibulk);
    }
    if (type == ':') {
      if (out != nullptr)
        *out = reply::integer(value);
      pos = next;
      return parse_status::complete;
    }
    if (value == -1) {
      if (out != nullptr)
        *out = reply::null();
      pos = next;
      return parse_status::complete;
    }
    if (type == '$') {
      if (value < 0 || static_cast<std::uint64_t>(value) > limits.max_bulk_bytes)
        return failed(invalid_bulk);
      const auto length = static_cast<std::size_t>(value);
      const std::size_t available = input.size() - next;
      if (available > length && input[next + length] != '\r')
        return failed(bulk_unterminated);
      if (available > length + 1 && input[next + length + 1] != '\n')
        return failed(bulk_unterminated);
      if (available < length + 2)
        return parse_status::incomplete;
      if (out != nullptr)
        *out = reply::bulk({input.data() + next, length});
      pos = next + length + 2;
      return parse_status::complete;
    }
    if (value < 0 || static_cast<std::uint64_t>(value) > limits.max_args)
      return failed(invalid_multibulk);
    if (depth >= resp_max_reply_depth)
      return failed("protocol error: nesting too deep");
    const auto count = static_cast<std::size_t>(value);
    std::vector<reply> elements;
    // Only the building pass reserves: by then every element has arrived.
    if (out != nullptr)
      elements.reserve(count);
    pos = next;
    for (std::size_t i = 0; i < count; ++i) {
      reply* element = out != nullptr ? &elements.emplace_back() : nullptr;
      const parse_status status = read(pos, depth + 1, element);
      if (status != parse_status::complete)
        return status;
    }
    if (out != nullptr)
      *out = reply::array(std::move(elements));
    return parse_status::complete;
  }
};

}  // namespace

void encode_resp_reply(const reply& r, std::string& out, int protover) {
  const bool resp3 = protover >= 3;
  switch (r.kind()) {
    case reply_kind::text: append_line_text(out, '+', r.str()); break;
    case reply_kind::error: append_line_text(out, '-', r.str()); break;
    case reply_kind::integer: append_header(out, ':', r.integer()); break;
    case reply_kind::bulk: append_bulk(out, '$', r.str()); break;
    case reply_kind::verbatim:
      if (!resp3) {
        append_bulk(out, '$', r.str());
        break;
      }
      append_header(out, '=', static_cast<std::int64_t>(r.str().size() + 4));
      out.append("txt:", 4);
      out.append(r.str());
      out.append("\r\n", 2);
      break;
    case reply_kind::array:
    case reply_kind::set:
    case reply_kind::map: {
      const auto count = static_cast<std::int64_t>(r.elements().size());
      const reply_kind kind = r.kind();
      if (!resp3 || kind == reply_kind::array)
        append_header(out, '*', count);
      else if (kind == reply_kind::set)
        append_header(out, '~', count);
      else
        append_header(out, '%', count / 2);
      for (const reply& element : r.elements())
        encode_resp_reply(element, out, protover);
      break;
    }
    case reply_kind::boolean:
      if (resp3)
        out.append(r.boolean() ? "#t\r\n" : "#f\r\n", 4);
      else
        out.append(r.boolean() ? ":1\r\n" : ":0\r\n", 4);
      break;
    case reply_kind::real: {
      if (resp3) {
        out.push_back(',');
        detail::append_double(out, r.real());
        out.append("\r\n", 2);
        break;
      }
      // Formatted first: the bulk header needs the length.
      char text[detail::max_double_chars];
      append_bulk(out, '$', {text, detail::format_double(r.real(), text)});
      break;
    }
    case reply_kind::null: out.append(resp3 ? "_\r\n" : "$-1\r\n"); break;
  }
}

void encode_resp_request(std::span<const std::string_view> words, std::string& out) {
  append_header(out, '*', static_cast<std::int64_t>(words.size()));
  for (std::string_view word : words) {
    append_header(out, '$', static_cast<std::int64_t>(word.size()));
    out.append(word);
    out.append("\r\n");
  }
}

parse_result parse_resp_reply(std::span<const char> input, reply& out, const codec_limits& limits) {
  reply_reader reader{input, limits};
  std::size_t pos = 0;
  const parse_status status = reader.read(pos, 0, nullptr);
  if (status == parse_status::error)
    return fail(reader.error);
  if (status == parse_status::incomplete)
    return {};
  const std::size_t consumed = pos;
  pos = 0;
  reader.read(pos, 0, &out);
  return {parse_status::complete, consumed, {}};
}

}  // namespace coronet
