// RESP2, the Redis protocol: requests from redis-cli and client libraries, replies back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/core/output_buffer.hpp"
#include "coronet/protocol/codec_limits.hpp"
#include "coronet/protocol/parse_result.hpp"
#include "coronet/protocol/reply.hpp"
#include "coronet/protocol/wire_protocol.hpp"
#include "coronet/protocol/resp/detail/request_fast.hpp"

namespace coronet {

/// Incremental parser for RESP2 requests; one per connection.
///
/// A request is either a multibulk (`*<n>\r\n` then n times
/// `$<len>\r\n<len bytes>\r\n`) or, when its first byte is not `*`, an inline
/// command: one line ending in `\n` (a `\r` before it is dropped) split like
/// Redis' `sdssplitargs`: blanks separate words; `"..."` may hold the escapes
/// `\n \r \t \b \a \\ \"` and `\xHH` (any other `\c` is `c`); `'...'` is
/// literal except `\'`; a closing quote must be followed by a blank or the end
/// of the line. Inline escapes are decoded in place, inside `input`, so no
/// byte is copied out. Unlike Redis, a NUL byte is an ordinary byte.
///
/// Buffer contract: pass the unconsumed bytes of the connection, starting at
/// the first byte of the request being parsed. After `incomplete`, call again
/// with the same bytes (not modified) plus whatever has arrived; the buffer
/// may have been moved or compacted in between, because the parser remembers
/// offsets, never addresses. After `complete`, the next request starts at
/// `input[consumed]`; pass the buffer from there (as a new span starting at
/// that byte). Progress is kept across calls, so a request arriving in many
/// small pieces is scanned once in total, not once per call. After `error`
/// the parser is reset; the connection should be closed.
///
/// The words of a `complete` multibulk or inline request point into `input`
/// as passed to that last call.
class resp_request_parser {
public:
  /// Parses the request at the front of `input`.
  ///
  /// `words` is cleared, then on `complete` filled with the command name and
  /// arguments (capacity is reused: no allocation in steady state). An empty
  /// inline line and a multibulk count of 0 or less (`*0`, `*-1`) are
  /// `complete` with `words` empty; the caller skips them, as Redis does.
  ///
  /// Errors (`parse_result::error`, static text):
  /// - "request too large": an inline line or a `*`/`$` header line longer
  ///   than `limits.max_request_bytes`, including one whose end has not arrived;
  /// - "protocol error: invalid multibulk length": a count that is not a
  ///   decimal integer (no sign other than '-', no leading zero, no spaces),
  ///   overflows, exceeds `limits.max_args`, or is not followed by CR LF;
  /// - "protocol error: expected '$', got 'X'": an element not starting with
  ///   `$` (X is the byte, or `\xHH` when not printable ASCII);
  /// - "protocol error: invalid bulk length": a length that is not a decimal
  ///   integer, is negative, exceeds `limits.max_bulk_bytes`, or is not
  ///   followed by CR LF;
  /// - "protocol error: bulk not terminated by CRLF": the bytes after the
  ///   announced data are not CR LF (reported as soon as they arrive);
  /// - "protocol error: unbalanced quotes": an inline line with an unclosed
  ///   quote or a closing quote followed by something other than a blank;
  /// - "too many arguments": an inline line with more than `limits.max_args` words.
  ///
  /// Lengths are never trusted: nothing is reserved from them, and the parser
  /// only waits for bytes. Pass the same `limits` on every call for one
  /// request. Throws only `std::bad_alloc` while growing `words` or its own
  /// offset list (both bounded by `limits.max_args`).
  [[gnu::always_inline]] parse_result parse(std::span<char> input, std::vector<std::string_view>& words,
                                            const codec_limits& limits) {
    // Inline, with its common cases: a server's request loop makes no call to parse them.
    if ((state_.pos | state_.scan) != 0 || input.empty()) [[unlikely]]
      return parse_general(input, words, limits);
    words.clear();
    std::size_t consumed = 0;
    if (input[0] == '*' ? detail::resp_fast::parse_whole_multibulk(input, words, limits, consumed)
                        : detail::resp_fast::parse_plain_inline(input, words, limits, consumed)) [[likely]]
      return {parse_status::complete, consumed, {}};
    return parse_general(input, words, limits);
  }

