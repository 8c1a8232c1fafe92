// The wire protocols a server speaks.
#pragma once

#include <string_view>

namespace coronet {

/// Wire protocols a server speaks (see docs/protocols.md).
enum class wire_protocol {
  /// The default: `resp` for every connection, inline commands included, as
  /// Redis does, so Redis tools (`redis-benchmark`'s PING_INLINE, `redis-cli
  /// --pipe` with inline files) and `printf 'PING\r\n' | nc` (`+PONG`) work
  /// with default options. The human `line` protocol is never guessed: a
  /// server serves it only when configured with `line`.
  auto_detect,
  /// One text line per request and per reply, for people with `nc`/`telnet`.
  line,
  /// Redis RESP2 (RESP3 after `HELLO 3`): arrays of bulk strings or inline
  /// commands.
  resp,
  /// The seed's one-shot mode: one read is the command, one unframed reply, close.
  raw,
  /// HTTP/1.1 (and 1.0): `GET /<command>/<arg>...`, `POST /<command>`, JSON or
  /// text/plain replies, the status page. Only on a listener configured with
  /// it, never guessed by `auto_detect`: `GET key` is a valid Redis inline
  /// command.
  http,
};

/// Name of `p` as the samples' `--protocol` option spells it
/// ("auto", "line", "resp", "raw", "http").
std::string_view to_string(wire_protocol p) noexcept;

/// Parses a protocol name as `to_string` writes it; returns false if unknown.
bool parse_wire_protocol(std::string_view name, wire_protocol& out) noexcept;

}  // namespace coronet
