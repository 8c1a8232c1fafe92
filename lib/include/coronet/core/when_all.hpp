// coronet::when_all: await several tasks running concurrently.
#pragma once

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "coronet/core/detail/deciding_branch.hpp"
#include "coronet/core/detail/result_box.hpp"
#include "coronet/core/task.hpp"

namespace coronet {

/// What `when_all` yields for a `task<T>`: `T`, or `std::monostate` for `void`.
template <class T>
using when_all_value_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

namespace detail {

template <class... Ts>
class when_all_awaiter : public deciding_fork<decides_on::failure, Ts...> {
public:
  using deciding_fork<decides_on::failure, Ts...>::deciding_fork;

  std::tuple<when_all_value_t<Ts>...> await_resume() {
    if (this->decision().decided())
      rethrow_decisive(std::index_sequence_for<Ts...>{});
    return collect(std::index_sequence_for<Ts...>{});
  }

private:
  // Every branch ran to its end; the failure that cancelled the others wins.
  template <std::size_t... I>
  void rethrow_decisive(std::index_sequence<I...>) {
    ((I == this->decision().index() ? std::get<I>(this->results()).rethrow_if_failed() : void()), ...);
  }

  template <std::size_t... I>
  std::tuple<when_all_value_t<Ts>...> collect(std::index_sequence<I...>) {
    return std::tuple<when_all_value_t<Ts>...>(take_as<when_all_value_t<Ts>>(std::get<I>(this->results()))...);
  }
};

template <class T>
class when_all_range_awaiter : public deciding_range_fork<decides_on::failure, T> {
public:
  using deciding_range_fork<decides_on::failure, T>::deciding_range_fork;

  auto await_resume() {
    if (this->decision().decided())
      this->result(this->decision().index()).rethrow_if_failed();
    if constexpr (std::is_void_v<T>) {
      return;
    } else {
      std::vector<T> values;
      values.reserve(this->size());
      for (std::size_t i = 0; i < this->size(); ++i)
        values.push_back(this->result(i).take());
      return values;
    }
  }
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
