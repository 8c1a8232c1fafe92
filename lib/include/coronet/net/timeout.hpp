// coronet::with_timeout: bound how long a task may wait.
#pragma once

#include <array>
#include <chrono>
#include <concepts>
#include <coroutine>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>

#include "coronet/core/detail/fork.hpp"
#include "coronet/core/detail/result_box.hpp"
#include "coronet/core/error.hpp"
#include "coronet/core/task.hpp"
#include "coronet/net/timer.hpp"

namespace coronet {
namespace detail {

// Yields true if the full duration passed, false if cancelled. Marks the
// timed branch before the join cancels it, so that its operations report
// errc::timeout.
inline task<bool> deadline_branch(std::chrono::steady_clock::duration d, chain_context& timed) {
  std::error_code ec;
  co_await sleep_for(d, ec);
  if (!ec)
    timed.deadline_passed = true;
  co_return !ec;
}

/// An awaitable of the library that is not a task: an object with its own
/// `await_ready`/`await_resume` (socket, TLS, UDP, acceptor and timer
/// operations).
template <class A>
concept plain_awaitable = std::move_constructible<A> && requires(A& a) {
  { a.await_ready() } -> std::convertible_to<bool>;
  a.await_resume();
};

/// What awaiting an `A` yields.
template <class A>
using awaitable_result_t = decltype(std::declval<A&>().await_resume());

/// A `plain_awaitable` whose timeout `with_timeout` can report in an
/// `error_code`: it yields nothing or a default-constructible value.
template <class A>
concept plain_awaitable_with_default = plain_awaitable<A> &&
    (std::is_void_v<awaitable_result_t<A>> || std::is_default_constructible_v<awaitable_result_t<A>>);

// One pooled frame around an operation, so that it can run as a fork branch.
template <plain_awaitable A>
task<awaitable_result_t<A>> as_task(A a) {
  co_return co_await std::move(a);
}

// Races a task against a timer: whichever branch ends first cancels the
// other, and the awaiting coroutine resumes once both have ended. The timer
// is only armed if the task did not finish synchronously, so a fast task
// costs no timer syscalls.
template <class T>
class timeout_awaiter {
public:
  timeout_awaiter(task<T> t, std::chrono::steady_clock::duration d, std::error_code* ec = nullptr)
      : inner_(std::move(t)), duration_(d), user_ec_(ec) {}

  bool await_ready() const noexcept { return false; }

  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> awaiting) {
    // Cleared first, so that a timeout found in it at the end is this call's.
    if (user_ec_ != nullptr)
      user_ec_->clear();
    join_.prepare(awaiting);
    drivers_[0].emplace(run_branch(inner_, inner_result_)).start(branches_[0]);
    if (inner_result_.has_outcome())
      join_.skip_branch();
    else {
      deadline_ = deadline_branch(duration_, branches_[0]);
      drivers_[1].emplace(run_branch(deadline_, deadline_result_)).start(branches_[1]);
    }
    return join_.started_all();
  }

  decltype(auto) await_resume() {
    const bool expired = deadline_result_.has_outcome() && deadline_result_.take();
    if (inner_result_.failed() && expired) {
      if constexpr (std::is_void_v<T> || std::is_default_constructible_v<T>) {
        if (user_ec_ != nullptr) {
          *user_ec_ = make_error_code(errc::timeout);
          if constexpr (std::is_void_v<T>)
            return;
          else
            return T{};
        }
      }
      throw std::system_error(make_error_code(errc::timeout));
    }
    // Not cleared when the task reported the deadline in this same code.
    if (user_ec_ != nullptr && !(expired && *user_ec_ == errc::timeout))
      user_ec_->clear();
    return inner_result_.take();
  }

private:
  static void cancel_the_other(fork_join& join, std::size_t index) noexcept { join.cancel_others(index); }

  // Declared before the tasks so they outlive them: a fork nested in a task
  // (when_all, with_timeout) refers to its branch's context until destroyed.
  std::array<fork_branch, 2> branches_;
  task<T> inner_;
  std::chrono::steady_clock::duration duration_;
  std::error_code* user_ec_;
  task<bool> deadline_;
  result_box<T> inner_result_;
  result_box<bool> deadline_result_;
  std::array<std::optional<branch_driver>, 2> drivers_;
  fork_join join_{branches_, &cancel_the_other};
};

}  // namespace detail

