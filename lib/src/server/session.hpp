// A server's connections: the per-thread state they share and the session
// loop that reads, dispatches and answers requests (private to server.cpp).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "coronet/core/detail/thread_counter.hpp"
#include "coronet/protocol/codec_limits.hpp"
#include "coronet/command/connection.hpp"
#include "coronet/command/router.hpp"
#include "coronet/server/server.hpp"
#include "coronet/net/acceptor.hpp"
#include "coronet/runtime/background_writer.hpp"
#include "coronet/runtime/read_buffer.hpp"
#include "coronet/tls/stream.hpp"
#include "coronet/net/timer.hpp"
#include "coronet/core/task.hpp"
#include "coronet/core/task_group.hpp"
#include "server/detail/dispatch.hpp"
#include "server/detail/worker_metrics.hpp"
#include "server/proxy_prelude.hpp"

namespace coronet::detail {

using steady = std::chrono::steady_clock;

struct session;
class server_tls;

// The error handler of server::spawn's tasks: cancellation by the drain
// (operation_aborted) is how they are meant to end; anything else is reported
// as for any detached task.
void report_background_failure(std::exception_ptr e);

// What one server thread knows: its acceptor, its connections (for idle
// sweeps and draining) and its counters. Used only from that thread, except
// the counters, which any thread reads.
struct server_worker {
  server_worker(server& s, asio::io_context& ctx, std::size_t i) : srv(s), opts(s.options()), index(i) {
    sweep_timer.emplace(ctx);
    background.emplace(ctx.get_executor(), &report_background_failure);
  }

  server& srv;
  const server_options& opts;
  // This worker's position in the pool (server::current_worker()).
  std::size_t index;
  codec_limits limits{opts.max_request_bytes, opts.max_bulk_bytes, opts.max_args};
  // Who may send a PROXY header (server_options::proxy_trusted).
  std::vector<address_prefix> proxy_trusted = parse_trusted_proxies(opts.proxy_trusted);
  // One acceptor per listener, in server::listener(i) order.
  std::vector<tcp::acceptor> acceptors;
  // Wakes the sweeper; it ends once draining leaves no connection.
  std::optional<timer> sweep_timer;
  // server::spawn's tasks on this worker: cancelled when the drain begins,
  // awaited (up to the drain deadline) through a task in the pool's group.
  std::optional<task_group> background;
  // The server's TLS certificate; null when no listener serves TLS.
  server_tls* tls = nullptr;
  session* head = nullptr;
  steady::time_point now = steady::now();
  bool draining = false;
  thread_counter connections_total;
  thread_counter connections_rejected;
  thread_counter requests;
  thread_counter errors;
  thread_counter handshakes_timed_out;
  thread_counter proxy_header_errors;
  thread_counter bytes_in;
  thread_counter bytes_out;
  // Per-command calls and latencies, connections per protocol.
  worker_metrics metrics;
  // Requests per second over the last minute (ticked on worker 0 only).
  request_rate rate;
};

// One connection. It watches the handler it runs (handler_watch): the sweeper
// cancels one that runs past request_timeout.
struct session : handler_watch {
  // `handshake`: an opening step before the first request (a TLS handshake,
  // a PROXY header), bounded by handshake_timeout from `handshake_since`.
  enum class phase { handshake, reading, handling, writing };

  // `id` becomes conn.id: unique per server, from 1 up; `listener` is the
  // index of the listener that accepted it.
  session(server_worker& w, tcp::socket s, std::uint64_t id, std::size_t listener);
  session(const session&) = delete;
  session& operator=(const session&) = delete;
  ~session();

  void close() noexcept {
    if (tls_io != nullptr)
      tls_io->close();
    else
      io->close();
  }

  // Sets the protocol the connection is served with, counting it per
  // protocol (until the session ends). Call once.
  void serve_as(wire_protocol p) noexcept {
    conn.protocol = p;
    worker.metrics.opened(p);
    counted = true;
  }

  // Ends the wait for the next request (the read sees end of stream) while
  // replies still being written go on.
  void stop_reading() noexcept {
    std::error_code ignored;
    if (tls_io != nullptr)
      tls_io->stream().lowest_layer().shutdown(asio::socket_base::shutdown_receive, ignored);
    else
      io->stream().shutdown(asio::socket_base::shutdown_receive, ignored);
  }

  // The TCP socket, beneath TLS for a TLS connection (for the PROXY header,
  // which comes before the TLS handshake).
  tcp::asio_socket& socket() noexcept {
    return tls_io != nullptr ? tls_io->stream().lowest_layer() : io->stream().native();
  }

  // The writer's counters, whichever transport it is (for the sweeper).
  std::size_t buffered() const noexcept { return tls_io != nullptr ? tls_io->buffered() : io->buffered(); }
  std::uint64_t written() const noexcept { return tls_io != nullptr ? tls_io->written() : io->written(); }

  server_worker& worker;
  // The listener that accepted the connection: its protocol is served.
  const listener_config* where;
  // The connection's output: `io` for plain TCP, `tls_io` (and `io` null)
  // for TLS; the session loop is a template over the two.
  writer_ptr<tcp::socket> io;
  writer_ptr<tls::stream> tls_io;
  // What `tls_io`'s stream was made with: the certificate at accept time.
  std::shared_ptr<asio::ssl::context> tls_context;
  connection conn;
  session* prev = nullptr;
  session* next = nullptr;
  steady::time_point last_active;
  steady::time_point handler_started;
  // When the opening handshake began (valid in phase::handshake).
  steady::time_point handshake_since;
  // When the incomplete request now buffered began (valid while `partial`).
  steady::time_point partial_since;
  bool partial = false;
  // A request was answered; one that never was may be a client about to send
  // its first request (see detail::stop_fresh_after).
  bool answered = false;
  // The sweeper's view of the output: io->written() when it last moved, and
  // since when it has not (output_stall_timeout).
  std::uint64_t seen_written = 0;
  steady::time_point output_since;
  bool output_watched = false;
  // serve_as() counted the connection under conn.protocol.
  bool counted = false;
  phase state = phase::reading;
  // What the sweeper does when the partial request's deadline passes: null
  // closes the connection; HTTP answers 408 first (http_session.cpp).
  void (*partial_expired)(session&) noexcept = nullptr;
};

// Sends what is buffered, waits until the kernel has all of it, then closes
// without a reset (see tcp::lingering_close).
task<void> finish(session& s);

// What a read step decided.
enum class after_read { more, finish, end };

// Accounts for a read that completed with `ec` and `n` bytes into `in`.
after_read take_read(session& s, read_buffer& in, const std::error_code& ec, std::size_t n);

// The HTTP/1.1 loop (http_session.cpp).
task<void> serve_http(session& s);

// Serves one accepted connection until it ends; the connection was already
// counted in connections_now, which this uncounts at the end. `id` is its
// connection::id, `listener` the index of the listener that accepted it.
task<void> run_session(server_worker& w, std::atomic<std::uint64_t>& connections_now, tcp::socket sock,
                       std::uint64_t id, std::size_t listener);

// Tells a connection over max_connections so, in the protocol of the listener
// that accepted it, then closes it.
task<void> reject_connection(server_worker& w, tcp::socket sock, std::size_t listener);

}  // namespace coronet::detail