  /// Forgets a partially parsed request, e.g. when the buffer is discarded.
  void reset() noexcept;

  /// True when the last call returned `incomplete` after parsing part of a
  /// request, so the next call must start at that same request.
  bool in_progress() const noexcept { return state_.pos != 0 || state_.scan != 0; }

  friend parse_result parse_resp_request(std::span<char> input, std::vector<std::string_view>& words,
                                         const codec_limits& limits);

private:
  struct progress {
    std::size_t pos = 0;         // next byte to parse (0: no multibulk header parsed yet)
    std::size_t scan = 0;        // where the search for a line end resumes
    std::size_t remaining = 0;   // bulk strings still expected
    std::int64_t bulk_len = -1;  // length of the bulk whose data starts at pos, or -1
  };
  struct word_ref {
    std::size_t offset;
    std::size_t length;
  };

  // Any request, in any state: the general parser. Out of line.
  [[gnu::noinline]] parse_result parse_general(std::span<char> input, std::vector<std::string_view>& words,
                             const codec_limits& limits);

  progress state_;
  std::vector<word_ref> words_;  // words of a multibulk still in progress, as offsets
};

/// Parses one RESP2 request from the front of `input` without keeping state
/// between calls: same grammar, errors and buffer rules as
/// `resp_request_parser::parse`, but each `incomplete` call rescans the
/// request from its start. Fine for whole buffers (tests, small requests);
/// a server should keep a `resp_request_parser` per connection.
parse_result parse_resp_request(std::span<char> input, std::vector<std::string_view>& words,
                                const codec_limits& limits);

/// Appends `r` to `out` in RESP2 (`protover` 2, or anything below 3) or
/// RESP3 (`protover` 3 or more, what the peer chose with `HELLO 3`).
///
/// Both: `text` as `+<text>\r\n` and `error` as `-<line>\r\n` (CR and LF
/// inside replaced by spaces, as Redis does), `integer` as `:<n>\r\n`,
/// `bulk` as `$<len>\r\n<bytes>\r\n`, `array` as `*<n>\r\n` followed by
/// its elements.
///
/// RESP2, as Redis answers a RESP2 client: `map` as a flat array of its keys
/// and values (`*<2n>`), `set` as an array, `boolean` as `:1` or `:0`,
/// `real` as a bulk string of the number as Redis 7.2+ writes it (`3.14`,
/// `1e-7`, `inf`, `-inf`, `nan`), `verbatim` as a bulk string, `null` as
/// `$-1\r\n`.
///
/// RESP3: `map` as `%<pairs>\r\n` then key, value, key, value...; `set` as
/// `~<n>\r\n` then its elements; `boolean` as `#t\r\n` or `#f\r\n`;
/// `real` as `,<number>\r\n` (same text as in RESP2); `verbatim` as
/// `=<len+4>\r\ntxt:<text>\r\n`; `null` as `_\r\n`.
///
/// Makes no allocation when `out` has the capacity; may throw
/// `std::bad_alloc` otherwise.
void encode_resp_reply(const reply& r, output_buffer& out, int protover = 2);
/// As above, appending to a `std::string` (the bytes are copied once more).
void encode_resp_reply(const reply& r, std::string& out, int protover = 2);

/// Appends the request `words` (command name first) to `out` as a RESP2
/// multibulk of bulk strings, the form every Redis client sends. Binary-safe.
void encode_resp_request(std::span<const std::string_view> words, output_buffer& out);
/// As above, appending to a `std::string` (the bytes are copied once more).
void encode_resp_request(std::span<const std::string_view> words, std::string& out);

/// Most deeply nested aggregates (arrays, maps, sets, pushes, attributes)
/// `parse_resp_reply` accepts.
inline constexpr int resp_max_reply_depth = 16;

/// Parses one RESP2 or RESP3 reply (client side) from the front of `input`
/// into `out`.
///
/// Accepts RESP2's `+` (text), `-` (error), `:` (integer), `$` (bulk, `$-1`
/// is `null`), `*` (array, `*-1` is `null`), and RESP3's `_` (null), `#t`/`#f`
/// (boolean), `,` (real: decimal, exponent, `inf`, `-inf`, `nan`), `(` (big
/// number, returned as a `bulk` of its digits), `!` (blob error, an `error`),
/// `=` (verbatim string: `verbatim` with the three-byte format and `:`
/// dropped, whatever the format), `%` (map), `~` (set), `>` (push, returned
/// as an `array`; a client that neither subscribes nor tracks keys never gets
/// one) and `|` (attributes: validated like a map, then skipped; the reply is
/// the value that follows them). Aggregates nest at most
/// `resp_max_reply_depth` deep.
///
/// `out` is assigned only on `complete`; the input is validated before
/// anything is allocated, and each call rescans the reply from its start.
/// Errors: "protocol error: line too long" (a line over
/// `limits.max_request_bytes`), "protocol error: invalid reply type",
/// "protocol error: invalid integer", "protocol error: invalid null" (`_` not
/// followed directly by CR LF), "protocol error: invalid boolean" (not `t` or
/// `f`), "protocol error: invalid double" (a `,` line from_chars cannot read
/// whole, or out of a double's range), "protocol error: invalid big number",
/// "protocol error: invalid bulk length" (`$`, `=` or `!` with a length over
/// `limits.max_bulk_bytes` or negative, `$-1` aside), "protocol error: invalid
/// verbatim string" (shorter than 4 bytes or no `:` after the format),
/// "protocol error: invalid multibulk length" (an aggregate over
/// `limits.max_args` elements, a map's or attribute's pairs counting twice,
/// or negative, `*-1` aside), "protocol error: bulk not terminated by CRLF",
/// "protocol error: nesting too deep", "protocol error: invalid line
/// terminator" (a CR not followed by LF). Throws only `std::bad_alloc` while
/// building `out`.
parse_result parse_resp_reply(std::span<const char> input, reply& out, const codec_limits& limits);

/// RESP as a codec type (see `request_codec` and `reply_codec` in
/// codec.hpp); one object per connection. Requests are parsed the same in
/// RESP2 and RESP3; replies are encoded in the version set by `set_protover`
/// (2 until then).
class resp_codec {
public:
  /// The protocol implemented.
  static constexpr wire_protocol protocol = wire_protocol::resp;

