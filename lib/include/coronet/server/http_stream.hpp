// coronet::http_stream: the response of a streaming HTTP route, written as it is produced.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "coronet/core/task.hpp"

namespace coronet {

struct http_response;

namespace detail {
// The connection's side of a stream: implemented by the server's HTTP session,
// over TCP or TLS.
class http_stream_io {
public:
  // Sends the head if it has not gone out, then `data` as the next part of the
  // body (none if empty). False once the response cannot go on.
  virtual task<bool> send(std::string_view data) = 0;
  // Waits up to `d`; false as soon as the response cannot go on.
  virtual task<bool> wait(std::chrono::milliseconds d) = 0;
  // True while the response can go on.
  virtual bool open() const noexcept = 0;
  // True once the head went out.
  virtual bool started() const noexcept = 0;
  // The status, content type and headers the head will carry.
  virtual http_response& head() noexcept = 0;

protected:
  ~http_stream_io() = default;
};
}  // namespace detail

/// The response of a streaming route (`http_routes::stream`): the handler sets
/// its head, then sends the body in parts as it produces them, with `write`
/// or, for Server-Sent Events, `send_event`. The head goes out with the first
/// part, and the response ends when the handler returns.
///
/// Over HTTP/1.1 the body is chunked (`Transfer-Encoding: chunked`) and the
/// connection serves the next request afterwards; an HTTP/1.0 peer gets a body
/// that ends when the connection closes. A HEAD request gets the head alone:
/// the first part sends it and returns false, so the handler ends there.
///
/// Every call returns false once the response cannot go on: the peer closed or
/// reset the connection, the server is draining or stopping, or the output
/// failed. A handler ends when it sees false; what it writes afterwards is
/// dropped. A peer that reads slower than the handler writes holds `write`
/// (while more than half of `server_options::max_output_bytes` waits to be
/// sent), and one that reads nothing for `output_stall_timeout` is closed.
///
/// Used by the handler it is given to, on the connection's thread, until the
/// handler returns.
class http_stream {
public:
  /// The stream of the server's HTTP session `io` (the server makes these).
  explicit http_stream(detail::http_stream_io& io) noexcept : io_(io) {}
  http_stream(const http_stream&) = delete;
  http_stream& operator=(const http_stream&) = delete;

  /// The head's status, content type and headers (the body is ignored), as
  /// `http_response` describes them; the default is `200` with
  /// `text/plain; charset=utf-8`. Change it before the first part only:
  /// changes afterwards are ignored. A head that cannot be sent (a status
  /// outside 200-599, a malformed header) is answered `500` instead, and the
  /// first part returns false. A status of 204 or 304 sends the head alone.
  http_response& head() noexcept { return io_.head(); }

  /// True once the head was sent.
  bool started() const noexcept { return io_.started(); }

  /// True while the response can go on (see the class).
  bool open() const noexcept { return io_.open(); }

  /// Sends `data` as the next part of the body (the head first, if not sent
  /// yet); an empty `data` only sends the head. Resumes once the output is
  /// below the server's high-water mark. Returns false, sending nothing, once
  /// the response cannot go on. Throws `std::bad_alloc` only.
  task<bool> write(std::string_view data);

  /// Sends one Server-Sent Event (the WHATWG HTML standard's
  /// `text/event-stream` format): each line of `data` (split at CR LF, LF or
  /// CR) as a `data:` field, then `event:` and `id:` fields when not empty, and
  /// the empty line that ends the event. The first event also sets the head's
  /// content type to `text/event-stream` and adds `Cache-Control: no-store`,
  /// unless the head was already sent. Returns as `write` does. Throws
  /// `std::invalid_argument` if `event` or `id` holds CR or LF (or `id` a NUL),
  /// before sending anything, and `std::bad_alloc`.
  task<bool> send_event(std::string_view data, std::string_view event = {}, std::string_view id = {});

  /// Waits for `d`, returning true then; returns false as soon as the response
  /// cannot go on (the peer closed, the server drains), so that a handler
  /// waiting between events notices a peer that left. Bytes the peer sends
  /// meanwhile (its next request) are kept for after the response. Never
  /// throws but `std::bad_alloc`.
  task<bool> wait_for(std::chrono::milliseconds d) { return io_.wait(d); }

private:
  detail::http_stream_io& io_;
  // The event being formatted (its capacity is kept from event to event).
  std::string event_;
};

}  // namespace coronet
