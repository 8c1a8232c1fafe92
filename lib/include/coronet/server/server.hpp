// coronet::server: serves a router's commands over TCP, with limits and graceful shutdown.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "coronet/command/auth_throttle.hpp"
#include "coronet/command/connection.hpp"
#include "coronet/protocol/http/http_options.hpp"
#include "coronet/command/router.hpp"
#include "coronet/server/connection_options.hpp"
#include "coronet/server/http_routes.hpp"
#include "coronet/server/server_metrics.hpp"
#include "coronet/server/stream_server_stats.hpp"
#include "coronet/core/task.hpp"
#include "coronet/tls/context.hpp"

namespace coronet {

/// One more address a server listens on, beside `server_options::host:port`,
/// each with its own protocol (e.g. a line port beside the RESP port).
struct listener_config {
  /// Numeric IPv4 or IPv6 address; empty means `server_options::host`.
  std::string host{};
  /// Port; 0 picks a free one (see `server::port(i)`).
  std::uint16_t port = 0;
  /// Wire protocol of its connections.
  wire_protocol protocol = wire_protocol::resp;
  /// Serves TLS (with `server_options::tls`'s certificate), as Redis's
  /// `tls-port`: every protocol works over it; see docs/tls.md.
  bool tls = false;
};

/// How much output a Pub/Sub subscriber may leave unread, as Redis's
/// `client-output-buffer-limit pubsub 32mb 8mb 60`: a subscriber whose
/// unsent messages (and replies) go over `hard_bytes`, or stay over
/// `soft_bytes` for longer than `soft_time`, is disconnected (the peer
/// gets what was written until then, then end of stream), counted in
/// `server_stats::pubsub_output_limit_disconnections` (INFO's
/// `client_output_buffer_limit_disconnections`) and logged, at most one line
/// a second. Checked when messages are delivered to it, as Redis does. 0
/// turns a limit off.
struct pubsub_output_limit_options {
  /// Unsent bytes that disconnect at once.
  std::size_t hard_bytes = 32 * 1024 * 1024;
  /// Unsent bytes that disconnect once held for longer than `soft_time`.
  std::size_t soft_bytes = 8 * 1024 * 1024;
  /// How long the output may stay over `soft_bytes`.
  std::chrono::milliseconds soft_time = std::chrono::seconds(60);
};

/// Everything a server can be told; every limit of docs/limits.md is here
/// with its default, the connection handling it shares with the stream
/// server under it in `connection_options`. The texts the peer sees are given
/// per field.
struct server_options : connection_options {
  /// Address to listen on (a numeric IPv4 or IPv6 address).
  std::string host = "127.0.0.1";
  /// Port to listen on; 0 picks a free one (see `server::port()`).
  std::uint16_t port = 8099;
  /// Wire protocol of the connections to `host:port`.
  wire_protocol protocol = wire_protocol::resp;
  /// More addresses to listen on, each with its protocol: listener 1 is
  /// `listeners[0]`, and so on (listener 0 is `host:port`). Every listener
  /// is served by every thread, with the same limits; `max_connections`
  /// counts the connections of all of them.
  std::vector<listener_config> listeners{};
  /// Longest request line (line protocol, RESP inline, RESP headers). Longer:
  /// the peer gets `ERR request too large` and the connection is closed.
  std::size_t max_request_bytes = 64 * 1024;
  /// Largest RESP bulk string. Larger, negative or non-numeric lengths: the
  /// peer gets `ERR protocol error: ...` and the connection is closed.
  std::size_t max_bulk_bytes = 1024 * 1024;
  /// Most words in a request (RESP array count). More: as above.
  std::size_t max_args = 1024;
  /// A request that has started (some of its bytes are buffered) but is still
  /// incomplete after this long: the connection is closed without a reply
  /// (the peer sees end of stream), as for `idle_timeout`. The guard against
  /// peers that trickle a request byte by byte (slowloris); it also bounds a
  /// large request to `max_bulk_bytes` per this long. 0 = no limit.
  std::chrono::milliseconds partial_request_timeout = std::chrono::seconds(10);
  /// A handler still running after this long is cancelled and the peer gets
  /// `ERR timeout`. 0 = no limit.
  std::chrono::milliseconds request_timeout = std::chrono::seconds(30);
  /// Password required from every connection (`AUTH password`, `AUTH default
  /// password` or `HELLO 3 AUTH default password`) before any command other
  /// than AUTH, HELLO, PING, QUIT and RESET. Others get `-NOAUTH
  /// Authentication required.`. On HTTP listeners every request but `GET
  /// /healthz` carries it instead, as user `default` (`Authorization: Basic`,
  /// what `curl -u default:PASSWORD` sends) or `Authorization: Bearer
  /// PASSWORD`, else `401` with `WWW-Authenticate`; per request, never per
  /// connection. Empty (the default): no authentication.
  /// Wrong passwords are limited by `auth_throttle`, on either side.
  std::string password{};
  /// Limits and deadlines of HTTP connections (`wire_protocol::http`); the
  /// limits above do not apply to them, except `max_connections`,
  /// `request_timeout` (`504`), `max_output_bytes`, `output_stall_timeout`
  /// and `drain_timeout`.
  http_options http{};
  /// Limits on failed authentications when `password` is set: a connection
  /// is closed after `max_failures_per_connection` (3) wrong passwords, and a
  /// source address with more than `failures_before_delay` (10, halving every
  /// minute) gets one guess per `max_delay` (1 s) at most, over all its
  /// connections, while other addresses are not slowed at all. See
  /// `auth_throttle_options` and docs/limits.md.
  auth_throttle_options auth_throttle{};
  /// Bytes of requests a connection may hold unexecuted while its peer is
  /// behind on its replies (more than half of `max_output_bytes` unsent), as
  /// Redis's `client-query-buffer-limit`. Backpressure pauses the execution
  /// of requests, not their reading: a client that writes its whole pipeline
  /// before it reads (redis-py's and hiredis's pipelines, Jedis, phpredis)
  /// gets all its replies, in order, once it reads. A peer that sends more
  /// than this while it reads nothing is closed at once, its buffered
  /// requests and replies dropped, and counted in `server_stats::errors`
  /// (logged at most once a second): the peer sees a connection reset (or
  /// end of stream) on its next write or read. Never less than one request
  /// (`max_request_bytes` + `max_bulk_bytes`; HTTP: the request limits of
  /// `http`). Applies to RESP, line and HTTP connections. The default, 64
  /// MiB, takes a pipeline of 50 values of 1 MB with room to spare; it is
  /// not Redis's 1 GiB because it is a per-connection bound and
  /// `max_connections` allows 10,000 of them: a connection holds at most
  /// this plus about half of `max_output_bytes` and one reply.
  std::size_t max_query_buffer_bytes = 64 * 1024 * 1024;
  /// Whether command calls are timed for the latency histograms of
  /// `server::metrics()` (and the status page's p50/p99): two reads of the
  /// CPU's timestamp counter and a histogram bucket per timed call (which
  /// calls: `latency_sample_every`). Off, calls and errors are still
  /// counted, the histograms stay empty (`p50()` and `p99()` are 0), and a
  /// request costs a few instructions less. On by default.
  bool track_latency = true;
  /// With `track_latency`, which calls are timed: on each worker thread,
  /// each command's first call, then one call in this many of that command
  /// (1 or 0: every call). Calls and errors are counted exactly either way;
  /// the histograms hold the timed calls only, so `latency.total()` is
  /// about `calls` / this. The default, 16, keeps the clock off 15 of 16
  /// requests of a busy command (about 40 instructions each) and still
  /// gives its quantiles thousands of samples per second.
  std::uint32_t latency_sample_every = 16;
  /// The output limit of Pub/Sub subscribers (see `pubsub_output_limit_options`).
  pubsub_output_limit_options pubsub_output_limit{};
  /// A redis-server through which several instances share their Pub/Sub, as
  /// `redis://HOST:PORT` (HOST a name, an IPv4 address or a bracketed IPv6
  /// one); empty (the default): none. Set, every publish on this server
  /// (`PUBLISH`, `server::publish`) is delivered to its own subscribers at
  /// once and also sent to that redis-server as `PUBLISH
  /// coronet:pubsub:<channel> <instance id>:<payload>`; the server
  /// `PSUBSCRIBE`s `coronet:pubsub:*` there and delivers the other
  /// instances' messages to its own subscribers only, so each subscriber of
  /// each instance gets each message once. `PUBLISH`'s count stays this
  /// server's receivers. A lost connection is retried with back-off (100 ms
  /// doubling to 5 s), and publishes meanwhile reach local subscribers only,
  /// counted in `server_stats::pubsub_backplane_dropped`. See docs/deploy.md.
  /// Anything but `redis://HOST:PORT` makes the constructor throw
  /// `std::invalid_argument`.
  std::string pubsub_backplane{};
};

/// The state of a server's Pub/Sub backplane (see `server_stats::pubsub_backplane`).
enum class pubsub_backplane_state : std::uint8_t {
  off,         ///< No backplane configured.
  connecting,  ///< Configured, not (or no longer) connected: trying with back-off.
  connected,   ///< Both connections to the redis-server are up.
};

/// "off", "connecting" or "connected".
std::string_view to_string(pubsub_backplane_state s) noexcept;

/// Counters of a server, summed over its threads: those of the stream server
/// under it, and the requests.
struct server_stats : stream_server_stats {
  /// Requests handled.
  std::uint64_t requests = 0;
  /// Connections closed without a reply for sending HTTP to a command (RESP or line) port:
  /// a request line such as `POST / HTTP/1.1` or a `Host:` header line arriving as a
  /// command, as a browser tricked into posting to the port would send (redis-server's
  /// "Possible SECURITY ATTACK detected").
  std::uint64_t security_attacks = 0;
  /// Channels with at least one subscriber now (INFO's `pubsub_channels`).
  std::uint64_t pubsub_channels = 0;
  /// Distinct patterns with at least one subscriber now (INFO's `pubsub_patterns`).
  std::uint64_t pubsub_patterns = 0;
  /// Subscribers disconnected for going over `server_options::pubsub_output_limit`.
  std::uint64_t pubsub_output_limit_disconnections = 0;
  /// The Pub/Sub backplane's connection to its redis-server
  /// (`server_options::pubsub_backplane`): `off` without one, `connecting`
  /// until both its connections are up (and while it retries after a loss),
  /// `connected` when publishes are shared with the other instances.
  pubsub_backplane_state pubsub_backplane = pubsub_backplane_state::off;
  /// Publishes sent to the backplane's redis-server and acknowledged.
  std::uint64_t pubsub_backplane_forwarded = 0;
  /// Messages of other instances received from the backplane and delivered here.
  std::uint64_t pubsub_backplane_received = 0;
  /// Publishes not shared with the other instances: made while the backplane
  /// was not connected, lost with its connection, refused by redis-server, or
  /// over its queue's bound (64 MiB waiting to be written).
  std::uint64_t pubsub_backplane_dropped = 0;
};

namespace detail {
struct server_impl;
}  // namespace detail

/// A TCP server for a router's commands (see docs/protocols.md for the
/// protocols, docs/limits.md for the limits and shutdown).
///
/// The constructor binds the listening sockets, so `port()` is known at once
/// and a port in use fails early. `run()` serves until `stop()` (or a signal,
/// with `handle_signals`). The router must outlive the server and must not
/// change once `run()` has started.
class server {
public:
  /// Binds `options.host:options.port` and every `options.listeners` entry
  /// on every thread's acceptors. Throws `std::system_error` (e.g.
  /// `address_in_use`) or `std::invalid_argument` for a host that is not a
  /// numeric address.
  server(const router& r, server_options options);

