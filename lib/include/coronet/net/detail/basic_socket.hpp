// The members every coronet socket has (TCP stream, UDP), over the Asio socket it wraps.
#pragma once

#include <system_error>
#include <utility>

#include "coronet/net/io_context_executor.hpp"

namespace coronet::detail {

/// An Asio socket of type `AsioSocket`, kept in non-blocking mode (so that
/// the try-now operations never block), with what `tcp::socket` and
/// `udp::socket` both offer.
template <class AsioSocket>
class basic_socket {
public:
  /// The io_context executor the socket runs on.
  using executor_type = typename AsioSocket::executor_type;
  /// An address and port of the socket's protocol.
  using endpoint_type = typename AsioSocket::endpoint_type;

  /// An unopened socket on `ex` (an `io_context&`, its executor, or an
  /// `asio::any_io_executor` wrapping one, such as `co_await this_executor`).
  /// Throws `std::invalid_argument` for an `any_io_executor` that wraps no
  /// io_context executor.
  explicit basic_socket(io_context_executor ex) : socket_(ex.get()) {}
  /// Takes over an Asio socket (open or not, e.g. one accepted by other code).
  explicit basic_socket(AsioSocket s) : socket_(std::move(s)) {
    std::error_code ignored;
    if (socket_.is_open())
      socket_.non_blocking(true, ignored);
  }

  /// The io_context executor the socket runs on.
  executor_type get_executor() noexcept { return socket_.get_executor(); }

  /// The wrapped Asio socket, for options and operations coronet does not wrap.
  AsioSocket& native() noexcept { return socket_; }
  /// See `native()`.
  const AsioSocket& native() const noexcept { return socket_; }

  /// True if the socket is open.
  bool is_open() const noexcept { return socket_.is_open(); }

  /// Closes the socket; pending operations complete with
  /// `operation_aborted`. Call from the thread running the io_context.
  /// Throws `std::system_error`.
  void close() { socket_.close(); }
  /// As above; errors go to `ec`.
  void close(std::error_code& ec) noexcept { socket_.close(ec); }

  /// The local address (for a socket bound to port 0, with the real port).
  /// Throws `std::system_error`.
  endpoint_type local_endpoint() const { return socket_.local_endpoint(); }

protected:
  AsioSocket socket_;
};

}  // namespace coronet::detail
