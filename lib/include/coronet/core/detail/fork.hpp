// Running several tasks concurrently under one awaiting coroutine.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <span>
#include <type_traits>
#include <utility>

#include <asio/cancellation_signal.hpp>
#include <asio/cancellation_type.hpp>

#include "coronet/core/detail/promise_base.hpp"
#include "coronet/core/detail/result_box.hpp"
#include "coronet/core/task.hpp"

namespace coronet::detail {

class fork_join;

/// Chain context of one branch of a fork: its own cancellation signal, so a
/// branch can be cancelled alone, and abandonment counted at the join.
struct fork_branch : chain_context {
  fork_join* join = nullptr;
  std::size_t index = 0;
  asio::cancellation_signal signal;
};

/// Waits for every branch of a fork; resumes the awaiting coroutine after the
/// last one. The awaiting chain's cancellation is forwarded to every branch.
///
/// Branches must run on one thread at a time (one io_context per thread, as
/// coronet's server does): a finishing branch may emit another's signal.
class fork_join {
public:
  /// Hook run as each branch finishes, before the join counts it.
  using branch_hook = void (*)(fork_join&, std::size_t index) noexcept;

  explicit fork_join(std::span<fork_branch> branches, branch_hook hook = nullptr) noexcept
      : branches_(branches), hook_(hook) {}

  fork_join(const fork_join&) = delete;
  fork_join& operator=(const fork_join&) = delete;

  ~fork_join() {
    if (forwarding_)
      parent_->slot.clear();
  }

  /// Prepares the branches' contexts for a fork awaited by `awaiting`.
  template <class Promise>
  void prepare(std::coroutine_handle<Promise> awaiting) {
    joiner_ = awaiting;
    parent_ = context_of(awaiting);
    outstanding_.store(branches_.size() + 1, std::memory_order_relaxed);
    for (std::size_t i = 0; i < branches_.size(); ++i) {
      fork_branch& b = branches_[i];
      b.join = this;
      b.index = i;
      b.executor = parent_ != nullptr ? parent_->executor : asio::any_io_executor{};
      b.slot = b.signal.slot();
      b.parent = parent_;
      b.deadline_passed = false;
      b.abandon = [](chain_context* c) noexcept {
        static_cast<fork_branch*>(c)->join->branch_abandoned();
      };
    }
    if (parent_ != nullptr && parent_->slot.is_connected()) {
      parent_->slot.template emplace<forward_cancellation>(branches_);
      forwarding_ = true;
    }
  }

  /// Called after every branch was started: true if the awaiting coroutine
  /// must stay suspended (some branch is still running).
  bool started_all() noexcept { return outstanding_.fetch_sub(1, std::memory_order_acq_rel) != 1; }

  /// Counts a branch that will not be started at all.
  void skip_branch() noexcept { outstanding_.fetch_sub(1, std::memory_order_acq_rel); }

  /// A branch ran to its end; returns what to resume next.
  std::coroutine_handle<> branch_finished(std::size_t index) noexcept {
    if (hook_ != nullptr)
      hook_(*this, index);
    if (outstanding_.fetch_sub(1, std::memory_order_acq_rel) != 1)
      return std::noop_coroutine();
    if (abandoned_.load(std::memory_order_acquire)) {
      abandon_chain(parent_);
      return std::noop_coroutine();
    }
    return joiner_;
  }

  /// A branch waits on an operation that will never complete.
  void branch_abandoned() noexcept {
    abandoned_.store(true, std::memory_order_release);
    if (outstanding_.fetch_sub(1, std::memory_order_acq_rel) == 1)
      abandon_chain(parent_);
  }

  /// Emits `type` on every branch but `except`.
  void cancel_others(std::size_t except, asio::cancellation_type type = asio::cancellation_type::terminal) noexcept {
    for (fork_branch& b : branches_)
      if (b.index != except)
        b.signal.emit(type);
  }

  /// The branches.
  std::span<fork_branch> branches() noexcept { return branches_; }

private:
  struct forward_cancellation {
    // Asio constructs it with parentheses, which clang 14 cannot do for an aggregate.
    explicit forward_cancellation(std::span<fork_branch> b) noexcept : branches(b) {}
    std::span<fork_branch> branches;
    void operator()(asio::cancellation_type type) const {
      for (fork_branch& b : branches)
        b.signal.emit(type);
    }
  };

  std::span<fork_branch> branches_;
  branch_hook hook_;
  std::coroutine_handle<> joiner_{};
  chain_context* parent_ = nullptr;
  std::atomic<std::size_t> outstanding_{0};
  std::atomic<bool> abandoned_{false};
  bool forwarding_ = false;
};

class branch_promise;

/// The frame driving one branch; owned by the fork (destroyed with it).
class branch_driver {
public:
  using promise_type = branch_promise;

  explicit branch_driver(std::coroutine_handle<branch_promise> h) noexcept : handle_(h) {}
  branch_driver(branch_driver&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  branch_driver& operator=(branch_driver&& other) noexcept {
    std::swap(handle_, other.handle_);
    return *this;
  }
  ~branch_driver() {
    if (handle_)
      handle_.destroy();
  }

  /// Binds the driver to `branch` and runs it to its first suspension.
  void start(fork_branch& branch) noexcept;

private:
  std::coroutine_handle<branch_promise> handle_;
};

class branch_promise : public promise_base {
public:
  branch_driver get_return_object() noexcept {
    return branch_driver{std::coroutine_handle<branch_promise>::from_promise(*this)};
  }
  std::suspend_always initial_suspend() const noexcept { return {}; }

  struct final_awaiter {
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<branch_promise> h) const noexcept {
      fork_branch& b = *static_cast<fork_branch*>(h.promise().context_);
      return b.join->branch_finished(b.index);
    }
    void await_resume() const noexcept {}
  };
  final_awaiter final_suspend() const noexcept { return {}; }
  void return_void() const noexcept {}
  // Branch bodies catch everything into their result box.
  void unhandled_exception() const noexcept { std::terminate(); }
};

inline void branch_driver::start(fork_branch& branch) noexcept {
  handle_.promise().context_ = &branch;
  handle_.resume();
}

/// What `run_branch` does by default once the outcome is stored: nothing.
struct ignore_branch_end {
  template <class T>
  void operator()(const result_box<T>&) const noexcept {}
};

/// Runs `t`, storing its outcome in `out`, then calls `on_end(out)` while the
/// branch still counts as running. `on_end` must not throw: the branch has no
/// one to report it to (`std::terminate` is called).
template <class T, class OnEnd = ignore_branch_end>
branch_driver run_branch(task<T>& t, result_box<T>& out, OnEnd on_end = {}) {
  try {
    if constexpr (std::is_void_v<T>) {
      co_await t;
      out.set_value();
    } else {
      out.set_value(co_await t);
    }
  } catch (...) {
    out.set_exception(std::current_exception());
  }
  on_end(std::as_const(out));
}

}  // namespace coronet::detail
