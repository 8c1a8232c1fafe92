// What an HTTP request goes to (a route of the user's, a built-in endpoint,
// the router's commands, or an error), whether it may (authentication), and
// the encoding of a route's response. No sockets: the HTTP session loop
// (http_session.cpp) does the I/O, over TCP or TLS alike.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/command/auth_throttle.hpp"
#include "coronet/command/connection.hpp"
#include "coronet/command/router.hpp"
#include "coronet/server/http_routes.hpp"
#include "protocol/http/http_codec.hpp"
#include "protocol/http/http_parser_adapter.hpp"
#include "server/http_route_match.hpp"

namespace coronet::detail {

// A server's own endpoints, as `http_route::builtin` ids. Another built-in
// endpoint is one more value here, one more row in builtin_http_routes() and
// one more case where the HTTP session serves them.
enum builtin_endpoint : int {
  builtin_status_page = 1,  // GET /
  builtin_stats_json,       // GET /stats.json
  builtin_events,           // GET /events (Server-Sent Events; the session streams it)
  builtin_healthz,          // GET /healthz (never behind authentication)
  builtin_metrics,          // GET /metrics (the Prometheus text format)
  builtin_websocket,        // GET /ws (the router's commands over WebSocket; the session switches)
  builtin_subscribe,        // GET /subscribe/{channel} (Pub/Sub as Server-Sent Events)
};

// The built-in endpoints' table, consulted after the user's routes.
const http_routes& builtin_http_routes();

// The per-connection buffers of routing, reused from request to request.
struct http_route_state {
  const http_routes& builtins = builtin_http_routes();
  http_path path;
  std::string_view raw_query;  // the target's query, as sent
  std::string query_text;
  std::vector<http_field> query;
  std::vector<http_field> params;
  std::string allow;     // the Allow value of a 405
  std::string password;  // a Basic credential's decoded bytes
};

// Where a request goes.
struct http_destination {
  enum class kind {
    route,               // `route`, a user's route (or a built-in one: route->builtin != 0)
    commands,            // the router's commands (`/<command>/<arg>...`)
    not_found,           // 404
    method_not_allowed,  // 405, state.allow says what is
    bad_target,          // 400: not a path, or a malformed escape in it
    bad_query,           // 400: a malformed escape in the query
  };
  kind what = kind::not_found;
  const http_route* route = nullptr;
};

// Finds where `m` goes: `user` (may be null) first, then the built-in
// endpoints, then the router's commands when `commands` is set. A user's
// route gets its parameters and decoded query in `state`.
http_destination route_request(const http_message& m, const http_routes* user, bool commands, http_route_state& state);

// The credentials of a request: the password of `Authorization: Basic`
// (for user `default`, anything else is wrong) or `Bearer`.
struct http_credentials {
  bool present = false;  // an Authorization header with a scheme we read
  bool right_user = true;
  std::string_view password;
};
http_credentials request_credentials(const http_message& m, std::string& scratch);

// Checks presented credentials against `conn.password` in constant time; a
// wrong one is counted (`routes.count_auth_failure()`, the
// connection's budget, the throttle's record of `conn.peer`) and logged as
// RESP's AUTH does; reaching the budget closes the connection after the reply.
// Throws std::bad_alloc only.
bool check_credentials(connection& conn, const http_credentials& c, const router& routes);

// `auth` in any case: the command not served over HTTP, where each request
// carries its credentials (`/auth/<password>` would put it in URLs and logs).
bool is_auth_command(std::string_view name) noexcept;

// RFC 9110, 6.4.1: a 204 or 304 response has no content (and a 204 no Content-Length).
constexpr bool no_content(int status) noexcept { return status == 204 || status == 304; }

// How a route's response body is delimited.
enum class http_framing {
  length,       // Content-Length: `length`
  chunked,      // Transfer-Encoding: chunked (a stream over HTTP/1.1)
  until_close,  // neither: the body ends with the connection (a stream to an HTTP/1.0 peer)
};

// Appends a route's response head (status, content type, framing, the
// handler's headers, Connection); false, with nothing appended, when it cannot
// be sent as it is (a bad status or header).
bool append_route_head(const http_response& r, http_connection connection, http_framing framing,
                       std::size_t length, output_buffer& out);

// Appends a route's response: status, the handler's headers, the body
// (none for HEAD, 204, 304). False, with nothing appended, when the response
// cannot be sent as it is (a bad status or header): the caller answers 500.
bool append_route_response(const http_response& r, http_connection connection, bool head_only, output_buffer& out);

// Appends a JSON error response `{"error":"ERR <text>"}` with `status`; `allow`
// for a 405; a 401 gets `WWW-Authenticate: Basic realm="coronet"`.
void append_error_response(int status, std::string_view text, http_connection connection, std::string_view allow,
                           bool head_only, output_buffer& out);

}  // namespace coronet::detail
