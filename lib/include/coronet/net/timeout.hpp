// coronet::with_timeout: bound how long a task may wait.
#pragma once

#include <array>
#include <chrono>
#include <coroutine>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>

#include "coronet/core/detail/fork.hpp"
#include "coronet/core/detail/result_box.hpp"
#include "coronet/core/error.hpp"
#include "coronet/net/timer.hpp"
#include "coronet/core/task.hpp"

namespace coronet {
namespace detail {

// Yields true if the full duration passed, false if cancelled.
inline task<bool> deadline_branch(std::chrono::steady_clock::duration d) {
  std::error_code ec;
  co_await sleep_for(d, ec);
  co_return !ec;
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
    join_.prepare(awaiting);
    drivers_[0].emplace(run_branch(inner_, inner_result_)).start(branches_[0]);
    if (inner_result_.has_outcome())
      join_.skip_branch();
    else {
      deadline_ = deadline_branch(duration_);
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
    if (user_ec_ != nullptr)
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
/// within `d`. If `t` then ends with an exception (typically the cancelled
/// operation's `operation_aborted`), `with_timeout` throws
/// `std::system_error(coronet::errc::timeout)` instead: its message is
/// "operation timed out", and its code compares equal to
/// `coronet::errc::timeout` and to `std::errc::timed_out` (see
/// `coronet/core/error.hpp`). If `t` still finishes normally (it handled the
/// cancellation, or finished just in time), its result is returned. Other
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

/// As above, but a timeout is reported in `ec` instead of thrown: `ec` is set
/// to `coronet::errc::timeout` and a value-initialised `T` is returned. `ec`
/// is cleared when `t` finishes in time (or handles the cancellation and
/// finishes normally). Only the timeout goes to `ec`: any other exception `t`
/// ends with propagates, as from the throwing form.
template <class T, class Rep, class Period>
  requires std::is_void_v<T> || std::is_default_constructible_v<T> task<T> with_timeout(
      task<T> t, std::chrono::duration<Rep, Period> d, std::error_code& ec) {
    co_return co_await detail::timeout_awaiter<T>(
        std::move(t), std::chrono::duration_cast<std::chrono::steady_clock::duration>(d), &ec);
  }

}  // namespace coronet
