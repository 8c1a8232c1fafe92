#include "coronet/core/spawn.hpp"

#include <catch2/catch.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "coronet/core/log.hpp"
#include "coronet/net/timer.hpp"
#include "coronet/core/task.hpp"
#include "coronet/net/yield.hpp"
#include "support/lifetime_token.hpp"

namespace core_spawn_test {

using namespace std::chrono_literals;

namespace {

// Captures log messages for the duration of a test.
struct captured_log {
  std::vector<std::string> lines;
  captured_log() {
    coronet::set_log_handler([this](coronet::log_level, std::string_view m) { lines.emplace_back(m); });
  }
  ~captured_log() { coronet::set_log_handler({}); }
};

}  // namespace

TEST_CASE("spawn runs the task on the executor, not inline", "[spawn]") {
  asio::io_context ctx(1);
  bool ran = false;
  coronet::spawn(ctx, [&]() -> coronet::task<void> {
    ran = true;
    co_return;
  });
  CHECK_FALSE(ran);
  ctx.run();
  CHECK(ran);
}

TEST_CASE("spawn hands the result or the exception to the completion handler", "[spawn]") {
  asio::io_context ctx(1);
  int value = 0;
  std::exception_ptr error;
  coronet::spawn(
      ctx,
      []() -> coronet::task<int> {
        co_return 5;
      }(),
      [&](std::exception_ptr e, int v) {
        error = e;
        value = v;
      });
  ctx.run();
  CHECK(value == 5);
  CHECK_FALSE(error);

  ctx.restart();
  coronet::spawn(
      ctx,
      []() -> coronet::task<int> {
        throw std::runtime_error("bad");
        co_return 1;
      }(),
      [&](std::exception_ptr e, int v) {
        error = e;
        value = v;
      });
  ctx.run();
  REQUIRE(error);
  CHECK(value == 0);
  CHECK_THROWS_WITH(std::rethrow_exception(error), "bad");
}

TEST_CASE("an exception escaping a spawned task without a handler is logged and counted", "[spawn]") {
  captured_log log;
  asio::io_context ctx(1);
  const std::size_t before = coronet::unhandled_exception_count();
  coronet::spawn(ctx, []() -> coronet::task<void> {
    throw std::runtime_error("lost?");
    co_return;
  });
  ctx.run();
  CHECK(coronet::unhandled_exception_count() == before + 1);
  REQUIRE(log.lines.size() == 1);
  CHECK(log.lines[0].find("lost?") != std::string::npos);
}

TEST_CASE("an exception thrown by the completion handler is logged and counted", "[spawn]") {
  captured_log log;
  asio::io_context ctx(1);
  const std::size_t before = coronet::unhandled_exception_count();
  coronet::spawn(
      ctx,
      []() -> coronet::task<void> {
        co_return;
      }(),
      [](std::exception_ptr) { throw std::runtime_error("handler failed"); });
  ctx.run();
  CHECK(coronet::unhandled_exception_count() == before + 1);
  REQUIRE(log.lines.size() == 1);
  CHECK(log.lines[0].find("handler failed") != std::string::npos);
}

TEST_CASE("spawn keeps a lambda coroutine's captures alive while it runs", "[spawn]") {
  asio::io_context ctx(1);
  std::string result;
  {
    auto big = std::make_shared<std::string>("captured state");
    coronet::spawn(ctx, [big, &result]() -> coronet::task<void> {
      co_await coronet::yield();
      co_await coronet::yield();
      result = *big;
    });
  }
  ctx.run();
  CHECK(result == "captured state");
}

TEST_CASE("the completion handler's cancellation slot cancels the spawned task", "[spawn]") {
  asio::io_context ctx(1);
  asio::cancellation_signal signal;
  std::exception_ptr error;
  bool done = false;
  bool waiting = false;
  coronet::spawn(
      ctx,
      [&]() -> coronet::task<void> {
        waiting = true;
        co_await coronet::sleep_for(1h);
      },
      asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e) {
        error = e;
        done = true;
      }));
  while (!waiting)
    ctx.run_one();
  signal.emit(asio::cancellation_type::terminal);
  ctx.run();
  REQUIRE(done);
  REQUIRE(error);
  try {
    std::rethrow_exception(error);
  } catch (const std::system_error& e) {
    CHECK(e.code() == asio::error::operation_aborted);
  }
}

TEST_CASE("spawned tasks run on the thread that runs the io_context", "[spawn]") {
  asio::io_context ctx(1);
  std::thread::id ran_on;
  coronet::spawn(ctx, [&]() -> coronet::task<void> {
    ran_on = std::this_thread::get_id();
    co_return;
  });
  std::thread runner([&] { ctx.run(); });
  const std::thread::id runner_id = runner.get_id();
  runner.join();
  CHECK(ran_on == runner_id);
}

TEST_CASE("a spawned task never started is freed with its io_context", "[spawn]") {
  auto [alive, watch] = coronet_test::watched_token();
  {
    asio::io_context ctx(1);
    coronet::spawn(ctx, [alive = std::move(alive)]() -> coronet::task<void> { co_return; });
  }
  CHECK(watch.expired());
}

TEST_CASE("a spawned task suspended on an operation is freed with its io_context", "[spawn]") {
  auto [alive, watch] = coronet_test::watched_token();
  bool waiting = false;
  {
    asio::io_context ctx(1);
    coronet::spawn(ctx, [&waiting, alive = std::move(alive)]() -> coronet::task<void> {
      auto inner = [&]() -> coronet::task<void> {
        waiting = true;
        co_await coronet::sleep_for(1h);
      };
      co_await inner();
    });
    while (!waiting)
      ctx.run_one();
    CHECK_FALSE(watch.expired());
  }
  CHECK(watch.expired());
}

TEST_CASE("a spawned task queued by yield is freed with its io_context", "[spawn][yield]") {
  auto [alive, watch] = coronet_test::watched_token();
  int yields = 0;
  {
    asio::io_context ctx(1);
    coronet::spawn(ctx, [&yields, alive = std::move(alive)]() -> coronet::task<void> {
      for (;;) {
        co_await coronet::yield();
        ++yields;
      }
    });
    while (yields < 3)
      ctx.run_one();
    CHECK_FALSE(watch.expired());
  }  // destroyed with the task's resumption queued
  CHECK(watch.expired());
  CHECK(yields == 3);
}

TEST_CASE("yield lets the work queued before it run first, then resumes", "[spawn][yield]") {
  asio::io_context ctx(1);
  std::vector<int> order;
  coronet::spawn(ctx, [&]() -> coronet::task<void> {
    asio::post(ctx, [&] { order.push_back(1); });
    asio::post(ctx, [&] { order.push_back(2); });
    co_await coronet::yield();
    order.push_back(3);
  });
  ctx.run();
  CHECK(order == std::vector<int>{1, 2, 3});
}

}  // namespace core_spawn_test
