// coronet::spawn: start a task detached on an executor.
#pragma once

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include <asio/associated_cancellation_slot.hpp>
#include <asio/execution/executor.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include "coronet/core/detail/frame_allocator.hpp"
#include "coronet/core/detail/promise_base.hpp"
#include "coronet/core/detail/result_box.hpp"
#include "coronet/core/task.hpp"

namespace coronet {

/// Number of exceptions that escaped tasks `spawn`ed without a completion
/// handler since the program started (each one was also logged).
std::size_t unhandled_exception_count() noexcept;

namespace detail {

/// Logs an exception that escaped a detached task and counts it.
void report_unhandled_exception(std::exception_ptr e) noexcept;

/// Chain context of a root frame: abandoning the chain destroys the frame,
/// which destroys every task it awaits in turn.
struct root_context : chain_context {
  std::coroutine_handle<> frame;
};

class root_promise;

/// The self-owning frame at the bottom of every spawned chain.
struct root_coroutine {
  using promise_type = root_promise;
  std::coroutine_handle<root_promise> handle;
};

class root_promise : public promise_base {
public:
  root_coroutine get_return_object() noexcept {
    auto h = std::coroutine_handle<root_promise>::from_promise(*this);
    context_ = &root_context_;
    root_context_.frame = h;
    root_context_.abandon = [](chain_context* c) noexcept {
      static_cast<root_context*>(c)->frame.destroy();
    };
    return {h};
  }
  std::suspend_always initial_suspend() const noexcept { return {}; }
  // The frame frees itself at the end: nobody holds a handle to it.
  std::suspend_never final_suspend() const noexcept { return {}; }
  void return_void() const noexcept {}
  // Bodies catch everything; an exception here is a coronet bug.
  void unhandled_exception() const noexcept { std::terminate(); }

  root_context& context() noexcept { return root_context_; }

private:
  root_context root_context_;
};

// Runs a root frame's first step on the executor. Destroyed unrun (its
// io_context went away first), it frees the frame that never started.
class root_starter {
public:
  using allocator_type = pool_allocator<void>;

  explicit root_starter(std::coroutine_handle<> h) noexcept : handle_(h) {}
  root_starter(root_starter&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  root_starter& operator=(root_starter&&) = delete;
  ~root_starter() {
    if (handle_)
      handle_.destroy();
  }
  void operator()() { std::exchange(handle_, {}).resume(); }
  allocator_type get_allocator() const noexcept { return {}; }

private:
  std::coroutine_handle<> handle_;
};

template <class Factory>
using factory_result_t = typename std::invoke_result_t<Factory&>::value_type;

// The factory lives in the root frame, so a lambda coroutine's captures stay
// alive for as long as the task it returned runs.
template <class Factory, class OnDone>
root_coroutine run_root(Factory factory, OnDone on_done) {
  using T = factory_result_t<Factory>;
  result_box<T> result;
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::invoke(factory);
      result.set_value();
    } else {
      result.set_value(co_await std::invoke(factory));
    }
  } catch (...) {
    result.set_exception(std::current_exception());
  }
  try {
    on_done(result);
  } catch (...) {
    report_unhandled_exception(std::current_exception());
  }
}

// Returns the root frame, which frees itself when done; only its starter may
// (not yet run) or a caller that knows it can never be resumed may destroy it.
template <class Executor, class Factory, class OnDone>
std::coroutine_handle<> start_root(const Executor& ex, Factory&& factory, OnDone&& on_done,
                                   asio::cancellation_slot slot) {
  root_coroutine root = run_root(std::forward<Factory>(factory), std::forward<OnDone>(on_done));
  root_context& ctx = root.handle.promise().context();
  ctx.executor = ex;
  ctx.slot = slot;
  asio::post(ex, root_starter{root.handle});
  return root.handle;
}

template <class T>
struct wrap_task {
  task<T> t;
  task<T> operator()() { return std::move(t); }
};

// Calls a user completion handler with the outcome of a task.
template <class Completion>
struct deliver_to {
  Completion completion;
  template <class T>
  void operator()(result_box<T>& r) {
    if constexpr (std::is_void_v<T>) {
      try {
        r.take();
      } catch (...) {
        std::invoke(completion, std::current_exception());
        return;
      }
      std::invoke(completion, std::exception_ptr{});
    } else {
      static_assert(!std::is_reference_v<T>, "a completion handler needs a task returning a value");
      std::exception_ptr error;
      std::optional<T> value;
      try {
        value.emplace(r.take());
      } catch (...) {
        error = std::current_exception();
      }
      if (value)
        std::invoke(completion, std::exception_ptr{}, std::move(*value));
      else
        std::invoke(completion, error, T{});
    }
  }
};

struct report_if_failed {
  template <class T>
  void operator()(result_box<T>& r) const noexcept {
    try {
      r.take();
    } catch (...) {
      report_unhandled_exception(std::current_exception());
    }
  }
};

template <class E>
concept io_executor = asio::execution::is_executor<E>::value;

}  // namespace detail

