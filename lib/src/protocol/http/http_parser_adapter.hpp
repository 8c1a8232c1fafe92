// The one place that knows the HTTP/1.1 request parser in use (llhttp, the
// parser of Node.js, built from Debian's node-llhttp sources by
// cmake/FindLlhttp.cmake): everything else sees http_request_parser, so the
// parser can be swapped by rewriting this file's .cpp alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "coronet/protocol/http/http_field.hpp"
#include "coronet/protocol/http/http_options.hpp"

namespace coronet::detail {

/// The methods the HTTP mapping tells apart; every other one is `other`.
enum class http_method { get, head, post, other };

/// One complete request, as views into the buffer given to
/// `http_request_parser::parse` (valid until that buffer changes).
struct http_message {
  http_method method = http_method::other;
  // The method as sent (e.g. "PUT"), for error texts.
  std::string_view method_name;
  // The request target as sent (origin form `/a/b?q`, or absolute form);
  // writable, so that percent-decoding can work in place.
  std::span<char> target;
  unsigned version_major = 1;
  unsigned version_minor = 1;
  // The connection stays open after the reply (HTTP/1.1 without
  // `Connection: close`, HTTP/1.0 with `Connection: keep-alive`).
  bool keep_alive = true;
  // An `Accept` header names text/plain (or text/*) and not application/json.
  bool wants_text = false;
  // `Content-Type: application/json`.
  bool json_body = false;
  // The body, chunked framing removed; writable.
  std::span<char> body;
  // The header fields in order (trailers excluded), values trimmed.
  std::span<const http_field> headers;
};

/// What `parse` decided.
struct http_parse_outcome {
  enum class state { incomplete, complete, error };
  state status = state::incomplete;
  // complete: the bytes of the request (the next one starts there).
  std::size_t consumed = 0;
  // error: the status code to answer before closing (400, 405, 413, 414,
  // 417, 431, 501, 505) and the text after `ERR `.
  int http_status = 0;
  std::string_view error;
};

/// Parses one HTTP/1.1 request at a time, incrementally: call `parse` with the
/// bytes buffered from the request's first byte on, again with the same
/// start and more bytes after `incomplete` (the buffer may have moved: only
/// offsets are kept), and `reset()` after `complete` before the next request.
/// Enforces `http_options`' size limits; a chunked body is decoded in place
/// (its bytes are moved toward the front of the buffer). Refuses what RFC 9112
/// calls malformed framing (whitespace before a colon, bad chunk framing,
/// Content-Length with Transfer-Encoding, no or several Host in HTTP/1.1)
/// with 400, CONNECT and `OPTIONS *` with 405, the HTTP/2 preface with 505;
/// an HTTP/1.0 request with Transfer-Encoding is not kept alive. Allocates
/// only for more header fields (`collect_headers`) than earlier requests had.
class http_request_parser {
public:
  explicit http_request_parser(const http_options& limits);
  ~http_request_parser();
  http_request_parser(const http_request_parser&) = delete;
  http_request_parser& operator=(const http_request_parser&) = delete;

  /// Parses on from where the last call stopped. `input` must begin with the
  /// bytes given before, unchanged except where this parser moved them.
  http_parse_outcome parse(std::span<char> input);

  /// The request; valid after `parse` returned `complete`.
  const http_message& message() const noexcept { return message_; }

  /// The header section is complete (the body, if any, may not be).
  bool headers_complete() const noexcept { return headers_done_; }

  /// The header section is complete, the request carries `Expect:
  /// 100-continue` and its body is not: the client waits for `100 Continue`.
  bool expects_continue() const noexcept { return headers_done_ && expect_continue_ && !complete_; }

  /// Some bytes of a request were parsed.
  bool started() const noexcept { return fed_ > 0; }

  /// Whether `http_message::headers` is filled in (the default); without
  /// it, the parser keeps only what it reads itself (cheaper per request).
  void collect_headers(bool on) noexcept { collect_headers_ = on; }

  /// Forgets the request parsed (after `complete`, or to start over).
  void reset() noexcept;

  /// The parser's name and version, for docs and logs ("llhttp 8.1.0 (node-llhttp)").
  static std::string_view implementation() noexcept;

  struct state;  // the parser's own state (private to the .cpp)

private:
  http_parse_outcome fail(int status, std::string_view text) noexcept;

  http_options limits_;
  std::unique_ptr<state> parser_;
  http_message message_;
  // The header fields by offsets from the request's first byte (the buffer
  // may move until the request is complete), then as views for message_;
  // grown at the first requests, then reused.
  struct field_offsets {
    std::size_t name = 0, name_size = 0, value = 0, value_size = 0;
  };
  std::vector<field_offsets> field_offsets_;
  std::vector<http_field> fields_;
  bool collect_headers_ = true;
  std::size_t fed_ = 0;  // bytes of the request given to the parser so far
  bool headers_done_ = false;
  bool expect_continue_ = false;
  bool complete_ = false;
  friend struct http_parser_callbacks;
};

}  // namespace coronet::detail
