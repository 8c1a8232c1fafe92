#include "coronet/core/task.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>
#include <string>

#include "coronet/core/sync_wait.hpp"

namespace core_task_test {

namespace {

coronet::task<int> answer() { co_return 42; }

coronet::task<int> add_one(int x) { co_return x + 1; }

coronet::task<int> chain() {
  int a = co_await answer();
  int b = co_await add_one(a);
  co_return b;
}

coronet::task<void> throws_runtime_error() {
  throw std::runtime_error("boom");
  co_return;
}

coronet::task<int&> ref_to(int& x) { co_return x; }

struct destroy_counter {
  int* count;
  explicit destroy_counter(int* c) : count(c) {}
  destroy_counter(const destroy_counter&) = delete;
  ~destroy_counter() { ++*count; }
};

coronet::task<int> holds_counter(int* destroyed, bool* started) {
  destroy_counter guard(destroyed);
  *started = true;
  co_return 1;
}

// How many immediately-completing awaits a loop can do without overflowing
// the stack. g++ only guarantees the symmetric-transfer tail call with
// optimisation and without ASan (docs/architecture.md, "Symmetric transfer
// and the stack").
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || !defined(__OPTIMIZE__)
constexpr int deep_iterations = 20'000;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr int deep_iterations = 20'000;
#else
constexpr int deep_iterations = 1'000'000;
#endif
#else
constexpr int deep_iterations = 1'000'000;
#endif

coronet::task<long> sum_loop(int n) {
  long total = 0;
  for (int i = 0; i < n; ++i)
    total += co_await add_one(0);
  co_return total;
}

}  // namespace

TEST_CASE("a task does not start until awaited", "[task]") {
  int destroyed = 0;
  bool started = false;
  {
    coronet::task<int> t = holds_counter(&destroyed, &started);
    CHECK_FALSE(started);
    CHECK(t);
    CHECK_FALSE(t.done());
  }
  CHECK_FALSE(started);
  // The frame was freed without running: the guard was never constructed.
  CHECK(destroyed == 0);
}

TEST_CASE("awaiting a task yields its value and runs nested tasks in order", "[task]") {
  CHECK(coronet::sync_wait(chain()) == 43);
}

TEST_CASE("a finished task's locals are destroyed exactly once", "[task]") {
  int destroyed = 0;
  bool started = false;
  CHECK(coronet::sync_wait(holds_counter(&destroyed, &started)) == 1);
  CHECK(started);
  CHECK(destroyed == 1);
}

TEST_CASE("an exception escaping a task is rethrown at the awaiting point", "[task]") {
  auto outer = []() -> coronet::task<std::string> {
    try {
      co_await throws_runtime_error();
    } catch (const std::runtime_error& e) {
      co_return std::string("caught ") + e.what();
    }
    co_return "not thrown";
  };
  CHECK(coronet::sync_wait(outer()) == "caught boom");
  CHECK_THROWS_WITH(coronet::sync_wait(throws_runtime_error()), "boom");
}

TEST_CASE("task<T&> yields a reference to the same object", "[task]") {
  int x = 5;
  int& r = coronet::sync_wait(ref_to(x));
  CHECK(&r == &x);
}

TEST_CASE("task is move-only and a moved-from task is empty", "[task]") {
  STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<coronet::task<int>>);
  STATIC_REQUIRE(std::is_nothrow_move_constructible_v<coronet::task<int>>);
  coronet::task<int> a = answer();
  coronet::task<int> b = std::move(a);
  CHECK_FALSE(a);  // NOLINT(bugprone-use-after-move): checking the moved-from state is the point
  CHECK(b);
  CHECK_THROWS_AS(coronet::sync_wait(std::move(a)), std::logic_error);
  CHECK(coronet::sync_wait(std::move(b)) == 42);
}

TEST_CASE("move assignment destroys the task it replaces", "[task]") {
  int destroyed = 0;
  bool started = false;
  auto make = [&]() -> coronet::task<int> {
    destroy_counter guard(&destroyed);
    started = true;
    co_return 7;
  };
  coronet::task<int> t = holds_counter(&destroyed, &started);
  t = make();
  CHECK(destroyed == 0);  // neither body ran, so no guard was ever built
  CHECK(coronet::sync_wait(std::move(t)) == 7);
  CHECK(destroyed == 1);
}

TEST_CASE("a loop awaiting many immediately-completing tasks does not grow the stack", "[task]") {
  CHECK(coronet::sync_wait(sum_loop(deep_iterations)) == deep_iterations);
}

TEST_CASE("move-only values travel through task results", "[task]") {
  auto make = []() -> coronet::task<std::unique_ptr<int>> {
    co_return std::make_unique<int>(9);
  };
  auto outer = [&]() -> coronet::task<int> {
    std::unique_ptr<int> p = co_await make();
    co_return *p;
  };
  CHECK(coronet::sync_wait(outer()) == 9);
}

TEST_CASE("this_executor yields the executor the chain runs on", "[task]") {
  asio::io_context ctx(1);
  auto t = [&]() -> coronet::task<bool> {
    asio::any_io_executor ex = co_await coronet::this_executor;
    co_return ex == asio::any_io_executor(ctx.get_executor());
  };
  CHECK(coronet::sync_wait(ctx, t()));
}

}  // namespace core_task_test
