// coronet::stream_server: runs a coroutine per accepted TCP or TLS connection, with the whole server runtime
// (threads, listeners, limits, timeouts, PROXY, drain, signals) under it.
#pragma once

#include <any>
#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "coronet/core/task.hpp"
#include "coronet/net/socket.hpp"
#include "coronet/protocol/proxy/proxy_header.hpp"
#include "coronet/tls/context.hpp"
#include "coronet/tls/stream.hpp"

namespace coronet {
namespace tcp {
class background_writer;
}
namespace tls {
class background_writer;
}

class stream_server;
template <class Stream>
class stream_connection;

/// One more address a stream server listens on, beside `stream_server_options::host:port`.
struct stream_listener_config {
  /// Numeric IPv4 or IPv6 address; empty means `stream_server_options::host`.
  std::string host{};
  /// Port; 0 picks a free one (see `stream_server::port(i)`).
  std::uint16_t port = 0;
  /// Serves TLS with `stream_server_options::tls`'s certificate: its connections reach the
  /// handler as `stream_connection<tls::stream>` once the TLS handshake is done.
  bool tls = false;
};

/// Everything a stream server can be told, with its defaults. The same fields as
/// `server_options` mean the same thing.
struct stream_server_options {
  /// Address of listener 0 (a numeric IPv4 or IPv6 address).
  std::string host = "127.0.0.1";
  /// Port of listener 0; 0 picks a free one (see `stream_server::port()`).
  std::uint16_t port = 0;
  /// More addresses to listen on: listener 1 is `listeners[0]`, and so on.
  std::vector<stream_listener_config> listeners{};
  /// Threads, each with its own io_context and acceptors; 0 = one per hardware thread. A
  /// connection stays on the thread that accepted it, and so does its handler.
  unsigned threads = 1;
  /// SO_REUSEPORT on every listening socket, so that a new process can take the ports over
  /// while this one drains (see docs/deploy.md). Set anyway with more than one thread.
  bool reuse_port = false;
  /// Certificate, key, client CA and key password of the TLS listeners; loaded by the
  /// constructor (which throws `std::system_error` naming a file that is missing or wrong).
  tls::server_config tls{};
  /// Every listener serves TLS, listener 0 included.
  bool tls_only = false;
  /// Connections open at once over all listeners and threads. Beyond, the new peer gets
  /// `on_reject`'s bytes (plain listeners only) and is closed.
  std::size_t max_connections = 10000;
  /// A connection from whose peer no byte was read, and which took none of its pending
  /// output, for this long is closed (the handler's read ends with an error). 0 = never.
  std::chrono::milliseconds idle_timeout{0};
  /// A connection still in its opening handshake (PROXY header, TLS handshake) after this
  /// long is closed before the handler sees it; counted in `handshakes_timed_out`. 0 = no limit.
  std::chrono::milliseconds handshake_timeout = std::chrono::seconds(10);
  /// SO_KEEPALIVE with the first probe after this long (then every third of it, 3 probes).
  /// 0 = off.
  std::chrono::seconds tcp_keepalive = std::chrono::seconds(300);
  /// TCP_NODELAY on every accepted socket: small writes go out at once instead of waiting
  /// for the peer's delayed ACK.
  bool tcp_nodelay = true;
  /// Output buffered for one connection (not yet taken by the kernel). A `send()` that would
  /// buffer more closes that connection (logged at most once a second); `write()` waits
  /// while more than half of it is buffered.
  std::size_t max_output_bytes = 16 * 1024 * 1024;
  /// A connection with pending output whose peer takes none of it for this long is closed
  /// (logged at most once a second). 0 = never.
  std::chrono::milliseconds output_stall_timeout = std::chrono::seconds(30);
  /// On `stop()` / the first signal: handlers get this long to return and their output to
  /// be flushed; then every connection is closed and the handlers cancelled.
  std::chrono::milliseconds drain_timeout = std::chrono::seconds(10);
  /// Pause of accepting after EMFILE/ENFILE/ENOBUFS/ENOMEM (logged at most once a second).
  std::chrono::milliseconds accept_backoff = std::chrono::milliseconds(100);
  /// `listen()` backlog.
  int backlog = 1024;
  /// `run()` handles SIGINT/SIGTERM (the first drains, a second makes `run()` return 1 at
  /// once) and SIGHUP (`reload_tls()`).
  bool handle_signals = false;
  /// Logs each connection's open and close at `info` level.
  bool log_connections = false;
  /// PROXY protocol header expected before anything else from peers in `proxy_trusted`;
  /// `stream_connection::peer()`/`local()` are then the addresses it names. As
  /// `server_options::proxy_protocol`.
  proxy_protocol_mode proxy_protocol = proxy_protocol_mode::off;
  /// Peers allowed to send a PROXY header (addresses or address/prefix-length). An entry
  /// that does not parse makes the constructor throw `std::invalid_argument`.
  std::vector<std::string> proxy_trusted{"127.0.0.0/8", "::1"};
  /// Port of an HAProxy agent-check listener on `host` (0 picks one; empty: none). Answers
  /// `up ready`, `drain` or `maint` (see `server_options::agent_port`).
  std::optional<std::uint16_t> agent_port{};
};

/// Counters of a stream server, summed over its threads.
struct stream_server_stats {
  /// Connections open now.
  std::uint64_t connections_now = 0;
  /// Connections accepted since start (rejected ones included).
  std::uint64_t connections_total = 0;
  /// Connections refused because `max_connections` was reached.
  std::uint64_t connections_rejected = 0;
  /// Connections closed because their handshake (TLS, PROXY) passed `handshake_timeout`.
  std::uint64_t handshakes_timed_out = 0;
  /// Connections closed over their PROXY header (malformed, untrusted, late...).
  std::uint64_t proxy_header_errors = 0;
  /// Connections closed by the server: output over `max_output_bytes`, output stalled, or
  /// a handler that threw.
  std::uint64_t errors = 0;
  /// Bytes read by handlers.
  std::uint64_t bytes_in = 0;
  /// Bytes taken by the kernel (plaintext bytes for TLS).
  std::uint64_t bytes_out = 0;
  /// Time since the server was constructed.
  std::chrono::steady_clock::duration uptime{};
  /// True once the drain began.
  bool draining = false;
  /// True while `set_maintenance(true)` holds.
  bool maintenance = false;
};

namespace detail {

struct stream_worker;
class stream_runtime;
struct output_handle;

/// What a connection's transport does for the runtime (the sweeper, the drain, a
/// `stream_writer` on another connection); implemented by `stream_connection<Stream>`.
/// None of it is on a handler's read/write path.
class connection_core {
public:
  connection_core(const connection_core&) = delete;
  connection_core& operator=(const connection_core&) = delete;

