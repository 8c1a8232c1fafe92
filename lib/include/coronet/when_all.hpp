// coronet::when_all: await several tasks running concurrently.
#pragma once

#include <array>
#include <coroutine>
#include <cstddef>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

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
    rethrow_first(std::index_sequence_for<Ts...>{});
    return collect(std::index_sequence_for<Ts...>{});
  }

private:
  template <std::size_t... I>
  void start(std::index_sequence<I...>) {
    (drivers_[I].emplace(run_branch(std::get<I>(tasks_), std::get<I>(results_))).start(branches_[I]), ...);
  }

  // Every branch ran to its end; the first failure (in argument order) wins.
  template <std::size_t... I>
  void rethrow_first(std::index_sequence<I...>) {
    (std::get<I>(results_).rethrow_if_failed(), ...);
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
};

template <class T>
class when_all_range_awaiter {
public:
  explicit when_all_range_awaiter(std::vector<task<T>> ts)
      : branches_(std::make_unique<fork_branch[]>(ts.size())),
        tasks_(std::move(ts)),
        results_(std::make_unique<result_box<T>[]>(tasks_.size())),
        join_(std::span<fork_branch>(branches_.get(), tasks_.size())) {}

  bool await_ready() const noexcept { return tasks_.empty(); }

  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> awaiting) {
    join_.prepare(awaiting);
    drivers_.reserve(tasks_.size());
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      drivers_.push_back(run_branch(tasks_[i], results_[i]));
      drivers_.back().start(branches_[i]);
    }
    return join_.started_all();
  }

  auto await_resume() {
    for (std::size_t i = 0; i < tasks_.size(); ++i)
      results_[i].rethrow_if_failed();
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
  fork_join join_;
  std::vector<branch_driver> drivers_;
};

}  // namespace detail

/// Runs every task concurrently on the awaiting task's executor and yields
/// their results as a tuple (`std::monostate` for `task<void>`) once all have
/// finished. If any failed, the first failure in argument order is rethrown,
/// still only after all have finished. Cancelling the awaiting chain cancels
/// every branch. Branches interleave on one thread; they are not run in parallel.
template <class... Ts>
task<std::tuple<when_all_value_t<Ts>...>> when_all(task<Ts>... tasks) {
  co_return co_await detail::when_all_awaiter<Ts...>(std::move(tasks)...);
}

/// As the variadic form, for a run-time number of tasks of one type; yields a
/// `std::vector<T>` in the tasks' order (nothing for `task<void>`).
template <class T>
task<std::conditional_t<std::is_void_v<T>, void, std::vector<T>>> when_all(std::vector<task<T>> tasks) {
  co_return co_await detail::when_all_range_awaiter<T>(std::move(tasks));
}

}  // namespace coronet
