// The PROXY protocol prelude of a server's connections: takes the header that
// a load balancer sends off the socket before anything else reads it.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "coronet/core/detail/log_limiter.hpp"
#include "coronet/core/detail/thread_counter.hpp"
#include "coronet/net/socket.hpp"
#include "coronet/protocol/proxy/proxy_header.hpp"
#include "coronet/core/task.hpp"

namespace coronet::detail {

// Parses server_options::proxy_trusted. Throws std::invalid_argument naming
// the first entry that is not an address or an address/prefix-length.
std::vector<address_prefix> parse_trusted_proxies(const std::vector<std::string>& entries);

// With the PROXY protocol on (`mode`), runs as the connection's opening handshake, before
// anything else reads (a TLS handshake included):
// - a trusted peer must send a header in an accepted version; exactly its bytes are taken
//   off the socket, and `peer` / `local` become the client's and the proxy's addresses it
//   names (LOCAL and UNKNOWN keep the real ones; a LOCAL header is counted in
//   `health_checks`);
// - any other peer is served as it is, unless its first bytes are a PROXY signature, which
//   closes it. Nothing is taken off its socket.
// `in_handshake` is set while the handshake deadline applies, `since` to when it began: at
// once for a trusted peer; for another one only once its first bytes begin a signature
// (a silent untrusted peer is an ordinary connection, subject to idle_timeout only).
// Yields true when the connection goes on. False when it must close: the peer left before
// sending a header (nothing, or bytes that only began a signature), the server drains
// (neither counted), or the header was malformed, truncated, oversized, late (closed by the
// sweeper at handshake_timeout) or untrusted: counted in `errors` and logged through `log`.
// With the protocol off, yields true. `peer` and `local` hold the real endpoints and become
// the header's.
struct proxy_prelude {
  tcp::asio_socket& socket;
  tcp::endpoint& peer;
  tcp::endpoint& local;
  proxy_protocol_mode mode;
  const std::vector<address_prefix>& trusted;
  std::chrono::milliseconds handshake_timeout;
  bool& in_handshake;
  std::chrono::steady_clock::time_point& since;
  const bool& draining;
  thread_counter& errors;
  thread_counter& health_checks;
  log_limiter& log;
};
task<bool> accept_proxy_header(proxy_prelude p);

}  // namespace coronet::detail
