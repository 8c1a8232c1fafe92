// coronet::tcp::socket: a TCP stream whose operations are co_await-able.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <asio/buffer.hpp>
#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "coronet/net/detail/basic_socket.hpp"
#include "coronet/net/detail/io_awaiter.hpp"
#include "coronet/net/detail/ring_transport.hpp"
#include "coronet/net/detail/stream_ops.hpp"
#include "coronet/net/detail/try_now.hpp"
#include "coronet/net/io_context_executor.hpp"

namespace coronet::tcp {

/// Executor of every coronet socket: a plain io_context executor (cheaper per
/// operation than `asio::any_io_executor`; constructors take any
/// `io_context_executor`).
using executor_type = asio::io_context::executor_type;
/// A TCP endpoint (address and port).
using endpoint = asio::ip::tcp::endpoint;
/// The Asio socket a `coronet::tcp::socket` wraps.
using asio_socket = asio::basic_stream_socket<asio::ip::tcp, executor_type>;

namespace detail {

using coronet::detail::io_awaiter;
using coronet::detail::io_handler;

class connect_op : public io_awaiter<connect_op, bool> {
public:
  connect_op(asio_socket& s, const endpoint& ep, std::error_code* ec) noexcept
      : io_awaiter(ec), socket_(s), endpoint_(ep) {}
  void initiate(io_handler<connect_op> h) { socket_.async_connect(endpoint_, std::move(h)); }
  void await_resume() {
    finish();
    if (!ec_)
      socket_.non_blocking(true, ec_);
  }

private:
  asio_socket& socket_;
  endpoint endpoint_;
};

}  // namespace detail

/// A connected (or connecting) TCP socket.
///
/// Every operation comes in two forms, like Asio's: one that throws
/// `std::system_error` from the `co_await` expression on failure (including
/// `asio::error::eof` when the peer closed, and
/// `asio::error::operation_aborted` when the operation was cancelled through
/// the awaiting chain's cancellation slot, e.g. by `with_timeout`), and one
/// taking `std::error_code&` that never throws for I/O errors and returns
/// what was transferred before the error.
///
/// At most one read and one write may be pending at a time. A socket is used
/// from the thread running its io_context only. Awaiting an operation from a
/// coroutine that is not a coronet task works but is not cancellable.
///
/// Construction, `native()`, `is_open()`, `close()` and `local_endpoint()`
/// are those of `coronet::detail::basic_socket`; the reads and writes
/// (`read_some`, `read_exact`, `read_until`, `write_some`, `write_all`,
/// `async_write_all`) those of `coronet::detail::stream_operations`. Writes
/// try a non-blocking write first, so they often complete without
/// suspending. Satisfies `coronet::byte_stream`.
///
/// The reads and writes go through Asio's reactor (epoll), or through the
/// io_context's io_uring ring for a connection a server with
/// `backend = io_backend::io_uring` accepted (`native().on_ring()`; see
/// docs/architecture.md). Either way, close it with `close()`, not through
/// `lowest_layer()`, while operations are pending: only `close()` ends the
/// ring's.
class socket : public coronet::detail::basic_socket<coronet::detail::tcp_transport>,
               public coronet::detail::stream_operations<socket, coronet::detail::tcp_transport, true> {
public:
  /// Writes may be tried synchronously before suspending (see `byte_stream`).
  static constexpr bool try_write_first = true;

  /// An unopened socket on an executor (open it with `connect`), or one that
  /// takes over an Asio socket: see `basic_socket`.
  using basic_socket::basic_socket;

  /// The TCP socket itself (as `tls::stream::lowest_layer()` gives the one
  /// beneath TLS), for addresses, options and shutdown.
  asio_socket& lowest_layer() noexcept { return socket_; }
  /// See `lowest_layer()`.
  const asio_socket& lowest_layer() const noexcept { return socket_; }

  /// Writes as much of `b` as the kernel takes without blocking; yields the
  /// count. Sets `ec` when it stopped short (to `asio::error::would_block`
  /// when the send buffer is full). Never throws.
  std::size_t try_write(asio::const_buffer b, std::error_code& ec) noexcept {
    return coronet::detail::write_now(socket_, b, true, ec);
  }

  /// Connects to `ep`, opening the socket if needed. Throws
  /// `std::system_error` (e.g. `connection_refused`), or with `ec` given,
  /// sets it.
  [[nodiscard]] detail::connect_op connect(const endpoint& ep, coronet::detail::error_target ec = {}) noexcept {
    return {socket_, ep, ec.get()};
  }

  /// Shuts down sending, receiving or both (`asio::socket_base::shutdown_send`
  /// ...). Throws `std::system_error`.
  void shutdown(asio::socket_base::shutdown_type what) { socket_.shutdown(what); }
  /// As above; errors go to `ec`.
  void shutdown(asio::socket_base::shutdown_type what, std::error_code& ec) noexcept { socket_.shutdown(what, ec); }

  /// The peer's address. Throws `std::system_error` (e.g. `not_connected`).
  endpoint remote_endpoint() const { return socket_.remote_endpoint(); }
};

}  // namespace coronet::tcp
