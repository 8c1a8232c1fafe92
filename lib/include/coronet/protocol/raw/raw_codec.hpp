// The `raw` protocol of the original Python timestamp service: one read is the command, the reply is unframed.
#pragma once

#include <cstddef>
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

/// Largest `raw` request: the server makes one read of at most this many bytes.
inline constexpr std::size_t raw_max_request_bytes = 1024;

/// Parses the bytes of one read as a whole `raw` request.
///
/// There is no terminator: all of `input` is the command, split into `words`
/// on runs of spaces, tabs, CR and LF (so `timetampe` and `timetampe\r\n`
/// both give the single word `timetampe`). Other bytes, NUL included, belong
/// to words. `words` is cleared and refilled with views into `input` (its
/// capacity is reused); `input` is not modified.
///
/// Returns `incomplete` for empty input (nothing read yet); otherwise
/// `complete` with `consumed == input.size()` (words empty if the input was
/// all blanks; the caller closes without a reply); or `error`
/// "request too large" when `input` is longer than `raw_max_request_bytes`
/// or `limits.max_request_bytes`, "too many arguments" when it has more than
/// `limits.max_args` words. Never throws except `std::bad_alloc` while
/// growing `words`.
parse_result parse_raw_request(std::span<char> input, std::vector<std::string_view>& words, const codec_limits& limits);

/// Appends `r` to `out` with no framing: `text`, `bulk` and `verbatim` as
/// their bytes, `integer` in decimal, `boolean` as `true` or `false`, `real`
/// as the line protocol writes it (`3.14`, `inf`), `array` and `set` as their
/// elements' encodings joined by one space, `map` as `key=value` pairs joined
/// by one space; `error` and `null` append nothing (for a top-level `error`
/// the caller closes the connection without a reply, as the original service
/// did). Makes no allocation when `out` has the capacity.
void encode_raw_reply(const reply& r, output_buffer& out);
/// As above, appending to a `std::string` (the bytes are copied once more).
void encode_raw_reply(const reply& r, std::string& out);

/// The `raw` protocol as a codec type (see `request_codec` in codec.hpp).
/// A raw connection carries one request: the server reads once, answers
/// without framing and closes; the client's reply is all the server sent.
class raw_codec {
public:
  /// The protocol implemented.
  static constexpr wire_protocol protocol = wire_protocol::raw;

  /// As `parse_raw_request` (`input` is the bytes of the one read).
  parse_result parse(std::span<char> input, std::vector<std::string_view>& words, const codec_limits& limits) {
    return parse_raw_request(input, words, limits);
  }

  /// As `encode_raw_reply`.
  static void encode(const reply& r, output_buffer& out) { encode_raw_reply(r, out); }
  /// As `encode_raw_reply` to a `std::string`.
  static void encode(const reply& r, std::string& out) { encode_raw_reply(r, out); }

  /// Appends `words` joined by one space, with no terminator (the original
  /// service's client sends `timetampe` alone). The caller keeps it within
  /// `raw_max_request_bytes` and free of blanks inside words.
  static void encode_request(std::span<const std::string_view> words, output_buffer& out);
  /// As above, appending to a `std::string` (the bytes are copied once more).
  static void encode_request(std::span<const std::string_view> words, std::string& out);

  /// The reply, given everything the server sent before closing: a `text`
  /// reply, or the error `ERR no reply` when it sent nothing (what the
  /// original client reports as "get timestampe failed").
  static reply reply_at_close(std::string_view received);
};

}  // namespace coronet
