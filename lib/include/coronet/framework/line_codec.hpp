// The `line` protocol: one text line per request and per reply (nc/telnet friendly).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/framework/codec_limits.hpp"
#include "coronet/framework/parse_result.hpp"
#include "coronet/framework/reply.hpp"

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
/// `text`, `bulk` and `error` are written as their string with CR, LF and
/// backslash escaped as `\r`, `\n`, `\\` (an error's string is its whole line,
/// e.g. `ERR timeout`); `integer` in decimal; `null` as `(nil)`; `array` as its
/// elements' encodings joined by one space (nested arrays flattened the same
/// way; an empty array gives an empty line). Makes no allocation when `out`
/// has the capacity; may throw `std::bad_alloc` otherwise.
void encode_line_reply(const reply& r, std::string& out);

}  // namespace coronet
