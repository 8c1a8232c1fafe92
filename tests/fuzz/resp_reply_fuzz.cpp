// libFuzzer target: the client-side RESP2/RESP3 reply parser (parse_resp_reply)
// and the reply encoder in both versions.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "coronet/protocol/resp/resp_codec.hpp"

namespace {

void check(bool condition) {
  if (!condition)
    __builtin_trap();
}

coronet::parse_result parse(std::string_view input, coronet::reply& out, const coronet::codec_limits& limits) {
  return coronet::parse_resp_reply(std::span<const char>(input.data(), input.size()), out, limits);
}

std::string encode(const coronet::reply& r, int protover) {
  std::string wire;
  coronet::encode_resp_reply(r, wire, protover);
  return wire;
}

// `wire`, written by the encoder, parses whole; returns what it parsed to.
coronet::reply parse_encoded(const std::string& wire) {
  coronet::reply back;
  const coronet::parse_result r = parse(wire, back, coronet::codec_limits{});
  check(r.status == coronet::parse_status::complete && r.consumed == wire.size());
  return back;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  coronet::codec_limits limits;
  if (!input.empty() && input[0] == '^') {  // not a RESP type: exercise the limits with tiny values
    input.erase(0, 1);
    limits.max_request_bytes = 12;
    limits.max_bulk_bytes = 8;
    limits.max_args = 4;
  }
  size = input.size();
  const coronet::reply untouched = coronet::reply::text("untouched");
  coronet::reply reply = untouched;
  const coronet::parse_result r = parse(input, reply, limits);
  check(r.consumed <= size);
  check((r.status == coronet::parse_status::complete) == (r.consumed > 0));
  check((r.status == coronet::parse_status::error) == !r.error.empty());
  if (r.status != coronet::parse_status::complete) {
    check(reply == untouched);  // assigned only on complete
    return 0;
  }
  // Every shorter prefix of a complete reply is incomplete, not an error.
  const std::size_t step = r.consumed <= 512 ? 1 : r.consumed / 256;
  for (std::size_t cut = 0; cut < r.consumed; cut += step) {
    coronet::reply partial = untouched;
    const coronet::parse_result p = parse(std::string_view(input).substr(0, cut), partial, limits);
    check(p.status == coronet::parse_status::incomplete && p.consumed == 0 && partial == untouched);
  }
  const coronet::reply copy = reply;
  check(copy == reply);

  // RESP3 keeps every kind: after one pass normalises CR/LF in simple strings
  // (and drops attributes), encoding and parsing are stable.
  const std::string wire3 = encode(reply, 3);
  const coronet::reply back3 = parse_encoded(wire3);
  const std::string rewire3 = encode(back3, 3);
  check(rewire3 == wire3);
  check(parse_encoded(rewire3) == back3);

  // RESP2 maps kinds onto its own; its encoding is stable too.
  const std::string wire2 = encode(reply, 2);
  check(encode(parse_encoded(wire2), 2) == wire2);
  check(encode(back3, 2) == wire2);
  return 0;
}
