// libFuzzer target: parse_raw_request and encode_raw_reply on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/protocol/raw/raw_codec.hpp"

namespace {

void check(bool condition) {
  if (!condition)
    __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<char> original(data, data + size);
  std::vector<char> buffer = original;
  std::vector<std::string_view> words;
  const coronet::codec_limits limits;
  const coronet::parse_result r = coronet::parse_raw_request(buffer, words, limits);
  check(r.consumed <= size);
  check(buffer == original);
  if (r.status != coronet::parse_status::complete) {
    check(r.consumed == 0);
    check(words.empty());
    check((r.status == coronet::parse_status::error) == !r.error.empty());
    check(r.status == coronet::parse_status::error || size == 0);
    return 0;
  }
  check(r.consumed == size && size > 0 && size <= coronet::raw_max_request_bytes);
  check(words.size() <= limits.max_args);
  std::string out;
  std::size_t expected = 0;
  for (std::string_view w : words) {
    check(!w.empty());
    check(w.data() >= buffer.data() && w.data() + w.size() <= buffer.data() + buffer.size());
    check(w.find_first_of(" \t\r\n") == std::string_view::npos);
    coronet::encode_raw_reply(coronet::reply::bulk(w), out);
    expected += w.size();
  }
  check(out.size() == expected);
  return 0;
}
