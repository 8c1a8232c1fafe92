// The wire protocols a server speaks.
#pragma once

#include <string_view>

namespace coronet {

/// Wire protocols a server speaks (see docs/protocols.md).
enum class wire_protocol {
  /// Redis RESP2 (RESP3 after `HELLO 3`): arrays of bulk strings or inline
  /// commands, as Redis serves them. The default, so Redis tools
  /// (`redis-benchmark`'s PING_INLINE, `redis-cli --pipe` with inline files)
  /// and `printf 'PING\r\n' | nc` (`+PONG`) work with default options. The
  /// human `line` protocol is never guessed: a server serves it only when
  /// configured with `line`.
  resp,
  /// One text line per request and per reply, for people with `nc`/`telnet`.
  line,
  /// The one-shot mode of the original Python timestamp service (docs/protocols.md):
  /// one read is the command, one unframed reply, close.
  raw,
  /// HTTP/1.1 (and 1.0): `GET /<command>/<arg>...`, `POST /<command>`, JSON or
  /// text/plain replies, the status page. Only on a listener configured with
  /// it, never guessed: `GET key` is a valid Redis inline command.
  http,
  /// The old name of `resp`, which it always was: it detected nothing.
  auto_detect [[deprecated("wire_protocol::auto_detect is wire_protocol::resp; use resp")]] = resp,
};

/// Name of `p` as the samples' `--protocol` option spells it
/// ("resp", "line", "raw", "http").
std::string_view to_string(wire_protocol p) noexcept;

/// Parses a protocol name as `to_string` writes it, and "auto" (the old
/// name of "resp") as `resp`; returns false if unknown.
bool parse_wire_protocol(std::string_view name, wire_protocol& out) noexcept;

}  // namespace coronet
