// Tests for coronet/net/timer.hpp: sleep_for and the reusable timer.
#include "coronet/net/timer.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <coroutine>
#include <exception>
#include <functional>
#include <stdexcept>
#include <system_error>

#include <asio/error.hpp>
#include <asio/io_context.hpp>

#include "coronet/core/spawn.hpp"
#include "coronet/core/sync_wait.hpp"
#include "coronet/core/task.hpp"
#include "coronet/core/task_group.hpp"
#include "coronet/core/when_all.hpp"
#include "coronet/net/yield.hpp"

// Never co_await inside a Catch macro: the macro repeats its expression in a
// short-circuited `false && (...)`, and g++ 12 still runs a co_await there.

#include "support/wait_helpers.hpp"

namespace net_timer_test {

namespace {

using namespace std::chrono_literals;
using coronet::task;
using clock_type = std::chrono::steady_clock;

using coronet_test::destroy_counter;
using coronet_test::run_until;
using coronet_test::wait_until;

// A coroutine that is not a coronet task: it runs eagerly, with no executor.
struct foreign_coroutine {
  struct promise_type {
    foreign_coroutine get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() const noexcept { return {}; }
    std::suspend_never final_suspend() const noexcept { return {}; }
    void return_void() const noexcept {}
    void unhandled_exception() const noexcept { std::terminate(); }
  };
};

foreign_coroutine sleep_outside_a_task(bool& threw_logic_error) {
  try {
    co_await coronet::sleep_for(1ms);
  } catch (const std::logic_error&) {
    threw_logic_error = true;
  }
}

task<void> sleep_in_a_task() { co_await coronet::sleep_for(1ms); }

foreign_coroutine await_task_outside_a_task(bool& threw_logic_error) {
  try {
    co_await sleep_in_a_task();
  } catch (const std::logic_error&) {
    threw_logic_error = true;
  }
}

}  // namespace

TEST_CASE("sleep_for suspends for at least the duration", "[timer]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, []() -> task<void> {
    const auto start = clock_type::now();
    co_await coronet::sleep_for(50ms);
    const auto elapsed = clock_type::now() - start;
    CHECK(elapsed >= 50ms);
    CHECK(elapsed < 2s);

    std::error_code ec = asio::error::eof;
    const auto start2 = clock_type::now();
    co_await coronet::sleep_for(std::chrono::microseconds(20000), ec);
    CHECK(!ec);
    CHECK(clock_type::now() - start2 >= 20ms);
  }());
}

TEST_CASE("sleep_for with a zero or negative duration completes", "[timer]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, []() -> task<void> {
    const auto start = clock_type::now();
    co_await coronet::sleep_for(0ms);
    co_await coronet::sleep_for(-5s);
    std::error_code ec = asio::error::eof;
    co_await coronet::sleep_for(0s, ec);
    CHECK(!ec);
    CHECK(clock_type::now() - start < 2s);
  }());
}

TEST_CASE("sleep_for goes through the io_context: other tasks run meanwhile", "[timer]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, []() -> task<void> {
    bool other_ran = false;
    bool other_ran_before_wake = false;
    auto sleeper = [&]() -> task<void> {
      co_await coronet::sleep_for(0ms);
      other_ran_before_wake = other_ran;
    };
    auto other = [&]() -> task<void> {
      other_ran = true;
      co_return;
    };
    co_await coronet::when_all(sleeper(), other());
    CHECK(other_ran_before_wake);
  }());
}

TEST_CASE("task_group::cancel aborts sleep_for with operation_aborted, in both forms", "[timer][cancel]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    coronet::task_group group(ctx.get_executor());
    int sleeping = 0;
    std::error_code thrown;
    std::error_code returned;
    group.spawn([&]() -> task<void> {
      ++sleeping;
      try {
        co_await coronet::sleep_for(10s);
      } catch (const std::system_error& e) {
        thrown = e.code();
      }
    });
    group.spawn([&]() -> task<void> {
      ++sleeping;
      co_await coronet::sleep_for(10s, returned);
    });
    const bool both_sleeping = co_await wait_until([&] { return sleeping == 2; });
    REQUIRE(both_sleeping);
    const auto start = clock_type::now();
    group.cancel();
    co_await group.join();
    CHECK(clock_type::now() - start < 2s);
    CHECK(thrown == asio::error::operation_aborted);
    CHECK(returned == asio::error::operation_aborted);
  }());
}

TEST_CASE("sleep_for outside a coronet task throws std::logic_error", "[timer]") {
  bool threw = false;
  sleep_outside_a_task(threw);
  CHECK(threw);

  bool threw_from_task = false;
  await_task_outside_a_task(threw_from_task);
  CHECK(threw_from_task);
}

TEST_CASE("a new timer is expired: wait completes at once", "[timer]") {
  asio::io_context ctx(1);
  coronet::timer t(ctx);
  CHECK(t.expiry() <= clock_type::now());
  coronet::sync_wait(ctx, [&]() -> task<void> {
    const auto start = clock_type::now();
    co_await t.wait();
    std::error_code ec = asio::error::eof;
    co_await t.wait(ec);
    CHECK(!ec);
    CHECK(clock_type::now() - start < 2s);
  }());
}

