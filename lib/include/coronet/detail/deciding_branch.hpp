// Forks where one branch's outcome decides the whole: the others are cancelled.
#pragma once

#include <cstddef>
#include <optional>

#include "coronet/detail/fork.hpp"
#include "coronet/detail/result_box.hpp"
#include "coronet/task.hpp"

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

}  // namespace coronet::detail
