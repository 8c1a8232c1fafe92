// Tests for coronet/core/when_all.hpp: results, ordering, and cancelling the others on the first failure.
#include "coronet/core/when_all.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/error.hpp>

#include "coronet/net/socket.hpp"
#include "coronet/net/timeout.hpp"
#include "coronet/net/timer.hpp"
#include "coronet/core/spawn.hpp"
#include "coronet/core/sync_wait.hpp"
#include "coronet/core/task.hpp"
#include "coronet/net/yield.hpp"
#include "support/fork_branches.hpp"
#include "support/lifetime_token.hpp"
#include "support/loopback_pair.hpp"
#include "support/wait_helpers.hpp"

namespace core_when_all_test {

// Never co_await inside a Catch macro: the macro repeats its expression in a
// short-circuited `false && (...)`, and g++ 12 still runs a co_await there.

using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;
using coronet::task;

using coronet_test::fail_after_yield;
using coronet_test::failure_of;
using coronet_test::sleeper_log;

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

TEST_CASE("when_all rethrows the first failure after every task finished; a yield is not cancellable", "[when_all]") {
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
  auto [alive, watch] = coronet_test::watched_token();
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

TEST_CASE("a failing branch cancels the others, which when_all awaits before rethrowing", "[when_all][cancel]") {
  coronet::sync_wait([]() -> task<void> {
    const auto start = clock_type::now();
    sleeper_log log;
    const std::string what = co_await failure_of(coronet::when_all(log.sleep(), fail_after_yield("boom"), log.sleep()));
    // The sleepers' operation_aborted came first in argument order, but the failure that cancelled them wins.
    CHECK(what == "boom");
    CHECK(log.started == 2);
    CHECK(log.aborted == 2);
    CHECK(clock_type::now() - start < 2s);
  }());
}

TEST_CASE("when_all: an exception in each position cancels the rest", "[when_all][cancel]") {
  coronet::sync_wait([]() -> task<void> {
    for (int position = 0; position < 3; ++position) {
      sleeper_log log;
      auto branch = [&](int i) -> task<int> {
        if (i == position)
          return fail_after_yield("position " + std::to_string(i));
        return log.sleep(1h, i);
      };
      const std::string what = co_await failure_of(coronet::when_all(branch(0), branch(1), branch(2)));
      CHECK(what == "position " + std::to_string(position));
      CHECK(log.aborted == 2);
    }
  }());
}

TEST_CASE("when_all: a branch failing before it suspends means later branches never start", "[when_all][cancel]") {
  coronet::sync_wait([]() -> task<void> {
    sleeper_log log;
    auto throws_now = []() -> task<int> {
      throw std::runtime_error("at once");
      co_return 0;
    };
    const std::string what = co_await failure_of(coronet::when_all(log.sleep(), throws_now(), log.sleep()));
    CHECK(what == "at once");
    // The first sleeper was running and is cancelled; the last one never started.
    CHECK(log.started == 1);
    CHECK(log.aborted == 1);
  }());
}

TEST_CASE("when_all: a branch that handles the cancellation still ends, the failure is rethrown",
          "[when_all][cancel]") {
  coronet::sync_wait([]() -> task<void> {
    bool handled = false;
    auto shrugs = [&]() -> task<int> {
      std::error_code ec;
      co_await coronet::sleep_for(1h, ec);
      handled = ec == asio::error::operation_aborted;
      co_return 5;
    };
    const std::string what = co_await failure_of(coronet::when_all(shrugs(), fail_after_yield("boom")));
    CHECK(what == "boom");
    CHECK(handled);
  }());
}

TEST_CASE("when_all: a failure cancels a socket read that would never complete", "[when_all][cancel][socket]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    auto pair = co_await coronet_test::make_pair(ctx);
    std::array<char, 4> buf{};
    std::error_code read_error;
    auto reader = [&]() -> task<std::size_t> {
      try {
        co_return co_await pair.client.read_some(asio::buffer(buf));
      } catch (const std::system_error& e) {
        read_error = e.code();
        throw;
      }
    };
    auto fails_later = []() -> task<void> {
      co_await coronet::sleep_for(5ms);
      throw std::runtime_error("peer gone");
    };
    const auto start = clock_type::now();
    const std::string what = co_await failure_of(coronet::when_all(reader(), fails_later()));
    CHECK(what == "peer gone");
    CHECK(read_error == asio::error::operation_aborted);
    CHECK(clock_type::now() - start < 2s);

    // The socket is still usable after the cancelled read.
    co_await pair.server.write_all(asio::buffer(std::string("ok")));
    const std::size_t n = co_await pair.client.read_exact(asio::buffer(buf.data(), 2));
    CHECK(std::string(buf.data(), n) == "ok");
  }());
}

TEST_CASE("when_all: the cancellation reaches nested when_all and with_timeout branches", "[when_all][cancel]") {
  coronet::sync_wait([]() -> task<void> {
    sleeper_log log;
    auto nested = [&]() -> task<void> {
      co_await coronet::when_all(log.sleep(), coronet::with_timeout(log.sleep(), 1h));
    };
    const auto start = clock_type::now();
    const std::string what = co_await failure_of(coronet::when_all(nested(), log.sleep(), fail_after_yield("outer")));
    CHECK(what == "outer");
    CHECK(log.started == 3);
    CHECK(log.aborted == 3);
    CHECK(clock_type::now() - start < 2s);

    // The inner when_all's own failure cancels its siblings and the outer's.
    sleeper_log inner_log;
    auto failing_inner = [&]() -> task<void> {
      co_await coronet::when_all(inner_log.sleep(), fail_after_yield("inner"));
    };
    const std::string inner_what = co_await failure_of(coronet::when_all(inner_log.sleep(), failing_inner()));
    CHECK(inner_what == "inner");
    CHECK(inner_log.aborted == 2);
  }());
}

TEST_CASE("when_all over a vector cancels the rest on the first failure", "[when_all][cancel]") {
  coronet::sync_wait([]() -> task<void> {
    sleeper_log log;
    std::vector<task<int>> tasks;
    tasks.push_back(log.sleep());
    tasks.push_back(log.sleep());
    tasks.push_back(fail_after_yield("vector"));
    tasks.push_back(log.sleep());
    const auto start = clock_type::now();
    const std::string what = co_await failure_of(coronet::when_all(std::move(tasks)));
    CHECK(what == "vector");
    CHECK(log.aborted == 3);
    CHECK(clock_type::now() - start < 2s);
  }());
}

TEST_CASE("when_all with a failure in a loop leaves nothing behind", "[when_all][cancel]") {
  int destroyed = 0;
  coronet::sync_wait([&]() -> task<void> {
    auto counted = [&]() -> task<int> {
      coronet_test::destroy_counter counter(&destroyed);
      co_await coronet::sleep_for(1h);
      co_return 1;
    };
    int failures = 0;
    for (int i = 0; i < 200; ++i) {
      const std::string what = co_await failure_of(coronet::when_all(counted(), fail_after_yield("x"), counted()));
      if (what == "x")
        ++failures;
    }
    CHECK(failures == 200);
  }());
  CHECK(destroyed == 400);
}

}  // namespace core_when_all_test
