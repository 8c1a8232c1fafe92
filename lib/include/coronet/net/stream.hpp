// coronet::byte_stream: what every connected stream transport offers (plain TCP, TLS, ...).
#pragma once

#include <concepts>
#include <cstddef>
#include <system_error>
#include <type_traits>

#include <asio/buffer.hpp>

#include "coronet/net/socket.hpp"

namespace coronet {

/// An awaiter whose `co_await` yields something convertible to `T`: the
/// result of one stream operation.
template <class A, class T>
concept awaiter_of = requires(A a) {
  { a.await_ready() } -> std::convertible_to<bool>;
  { a.await_resume() } -> std::convertible_to<T>;
};

namespace detail {

// A completion handler of the shape byte_stream's async_write_all takes,
// only for checking the concept.
struct write_handler_archetype {
  void operator()(std::error_code, std::size_t) const noexcept {}
};

}  // namespace detail

/// A connected, bidirectional byte stream whose operations are co_await-able:
/// `tcp::socket` and `tls::stream` satisfy it, and any other transport (an
/// io_uring socket) that offers the same members. Code written against it
/// (`background_writer<Stream>`, sessions) serves every transport without a
/// branch per transport.
///
/// Required of a `byte_stream` `s` (with `mb` an `asio::mutable_buffer`, `cb`
/// an `asio::const_buffer`, `ec` a `std::error_code&`):
/// - `co_await s.read_some(mb)` yields the bytes read (at least one, unless
///   `mb` is empty) and throws `std::system_error` on failure, `asio::error::eof`
///   at the end of the stream; `co_await s.read_some(mb, ec)` reports errors
///   in `ec` instead and yields what was read.
/// - `co_await s.write_all(cb)` / `s.write_all(cb, ec)`: writes all of `cb`,
///   yields the count; errors as for `read_some`.
/// - `s.async_write_all(cb, h)` starts writing all of `cb` and calls `h(ec, n)`
///   once done, for writers that keep no coroutine waiting (the handler's
///   associated allocator is honoured, so steady-state writes need not
///   allocate).
/// - `s.close(ec)` closes the connection without throwing; pending operations
///   complete with `asio::error::operation_aborted`. `s.is_open()` says
///   whether it still is open.
/// - `s.lowest_layer()` is the TCP socket beneath (`tcp::asio_socket&`), for
///   the peer's and local addresses, socket options and `shutdown`.
/// - `s.get_executor()` is the io_context executor the stream runs on
///   (`tcp::executor_type`); the stream is used from that io_context's
///   thread only.
/// - `S::try_write_first`, a constant: true when a synchronous non-blocking
///   write may be tried before suspending (TCP), in which case
///   `s.try_write(cb, ec)` writes what the kernel takes without blocking,
///   yields the count and sets `ec` to `asio::error::would_block` when it
///   stopped for a full send buffer; false when every write must go through
///   the asynchronous operation (TLS: encrypted records must reach the socket
///   whole).
/// - Moving the stream keeps the connection (move construction).
template <class S>
concept byte_stream =
    std::move_constructible<S> &&
    requires(S& s, const S& cs, asio::mutable_buffer mb, asio::const_buffer cb, std::error_code& ec,
             detail::write_handler_archetype h) {
      typename std::bool_constant<S::try_write_first>;
      { s.read_some(mb) } -> awaiter_of<std::size_t>;
      { s.read_some(mb, ec) } -> awaiter_of<std::size_t>;
      { s.write_all(cb) } -> awaiter_of<std::size_t>;
      { s.write_all(cb, ec) } -> awaiter_of<std::size_t>;
      s.async_write_all(cb, h);
      { s.close(ec) } noexcept;
      { cs.is_open() } -> std::convertible_to<bool>;
      { s.lowest_layer() } -> std::same_as<tcp::asio_socket&>;
      { s.get_executor() } -> std::convertible_to<tcp::executor_type>;
    } &&
    (!S::try_write_first || requires(S& s, asio::const_buffer cb, std::error_code& ec) {
      { s.try_write(cb, ec) } -> std::same_as<std::size_t>;
    });

static_assert(byte_stream<tcp::socket>);

}  // namespace coronet