  /// Output bytes not yet taken by the kernel.
  virtual std::size_t buffered() const noexcept = 0;
  /// Output bytes taken by the kernel so far.
  virtual std::uint64_t written() const noexcept = 0;
  /// Closes the socket: pending operations end with an error.
  virtual void close_transport() noexcept = 0;
  /// Shuts down receiving: a pending read ends, later ones end at once.
  virtual void stop_reading() noexcept = 0;
  /// Appends `bytes` to the output and flushes; false (and the connection closed when over
  /// max_output_bytes) when it cannot.
  virtual bool queue(std::string_view bytes) = 0;
  /// Sends what a protocol appended to the writer's pending output.
  virtual void flush_output() noexcept = 0;

  /// Called by the sweeper, at most once per `set_deadline`, when `when` has passed. A
  /// protocol's own deadline (a request timeout, an HTTP header timeout).
  using deadline_callback = void (*)(connection_core&) noexcept;
  /// Arms the protocol deadline (replacing the one before); `f` null closes the connection.
  void set_deadline(std::chrono::steady_clock::time_point when, deadline_callback f) noexcept {
    deadline_ = when;
    deadline_expired_ = f;
    deadline_armed_ = true;
  }
  /// Disarms the protocol deadline.
  void clear_deadline() noexcept { deadline_armed_ = false; }

