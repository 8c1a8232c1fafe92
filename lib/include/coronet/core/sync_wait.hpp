// coronet::sync_wait: run a task to completion from ordinary code.
#pragma once

#include <exception>
#include <stdexcept>
#include <utility>

#include <asio/io_context.hpp>

#include "coronet/core/detail/result_box.hpp"
#include "coronet/core/spawn.hpp"
#include "coronet/core/task.hpp"

namespace coronet {

/// Runs `ctx` on the calling thread until `t` has finished, then returns its
/// result or rethrows its exception. Other work on `ctx` (spawned tasks,
/// handlers) runs meanwhile. Meant for `main` and tests.
///
/// Throws `std::logic_error` if `ctx` runs out of work before `t` finishes:
/// nothing queued could ever resume it then, so `t` is destroyed (keep `ctx`
/// busy with a work guard if `t` waits for other threads to post to it).
template <class T>
T sync_wait(asio::io_context& ctx, task<T> t) {
  detail::result_box<T> outcome;
  bool finished = false;
  auto on_done = [&](auto& result) noexcept {
    try {
      if constexpr (std::is_void_v<T>) {
        result.take();
        outcome.set_value();
      } else {
        outcome.set_value(result.take());
      }
    } catch (...) {
      outcome.set_exception(std::current_exception());
    }
    finished = true;
  };
  std::coroutine_handle<> root = detail::start_root(ctx.get_executor(), detail::wrap_task<T>{std::move(t)}, on_done,
                                                    {});
  while (!finished) {
    if (ctx.stopped())
      ctx.restart();
    if (ctx.run_one() == 0 && !finished) {
      // Nothing queued can resume the task: free its frames rather than leak them.
      root.destroy();
      throw std::logic_error("coronet::sync_wait: the io_context ran out of work before the task finished");
    }
  }
  return outcome.take();
}

/// Runs `t` on a private `io_context` on the calling thread; the task gets its
/// executor with `co_await coronet::this_executor`. See the overload above.
template <class T>
T sync_wait(task<T> t) {
  asio::io_context ctx(1);
  return sync_wait(ctx, std::move(t));
}

}  // namespace coronet
