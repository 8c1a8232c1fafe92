// The command server's connections: the per-thread state they share and the session
// loops that read, dispatch and answer requests, as a protocol of the stream server
// (server.cpp plugs them in as its connection handler).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <system_error>
#include <type_traits>
#include <vector>

#include <asio/error.hpp>
#include <asio/ssl/error.hpp>

#include "coronet/core/detail/thread_counter.hpp"
#include "coronet/protocol/codec_limits.hpp"
#include "coronet/command/auth_throttle.hpp"
#include "coronet/command/connection.hpp"
#include "coronet/command/router.hpp"
#include "coronet/server/http_routes.hpp"
#include "coronet/server/server.hpp"
#include "coronet/server/stream_server.hpp"
#include "coronet/runtime/background_writer.hpp"
#include "coronet/runtime/read_buffer.hpp"
#include "coronet/core/task.hpp"
#include "command/dispatch.hpp"
#include "server/detail/worker_metrics.hpp"
#include "server/stream_runtime.hpp"

namespace coronet::detail {

class pubsub_hub;

using steady = std::chrono::steady_clock;

// What the command sessions of one worker thread share: limits and counters (the stream
// server's worker of the same index has the connections and the rest).
struct server_worker {
  server_worker(server& s, std::size_t i, auth_throttle& t) : srv(s), opts(s.options()), index(i), throttle(t) {}

  server& srv;
  const server_options& opts;
  std::size_t index;
  // Failed authentications per source address: one for all workers.
  auth_throttle& throttle;
  codec_limits limits{opts.max_request_bytes, opts.max_bulk_bytes, opts.max_args};
  // How many bytes a RESP or line session's read buffer may hold for one request.
  std::size_t request_buffer_limit = opts.max_request_bytes + opts.max_bulk_bytes;
  thread_counter requests;
  thread_counter errors;
  // Per-command calls and latencies, connections per protocol.
  worker_metrics metrics;
  // Requests per second over the last minute (ticked on worker 0 only).
  request_rate rate;
  // HTTP: the user's routes (null: none), then the built-in endpoints, then
  // the router's commands unless this is false.
  const http_routes* user_routes = nullptr;
  bool commands_over_http = true;
  // The server's Pub/Sub hub, which RESP sessions subscribe through.
  pubsub_hub* pubsub = nullptr;
};

// One connection of the command server, on a stream server connection (`core`). It watches
// the handler it runs (handler_watch): a request_timeout deadline cancels one that runs too
// long.
struct session : handler_watch {
  // streaming: a route's handler writes its response as it goes (no idle
  // deadline; the drain stops its reading).
  enum class phase { reading, handling, writing, streaming };

  // The session of connection `c` (socket `fd`) on worker `w`.
  session(server_worker& w, connection_core& c, int fd);
  session(const session&) = delete;
  session& operator=(const session&) = delete;
  ~session();

  void close() noexcept { core.close_transport(); }

  // Sets the protocol the connection is served with, counting it per protocol (until the
  // session ends). Call once.
  void serve_as(wire_protocol p) noexcept {
    conn.protocol = p;
    worker.metrics.opened(p);
    counted = true;
  }

  // Ends the wait for the next request (the read sees end of stream) while replies still
  // being written go on.
  void stop_reading() noexcept { core.stop_reading(); }

  // What the session does now; the idle deadline does not count while it handles.
  void enter(phase p) noexcept {
    state = p;
    core.busy_ = p == phase::handling || p == phase::streaming;
  }

  // Before a read: a request already begun must be complete within the partial request
  // deadline (HTTP: its header timeout), from `partial_since`.
  void watch_partial() noexcept;

  server_worker& worker;
  stream_worker& rt;
  connection_core& core;
  // The server's routes, read once here rather than through worker.srv per request.
  const router& routes;
  // The listener that accepted the connection: its protocol is served.
  const listener_config* where;
  connection conn;
  // When the incomplete request now buffered began (valid while `partial`).
  steady::time_point partial_since;
  bool partial = false;
  // A request was answered; one that never was may be a client about to send its first
  // request (see drain_session).
  bool answered = false;
  // serve_as() counted the connection under conn.protocol.
  bool counted = false;
  phase state = phase::reading;
  // The partial request deadline: HTTP's, or the partial_request_timeout.
  std::chrono::milliseconds partial_timeout{0};
  // What happens when it passes: null closes the connection; HTTP answers 408 first.
  void (*partial_expired)(session&) noexcept = nullptr;
};

// Flushes what is buffered and waits until the kernel has all of it; the stream server then
// closes the connection without a reset.
template <class Writer>
task<void> finish(session& s, Writer& io) {
  io.flush();
  s.enter(session::phase::writing);
  co_await io.drained();
}

// What a read step decided.
enum class after_read { more, finish, end };

// Accounts for a read that completed with `ec` and `n` bytes into `in`.
template <class Writer>
after_read take_read(session& s, Writer& io, read_buffer& in, const std::error_code& ec, std::size_t n) {
  s.core.clear_deadline();
  if (ec == asio::error::eof && !s.rt.draining)
    return after_read::finish;  // the peer is done sending; it may still be reading our replies
  if constexpr (std::is_same_v<Writer, background_writer<tls::stream>>) {
    // A TLS peer that closed without close_notify is done sending too.
    if (ec == asio::ssl::error::stream_truncated && !s.rt.draining)
      return after_read::finish;
  }
  if (ec)
    return s.rt.draining && !io.failed() ? after_read::finish : after_read::end;
  s.rt.bytes_in.add(n);
  in.commit(n);
  return after_read::more;
}

// Closes a connection whose peer sent more than max_query_buffer_bytes of requests while
// its replies were behind; counted as an error, logged at most once a second.
void query_buffer_overflow(session& s) noexcept;

// The HTTP/1.1 loop (http_session.cpp), over TCP or TLS.
template <class Writer>
task<void> serve_http(session& s, Writer& io);

// The command server's connection handler: serves the listener's protocol on `c`.
template <class Stream>
task<void> serve_commands(server_worker& w, stream_connection<Stream>& c);

// The bytes a peer over max_connections gets, in its listener's protocol, encoded by its codec.
std::string reject_text(wire_protocol p);

}  // namespace coronet::detail
