// The awaitable operations of every coronet byte stream (tcp::socket,
// tls::stream), written once over the Asio object beneath.
#pragma once

#include <cstddef>
#include <string_view>
#include <system_error>
#include <utility>

#include <asio/buffer.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>

#include "coronet/net/detail/io_awaiter.hpp"
#include "coronet/net/detail/try_now.hpp"

namespace coronet::detail {

/// Awaiter of one Asio operation on `Native` that transfers bytes through a
/// `Buffer` and yields their count. `Start` is a callable
/// `(Native&, Buffer&, handler)` that initiates it.
template <class Native, class Buffer, class Start>
class transfer_op : public io_awaiter<transfer_op<Native, Buffer, Start>, std::size_t> {
public:
  /// The operation `start` on `s` and `b`, reporting errors to `*ec` (or by
  /// throwing when `ec` is null).
  transfer_op(Native& s, Buffer b, std::error_code* ec, Start start = Start{}) noexcept
      : io_awaiter<transfer_op, std::size_t>(ec), native_(s), buffer_(std::move(b)), start_(start) {}
  /// Starts the operation (called by `io_awaiter::await_suspend`).
  void initiate(io_handler<transfer_op> h) { start_(native_, buffer_, std::move(h)); }

private:
  Native& native_;
  Buffer buffer_;
  Start start_;
};

/// Initiates `async_read_some`.
struct start_read_some {
  /// Starts the read.
  template <class Native, class Buffer, class Handler>
  void operator()(Native& s, Buffer& b, Handler&& h) const {
    s.async_read_some(b, std::forward<Handler>(h));
  }
};

/// Initiates `asio::async_read` (fills the buffer).
struct start_read_exact {
  /// Starts the read.
  template <class Native, class Buffer, class Handler>
  void operator()(Native& s, Buffer& b, Handler&& h) const {
    asio::async_read(s, b, std::forward<Handler>(h));
  }
};

/// Initiates `asio::async_read_until` up to `delimiter`.
struct start_read_until {
  /// What ends the read; must stay valid until it starts.
  std::string_view delimiter;
  /// Starts the read.
  template <class Native, class Buffer, class Handler>
  void operator()(Native& s, Buffer& b, Handler&& h) const {
    asio::async_read_until(s, std::move(b), delimiter, std::forward<Handler>(h));
  }
};

/// Writing some (`All` false) or all of a buffer to `Native`. With
/// `TryFirst`, the write is tried synchronously first (detail::write_now):
/// when the kernel buffer has room, the data goes out without suspending or
/// touching the reactor. Without it (TLS: a record OpenSSL has encrypted must
/// reach the socket whole, which only the asynchronous operation guarantees)
/// only an empty buffer completes at once.
template <class Native, bool All, bool TryFirst>
class write_op : public io_awaiter<write_op<Native, All, TryFirst>, std::size_t> {
public:
  /// The write of `b` to `s`, reporting errors to `*ec` (or by throwing).
  write_op(Native& s, asio::const_buffer b, std::error_code* ec) noexcept
      : io_awaiter<write_op, std::size_t>(ec), native_(s), buffer_(b) {}

  /// True when done without suspending (empty buffer, or written at once).
  bool await_ready() noexcept {
    if (buffer_.size() == 0) {
      this->result_ = 0;
      return true;
    }
    if constexpr (!TryFirst) {
      return false;
    } else {
      if (tl_inline_completions >= max_inline_completions)
        return false;
      std::error_code ec;
      const std::size_t total = write_now(native_, buffer_, All, ec);
      if (would_block(ec)) {
        if (!All && total > 0) {
          ec.clear();
        } else {
          written_ = total;
          return false;
        }
      }
      ++tl_inline_completions;
      this->ec_ = ec;
      this->result_ = total;
      return true;
    }
  }

