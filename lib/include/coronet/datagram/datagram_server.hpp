// coronet::datagram_server: answers UDP datagrams with coroutine handlers, with limits and graceful shutdown.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include <asio/ip/address.hpp>

#include "coronet/net/udp.hpp"
#include "coronet/core/task.hpp"

namespace coronet {

/// One datagram handed to a `datagram_handler`, with the room for its reply.
/// Everything it refers to stays valid until the handler's task ends.
struct datagram {
  /// The datagram's bytes (at most `max_datagram_bytes`; may be empty).
  std::span<const std::byte> payload;
  /// Where it came from; a reply is sent there.
  udp::endpoint source;
  /// The local port it arrived on (tells listeners sharing a handler apart).
  std::uint16_t local_port = 0;
  /// When the receive completed, by the system clock (an SNTP receive timestamp).
  std::chrono::system_clock::time_point received_at;
  /// Room for the reply, `max_reply_bytes` long; the handler writes the
  /// reply at its start.
  std::span<std::byte> reply;
};

/// Handles one datagram. Yields `std::nullopt` to send nothing, or `n` to
/// send the first `n` bytes of `d.reply` (0 sends an empty datagram). An `n`
/// beyond `d.reply.size()` or an exception is logged (rate-limited) and
/// counted in `handler_errors`, and nothing is sent. Called from every server
/// thread, possibly at once: it must be safe to call concurrently.
using datagram_handler = std::function<task<std::optional<std::size_t>>(datagram& d)>;

/// Per-source-address limit on replies, against use of a server as a
/// reflection amplifier towards a forged source address.
///
/// A token bucket (as a generic cell rate algorithm): a source address may get
/// `burst` replies at once and `per_second` a second after that. A datagram
/// from a source with no reply left is dropped before its handler runs and
/// counted in `dropped_rate_limited`. The limit is kept per server thread
/// (with several threads one source may get up to `threads` times as much)
/// over all the server's ports, in a table of `tracked_sources` entries; when
/// it is full, the least recently seen of a few candidate entries is forgotten
/// (so that source starts again with a full bucket). IPv6 sources count per
/// /64 prefix, as one host or customer gets a whole /64.
struct reply_rate_limit {
  /// Sustained replies per second to one source address; 0 turns the limit off.
  unsigned per_second = 8;
  /// Replies a source address that has been quiet may get at once (at least 1).
  unsigned burst = 16;
  /// Source addresses remembered per thread (at most `max_tracked_sources`).
  std::size_t tracked_sources = 4096;
  /// The largest `tracked_sources` accepted (about 40 MB of table per thread).
  static constexpr std::size_t max_tracked_sources = std::size_t{1} << 20;
};

/// One port a `datagram_server` listens on, and who answers it.
struct datagram_listener {
  /// The port; 0 picks a free one (`datagram_server::listen` returns it).
  std::uint16_t port = 0;
  /// Answers each datagram that passes the server's checks.
  datagram_handler handler;
  /// Drops datagrams whose source port is one this server listens on, so two
  /// servers (or a forged source) cannot make a reply loop. Turn off only for
  /// protocols whose replies can never be answered by a server of the same
  /// kind (e.g. SNTP, when ntpd clients send from port 123 to port 123).
  bool drop_from_own_ports = true;
};

/// Everything a datagram server can be told, with defaults.
struct datagram_server_options {
  /// Address to bind (a numeric IPv4 or IPv6 address).
  std::string host = "127.0.0.1";
  /// Threads, each with its own io_context and, per listener, its own
  /// SO_REUSEPORT socket; 0 means one per hardware thread.
  unsigned threads = 0;
  /// Largest datagram handed to a handler. Larger ones are dropped (seen as
  /// such by receiving into a buffer one byte larger) and counted in
  /// `dropped_oversize`.
  std::size_t max_datagram_bytes = 2048;
  /// Room a handler gets for its reply.
  std::size_t max_reply_bytes = 2048;
  /// Datagrams being handled or replied to at once, per listener and thread:
  /// each thread runs this many receive loops on each socket, each owning one
  /// receive buffer and one reply buffer. Further datagrams wait in the
  /// kernel's receive buffer (which drops them when full). At least 1.
  std::size_t max_in_flight = 16;
  /// Reply rate limit per source address; see `reply_rate_limit`.
  reply_rate_limit rate_limit;
  /// Datagrams from these source ports are dropped (counted in
  /// `dropped_source`), besides port 0: by default the classic reflection
  /// loop partners echo (7), daytime (13), qotd (17), chargen (19), time (37).
  std::vector<std::uint16_t> dropped_source_ports = {7, 13, 17, 19, 37};
  /// On `stop()` / the first signal: handlers running get this long to finish
  /// and send their replies; then they are cancelled.
  std::chrono::milliseconds drain_timeout = std::chrono::seconds(10);
  /// Makes `run()` handle SIGINT and SIGTERM: the first drains and returns
  /// 0, a second during the drain makes `run()` return 1 at once. SIGHUP is
  /// logged and ignored (nothing to reload): it never stops the server.
  bool handle_signals = false;
};

/// Counters of a datagram server, summed over its threads.
struct datagram_server_stats {
  /// Datagrams received (all of them, dropped ones included).
  std::uint64_t received = 0;
  /// Replies sent.
  std::uint64_t replies = 0;
  /// Datagrams a handler chose not to answer.
  std::uint64_t unanswered = 0;
  /// Datagrams longer than `max_datagram_bytes`.
  std::uint64_t dropped_oversize = 0;
  /// Datagrams from source port 0, one of the server's own ports or
  /// `dropped_source_ports`.
  std::uint64_t dropped_source = 0;
  /// Datagrams dropped by the reply rate limit.
  std::uint64_t dropped_rate_limited = 0;
  /// Handlers that threw or yielded a reply larger than their room.
  std::uint64_t handler_errors = 0;
  /// Receives and sends that failed (other than by shutdown).
  std::uint64_t io_errors = 0;
  /// Bytes received (dropped datagrams included).
  std::uint64_t bytes_in = 0;
  /// Bytes sent.
  std::uint64_t bytes_out = 0;
};

namespace detail {
struct datagram_worker;
class worker_pool;
}  // namespace detail

/// A UDP server: coroutine handlers answer datagrams on one or more ports.
///
/// Threads as in `coronet::server`: one io_context per thread, each with its
/// own SO_REUSEPORT socket per listener, so a datagram is handled on the
/// thread whose socket the kernel gave it to. Before a handler runs, a
/// datagram is checked in this order: size (`max_datagram_bytes`), source port
/// (0, own ports, `dropped_source_ports`), reply rate limit. Receive errors
/// (e.g. ENOBUFS) are logged at most once a second and the loop goes on.
///
/// Listeners are added with `listen()` before `run()`; handlers must outlive
/// the server and be safe to call from several threads.
class datagram_server {
public:
  /// Checks the options. Throws `std::invalid_argument` for a host that is
  /// not a numeric address, a zero `max_in_flight` / `rate_limit.burst`, or a
  /// `rate_limit.tracked_sources` over `reply_rate_limit::max_tracked_sources`.
  explicit datagram_server(datagram_server_options options);

