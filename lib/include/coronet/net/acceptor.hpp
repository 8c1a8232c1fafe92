// coronet::tcp::acceptor: a listening TCP socket whose accept is co_await-able.
#pragma once

#include <cstdint>
#include <system_error>
#include <utility>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/socket_base.hpp>

#include "coronet/net/detail/io_awaiter.hpp"
#include "coronet/net/io_context_executor.hpp"
#include "coronet/net/socket.hpp"

namespace coronet::tcp {

/// The Asio acceptor a `coronet::tcp::acceptor` wraps.
using asio_acceptor = asio::basic_socket_acceptor<asio::ip::tcp, executor_type>;

namespace detail {

class accept_op : public io_awaiter<accept_op, bool> {
public:
  accept_op(asio_acceptor& a, std::error_code* ec) : io_awaiter(ec), acceptor_(a), peer_(a.get_executor()) {}
  void initiate(io_handler<accept_op> h) { acceptor_.async_accept(peer_, std::move(h)); }
  void complete(std::error_code ec) noexcept { ec_ = ec; }
  socket await_resume() {
    finish();
    return socket(std::move(peer_));
  }

private:
  asio_acceptor& acceptor_;
  asio_socket peer_;
};

}  // namespace detail

/// How a `tcp::acceptor` sets up its listening socket.
struct acceptor_options {
  /// `listen()` backlog.
  int backlog = asio::socket_base::max_listen_connections;
  /// SO_REUSEADDR, so a restarted server can bind while old connections linger.
  bool reuse_address = true;
  /// SO_REUSEPORT, so several acceptors (one per thread) share one port.
  bool reuse_port = false;
};

/// A listening TCP socket.
class acceptor {
public:
  /// How the listening socket is set up.
  using options = acceptor_options;

  /// Opens, binds to `ep` (port 0 picks a free port; see `local_endpoint()`)
  /// and listens, on `ex` (an `io_context&`, its executor, or an
  /// `asio::any_io_executor` wrapping one, such as `co_await this_executor`).
  /// Throws `std::system_error` (e.g. `address_in_use`), or
  /// `std::invalid_argument` for an `any_io_executor` that wraps no
  /// io_context executor.
  acceptor(io_context_executor ex, const endpoint& ep, const acceptor_options& opts = acceptor_options{});

  /// Takes over `other`'s descriptor; `other` is left closed.
  acceptor(acceptor&& other) noexcept = default;
  /// Closes this one's descriptor, then takes over `other`'s.
  acceptor& operator=(acceptor&& other) noexcept = default;

  /// Waits for the next connection and yields it as a connected socket.
  /// Throws `std::system_error`: `operation_aborted` when cancelled (through
  /// the chain's cancellation slot or `close()`), `no_descriptors` (EMFILE)
  /// when the process is out of file descriptors.
  [[nodiscard]] detail::accept_op accept() { return {acceptor_, nullptr}; }
  /// As above; errors go to `ec` and the yielded socket is closed.
  [[nodiscard]] detail::accept_op accept(std::error_code& ec) { return {acceptor_, &ec}; }

  /// The bound address, with the real port when bound to port 0. Throws
  /// `std::system_error`.
  endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  /// The bound port. Throws `std::system_error`.
  std::uint16_t port() const { return local_endpoint().port(); }

  /// Stops listening; a pending accept completes with `operation_aborted`.
  /// Call from the thread running the acceptor's io_context.
  void close() noexcept {
    std::error_code ignored;
    acceptor_.close(ignored);
  }

  /// True while listening.
  bool is_open() const noexcept { return acceptor_.is_open(); }

  /// The io_context executor the acceptor runs on.
  executor_type get_executor() noexcept { return acceptor_.get_executor(); }

  /// The wrapped Asio acceptor.
  asio_acceptor& native() noexcept { return acceptor_; }

private:
  asio_acceptor acceptor_;
};

}  // namespace coronet::tcp
