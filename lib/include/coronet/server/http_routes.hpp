// coronet::http_routes: HTTP handlers by method and path pattern, for a server's HTTP listeners.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/command/connection.hpp"
#include "coronet/core/task.hpp"
#include "coronet/protocol/http/http_field.hpp"
#include "coronet/server/http_stream.hpp"

namespace coronet {

/// A request as a route handler sees it. Every view points into the
/// connection's buffers and stays valid until the handler has returned its
/// response (a coroutine handler: until it completes); copy what must live longer.
struct http_request {
  /// The method as sent, e.g. `GET` (a HEAD request served by a GET route says `HEAD`).
  std::string_view method;
  /// The path, percent-decoded, without the query (`/items/a b` for `/items/a%20b?x=1`).
  std::string_view path;
  /// The query string as sent, without the `?` (empty when none).
  std::string_view raw_query;
  /// The body, with any chunked framing removed.
  std::string_view body;
  /// The pattern's parameters, in the pattern's order (`{name}` -> `name`).
  std::span<const http_field> params;
  /// The query's `name=value` pairs in order, `+` and `%XX` decoded (a pair
  /// without `=` has an empty value).
  std::span<const http_field> query;
  /// The header fields in order, values without surrounding blanks.
  std::span<const http_field> headers;
  /// The connection (peer address, id, the server as `owner`).
  const connection* conn = nullptr;

  /// The path parameter `name`; empty if the pattern has none of that name.
  std::string_view param(std::string_view name) const noexcept;
  /// The first query parameter called `name`, or nullopt.
  std::optional<std::string_view> query_value(std::string_view name) const noexcept;
  /// The first header called `name` (compared case-insensitively), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const noexcept;
};

/// A response header a handler sets.
struct http_response_header {
  /// A token, as RFC 9110 defines it: letters, digits and 15 punctuation characters
  /// such as the hyphen, underscore and dot; no spaces, colons or separators.
  std::string name;
  /// No CR, LF or NUL.
  std::string value;
};

/// What a route handler answers. The server adds `Server`, `Date`,
/// `Content-Length` and `Connection`; a HEAD request gets the head alone.
struct http_response {
  /// The status code, 200 to 599; anything else is answered as `500`.
  int status = 200;
  /// The `Content-Type` header (none for 204 and 304).
  std::string content_type = "text/plain; charset=utf-8";
  /// More headers, in order. Ones named Content-Length, Content-Type,
  /// Transfer-Encoding, Connection, Date or Server are ignored (the server
  /// writes those). A name that is not a token, or a value with CR, LF or
  /// NUL, turns the whole response into a `500` (and is logged).
  std::vector<http_response_header> headers{};
  /// The body; ignored for 204 and 304, which have none.
  std::string body{};