  /// As above, and the HTTP listeners serve `routes` first, then the
  /// built-in endpoints, then `r`'s commands (see `http_routes`). `routes`
  /// must outlive the server and not change once it runs. Throws as above.
  server(const router& r, const http_routes& routes, server_options options);

  /// A server of HTTP routes alone: its HTTP listeners serve `routes` and the
  /// built-in endpoints, and no command (a RESP or line listener, if any,
  /// knows none: every command is unknown). Set `options.protocol` to
  /// `wire_protocol::http`. `routes` must outlive the server. Throws as above.
  server(const http_routes& routes, server_options options);

  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Stops and joins every thread if `run()` is still going on another thread.
  ~server();

  /// The bound port of listener 0 (the real one when `options.port` was 0).
  std::uint16_t port() const noexcept { return listeners_.front().port; }

  /// The bound port of listener `i` (0: `host:port`; i: `listeners[i - 1]`).
  /// Throws `std::out_of_range` for `i >= listener_count()`.
  std::uint16_t port(std::size_t i) const { return listeners_.at(i).port; }

  /// How many listeners the server has: 1 + `options().listeners.size()`.
  std::size_t listener_count() const noexcept { return listeners_.size(); }

  /// Listener `i` as served: its host (never empty), real port and protocol
  /// (0 is `host:port`). Throws `std::out_of_range` for `i >=
  /// listener_count()`.
  const listener_config& listener(std::size_t i) const { return listeners_.at(i); }

