// coronet::stream_server: runs a coroutine per accepted TCP or TLS connection, with the whole server runtime
// (threads, listeners, limits, timeouts, PROXY, drain, signals) under it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "coronet/core/task.hpp"
#include "coronet/server/connection_options.hpp"
#include "coronet/server/stream_connection.hpp"
#include "coronet/server/stream_server_stats.hpp"
#include "coronet/tls/context.hpp"

namespace coronet {
namespace detail {
class stream_runtime;
struct server_impl;
}  // namespace detail

/// One more address a stream server listens on, beside `stream_server_options::host:port`.
struct stream_listener_config {
  /// Numeric IPv4 or IPv6 address; empty means `stream_server_options::host`.
  std::string host{};
  /// Port; 0 picks a free one (see `stream_server::port(i)`).
  std::uint16_t port = 0;
  /// Serves TLS with `stream_server_options::tls`'s certificate: its connections reach the
  /// handler as `stream_connection<tls::stream>` once the TLS handshake is done.
  bool tls = false;
  /// The application protocols a TLS listener agrees to in ALPN (RFC 7301), most preferred
  /// first, such as `{"http/1.1"}`. Empty (the default): ALPN is ignored and a client that
  /// offers it gets no protocol back. Otherwise a client that offers ALPN but none of these
  /// fails its handshake with the `no_application_protocol` alert (as nginx does), and one
  /// that offers no ALPN is served. Ignored by plain listeners.
  std::vector<std::string> alpn{};
};

/// Everything a stream server can be told, with its defaults: where it listens, and how it
/// handles connections (`connection_options`, which `server_options` shares).
struct stream_server_options : connection_options {
  /// Address of listener 0 (a numeric IPv4 or IPv6 address).
  std::string host = "127.0.0.1";
  /// Port of listener 0; 0 picks a free one (see `stream_server::port()`).
  std::uint16_t port = 0;
  /// More addresses to listen on: listener 1 is `listeners[0]`, and so on.
  std::vector<stream_listener_config> listeners{};
  /// The ALPN protocols of listener 0 when it serves TLS (see `stream_listener_config::alpn`).
  std::vector<std::string> alpn{};
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
  // The command server stops the workers before it destroys what they use.
  friend struct detail::server_impl;

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
