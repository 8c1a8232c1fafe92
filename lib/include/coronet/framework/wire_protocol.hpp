// The wire protocols a server speaks.
#pragma once

#include <string_view>

namespace coronet {

/// Wire protocols a server speaks (see docs/protocols.md).
enum class wire_protocol {
  /// RESP if the connection's first byte is `*`, otherwise `line`.
  auto_detect,
  /// One text line per request and per reply.
  line,
  /// Redis RESP2.
  resp,
  /// The seed's one-shot mode: one read is the command, one unframed reply, close.
  raw,
};

/// Name of `p` as the samples' `--protocol` option spells it
/// ("auto", "line", "resp", "raw").
std::string_view to_string(wire_protocol p) noexcept;

/// Parses a protocol name as `to_string` writes it; returns false if unknown.
bool parse_wire_protocol(std::string_view name, wire_protocol& out) noexcept;

}  // namespace coronet