  /// Reads `options().tls`'s files again: connections accepted afterwards
  /// use the new certificate, the ones already open are unaffected. A file
  /// that is missing or wrong (a key that does not match, a wrong password)
  /// is logged at `error` level with the reason and the old certificate
  /// stays in use. Returns whether the new one was taken; false, without a
  /// log line, when no listener serves TLS. Thread-safe. With
  /// `handle_signals`, SIGHUP does the same while `run()` runs.
  bool reload_tls() noexcept;

  /// The options in force (`threads` resolved to the real count).
  const server_options& options() const noexcept { return options_; }

  /// Serves on the calling thread and `threads - 1` more until stopped and
  /// drained. Returns 0 after a graceful stop (also when `drain_timeout`
  /// passed and what was left was closed), 1 when a second signal cut the
  /// drain short. Never hangs: returns within `drain_timeout` + 250 ms after
  /// `stop()` or the first signal, and at once after a second signal,
  /// whatever is still pending; tasks a handler `spawn`ed onto
  /// `co_await this_executor` are abandoned (never resumed; their frames are
  /// destroyed with the server). A handler that blocks its thread without
  /// suspending delays this until it returns. May be called once; throws
  /// `std::logic_error` the second time.
  int run();

  /// Starts a graceful stop: no new connections, in-flight requests finish
  /// and their replies are flushed, idle connections close, tasks started by
  /// `spawn()` are cancelled. After `drain_timeout` every connection is
  /// closed and running handlers are cancelled; 250 ms later `run()`
  /// returns, abandoning whatever is left. Thread-safe, idempotent, may be
  /// called before `run()` (the deadline then counts from `run()`).
  void stop() noexcept;

