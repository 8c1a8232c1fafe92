// coronet::background_writer: a connection's output, written without making its reader wait.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>

#include "coronet/core/detail/promise_base.hpp"
#include "coronet/core/detail/thread_counter.hpp"
#include "coronet/core/output_buffer.hpp"
#include "coronet/net/stream.hpp"

namespace coronet {

template <byte_stream Stream>
class background_writer;

/// The owning handle of a `background_writer<Stream>`: the writer lives while
/// a handle (or a write in flight) refers to it, and the last one to go
/// frees it, closing its stream. Copies share the writer; copy and destroy
/// them on the thread running the stream's io_context only (the count is not
/// atomic). A default-constructed or moved-from handle is null.
template <byte_stream Stream>
class writer_ptr {
public:
  /// A null handle.
  writer_ptr() noexcept = default;
  /// A null handle.
  writer_ptr(std::nullptr_t) noexcept {}  // NOLINT(google-explicit-constructor): as std::shared_ptr
  /// Shares `other`'s writer.
  writer_ptr(const writer_ptr& other) noexcept : writer_(other.writer_) {
    if (writer_ != nullptr)
      writer_->add_ref();
  }
  /// Takes `other`'s writer; `other` is left null.
  writer_ptr(writer_ptr&& other) noexcept : writer_(std::exchange(other.writer_, nullptr)) {}
  /// Drops the writer held, then shares or takes `other`'s.
  writer_ptr& operator=(writer_ptr other) noexcept {
    std::swap(writer_, other.writer_);
    return *this;
  }
  /// Drops the writer held (see `reset`).
  ~writer_ptr() { reset(); }

  /// Drops the writer held, freeing it if this was its last owner and no
  /// write is in flight; the handle becomes null.
  void reset() noexcept {
    if (background_writer<Stream>* w = std::exchange(writer_, nullptr))
      w->release();
  }

  /// The writer, or null.
  background_writer<Stream>* get() const noexcept { return writer_; }
  /// The writer; the handle must not be null.
  background_writer<Stream>* operator->() const noexcept { return writer_; }
  /// The writer; the handle must not be null.
  background_writer<Stream>& operator*() const noexcept { return *writer_; }
  /// True unless null.
  explicit operator bool() const noexcept { return writer_ != nullptr; }
  /// True if `p` is null.
  friend bool operator==(const writer_ptr& p, std::nullptr_t) noexcept { return p.writer_ == nullptr; }

private:
  friend class background_writer<Stream>;
  // Adopts the reference `w` was created with.
  explicit writer_ptr(background_writer<Stream>* w) noexcept : writer_(w) {}

  background_writer<Stream>* writer_ = nullptr;
};

/// A connection's stream and the output on its way to the peer, for a
/// session that goes on reading while its replies are written, over any
/// `byte_stream` (`tcp::socket`, `tls::stream`).
///
/// Append output to `pending()` and call `flush()`. Where the stream allows
/// it (`Stream::try_write_first`, plain TCP) the bytes go out at once as far
/// as the kernel takes them without blocking; the rest (for TLS, all of it:
/// encrypted records must reach the socket whole) is written by one
/// background write while the caller reads on, and output appended meanwhile
/// follows it. `buffered()` says how much has not been taken yet, so the
/// caller can bound it. A failed write closes the stream and sets
/// `failed()`; later output is dropped. Steady-state flushes allocate nothing
/// (the write's handler uses the thread's frame pool).
///
/// Created by `create`, which returns a `writer_ptr`; the write in flight
/// holds a reference of its own, so either may end first (as both can when an
/// io_context is destroyed with both suspended). Used from the thread running
/// the stream's io_context only.
template <byte_stream Stream>
class background_writer {
public:
  /// A writer owning `s`. Bytes taken (for TLS: plaintext bytes) are added to
  /// `*bytes_written` (may be null), which must outlive the writer. Throws
  /// `std::bad_alloc`.
  static writer_ptr<Stream> create(Stream s, coronet::detail::thread_counter* bytes_written) {
    return writer_ptr<Stream>(new background_writer(std::move(s), bytes_written));
  }

  background_writer(const background_writer&) = delete;
  background_writer& operator=(const background_writer&) = delete;

  /// The stream, for reading, the TLS handshake, closing or shutting down.
  Stream& stream() noexcept { return stream_; }