  /// How a protocol's connection takes the drain: called when the drain begins (`late`
  /// false) and, with reuse_port, every 50 ms afterwards (`late` true; `grace_over` once the
  /// connection is 200 ms old) until it returns false. Returns true while the connection is
  /// still to be served (its reading goes on). Null: reading stops at once, except for a
  /// connection accepted during a reuse_port hand-off, which gets the 200 ms first.
  using drain_callback = bool (*)(connection_core&, bool late, bool grace_over) noexcept;

  // Runtime state (used by the library's .cpp files; not an API).
  stream_worker* worker_ = nullptr;
  stream_server* server_ = nullptr;
  std::uint64_t id_ = 0;
  std::size_t listener_ = 0;
  tcp::endpoint peer_{};
  tcp::endpoint local_{};
  std::any user_state_{};
  std::vector<std::function<void()>> on_close_{};
  output_handle* handle_ = nullptr;
  connection_core* prev_ = nullptr;
  connection_core* next_ = nullptr;
  std::chrono::steady_clock::time_point last_active_{};
  std::chrono::steady_clock::time_point handshake_since_{};
  std::chrono::steady_clock::time_point output_since_{};
  std::chrono::steady_clock::time_point deadline_{};
  deadline_callback deadline_expired_ = nullptr;
  drain_callback on_drain_ = nullptr;
  // The protocol's per-connection object, for its callbacks.
  void* protocol_ = nullptr;
  std::chrono::steady_clock::time_point created_{};
  // idle_timeout of this connection (a protocol may set its own); not checked while busy_.
  std::chrono::milliseconds idle_timeout_{0};
  bool busy_ = false;
  // The drain is done with this connection (on_drain_ returned false).
  bool drain_settled_ = false;
  std::uint64_t seen_written_ = 0;
  bool deadline_armed_ = false;
  bool output_watched_ = false;
  bool in_handshake_ = false;
  // The drain shut the reading down: reads end with operation_aborted.
  bool read_stopped_ = false;
  // Accepted while a reuse_port drain hands the port over: read-stopped a little later.
  bool fresh_ = false;
  bool closed_ = false;

