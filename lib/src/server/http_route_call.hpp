// A user's HTTP route called by the HTTP session loop: the request it sees,
// its handler (plain or coroutine, under request_timeout), its response or
// the 500/504 that replaces it. Over any writer (TCP or TLS alike).
//
// Streamed responses (chunked, Server-Sent Events) are http_stream_call.hpp's.
#pragma once

#include <exception>
#include <new>
#include <string>
#include <system_error>

#include <asio/error.hpp>

#include "coronet/core/detail/log_limiter.hpp"
#include "coronet/core/log.hpp"
#include "coronet/core/task.hpp"
#include "coronet/net/timeout.hpp"
#include "server/http_dispatch.hpp"
#include "server/session.hpp"

namespace coronet::detail {

inline log_limiter http_route_log;

// Logs a route handler's exception (at most one line a second).
inline void route_failure(const http_route& route, const std::exception& e) noexcept {
  try {
    std::string msg = "HTTP route ";
    msg += route.method;
    msg += ' ';
    msg += route.pattern;
    msg += " threw: ";
    msg += e.what();
    http_route_log.log(log_level::error, msg);
  } catch (const std::bad_alloc&) {
    http_route_log.log(log_level::error, "an HTTP route threw (out of memory to say more)");
  }
}

// What a user's handler sees of request `m`.
inline http_request route_request_of(session& s, const http_message& m, http_route_state& rs) noexcept {
  http_request req;
  req.method = m.method_name;
  req.path = rs.path.decoded;
  req.raw_query = rs.raw_query;
  req.body = std::string_view(m.body.data(), m.body.size());
  req.params = rs.params;
  req.query = rs.query;
  req.headers = m.headers;
  req.conn = &s.conn;
  return req;
}

// A user's route: its handler runs (a coroutine one under request_timeout) and
// its response is appended; a handler that throws or times out, or a response
// that cannot be sent, is answered with 500 or 504 and the connection goes on.
template <class Writer>
task<void> serve_route(session& s, Writer& io, const http_message& m, const http_route& route, http_route_state& rs,
                       http_connection connection) {
  server_worker& w = s.worker;
  http_request req = route_request_of(s, m, rs);
  const bool head_only = m.method == http_method::head;
  http_response resp;
  int failure = 0;
  s.enter(session::phase::handling);
  try {
    if (route.plain_handler) {
      resp = route.plain_handler(req);
    } else {
      // The responses so far go out while the handler may wait.
      io.flush();
      std::error_code ec;
      const auto limit = w.opts.request_timeout;
      // Two statements: g++ 12 miscompiles co_await in both arms of `?:`.
      if (limit.count() > 0)
        resp = co_await with_timeout(route.handler(req), limit, ec);
      else
        resp = co_await route.handler(req);
      if (ec)
        failure = 504;
    }
  } catch (const std::system_error& e) {
    if (e.code() == asio::error::operation_aborted)
      throw;  // the connection is being closed
    route_failure(route, e);
    failure = 500;
  } catch (const std::exception& e) {
    route_failure(route, e);
    failure = 500;
  }
  output_buffer& out = io.pending();
  if (failure == 0 && !append_route_response(resp, connection, head_only, out)) {
    std::string msg = "HTTP route ";
    msg += route.method;
    msg += ' ';
    msg += route.pattern;
    msg += ": a response with a status outside 200-599 or a malformed header, answered 500";
    http_route_log.log(log_level::error, msg);
    failure = 500;
  }
  if (failure != 0) {
    w.errors.add();
    append_error_response(failure, failure == 504 ? "timeout" : "internal error", connection, {}, head_only, out);
  } else if (resp.status >= 400) {
    w.errors.add();
  }
}

}  // namespace coronet::detail
