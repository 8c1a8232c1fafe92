// coronet::stream_connection and coronet::stream_writer: one connection of a stream server as its
// handler sees it, and a shareable handle to its output (see stream_server.hpp).
#pragma once

#include <any>
#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "coronet/core/task.hpp"
#include "coronet/runtime/background_writer.hpp"
#include "coronet/net/socket.hpp"
#include "coronet/tls/stream.hpp"

namespace coronet {

class stream_server;
template <class Stream>
class stream_connection;

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
  // What few connections use, made at the first use: an idle connection holds a pointer.
  struct extras {
    std::any user_state;
    std::vector<std::function<void()>> on_close;
  };
  std::unique_ptr<extras> extras_{};
  // extras_, made if it is not yet. Throws std::bad_alloc.
  extras& more() {
    if (!extras_)
      extras_ = std::make_unique<extras>();
    return *extras_;
  }
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
  // Called by the drain's forced close, before the transport closes: a protocol cancels what
  // its connection waits on that is not the socket (a command handler). Null: nothing.
  void (*on_force_close_)(connection_core&) noexcept = nullptr;

  // Counts a completed read (activity for idle_timeout) and maps its error.
  void note_read(std::size_t n, std::error_code& ec) noexcept;

protected:
  connection_core() = default;
  ~connection_core() = default;
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
  /// Per-connection state for the handler's use (empty at first). Made at the first call,
  /// which throws `std::bad_alloc` when it cannot be; later calls never throw.
  std::any& user_state() { return more().user_state; }
  /// Runs `f` once when the connection ends (after the handler returned), on its worker, in
  /// the order given (one added by such a callback runs too). An exception it throws is
  /// logged. Throws `std::bad_alloc` only.
  void on_close(std::function<void()> f) { more().on_close.push_back(std::move(f)); }
  /// The transport, for what is not wrapped here (reads on it do not count as activity).
  Stream& stream() noexcept;
  /// The server that accepted the connection.
  stream_server& server() const noexcept { return *server_; }
  /// Closes the connection now (reads and writes in flight end with errors).
  void close() noexcept { close_transport(); }

  // The runtime's side (not an API).
  /// Output bytes not yet taken by the kernel (for the sweeper's stall deadline).
  std::size_t buffered() const noexcept override;
  /// Output bytes the kernel has taken since the connection opened.
  std::uint64_t written() const noexcept override;
  /// Closes the transport: reads and writes in flight end with errors.
  void close_transport() noexcept override;
  /// Shuts the receiving side: the pending read sees end of stream (the drain).
  void stop_reading() noexcept override;
  /// Appends `bytes` to the output and flushes; false when over `max_output_bytes`
  /// (the connection is then closed) or closed already.
  bool queue(std::string_view bytes) override;
  /// Sends the output appended so far.
  void flush_output() noexcept override;
  /// Made by the runtime only.
  explicit stream_connection(writer_ptr<Stream> io) noexcept : io_(std::move(io)) {}
  ~stream_connection();
  /// The connection's writer (for protocols built on the stream server).
  background_writer<Stream>& output() noexcept { return *io_; }

private:
  writer_ptr<Stream> io_;
};

}  // namespace coronet
