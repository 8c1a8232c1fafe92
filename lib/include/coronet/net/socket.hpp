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
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>

#include "coronet/net/detail/io_awaiter.hpp"
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

class read_some_op : public io_awaiter<read_some_op, std::size_t> {
public:
  read_some_op(asio_socket& s, asio::mutable_buffer b, std::error_code* ec) noexcept
      : io_awaiter(ec), socket_(s), buffer_(b) {}
  void initiate(io_handler<read_some_op> h) { socket_.async_read_some(buffer_, std::move(h)); }
  void complete(std::error_code ec, std::size_t n) noexcept {
    ec_ = ec;
    result_ = n;
  }

private:
  asio_socket& socket_;
  asio::mutable_buffer buffer_;
};

class read_exact_op : public io_awaiter<read_exact_op, std::size_t> {
public:
  read_exact_op(asio_socket& s, asio::mutable_buffer b, std::error_code* ec) noexcept
      : io_awaiter(ec), socket_(s), buffer_(b) {}
  void initiate(io_handler<read_exact_op> h) { asio::async_read(socket_, buffer_, std::move(h)); }
  void complete(std::error_code ec, std::size_t n) noexcept {
    ec_ = ec;
    result_ = n;
  }

private:
  asio_socket& socket_;
  asio::mutable_buffer buffer_;
};

template <class DynamicBuffer>
class read_until_op : public io_awaiter<read_until_op<DynamicBuffer>, std::size_t> {
public:
  read_until_op(asio_socket& s, DynamicBuffer b, std::string_view delim, std::error_code* ec)
      : io_awaiter<read_until_op, std::size_t>(ec), socket_(s), buffer_(std::move(b)), delim_(delim) {}
  void initiate(io_handler<read_until_op> h) {
    asio::async_read_until(socket_, std::move(buffer_), delim_, std::move(h));
  }
  void complete(std::error_code ec, std::size_t n) noexcept {
    this->ec_ = ec;
    this->result_ = n;
  }

private:
  asio_socket& socket_;
  DynamicBuffer buffer_;
  std::string_view delim_;
};

// Writes try the socket synchronously first (detail::write_now): when the
// kernel buffer has room, the data goes out without suspending or touching
// the reactor.
template <bool All>
class write_op : public io_awaiter<write_op<All>, std::size_t> {
public:
  write_op(asio_socket& s, asio::const_buffer b, std::error_code* ec) noexcept
      : io_awaiter<write_op, std::size_t>(ec), socket_(s), buffer_(b) {}

  bool await_ready() noexcept {
    if (buffer_.size() == 0) {
      this->result_ = 0;
      return true;
    }
    if (coronet::detail::tl_inline_completions >= coronet::detail::max_inline_completions)
      return false;
    std::error_code ec;
    const std::size_t total = coronet::detail::write_now(socket_, buffer_, All, ec);
    if (coronet::detail::would_block(ec)) {
      if (!All && total > 0) {
        ec.clear();
      } else {
        written_ = total;
        return false;
      }
    }
    ++coronet::detail::tl_inline_completions;
    this->ec_ = ec;
    this->result_ = total;
    return true;
  }

  void initiate(io_handler<write_op> h) {
    if constexpr (All)
      asio::async_write(socket_, buffer_ + written_, std::move(h));
    else
      socket_.async_write_some(buffer_ + written_, std::move(h));
  }
  void complete(std::error_code ec, std::size_t n) noexcept {
    this->ec_ = ec;
    this->result_ = written_ + n;
  }

private:
  asio_socket& socket_;
  asio::const_buffer buffer_;
  std::size_t written_ = 0;
};

class connect_op : public io_awaiter<connect_op, bool> {
public:
  connect_op(asio_socket& s, const endpoint& ep, std::error_code* ec) noexcept
      : io_awaiter(ec), socket_(s), endpoint_(ep) {}
  void initiate(io_handler<connect_op> h) { socket_.async_connect(endpoint_, std::move(h)); }
  void complete(std::error_code ec) noexcept { ec_ = ec; }
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
class socket {
public:
  /// An unopened socket on `ex` (an `io_context&`, its executor, or an
  /// `asio::any_io_executor` wrapping one, such as `co_await this_executor`);
  /// open it with `connect`. Throws `std::invalid_argument` for an
  /// `any_io_executor` that wraps no io_context executor.
  explicit socket(io_context_executor ex) : socket_(ex.get()) {}
  /// Takes over an Asio socket (e.g. one accepted by other code).
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

  /// The io_context executor the socket runs on.
  executor_type get_executor() noexcept { return socket_.get_executor(); }

  /// The wrapped Asio socket, for options and operations coronet does not wrap.
  asio_socket& native() noexcept { return socket_; }
  /// See `native()`.
  const asio_socket& native() const noexcept { return socket_; }

