// coronet::when_all: await several tasks running concurrently.
#pragma once

#include <array>
#include <coroutine>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "coronet/detail/deciding_branch.hpp"
#include "coronet/detail/fork.hpp"
#include "coronet/detail/result_box.hpp"
#include "coronet/task.hpp"

namespace coronet {

/// What `when_all` yields for a `task<T>`: `T`, or `std::monostate` for `void`.
template <class T>
using when_all_value_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

namespace detail {

template <class T>
when_all_value_t<T> take_value(result_box<T>& r) {
  if constexpr (std::is_void_v<T>) {
    r.take();
    return {};
  } else {
    return r.take();
  }
}

template <class... Ts>
class when_all_awaiter {
public:
  explicit when_all_awaiter(task<Ts>... ts) : tasks_(std::move(ts)...) {}

  bool await_ready() const noexcept { return sizeof...(Ts) == 0; }

  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> awaiting) {
    join_.prepare(awaiting);
    start(std::index_sequence_for<Ts...>{});
    return join_.started_all();
  }

  std::tuple<when_all_value_t<Ts>...> await_resume() {
    if (decision_.decided())
      rethrow_decisive(std::index_sequence_for<Ts...>{});
    return collect(std::index_sequence_for<Ts...>{});
  }

private:
  template <std::size_t... I>
  void start(std::index_sequence<I...>) {
    (start_deciding_branch<decides_on::failure>(drivers_[I], branches_[I], join_, std::get<I>(tasks_),
                                                std::get<I>(results_), decision_, I),
     ...);
  }

  // Every branch ran to its end; the failure that cancelled the others wins.
  template <std::size_t... I>
  void rethrow_decisive(std::index_sequence<I...>) {
    ((I == decision_.index() ? std::get<I>(results_).rethrow_if_failed() : void()), ...);
  }

  template <std::size_t... I>
  std::tuple<when_all_value_t<Ts>...> collect(std::index_sequence<I...>) {
    return std::tuple<when_all_value_t<Ts>...>(take_value(std::get<I>(results_))...);
  }

  // Declared before the tasks so they outlive them: a fork nested in a task
  // (when_all, with_timeout) refers to its branch's context until destroyed.
  std::array<fork_branch, sizeof...(Ts)> branches_;
  std::tuple<task<Ts>...> tasks_;
  std::tuple<result_box<Ts>...> results_;
  std::array<std::optional<branch_driver>, sizeof...(Ts)> drivers_;
  fork_join join_{branches_};
  fork_decision decision_{join_};
};

template <class T>
class when_all_range_awaiter {
public:
  explicit when_all_range_awaiter(std::vector<task<T>> ts)
      : branches_(std::make_unique<fork_branch[]>(ts.size())),
        tasks_(std::move(ts)),
        results_(std::make_unique<result_box<T>[]>(tasks_.size())),
        drivers_(std::make_unique<std::optional<branch_driver>[]>(tasks_.size())),
        join_(std::span<fork_branch>(branches_.get(), tasks_.size())) {}

  bool await_ready() const noexcept { return tasks_.empty(); }

  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> awaiting) {
    join_.prepare(awaiting);
    for (std::size_t i = 0; i < tasks_.size(); ++i)
      start_deciding_branch<decides_on::failure>(drivers_[i], branches_[i], join_, tasks_[i], results_[i], decision_,
                                                 i);
    return join_.started_all();
  }

  auto await_resume() {
    if (decision_.decided())
      results_[decision_.index()].rethrow_if_failed();
    if constexpr (std::is_void_v<T>) {
      return;
    } else {
      std::vector<T> values;
      values.reserve(tasks_.size());
      for (std::size_t i = 0; i < tasks_.size(); ++i)
        values.push_back(results_[i].take());
      return values;
    }
  }

private:
  // Declared before the tasks so they outlive them (see when_all_awaiter).
  std::unique_ptr<fork_branch[]> branches_;
  std::vector<task<T>> tasks_;
  std::unique_ptr<result_box<T>[]> results_;
  std::unique_ptr<std::optional<branch_driver>[]> drivers_;
  fork_join join_;
  fork_decision decision_{join_};
};

}  // namespace detail

/// Runs every task concurrently on the awaiting task's executor and yields
/// their results as a tuple (`std::monostate` for `task<void>`) once all have
/// finished. Branches interleave on one thread; they are not run in parallel.
///
/// Errors: the first branch to fail (in time, not argument order) cancels the
/// others: the operation each is waiting on is cancelled through its
/// cancellation slot (it completes with `operation_aborted`, which usually
/// ends the branch with that exception). Branches not yet started when a branch
/// fails before suspending are never started. `when_all` resumes only after
/// every started branch has ended, then rethrows that first failure; the
/// others' exceptions (typically the `operation_aborted` the cancellation
/// caused) and values are discarded. A branch waiting on something that
/// ignores cancellation (`yield`, a `task_group::join`) delays `when_all`
/// until it ends on its own.
///
/// Cancelling the awaiting chain cancels every branch; the first of them to
/// fail then decides what is rethrown.
///
/// Allocation: the branch frames come from the frame pool (none from the heap
/// in steady state); the vector form also allocates its bookkeeping arrays.
template <class... Ts>
task<std::tuple<when_all_value_t<Ts>...>> when_all(task<Ts>... tasks) {
  co_return co_await detail::when_all_awaiter<Ts...>(std::move(tasks)...);
}

/// As the variadic form, for a run-time number of tasks of one type; yields a
/// `std::vector<T>` in the tasks' order (nothing for `task<void>`), with the
/// same cancellation on the first failure.
template <class T>
task<std::conditional_t<std::is_void_v<T>, void, std::vector<T>>> when_all(std::vector<task<T>> tasks) {
  co_return co_await detail::when_all_range_awaiter<T>(std::move(tasks));
}

}  // namespace coronet
