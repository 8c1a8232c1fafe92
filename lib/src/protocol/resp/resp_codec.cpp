#include "coronet/protocol/resp/resp_codec.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <system_error>
#include <utility>

#include "protocol/detail/byte_set.hpp"
#include "protocol/detail/decimal.hpp"
#include "protocol/detail/one_line.hpp"
#include "protocol/resp/resp_encode.hpp"
#include "protocol/resp/resp_wire.hpp"

namespace coronet {

namespace {

using namespace detail::resp;  // the framing shared with the other RESP side

}  // namespace

namespace detail::resp {

void append_header(output_buffer& out, char type, std::int64_t value) {
  char* at = out.prepare(24);
  at[0] = type;
  char* end = std::to_chars(at + 1, at + 22, value).ptr;
  end[0] = '\r';
  end[1] = '\n';
  out.commit(static_cast<std::size_t>(end + 2 - at));
}

void append_bulk(output_buffer& out, char type, std::string_view data) {
  if (data.size() > short_reply) {
    append_header(out, type, static_cast<std::int64_t>(data.size()));
    out.append(data);
    out.append("\r\n", 2);
    return;
  }
  char* const start = out.prepare(short_reply + 8);
  char* at = start;
  *at++ = type;
  at = std::to_chars(at, at + 3, data.size()).ptr;  // at most 2 digits
  *at++ = '\r';
  *at++ = '\n';
  if (!data.empty())
    std::memcpy(at, data.data(), data.size());
  at += data.size();
  *at++ = '\r';
  *at++ = '\n';
  out.commit(static_cast<std::size_t>(at - start));
}

void append_line_text_slow(output_buffer& out, char type, std::string_view text) {
  if (text.size() <= short_reply && detail::line_breaks.find_in(text) == text.size()) {
    put_short_line(out, type, text);
    return;
  }
  out.push_back(type);
  detail::append_on_one_line(out, text);
  out.append("\r\n", 2);
}

}  // namespace detail::resp

namespace {

// A RESP3 double: what std::from_chars reads (decimal, exponent, `inf`,
// `nan`), with one optional leading '+', filling the whole line.
bool parse_double(std::string_view text, double& value) noexcept {
  if (!text.empty() && text.front() == '+')
    text.remove_prefix(1);
  if (text.empty() || text.front() == '+')
    return false;
  const char* end = text.data() + text.size();
  const auto r = std::from_chars(text.data(), end, value);
  return r.ec == std::errc{} && r.ptr == end;
}

// A RESP3 big number: an optional sign, then at least one digit.
bool is_big_number(std::string_view text) noexcept {
  if (!text.empty() && (text.front() == '-' || text.front() == '+'))
    text.remove_prefix(1);
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
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

  static bool is_type(char type) noexcept {
    static constexpr detail::byte_set types("+-:$*_#,(=!%~>|");
    return types.contains(type);
  }

  // The value at `pos`, after any attributes (`|`), which are validated and skipped.
  parse_status read(std::size_t& pos, int depth, reply* out) {
    for (;;) {
      if (pos >= input.size())
        return parse_status::incomplete;
      const char type = input[pos];
      if (!is_type(type))
        return failed("protocol error: invalid reply type");
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
      switch (type) {
        case '+':
        case '-':
        case ':':
        case '_':
        case '#':
        case ',':
        case '(': {
          const parse_status status = read_simple(type, line, out);
          if (status == parse_status::complete)
            pos = next;
          return status;
        }
        case '$':
        case '=':
        case '!': return read_blob(type, line, next, pos, out);
        default: break;
      }
      // Aggregates: * % ~ > |.
      std::int64_t count = 0;
      if (!detail::parse_decimal(line, count))
        return failed(invalid_multibulk);
      if (count == -1 && type == '*')
        return read_null(next, pos, out);
      const bool pairs = type == '%' || type == '|';
      if (count < 0 || static_cast<std::uint64_t>(count) > limits.max_args / (pairs ? 2 : 1))
        return failed(invalid_multibulk);
      if (depth >= resp_max_reply_depth)
        return failed("protocol error: nesting too deep");
      const std::size_t elements = static_cast<std::size_t>(count) * (pairs ? 2 : 1);
      pos = next;
      if (type == '|') {
        for (std::size_t i = 0; i < elements; ++i) {
          const parse_status status = read(pos, depth + 1, nullptr);
          if (status != parse_status::complete)
            return status;
        }
        continue;  // the value the attributes describe follows
      }
      return read_aggregate(type, elements, pos, depth, out);
    }
  }

  // The types whose value is the line itself.
  parse_status read_simple(char type, std::string_view line, reply* out) {
    switch (type) {
      case '+':
        if (out != nullptr)
          *out = reply::text(line);
        return parse_status::complete;
      case '-':
        if (out != nullptr)
          *out = reply::error_line(line);
        return parse_status::complete;
      case ':': {
        std::int64_t value = 0;
        if (!detail::parse_decimal(line, value))
          return failed("protocol error: invalid integer");
        if (out != nullptr)
          *out = reply::integer(value);
        return parse_status::complete;
      }
      case '_':
        if (!line.empty())
          return failed("protocol error: invalid null");
        if (out != nullptr)
          *out = reply::null();
        return parse_status::complete;
      case '#':
        if (line != "t" && line != "f")
          return failed("protocol error: invalid boolean");
        if (out != nullptr)
          *out = reply::boolean(line == "t");
        return parse_status::complete;
      case ',': {
        double value = 0;
        if (!parse_double(line, value))
          return failed("protocol error: invalid double");
        if (out != nullptr)
          *out = reply::real(value);
        return parse_status::complete;
      }
      default:  // '(' big number
        if (!is_big_number(line))
          return failed("protocol error: invalid big number");
        if (out != nullptr)
          *out = reply::bulk(line);
        return parse_status::complete;
    }
  }

  // RESP2's null, a length of -1 (`$-1`, `*-1`), whose line ends at `next`.
  parse_status read_null(std::size_t next, std::size_t& pos, reply* out) {
    if (out != nullptr)
      *out = reply::null();
    pos = next;
    return parse_status::complete;
  }

  // `$` bulk, `=` verbatim, `!` blob error: a length line, then the data.
  parse_status read_blob(char type, std::string_view line, std::size_t next, std::size_t& pos, reply* out) {
    std::int64_t value = 0;
    if (!detail::parse_decimal(line, value))
      return failed(invalid_bulk);
    if (value == -1 && type == '$')
      return read_null(next, pos, out);
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
    const std::string_view data(input.data() + next, length);
    // A verbatim string is `fmt:text`, fmt three bytes (`txt`, `mkd`).
    if (type == '=' && (length < 4 || data[3] != ':'))
      return failed("protocol error: invalid verbatim string");
    if (out != nullptr) {
      if (type == '$')
        *out = reply::bulk(data);
      else if (type == '=')
        *out = reply::verbatim(data.substr(4));
      else
        *out = reply::error_line(data);
    }
    pos = next + length + 2;
    return parse_status::complete;
  }

  // `*` array, `%` map, `~` set, `>` push (an array), `count` elements from `pos`.
  parse_status read_aggregate(char type, std::size_t count, std::size_t& pos, int depth, reply* out) {
    std::vector<reply> elements;
    // Only the building pass reserves: by then every element has arrived.
    if (out != nullptr)
      elements.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      reply* element = out != nullptr ? &elements.emplace_back() : nullptr;
      const parse_status status = read(pos, depth + 1, element);
      if (status != parse_status::complete)
        return status;
    }
    if (out != nullptr) {
      if (type == '%')
        *out = reply::map(std::move(elements));
      else if (type == '~')
        *out = reply::set(std::move(elements));
      else
        *out = reply::array(std::move(elements));
    }
    return parse_status::complete;
  }
};

}  // namespace

void encode_resp_reply(const reply& r, output_buffer& out, int protover) {
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

void encode_resp_request(std::span<const std::string_view> words, output_buffer& out) {
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

// The std::string forms: encoded into a buffer of the thread's, then copied.
void encode_resp_reply(const reply& r, std::string& out, int protover) {
  detail::encode_to_string(out, [&](output_buffer& b) { encode_resp_reply(r, b, protover); });
}

void encode_resp_request(std::span<const std::string_view> words, std::string& out) {
  detail::encode_to_string(out, [&](output_buffer& b) { encode_resp_request(words, b); });
}

}  // namespace coronet
