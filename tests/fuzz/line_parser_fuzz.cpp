// libFuzzer target: parse_line_request, encode_line_reply and the client's
// line_codec::parse_reply on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/protocol/line/line_codec.hpp"
#include "request_invariants.hpp"

namespace {

void parse_all(std::vector<char>& buffer, const coronet::codec_limits& limits) {
  std::vector<std::string_view> words;
  std::string out;
  std::span<char> rest(buffer);
  for (;;) {
    const coronet::parse_result r = coronet::parse_line_request(rest, words, limits);
    if (!check_request_result(r, rest, words, limits))
      return;
    check(rest[r.consumed - 1] == '\n');
    for (std::string_view w : words) {
      check(!w.empty());
      check(w.find_first_of(" \t\n") == std::string_view::npos);
      // Every encoded reply is exactly one line.
      out.clear();
      coronet::encode_line_reply(coronet::reply::bulk(w), out);
      check(out.size() >= 2 && out.find_first_of("\r\n") == out.size() - 2);
    }
    rest = rest.subspan(r.consumed);
  }
}

// The client side: every line parses, an error line as it is, a text line
// unescaped; re-encoding what was parsed is stable after one pass.
void parse_replies(std::string_view input) {
  coronet::line_codec codec;
  const coronet::codec_limits limits;
  std::string_view rest = input;
  for (;;) {
    coronet::reply reply;
    const coronet::parse_result r = codec.parse_reply(std::span<const char>(rest.data(), rest.size()), reply, limits);
    check(r.status != coronet::parse_status::error);
    if (r.status == coronet::parse_status::incomplete) {
      check(rest.find('\n') == std::string_view::npos);
      return;
    }
    check(r.consumed > 0 && rest[r.consumed - 1] == '\n');
    check(rest.substr(0, r.consumed - 1).find('\n') == std::string_view::npos);
    check(reply.kind() == coronet::reply_kind::text || reply.kind() == coronet::reply_kind::error);
    if (reply.kind() == coronet::reply_kind::error)
      check(reply.str().substr(0, 3) == "ERR");
    std::string wire;
    coronet::encode_line_reply(reply, wire);
    coronet::line_codec again;
    coronet::reply back;
    const coronet::parse_result b = again.parse_reply(std::span<const char>(wire.data(), wire.size()), back, limits);
    check(b.status == coronet::parse_status::complete && b.consumed == wire.size());
    std::string rewire;
    coronet::encode_line_reply(back, rewire);
    check(rewire == wire);
    rest.remove_prefix(r.consumed);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<char> original(data, data + size);
  std::vector<char> buffer = original;
  parse_all(buffer, coronet::codec_limits{});
  check(buffer == original);  // the line parser never writes
  coronet::codec_limits tiny;
  tiny.max_request_bytes = 16;
  tiny.max_args = 3;
  parse_all(buffer, tiny);
  parse_replies(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
