#include "coronet/protocol/raw/raw_codec.hpp"

#include <algorithm>

#include "protocol/detail/decimal.hpp"
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

void encode_raw_reply(const reply& r, std::string& out) {
  switch (r.kind()) {
    case reply_kind::text:
    case reply_kind::bulk:
    case reply_kind::verbatim: out.append(r.str()); break;
    case reply_kind::integer: detail::append_decimal(out, r.integer()); break;
    case reply_kind::boolean: out.append(r.boolean() ? "true" : "false"); break;
    case reply_kind::real: detail::append_double(out, r.real()); break;
    case reply_kind::array:
    case reply_kind::set:
      detail::append_spaced(r.elements(), out,
                            [](const reply& element, std::string& o) { encode_raw_reply(element, o); });
      break;
    case reply_kind::map: {
      const std::span<const reply> all = r.elements();
      for (std::size_t i = 0; i + 1 < all.size(); i += 2) {
        if (i > 0)
          out.push_back(' ');
        encode_raw_reply(all[i], out);
        out.push_back('=');
        encode_raw_reply(all[i + 1], out);
      }
      break;
    }
    case reply_kind::error:
    case reply_kind::null: break;
  }
}

void raw_codec::encode_request(std::span<const std::string_view> words, std::string& out) {
  detail::append_joined(words, out);
}

reply raw_codec::reply_at_close(std::string_view received) {
  return received.empty() ? reply::err("no reply") : reply::text(received);
}

}  // namespace coronet
