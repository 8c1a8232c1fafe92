// What a codec's parser reports after looking at a buffer.
#pragma once

#include <cstddef>
#include <string_view>

namespace coronet {

/// Outcome of one parse attempt.
enum class parse_status {
  incomplete,  ///< More bytes are needed; nothing was consumed.
  complete,    ///< One whole message was parsed; see `parse_result::consumed`.
  error        ///< The bytes can never form a valid message; see `parse_result::error`.
};

/// Result of parsing the front of a buffer.
struct parse_result {
  /// Whether a message was parsed, more input is needed, or the input is bad.
  parse_status status = parse_status::incomplete;

  /// Bytes of the buffer that the parsed message occupied, terminator
  /// included. Greater than zero when `complete`; zero otherwise.
  std::size_t consumed = 0;

  /// When `error`: the text to send to the peer after `ERR `, e.g.
  /// "request too large" or "protocol error: invalid bulk length". It refers
  /// to static storage (valid for the program's lifetime, never allocated).
  /// Empty otherwise.
  std::string_view error{};
};

}  // namespace coronet
