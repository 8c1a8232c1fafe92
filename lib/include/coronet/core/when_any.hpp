// coronet::when_any: run tasks concurrently; the first to finish wins.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "coronet/core/detail/deciding_branch.hpp"
#include "coronet/core/detail/result_box.hpp"
#include "coronet/core/task.hpp"

namespace coronet {

/// What `when_any` holds for the value of a `task<T>`: `T`; `std::monostate`
/// for `void`; `std::reference_wrapper<U>` for `T = U&`.
template <class T>
using when_any_value_t = std::conditional_t<
    std::is_void_v<T>, std::monostate,
    std::conditional_t<std::is_reference_v<T>, std::reference_wrapper<std::remove_reference_t<T>>, T>>;

/// What the vector form of `when_any` yields: which task won and its value.
template <class T>
struct when_any_result {
  /// Position of the winning task in the vector.
  std::size_t index;
  /// The winner's value (`std::monostate` for `task<void>`).
  when_any_value_t<T> value;
};

namespace detail {

template <class... Ts>
class when_any_awaiter : public deciding_fork<decides_on::any_outcome, Ts...> {
public:
  using result_type = std::variant<when_any_value_t<Ts>...>;

  using deciding_fork<decides_on::any_outcome, Ts...>::deciding_fork;

  // Every started branch has ended, and the first to end decided.
  result_type await_resume() { return take_winner(std::index_sequence_for<Ts...>{}); }

private:
  template <std::size_t I>
  using value_of = typename std::tuple_element_t<I, std::tuple<task<Ts>...>>::value_type;

  template <std::size_t I>
  result_type take_from() {
    if constexpr (std::is_void_v<value_of<I>>) {
      std::get<I>(this->results()).take();
      return result_type(std::in_place_index<I>);
    } else {
      return result_type(std::in_place_index<I>, std::get<I>(this->results()).take());
    }
  }

  template <std::size_t... I>
  result_type take_winner(std::index_sequence<I...>) {
    using taker = result_type (when_any_awaiter::*)();
    static constexpr std::array<taker, sizeof...(I)> takers{&when_any_awaiter::take_from<I>...};
    return (this->*takers[this->decision().index()])();
  }
};

template <class T>
class when_any_range_awaiter : public deciding_range_fork<decides_on::any_outcome, T> {
public:
  using deciding_range_fork<decides_on::any_outcome, T>::deciding_range_fork;

  when_any_result<T> await_resume() {
    const std::size_t winner = this->decision().index();
    return when_any_result<T>{winner, take_as<when_any_value_t<T>>(this->result(winner))};
  }
};

}  // namespace detail

/// Runs every task concurrently on the awaiting task's executor; the first to
/// finish, with a value or an exception, wins. The others are then cancelled
/// through their cancellation slots (the operation each is waiting on
/// completes with `operation_aborted`), and `when_any` resumes only after
/// every one of them has ended too, so nothing started here outlives it.
///
/// Yields a `std::variant` whose `index()` is the winner's position in the
/// argument list and whose alternative at that index is the winner's value
/// (`std::get<I>(result)`; `std::monostate` for `task<void>`; types may
/// repeat). Branches interleave on one thread; a branch that finishes while
/// the branches are being started wins at once, and the tasks after it are
/// never started.
///
/// Errors: if the winner ended with an exception, `when_any` rethrows it
/// (after the others have ended). The losers' outcomes are discarded: their
/// values, and their exceptions (typically the `operation_aborted` that the
/// cancellation caused). Cancelling the awaiting chain cancels every branch;
/// the first of them to end then wins as usual, so `when_any` usually throws
/// that branch's `operation_aborted`, unless the branch handled it and
/// returned a value. A branch waiting on something that ignores cancellation
/// (`yield`, a `task_group::join`), or that handles the cancellation and
/// starts waiting again, delays `when_any` until it ends on its own.
///
/// Allocation: the `when_any` frame and one small frame per branch, all from
/// the frame pool: no heap allocation in steady state.
template <class... Ts>
  requires(sizeof...(Ts) > 0)
task<std::variant<when_any_value_t<Ts>...>> when_any(task<Ts>... tasks) {
  co_return co_await detail::when_any_awaiter<Ts...>(std::move(tasks)...);
}

/// As the variadic form, for a run-time number of tasks of one type: yields
/// the winner's position in `tasks` and its value. Throws
/// `std::invalid_argument` (from `co_await`) when `tasks` is empty. Allocates
/// three arrays of per-branch state from the heap on each call.
template <class T>
task<when_any_result<T>> when_any(std::vector<task<T>> tasks) {
  if (tasks.empty())
    throw std::invalid_argument("coronet::when_any: no tasks to wait for");
  co_return co_await detail::when_any_range_awaiter<T>(std::move(tasks));
}

}  // namespace coronet
