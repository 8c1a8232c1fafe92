// coronet::tcp::background_writer: a connection's output, written without making its reader wait.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>

#include "coronet/core/detail/promise_base.hpp"
#include "coronet/core/detail/thread_counter.hpp"
#include "coronet/net/socket.hpp"

namespace coronet::tcp {

/// A connection's socket and the output on its way to the peer, for a
/// session that goes on reading while its replies are written.
///
/// Append output to `pending()` and call `flush()`: the bytes go out at once
/// as far as the kernel takes them without blocking (detail::write_now); the
/// rest is written by one background write while the caller reads on, and
/// output appended meanwhile follows it. `buffered()` says how much has not
/// reached the kernel yet, so the caller can bound it. A failed write closes
/// the socket and sets `failed()`; later output is dropped.
///
/// The writer is shared by the session and the write in flight, either of
/// which may end first (as both can when an io_context is destroyed with both
/// suspended): it is reference-counted and created with `create`. Used from
/// the thread running the socket's io_context only.
class background_writer {
public:
  /// A writer owning `s`, with one reference held by the caller. Bytes
  /// handed to the kernel are added to `*bytes_written` (may be null).
  /// Throws `std::bad_alloc`.
  static background_writer* create(socket s, coronet::detail::thread_counter* bytes_written) {
    return new background_writer(std::move(s), bytes_written);
  }

  background_writer(const background_writer&) = delete;
  background_writer& operator=(const background_writer&) = delete;

  /// Takes one more reference.
  void add_ref() noexcept { ++refs_; }
  /// Drops one reference; the last one frees the writer (and closes the socket).
  void release() noexcept {
    if (--refs_ == 0)
      delete this;
  }

  /// The socket, for reading (and for closing or shutting down).
  socket& stream() noexcept { return socket_; }

  /// Output not yet flushed: append here, then call `flush()`.
  std::string& pending() noexcept { return pending_; }

  /// Output bytes not yet taken by the kernel.
  std::size_t buffered() const noexcept { return pending_.size() + sending_.size() - sent_; }

  /// True once a write failed (the socket is then closed).
  bool failed() const noexcept { return failed_; }

  /// Output bytes the kernel has taken since the writer was created; a reader
  /// of the connection that makes no progress leaves it unchanged.
  std::uint64_t written() const noexcept { return written_; }

  /// Sends `pending()` without suspending: synchronously while the kernel
  /// takes it, the rest through a background write. Never throws: when a
  /// background write cannot be started, the writer fails as on an I/O error.
  void flush() noexcept;

  /// Awaitable that resumes the awaiting coroutine once no write is in flight
  /// (`drained()`), or once `buffered()` is at most a limit
  /// (`drained_below(limit)`), at once if that holds already. Either also
  /// resumes when a write fails (the socket was closed, or the peer reset) and
  /// when no write is in flight, whatever `pending()` holds: call `flush()`
  /// before awaiting. At most one coroutine may wait at a time. Never throws.
  class drain_awaiter {
  public:
    /// Waits on `w` until at most `limit` bytes are buffered, or, with
    /// `until_idle`, until no write is in flight.
    drain_awaiter(background_writer& w, std::size_t limit, bool until_idle) noexcept
        : writer_(w), limit_(limit), until_idle_(until_idle) {}
    /// True when the condition holds already (or the writer failed).
    bool await_ready() const noexcept { return writer_.settled(limit_, until_idle_); }
    /// Registers the awaiting coroutine; the writer resumes it.
    template <class Promise>
    void await_suspend(std::coroutine_handle<Promise> h) noexcept {
      writer_.drain_waiter_ = h;
      writer_.drain_context_ = coronet::detail::context_of(h);
      writer_.wait_limit_ = limit_;
      writer_.wait_until_idle_ = until_idle_;
    }
    /// Nothing: check `failed()` and `buffered()` afterwards.
    void await_resume() const noexcept {}

  private:
    background_writer& writer_;
    std::size_t limit_;
    bool until_idle_;
  };
  /// Waits until no write is in flight; see `drain_awaiter`.
  drain_awaiter drained() noexcept { return drain_awaiter{*this, 0, true}; }
  /// Waits until at most `limit` bytes are not yet taken by the kernel (or no
  /// write is in flight, or one failed): how a session applies backpressure,
  /// reading no more requests while its peer is behind. See `drain_awaiter`.
  drain_awaiter drained_below(std::size_t limit) noexcept { return drain_awaiter{*this, limit, false}; }

  /// Closes the socket: a write in flight ends with `operation_aborted`.
  void close() noexcept {
    std::error_code ignored;
    socket_.close(ignored);
  }

private:
  class write_handler;
  friend class write_handler;

  background_writer(socket s, coronet::detail::thread_counter* bytes_written) noexcept
      : socket_(std::move(s)), bytes_written_(bytes_written) {}
  ~background_writer() = default;

  void count(std::size_t n) noexcept {
    written_ += n;
    if (bytes_written_ != nullptr)
      bytes_written_->add(n);
  }
  bool settled(std::size_t limit, bool until_idle) const noexcept {
    return !writing_ || (!until_idle && (failed_ || buffered() <= limit));
  }
  void wake_waiter() noexcept;
  void start_write();
  void fail() noexcept;
  void on_written(std::error_code ec, std::size_t n) noexcept;
  void write_dropped() noexcept;

  socket socket_;
  coronet::detail::thread_counter* bytes_written_;
  std::string pending_;
  std::string sending_;
  std::size_t sent_ = 0;
  std::uint64_t written_ = 0;
  bool writing_ = false;
  bool failed_ = false;
  std::coroutine_handle<> drain_waiter_{};
  coronet::detail::chain_context* drain_context_ = nullptr;
  std::size_t wait_limit_ = 0;
  bool wait_until_idle_ = true;
  unsigned refs_ = 1;
};

}  // namespace coronet::tcp