  datagram_server(const datagram_server&) = delete;
  datagram_server& operator=(const datagram_server&) = delete;

  /// Stops and joins every thread if `run()` is still going on another thread.
  ~datagram_server();

  /// Binds `l.port` on every thread and answers it with `l.handler`; returns
  /// the bound port (the real one when `l.port` was 0). Throws
  /// `std::system_error` (e.g. `address_in_use`), or `std::logic_error` once
  /// `run()` has started.
  std::uint16_t listen(datagram_listener l);
  /// As `listen({port, handler})`.
  std::uint16_t listen(std::uint16_t port, datagram_handler handler) {
    return listen(datagram_listener{port, std::move(handler)});
  }

  /// The bound ports, in the order `listen` was called.
  std::vector<std::uint16_t> ports() const;

  /// The options in force (`threads` resolved to the real count).
  const datagram_server_options& options() const noexcept { return options_; }

  /// Serves on the calling thread and `threads - 1` more until stopped and
  /// drained. Returns 0 after a graceful stop, 1 when a second signal cut the
  /// drain short. May be called once; throws `std::logic_error` the second time.
  int run();

  /// Starts a graceful stop: no more datagrams are received, handlers
  /// running finish and send their replies; after `drain_timeout` they are
  /// cancelled. Thread-safe, idempotent, may be called before `run()`.
  void stop() noexcept;

  /// Stops at once, without draining: `run()` returns as soon as each thread
  /// notices, and handlers still running are abandoned (their frames are
  /// freed with the server). Thread-safe.
  void force_stop() noexcept;

  /// Counters summed over all threads. Thread-safe.
  datagram_server_stats stats() const noexcept;

private:
  friend struct detail::datagram_worker;

  struct listener_entry {
    datagram_listener listener;
    std::uint16_t port = 0;
  };

  datagram_server_options options_;
  asio::ip::address address_;
  std::vector<listener_entry> listeners_;
  // Sorted: source ports dropped for listeners that drop their own ports.
  std::vector<std::uint16_t> dropped_ports_own_;
  // Sorted: source ports dropped for the others.
  std::vector<std::uint16_t> dropped_ports_;
  // Declared before the pool: the suspended loops use their buffers until the
  // pool's io_contexts are destroyed.
  std::vector<std::unique_ptr<detail::datagram_worker>> workers_;
  std::unique_ptr<detail::worker_pool> pool_;
  std::atomic<bool> ran_{false};
};

}  // namespace coronet