  /// Counters summed over all threads. Thread-safe.
  server_stats stats() const noexcept;

  /// What the server measured, summed over its threads (see
  /// server_metrics.hpp): each command's calls, errors and latency histogram
  /// (p50/p99), connections per protocol, and requests per second over the
  /// last minute. Recording costs the request path no lock and no
  /// allocation; this snapshot allocates (throws `std::bad_alloc`).
  /// Thread-safe; before `run()` every count is zero.
  server_metrics metrics() const;

  /// Puts the server in maintenance (or takes it out): the agent-check port
  /// (`server_options::agent_port`) answers `maint`, and HAProxy sends it no
  /// new connections; everything else goes on serving. Logged by the agent
  /// when its answer changes. Thread-safe and async-signal-safe (a lock-free
  /// store), so a SIGUSR1 handler may call it.
  void set_maintenance(bool on) noexcept;
  /// True while in maintenance. Thread-safe.
  bool maintenance() const noexcept;
  /// True once the drain began (`stop()`, the first signal). Thread-safe.
  bool draining() const noexcept;
  /// The bound agent-check port; 0 when `options().agent_port` is empty.
  std::uint16_t agent_port() const noexcept;

  /// Starts `t` as background work owned by the server (an expiry loop, a
  /// cache refresher), so that it ends with the server instead of keeping
  /// `run()` from returning:
  /// - from a handler (or any code on a worker's thread), `t` runs on that
  ///   worker, the thread of the connection it was called for; from any
  ///   other thread, before or during `run()`, it is handed to worker 0 and
  ///   starts once that worker runs. Thread-safe; `const` so that handlers
  ///   can call it through `request::conn->owner`;
  /// - when the drain begins (`stop()`, the first signal), every such task is
  ///   cancelled (the operation it awaits ends with `operation_aborted`) and
  ///   awaited up to `drain_timeout`, like the requests in flight; one that
  ///   ignores the cancellation is abandoned with them (see `run()`);
  /// - a task spawned once its worker is draining, or after `run()` returned,
  ///   is destroyed without being started;
  /// - an exception escaping `t` is logged and counted, as for any detached
  ///   task; cancellation ending it with `operation_aborted` is normal.
  /// Throws `std::bad_alloc`.
  void spawn(task<void> t) const;

