// coronet::task_group: spawn children and wait until all have finished.
#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <functional>
#include <system_error>
#include <type_traits>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>

#include "coronet/core/detail/promise_base.hpp"
#include "coronet/core/detail/result_box.hpp"
#include "coronet/core/spawn.hpp"
#include "coronet/core/task.hpp"

namespace coronet {

/// A scope for detached tasks: `spawn` children into it, `cancel()` them all,
/// and `co_await join()` until every one has finished.
///
/// A group and its children live on one executor and are used from the
/// thread running it (one group per io_context thread, as coronet's server
/// does). A child's exception is handed to the group's error handler (by
/// default: logged and counted like any detached task's), never lost. The
/// group must outlive its children: `join()` before destroying it. A group
/// destroyed with children still running detaches them (they run on, unowned).
class task_group {
public:
  /// Receives each exception that escapes a child.
  using error_handler = std::function<void(std::exception_ptr)>;

  /// An empty group whose children run on `ex`.
  explicit task_group(asio::any_io_executor ex, error_handler on_error = {})
      : executor_(std::move(ex)), on_error_(std::move(on_error)) {}

  task_group(const task_group&) = delete;
  task_group& operator=(const task_group&) = delete;

  ~task_group() {
    for (child* c = head_; c != nullptr; c = c->next)
      c->group = nullptr;
  }

  /// Starts `t` as a child (its first step is posted to the executor).
  void spawn(task<void> t) {
    child* c = add_child();
    detail::start_root(executor_, unless_cancelled<detail::wrap_task<void>>{c, detail::wrap_task<void>{std::move(t)}},
                       child_done{c}, c->signal.slot());
  }

  /// Starts `factory()` (a `task<void>`) as a child, keeping `factory` alive
  /// until it ends.
  template <std::invocable Factory>
  void spawn(Factory&& factory) {
    static_assert(std::is_same_v<std::invoke_result_t<Factory&>, task<void>>,
                  "task_group children are task<void>: a value would have nowhere to go");
    child* c = add_child();
    detail::start_root(executor_, unless_cancelled<std::decay_t<Factory>>{c, std::forward<Factory>(factory)},
                       child_done{c}, c->signal.slot());
  }

  /// Cancels every child: the operation each is waiting on completes with
  /// `operation_aborted` (`type` is emitted on its cancellation signal). A
  /// child whose first step has not run yet (spawned, then cancelled before
  /// the executor got to it) never starts: it ends with `operation_aborted`,
  /// which goes to the error handler like any child's exception. A child
  /// suspended on something that is not cancellable (e.g. `yield()`) is not
  /// affected.
  void cancel(asio::cancellation_type type = asio::cancellation_type::terminal) {
    for (child* c = head_; c != nullptr;) {
      child* next = c->next;  // emitting may finish (and unlink) the child
      c->cancelled = true;
      c->signal.emit(type);
      c = next;
    }
  }

  /// Number of children still running.
  std::size_t size() const noexcept { return count_; }

  /// Children that ended with an exception so far.
  std::size_t failures() const noexcept { return failures_; }

  /// Awaitable that completes when no child is running (at once if none is).
  /// At most one coroutine may wait at a time.
  class join_awaiter {
  public:
    /// Waits for `g`'s children.
    explicit join_awaiter(task_group& g) noexcept : group_(g) {}
    /// True when no child is running.
    bool await_ready() const noexcept { return group_.count_ == 0; }
    /// Registers the awaiting coroutine; the last child to finish resumes it.
    template <class Promise>
    void await_suspend(std::coroutine_handle<Promise> h) noexcept {
      group_.joiner_ = h;
      group_.joiner_context_ = detail::context_of(h);
    }
    /// Nothing: failures are counted by the group (`failures()`).
    void await_resume() const noexcept {}

  private:
    task_group& group_;
  };

