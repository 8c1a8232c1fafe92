// The `line` protocol: one text line per request and per reply (nc/telnet friendly).
#pragma once

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

/// Parses one `line` request from the front of `input`.
///
/// A request is the bytes up to the first `\n`; one `\r` right before it is
/// dropped. The line is split on runs of spaces and tabs into `words`
/// (`words[0]` is the command name); every other byte, including NUL, a lone
/// `\r` and invalid UTF-8, is part of a word. `words` is cleared first and then
/// filled with views into `input`, so it reuses its capacity: no allocation
/// once it has held `limits.max_args` words. `input` is not modified (it is
/// mutable only to match the other request parsers).
///
/// Returns
/// - `complete`, `consumed` = line length including `\n`; an empty or
///   all-blank line is `complete` with `words` empty (the caller skips it);
/// - `incomplete` when no `\n` has arrived yet (call again from the same
///   start with more bytes; each call rescans the line, which is bounded by
///   `max_request_bytes`);
/// - `error` "request too large" when the line (without its terminator) is
///   longer than `limits.max_request_bytes`, whether or not its `\n` has
///   arrived, or "too many arguments" when it has more than
///   `limits.max_args` words.
///
/// Never throws except `std::bad_alloc` while growing `words`.
parse_result parse_line_request(std::span<char> input, std::vector<std::string_view>& words,
                                const codec_limits& limits);

/// Appends `r` to `out` as exactly one line ending in `\r\n`.
///
/// - `text`, `bulk` and `verbatim`: their string, with CR, LF and backslash
///   escaped as `\r`, `\n`, `\\`;
/// - `error`: its whole line (e.g. `ERR unknown command 'x'`) as it is, with
///   CR and LF replaced by spaces as in RESP; a backslash stays one backslash
///   (the router already writes peer bytes as `\xHH`), so error lines are never
///   unescaped;
/// - `integer` in decimal; `boolean` as `true` or `false`; `real` in the
///   shortest decimal that reads back as the same double, as Redis writes it
///   (`3.14`, `1e-7`, `inf`, `-inf`, `nan`); `null` as `(nil)`;
/// - `array` and `set`: their elements' encodings joined by one space (nested
///   aggregates flattened the same way; an empty one gives an empty line);
/// - `map`: `key=value` for each pair, the pairs joined by one space.
///
/// Makes no allocation when `out` has the capacity; may throw
/// `std::bad_alloc` otherwise.
void encode_line_reply(const reply& r, output_buffer& out);
/// As above, appending to a `std::string` (the bytes are copied once more).
void encode_line_reply(const reply& r, std::string& out);

/// The `line` protocol as a codec type (see `request_codec` and
/// `reply_codec` in codec.hpp); one object per connection.
///
/// It remembers how many bytes of a request still missing its `\n` were
/// already searched, so a line arriving in many reads is scanned once.
class line_codec {
public:
  /// The protocol implemented.
  static constexpr wire_protocol protocol = wire_protocol::line;

  /// As `parse_line_request`, searching only bytes not searched before when
  /// the previous call on the same request was `incomplete`.
  parse_result parse(std::span<char> input, std::vector<std::string_view>& words, const codec_limits& limits);

  /// As `encode_line_reply`.
  static void encode(const reply& r, output_buffer& out) { encode_line_reply(r, out); }
  /// As `encode_line_reply` to a `std::string`.
  static void encode(const reply& r, std::string& out) { encode_line_reply(r, out); }

  /// Appends `words` joined by one space and ended by `\r\n`. The caller
  /// checks that no word is empty or holds a blank, CR or LF (the line
  /// protocol cannot carry them).
  static void encode_request(std::span<const std::string_view> words, output_buffer& out);
  /// As above, appending to a `std::string` (the bytes are copied once more).
  static void encode_request(std::span<const std::string_view> words, std::string& out);

  /// Parses one reply line from the front of `input`: a line `ERR` or
  /// starting with `ERR ` is an `error` reply holding the line as it is (error
  /// lines carry no escapes), any other a `text` reply with the escapes `\r`,
  /// `\n`, `\\` decoded; `incomplete` until the `\n`
  /// arrives (the caller bounds how long it waits: a reply line may be as
  /// long as the server's values, so `limits` are not applied). Never
  /// returns `error`. Throws only `std::bad_alloc`.
  parse_result parse_reply(std::span<const char> input, reply& out, const codec_limits& limits);

private:
  std::size_t scanned_ = 0;  // bytes at the front known to hold no '\n'
};

}  // namespace coronet
