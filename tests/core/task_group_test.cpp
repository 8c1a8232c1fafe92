#include "coronet/core/task_group.hpp"

#include <catch2/catch.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "coronet/core/log.hpp"
#include "coronet/net/timer.hpp"
#include "coronet/core/sync_wait.hpp"
#include "coronet/net/yield.hpp"

namespace core_task_group_test {

using namespace std::chrono_literals;

namespace {

// Calls `f` with the exception `e` holds if that is an `E`; any other
// exception propagates.
template <class E, class F>
void when_thrown(std::exception_ptr e, F f) {
  try {
    std::rethrow_exception(e);
  } catch (const E& ex) {
    f(ex);
  }
}

}  // namespace

TEST_CASE("join waits until every child has finished", "[task_group]") {
  asio::io_context ctx(1);
  coronet::task_group group(ctx.get_executor());
  int finished = 0;
  for (int i = 1; i <= 5; ++i) {
    group.spawn([&finished, i]() -> coronet::task<void> {
      for (int k = 0; k < i; ++k)
        co_await coronet::yield();
      ++finished;
    });
  }
  CHECK(group.size() == 5);
  coronet::sync_wait(ctx, [&]() -> coronet::task<void> {
    co_await group.join();
  }());
  CHECK(finished == 5);
  CHECK(group.size() == 0);
}

TEST_CASE("join on an empty group completes at once", "[task_group]") {
  asio::io_context ctx(1);
  coronet::task_group group(ctx.get_executor());
  coronet::sync_wait(ctx, [&]() -> coronet::task<void> {
    co_await group.join();
  }());
  CHECK(group.size() == 0);
}

TEST_CASE("cancel aborts what every child waits on", "[task_group]") {
  asio::io_context ctx(1);
  coronet::task_group group(ctx.get_executor());
  int aborted = 0;
  int waiting = 0;
  for (int i = 0; i < 3; ++i) {
    group.spawn([&]() -> coronet::task<void> {
      std::error_code ec;
      ++waiting;
      co_await coronet::sleep_for(1h, ec);
      if (ec == asio::error::operation_aborted)
        ++aborted;
    });
  }
  coronet::sync_wait(ctx, [&]() -> coronet::task<void> {
    while (waiting < 3)
      co_await coronet::yield();
    group.cancel();
    co_await group.join();
  }());
  CHECK(aborted == 3);
}

TEST_CASE("a child's exception goes to the group's error handler", "[task_group]") {
  asio::io_context ctx(1);
  std::vector<std::string> errors;
  coronet::task_group group(ctx.get_executor(), [&](std::exception_ptr e) {
    when_thrown<std::exception>(e, [&](const std::exception& ex) { errors.emplace_back(ex.what()); });
  });
  group.spawn([]() -> coronet::task<void> {
    throw std::runtime_error("child failed");
    co_return;
  });
  group.spawn([]() -> coronet::task<void> { co_return; });
  coronet::sync_wait(ctx, [&]() -> coronet::task<void> {
    co_await group.join();
  }());
  CHECK(errors == std::vector<std::string>{"child failed"});
  CHECK(group.failures() == 1);
}

TEST_CASE("without an error handler a child's exception is logged and counted", "[task_group]") {
  std::vector<std::string> lines;
  coronet::set_log_handler([&](coronet::log_level, std::string_view m) { lines.emplace_back(m); });
  asio::io_context ctx(1);
  coronet::task_group group(ctx.get_executor());
  const std::size_t before = coronet::unhandled_exception_count();
  group.spawn([]() -> coronet::task<void> {
    throw std::runtime_error("nobody listens");
    co_return;
  });
  coronet::sync_wait(ctx, [&]() -> coronet::task<void> {
    co_await group.join();
  }());
  coronet::set_log_handler({});
  CHECK(coronet::unhandled_exception_count() == before + 1);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("nobody listens") != std::string::npos);
}

TEST_CASE("children and a joiner suspended when the io_context dies are freed", "[task_group]") {
  auto alive = std::make_shared<int>(0);
  std::weak_ptr<int> watch = alive;
  bool joining = false;
  {
    // The group must outlive its children, so it is declared before (and
    // destroyed after) the io_context whose destruction abandons them.
    std::optional<coronet::task_group> group;
    asio::io_context ctx(1);
    group.emplace(ctx.get_executor());
    for (int i = 0; i < 3; ++i)
      group->spawn([alive]() -> coronet::task<void> { co_await coronet::sleep_for(1h); });
    coronet::spawn(ctx, [&joining, &group, alive = std::move(alive)]() -> coronet::task<void> {
      joining = true;
      co_await group->join();
    });
    while (!joining)
      ctx.run_one();
    ctx.poll();
    CHECK(group->size() == 3);
  }
  CHECK(watch.expired());
}

TEST_CASE("cancel before a child's first step ran: the child never starts and ends aborted", "[task_group]") {
  asio::io_context ctx(1);
  std::vector<std::error_code> errors;
  coronet::task_group group(ctx.get_executor(), [&](std::exception_ptr e) {
    when_thrown<std::system_error>(e, [&](const std::system_error& ex) { errors.push_back(ex.code()); });
  });
  bool started = false;
  // Spawned (its first step posted), then cancelled before the io_context
  // ran anything: what a server's drain does to a task a handler spawned just
  // before the signal.
  group.spawn([&]() -> coronet::task<void> {
    started = true;
    co_await coronet::sleep_for(1h);
  });
  group.spawn([&started]() -> coronet::task<void> {
    started = true;
    co_return;
  }());
  group.cancel();
  coronet::sync_wait(ctx, [&]() -> coronet::task<void> {
    co_await group.join();
  }());
  CHECK_FALSE(started);
  CHECK(group.size() == 0);
  REQUIRE(errors.size() == 2);
  CHECK(errors[0] == asio::error::operation_aborted);
  CHECK(errors[1] == asio::error::operation_aborted);
  CHECK(group.failures() == 2);
}

}  // namespace core_task_group_test
