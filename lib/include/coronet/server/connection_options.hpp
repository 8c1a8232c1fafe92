// coronet::connection_options: how every server on the stream server handles its connections.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/protocol/proxy/proxy_header.hpp"
#include "coronet/tls/context.hpp"

namespace coronet {

/// How a server's plain TCP connections do their reads and writes (TLS connections use Asio's
/// reactor either way). See docs/architecture.md, "io_uring".
enum class io_backend {
  /// What the environment variable `CORONET_BACKEND` says (`epoll`, `io_uring` or `auto`);
  /// `epoll` when it is unset or empty. Another value is logged and taken as `epoll`.
  environment,
  /// Asio's reactor: epoll.
  epoll,
  /// The worker's own io_uring ring (one per worker thread): needs a build with
  /// `CORONET_IO_URING` and a kernel that lets the process use io_uring (Linux 5.19 or later,
  /// not disabled by `/proc/sys/kernel/io_uring_disabled`); otherwise the server's constructor
  /// throws `std::system_error` (`operation_not_supported`) saying why.
  io_uring,
  /// `io_uring` where it is usable, otherwise `epoll` with one log line saying why.
  automatic,
};

/// The name of `b` as `parse_io_backend` reads it: "environment", "epoll", "io_uring" or
/// "auto".
const char* to_string(io_backend b) noexcept;

/// `b` read from "epoll", "io_uring" (or "io-uring", "uring") or "auto"; empty for another
/// word.
std::optional<io_backend> parse_io_backend(std::string_view name) noexcept;

/// How a server handles its connections, whatever it speaks on them: threads,
/// TLS, limits, timeouts, draining, signals, PROXY headers. The part that
/// `stream_server_options` and `server_options` share (both derive from it);
/// every limit here is in docs/limits.md with what the peer sees.
struct connection_options {
  /// Threads, each with its own io_context and SO_REUSEPORT acceptors; 0
  /// means one per hardware thread. A connection stays on the thread that
  /// accepted it, and so does its handler.
  ///
  /// The default is 1, as Redis: every handler then runs on one thread, so a
  /// handler may keep state in plain variables shared by all connections
  /// without a data race. With more threads, handlers of different
  /// connections run at the same time: keep state per worker (indexed by
  /// `current_worker()`) or protect it with a mutex (or a strand). One thread
  /// serves about as many requests per second as redis-server; more pay off
  /// only for handlers that compute.
  unsigned threads = 1;
  /// SO_REUSEPORT on every listening socket, so that another process (a new
  /// version of this server) can bind the same ports while this one drains:
  /// the kernel then spreads new connections over both until this one closes
  /// its listeners (see docs/deploy.md). With more than one thread it is set
  /// anyway. Binding a port another process holds without SO_REUSEPORT still
  /// fails with `address_in_use`.
  bool reuse_port = false;
  /// The certificate, key, optional client CA (mutual TLS) and key password
  /// of the listeners that serve TLS (a listener's `tls`, `tls_only`).
  /// Loaded by the constructor, which throws `std::system_error` naming the
  /// file and OpenSSL's reason if one is missing, unreadable or wrong (see
  /// `tls::make_server_context`); reloaded by `reload_tls()` and, with
  /// `handle_signals`, on SIGHUP. Ignored when no listener serves TLS (SIGHUP
  /// is then only logged).
  tls::server_config tls{};
  /// Every listener serves TLS, the first one included: a TLS-only server.
  bool tls_only = false;
  /// Connections open at once over all listeners and threads. Beyond, the
  /// new peer gets one reply and is closed: `ERR max number of clients
  /// reached` in its protocol from a `coronet::server` (`503` on HTTP), what
  /// `stream_server::on_reject` gives on a stream server's plain listeners.
  std::size_t max_connections = 10000;
  /// A connection whose peer sends nothing and takes none of its pending
  /// output for this long is closed without a reply (for a
  /// `coronet::server`: that completes no request; a peer reading a long
  /// reply is active; a stream server's handler sees its read end with an
  /// error). 0 = never, the default, as Redis's `timeout 0`: client
  /// libraries keep pooled connections idle for hours, and `tcp_keepalive`
  /// removes dead peers.
  std::chrono::milliseconds idle_timeout{0};
  /// A connection still in its opening handshake (a TLS handshake, a PROXY
  /// protocol header) after this long is closed without a reply and counted
  /// in `stream_server_stats::handshakes_timed_out` (logged at most once a
  /// second), before any handler sees it. 0 = no limit.
  std::chrono::milliseconds handshake_timeout = std::chrono::seconds(10);
  /// TCP keepalive on every accepted connection, as Redis's `tcp-keepalive`:
  /// SO_KEEPALIVE, the first probe after this long without traffic, then one
  /// every third of it; 3 unanswered probes reset the connection. 0 = off. If
  /// the socket refuses the options, the connection is served without them.
  std::chrono::seconds tcp_keepalive = std::chrono::seconds(300);
  /// TCP_NODELAY on every accepted connection (see `tcp::set_no_delay`), as
  /// Redis and nginx set it: the last reply of a pipelined batch goes out at
  /// once instead of waiting up to 40 ms for the peer's delayed ACK. false
  /// leaves Nagle's algorithm on. If the socket refuses the option, the
  /// connection is served without it.
  bool tcp_nodelay = true;
  /// Output buffered for one connection (not yet taken by the kernel).
  ///
  /// A stream server's `send()` that would buffer more closes that
  /// connection (logged at most once a second); `write()` waits while more
  /// than half of it is buffered.
  ///
  /// A `coronet::server` applies backpressure instead of disconnects: once
  /// more than half of it is unsent, the connection's further requests are
  /// not executed until its peer has taken all but a quarter of it, as a
  /// pipelining client that reads its replies does; the peer sees its
  /// requests answered in order, only slower. They are still read meanwhile,
  /// up to `server_options::max_query_buffer_bytes`, so that a client that
  /// sends its whole pipeline before reading never waits on the server while
  /// the server waits on it. So a connection holds at most about half of
  /// this, plus its largest reply.
  ///
  /// Either way, a peer that reads nothing is closed by `output_stall_timeout`.
  std::size_t max_output_bytes = 16 * 1024 * 1024;
  /// A connection with pending output whose peer takes none of its bytes for
  /// this long (it is not reading: its receive window stays shut) is closed;
  /// logged at most once a second. Whatever the connection is doing: paused
  /// by backpressure, reading, closing. 0 = never.
  std::chrono::milliseconds output_stall_timeout = std::chrono::seconds(30);
  /// On `stop()` / the first signal: handlers (in-flight requests) get this
  /// long to finish and their output to be flushed; then every connection is
  /// closed and the handlers cancelled.
  std::chrono::milliseconds drain_timeout = std::chrono::seconds(10);
  /// When accept fails for lack of descriptors or memory
  /// (EMFILE/ENFILE/ENOBUFS/ENOMEM), accepting pauses this long before
  /// retrying (logged at most once a second).
  std::chrono::milliseconds accept_backoff = std::chrono::milliseconds(100);
  /// `listen()` backlog.
  int backlog = 1024;
  /// Makes `run()` handle SIGINT and SIGTERM: the first drains (`run()`
  /// returns 0 within `drain_timeout` + 250 ms), a second during the drain
  /// makes `run()` return 1 at once. And SIGHUP, which never stops the
  /// server: it reloads the TLS certificate (`reload_tls()`) when a listener
  /// serves TLS, and is logged either way.
  bool handle_signals = false;
  /// Logs each connection's open and close at `info` level.
  bool log_connections = false;
  /// PROXY protocol header expected from a load balancer (HAProxy's
  /// `send-proxy` = v1, `send-proxy-v2` = v2) on every listener's
  /// connections, before anything else (a TLS handshake included). With it
  /// on, a peer in `proxy_trusted` must send one, and the connection's
  /// `peer()` / `local()` (so logs, `CLIENT LIST`, `CLIENT INFO`) are the
  /// client's and the proxy's addresses it names; exactly the header's bytes
  /// are read, the first request stays for the protocol. A header that is
  /// malformed, truncated, oversized (`proxy_header_max_bytes`), in a version
  /// not accepted, sent by a peer outside `proxy_trusted`, or not complete
  /// within `handshake_timeout` closes the connection without a reply; each is
  /// counted in `stream_server_stats::proxy_header_errors` and logged (at most
  /// once a second). A trusted peer's v2 `LOCAL` header (a health check) is
  /// counted in `stream_server_stats::proxy_health_checks` instead. Off by
  /// default.
  proxy_protocol_mode proxy_protocol = proxy_protocol_mode::off;
  /// The peers (addresses or address/prefix-length, IPv4 or IPv6) allowed to
  /// send a PROXY header; the default is loopback only. Other peers are
  /// served as they are (their real address is theirs), with no handshake
  /// deadline until their first bytes begin a PROXY signature, but one that
  /// opens with a PROXY header is closed: it could claim any address. Put the
  /// load balancers' addresses here; `0.0.0.0/0` and `::/0` trust everyone.
  /// An entry that does not parse makes the constructor throw
  /// `std::invalid_argument`.
  std::vector<std::string> proxy_trusted{"127.0.0.0/8", "::1"};
  /// How plain TCP connections do their reads and writes: see `io_backend`. The server's
  /// `options()` report the one in force (`epoll` or `io_uring`). Everything a server does
  /// works the same on both; which one is faster depends on the kernel and the load
  /// (BENCHMARKS.md).
  io_backend backend = io_backend::environment;
  /// Port of an HAProxy `agent-check` listener on the server's `host` (0
  /// picks a free one, see `agent_port()`; empty, the default: none). Each
  /// connection gets one line and is closed: `up ready` while serving,
  /// `drain` once the drain began (HAProxy stops sending new connections
  /// before the health check sees the closed listener), `maint` while
  /// `set_maintenance` is on. It answers until the drain has closed the last
  /// connection.
  std::optional<std::uint16_t> agent_port{};
};

}  // namespace coronet
