// libFuzzer target: the RESP request parsers (one-shot and incremental), the
// request encoder round trip, and the client-side reply parser.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/protocol/resp/resp_codec.hpp"
#include "request_invariants.hpp"

namespace {

struct outcome {
  coronet::parse_status status;
  std::size_t consumed;
  std::string_view error;
  std::vector<std::string> words;
};

outcome record(const coronet::parse_result& r, const std::vector<std::string_view>& words) {
  return {r.status, r.consumed, r.error, {words.begin(), words.end()}};
}

bool same(const outcome& a, const outcome& b) {
  return a.status == b.status && a.consumed == b.consumed && a.error == b.error && a.words == b.words;
}

void check_result(const coronet::parse_result& r, std::span<char> input, const std::vector<std::string_view>& words,
                  const coronet::codec_limits& limits) {
  if (check_request_result(r, input, words, limits))
    check(r.error.empty());
}

// Re-encoding parsed words as a multibulk must parse back to the same words
// (under the default limits: an inline word may be longer than a tiny max_bulk_bytes).
void check_round_trip(const std::vector<std::string_view>& words) {
  const coronet::codec_limits limits;
  std::string wire;
  coronet::encode_resp_request(words, wire);
  std::vector<std::string_view> again;
  const coronet::parse_result r = coronet::parse_resp_request(wire, again, limits);
  check(r.status == coronet::parse_status::complete);
  check(r.consumed == wire.size());
  check(again.size() == words.size());
  for (std::size_t i = 0; i < words.size(); ++i)
    check(again[i] == words[i]);
}

// Parses every pipelined request with the one-shot parser.
std::vector<outcome> parse_one_shot(std::vector<char> buffer, const coronet::codec_limits& limits) {
  std::vector<outcome> outcomes;
  std::vector<std::string_view> words;
  std::span<char> rest(buffer);
  for (;;) {
    const coronet::parse_result r = coronet::parse_resp_request(rest, words, limits);
    check_result(r, rest, words, limits);
    outcomes.push_back(record(r, words));
    if (r.status != coronet::parse_status::complete)
      return outcomes;
    check_round_trip(words);
    rest = rest.subspan(r.consumed);
  }
}

// Feeds the same bytes in pieces to one incremental parser, copying what is
// buffered to a fresh allocation on every call, as a growing buffer would.
std::vector<outcome> parse_incrementally(const std::vector<char>& input, std::size_t piece,
                                         const coronet::codec_limits& limits) {
  std::vector<outcome> outcomes;
  std::vector<std::string_view> words;
  coronet::resp_request_parser parser;
  std::size_t start = 0;  // first byte of the request being parsed
  std::size_t end = 0;    // bytes "received" so far
  for (;;) {
    end = std::min(input.size(), end + piece);
    std::vector<char> buffer(input.begin() + static_cast<std::ptrdiff_t>(start),
                             input.begin() + static_cast<std::ptrdiff_t>(end));
    const coronet::parse_result r = parser.parse(buffer, words, limits);
    check_result(r, buffer, words, limits);
    if (r.status == coronet::parse_status::incomplete && end < input.size())
      continue;
    outcomes.push_back(record(r, words));
    if (r.status != coronet::parse_status::complete)
      return outcomes;
    check(!parser.in_progress());
    start += r.consumed;
    end = start;  // re-deliver the pipelined rest from its first byte
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<char> input(data, data + size);
  coronet::codec_limits limits;
  if (size > 0 && data[0] == '!') {  // exercise the limits with tiny values
    limits.max_request_bytes = 12;
    limits.max_bulk_bytes = 8;
    limits.max_args = 4;
  }
  const std::vector<outcome> one_shot = parse_one_shot(input, limits);
  const std::size_t piece = size == 0 ? 1 : 1 + data[size - 1] % 7;
  const std::vector<outcome> incremental = parse_incrementally(input, piece, limits);
  check(one_shot.size() == incremental.size());
  for (std::size_t i = 0; i < one_shot.size(); ++i)
    check(same(one_shot[i], incremental[i]));

  // Client side: a reply parsed from the same bytes re-encodes to one that parses back.
  coronet::reply reply;
  const coronet::parse_result r = coronet::parse_resp_reply(std::span<const char>(input), reply, limits);
  check(r.consumed <= size);
  check((r.status == coronet::parse_status::complete) == (r.consumed > 0));
  if (r.status == coronet::parse_status::complete) {
    std::string wire;
    coronet::encode_resp_reply(reply, wire);
    coronet::reply back;
    const coronet::parse_result again = coronet::parse_resp_reply(std::span<const char>(wire), back, limits);
    check(again.status == coronet::parse_status::complete && again.consumed == wire.size());
    // Encoding normalises CR/LF in simple strings once; after that it is stable.
    std::string rewire;
    coronet::encode_resp_reply(back, rewire);
    check(rewire == wire);
  }
  return 0;
}
