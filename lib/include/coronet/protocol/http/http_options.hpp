// The limits and deadlines of a server's HTTP/1.1 listeners.
#pragma once

#include <chrono>
#include <string>
#include <vector>
#include <cstddef>

namespace coronet {

/// Limits and deadlines of HTTP/1.1 connections (`wire_protocol::http`;
/// `server_options::http`). Each limit, when exceeded, is answered with its
/// status code and a JSON body `{"error":"ERR ..."}`, then the connection is
/// closed (docs/protocols.md, docs/limits.md).
struct http_options {
  /// Longest request line (method, target and version, without CRLF).
  /// Longer: `414 URI Too Long`.
  std::size_t max_request_line = 8 * 1024;
  /// Largest header section (every header line after the request line).
  /// Larger: `431 Request Header Fields Too Large`.
  std::size_t max_header_bytes = 8 * 1024;
  /// Most header fields in a request. More: `431`.
  std::size_t max_header_fields = 100;
  /// Largest request body, sized by Content-Length or, for a chunked body,
  /// after decoding. Larger: `413 Content Too Large` (before any of the body
  /// is read when Content-Length announces it, so an `Expect: 100-continue`
  /// client never sends it).
  std::size_t max_body_bytes = 1024 * 1024;
  /// From the first byte of a request until its header section is complete,
  /// and again from then until its body is complete: longer, the peer gets
  /// `408 Request Timeout` and the connection is closed (the slowloris
  /// guard). 0 = no limit.
  std::chrono::milliseconds header_timeout = std::chrono::seconds(10);
  /// A keep-alive connection with no request in progress and no reply being
  /// taken for this long is closed without a reply, as nginx's
  /// `keepalive_timeout`. 0 = never.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(60);
  /// Largest WebSocket message (`GET /ws`), after reassembling its
  /// fragments. Larger: the connection is closed with status 1009 (message
  /// too big), as RFC 6455 says.
  std::size_t max_websocket_message = 1024 * 1024;
  /// The web origins whose pages may open a WebSocket at `/ws`: values of
  /// the `Origin` header a browser sends, such as `https://app.example.com`;
  /// `*` allows any. Empty (the default): only pages of this server itself
  /// (an origin whose host and port are the request's `Host`). A request
  /// without `Origin` (a program, not a browser) is always allowed. Refused:
  /// `403 Forbidden`, then close. Browsers apply no same-origin rule to
  /// WebSocket, so without this check any page a user visits could run
  /// commands and read their replies.
  std::vector<std::string> websocket_origins{};
};

}  // namespace coronet
