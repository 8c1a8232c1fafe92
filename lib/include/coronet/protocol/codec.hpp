// What a wire protocol provides to servers and clients: the codec concepts.
#pragma once

#include <concepts>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/core/output_buffer.hpp"
#include "coronet/protocol/codec_limits.hpp"
#include "coronet/protocol/parse_result.hpp"
#include "coronet/protocol/reply.hpp"
#include "coronet/protocol/wire_protocol.hpp"

namespace coronet {

/// A wire protocol as a server speaks it: a type per protocol (`line_codec`,
/// `resp_codec`, `raw_codec`), one object per connection, holding whatever
/// it remembers between reads of a request that arrives in pieces.
///
/// - `C::protocol`: the `wire_protocol` it implements;
/// - `c.parse(input, words, limits)`: parses the request at the front of
///   `input` (the connection's unconsumed bytes) into `words` (command name
///   first, views into `input`), never trusting a length from the peer beyond
///   `limits`; returns a `parse_result` (`complete` with the bytes consumed,
///   `incomplete`, or `error` with the text the peer is sent after `ERR `);
/// - `c.encode(r, out)`: appends reply `r` to `out` in the protocol's framing
///   (a static member does too; `resp_codec`'s depends on the RESP version
///   the connection chose).
///
/// A server's session loop is a template over this concept, so the protocol is
/// chosen once per connection, not per request.
template <class C>
concept request_codec = requires(C& codec, std::span<char> input, std::vector<std::string_view>& words,
                                 const codec_limits& limits, const reply& r, output_buffer& out) {
  { C::protocol } -> std::convertible_to<wire_protocol>;
  { codec.parse(input, words, limits) } -> std::same_as<parse_result>;
  { codec.encode(r, out) } -> std::same_as<void>;
};

/// A wire protocol as a client speaks it, one object per connection:
/// `C::encode_request(words, out)` appends a request; `c.parse_reply(input,
/// r, limits)` parses the reply at the front of `input` into `r` (`r` is
/// assigned only on `complete`). `raw_codec` is not one: its reply is
/// whatever arrives until the server closes (`raw_codec::reply_at_close`).
template <class C>
concept reply_codec = requires(C& codec, std::span<const std::string_view> words, output_buffer& out,
                               std::span<const char> input, reply& r, const codec_limits& limits) {
  { C::protocol } -> std::convertible_to<wire_protocol>;
  { C::encode_request(words, out) } -> std::same_as<void>;
  { codec.parse_reply(input, r, limits) } -> std::same_as<parse_result>;
};

}  // namespace coronet
