#include "coronet/framework/line_codec.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "detail/decimal.hpp"
#include "detail/split_words.hpp"

namespace coronet {

namespace {

void append_escaped(std::string_view value, std::string& out) {
  std::size_t run = 0;  // start of the bytes not yet copied
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c != '\r' && c != '\n' && c != '\\') continue;
    out.append(value.data() + run, i - run);
    out.push_back('\\');
    out.push_back(c == '\r' ? 'r' : c == '\n' ? 'n' : '\\');
    run = i + 1;
  }
  out.append(value.data() + run, value.size() - run);
}

void append_value(const reply& r, std::string& out) {
  switch (r.kind()) {
    case reply_kind::text:
    case reply_kind::error:
    case reply_kind::bulk:
      append_escaped(r.str(), out);
      break;
    case reply_kind::integer:
      detail::append_decimal(out, r.integer());
      break;
    case reply_kind::null:
      out.append("(nil)");
      break;
    case reply_kind::array: {
      bool first = true;
      for (const reply& element : r.elements()) {
        if (!first) out.push_back(' ');
        first = false;
        append_value(element, out);
      }
      break;
    }
  }
}

}  // namespace

parse_result parse_line_request(std::span<char> input, std::vector<std::string_view>& words,
                                const codec_limits& limits) {
  words.clear();
  if (input.empty()) return {};
  const std::size_t max = limits.max_request_bytes;
  // Content, an optional '\r' and the '\n': nothing past that can end a valid line.
  const std::size_t window = std::min(input.size(), max + std::min<std::size_t>(2, SIZE_MAX - max));
  const auto* newline = static_cast<const char*>(std::memchr(input.data(), '\n', window));
  if (newline == nullptr) {
    const bool trailing_cr = input.back() == '\r';
    if (input.size() - (trailing_cr ? 1 : 0) > max) return {parse_status::error, 0, "request too large"};
    return {};
  }
  const auto end = static_cast<std::size_t>(newline - input.data());
  std::size_t length = end;
  if (length > 0 && input[length - 1] == '\r') --length;
  if (length > max) return {parse_status::error, 0, "request too large"};
  const bool fits = detail::split_words(std::string_view(input.data(), length), words, limits.max_args,
                                        [](char c) { return c == ' ' || c == '\t'; });
  if (!fits) {
    words.clear();
    return {parse_status::error, 0, "too many arguments"};
  }
  return {parse_status::complete, end + 1, {}};
}

void encode_line_reply(const reply& r, std::string& out) {
  append_value(r, out);
  out.append("\r\n");
}

}  // namespace coronet