/// Runs `t`, cancelling the operation it is waiting on if it has not finished
/// within `d`. That operation then fails with `coronet::errc::timeout`
/// rather than `operation_aborted` (however deep in `t` it is): the throwing
/// form of a socket, TLS, UDP or timer operation throws it, the
/// `error_code&` form stores it in its `ec`, so code inside `t` can tell the
/// deadline from a peer that went away. If `t` then ends with an exception,
/// `with_timeout` throws `std::system_error(coronet::errc::timeout)`: its
/// message is "operation timed out", and its code compares equal to
/// `coronet::errc::timeout` and to `std::errc::timed_out` (see
/// `coronet/core/error.hpp`). If `t` still finishes normally (it handled the
/// timeout, or finished just in time), its result is returned. Other
/// exceptions from `t` propagate unchanged.
///
/// Cancelling the awaiting chain cancels `t` too; that is not a timeout: what
/// `t` then throws (usually `operation_aborted`) propagates.
///
/// A `t` that finishes without suspending costs no timer. Otherwise one timer
/// is armed; frames come from the frame pool, so steady-state use allocates
/// nothing. Must run inside a task started by `spawn` or `sync_wait` on an
/// io_context (`std::logic_error` otherwise).
template <class T, class Rep, class Period>
task<T> with_timeout(task<T> t, std::chrono::duration<Rep, Period> d) {
  co_return co_await detail::timeout_awaiter<T>(std::move(t),
                                                std::chrono::duration_cast<std::chrono::steady_clock::duration>(d));
}

/// As above, but a timeout is reported in `ec` instead of thrown: when `t`
/// ends with an exception after the deadline, `ec` is set to
/// `coronet::errc::timeout` and a value-initialised `T` is returned. `ec` is
/// cleared before `t` starts, and again when `t` finishes normally unless
/// the deadline passed and `t` itself stored `errc::timeout` in it. Only
/// the timeout goes to `ec`: any other exception `t` ends with propagates,
/// as from the throwing form.
template <class T, class Rep, class Period>
  requires std::is_void_v<T> || std::is_default_constructible_v<T> task<T> with_timeout(
      task<T> t, std::chrono::duration<Rep, Period> d, std::error_code& ec) {
    co_return co_await detail::timeout_awaiter<T>(
        std::move(t), std::chrono::duration_cast<std::chrono::steady_clock::duration>(d), &ec);
  }

/// Awaits one operation of the library (e.g. `sock.read_some(buf)`,
/// `sock.read_some(buf, ec)`, `acceptor.accept()`, `t.wait()`, a TLS stream's
/// or a UDP socket's operations) for at most `d`, as `with_timeout` does for
/// a task: when the deadline passes first, the operation is cancelled and
/// fails with `coronet::errc::timeout`. In its throwing form
/// `co_await with_timeout(sock.read_some(buf), 5s)` throws
/// `std::system_error(errc::timeout)`; in its `error_code&` form
/// `co_await with_timeout(sock.read_some(buf, ec), 5s)` sets that `ec` to
/// `errc::timeout` and yields what the operation yields after an error
/// (0 bytes). An operation that completes first yields its result as
/// usual, whatever the time. The operation runs in one pooled frame (no
/// allocation in steady state).
template <detail::plain_awaitable A, class Rep, class Period>
task<detail::awaitable_result_t<A>> with_timeout(A operation, std::chrono::duration<Rep, Period> d) {
  return with_timeout(detail::as_task(std::move(operation)), d);
}

/// As above, with the timeout of a throwing-form operation reported in `ec`
/// as by `with_timeout(task, d, ec)`.
template <detail::plain_awaitable_with_default A, class Rep, class Period>
task<detail::awaitable_result_t<A>> with_timeout(A operation, std::chrono::duration<Rep, Period> d,
                                                 std::error_code& ec) {
  return with_timeout(detail::as_task(std::move(operation)), d, ec);
}

}  // namespace coronet
