// coronet::stream_server_stats: what every server on the stream server counts.
#pragma once

#include <chrono>
#include <cstdint>

namespace coronet {

/// Counters of a stream server (and of a `coronet::server`), summed over its threads.
struct stream_server_stats {
  /// Connections open now.
  std::uint64_t connections_now = 0;
  /// Connections accepted since start (rejected ones included).
  std::uint64_t connections_total = 0;
  /// Connections refused because `max_connections` was reached.
  std::uint64_t connections_rejected = 0;
  /// Connections closed because their handshake (TLS, PROXY) passed `handshake_timeout`.
  std::uint64_t handshakes_timed_out = 0;
  /// Connections closed over their PROXY header (malformed, untrusted, late...).
  std::uint64_t proxy_header_errors = 0;
  /// Connections closed by the server as errors: output over `max_output_bytes` or
  /// stalled, a handler that threw. A `coronet::server` counts its error replies, protocol
  /// errors (each closes its connection), rejected connections and connections closed for
  /// overflowing `server_options::max_query_buffer_bytes` here too.
  std::uint64_t errors = 0;
  /// Bytes read by handlers.
  std::uint64_t bytes_in = 0;
  /// Bytes taken by the kernel (plaintext bytes for TLS).
  std::uint64_t bytes_out = 0;
  /// Time since the server was constructed.
  std::chrono::steady_clock::duration uptime{};
  /// True once the drain began (`stop()`, the first signal).
  bool draining = false;
  /// True while `set_maintenance(true)` holds.
  bool maintenance = false;
  /// Connections a peer in `proxy_trusted` opened with a PROXY v2 `LOCAL` header: the
  /// proxy's own connections, such as HAProxy's health checks with `send-proxy-v2`. Served
  /// with their real endpoints; neither logged nor counted as errors, whatever they do next.
  std::uint64_t proxy_health_checks = 0;
};

}  // namespace coronet
