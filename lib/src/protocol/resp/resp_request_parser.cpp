// RESP2 requests: the incremental parser a server keeps per connection and
// the one-shot parser, multibulk and inline.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <utility>

#include "coronet/protocol/resp/resp_codec.hpp"
#include "protocol/detail/decimal.hpp"
#include "protocol/resp/resp_inline.hpp"
#include "protocol/resp/resp_wire.hpp"

namespace coronet {

namespace {

using namespace detail::resp;  // the framing shared with the other RESP side
using detail::saturating_add;

constexpr std::string_view unbalanced_quotes = "protocol error: unbalanced quotes";
constexpr std::string_view too_many_arguments = "too many arguments";

// "protocol error: expected '$', got 'X'" for every byte X, built at compile
// time so that the message is static although it names the offending byte.
struct dollar_message {
  char text[48];
  std::size_t size;
};

constexpr std::array<dollar_message, 256> make_dollar_messages() {
  constexpr std::string_view head = "protocol error: expected '$', got '";
  constexpr std::string_view hex = "0123456789abcdef";
  std::array<dollar_message, 256> table{};
  for (std::size_t b = 0; b < table.size(); ++b) {
    dollar_message& m = table[b];
    std::size_t n = 0;
    for (char c : head)
      m.text[n++] = c;
    if (b >= 0x20 && b < 0x7f) {
      m.text[n++] = static_cast<char>(b);
    } else {
      m.text[n++] = '\\';
      m.text[n++] = 'x';
      m.text[n++] = hex[b >> 4];
      m.text[n++] = hex[b & 0xf];
    }
    m.text[n++] = '\'';
    m.size = n;
  }
  return table;
}

constexpr std::array<dollar_message, 256> dollar_messages = make_dollar_messages();

std::string_view expected_dollar(char got) noexcept {
  const dollar_message& m = dollar_messages[static_cast<unsigned char>(got)];
  return {m.text, m.size};
}

template <class State>
parse_result parse_inline(std::span<char> input, State& st, std::vector<std::string_view>& words,
                          const codec_limits& limits) {
  const std::size_t max = limits.max_request_bytes;
  const std::size_t window = std::min(input.size(), saturating_add(max, 2));
  const std::size_t from = std::min(st.scan, window);
  const void* hit = std::memchr(input.data() + from, '\n', window - from);
  if (hit == nullptr) {
    const bool trailing_cr = input.back() == '\r';
    if (input.size() - (trailing_cr ? 1 : 0) > max) {
      st = State{};
      return fail(too_large);
    }
    st.scan = window;
    return {};
  }
  const auto end = static_cast<std::size_t>(static_cast<const char*>(hit) - input.data());
  std::size_t length = end;
  if (length > 0 && input[length - 1] == '\r')
    --length;
  st = State{};
  if (length > max)
    return fail(too_large);
  switch (split_quoted(input.first(length), words, limits.max_args)) {
    case split_outcome::ok: return {parse_status::complete, end + 1, {}};
    case split_outcome::unbalanced: words.clear(); return fail(unbalanced_quotes);
    case split_outcome::too_many: words.clear(); return fail(too_many_arguments);
  }
  return fail(unbalanced_quotes);
}

// The multibulk/inline state machine. `Sink` receives each bulk string as an
// offset and length; `finish` turns what it collected into `words`.
template <class State, class Sink>
parse_result parse_request(std::span<char> input, State& st, Sink& sink, std::vector<std::string_view>& words,
                           const codec_limits& limits) {
  words.clear();
  if (input.empty())
    return {};
  auto abandon = [&](std::string_view message) {
    st = State{};
    sink.clear();
    return fail(message);
  };
  std::size_t cr = 0;
  if (st.pos == 0) {
    if (input[0] != '*')
      return parse_inline(input, st, words, limits);
    switch (find_crlf(input, 0, std::max<std::size_t>(st.scan, 1), limits.max_request_bytes, cr, st.scan)) {
      case line_end::incomplete: return {};
      case line_end::too_long: return abandon(too_large);
      case line_end::bad_terminator: return abandon(invalid_multibulk);
      case line_end::found: break;
    }
    std::int64_t count = 0;
    if (!detail::parse_decimal({input.data() + 1, cr - 1}, count) ||
        (count > 0 && static_cast<std::uint64_t>(count) > limits.max_args)) {
      return abandon(invalid_multibulk);
    }
    if (count <= 0) {
      st = State{};
      return {parse_status::complete, cr + 2, {}};
    }
    st.pos = cr + 2;
    st.scan = st.pos;
    st.remaining = static_cast<std::size_t>(count);
    st.bulk_len = -1;
  }
  while (st.remaining > 0) {
    if (st.bulk_len < 0) {
      if (st.pos >= input.size())
        return {};
      if (input[st.pos] != '$')
        return abandon(expected_dollar(input[st.pos]));
      switch (find_crlf(input, st.pos, std::max(st.scan, st.pos + 1), limits.max_request_bytes, cr, st.scan)) {
        case line_end::incomplete: return {};
        case line_end::too_long: return abandon(too_large);
        case line_end::bad_terminator: return abandon(invalid_bulk);
        case line_end::found: break;
      }
      std::int64_t length = 0;
      if (!detail::parse_decimal({input.data() + st.pos + 1, cr - st.pos - 1}, length) || length < 0 ||
          static_cast<std::uint64_t>(length) > limits.max_bulk_bytes) {
        return abandon(invalid_bulk);
      }
      st.bulk_len = length;
      st.pos = cr + 2;
      st.scan = st.pos;
    }
    const auto length = static_cast<std::size_t>(st.bulk_len);
    const std::size_t available = input.size() - st.pos;
    if (available > length && input[st.pos + length] != '\r')
      return abandon(bulk_unterminated);
    if (available > length + 1 && input[st.pos + length + 1] != '\n')
      return abandon(bulk_unterminated);
    if (available < length + 2)
      return {};
    sink.add(input, st.pos, length, words);
    st.pos += length + 2;
    st.scan = st.pos;
    st.bulk_len = -1;
    --st.remaining;
  }
  const std::size_t consumed = st.pos;
  sink.finish(input, words);
  st = State{};
  return {parse_status::complete, consumed, {}};
}

// For one-shot parsing: words go straight into the caller's vector.
struct direct_sink {
  void add(std::span<char> input, std::size_t offset, std::size_t length, std::vector<std::string_view>& words) {
    words.emplace_back(input.data() + offset, length);
  }
  void finish(std::span<char>, std::vector<std::string_view>&) noexcept {}
  void clear() noexcept {}
};

// For incremental parsing: offsets survive the buffer moving between calls.
template <class Ref>
struct offset_sink {
  std::vector<Ref>& refs;
  void add(std::span<char>, std::size_t offset, std::size_t length, std::vector<std::string_view>&) {
    refs.push_back({offset, length});
  }
  void finish(std::span<char> input, std::vector<std::string_view>& words) {
    for (const Ref& ref : refs)
      words.emplace_back(input.data() + ref.offset, ref.length);
    refs.clear();
  }
  void clear() noexcept { refs.clear(); }
};

}  // namespace

// The general parser, out of line: parse(), inline in the header, tries the
// common cases (request_fast.hpp) first and calls it for anything else.
[[gnu::noinline]] parse_result resp_request_parser::parse_general(std::span<char> input,
                                                                  std::vector<std::string_view>& words,
                                                                  const codec_limits& limits) {
  offset_sink<word_ref> sink{words_};
  return parse_request(input, state_, sink, words, limits);
}

void resp_request_parser::reset() noexcept {
  state_ = progress{};
  words_.clear();
}

parse_result parse_resp_request(std::span<char> input, std::vector<std::string_view>& words,
                                const codec_limits& limits) {
  resp_request_parser::progress state;
  direct_sink sink;
  const parse_result result = parse_request(input, state, sink, words, limits);
  if (result.status != parse_status::complete)
    words.clear();
  return result;
}

}  // namespace coronet