TEST_CASE("timer::wait waits until expires_after / expires_at", "[timer]") {
  asio::io_context ctx(1);
  coronet::timer t(ctx.get_executor());
  coronet::sync_wait(ctx, [&]() -> task<void> {
    const auto start = clock_type::now();
    CHECK(t.expires_after(30ms) == 0);
    CHECK(t.expiry() >= start + 30ms);
    co_await t.wait();
    CHECK(clock_type::now() - start >= 30ms);

    const auto at = clock_type::now() + 20ms;
    CHECK(t.expires_at(at) == 0);
    CHECK(t.expiry() == at);
    std::error_code ec = asio::error::eof;
    co_await t.wait(ec);
    CHECK(!ec);
    CHECK(clock_type::now() >= at);
    CHECK(clock_type::now() - start < 2s);
  }());
}

TEST_CASE("timer::cancel aborts a pending wait with operation_aborted", "[timer][cancel]") {
  asio::io_context ctx(1);
  coronet::timer t(ctx);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    const auto start = clock_type::now();
    std::error_code thrown;
    std::size_t cancelled = 0;
    t.expires_after(10s);
    auto waiter = [&]() -> task<void> {
      try {
        co_await t.wait();
      } catch (const std::system_error& e) {
        thrown = e.code();
      }
    };
    // when_all starts the waiter first: it is suspended in wait() when this runs.
    auto canceller = [&]() -> task<void> {
      cancelled = t.cancel();
      co_return;
    };
    co_await coronet::when_all(waiter(), canceller());
    CHECK(cancelled == 1);
    CHECK(thrown == asio::error::operation_aborted);

    std::error_code returned;
    auto waiter_ec = [&]() -> task<void> {
      co_await t.wait(returned);
    };
    co_await coronet::when_all(waiter_ec(), canceller());
    CHECK(cancelled == 1);
    CHECK(returned == asio::error::operation_aborted);
    CHECK(clock_type::now() - start < 2s);

    // Nothing pending: cancel has nothing to do.
    CHECK(t.cancel() == 0);
  }());
}

TEST_CASE("timer::expires_after on a pending wait aborts it; the timer is reusable", "[timer][cancel]") {
  asio::io_context ctx(1);
  coronet::timer t(ctx);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    const auto start = clock_type::now();
    t.expires_after(10s);
    std::error_code returned;
    std::size_t cancelled = 0;
    auto waiter = [&]() -> task<void> {
      co_await t.wait(returned);
    };
    auto rearm = [&]() -> task<void> {
      cancelled = t.expires_after(10ms);
      co_return;
    };
    co_await coronet::when_all(waiter(), rearm());
    CHECK(cancelled == 1);
    CHECK(returned == asio::error::operation_aborted);

    // The new expiry holds for the next wait.
    co_await t.wait(returned);
    CHECK(!returned);
    CHECK(clock_type::now() - start < 2s);
  }());
}

TEST_CASE("destroying the io_context frees tasks suspended on timers", "[timer][lifetime]") {
  int destroyed = 0;
  int waiting = 0;
  bool resumed = false;
  {
    asio::io_context ctx(1);
    coronet::spawn(ctx, [&]() -> task<void> {
      destroy_counter counter(&destroyed);
      ++waiting;
      co_await coronet::sleep_for(1h);
      resumed = true;
    });
    coronet::spawn(ctx, [&]() -> task<void> {
      destroy_counter counter(&destroyed);
      coronet::timer t(ctx);
      t.expires_after(1h);
      ++waiting;
      std::error_code ec;
      co_await t.wait(ec);
      resumed = true;
    });
    // A timer outside the frame, destroyed before the io_context.
    coronet::timer outer(ctx);
    outer.expires_after(1h);
    coronet::spawn(ctx, [&]() -> task<void> {
      destroy_counter counter(&destroyed);
      ++waiting;
      co_await outer.wait();
      resumed = true;
    });
    REQUIRE(run_until(ctx, [&] { return waiting == 3; }));
    ctx.poll();
    CHECK(destroyed == 0);
  }
  CHECK_FALSE(resumed);
  CHECK(destroyed == 3);
}

TEST_CASE("a task makes a timer from co_await this_executor", "[timer][executor]") {
  asio::io_context ctx(1);
  auto body = []() -> task<bool> {
    coronet::timer t(co_await coronet::this_executor);
    t.expires_after(1ms);
    co_await t.wait();
    co_return true;
  };
  CHECK(coronet::sync_wait(ctx, body()));
  // The io_context and its executor keep working too.
  coronet::timer from_ctx(ctx);
  coronet::timer from_executor(ctx.get_executor());
  CHECK(&from_ctx.native().get_executor().context() == &ctx);
  CHECK(&from_executor.native().get_executor().context() == &ctx);
}

}  // namespace net_timer_test
