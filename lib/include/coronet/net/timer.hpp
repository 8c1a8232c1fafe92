// Timers: coronet::sleep_for and a reusable coronet::timer.
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "coronet/net/detail/io_awaiter.hpp"
#include "coronet/net/io_context_executor.hpp"

namespace coronet {

/// The Asio timer coronet timers wrap.
using asio_timer = asio::basic_waitable_timer<std::chrono::steady_clock, asio::wait_traits<std::chrono::steady_clock>,
                                              asio::io_context::executor_type>;

namespace detail {

class timer_wait_op : public io_awaiter<timer_wait_op, bool> {
public:
  timer_wait_op(asio_timer& t, std::error_code* ec) noexcept : io_awaiter(ec), timer_(t) {}
  void initiate(io_handler<timer_wait_op> h) { timer_.async_wait(std::move(h)); }
  void complete(std::error_code ec) noexcept { ec_ = ec; }
  void await_resume() { finish(); }

private:
  asio_timer& timer_;
};

class sleep_op : public io_awaiter<sleep_op, bool> {
public:
  sleep_op(std::chrono::steady_clock::duration d, std::error_code* ec) noexcept : io_awaiter(ec), duration_(d) {}
  void initiate(io_handler<sleep_op> h) {
    if (context_ == nullptr)
      throw std::logic_error("coronet::sleep_for: not inside a spawned or sync_waited task");
    timer_.emplace(executor_of(context_->executor), duration_);
    timer_->async_wait(std::move(h));
  }
  void complete(std::error_code ec) noexcept { ec_ = ec; }
  void await_resume() { finish(); }

private:
  static asio::io_context::executor_type executor_of(const asio::any_io_executor& ex) {
    if (const auto* io = io_context_target(ex))
      return *io;
    throw std::logic_error("coronet::sleep_for: the task's executor is not an io_context executor");
  }

  std::chrono::steady_clock::duration duration_;
  std::optional<asio_timer> timer_;
};

}  // namespace detail

/// Suspends the current task for `d` (a zero or negative duration still goes
/// through the io_context once). Throws `std::system_error` with
/// `operation_aborted` when cancelled (e.g. by `with_timeout`), and
/// `std::logic_error` outside a task run by `spawn`/`sync_wait`.
template <class Rep, class Period>
[[nodiscard]] detail::sleep_op sleep_for(std::chrono::duration<Rep, Period> d) noexcept {
  return detail::sleep_op{std::chrono::duration_cast<std::chrono::steady_clock::duration>(d), nullptr};
}

/// As above; cancellation sets `ec` to `operation_aborted` instead of throwing.
template <class Rep, class Period>
[[nodiscard]] detail::sleep_op sleep_for(std::chrono::duration<Rep, Period> d, std::error_code& ec) noexcept {
  return detail::sleep_op{std::chrono::duration_cast<std::chrono::steady_clock::duration>(d), &ec};
}

/// A reusable steady-clock timer (cheaper than `sleep_for` in a loop).
class timer {
public:
  /// A timer on `ex` (an `io_context&`, its executor, or an
  /// `asio::any_io_executor` wrapping one, such as `co_await this_executor`),
  /// expired. Throws `std::invalid_argument` for an `any_io_executor` that
  /// wraps no io_context executor.
  explicit timer(io_context_executor ex) : timer_(ex.get()) {}

  /// Sets the expiry `d` from now; a pending wait completes with
  /// `operation_aborted`. Returns the number of waits cancelled.
  template <class Rep, class Period>
  std::size_t expires_after(std::chrono::duration<Rep, Period> d) {
    return timer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(d));
  }

  /// Sets the expiry to `tp`; as `expires_after`.
  std::size_t expires_at(std::chrono::steady_clock::time_point tp) { return timer_.expires_at(tp); }

  /// The current expiry.
  std::chrono::steady_clock::time_point expiry() const { return timer_.expiry(); }

  /// Cancels a pending wait (it completes with `operation_aborted`).
  std::size_t cancel() { return timer_.cancel(); }

  /// Waits until the expiry. Throws `std::system_error` with
  /// `operation_aborted` when cancelled.
  [[nodiscard]] detail::timer_wait_op wait() noexcept { return {timer_, nullptr}; }
  /// As above; cancellation goes to `ec`.
  [[nodiscard]] detail::timer_wait_op wait(std::error_code& ec) noexcept { return {timer_, &ec}; }

  /// The wrapped Asio timer.
  asio_timer& native() noexcept { return timer_; }

private:
  asio_timer timer_;
};

}  // namespace coronet
