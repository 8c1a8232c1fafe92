// One stream server connection from accept to close: socket options, PROXY header, TLS
// handshake, the user's handler, then the flush and a close without a reset.
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <asio/error.hpp>
#include <asio/ssl/error.hpp>

#include "coronet/core/detail/log_limiter.hpp"
#include "coronet/core/log.hpp"
#include "coronet/runtime/background_writer.hpp"
#include "runtime/listener.hpp"
#include "server/proxy_prelude.hpp"
#include "server/server_tls.hpp"
#include "server/stream_runtime.hpp"

namespace coronet::detail {
namespace {

using steady = std::chrono::steady_clock;

// How long a closing connection reads and drops what its peer still sends, so the close
// does not turn into a reset that destroys the output in flight.
constexpr auto linger_time = std::chrono::milliseconds(500);

log_limiter handler_error_log;
log_limiter on_close_log;

std::string describe(const tcp::endpoint& e) { return e.address().to_string() + ":" + std::to_string(e.port()); }

// The ways a handler's connection normally ends: the peer left, the drain, a close.
bool normal_end(const std::error_code& ec) noexcept {
  return ec == asio::error::eof || ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::bad_descriptor || ec == asio::ssl::error::stream_truncated;
}

// The peer's address as accept() saw it. getpeername() fails once the peer has reset (a
// load balancer's health check does at once); SO_PEERNAME still answers then on Linux.
tcp::endpoint peer_of(tcp::asio_socket& s, const tcp::endpoint& local) noexcept {
  std::error_code ec;
  tcp::endpoint peer = s.remote_endpoint(ec);
  if (!ec)
    return peer;
#ifdef SO_PEERNAME
  sockaddr_storage address{};
  socklen_t length = local.address().is_v6() ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  if (::getsockopt(s.native_handle(), SOL_SOCKET, SO_PEERNAME, &address, &length) == 0 &&
      length <= sizeof address) {
    std::memcpy(peer.data(), &address, length);
    return peer;
  }
#else
  (void)local;
#endif
  return {};
}

// Links a connection into its worker's list (for the sweeper and the drain) while it lives.
// The worker is the connection's (`worker_`): the guard is one pointer in the frame.
class linked {
public:
  explicit linked(connection_core& c) noexcept : c_(c) {
    stream_worker& w = *c.worker_;
    c.next_ = w.head;
    if (c.next_ != nullptr)
      c.next_->prev_ = &c;
    w.head = &c;
  }
  linked(const linked&) = delete;
  linked& operator=(const linked&) = delete;
  ~linked() {
    stream_worker& w = *c_.worker_;
    if (c_.prev_ != nullptr)
      c_.prev_->next_ = c_.next_;
    else
      w.head = c_.next_;
    if (c_.next_ != nullptr)
      c_.next_->prev_ = c_.prev_;
    if (w.draining && w.head == nullptr && w.sweep_timer)
      w.sweep_timer->cancel();
  }

private:
  connection_core& c_;
};

void report_handler_failure(stream_worker& w, const std::exception& e) {
  w.errors.add();
  handler_error_log.log(log_level::error, std::string("stream_server: a connection's handler failed: ") + e.what());
}

// An exception a connection's handler let out: counted and logged, unless it is the end of
// the connection (the peer leaving, the drain). False for one that is no std::exception.
// Not in run_as: a catch clause's parameter would keep a slot in the connection's frame.
bool report_handler_exception(stream_worker& w, std::exception_ptr e) {
  // Null for what is not an exception object (a thread's forced unwinding): let it go on.
  if (!e)
    return false;
  try {
    std::rethrow_exception(std::move(e));
  } catch (const std::system_error& err) {
    if (!normal_end(err.code()))
      report_handler_failure(w, err);
  } catch (const std::exception& err) {
    report_handler_failure(w, err);
  } catch (...) {
    return false;
  }
  return true;
}

// The PROXY header's read. Not a coroutine: the prelude's fields are copied into the
// reading coroutine's frame, not kept in the connection's for its whole life.
template <class Stream>
task<bool> read_proxy_header(stream_worker& w, stream_connection<Stream>& c) {
  return accept_proxy_header(proxy_prelude{lowest(c.stream()), c.peer_, c.local_, w.opts.proxy_protocol,
                                           w.proxy_trusted, w.opts.handshake_timeout, c.in_handshake_,
                                           c.handshake_since_, w.draining, w.proxy_header_errors,
                                           w.proxy_health_checks, w.rt.proxy_log});
}

// Closes the connection's transport; its stream_writer handles see it closed.
template <class Stream>
void close_now(stream_connection<Stream>& c) noexcept {
  c.close_transport();
  if (c.handle_ != nullptr)
    c.handle_->closed.store(true, std::memory_order_release);
}

// A closed connection leaves the count, and its close hooks run.
template <class Stream>
void release_connection(stream_worker& w, stream_connection<Stream>& c, bool opened) noexcept {
  w.rt.connections_now.fetch_sub(1, std::memory_order_relaxed);
  // Taken out first: a callback that adds one (which then runs too) does not invalidate
  // the list being run.
  while (c.extras_ != nullptr && !c.extras_->on_close.empty()) {
    const std::vector<std::function<void()>> callbacks = std::move(c.extras_->on_close);
    c.extras_->on_close.clear();
    for (const auto& f : callbacks) {
      try {
        if (f)
          f();
      } catch (const std::exception& e) {
        on_close_log.log(log_level::error, std::string("stream_server: an on_close callback threw: ") + e.what());
      } catch (...) {
        on_close_log.log(log_level::error, "stream_server: an on_close callback threw a non-standard exception");
      }
    }
  }
  if (opened && w.opts.log_connections) {
    try {
      log(log_level::info, "connection closed: " + describe(c.peer_));
    } catch (...) {
    }
  }
}

// The end of a connection, after its handler (if `opened`). A coroutine of its own: its
// awaiters are not part of the frame every connection holds for its whole life.
template <class Stream>
task<void> close_connection(stream_worker& w, stream_connection<Stream>& c, bool opened) {
  background_writer<Stream>* io = &c.output();
  // What the handler left goes out before the close (bounded by the sweeper's stall
  // deadline and the drain's), and the close is no reset.
  if (opened && !c.closed_) {
    io->flush();
    co_await io->drained();
    if constexpr (std::is_same_v<Stream, tls::stream>)
      co_await tls_close_notify(c.stream(), linger_time);
    else
      co_await tcp::lingering_close(c.stream(), linger_time);
  }
  // The write in flight refers to the socket: close, and wait for it to end.
  close_now(c);
  co_await io->drained();
  release_connection(w, c, opened);
}

// A namespace-scope constant: a local one would take a byte of the connection's frame.
template <class Stream>
constexpr bool is_tls = std::is_same_v<Stream, tls::stream>;

// What a plain TCP connection is given in place of a certificate.
struct no_certificate {};
template <class Stream>
using certificate_of = std::conditional_t<is_tls<Stream>, std::shared_ptr<asio::ssl::context>, no_certificate>;

// A new connection's runtime state and addresses. Not in run_as: every local of that frame
// (an error code here) lives as long as the connection.
template <class Stream>
void open_connection(stream_worker& w, stream_connection<Stream>& c, std::uint64_t id, std::size_t listener) {
  c.worker_ = &w;
  c.server_ = &w.rt.owner;
  c.id_ = id;
  c.listener_ = listener;
  std::error_code ignored;
  c.local_ = lowest(c.stream()).local_endpoint(ignored);
  c.peer_ = peer_of(lowest(c.stream()), c.local_);
  c.last_active_ = w.now;
  c.created_ = steady::now();
  c.idle_timeout_ = std::max(w.opts.idle_timeout, std::chrono::milliseconds(0));
  // A connection taken over during a reuse_port drain gets a moment to be served.
  c.fresh_ = w.draining;
}

// The connection's coroutine, given its writer (made around the accepted socket by
// run_stream_connection: the socket is not copied into this frame, which lives as long as
// the connection) and, for TLS, the certificate the stream was made with (a parameter, so
// it outlives the connection, a local).
template <class Stream>
task<void> run_as(stream_worker& w, writer_ptr<Stream> writer, std::uint64_t id, std::size_t listener,
                  [[maybe_unused]] certificate_of<Stream> certificate) {
  // The order of the parameters and locals is the frame's: the empty certificate and the
  // flag share the padding before the connection.
  bool opened = true;
  stream_connection<Stream> c(std::move(writer));
  open_connection(w, c, id, listener);
  const linked in_list(c);
  if (w.opts.proxy_protocol != proxy_protocol_mode::off) {
    opened = co_await read_proxy_header(w, c);
  }
  if constexpr (is_tls<Stream>) {
    if (opened) {
      c.in_handshake_ = true;
      c.handshake_since_ = steady::now();
      std::error_code ec;
      co_await c.stream().handshake(tls::stream::server, ec);
      c.in_handshake_ = false;
      if (ec) {
        opened = false;
        // A peer that closes or resets before the handshake is through (a load balancer's
        // check-ssl probe, a port scan) just left: only what it sent can fail a handshake.
        if (!normal_end(ec))
          w.rt.tls_handshake_log.log(log_level::info, "stream_server: TLS handshake failed from " +
                                                          describe(c.peer_) + ": " +
                                                          tls::describe_handshake_error(c.stream(), ec));
      }
    }
  }
  if (opened) {
    if (w.opts.log_connections)
      log(log_level::info, "connection from " + describe(c.peer_));
    c.last_active_ = steady::now();
    // Awaited here, not in a coroutine of its own: every frame lives as long as the
    // connection, and idle connections are counted in tens of thousands.
    try {
      if constexpr (is_tls<Stream>)
        co_await w.rt.handlers.tls(c);
      else
        co_await w.rt.handlers.plain(c);
    } catch (...) {
      if (!report_handler_exception(w, std::current_exception()))
        throw;
    }
  }
  // The closing task is made first: only making it allocates (its frame), and without it the
  // connection still closes and is released, with no lingering close.
  task<void> closing;
  try {
    closing = close_connection(w, c, opened);
  } catch (const std::bad_alloc&) {
    close_now(c);
    release_connection(w, c, opened);
    co_return;
  }
  co_await std::move(closing);
}

}  // namespace

task<void> run_stream_connection(stream_worker& w, tcp::socket sock, std::uint64_t id, std::size_t listener) {
  set_socket_options(sock, w.opts.tcp_keepalive, w.opts.tcp_nodelay);
  if (w.rt.listeners[listener].tls) {
    std::shared_ptr<asio::ssl::context> certificate = w.rt.tls->context();
    writer_ptr<tls::stream> writer =
        background_writer<tls::stream>::create(tls::stream(std::move(sock), *certificate), &w.bytes_out);
    if (!w.rt.listeners[listener].alpn.empty())
      server_tls::offer_alpn(writer->stream().ssl_handle(), w.rt.listeners[listener].alpn);
    return run_as<tls::stream>(w, std::move(writer), id, listener, std::move(certificate));
  }
  // Backend io_uring: its reads and writes are ring requests from here on (the PROXY header's
  // readiness wait and peeks stay Asio's and synchronous calls).
  sock.native().use_ring(w.ring);
  return run_as<tcp::socket>(w, background_writer<tcp::socket>::create(std::move(sock), &w.bytes_out), id, listener,
                             no_certificate{});
}

task<void> reject_stream_connection(stream_worker& w, tcp::socket sock, std::size_t listener) {
  std::string text;
  // A TLS peer would take plaintext for a broken record: it is just closed.
  if (w.rt.on_reject && !w.rt.listeners[listener].tls) {
    try {
      text = w.rt.on_reject(listener);
    } catch (const std::exception& e) {
      log(log_level::error, std::string("stream_server: on_reject threw: ") + e.what());
    }
  }
  if (!text.empty()) {
    std::error_code ec;
    co_await sock.write_all(asio::buffer(text), ec);
    if (!ec)
      w.bytes_out.add(text.size());
  }
  co_await tcp::lingering_close(sock, linger_time);
}

}  // namespace coronet::detail
