#include "coronet/when_all.hpp"

#include <catch2/catch.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "coronet/net/timer.hpp"
#include "coronet/spawn.hpp"
#include "coronet/sync_wait.hpp"
#include "coronet/task.hpp"
#include "coronet/yield.hpp"

using namespace std::chrono_literals;

namespace {

coronet::task<int> after_yields(int n, std::vector<int>& order) {
  for (int i = 0; i < n; ++i)
    co_await coronet::yield();
  order.push_back(n);
  co_return n * 10;
}

}  // namespace

TEST_CASE("when_all runs tasks concurrently and yields results in argument order", "[when_all]") {
  std::vector<int> order;
  auto t = [&]() -> coronet::task<std::tuple<int, int, int>> {
    co_return co_await coronet::when_all(after_yields(3, order), after_yields(1, order), after_yields(2, order));
  };
  auto [a, b, c] = coronet::sync_wait(t());
  CHECK(a == 30);
  CHECK(b == 10);
  CHECK(c == 20);
  // Finishing order shows they interleaved rather than ran one after another.
  CHECK(order == std::vector<int>{1, 2, 3});
}

TEST_CASE("when_all of void tasks and of immediately-completing tasks", "[when_all]") {
  int count = 0;
  auto bump = [&]() -> coronet::task<void> {
    ++count;
    co_return;
  };
  auto [x, y] = coronet::sync_wait(coronet::when_all(bump(), bump()));
  (void)x;
  (void)y;
  CHECK(count == 2);
  auto empty = coronet::sync_wait(coronet::when_all());
  CHECK(std::tuple_size_v<decltype(empty)> == 0);
}

TEST_CASE("when_all over a vector", "[when_all]") {
  std::vector<int> order;
  std::vector<coronet::task<int>> tasks;
  for (int i = 5; i > 0; --i)
    tasks.push_back(after_yields(i, order));
  std::vector<int> values = coronet::sync_wait(coronet::when_all(std::move(tasks)));
  CHECK(values == std::vector<int>{50, 40, 30, 20, 10});
  CHECK(order == std::vector<int>{1, 2, 3, 4, 5});

  std::vector<coronet::task<void>> none;
  coronet::sync_wait(coronet::when_all(std::move(none)));
}

TEST_CASE("when_all rethrows the first failure after every task finished", "[when_all]") {
  bool slow_finished = false;
  auto fails = [](std::string what) -> coronet::task<int> {
    co_await coronet::yield();
    throw std::runtime_error(what);
  };
  auto slow = [&]() -> coronet::task<int> {
    for (int i = 0; i < 5; ++i)
      co_await coronet::yield();
    slow_finished = true;
    co_return 1;
  };
  CHECK_THROWS_WITH(coronet::sync_wait(coronet::when_all(slow(), fails("first"), fails("second"))), "first");
  CHECK(slow_finished);
}

TEST_CASE("cancelling the awaiting task cancels every when_all branch", "[when_all]") {
  asio::io_context ctx(1);
  asio::cancellation_signal signal;
  std::exception_ptr error;
  int aborted = 0;
  bool started = false;
  auto sleeper = [&]() -> coronet::task<void> {
    try {
      co_await coronet::sleep_for(1h);
    } catch (const std::system_error& e) {
      if (e.code() == asio::error::operation_aborted)
        ++aborted;
      throw;
    }
  };
  coronet::spawn(
      ctx,
      [&]() -> coronet::task<void> {
        started = true;
        co_await coronet::when_all(sleeper(), sleeper());
      },
      asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e) { error = e; }));
  while (!started)
    ctx.run_one();
  ctx.poll();
  signal.emit(asio::cancellation_type::terminal);
  ctx.run();
  CHECK(aborted == 2);
  CHECK(error);
}

TEST_CASE("when_all branches suspended when the io_context dies are freed", "[when_all]") {
  auto alive = std::make_shared<int>(0);
  std::weak_ptr<int> watch = alive;
  bool started = false;
  {
    asio::io_context ctx(1);
    coronet::spawn(ctx, [&started, alive = std::move(alive)]() -> coronet::task<void> {
      auto sleeper = [](std::shared_ptr<int> keep) -> coronet::task<void> {
        co_await coronet::sleep_for(1h);
        (void)keep;
      };
      started = true;
      co_await coronet::when_all(sleeper(alive), sleeper(alive), sleeper(alive));
    });
    while (!started)
      ctx.run_one();
    ctx.poll();
  }
  CHECK(watch.expired());
}
