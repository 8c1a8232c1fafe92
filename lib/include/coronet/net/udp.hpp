// coronet::udp::socket: a UDP socket whose receive_from / send_to are co_await-able.
#pragma once

#include <cstddef>
#include <cstdint>
#include <system_error>
#include <utility>

#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <asio/socket_base.hpp>

#include "coronet/net/detail/io_awaiter.hpp"
#include "coronet/net/detail/try_now.hpp"
#include "coronet/net/io_context_executor.hpp"

namespace coronet::udp {

/// Executor of a coronet UDP socket: a plain io_context executor (cheaper per
/// operation than `asio::any_io_executor`).
using executor_type = asio::io_context::executor_type;
/// A UDP endpoint (address and port).
using endpoint = asio::ip::udp::endpoint;
/// The Asio socket a `coronet::udp::socket` wraps.
using asio_socket = asio::basic_datagram_socket<asio::ip::udp, executor_type>;

namespace detail {

using coronet::detail::io_awaiter;
using coronet::detail::io_handler;

class receive_from_op : public io_awaiter<receive_from_op, std::size_t> {
public:
  receive_from_op(asio_socket& s, asio::mutable_buffer b, endpoint& sender, std::error_code* ec) noexcept
      : io_awaiter(ec), socket_(s), buffer_(b), sender_(sender) {}
  void initiate(io_handler<receive_from_op> h) { socket_.async_receive_from(buffer_, sender_, std::move(h)); }
  void complete(std::error_code ec, std::size_t n) noexcept {
    ec_ = ec;
    result_ = n;
  }

private:
  asio_socket& socket_;
  asio::mutable_buffer buffer_;
  endpoint& sender_;
};

// Like TCP writes, a send tries the socket synchronously first (see
// detail/try_now.hpp): a datagram almost always fits the send buffer.
class send_to_op : public io_awaiter<send_to_op, std::size_t> {
public:
  send_to_op(asio_socket& s, asio::const_buffer b, const endpoint& destination, std::error_code* ec) noexcept
      : io_awaiter(ec), socket_(s), buffer_(b), destination_(destination) {}

  bool await_ready() noexcept {
    if (coronet::detail::tl_inline_completions >= coronet::detail::max_inline_completions)
      return false;
    std::error_code ec;
    coronet::detail::ensure_non_blocking(socket_, ec);
    std::size_t n = 0;
    if (!ec)
      n = socket_.send_to(buffer_, destination_, 0, ec);
    if (coronet::detail::would_block(ec))
      return false;
    ++coronet::detail::tl_inline_completions;
    ec_ = ec;
    result_ = n;
    return true;
  }

  void initiate(io_handler<send_to_op> h) { socket_.async_send_to(buffer_, destination_, std::move(h)); }
  void complete(std::error_code ec, std::size_t n) noexcept {
    ec_ = ec;
    result_ = n;
  }

private:
  asio_socket& socket_;
  asio::const_buffer buffer_;
  endpoint destination_;
};

}  // namespace detail

/// How a `udp::socket` sets up its bound socket.
struct socket_options {
  /// SO_REUSEADDR.
  bool reuse_address = false;
  /// SO_REUSEPORT, so several sockets (one per thread) share one port; the
  /// kernel spreads datagrams over them by source address and port.
  bool reuse_port = false;
};

/// A UDP socket.
///
/// Every operation comes in two forms, like Asio's: one that throws
/// `std::system_error` from the `co_await` expression on failure (including
/// `asio::error::operation_aborted` when the operation was cancelled through
/// the awaiting chain's cancellation slot, e.g. by `with_timeout`, or by
/// `close()`), and one taking `std::error_code&` that never throws for I/O
/// errors. Neither allocates per operation in steady state.
///
/// A socket is used from the thread running its io_context only. Several
/// receives may be pending at once; each gets its own datagram.
class socket {
public:
  /// How the bound socket is set up.
  using options = socket_options;

