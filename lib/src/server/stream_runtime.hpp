// The stream server's runtime (private): per-worker state, the shared output handle behind
// stream_writer, and the pieces stream_server*.cpp share.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio/io_context.hpp>

#include "coronet/core/detail/log_limiter.hpp"
#include "coronet/core/detail/thread_counter.hpp"
#include "coronet/core/task.hpp"
#include "coronet/core/task_group.hpp"
#include "coronet/net/acceptor.hpp"
#include "coronet/net/timer.hpp"
#include "coronet/protocol/proxy/proxy_header.hpp"
#include "coronet/server/stream_server.hpp"
#include "coronet/tls/stream.hpp"

namespace coronet::detail {

// The TCP socket under a connection's stream: its descriptor and addresses.
inline tcp::asio_socket& lowest(tcp::socket& s) noexcept { return s.native(); }
inline tcp::asio_socket& lowest(tls::stream& s) noexcept { return s.lowest_layer(); }

class worker_pool;
class server_tls;
class agent_check;
class stream_runtime;

// The control block of a connection's stream_writer handles. The connection holds one
// reference until it ends; `conn` is used on the connection's worker only and is null once
// `closed` is set (on that worker).
struct output_handle {
  std::atomic<unsigned> refs{1};
  std::atomic<bool> closed{false};
  connection_core* conn = nullptr;
  const stream_worker* worker = nullptr;
  asio::io_context* ctx = nullptr;
  std::uint64_t id = 0;

  void add_ref() noexcept { refs.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1)
      delete this;
  }
};

// What one worker thread knows: its acceptors, its connections (for the sweeper and the
// drain) and its counters. Used from that thread only, except the counters.
struct stream_worker {
  stream_worker(stream_runtime& r, asio::io_context& c, std::size_t i);

  stream_runtime& rt;
  const stream_server_options& opts;
  std::size_t index;
  asio::io_context& ctx;
  // The worker's io_uring ring when the server runs backend io_uring: its plain connections'
  // reads and writes go there.
  uring::service* ring = nullptr;
  std::vector<address_prefix> proxy_trusted;
  // One per listener, in stream_server::listener(i) order.
  std::vector<tcp::acceptor> acceptors;
  std::optional<timer> sweep_timer;
  // stream_server::spawn's tasks on this worker.
  std::optional<task_group> background;
  connection_core* head = nullptr;
  std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now();
  bool draining = false;
  thread_counter connections_total;
  thread_counter connections_rejected;
  thread_counter errors;
  thread_counter handshakes_timed_out;
  thread_counter proxy_header_errors;
  thread_counter bytes_in;
  thread_counter bytes_out;
  thread_counter proxy_health_checks;
};

// Everything behind a stream_server.
class stream_runtime {
public:
  stream_runtime(stream_server& owner, stream_server_options options, stream_server::handlers h);
  ~stream_runtime();

  int run();
  void stop() noexcept;
  // Stops every worker at once and waits for a run() on another thread to return; the
  // io_contexts and what they hold stay until the runtime goes. For an owner that must
  // destroy state the workers use first (server's Pub/Sub backplane). Idempotent.
  void halt() noexcept;
  bool draining() const noexcept;
  void spawn(task<void> t);
  stream_server_stats stats() const noexcept;

  stream_server& owner;
  stream_server_options options;
  stream_server::handlers handlers;
  // Listener 0 is host:port, then options.listeners, with their bound ports.
  std::vector<stream_listener_config> listeners;
  std::chrono::steady_clock::time_point started;
  std::unique_ptr<worker_pool> pool;
  std::unique_ptr<server_tls> tls;
  std::vector<std::unique_ptr<stream_worker>> workers;
  std::atomic<std::uint64_t> connections_now{0};
  std::atomic<std::uint64_t> next_id{0};
  std::function<void()> on_stop;
  std::function<std::string(std::size_t)> on_reject;
  std::atomic<bool> stop_announced{false};
  std::atomic<bool> maintenance{false};
  std::unique_ptr<agent_check> agent;
  // How often the sweeper looks; 0: no sweeper (no deadline configured, no TLS, no PROXY).
  std::chrono::milliseconds tick{0};
  // The log lines a peer can cause at will, once a second per server; the sweepers flush
  // the counts of the ones suppressed when the second is over.
  log_limiter tls_handshake_log{"stream_server: TLS handshake failed"};
  log_limiter proxy_log{"stream_server: closing connections over their PROXY header"};

private:
  task<void> serve_worker(std::size_t index);
  task<void> accept_connections(stream_worker& w, std::size_t listener);
  void take_connection(stream_worker& w, std::size_t listener, tcp::socket sock);
  void begin_drain(std::size_t index) noexcept;
  void force_close(std::size_t index) noexcept;
};

// The backend a server asking for `requested` runs: epoll or io_uring (see io_backend; throws
// std::system_error when io_uring is asked for and unusable).
io_backend resolve_io_backend(io_backend requested);

// The error handler of spawned background tasks (defined in session.cpp): the drain's
// cancellation is how they are meant to end.
void report_background_failure(std::exception_ptr e);

// The worker whose thread this is; null off the workers.
const stream_worker* current_stream_worker() noexcept;
void set_current_stream_worker(const stream_worker* w) noexcept;

// Serves one accepted connection with the listener's handler until it ends; the connection
// is counted in connections_now, which this uncounts at the end.
task<void> run_stream_connection(stream_worker& w, tcp::socket sock, std::uint64_t id, std::size_t listener);

// Sends on_reject's bytes to a connection over max_connections, then closes it.
task<void> reject_stream_connection(stream_worker& w, tcp::socket sock, std::size_t listener);

// Closes connections past handshake_timeout, idle_timeout or output_stall_timeout, and runs
// the protocol deadlines connections set; ends once the worker drains and has no connection.
task<void> sweep_connections(stream_worker& w);

// With reuse_port, connections taken over during the drain get `grace` to be served before
// their reading is stopped.
task<void> stop_fresh_connections(stream_worker& w, std::chrono::milliseconds grace);

// TCP_NODELAY (when `nodelay`) and SO_KEEPALIVE as Redis's anetKeepAlive sets it: first probe
// after `keepalive` (0: off), then every third of it, 3 probes. Best effort: a socket that
// refuses is served without them.
void set_socket_options(tcp::socket& sock, std::chrono::seconds keepalive, bool nodelay) noexcept;

// TLS's close_notify (a peer that does not answer within `linger` is not waited for), then
// the close.
task<void> tls_close_notify(tls::stream& s, std::chrono::milliseconds linger);

// Tells `c` of the drain (its protocol's on_drain_, or the stream default); true while it is
// still to be served.
bool take_drain(connection_core& c, bool late, bool grace_over) noexcept;

// Stops the reading of `c` for the drain: its handler's reads end with operation_aborted.
inline void stop_reading_for_drain(connection_core& c) noexcept {
  c.read_stopped_ = true;
  c.stop_reading();
}

}  // namespace coronet::detail