  /// Starts the asynchronous write of what the first try left.
  void initiate(io_handler<write_op> h) {
    if constexpr (All)
      asio::async_write(native_, buffer_ + written_, std::move(h));
    else
      native_.async_write_some(buffer_ + written_, std::move(h));
  }
  /// Stores the total written, the first try's bytes included.
  void complete(std::error_code ec, std::size_t n) noexcept {
    this->ec_ = ec;
    this->result_ = written_ + n;
  }

private:
  Native& native_;
  asio::const_buffer buffer_;
  std::size_t written_ = 0;
};

/// The byte-stream operations of `Derived` (a class with `native()`
/// returning the Asio stream `Native`). Each takes an optional last argument
/// `std::error_code& ec`: without it, a failure throws `std::system_error`
/// from the `co_await` expression; with it, the error goes to `ec` (cleared
/// on success), nothing is thrown for I/O errors and the operation yields
/// what was transferred before the error. `TryWriteFirst` says whether
/// writes are tried synchronously before suspending.
template <class Derived, class Native, bool TryWriteFirst>
class stream_operations {
public:
  /// Awaitable of `read_some`.
  using read_some_awaitable = transfer_op<Native, asio::mutable_buffer, start_read_some>;
  /// Awaitable of `read_exact`.
  using read_exact_awaitable = transfer_op<Native, asio::mutable_buffer, start_read_exact>;
  /// Awaitable of `read_until`.
  template <class DynamicBuffer>
  using read_until_awaitable = transfer_op<Native, DynamicBuffer, start_read_until>;
  /// Awaitable of `write_some`.
  using write_some_awaitable = write_op<Native, false, TryWriteFirst>;
  /// Awaitable of `write_all`.
  using write_all_awaitable = write_op<Native, true, TryWriteFirst>;

  /// Reads at least one byte into `b`; yields the count. Fails with
  /// `asio::error::eof` at the end of the stream. An empty `b` completes at
  /// once with 0.
  [[nodiscard]] read_some_awaitable read_some(asio::mutable_buffer b, error_target ec = {}) noexcept {
    return {native_stream(), b, ec.get()};
  }

  /// Fills `b` completely. Fails if the stream ends (`asio::error::eof`) or
  /// fails first.
  [[nodiscard]] read_exact_awaitable read_exact(asio::mutable_buffer b, error_target ec = {}) noexcept {
    return {native_stream(), b, ec.get()};
  }

  /// Reads into the dynamic buffer `b` (e.g. `asio::dynamic_buffer(str)`)
  /// until it contains `delim`; yields the size up to and including the
  /// delimiter (bytes after it stay in `b`). Fails with `asio::error::eof` if
  /// the stream ends first, `asio::error::not_found` when `b` reaches its
  /// maximum size without the delimiter. `delim` must stay valid until the
  /// operation starts.
  template <class DynamicBuffer>
  [[nodiscard]] read_until_awaitable<DynamicBuffer> read_until(DynamicBuffer b, std::string_view delim,
                                                               error_target ec = {}) {
    return {native_stream(), std::move(b), ec.get(), start_read_until{delim}};
  }

  /// Writes some of `b` (at least one byte unless `b` is empty); yields the
  /// count. Fails with e.g. `broken_pipe`, `connection_reset`.
  [[nodiscard]] write_some_awaitable write_some(asio::const_buffer b, error_target ec = {}) noexcept {
    return {native_stream(), b, ec.get()};
  }

  /// Writes all of `b`, suspending while the peer does not read; yields
  /// `b.size()` (with `ec`, the bytes written before an error).
  [[nodiscard]] write_all_awaitable write_all(asio::const_buffer b, error_target ec = {}) noexcept {
    return {native_stream(), b, ec.get()};
  }

  /// Starts writing all of `b` with an Asio completion handler
  /// `void(std::error_code, std::size_t)`, for code that keeps no coroutine
  /// waiting (`background_writer`). Throws what the initiation throws.
  template <class Handler>
  void async_write_all(asio::const_buffer b, Handler&& h) {
    asio::async_write(native_stream(), b, std::forward<Handler>(h));
  }

private:
  Native& native_stream() noexcept { return static_cast<Derived*>(this)->native(); }
};

}  // namespace coronet::detail
