// coronet::yield: let other work on the executor run.
#pragma once

#include <coroutine>
#include <stdexcept>
#include <utility>

#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include "coronet/net/detail/io_awaiter.hpp"
#include "coronet/net/io_context_executor.hpp"

namespace coronet {
namespace detail {

// Suspends its coroutine and posts a handler that resumes it. Leaner than an
// io_awaiter: a post cannot be cancelled and completes with nothing, so the
// handler carries no cancellation slot and the awaiter no result.
class yield_op {
public:
  bool await_ready() const noexcept { return false; }

  template <class Promise>
  void await_suspend(std::coroutine_handle<Promise> h) {
    waiter_ = h;
    context_ = context_of(h);
    if (context_ == nullptr)
      throw std::logic_error("coronet::yield: not inside a spawned or sync_waited task");
    const initiation_scope initiating(this);
    // Posting through the concrete executor skips any_io_executor's type
    // erasure and its extra wrapper allocation (docs/architecture.md,
    // "Concrete executors").
    if (const auto* io = io_context_target(context_->executor))
      asio::post(*io, handler{this});
    else
      asio::post(context_->executor, handler{this});
  }

  void await_resume() const noexcept {}

private:
  // Resumes the yielding coroutine. Destroyed without running (its
  // io_context went away with it queued), it abandons the chain; destroyed
  // while the post that takes it throws, it leaves the exception to the
  // coroutine.
  class handler {
  public:
    using allocator_type = pool_allocator<void>;
    explicit handler(yield_op* op) noexcept : op_(op) {}
    handler(handler&& other) noexcept : op_(std::exchange(other.op_, nullptr)) {}
    handler& operator=(handler&&) = delete;
    ~handler() {
      if (op_ != nullptr && op_ != tl_initiating)
        abandon_chain(op_->context_);
    }
    void operator()() {
      yield_op* op = std::exchange(op_, nullptr);
      tl_inline_completions = 0;
      op->waiter_.resume();
    }
    allocator_type get_allocator() const noexcept { return {}; }

  private:
    yield_op* op_;
  };

  std::coroutine_handle<> waiter_{};
  chain_context* context_ = nullptr;
};

}  // namespace detail

/// Suspends the current task and resumes it from the executor's queue, after
/// the work already queued there. Throws `std::logic_error` outside a task
/// started by `spawn` or `sync_wait`.
[[nodiscard]] inline detail::yield_op yield() noexcept { return {}; }

}  // namespace coronet