  /// As `resp_request_parser::parse`.
  [[gnu::always_inline]] parse_result parse(std::span<char> input, std::vector<std::string_view>& words,
                                            const codec_limits& limits) {
    return parser_.parse(input, words, limits);
  }

  /// As `encode_resp_reply` with the version set by `set_protover`.
  void encode(const reply& r, output_buffer& out) const { encode_resp_reply(r, out, protover_); }
  /// As `encode_resp_reply` to a `std::string`, in the version set by `set_protover`.
  void encode(const reply& r, std::string& out) const { encode_resp_reply(r, out, protover_); }

  /// Chooses the RESP version of the replies encoded from now on: 3 (or
  /// more) for RESP3, anything else for RESP2. A server calls it when the
  /// peer switches with `HELLO`.
  void set_protover(int version) noexcept { protover_ = version; }

  /// The RESP version replies are encoded in: 2 unless `set_protover` chose another.
  int protover() const noexcept { return protover_; }

  /// As `encode_resp_request`.
  static void encode_request(std::span<const std::string_view> words, output_buffer& out) {
    encode_resp_request(words, out);
  }
  /// As `encode_resp_request` to a `std::string`.
  static void encode_request(std::span<const std::string_view> words, std::string& out) {
    encode_resp_request(words, out);
  }

  /// As `parse_resp_reply`.
  parse_result parse_reply(std::span<const char> input, reply& out, const codec_limits& limits) {
    return parse_resp_reply(input, out, limits);
  }

private:
  resp_request_parser parser_;
  int protover_ = 2;
};

}  // namespace coronet
