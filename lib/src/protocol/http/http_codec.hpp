// The HTTP mapping of the router: request targets and bodies to command
// words, replies to JSON or text/plain, and the response head. Pure functions
// over buffers, shared by the HTTP session, its tests and its fuzz target
// (docs/protocols.md describes the mapping).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/core/output_buffer.hpp"
#include "coronet/protocol/reply.hpp"

namespace coronet::detail {

/// What a request target names.
enum class http_target {
  command,      // /<command>/<arg>...: the words were filled in
  status_page,  // /
  stats_json,   // /stats.json
  events,       // /events
  healthz,      // /healthz
  bad,          // not an origin- or absolute-form target, or a bad %-escape: 400
  metrics,      // /metrics
  websocket,    // /ws
  subscribe,    // /subscribe/<channel>
};

/// Maps `target` (as sent; decoded in place) to its kind; for `command`,
/// `words` gets the command name and the path's arguments, percent-decoded,
/// and `text` is set when the last segment ends with `.txt` (which is
/// removed). The query and fragment are ignored; a single trailing `/` is
/// ignored; empty segments are empty arguments.
http_target map_target(std::span<char> target, std::vector<std::string_view>& words, bool& text);

/// Appends the strings of a JSON array (`["a","b"]`) in `body` to `words`,
/// decoded in place. False (words unchanged beyond their former size) if
/// `body` is not exactly one array of strings.
bool append_json_words(std::span<char> body, std::vector<std::string_view>& words);

/// Appends `s` as a JSON string literal: `"`, `\` and control bytes escaped;
/// valid UTF-8 passes as is, any other byte becomes `\u00XX` (as Latin-1).
void append_json_quoted(std::string_view s, std::string& out);

/// Appends `r` as a JSON value: strings as strings, integers and finite reals
/// as numbers (infinities and NaN as the strings "inf", "-inf", "nan"),
/// booleans, null, arrays and sets as arrays, maps as objects (a key that is
/// not a string becomes its text form), errors as `{"error":"..."}`.
void append_json_value(const reply& r, std::string& out);

/// Appends the body of a JSON reply to command `name`: `{"<name>":<value>}`,
/// or `{"error":"<line>"}` for an error reply.
void append_json_reply(std::string_view name, const reply& r, std::string& out);

/// Appends `r` as text/plain: a string's bytes as they are, a number in
/// decimal, booleans `true`/`false`, null as nothing, an error's line; an
/// aggregate's elements (nested ones flattened) each on a line ending `\n`.
void append_text_reply(const reply& r, std::string& out);

/// The reason phrase of a status code ("OK", "Not Found"...).
std::string_view http_reason(int status) noexcept;

/// How the connection goes on after a response.
enum class http_connection {
  keep_alive,      // HTTP/1.1 default: no Connection header
  keep_alive_1_0,  // an HTTP/1.0 peer that asked for keep-alive: `Connection: keep-alive`
  close,           // `Connection: close`
};

/// A response head.
struct http_head {
  int status = 200;
  std::string_view content_type = "application/json";
  std::size_t content_length = 0;
  // No Content-Length: the body ends when the connection closes (SSE).
  bool until_close = false;
  bool no_store = false;
  // The Allow header's value (405 responses), or empty.
  std::string_view allow;
  http_connection connection = http_connection::keep_alive;
};

/// Appends the status line and headers (Server, Date, Content-Type,
/// Content-Length, ...) and the empty line ending them.
void append_http_head(const http_head& h, output_buffer& out);

/// Appends the whole response to command `name`'s reply `rep`: its status
/// (`head.status`), JSON or, with `text`, text/plain; no body for `head_only`
/// (HEAD) but the same Content-Length. `scratch` holds the body meanwhile.
void append_reply_response(http_head head, std::string_view name, const reply& rep, bool text, bool head_only,
                           std::string& scratch, output_buffer& out);

/// Appends a whole error response that closes the connection: `status`,
/// `Connection: close` and the body `{"error":"ERR <text>"}`; a 405 also
/// gets `Allow: GET, HEAD, POST`.
void append_http_error(int status, std::string_view text, output_buffer& out);

/// The current time as an IMF-fixdate (`Tue, 01 Dec 2026 06:09:06 GMT`),
/// formatted at most once a second per thread.
std::string_view http_date() noexcept;

/// Appends the head of a Server-Sent Events stream that ends with the
/// connection (`text/event-stream`, no length, `Cache-Control: no-store`,
/// `Connection: close`).
void append_event_stream_head(output_buffer& out);

/// True if `s` is well-formed UTF-8 (no overlong forms, surrogates or code
/// points beyond U+10FFFF).
bool valid_utf8(std::string_view s) noexcept;

}  // namespace coronet::detail