  /// Output not yet flushed: append here, then call `flush()`.
  output_buffer& pending() noexcept { return pending_; }

  /// Output bytes not yet taken by the kernel (for TLS, by the TLS layer).
  std::size_t buffered() const noexcept { return pending_.size() + sending_.size() - sent_; }

  /// True once a write failed (the stream is then closed).
  bool failed() const noexcept { return failed_; }

  /// Output bytes taken since the writer was created; a reader of the
  /// connection that makes no progress leaves it unchanged.
  std::uint64_t written() const noexcept { return written_; }

  /// Sends `pending()` without suspending: synchronously while the kernel
  /// takes it (when `Stream::try_write_first`), the rest through a background
  /// write; unless a write is in flight, which the output then follows.
  /// Never throws: when a background write cannot be started, the writer
  /// fails as on an I/O error.
  void flush() noexcept;

  /// Awaitable that resumes the awaiting coroutine once no write is in flight
  /// (`drained()`), or once `buffered()` is at most a limit
  /// (`drained_below(limit)`), at once if that holds already. Either also
  /// resumes when a write fails (the stream was closed, or the peer reset) and
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
      writer_.drain_callback_ = nullptr;
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
  /// Waits until at most `limit` bytes are not yet taken (or no write is in
  /// flight, or one failed): how a session applies backpressure, reading no
  /// more requests while its peer is behind. See `drain_awaiter`.
  drain_awaiter drained_below(std::size_t limit) noexcept { return drain_awaiter{*this, limit, false}; }

  /// What `on_drained_below` calls, with the argument it was given.
  using drain_callback = void (*)(void*) noexcept;
  /// Calls `fn(arg)` once, from the writer on its thread, when what
  /// `drained_below(limit)` waits for comes to hold, instead of resuming a
  /// coroutine: for a waiter that also waits on something else (a session
  /// that reads on while its peer is behind). Nothing is called when it holds
  /// already (check `drained_below(limit).await_ready()` first), nor after
  /// `forget_drain_callback()`. Takes the place of a coroutine waiting in a
  /// `drain_awaiter`: at most one waiter, of either kind, at a time, and
  /// registering either kind drops the other (a coroutine dropped so is
  /// never resumed). `fn` must not destroy the writer. Never throws.
  void on_drained_below(std::size_t limit, drain_callback fn, void* arg) noexcept {
    drain_callback_ = fn;
    drain_waiter_ = {};
    drain_arg_ = arg;
    wait_limit_ = limit;
    wait_until_idle_ = false;
  }
  /// Drops the callback `on_drained_below` set, if it has not been called.
  void forget_drain_callback() noexcept { drain_callback_ = nullptr; }

  /// Closes the stream: a write in flight ends with `operation_aborted`.
  /// Never throws.
  void close() noexcept {
    std::error_code ignored;
    stream_.close(ignored);
  }

private:
  class write_handler;
  friend class writer_ptr<Stream>;

  background_writer(Stream s, coronet::detail::thread_counter* bytes_written) noexcept
      : stream_(std::move(s)), bytes_written_(bytes_written) {}
  ~background_writer() = default;

  void add_ref() noexcept { ++refs_; }
  void release() noexcept {
    if (--refs_ == 0)
      delete this;
  }
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

  Stream stream_;
  coronet::detail::thread_counter* bytes_written_;
  output_buffer pending_;
  output_buffer sending_;
  // Bytes of `sending_` the synchronous try already wrote.
  std::size_t sent_ = 0;
  std::uint64_t written_ = 0;
  // The one waiter: a coroutine (drain_awaiter) with its chain, or a callback
  // (on_drained_below) with its argument. Setting one clears the other's pointer, so
  // that the union's member read is always the one last written.
  std::coroutine_handle<> drain_waiter_{};
  drain_callback drain_callback_ = nullptr;
  union {
    coronet::detail::chain_context* drain_context_ = nullptr;
    void* drain_arg_;
  };
  std::size_t wait_limit_ = 0;
  // The flags and the count share one word: every connection holds a writer.
  bool writing_ = false;
  bool failed_ = false;
  bool wait_until_idle_ = true;
  unsigned refs_ = 1;
};

}  // namespace coronet

#include "coronet/runtime/impl/background_writer.hpp"
