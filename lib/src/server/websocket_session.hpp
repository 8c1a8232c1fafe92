// The router's commands over WebSocket (RFC 6455) at `GET /ws` of an HTTP
// listener: the upgrade's checks and answer, then the session that runs each
// text frame as one command line and answers with a text frame holding the
// JSON of the HTTP mapping. Framing is wslay's (Debian's libwslay); its
// callbacks read from the session's buffer and append to its writer.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "coronet/core/task.hpp"
#include "coronet/runtime/read_buffer.hpp"
#include "protocol/http/http_parser_adapter.hpp"
#include "server/session.hpp"

namespace coronet::detail {

// What the upgrade request asked for.
struct websocket_upgrade {
  // 0: a valid RFC 6455 opening handshake; else the status to answer (400,
  // 403 for another origin, or 426 for a request without `Upgrade: websocket`
  // or another version).
  int status = 0;
  std::string_view error;
  // Sec-WebSocket-Key.
  std::string_view key;
};

// Checks the opening handshake of `m` (RFC 6455, 4.2.1) and its Origin against
// `origins` (http_options::websocket_origins): 403 for a page of another origin.
websocket_upgrade check_websocket_upgrade(const http_message& m, std::span<const std::string> origins) noexcept;

// Sec-WebSocket-Accept for `key`: base64(SHA-1(key + the RFC's GUID)).
std::string websocket_accept(std::string_view key);

// Appends the `101 Switching Protocols` answer to `key`'s handshake.
void append_websocket_switch(std::string_view key, output_buffer& out);

// Appends a refusal of the handshake (`status`, closing); a 426 names the version and
// protocol wanted.
void append_websocket_refusal(const websocket_upgrade& u, output_buffer& out);

// Answers the upgrade request `m`, whose bytes were consumed from `in`: `101` and the
// WebSocket session, or a refusal and the close.
template <class Writer>
task<void> upgrade_to_websocket(session& s, Writer& io, const http_message& m, read_buffer& in);

// Serves the connection as WebSocket once its upgrade was answered: `in` holds what
// followed the upgrade request. Returns when the connection is done (close handshake,
// end of stream, a protocol error, the drain).
template <class Writer>
task<void> serve_websocket(session& s, Writer& io, read_buffer& in);

}  // namespace coronet::detail
