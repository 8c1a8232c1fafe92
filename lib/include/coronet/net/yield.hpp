// coronet::yield: let other work on the executor run.
#pragma once

#include <stdexcept>
#include <utility>

#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include "coronet/net/detail/io_awaiter.hpp"
#include "coronet/net/io_context_executor.hpp"

namespace coronet {
namespace detail {

class yield_op : public io_awaiter<yield_op, bool> {
public:
  yield_op() noexcept : io_awaiter(nullptr) {}
  void initiate(io_handler<yield_op> h) {
    if (context_ == nullptr)
      throw std::logic_error("coronet::yield: not inside a spawned or sync_waited task");
    // Posting through the concrete executor skips any_io_executor's type
    // erasure and its extra wrapper allocation (docs/architecture.md,
    // "Concrete executors").
    if (const auto* io = io_context_target(context_->executor))
      asio::post(*io, std::move(h));
    else
      asio::post(context_->executor, std::move(h));
  }
  void complete() noexcept {}
  void await_resume() const noexcept {}
};

}  // namespace detail

/// Suspends the current task and resumes it from the executor's queue, after
/// the work already queued there. Throws `std::logic_error` outside a task
/// started by `spawn` or `sync_wait`.
[[nodiscard]] inline detail::yield_op yield() noexcept { return {}; }

}  // namespace coronet