  /// An unopened socket on `ex` (an `io_context&`, its executor, or an
  /// `asio::any_io_executor` wrapping one, such as `co_await this_executor`);
  /// `native().open(...)` it before use. Throws `std::invalid_argument` for
  /// an `any_io_executor` that wraps no io_context executor.
  explicit socket(io_context_executor ex) : socket_(ex.get()) {}
  /// Opens a socket on `ex` (as above) for `local`'s protocol and binds it to
  /// `local` (port 0 picks a free port; see `local_endpoint()`). Throws
  /// `std::system_error` (e.g. `address_in_use`, `address_not_available`),
  /// or `std::invalid_argument` as above.
  socket(io_context_executor ex, const endpoint& local, const socket_options& opts = socket_options{});
  /// Takes over an Asio socket (open or not).
  explicit socket(asio_socket s) : socket_(std::move(s)) {
    std::error_code ignored;
    if (socket_.is_open())
      socket_.non_blocking(true, ignored);
  }

  /// Takes over `other`'s descriptor; `other` is left closed.
  socket(socket&& other) noexcept = default;
  /// Closes this one's descriptor, then takes over `other`'s.
  socket& operator=(socket&& other) noexcept = default;

  /// Closes the socket; pending operations complete with `operation_aborted`.
  ~socket() = default;

  /// Waits for one datagram, copies it into `b` and sets `sender` to its
  /// source; yields the number of bytes copied. A datagram longer than `b`
  /// is truncated to `b.size()` (the rest is lost, and nothing says so: to
  /// detect it, receive into a buffer one byte larger than the largest
  /// datagram you accept). An empty datagram yields 0. Throws
  /// `std::system_error` (`operation_aborted` when cancelled or closed).
  /// `sender` must stay valid until the operation completes.
  [[nodiscard]] detail::receive_from_op receive_from(asio::mutable_buffer b, endpoint& sender) noexcept {
    return {socket_, b, sender, nullptr};
  }
  /// As above; errors go to `ec` and the yielded count is 0.
  [[nodiscard]] detail::receive_from_op receive_from(asio::mutable_buffer b, endpoint& sender,
                                                     std::error_code& ec) noexcept {
    return {socket_, b, sender, &ec};
  }

  /// Sends `b` as one datagram to `destination`; yields `b.size()`. Tries a
  /// non-blocking send first, so it usually completes without suspending.
  /// Throws `std::system_error` (e.g. `message_size` for a datagram too large
  /// for the protocol, `network_unreachable`, `operation_aborted`).
  [[nodiscard]] detail::send_to_op send_to(asio::const_buffer b, const endpoint& destination) noexcept {
    return {socket_, b, destination, nullptr};
  }
  /// As above; errors go to `ec` and the yielded count is 0.
  [[nodiscard]] detail::send_to_op send_to(asio::const_buffer b, const endpoint& destination,
                                           std::error_code& ec) noexcept {
    return {socket_, b, destination, &ec};
  }

  /// Closes the socket; pending operations complete with
  /// `operation_aborted`. Call from the thread running the io_context.
  /// Throws `std::system_error`.
  void close() { socket_.close(); }
  /// As above; errors go to `ec`.
  void close(std::error_code& ec) noexcept { socket_.close(ec); }

  /// True if the socket is open.
  bool is_open() const noexcept { return socket_.is_open(); }

  /// The bound address, with the real port when bound to port 0. Throws
  /// `std::system_error`.
  endpoint local_endpoint() const { return socket_.local_endpoint(); }
  /// The bound port. Throws `std::system_error`.
  std::uint16_t port() const { return local_endpoint().port(); }

  /// The io_context executor the socket runs on.
  executor_type get_executor() noexcept { return socket_.get_executor(); }

  /// The wrapped Asio socket, for options and operations coronet does not wrap.
  asio_socket& native() noexcept { return socket_; }
  /// See `native()`.
  const asio_socket& native() const noexcept { return socket_; }

private:
  asio_socket socket_;
};

}  // namespace coronet::udp