  /// Sets a callback run once when the server begins to stop (`stop()`, the
  /// first signal), on the thread of the first worker to begin draining,
  /// before background tasks are cancelled and connections closed; e.g. to
  /// stop work the server does not own. It must not block. An exception it
  /// throws is logged. Call before `run()`; replaces an earlier callback.
  void on_stop(std::function<void()> callback);

  /// Publishes `payload` on `channel`, as Redis's `PUBLISH`: every
  /// connection subscribed to the channel (`SUBSCRIBE`) or to a pattern
  /// matching it (`PSUBSCRIBE`, once per matching pattern) gets the
  /// message, and the number of those subscriptions is returned.
  /// Thread-safe: from a handler, any worker thread or any other thread,
  /// before, during or after `run()`; `const` so that handlers can call it
  /// through `request::conn->owner`. It never waits for a subscriber: the
  /// message is encoded once, shared, and queued for the worker of each
  /// subscriber, which appends it to that connection's output and writes it
  /// with the other messages of the same batch; a slow subscriber is bounded
  /// by `server_options::pubsub_output_limit`. Messages from one thread reach
  /// each subscriber in the order they were published. Throws
  /// `std::bad_alloc`.
  std::size_t publish(std::string_view channel, std::string_view payload) const;

  /// The channels with at least one subscriber, those matching the glob
  /// `pattern` only unless it is null (Redis's `PUBSUB CHANNELS`), in no
  /// particular order. Thread-safe. Throws `std::bad_alloc`.
  std::vector<std::string> pubsub_channels(const std::string_view* pattern = nullptr) const;
  /// How many connections are subscribed to `channel` (Redis's `PUBSUB
  /// NUMSUB`; pattern subscriptions are not counted). Thread-safe.
  std::size_t pubsub_numsub(std::string_view channel) const;
  /// How many distinct patterns have subscribers (Redis's `PUBSUB NUMPAT`).
  /// Thread-safe.
  std::size_t pubsub_numpat() const;

  /// The router the server dispatches to.
  const router& routes() const noexcept { return router_; }

  /// Returned by `current_worker()` on a thread that is not a server worker.
  static constexpr std::size_t no_worker = static_cast<std::size_t>(-1);

  /// The index (0 to `options().threads - 1`) of the server worker whose
  /// thread calls this, so that handlers can keep state per worker without
  /// locks: a connection, and so every handler call on it, stays on one
  /// worker. `no_worker` on any other thread, and on the thread that called
  /// `run()` once `run()` has returned.
  static std::size_t current_worker() noexcept;

private:
  const router& router_;
  // The HTTP routes before the built-in endpoints (null: none), and whether
  // the router's commands are served over HTTP after them.
  const http_routes* http_routes_ = nullptr;
  bool commands_over_http_ = true;
  server_options options_;
  // Listener 0 is host:port, then options_.listeners, with their bound ports.
  std::vector<listener_config> listeners_;
  // The stream server it runs on, and the state its sessions share.
  std::unique_ptr<detail::server_impl> impl_;
};

}  // namespace coronet