  // Counts a completed read (activity for idle_timeout) and maps its error.
  void note_read(std::size_t n, std::error_code& ec) noexcept;

protected:
  connection_core() = default;
  ~connection_core() = default;
};

/// The background writer of a stream type.
template <class Stream>
struct writer_of;
/// Plain TCP's.
template <>
struct writer_of<tcp::socket> {
  /// See runtime/background_writer.hpp.
  using type = tcp::background_writer;
};
/// TLS's.
template <>
struct writer_of<tls::stream> {
  /// See runtime/tls_background_writer.hpp.
  using type = tls::background_writer;
};

/// A read on a connection: the stream's own read, counted as activity, with the drain's end
/// of reading reported as `operation_aborted`.
template <class Op>
class connection_read {
public:
  template <class Stream>
  connection_read(Stream& s, asio::mutable_buffer b, connection_core& c, std::error_code* ec) noexcept
      : op_(s.read_some(b, own_)), core_(c), ec_(ec) {}
  connection_read(const connection_read&) = delete;
  connection_read& operator=(const connection_read&) = delete;
  /// Always suspends (as the stream's read).
  bool await_ready() const noexcept { return op_.await_ready(); }
  /// Starts the read.
  template <class Promise>
  decltype(auto) await_suspend(std::coroutine_handle<Promise> h) {
    return op_.await_suspend(h);
  }
  /// Bytes read; throws `std::system_error` on an error unless the `error_code&` form was used.
  std::size_t await_resume() {
    const std::size_t n = op_.await_resume();
    core_.note_read(n, own_);
    if (ec_ != nullptr) {
      *ec_ = own_;
      return n;
    }
    if (own_)
      throw std::system_error(own_);
    return n;
  }

private:
  std::error_code own_{};
  Op op_;
  connection_core& core_;
  std::error_code* ec_;
};

}  // namespace detail

/// A shareable handle to one connection's output. Copyable; the library counts the copies
/// (atomically), so any thread may hold and use one; the bytes are written on the
/// connection's own worker thread. A handle outlives its connection safely (sending then
/// returns false) but must not be used once the server is destroyed.
class stream_writer {
public:
  /// An empty handle: `send` returns false.
  stream_writer() = default;
  /// Another handle to the same connection.
  stream_writer(const stream_writer& other) noexcept;
  /// Takes over `other`'s handle; `other` becomes empty.
  stream_writer(stream_writer&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
  /// Refers to `other`'s connection.
  stream_writer& operator=(stream_writer other) noexcept {
    std::swap(h_, other.h_);
    return *this;
  }
  /// Drops this handle.
  ~stream_writer();

  /// Copies `bytes` into the connection's output. On the connection's own worker the bytes
  /// are queued at once; from another thread they are posted to that worker. False when the
  /// connection is closed (or the handle empty), or when the bytes would make its output
  /// exceed `max_output_bytes`: that closes the connection (logged at most once a second).
  /// From another thread, the limit is checked on the worker, so true only means "queued".
  /// Throws `std::bad_alloc`.
  bool send(std::string_view bytes) const;
  /// Closes the connection (its handler's reads and writes end with errors). Thread-safe.
  void close() const;
  /// True once the connection ended (or the handle is empty).
  bool closed() const noexcept;
  /// The connection's id (0 for an empty handle).
  std::uint64_t id() const noexcept;
  /// True when the handle refers to a connection (open or not).
  explicit operator bool() const noexcept { return h_ != nullptr; }

private:
  friend class detail::stream_runtime;
  template <class>
  friend class stream_connection;
  explicit stream_writer(detail::output_handle* h) noexcept : h_(h) {}
  detail::output_handle* h_ = nullptr;
};

/// One accepted connection, as the handler sees it; `Stream` is `tcp::socket` or
/// `tls::stream`. Lives until the handler's task ends (then pending output is flushed and
/// the connection closed); use it only from the handler's worker thread (see `writer()` for
/// other threads).
template <class Stream>
class stream_connection final : public detail::connection_core {
public:
  /// The awaitable of `read_some`.
  using read_awaitable = detail::connection_read<decltype(std::declval<Stream&>().read_some(
      std::declval<asio::mutable_buffer>(), std::declval<std::error_code&>()))>;

  /// Reads some bytes into `b`. Throws `std::system_error`: `asio::error::eof` once the
  /// peer closed (for TLS also `asio::ssl::error::stream_truncated`), `operation_aborted`
  /// when the server drains or the connection was closed (return then).
  [[nodiscard]] read_awaitable read_some(asio::mutable_buffer b) noexcept { return {stream(), b, *this, nullptr}; }
  /// As `read_some(b)`, reporting errors in `ec` instead (0 bytes then).
  [[nodiscard]] read_awaitable read_some(asio::mutable_buffer b, std::error_code& ec) noexcept {
    return {stream(), b, *this, &ec};
  }

  /// Queues `bytes` for the peer without suspending (see `stream_writer::send`).
  bool send(std::string_view bytes) { return queue(bytes); }
  /// Queues `bytes`, then waits while more than half of `max_output_bytes` is buffered (the
  /// peer reads slower than this writes). Throws `std::system_error` (`broken_pipe`) when
  /// the connection failed or closed.
  task<void> write(std::string_view bytes);
  /// Waits until every byte queued was taken by the kernel (or the connection failed).
  task<void> drain();
  /// `drain()`, then ends sending (the peer sees end of stream; for TLS without a
  /// close_notify); reading goes on.
  task<void> shutdown_send();
  /// A shareable handle to this connection's output, for other connections and threads.
  stream_writer writer();

