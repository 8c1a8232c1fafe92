// A user's streaming route called by the HTTP session loop: the http_stream it
// writes through (the head, chunked or until-close framing, backpressure, the
// wait that notices a peer that left), and the end of its response. Over any
// writer (TCP or TLS alike).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <string>
#include <system_error>

#include <asio/error.hpp>

#include "coronet/core/error.hpp"
#include "coronet/net/timeout.hpp"
#include "coronet/net/timer.hpp"
#include "coronet/runtime/read_buffer.hpp"
#include "coronet/server/http_stream.hpp"
#include "server/http_route_call.hpp"
#include "server/session_batch.hpp"

namespace coronet::detail {

// One streamed response. The session loop reads nothing while it runs: bytes
// the peer sends meanwhile are read by wait() into `stash` (at most
// `stash_limit` of them), which the loop parses after the response.
template <class Writer>
class stream_response final : public http_stream_io {
public:
  stream_response(session& s, Writer& io, http_connection connection, bool head_only, bool http_1_0,
                  std::string& stash, std::size_t stash_limit) noexcept
      : s_(s),
        io_(io),
        stash_(stash),
        stash_limit_(stash_limit),
        connection_(http_1_0 ? http_connection::close : connection),
        head_only_(head_only),
        chunked_(!http_1_0) {}

  task<bool> send(std::string_view data) override {
    if (!open() || (!started_ && !start()))
      co_return false;
    if (body_done_) {
      io_.flush();
      co_return false;  // HEAD, 204, 304: the head was all
    }
    output_buffer& out = io_.pending();
    if (!data.empty()) {
      if (chunked_) {
        append_hex(data.size(), out);
        out += "\r\n";
        out += data;
        out += "\r\n";
      } else {
        out += data;
      }
    }
    io_.flush();
    s_.core.last_active_ = s_.rt.now;
    if (over_high_water(s_, io_))
      co_await io_.drained_below(low_water(s_));
    co_return open();
  }

  task<bool> wait(std::chrono::milliseconds d) override {
    const auto until = steady::now() + d;
    while (open()) {
      const auto left = until - steady::now();
      if (left <= steady::duration::zero())
        co_return true;
      if (stash_.size() >= stash_limit_) {
        // No room to keep more of the peer's bytes: a plain wait, in slices, so that
        // the drain is seen within a second.
        co_await sleep_for(std::min<steady::duration>(left, std::chrono::seconds(1)));
        continue;
      }
      const std::size_t held = stash_.size();
      const std::size_t room = std::min<std::size_t>(stash_limit_ - held, 4096);
      stash_.resize(held + room);
      std::error_code ec;
      const std::size_t n =
          co_await with_timeout(io_.stream().read_some(asio::buffer(stash_.data() + held, room), ec), left);
      stash_.resize(held + n);
      if (ec == errc::timeout)
        co_return open();
      if (ec) {
        // End of stream, a reset, the drain's shutdown of reading or a forced close:
        // this response ends, and so does the connection after it.
        peer_gone_ = true;
        co_return false;
      }
    }
    co_return false;
  }

  bool open() const noexcept override { return !peer_gone_ && !io_.failed() && !s_.rt.draining; }
  bool started() const noexcept override { return started_; }
  http_response& head() noexcept override { return head_; }

  // The handler returned: the head if it never wrote, then the end of a chunked body.
  void end() {
    if (!started_ && !start())
      return;
    if (chunked_ && !body_done_ && !io_.failed())
      io_.pending() += "0\r\n\r\n";
    body_done_ = true;
  }

  // The connection cannot serve another request after this response: the peer
  // left, or an HTTP/1.0 body ends with the connection.
  bool closes_connection() const noexcept { return peer_gone_ || connection_ == http_connection::close; }

private:
  // Appends the head, or a 500 in its place when it cannot be sent as it is.
  bool start() {
    started_ = true;
    const http_framing framing = chunked_ ? http_framing::chunked : http_framing::until_close;
    if (!append_route_head(head_, connection_, framing, 0, io_.pending())) {
      http_route_log.log(log_level::error, "an HTTP stream's head has a status outside 200-599 or a malformed "
                                           "header: answered 500");
      s_.worker.errors.add();
      append_error_response(500, "internal error", connection_, {}, head_only_, io_.pending());
      body_done_ = true;
      io_.flush();
      return false;
    }
    if (head_.status >= 400)
      s_.worker.errors.add();
    body_done_ = head_only_ || no_content(head_.status);
    return true;
  }

  static void append_hex(std::size_t n, output_buffer& out) {
    char digits[2 * sizeof(std::size_t)];
    std::size_t i = sizeof(digits);
    do {
      digits[--i] = "0123456789abcdef"[n & 0xf];
      n >>= 4;
    } while (n != 0);
    out.append(digits + i, sizeof(digits) - i);
  }

  session& s_;
  Writer& io_;
  std::string& stash_;
  std::size_t stash_limit_;
  http_response head_;
  http_connection connection_;
  bool head_only_;
  bool chunked_;
  bool started_ = false;
  bool body_done_ = false;
  bool peer_gone_ = false;
};

// Moves what the peer sent while a response streamed (its next requests) to the
// end of `in`, to be parsed as if read there.
inline void take_stash(read_buffer& in, std::string& stash) {
  std::string_view left = stash;
  while (!left.empty()) {
    const asio::mutable_buffer room = in.prepare(in.size() + left.size());
    const std::size_t n = std::min(room.size(), left.size());
    std::memcpy(room.data(), left.data(), n);
    in.commit(n);
    left.remove_prefix(n);
  }
  stash.clear();
}

// A user's streaming route: the handler writes its response as it goes; one
// that throws before its head went out is answered 500, after it the
// connection closes with the body cut short.
template <class Writer>
task<void> serve_stream(session& s, Writer& io, const http_message& m, const http_route& route, http_route_state& rs,
                        http_connection connection, std::string& stash, std::size_t stash_limit) {
  http_request req = route_request_of(s, m, rs);
  const bool head_only = m.method == http_method::head;
  io.flush();  // the responses so far go out while the handler runs
  s.enter(session::phase::streaming);
  stream_response<Writer> response(s, io, connection, head_only, m.version_minor == 0, stash, stash_limit);
  http_stream stream(response);
  bool failed = false;
  try {
    co_await route.stream_handler(req, stream);
  } catch (const std::system_error& e) {
    if (e.code() == asio::error::operation_aborted)
      throw;  // the connection is being closed
    route_failure(route, e);
    failed = true;
  } catch (const std::exception& e) {
    route_failure(route, e);
    failed = true;
  }
  s.enter(session::phase::handling);
  if (!failed) {
    response.end();
  } else if (!response.started()) {
    s.worker.errors.add();
    append_error_response(500, "internal error", connection, {}, head_only, io.pending());
  } else {
    s.worker.errors.add();
    s.conn.close_after_reply();
  }
  if (response.closes_connection())
    s.conn.close_after_reply();
}

}  // namespace coronet::detail