  /// True if the socket is open.
  bool is_open() const noexcept { return socket_.is_open(); }

  /// Reads at least one byte into `b`; yields the count. Throws
  /// `std::system_error` (`asio::error::eof` at end of stream). An empty `b`
  /// completes at once with 0.
  [[nodiscard]] detail::read_some_op read_some(asio::mutable_buffer b) noexcept { return {socket_, b, nullptr}; }
  /// Reads at least one byte; errors (including eof) go to `ec`.
  [[nodiscard]] detail::read_some_op read_some(asio::mutable_buffer b, std::error_code& ec) noexcept {
    return {socket_, b, &ec};
  }

  /// Fills `b` completely. Throws `std::system_error` if the stream ends
  /// (`asio::error::eof`) or fails first.
  [[nodiscard]] detail::read_exact_op read_exact(asio::mutable_buffer b) noexcept { return {socket_, b, nullptr}; }
  /// Fills `b`; on error sets `ec` and yields the bytes read before it.
  [[nodiscard]] detail::read_exact_op read_exact(asio::mutable_buffer b, std::error_code& ec) noexcept {
    return {socket_, b, &ec};
  }

  /// Reads into the dynamic buffer `b` (e.g. `asio::dynamic_buffer(str)`)
  /// until it contains `delim`; yields the size up to and including the
  /// delimiter (bytes after it stay in `b`). Throws `std::system_error`:
  /// `asio::error::eof` if the stream ends first, `asio::error::not_found`
  /// when `b` reaches its maximum size without the delimiter. `delim` must
  /// stay valid until the operation starts.
  template <class DynamicBuffer>
  [[nodiscard]] detail::read_until_op<DynamicBuffer> read_until(DynamicBuffer b, std::string_view delim) {
    return {socket_, std::move(b), delim, nullptr};
  }
  /// As above; errors go to `ec`.
  template <class DynamicBuffer>
  [[nodiscard]] detail::read_until_op<DynamicBuffer> read_until(DynamicBuffer b, std::string_view delim,
                                                                std::error_code& ec) {
    return {socket_, std::move(b), delim, &ec};
  }

  /// Writes some of `b` (at least one byte unless `b` is empty); yields the
  /// count. Throws `std::system_error` (e.g. `broken_pipe`,
  /// `connection_reset`).
  [[nodiscard]] detail::write_op<false> write_some(asio::const_buffer b) noexcept { return {socket_, b, nullptr}; }
  /// As above; errors go to `ec`.
  [[nodiscard]] detail::write_op<false> write_some(asio::const_buffer b, std::error_code& ec) noexcept {
    return {socket_, b, &ec};
  }

  /// Writes all of `b`, suspending while the peer does not read; yields
  /// `b.size()`. Throws `std::system_error` on failure. Tries a non-blocking
  /// write first, so it often completes without suspending.
  [[nodiscard]] detail::write_op<true> write_all(asio::const_buffer b) noexcept { return {socket_, b, nullptr}; }
  /// As above; on error sets `ec` and yields the bytes written before it.
  [[nodiscard]] detail::write_op<true> write_all(asio::const_buffer b, std::error_code& ec) noexcept {
    return {socket_, b, &ec};
  }

  /// Connects to `ep`, opening the socket if needed. Throws
  /// `std::system_error` (e.g. `connection_refused`).
  [[nodiscard]] detail::connect_op connect(const endpoint& ep) noexcept { return {socket_, ep, nullptr}; }
  /// As above; errors go to `ec`.
  [[nodiscard]] detail::connect_op connect(const endpoint& ep, std::error_code& ec) noexcept {
    return {socket_, ep, &ec};
  }

  /// Shuts down sending, receiving or both (`asio::socket_base::shutdown_send`
  /// ...). Throws `std::system_error`.
  void shutdown(asio::socket_base::shutdown_type what) { socket_.shutdown(what); }
  /// As above; errors go to `ec`.
  void shutdown(asio::socket_base::shutdown_type what, std::error_code& ec) noexcept { socket_.shutdown(what, ec); }

  /// Closes the socket; pending operations complete with
  /// `operation_aborted`. Throws `std::system_error`.
  void close() { socket_.close(); }
  /// As above; errors go to `ec`.
  void close(std::error_code& ec) noexcept { socket_.close(ec); }

  /// The local address. Throws `std::system_error`.
  endpoint local_endpoint() const { return socket_.local_endpoint(); }
  /// The peer's address. Throws `std::system_error` (e.g. `not_connected`).
  endpoint remote_endpoint() const { return socket_.remote_endpoint(); }

private:
  asio_socket socket_;
};

}  // namespace coronet::tcp