  /// The peer's address (the client's, from the PROXY header when there was one).
  const tcp::endpoint& peer() const noexcept { return peer_; }
  /// The local address (the proxy's destination, from the PROXY header when there was one).
  const tcp::endpoint& local() const noexcept { return local_; }
  /// Unique per server, from 1.
  std::uint64_t id() const noexcept { return id_; }
  /// Index of the listener that accepted the connection (0: `host:port`).
  std::size_t listener() const noexcept { return listener_; }
  /// Per-connection state for the handler's use.
  std::any& user_state() noexcept { return user_state_; }
  /// Runs `f` once when the connection ends (after the handler returned), on its worker, in
  /// the order given. An exception it throws is logged.
  void on_close(std::function<void()> f) { on_close_.push_back(std::move(f)); }
  /// The transport, for what is not wrapped here (reads on it do not count as activity).
  Stream& stream() noexcept;
  /// The server that accepted the connection.
  stream_server& server() const noexcept { return *server_; }
  /// Closes the connection now (reads and writes in flight end with errors).
  void close() noexcept { close_transport(); }

  // The runtime's side (not an API).
  std::size_t buffered() const noexcept override;
  std::uint64_t written() const noexcept override;
  void close_transport() noexcept override;
  void stop_reading() noexcept override;
  bool queue(std::string_view bytes) override;
  void flush_output() noexcept override;
  /// Made by the runtime only.
  stream_connection(typename detail::writer_of<Stream>::type* io) noexcept : io_(io) {}
  ~stream_connection();
  /// The connection's writer (for protocols built on the stream server).
  typename detail::writer_of<Stream>::type& output() noexcept { return *io_; }

private:
  typename detail::writer_of<Stream>::type* io_;
};

/// A server that runs a coroutine per accepted connection, on the runtime of
/// `coronet::server`: worker threads, several listeners (TCP, TLS, PROXY v1/v2, reuse-port
/// hand-off, agent check), `max_connections` with a reject hook, handshake/idle/output-stall
/// timeouts, drain with a deadline, signals and stats.
class stream_server {
public:
  /// The per-connection coroutine of plain listeners.
  using tcp_handler = std::function<task<void>(stream_connection<tcp::socket>&)>;
  /// The per-connection coroutine of TLS listeners.
  using tls_handler = std::function<task<void>(stream_connection<tls::stream>&)>;

  /// Binds every listener. `on_connection` is called once per accepted connection (after
  /// the PROXY header and TLS handshake) as `task<void>(stream_connection<tcp::socket>&)`
  /// for plain listeners and `task<void>(stream_connection<tls::stream>&)` for TLS ones; a
  /// generic lambda `[](auto& conn) -> coronet::task<void> {...}` serves both. It is kept
  /// (copied) until the server is destroyed, so a lambda's captures outlive its coroutines.
  /// When the task ends, the pending output is flushed (bounded by `output_stall_timeout`
  /// and the drain) and the connection closed; an exception escaping it is logged and closes
  /// the connection. Throws `std::system_error` (`address_in_use`...), or
  /// `std::invalid_argument` for a host that is not a numeric address, a `proxy_trusted`
  /// entry that does not parse, or a listener whose kind `on_connection` cannot serve.
  template <class Handler>
  stream_server(stream_server_options options, Handler on_connection)
      : stream_server(std::move(options), make_handlers(std::move(on_connection))) {}

  stream_server(const stream_server&) = delete;
  stream_server& operator=(const stream_server&) = delete;
  /// Stops and joins every thread if `run()` is still going on another thread.
  ~stream_server();

  /// The bound port of listener 0.
  std::uint16_t port() const noexcept;
  /// The bound port of listener `i`; throws `std::out_of_range` for `i >= listener_count()`.
  std::uint16_t port(std::size_t i) const;
  /// 1 + `options().listeners.size()`.
  std::size_t listener_count() const noexcept;
  /// Listener `i` as served (host never empty, real port, tls resolved with `tls_only`).
  /// Throws `std::out_of_range`.
  const stream_listener_config& listener(std::size_t i) const;
  /// The options in force (`threads` resolved to the real count).
  const stream_server_options& options() const noexcept;