  /// A `text/plain; charset=utf-8` response.
  static http_response text(int status, std::string body);
  /// An `application/json` response; `body` must already be JSON.
  static http_response json(int status, std::string body);
  /// Adds a header; returns `*this`, so that calls chain.
  http_response& with_header(std::string name, std::string value);
};

/// A coroutine route handler. It may await anything; while it runs, the
/// connection's next requests wait. `server_options::request_timeout`
/// cancels it (the peer gets `504`); an exception escaping it is logged and
/// the peer gets `500` (the connection stays usable).
using http_handler = std::function<task<http_response>(http_request&)>;

/// A plain-function route handler, for handlers that never wait: called
/// directly, with no coroutine frame. An exception escaping it: `500`, as above.
using plain_http_handler = std::function<http_response(http_request&)>;

/// A streaming route handler: it sets the head of `stream` and writes the body
/// in parts (chunked, or Server-Sent Events) until it returns; see
/// `http_stream`. It may run for as long as the peer stays: neither
/// `server_options::request_timeout` nor the idle timeout applies while it
/// runs, and the connection's next requests wait. An exception escaping it
/// before the head went out is logged and answered `500`; after, it is logged
/// and the connection is closed (the peer sees the body cut short).
using http_stream_handler = std::function<task<void>(http_request&, http_stream&)>;

namespace detail {
// One segment of a route pattern.
struct http_pattern_segment {
  enum class kind { literal, param, rest };
  kind type = kind::literal;
  // The literal text, or the parameter's name.
  std::string text;
};

// One registered route. `builtin` is nonzero for a server's own endpoints
// (the status page, /healthz...), which have no handler.
struct http_route {
  std::string method;
  std::string pattern;
  std::vector<http_pattern_segment> segments;
  // No parameter: the pattern matches a path without escapes equal to it.
  bool literal_only = true;
  http_handler handler;
  plain_http_handler plain_handler;
  http_stream_handler stream_handler;
  int builtin = 0;
};
}  // namespace detail

class http_routes;
namespace detail {
// The table of a server's built-in endpoints (the only caller of add_builtin).
const http_routes& builtin_http_routes();
}  // namespace detail

/// HTTP routes: handlers by method and path pattern. Give them to a server
/// (`server(routes, options)` or `server(router, routes, options)`) whose
/// listeners use `wire_protocol::http`; build them before, they are only read
/// afterwards (from any number of threads) and must outlive the server.
///
/// A pattern is `/` or `/` followed by segments separated by `/`, each one
/// of: literal text (matched exactly, against the percent-decoded segment);
/// `{name}`, which matches any one non-empty segment; and, last only,
/// `{name...}`, which matches the rest of the path, empty or not (decoded
/// and not normalised: it may hold `..` segments and slashes that came as
/// `%2F`, so check it before using it as a file name). Literal text is
/// written decoded: a `%` in a pattern throws. Names are letters, digits and
/// `_`, unique within a pattern. A request matches the
/// most specific pattern: segment by segment, literal before `{name}`
/// before `{name...}`. A GET route serves HEAD too (without body) unless a
/// HEAD route matches.
///
/// A path that no pattern matches gets `404`; one that some pattern matches,
/// but with other methods, gets `405` with `Allow` listing them. A server adds
/// its own endpoints behind yours (a route of yours with the same method and
/// path wins; `Allow` lists the methods of both):
/// `GET /` (status page), `/stats.json`, `/events`, `/healthz`, `/metrics`; and, when it
/// serves a router, the router's commands at `/<command>/<arg>...`
/// (docs/protocols.md). With `server_options::password` set, every request
/// but `/healthz` must authenticate (`Authorization: Basic` as user
/// `default`, or `Bearer <password>`), else `401`.
class http_routes {
public:
  /// Registers `handler` for `method` (a token in upper case, e.g. `GET`,
  /// `PUT`, `DELETE`) and `pattern`. Throws `std::invalid_argument` for a
  /// pattern that is not as described above, a method that is not an
  /// upper-case token, an empty handler, or a method and pattern already
  /// registered (patterns differing only in parameter names are the same).
  http_routes& add(std::string_view method, std::string_view pattern, http_handler handler);

  /// As above, for a plain-function handler. Throws as above.
  http_routes& add(std::string_view method, std::string_view pattern, plain_http_handler handler);

  /// Registers a streaming handler for `method` and `pattern`: its response
  /// is written as it is produced (`http_stream`). Throws as `add`.
  http_routes& stream(std::string_view method, std::string_view pattern, http_stream_handler handler);

  /// Every route, in registration order.
  std::span<const detail::http_route> routes() const noexcept { return routes_; }

private:
  friend const http_routes& detail::builtin_http_routes();
  // A server's built-in endpoint `id` (no handler).
  http_routes& add_builtin(std::string_view method, std::string_view pattern, int id);
  http_routes& add_route(std::string_view method, std::string_view pattern, detail::http_route r);

  std::vector<detail::http_route> routes_;
};

}  // namespace coronet
