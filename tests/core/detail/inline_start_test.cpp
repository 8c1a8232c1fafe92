// coronet::detail::start_inline, continue_with and outcome_of: running a task
// on the caller's stack until it first suspends.
#include "coronet/core/detail/inline_start.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <coroutine>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/io_context.hpp>

#include "coronet/core/detail/promise_base.hpp"
#include "coronet/core/task.hpp"
#include "coronet/net/yield.hpp"

#include "support/wait_helpers.hpp"

namespace core_detail_inline_start_test {

namespace {

using coronet::task;
using coronet::detail::chain_context;
using coronet::detail::continue_with;
using coronet::detail::outcome_of;
using coronet::detail::start_inline;
using coronet_test::run_until;

// Counts its copies and moves: the outcome must be used where the task built it.
struct counted {
  counted(int v) : value(v) {}  // implicit, so that `co_return 7;` builds it in place
  counted(const counted& other) : value(other.value) { ++copies; }
  counted(counted&& other) noexcept : value(other.value) { ++moves; }
  counted& operator=(const counted&) = delete;
  counted& operator=(counted&&) = delete;
  int value;
  static inline int copies = 0;
  static inline int moves = 0;
};

// A coroutine that records that it was resumed, standing in for the caller
// waiting on the task. Its frame is destroyed with the object.
class resume_probe {
public:
  struct promise_type {
    resume_probe get_return_object() noexcept {
      return resume_probe{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() const noexcept { return {}; }
    std::suspend_always final_suspend() const noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
  resume_probe(resume_probe&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  resume_probe& operator=(resume_probe&&) = delete;
  ~resume_probe() {
    if (handle_)
      handle_.destroy();
  }
  std::coroutine_handle<> handle() const noexcept { return handle_; }
  bool resumed() const noexcept { return handle_.done(); }

private:
  explicit resume_probe(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}
  std::coroutine_handle<promise_type> handle_;
};

resume_probe probe() { co_return; }

// A chain running on `ctx`, as a server gives each handler.
chain_context chain_on(asio::io_context& ctx) {
  chain_context c;
  c.executor = ctx.get_executor();
  return c;
}

task<counted> ready_value() { co_return 7; }

task<int> after_yield(int& stage) {
  stage = 1;
  co_await coronet::yield();
  stage = 2;
  co_return 42;
}

}  // namespace

TEST_CASE("a task that completes at once finishes inside start_inline, its value in place", "[inline_start]") {
  counted::copies = 0;
  counted::moves = 0;
  task<counted> t = ready_value();
  REQUIRE(start_inline(t, nullptr));
  CHECK(t.done());
  auto& outcome = outcome_of(t);
  REQUIRE(outcome.has_outcome());
  CHECK_FALSE(outcome.failed());
  CHECK(outcome.value().value == 7);
  CHECK(&outcome_of(t).value() == &outcome.value());
  CHECK(counted::moves == 0);
  CHECK(counted::copies == 0);
}

TEST_CASE("a task<void> that completes at once reports an outcome", "[inline_start]") {
  bool ran = false;
  auto body = [](bool& flag) -> task<void> {
    flag = true;
    co_return;
  };
  task<void> t = body(ran);
  CHECK_FALSE(ran);  // lazy until started
  REQUIRE(start_inline(t, nullptr));
  CHECK(ran);
  CHECK(outcome_of(t).has_outcome());
  CHECK_FALSE(outcome_of(t).failed());
}

TEST_CASE("the task runs in the chain start_inline was given", "[inline_start]") {
  asio::io_context ctx(1);
  chain_context chain = chain_on(ctx);
  auto body = []() -> task<asio::any_io_executor> {
    co_return co_await coronet::this_executor;
  };
  task<asio::any_io_executor> t = body();
  REQUIRE(start_inline(t, &chain));
  CHECK(outcome_of(t).value() == asio::any_io_executor(ctx.get_executor()));
}

TEST_CASE("a task that suspends returns false and resumes its continuation when it ends", "[inline_start]") {
  asio::io_context ctx(1);
  chain_context chain = chain_on(ctx);
  int stage = 0;
  task<int> t = after_yield(stage);
  CHECK_FALSE(start_inline(t, &chain));
  CHECK(stage == 1);  // ran on this stack up to its first suspension
  CHECK_FALSE(t.done());

  resume_probe caller = probe();
  continue_with(t, caller.handle());
  CHECK_FALSE(caller.resumed());
  CHECK(run_until(ctx, [&] { return caller.resumed(); }));
  CHECK(stage == 2);
  CHECK(t.done());
  REQUIRE_FALSE(outcome_of(t).failed());
  CHECK(outcome_of(t).value() == 42);
}

TEST_CASE("an exception thrown before the first suspension lands in the outcome", "[inline_start]") {
  auto body = []() -> task<int> {
    throw std::runtime_error("at once");
    co_return 0;
  };
  task<int> t = body();
  REQUIRE(start_inline(t, nullptr));
  auto& outcome = outcome_of(t);
  REQUIRE(outcome.failed());
  CHECK_THROWS_WITH(outcome.rethrow_if_failed(), "at once");
}

TEST_CASE("an exception thrown after suspending lands in the outcome and the continuation runs", "[inline_start]") {
  asio::io_context ctx(1);
  chain_context chain = chain_on(ctx);
  auto body = []() -> task<std::string> {
    co_await coronet::yield();
    throw std::logic_error("later");
    co_return std::string("unreachable");
  };
  task<std::string> t = body();
  REQUIRE_FALSE(start_inline(t, &chain));
  resume_probe caller = probe();
  continue_with(t, caller.handle());
  CHECK(run_until(ctx, [&] { return caller.resumed(); }));
  auto& outcome = outcome_of(t);
  REQUIRE(outcome.failed());
  CHECK_THROWS_AS(outcome.rethrow_if_failed(), std::logic_error);
}

}  // namespace core_detail_inline_start_test
