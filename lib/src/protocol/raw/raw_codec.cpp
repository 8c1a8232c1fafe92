#include "coronet/protocol/raw/raw_codec.hpp"

#include <algorithm>

#include "protocol/detail/decimal.hpp"
#include "protocol/detail/reply_text.hpp"
#include "protocol/detail/split_words.hpp"

namespace coronet {

parse_result parse_raw_request(std::span<char> input, std::vector<std::string_view>& words,
                               const codec_limits& limits) {
  words.clear();
  if (input.empty())
    return {};
  if (input.size() > std::min(raw_max_request_bytes, limits.max_request_bytes)) {
    return {parse_status::error, 0, "request too large"};
  }
  const bool fits = detail::split_words(std::string_view(input.data(), input.size()), words, limits.max_args,
                                        [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
  if (!fits) {
    words.clear();
    return {parse_status::error, 0, "too many arguments"};
  }
  return {parse_status::complete, input.size(), {}};
}

// Errors and null send nothing: raw has no way to mark them.
void encode_raw_reply(const reply& r, output_buffer& out) {
  detail::append_reply_text(r, out, [](const reply& leaf, output_buffer& o) {
    if (leaf.kind() != reply_kind::error && leaf.kind() != reply_kind::null)
      o.append(leaf.str());
  });
}

void raw_codec::encode_request(std::span<const std::string_view> words, output_buffer& out) {
  detail::append_joined(words, out);
}

reply raw_codec::reply_at_close(std::string_view received) {
  return received.empty() ? reply::err("no reply") : reply::text(received);
}

// The std::string forms: encoded into a buffer of the thread's, then copied.
void encode_raw_reply(const reply& r, std::string& out) {
  detail::encode_to_string(out, [&](output_buffer& b) { encode_raw_reply(r, b); });
}

void raw_codec::encode_request(std::span<const std::string_view> words, std::string& out) {
  detail::encode_to_string(out, [&](output_buffer& b) { encode_request(words, b); });
}

}  // namespace coronet