/// Starts `t` detached: its first step is posted to `ex`, and it then runs on
/// whichever thread runs `ex`. An exception escaping `t` is never lost: it is
/// logged through `coronet::log` and counted (`unhandled_exception_count()`).
///
/// Nobody owns a detached task. If its io_context stops and is destroyed
/// while the task is suspended, the task is abandoned: it is never resumed,
/// and its frames (and their locals) are destroyed with the io_context. A
/// server stops its io_contexts this way once its drain deadline has passed,
/// so a task a handler spawns onto `co_await this_executor` gets at most
/// `drain_timeout` after a stop; work that must be cancelled and awaited on
/// stop belongs in a `task_group` instead.
template <detail::io_executor Executor, class T>
void spawn(const Executor& ex, task<T> t) {
  detail::start_root(ex, detail::wrap_task<T>{std::move(t)}, detail::report_if_failed{}, {});
}

/// Starts `t` detached and calls `completion` with its outcome when it ends:
/// `completion(std::exception_ptr)` for `task<void>`, otherwise
/// `completion(std::exception_ptr, T)` (with a value-initialised `T` when it
/// failed). `completion` runs on the thread that ran the task's last step; an
/// exception it throws is logged and counted. If `completion` has an
/// associated cancellation slot (`asio::bind_cancellation_slot`), emitting
/// its signal cancels the operation the task is waiting on.
template <detail::io_executor Executor, class T, class Completion>
void spawn(const Executor& ex, task<T> t, Completion&& completion) {
  auto slot = asio::get_associated_cancellation_slot(completion);
  detail::start_root(ex, detail::wrap_task<T>{std::move(t)},
                     detail::deliver_to<std::decay_t<Completion>>{std::forward<Completion>(completion)}, slot);
}

/// Starts the task returned by `factory()` detached, keeping `factory` (and
/// so a lambda's captures) alive until that task ends. Otherwise as the
/// `spawn(ex, task)` overload.
template <detail::io_executor Executor, std::invocable Factory>
void spawn(const Executor& ex, Factory&& factory) {
  detail::start_root(ex, std::forward<Factory>(factory), detail::report_if_failed{}, {});
}

/// As `spawn(ex, factory)`, with a completion handler as for `spawn(ex, task, completion)`.
template <detail::io_executor Executor, std::invocable Factory, class Completion>
void spawn(const Executor& ex, Factory&& factory, Completion&& completion) {
  auto slot = asio::get_associated_cancellation_slot(completion);
  detail::start_root(ex, std::forward<Factory>(factory),
                     detail::deliver_to<std::decay_t<Completion>>{std::forward<Completion>(completion)}, slot);
}

/// Every `spawn` overload also takes an `io_context` in place of its executor.
template <class... Args>
void spawn(asio::io_context& ctx, Args&&... args) {
  spawn(ctx.get_executor(), std::forward<Args>(args)...);
}

}  // namespace coronet
