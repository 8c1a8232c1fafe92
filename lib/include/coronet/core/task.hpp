// coronet::task<T>: the lazy coroutine type everything else is built from.
#pragma once

#include <coroutine>
#include <exception>
#include <stdexcept>
#include <utility>

#include "coronet/core/detail/promise_base.hpp"
#include "coronet/core/detail/result_box.hpp"

namespace coronet {

template <class T = void>
class task;

namespace detail {

// The library's own drivers reach a task's coroutine through this (see
// detail/inline_start.hpp); users cannot.
struct task_access;

// Resumes whoever awaited the task by symmetric transfer, so a loop that
// awaits immediately-completing tasks does not grow the stack.
struct task_final_awaiter {
  bool await_ready() const noexcept { return false; }
  template <class Promise>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> h) const noexcept {
    std::coroutine_handle<> next = h.promise().continuation_;
    return next ? next : std::noop_coroutine();
  }
  void await_resume() const noexcept {}
};

template <class T>
class task_promise_common : public promise_base {
public:
  std::suspend_always initial_suspend() const noexcept { return {}; }
  task_final_awaiter final_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept { result_.set_exception(std::current_exception()); }

  decltype(auto) result() { return result_.take(); }

  // The outcome in place, for drivers that use it without moving it out.
  result_box<T>& outcome() noexcept { return result_; }

protected:
  result_box<T> result_;
};

template <class T>
class task_promise final : public task_promise_common<T> {
public:
  task<T> get_return_object() noexcept;

  template <class U = T>
    requires std::is_convertible_v<U&&, T>
  void return_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    this->result_.set_value(std::forward<U>(v));
  }
};

template <class T>
class task_promise<T&> final : public task_promise_common<T&> {
public:
  task<T&> get_return_object() noexcept;
  void return_value(T& v) noexcept { this->result_.set_value(v); }
};

template <>
class task_promise<void> final : public task_promise_common<void> {
public:
  task<void> get_return_object() noexcept;
  void return_void() noexcept { this->result_.set_value(); }
};

}  // namespace detail

/// A lazy, move-only coroutine producing a `T` (or a reference, or nothing).
///
/// The body does not start until the task is `co_await`ed (or handed to
/// `spawn` / `sync_wait`); it then runs on the awaiting thread. When it ends,
/// the awaiting coroutine is resumed by symmetric transfer, so awaiting tasks
/// that complete immediately never grows the stack. An exception escaping the
/// body is captured and rethrown from the `co_await` expression. Destroying a
/// task that was never started (or has finished) frees its frame; frames come
/// from a thread-local recycling pool, so steady-state awaiting allocates nothing.
///
/// A task can be awaited once. Awaiting an empty (moved-from) task throws
/// `std::logic_error`.
template <class T>
class [[nodiscard]] task {
public:
  /// The coroutine's promise type.
  using promise_type = detail::task_promise<T>;
  /// The result of `co_await`ing the task.
  using value_type = T;

  /// An empty task; awaiting it throws `std::logic_error`.
  task() noexcept = default;

  /// Takes over `other`'s coroutine, leaving `other` empty.
  task(task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}

  /// Destroys the owned coroutine, if any, then takes over `other`'s.
  task& operator=(task&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }

  task(const task&) = delete;
  task& operator=(const task&) = delete;

  /// Destroys the coroutine frame (started or not) and everything it owns.
  ~task() { reset(); }

  /// True if the task owns a coroutine.
  explicit operator bool() const noexcept { return static_cast<bool>(handle_); }

  /// True if the coroutine has run to completion.
  bool done() const noexcept { return handle_ && handle_.done(); }

  /// What `co_await task` uses: starts the task by symmetric transfer and
  /// resumes the awaiting coroutine when it finishes.
  class awaiter {
  public:
    /// Awaits the coroutine `h` (may be null: awaiting then throws).
    explicit awaiter(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}

    /// True when there is nothing to run: an empty or finished task.
    bool await_ready() const noexcept { return !handle_ || handle_.done(); }

    /// Links the task to `awaiting` (continuation and cancellation context)
    /// and transfers to it.
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> awaiting) const noexcept {
      handle_.promise().continuation_ = awaiting;
      handle_.promise().context_ = detail::context_of(awaiting);
      return handle_;
    }

    /// The task's result; rethrows its exception. Throws `std::logic_error`
    /// for an empty task.
    decltype(auto) await_resume() const {
      if (!handle_)
        throw std::logic_error("coronet::task: awaiting an empty task");
      return handle_.promise().result();
    }

  private:
    std::coroutine_handle<promise_type> handle_;
  };

  /// Starts the task and suspends until it finishes; yields its result or
  /// rethrows its exception.
  awaiter operator co_await() && noexcept { return awaiter{handle_}; }
  /// Same as the rvalue form; the task stays owned by this object.
  awaiter operator co_await() & noexcept { return awaiter{handle_}; }

private:
  friend promise_type;
  friend struct detail::task_access;
  explicit task(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}

  void reset() noexcept {
    if (handle_)
      std::exchange(handle_, {}).destroy();
  }

  std::coroutine_handle<promise_type> handle_{};
};

namespace detail {

template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
  return task<T>{std::coroutine_handle<task_promise>::from_promise(*this)};
}

template <class T>
task<T&> task_promise<T&>::get_return_object() noexcept {
  return task<T&>{std::coroutine_handle<task_promise>::from_promise(*this)};
}

inline task<void> task_promise<void>::get_return_object() noexcept {
  return task<void>{std::coroutine_handle<task_promise>::from_promise(*this)};
}

}  // namespace detail

/// Awaitable yielding the executor of the current coronet chain
/// (`auto ex = co_await coronet::this_executor;`). Throws `std::logic_error`
/// when awaited from a coroutine that is not run by `spawn` or `sync_wait`.
struct this_executor_t {
  /// Awaiter for `this_executor`; never suspends.
  class awaiter {
  public:
    /// Always false, so that `await_suspend` can read the awaiting chain.
    bool await_ready() const noexcept { return false; }
    /// Records the awaiting coroutine's chain; never suspends.
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) noexcept {
      context_ = detail::context_of(h);
      return false;
    }
    /// The chain's executor; throws `std::logic_error` outside `spawn`/`sync_wait`.
    asio::any_io_executor await_resume() const {
      if (context_ == nullptr)
        throw std::logic_error("coronet::this_executor: not inside a spawned or sync_waited task");
      return context_->executor;
    }

  private:
    detail::chain_context* context_ = nullptr;
  };
  /// Makes `co_await this_executor` work.
  awaiter operator co_await() const noexcept { return {}; }
};

/// See `this_executor_t`.
inline constexpr this_executor_t this_executor{};

}  // namespace coronet
