// Waiting helpers shared by the io tests: bounded, event-driven, no sleeps.
#pragma once

#include <asio/io_context.hpp>

#include <chrono>
#include <functional>

#include "coronet/core/task.hpp"
#include "coronet/net/yield.hpp"

namespace coronet_test {

using clock_type = std::chrono::steady_clock;

// Yields to the executor until `done()` holds; false if it did not within `limit`.
inline coronet::task<bool> wait_until(std::function<bool()> done,
                                      clock_type::duration limit = std::chrono::seconds(5)) {
  const auto deadline = clock_type::now() + limit;
  while (!done()) {
    if (clock_type::now() > deadline)
      co_return false;
    co_await coronet::yield();
  }
  co_return true;
}

// Runs `ctx` until `done()` holds, waiting for events at most `limit` in total.
inline bool run_until(asio::io_context& ctx, const std::function<bool()>& done,
                      clock_type::duration limit = std::chrono::seconds(5)) {
  const auto deadline = clock_type::now() + limit;
  while (!done()) {
    if (clock_type::now() > deadline)
      return false;
    if (ctx.stopped())
      ctx.restart();
    ctx.run_one_for(std::chrono::milliseconds(100));
  }
  return true;
}

// Increments a counter when destroyed: proves a coroutine frame's locals were destroyed.
struct destroy_counter {
  int* count;
  explicit destroy_counter(int* c) noexcept : count(c) {}
  destroy_counter(const destroy_counter&) = delete;
  destroy_counter& operator=(const destroy_counter&) = delete;
  ~destroy_counter() { ++*count; }
};

}  // namespace coronet_test
