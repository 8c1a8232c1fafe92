// coronet::tls::background_writer: a TLS connection's output, written without making its reader wait.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "coronet/core/detail/promise_base.hpp"
#include "coronet/core/detail/thread_counter.hpp"
#include "coronet/tls/stream.hpp"

namespace coronet::tls {

/// `tcp::background_writer` for a TLS stream, with the same members, so that
/// one session loop serves both (see that class for the contract).
///
/// The difference: `flush()` never writes synchronously. OpenSSL turns the
/// output into records that must reach the socket whole, so every flush that
/// finds no write in flight starts one asynchronous write (Asio still tries
/// the socket at once, and completes it on the next turn of the io_context).
/// Counts are of plaintext bytes.
class background_writer {
public:
  /// A writer owning `s`, with one reference held by the caller. Plaintext
  /// bytes written are added to `*bytes_written` (may be null). Throws
  /// `std::bad_alloc`.
  static background_writer* create(tls::stream s, coronet::detail::thread_counter* bytes_written) {
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

  /// The stream, for the handshake and reading (and for closing).
  tls::stream& stream() noexcept { return stream_; }

  /// Output not yet flushed: append here, then call `flush()`.
  std::string& pending() noexcept { return pending_; }

  /// Output bytes not yet taken by the TLS layer.
  std::size_t buffered() const noexcept { return pending_.size() + sending_.size(); }

  /// True once a write failed (the socket is then closed).
  bool failed() const noexcept { return failed_; }

  /// Output bytes written since the writer was created.
  std::uint64_t written() const noexcept { return written_; }

  /// Starts writing `pending()` unless a write is in flight (output appended
  /// meanwhile follows it). Never throws: when a write cannot be started, the
  /// writer fails as on an I/O error.
  void flush() noexcept;

  /// As `tcp::background_writer::drain_awaiter`. Never throws.
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
  /// Waits until no write is in flight.
  drain_awaiter drained() noexcept { return drain_awaiter{*this, 0, true}; }
  /// Waits until at most `limit` bytes are buffered (or no write is in
  /// flight, or one failed).
  drain_awaiter drained_below(std::size_t limit) noexcept { return drain_awaiter{*this, limit, false}; }

  /// Closes the socket: a write in flight ends with `operation_aborted`.
  void close() noexcept { stream_.close(); }

private:
  class write_handler;
  friend class write_handler;

  background_writer(tls::stream s, coronet::detail::thread_counter* bytes_written) noexcept
      : stream_(std::move(s)), bytes_written_(bytes_written) {}
  ~background_writer() = default;

  bool settled(std::size_t limit, bool until_idle) const noexcept {
    return !writing_ || (!until_idle && (failed_ || buffered() <= limit));
  }
  void wake_waiter() noexcept;
  void start_write();
  void fail() noexcept;
  void on_written(std::error_code ec, std::size_t n) noexcept;
  void write_dropped() noexcept;

  tls::stream stream_;
  coronet::detail::thread_counter* bytes_written_;
  std::string pending_;
  std::string sending_;
  std::uint64_t written_ = 0;
  bool writing_ = false;
  bool failed_ = false;
  std::coroutine_handle<> drain_waiter_{};
  coronet::detail::chain_context* drain_context_ = nullptr;
  std::size_t wait_limit_ = 0;
  bool wait_until_idle_ = true;
  unsigned refs_ = 1;
};

}  // namespace coronet::tls
