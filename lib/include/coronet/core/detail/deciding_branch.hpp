// Forks where one branch's outcome decides the whole: the others are cancelled.
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
#include <vector>

#include "coronet/core/detail/fork.hpp"
#include "coronet/core/detail/result_box.hpp"
#include "coronet/core/task.hpp"

namespace coronet::detail {

/// Which branch of a fork decided it first. Deciding cancels every other
/// branch, once: a branch that handles the cancellation and goes on waiting
/// is not cancelled again by later decisions.
///
/// Used from the fork's one thread only (see `fork_join`).
class fork_decision {
public:
  /// No branch has decided.
  static constexpr std::size_t none = static_cast<std::size_t>(-1);

  explicit fork_decision(fork_join& join) noexcept : join_(join) {}

  /// True once a branch decided.
  bool decided() const noexcept { return index_ != none; }

  /// The deciding branch, or `none`.
  std::size_t index() const noexcept { return index_; }

  /// Branch `i` decides, unless another did before it.
  void decide(std::size_t i) noexcept {
    if (index_ != none)
      return;
    index_ = i;
    join_.cancel_others(i);
  }

private:
  fork_join& join_;
  std::size_t index_ = none;
};

/// What makes a branch decide: failing (`when_all`) or finishing at all (`when_any`).
enum class decides_on { failure, any_outcome };

/// Starts branch `i` of a deciding fork: runs `t` into `out`, then lets the
/// branch decide `d` if its outcome is one that `When` names. When a branch
/// already decided while the fork was being started, counts this one as never
/// started instead: a decided fork starts no new work, and a task not started
/// needs no cancelling.
template <decides_on When, class T>
void start_deciding_branch(std::optional<branch_driver>& driver, fork_branch& branch, fork_join& join, task<T>& t,
                           result_box<T>& out, fork_decision& d, std::size_t i) {
  if (d.decided()) {
    join.skip_branch();
    return;
  }
  auto decide = [&d, i](const result_box<T>& outcome) noexcept {
    if (When == decides_on::any_outcome || outcome.failed())
      d.decide(i);
  };
  driver.emplace(run_branch(t, out, decide)).start(branch);
}

/// Takes a finished branch's value out of `r` as the fork yields it, `V`: a
/// value-initialised `V` (`std::monostate`) for `task<void>`, else `V`
/// constructed from the value. Rethrows the branch's exception if it failed.
template <class V, class T>
V take_as(result_box<T>& r) {
  if constexpr (std::is_void_v<T>) {
    r.take();
    return {};
  } else {
    return r.take();
  }
}

/// The state of a deciding fork over a fixed list of tasks, and its start:
/// what the `when_all` and `when_any` awaiters share. The awaiter deriving
/// from it adds `await_resume`, reading `results()` and `decision()` once
/// every started branch has ended.
template <decides_on When, class... Ts>
class deciding_fork {
public:
  explicit deciding_fork(task<Ts>... ts) : tasks_(std::move(ts)...) {}

  bool await_ready() const noexcept { return sizeof...(Ts) == 0; }

  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> awaiting) {
    join_.prepare(awaiting);
    start(std::index_sequence_for<Ts...>{});
    return join_.started_all();
  }

protected:
  std::tuple<result_box<Ts>...>& results() noexcept { return results_; }
  const fork_decision& decision() const noexcept { return decision_; }

private:
  template <std::size_t... I>
  void start(std::index_sequence<I...>) {
    (start_deciding_branch<When>(drivers_[I], branches_[I], join_, std::get<I>(tasks_), std::get<I>(results_),
                                 decision_, I),
     ...);
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

/// As `deciding_fork`, for a run-time number of tasks of one type; the
/// per-branch state is allocated from the heap, three arrays a fork.
template <decides_on When, class T>
class deciding_range_fork {
public:
  explicit deciding_range_fork(std::vector<task<T>> ts)
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
      start_deciding_branch<When>(drivers_[i], branches_[i], join_, tasks_[i], results_[i], decision_, i);
    return join_.started_all();
  }

protected:
  std::size_t size() const noexcept { return tasks_.size(); }
  result_box<T>& result(std::size_t i) noexcept { return results_[i]; }
  const fork_decision& decision() const noexcept { return decision_; }

private:
  // Declared before the tasks so they outlive them (see deciding_fork).
  std::unique_ptr<fork_branch[]> branches_;
  std::vector<task<T>> tasks_;
  std::unique_ptr<result_box<T>[]> results_;
  std::unique_ptr<std::optional<branch_driver>[]> drivers_;
  fork_join join_;
  fork_decision decision_{join_};
};

}  // namespace coronet::detail
