// coronet::with_timeout: bound how long a task may wait.
#pragma once

#include <array>
#include <chrono>
#include <coroutine>
#include <optional>
#include <system_error>
#include <utility>

#include <asio/error.hpp>

#include "coronet/detail/fork.hpp"
#include "coronet/detail/result_box.hpp"
#include "coronet/net/timer.hpp"
#include "coronet/task.hpp"

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
  timeout_awaiter(task<T> t, std::chrono::steady_clock::duration d) : inner_(std::move(t)), duration_(d) {}

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
    if (inner_result_.failed() && expired)
      throw std::system_error(asio::error::timed_out);
    return inner_result_.take();
  }

private:
  static void cancel_the_other(fork_join& join, std::size_t index) noexcept { join.cancel_others(index); }

  // Declared before the tasks so they outlive them: a fork nested in a task
  // (when_all, with_timeout) refers to its branch's context until destroyed.
  std::array<fork_branch, 2> branches_;
  task<T> inner_;
  std::chrono::steady_clock::duration duration_;
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
/// `std::system_error(asio::error::timed_out)` instead; if `t` still finishes
/// normally (it handled the cancellation, or finished just in time), its
/// result is returned. Other exceptions from `t` propagate unchanged.
/// Cancelling the awaiting chain cancels `t` too.
///
/// Must run inside a task started by `spawn` or `sync_wait` on an io_context.
template <class T, class Rep, class Period>
task<T> with_timeout(task<T> t, std::chrono::duration<Rep, Period> d) {
  co_return co_await detail::timeout_awaiter<T>(std::move(t),
                                                std::chrono::duration_cast<std::chrono::steady_clock::duration>(d));
}

}  // namespace coronet