  /// See `join_awaiter`.
  [[nodiscard]] join_awaiter join() noexcept { return join_awaiter{*this}; }

private:
  struct child {
    task_group* group = nullptr;
    child* prev = nullptr;
    child* next = nullptr;
    asio::cancellation_signal signal;
    // Set by cancel(): a child that has not started yet must not.
    bool cancelled = false;
  };

  // What a cancelled child runs instead of its task when it was cancelled
  // before its first step: cancel() could not reach it (nothing of it waited
  // on its signal yet).
  static task<void> aborted_before_start() {
    throw std::system_error(asio::error::operation_aborted);
    co_return;
  }

  // The child's factory, called when its first step runs: the task, or
  // aborted_before_start() once the group cancelled it. Lives in the child's
  // root frame, so `factory` stays alive as long as its task runs.
  template <class Factory>
  struct unless_cancelled {
    child* node;
    Factory factory;
    task<void> operator()() {
      if (node->cancelled)
        return aborted_before_start();
      return std::invoke(factory);
    }
  };

  // Completion of a child's root frame; destroyed without being called when
  // the child was abandoned (its io_context went away first).
  struct child_done {
    child* node;
    child_done(child* c) noexcept : node(c) {}
    child_done(child_done&& other) noexcept : node(std::exchange(other.node, nullptr)) {}
    ~child_done() {
      if (node != nullptr)
        finish(std::exchange(node, nullptr), false);
    }
    template <class T>
    void operator()(detail::result_box<T>& r) {
      child* c = std::exchange(node, nullptr);
      task_group* g = c->group;
      if (r.failed() && g != nullptr) {
        ++g->failures_;
        if (g->on_error_) {
          try {
            r.rethrow_if_failed();
          } catch (...) {
            g->on_error_(std::current_exception());
          }
        } else {
          detail::report_if_failed{}(r);
        }
      } else if (r.failed()) {
        detail::report_if_failed{}(r);
      }
      finish(c, true);
    }
  };

  // Resumes the joiner from the executor's queue, never from inside a child.
  struct joiner_resume {
    using allocator_type = detail::pool_allocator<void>;
    std::coroutine_handle<> handle;
    detail::chain_context* context;
    joiner_resume(std::coroutine_handle<> h, detail::chain_context* c) noexcept : handle(h), context(c) {}
    joiner_resume(joiner_resume&& other) noexcept : handle(std::exchange(other.handle, {})), context(other.context) {}
    ~joiner_resume() {
      if (handle)
        detail::abandon_chain(context);
    }
    void operator()() { std::exchange(handle, {}).resume(); }
    allocator_type get_allocator() const noexcept { return {}; }
  };

  child* add_child() {
    child* c = new child;
    c->group = this;
    c->next = head_;
    if (head_ != nullptr)
      head_->prev = c;
    head_ = c;
    ++count_;
    return c;
  }

  static void finish(child* c, bool completed) noexcept {
    task_group* g = c->group;
    if (g != nullptr) {
      if (c->prev != nullptr)
        c->prev->next = c->next;
      else
        g->head_ = c->next;
      if (c->next != nullptr)
        c->next->prev = c->prev;
      --g->count_;
      if (!completed)
        g->abandoned_ = true;
    }
    delete c;
    if (g != nullptr && g->count_ == 0 && g->joiner_)
      g->wake_joiner();
  }

  void wake_joiner() noexcept {
    std::coroutine_handle<> h = std::exchange(joiner_, {});
    if (abandoned_) {
      detail::abandon_chain(joiner_context_);
      return;
    }
    try {
      asio::post(executor_, joiner_resume{h, joiner_context_});
    } catch (...) {
      // Out of memory for the post: resuming inline is the only way left.
      h.resume();
    }
  }

  asio::any_io_executor executor_;
  error_handler on_error_;
  child* head_ = nullptr;
  std::size_t count_ = 0;
  std::size_t failures_ = 0;
  bool abandoned_ = false;
  std::coroutine_handle<> joiner_{};
  detail::chain_context* joiner_context_ = nullptr;
};

}  // namespace coronet
