// Running a task on the caller's stack until it first suspends.
#pragma once

#include <coroutine>

#include "coronet/core/detail/promise_base.hpp"
#include "coronet/core/task.hpp"

namespace coronet::detail {

/// The library's access to a task's coroutine (the public class hides it).
struct task_access {
  template <class T>
  static std::coroutine_handle<typename task<T>::promise_type> handle(const task<T>& t) noexcept {
    return t.handle_;
  }
};

/// Starts `t` in the chain `context` and runs it on the calling thread until
/// it first suspends or finishes. Returns true when it finished: its outcome
/// is then in `outcome_of(t)`. Otherwise the caller must `continue_with` the
/// coroutine to resume when it ends, before anything else runs on this
/// thread.
///
/// Why: a server learns whether a handler suspended at all, so a handler that
/// finishes at once costs neither a flush nor a timer. The price is that the
/// task and its caller must share one thread (a single-threaded io_context,
/// as every coronet server uses): on a multi-threaded executor the task could
/// finish on another thread before `continue_with` ran, and nothing would
/// resume the caller.
template <class T>
bool start_inline(task<T>& t, chain_context* context) {
  auto h = task_access::handle(t);
  h.promise().context_ = context;
  h.promise().continuation_ = {};  // finishing now comes back here through noop_coroutine
  h.resume();
  return h.done();
}

/// After `start_inline` returned false: resume `next` when `t` ends.
template <class T>
void continue_with(task<T>& t, std::coroutine_handle<> next) noexcept {
  task_access::handle(t).promise().continuation_ = next;
}

/// Starts `t` by symmetric transfer from the awaiting coroutine, in the chain
/// `context`: returns the coroutine to resume; `next` is resumed when it ends.
template <class T>
std::coroutine_handle<> start_by_transfer(task<T>& t, chain_context* context, std::coroutine_handle<> next) noexcept {
  auto h = task_access::handle(t);
  h.promise().context_ = context;
  h.promise().continuation_ = next;
  return h;
}

/// The outcome of a finished task, in place (its value is not moved out).
template <class T>
auto& outcome_of(task<T>& t) noexcept {
  return task_access::handle(t).promise().outcome();
}

}  // namespace coronet::detail
