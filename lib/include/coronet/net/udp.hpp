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

#include "coronet/net/detail/basic_socket.hpp"
#include "coronet/net/detail/io_awaiter.hpp"
#include "coronet/net/detail/stream_ops.hpp"
#include "coronet/net/detail/try_now.hpp"
#include "coronet/net/io_context_executor.hpp"

namespace coronet::udp {

/// How a `udp::socket` sets up its bound socket.
struct socket_options {
  /// SO_REUSEADDR.
  bool reuse_address = false;
  /// SO_REUSEPORT, so several sockets (one per thread) share one port; the
  /// kernel spreads datagrams over them by source address and port.
  bool reuse_port = false;
};

/// Executor of a coronet UDP socket: a plain io_context executor (cheaper per
/// operation than `asio::any_io_executor`).
using executor_type = asio::io_context::executor_type;
/// A UDP endpoint (address and port).
using endpoint = asio::ip::udp::endpoint;
/// The Asio socket a `coronet::udp::socket` wraps.
using asio_socket = asio::basic_datagram_socket<asio::ip::udp, executor_type>;

namespace detail {

// Initiates async_receive_from, storing the source in `*sender`.
struct start_receive_from {
  endpoint* sender;
  template <class Handler>
  void operator()(asio_socket& s, asio::mutable_buffer& b, Handler&& h) const {
    s.async_receive_from(b, *sender, std::forward<Handler>(h));
  }
};

using receive_from_op = coronet::detail::transfer_op<asio_socket, asio::mutable_buffer, start_receive_from>;

// Like TCP writes, a send tries the socket synchronously first (see
// detail/try_now.hpp): a datagram almost always fits the send buffer.
class send_to_op : public coronet::detail::io_awaiter<send_to_op, std::size_t> {
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

  void initiate(coronet::detail::io_handler<send_to_op> h) { socket_.async_send_to(buffer_, destination_, std::move(h)); }

private:
  asio_socket& socket_;
  asio::const_buffer buffer_;
  endpoint destination_;
};

}  // namespace detail

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
class socket : public coronet::detail::basic_socket<asio_socket> {
public:
  /// How the bound socket is set up.
  using options = socket_options;

  /// An unopened socket on an executor (`native().open(...)` it before use),
  /// or one that takes over an Asio socket: see `basic_socket`.
  using basic_socket::basic_socket;

  /// Opens a socket on `ex` (as above) for `local`'s protocol and binds it to
  /// `local` (port 0 picks a free port; see `local_endpoint()`). Throws
  /// `std::system_error` (e.g. `address_in_use`, `address_not_available`),
  /// or `std::invalid_argument` as above.
  socket(io_context_executor ex, const endpoint& local, const socket_options& opts = socket_options{});

  /// Waits for one datagram, copies it into `b` and sets `sender` to its
  /// source; yields the number of bytes copied. A datagram longer than `b`
  /// is truncated to `b.size()` (the rest is lost, and nothing says so: to
  /// detect it, receive into a buffer one byte larger than the largest
  /// datagram you accept). An empty datagram yields 0. Throws
  /// `std::system_error` (`operation_aborted` when cancelled or closed), or
  /// with `ec` given, sets it and yields 0. `sender` must stay valid until
  /// the operation completes.
  [[nodiscard]] detail::receive_from_op receive_from(asio::mutable_buffer b, endpoint& sender,
                                                     coronet::detail::error_target ec = {}) noexcept {
    return {socket_, b, ec.get(), detail::start_receive_from{&sender}};
  }

  /// Sends `b` as one datagram to `destination`; yields `b.size()`. Tries a
  /// non-blocking send first, so it usually completes without suspending.
  /// Throws `std::system_error` (e.g. `message_size` for a datagram too large
  /// for the protocol, `network_unreachable`, `operation_aborted`), or with
  /// `ec` given, sets it and yields 0.
  [[nodiscard]] detail::send_to_op send_to(asio::const_buffer b, const endpoint& destination,
                                           coronet::detail::error_target ec = {}) noexcept {
    return {socket_, b, destination, ec.get()};
  }

  /// The bound port. Throws `std::system_error`.
  std::uint16_t port() const { return local_endpoint().port(); }
};

}  // namespace coronet::udp
