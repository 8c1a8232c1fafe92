// Bounds every request parser enforces before trusting the peer.
#pragma once

#include <cstddef>

namespace coronet {

/// Limits applied by the request and reply parsers. A request over a limit is
/// a parse error (see each parser for the exact message); nothing is ever
/// allocated or reserved from a length the peer announced.
struct codec_limits {
  /// Longest line: a `line` request, a RESP inline request, a RESP header
  /// line (`*<n>`, `$<n>`) or a RESP simple string/error reply, not counting
  /// its CR LF. Longer is "request too large".
  std::size_t max_request_bytes = 64 * 1024;

  /// Largest RESP bulk string a peer may announce.
  std::size_t max_bulk_bytes = 1024 * 1024;

  /// Most words in one request, command name included; also the largest
  /// RESP array count accepted (requests and replies).
  std::size_t max_args = 1024;
};

}  // namespace coronet
