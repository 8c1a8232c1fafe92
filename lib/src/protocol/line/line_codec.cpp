#include "coronet/protocol/line/line_codec.hpp"

#include <algorithm>
#include <cstring>

#include "coronet/protocol/detail/saturating.hpp"
#include "protocol/detail/byte_set.hpp"
#include "protocol/detail/decimal.hpp"
#include "protocol/detail/one_line.hpp"
#include "protocol/detail/reply_text.hpp"
#include "protocol/detail/split_words.hpp"

namespace coronet {

namespace {

constexpr detail::byte_set escaped_bytes("\r\n\\");

// Copies runs of bytes that need no escape whole; most values are one run.
[[gnu::always_inline]] inline void append_escaped(std::string_view value, output_buffer& out) {
  std::size_t run = 0;  // start of the bytes not yet copied
  for (std::size_t i = escaped_bytes.find_in(value); i < value.size(); i = escaped_bytes.find_in(value, run)) {
    const char c = value[i];
    out.append(value.data() + run, i - run);
    out.push_back('\\');
    out.push_back(c == '\r' ? 'r' : c == '\n' ? 'n' : '\\');
    run = i + 1;
  }
  out.append(value.data() + run, value.size() - run);
}

// An error line goes out as it is (the router has already made any peer
// bytes in it printable): only CR and LF, which would end the line, become
// spaces, as in RESP.
void append_error_line(std::string_view line, output_buffer& out) { detail::append_on_one_line(out, line); }

void append_value(const reply& r, output_buffer& out) {
  detail::append_reply_text(r, out, [](const reply& leaf, output_buffer& o) {
    if (leaf.kind() == reply_kind::error)
      append_error_line(leaf.str(), o);
    else if (leaf.kind() == reply_kind::null)
      o.append("(nil)");
    else
      append_escaped(leaf.str(), o);
  });
}

}  // namespace

namespace {

bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

// The request whose '\n' is at `end` (or none, `end` == npos, when no '\n'
// lies within the longest acceptable line).
[[gnu::always_inline]] inline parse_result parse_line_at(std::span<char> input, std::size_t end,
                                                         std::vector<std::string_view>& words,
                                                         const codec_limits& limits) {
  const std::size_t max = limits.max_request_bytes;
  if (end == std::string_view::npos) {
    const bool trailing_cr = input.back() == '\r';
    if (input.size() - (trailing_cr ? 1 : 0) > max)
      return {parse_status::error, 0, "request too large"};
    return {};
  }
  std::size_t length = end;
  if (length > 0 && input[length - 1] == '\r')
    --length;
  if (length > max)
    return {parse_status::error, 0, "request too large"};
  if (!detail::split_words(std::string_view(input.data(), length), words, limits.max_args, is_blank)) {
    words.clear();
    return {parse_status::error, 0, "too many arguments"};
  }
  return {parse_status::complete, end + 1, {}};
}

// Content, an optional '\r' and the '\n': nothing past that can end a valid line.
std::size_t line_window(std::size_t size, std::size_t max) noexcept {
  return std::min(size, detail::saturating_add(max, 2));
}

std::size_t find_newline(std::span<const char> input, std::size_t from, std::size_t to) noexcept {
  if (from >= to)
    return std::string_view::npos;
  const void* hit = std::memchr(input.data() + from, '\n', to - from);
  return hit == nullptr ? std::string_view::npos
                        : static_cast<std::size_t>(static_cast<const char*>(hit) - input.data());
}

// The `line` protocol's value escapes, undone.
std::string unescape_line(std::string_view line) {
  std::string out;
  out.reserve(line.size());
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size()) {
      const char next = line[i + 1];
      if (next == 'r' || next == 'n' || next == '\\') {
        out += next == 'r' ? '\r' : next == 'n' ? '\n' : '\\';
        ++i;
        continue;
      }
    }
    out += line[i];
  }
  return out;
}

}  // namespace

parse_result parse_line_request(std::span<char> input, std::vector<std::string_view>& words,
                                const codec_limits& limits) {
  words.clear();
  if (input.empty())
    return {};
  return parse_line_at(input, find_newline(input, 0, line_window(input.size(), limits.max_request_bytes)), words,
                       limits);
}

void encode_line_reply(const reply& r, output_buffer& out) {
  const reply_kind kind = r.kind();
  if (kind == reply_kind::text || kind == reply_kind::bulk)
    append_escaped(r.str(), out);
  else
    append_value(r, out);
  out.append("\r\n", 2);
}

parse_result line_codec::parse(std::span<char> input, std::vector<std::string_view>& words,
                               const codec_limits& limits) {
  words.clear();
  if (input.empty())
    return {};
  const std::size_t window = line_window(input.size(), limits.max_request_bytes);
  const std::size_t end = find_newline(input, std::min(scanned_, window), window);
  scanned_ = end == std::string_view::npos ? window : 0;
  const parse_result r = parse_line_at(input, end, words, limits);
  if (r.status == parse_status::error)
    scanned_ = 0;
  return r;
}

void line_codec::encode_request(std::span<const std::string_view> words, output_buffer& out) {
  detail::append_joined(words, out);
  out += "\r\n";
}

parse_result line_codec::parse_reply(std::span<const char> input, reply& out, const codec_limits&) {
  const std::size_t end = find_newline(input, std::min(scanned_, input.size()), input.size());
  if (end == std::string_view::npos) {
    scanned_ = input.size();
    return {};
  }
  scanned_ = 0;
  std::string_view line(input.data(), end);
  if (!line.empty() && line.back() == '\r')
    line.remove_suffix(1);
  // An error line was written as it is (see append_error_line): no escapes to undo.
  if (line == "ERR" || line.substr(0, 4) == "ERR ")
    out = reply::error_line(line);
  else if (line.find('\\') == std::string_view::npos)  // unescaping copies; most lines need none
    out = reply::text(line);
  else
    out = reply::text(unescape_line(line));
  return {parse_status::complete, end + 1, {}};
}

// The std::string forms: encoded into a buffer of the thread's, then copied.
void encode_line_reply(const reply& r, std::string& out) {
  detail::encode_to_string(out, [&](output_buffer& b) { encode_line_reply(r, b); });
}

void line_codec::encode_request(std::span<const std::string_view> words, std::string& out) {
  detail::encode_to_string(out, [&](output_buffer& b) { encode_request(words, b); });
}

}  // namespace coronet