  /// Serves on the calling thread and `threads - 1` more until stopped and drained. Returns
  /// 0 after a graceful stop (also when the drain deadline closed what was left), 1 when a
  /// second signal cut the drain short. Returns within `drain_timeout` + 250 ms of `stop()`.
  /// Throws `std::logic_error` when called twice.
  int run();
  /// Starts the drain: no new connections; pending reads of handlers end with
  /// `operation_aborted`; spawned tasks are cancelled; after `drain_timeout` everything is
  /// closed. Thread-safe, idempotent, may be called before `run()`.
  void stop() noexcept;
  /// True once the drain began. Thread-safe.
  bool draining() const noexcept;
  /// Starts `t` as background work owned by the server, on the calling worker (worker 0
  /// from another thread); cancelled when the drain begins (see `server::spawn`).
  /// Throws `std::bad_alloc`.
  void spawn(task<void> t) const;
  /// Called once when the drain begins, on a worker thread; must not block. Call before
  /// `run()`.
  void on_stop(std::function<void()> f);
  /// The bytes a peer over `max_connections` gets on listener `listener` before it is
  /// closed (plain listeners only: a TLS peer is just closed). Default: none. Call before
  /// `run()`; an exception it throws is logged and the peer just closed.
  void on_reject(std::function<std::string(std::size_t listener)> f);
  /// Reads the TLS files again for new connections; false (logged) if they are wrong, or
  /// when no listener serves TLS. Thread-safe.
  bool reload_tls() noexcept;
  /// Puts the agent-check port in maintenance (`maint`). Async-signal-safe.
  void set_maintenance(bool on) noexcept;
  /// True while in maintenance.
  bool maintenance() const noexcept;
  /// The bound agent-check port (0 without one).
  std::uint16_t agent_port() const noexcept;
  /// Counters summed over all threads. Thread-safe.
  stream_server_stats stats() const noexcept;

  /// Returned by `current_worker()` off the server's threads.
  static constexpr std::size_t no_worker = static_cast<std::size_t>(-1);
  /// The index of the worker whose thread calls this, or `no_worker`.
  static std::size_t current_worker() noexcept;

  /// The handlers a server runs, one per kind of listener (for protocols built on it).
  struct handlers {
    /// For plain listeners; empty if the handler cannot serve them.
    tcp_handler plain;
    /// For TLS listeners; empty if the handler cannot serve them.
    tls_handler tls;
    /// The shortest deadline the protocol arms (`set_deadline`, its own idle timeouts), so
    /// that the sweeper looks often enough; 0: none.
    std::chrono::milliseconds shortest_deadline{0};
  };
  /// As the template constructor, with the handlers given per kind.
  stream_server(stream_server_options options, handlers h);

private:
  template <class Handler>
  static handlers make_handlers(Handler on_connection) {
    constexpr bool serves_tcp = std::is_invocable_r_v<task<void>, Handler&, stream_connection<tcp::socket>&>;
    constexpr bool serves_tls = std::is_invocable_r_v<task<void>, Handler&, stream_connection<tls::stream>&>;
    static_assert(serves_tcp || serves_tls,
                  "stream_server: the handler must be callable as task<void>(stream_connection<tcp::socket>&) "
                  "or task<void>(stream_connection<tls::stream>&)");
    handlers h;
    auto shared = std::make_shared<Handler>(std::move(on_connection));
    if constexpr (serves_tcp)
      h.plain = [shared](stream_connection<tcp::socket>& c) { return (*shared)(c); };
    if constexpr (serves_tls)
      h.tls = [shared](stream_connection<tls::stream>& c) { return (*shared)(c); };
    return h;
  }

  std::unique_ptr<detail::stream_runtime> rt_;
};

}  // namespace coronet
