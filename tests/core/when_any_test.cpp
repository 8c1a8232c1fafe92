// Tests for coronet/core/when_any.hpp: the winner, cancelling and awaiting the losers, errors, nesting, lifetime.
#include "coronet/core/when_any.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <variant>
#include <vector>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/socket_base.hpp>

#include "coronet/core/error.hpp"
#include "coronet/net/socket.hpp"
#include "coronet/net/timeout.hpp"
#include "coronet/net/timer.hpp"
#include "coronet/core/spawn.hpp"
#include "coronet/core/sync_wait.hpp"
#include "coronet/core/task.hpp"
#include "coronet/core/when_all.hpp"
#include "coronet/net/yield.hpp"
#include "support/cancellable_run.hpp"
#include "support/counting_new.hpp"
#include "support/fork_branches.hpp"
#include "support/loopback_pair.hpp"
#include "support/wait_helpers.hpp"

// Never co_await inside a Catch macro: the macro repeats its expression in a
// short-circuited `false && (...)`, and g++ 12 still runs a co_await there.

using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;
using coronet::task;
using coronet_test::destroy_counter;
using coronet_test::fail_after_yield;
using coronet_test::failure_of;
using coronet_test::run_until;
using coronet_test::sleeper_log;
using coronet_test::value_after_yield;
using coronet_test::value_now;

}  // namespace

TEST_CASE("when_any yields the first to finish and cancels the others", "[when_any]") {
  coronet::sync_wait([]() -> task<void> {
    sleeper_log log;
    const auto start = clock_type::now();
    auto result = co_await coronet::when_any(log.sleep(), value_after_yield(7), log.sleep());
    static_assert(std::is_same_v<decltype(result), std::variant<int, int, int>>);
    CHECK(result.index() == 1);
    CHECK(std::get<1>(result) == 7);
    // Both losers ended (cancelled) before when_any resumed us.
    CHECK(log.started == 2);
    CHECK(log.aborted == 2);
    CHECK(clock_type::now() - start < 2s);
  }());
}

TEST_CASE("when_any over different types, void and references", "[when_any]") {
  coronet::sync_wait([]() -> task<void> {
    sleeper_log log;
    auto text = []() -> task<std::string> {
      co_await coronet::sleep_for(1ms);
      co_return "text";
    };
    auto result = co_await coronet::when_any(log.sleep(), text());
    REQUIRE(result.index() == 1);
    CHECK(std::get<1>(result) == "text");

    auto nothing = []() -> task<void> {
      co_await coronet::yield();
    };
    auto v = co_await coronet::when_any(nothing(), log.sleep());
    static_assert(std::is_same_v<decltype(v), std::variant<std::monostate, int>>);
    CHECK(v.index() == 0);

    int target = 3;
    auto ref = [&]() -> task<int&> {
      co_await coronet::yield();
      co_return target;
    };
    auto r = co_await coronet::when_any(ref(), log.sleep());
    REQUIRE(r.index() == 0);
    std::get<0>(r).get() = 4;
    CHECK(target == 4);
    CHECK(log.aborted == 3);
  }());
}

TEST_CASE("when_any: a task that finishes before suspending wins and later tasks never start", "[when_any]") {
  coronet::sync_wait([]() -> task<void> {
    sleeper_log log;
    auto result = co_await coronet::when_any(log.sleep(), value_now(1), log.sleep());
    CHECK(result.index() == 1);
    CHECK(log.started == 1);
    CHECK(log.aborted == 1);

    auto first = co_await coronet::when_any(value_now(2), value_now(3));
    CHECK(first.index() == 0);
    CHECK(std::get<0>(first) == 2);
  }());
}

TEST_CASE("when_any: a winner that threw is rethrown after the others ended", "[when_any]") {
  coronet::sync_wait([]() -> task<void> {
    for (int position = 0; position < 3; ++position) {
      sleeper_log log;
      auto branch = [&](int i) -> task<int> {
        if (i == position)
          return fail_after_yield("position " + std::to_string(i));
        return log.sleep();
      };
      const auto start = clock_type::now();
      const std::string what = co_await failure_of(coronet::when_any(branch(0), branch(1), branch(2)));
      CHECK(what == "position " + std::to_string(position));
      CHECK(log.aborted == 2);
      CHECK(clock_type::now() - start < 2s);
    }
    auto throws_now = []() -> task<int> {
      throw std::logic_error("at once");
      co_return 0;
    };
    sleeper_log log;
    const std::string what = co_await failure_of(coronet::when_any(log.sleep(), throws_now(), log.sleep()));
    CHECK(what == "at once");
    CHECK(log.started == 1);
    CHECK(log.aborted == 1);
  }());
}

TEST_CASE("when_any: losers' outcomes are discarded, even a loser that handled the cancellation", "[when_any]") {
  coronet::sync_wait([]() -> task<void> {
    bool loser_ran_on = false;
    auto shrugs = [&]() -> task<int> {
      std::error_code ec;
      co_await coronet::sleep_for(1h, ec);
      loser_ran_on = ec == asio::error::operation_aborted;
      co_return 99;
    };
    auto result = co_await coronet::when_any(shrugs(), value_after_yield(1));
    CHECK(result.index() == 1);
    CHECK(std::get<1>(result) == 1);
    CHECK(loser_ran_on);

    // A loser failing with something else after the winner: not rethrown.
    auto fails_late = []() -> task<int> {
      std::error_code ec;
      co_await coronet::sleep_for(1h, ec);
      throw std::runtime_error("late");
    };
    auto second = co_await coronet::when_any(fails_late(), value_after_yield(2));
    CHECK(second.index() == 1);
  }());
}

TEST_CASE("when_any: a timer winning cancels a socket read that would never complete", "[when_any][socket]") {
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
    auto tick = []() -> task<void> {
      co_await coronet::sleep_for(5ms);
    };
    const auto start = clock_type::now();
    auto result = co_await coronet::when_any(reader(), tick());
    CHECK(result.index() == 1);
    CHECK(read_error == asio::error::operation_aborted);
    CHECK(clock_type::now() - start < 2s);

    // The socket is still usable; now the read wins against a long timer.
    co_await pair.server.write_all(asio::buffer(std::string("abcd")));
    auto long_tick = []() -> task<void> {
      co_await coronet::sleep_for(1h);
    };
    auto again = co_await coronet::when_any(reader(), long_tick());
    REQUIRE(again.index() == 0);
    CHECK(std::string(buf.data(), std::get<0>(again)) == "abcd");
  }());
}

TEST_CASE("when_any stops a two-way relay when one direction ends", "[when_any][socket]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    // client <-> (left, right) <-> upstream: the relay copies both ways.
    auto front = co_await coronet_test::make_pair(ctx);
    auto back = co_await coronet_test::make_pair(ctx);
    auto copy = [](coronet::tcp::socket& from, coronet::tcp::socket& to) -> task<std::size_t> {
      std::array<char, 256> buf{};
      std::size_t total = 0;
      std::error_code ec;
      for (;;) {
        const std::size_t n = co_await from.read_some(asio::buffer(buf), ec);
        if (ec == asio::error::eof)
          co_return total;
        if (ec)
          throw std::system_error(ec);
        co_await to.write_all(asio::buffer(buf.data(), n));
        total += n;
      }
    };
    auto client_side = [&]() -> task<void> {
      co_await front.client.write_all(asio::buffer(std::string("ping")));
      const std::string got = co_await coronet_test::read_exactly(front.client, 4, 5s);
      CHECK(got == "pong");
      front.client.shutdown(asio::socket_base::shutdown_send);
    };
    auto upstream_side = [&]() -> task<void> {
      const std::string got = co_await coronet_test::read_exactly(back.client, 4, 5s);
      CHECK(got == "ping");
      co_await back.client.write_all(asio::buffer(std::string("pong")));
    };
    auto relay = [&]() -> task<std::variant<std::size_t, std::size_t>> {
      // Upstream never closes: only when_any ends the other direction.
      co_return co_await coronet::when_any(copy(front.server, back.server), copy(back.server, front.server));
    };
    const auto start = clock_type::now();
    auto [relayed, client_done, upstream_done] = co_await coronet::when_all(relay(), client_side(), upstream_side());
    (void)client_done;
    (void)upstream_done;
    REQUIRE(relayed.index() == 0);
    CHECK(std::get<0>(relayed) == 4);
    CHECK(clock_type::now() - start < 5s);
  }());
}

TEST_CASE("when_any nested in when_all, when_any and with_timeout", "[when_any]") {
  coronet::sync_wait([]() -> task<void> {
    sleeper_log log;
    const auto start = clock_type::now();
    auto pair_of_sleeps = [&]() -> task<void> {
      co_await coronet::when_all(log.sleep(), log.sleep());
    };
    auto inner_any = [&]() -> task<int> {
      auto r = co_await coronet::when_any(log.sleep(), log.sleep());
      co_return static_cast<int>(r.index());
    };
    auto result = co_await coronet::when_any(pair_of_sleeps(), inner_any(), coronet::with_timeout(log.sleep(), 1h),
                                             value_after_yield(9));
    CHECK(result.index() == 3);
    CHECK(std::get<3>(result) == 9);
    CHECK(log.started == 5);
    CHECK(log.aborted == 5);

    // The inner when_any's own winner ends the outer race.
    sleeper_log inner_log;
    auto inner_winner = [&]() -> task<int> {
      auto r = co_await coronet::when_any(inner_log.sleep(), value_after_yield(4));
      co_return std::get<1>(r);
    };
    auto outer = co_await coronet::when_any(inner_log.sleep(), inner_winner());
    REQUIRE(outer.index() == 1);
    CHECK(std::get<1>(outer) == 4);
    CHECK(inner_log.aborted == 2);

    // A timeout around when_any cancels every branch, each of which learns it was the deadline.
    sleeper_log timed_log;
    std::error_code ec;
    co_await coronet::with_timeout(coronet::when_any(timed_log.sleep(), timed_log.sleep()), 10ms, ec);
    CHECK(ec == coronet::errc::timeout);
    CHECK(timed_log.timed_out == 2);
    CHECK(clock_type::now() - start < 2s);
  }());
}

TEST_CASE("when_any over a vector", "[when_any]") {
  coronet::sync_wait([]() -> task<void> {
    sleeper_log log;
    std::vector<task<int>> tasks;
    tasks.push_back(log.sleep());
    tasks.push_back(log.sleep());
    tasks.push_back(value_after_yield(30));
    tasks.push_back(log.sleep());
    coronet::when_any_result<int> r = co_await coronet::when_any(std::move(tasks));
    CHECK(r.index == 2);
    CHECK(r.value == 30);
    CHECK(log.aborted == 3);

    std::vector<task<void>> voids;
    voids.push_back([]() -> task<void> {
      co_await coronet::sleep_for(1h);
    }());
    voids.push_back([]() -> task<void> {
      co_await coronet::yield();
    }());
    auto v = co_await coronet::when_any(std::move(voids));
    CHECK(v.index == 1);

    std::vector<task<int>> failing;
    failing.push_back(log.sleep());
    failing.push_back(fail_after_yield("vector"));
    const std::string what = co_await failure_of(coronet::when_any(std::move(failing)));
    CHECK(what == "vector");
    CHECK(log.aborted == 4);

    const std::string empty = co_await failure_of(coronet::when_any(std::vector<task<int>>{}));
    CHECK(empty == "coronet::when_any: no tasks to wait for");
  }());
}

TEST_CASE("cancelling the awaiting task cancels every when_any branch", "[when_any][cancel]") {
  asio::io_context ctx(1);
  sleeper_log log;
  coronet_test::cancellable_run run;
  run.spawn(ctx, [&] { return coronet::when_any(log.sleep(), log.sleep(), log.sleep()); });
  REQUIRE(run_until(ctx, [&] { return run.started; }));
  ctx.poll();
  const auto took = run.cancel(ctx);
  // The first branch to end (with operation_aborted) won; every branch ended.
  CHECK(run.thrown == asio::error::operation_aborted);
  CHECK(log.aborted == 3);
  CHECK(took < 2s);
}

TEST_CASE("destroying the io_context frees a task suspended in when_any", "[when_any][lifetime]") {
  int destroyed = 0;
  int waiting = 0;
  bool resumed = false;
  {
    asio::io_context ctx(1);
    auto counted_sleep = [&]() -> task<void> {
      destroy_counter inner(&destroyed);
      co_await coronet::sleep_for(1h);
    };
    // Every branch pending.
    coronet::spawn(ctx, [&]() -> task<void> {
      destroy_counter counter(&destroyed);
      ++waiting;
      co_await coronet::when_any(counted_sleep(), counted_sleep());
      resumed = true;
    });
    // A winner decided, a loser that ignores the cancellation still pending.
    coronet::spawn(ctx, [&]() -> task<void> {
      destroy_counter counter(&destroyed);
      auto stubborn = [&]() -> task<void> {
        destroy_counter inner(&destroyed);
        std::error_code ec;
        co_await coronet::sleep_for(1h, ec);
        co_await coronet::sleep_for(1h, ec);
      };
      ++waiting;
      co_await coronet::when_any(stubborn(), value_after_yield(1));
      resumed = true;
    });
    REQUIRE(run_until(ctx, [&] { return waiting == 2; }));
    for (int i = 0; i < 10; ++i)
      ctx.poll();
    CHECK(destroyed == 0);
  }
  CHECK_FALSE(resumed);
  // 2 roots + 2 sleepers + the stubborn loser.
  CHECK(destroyed == 5);
}

TEST_CASE("when_any in a loop allocates nothing in steady state and leaves nothing behind", "[when_any][alloc]") {
  int destroyed = 0;
  asio::io_context ctx(1);
  const std::size_t allocations = coronet::sync_wait(ctx, [&]() -> task<std::size_t> {
    // The error_code form: a thrown system_error would allocate its message.
    auto counted_sleep = [&]() -> task<int> {
      destroy_counter counter(&destroyed);
      std::error_code ec;
      co_await coronet::sleep_for(1h, ec);
      co_return 0;
    };
    auto race = [&]() -> task<void> {
      auto r = co_await coronet::when_any(counted_sleep(), value_after_yield(1), counted_sleep());
      if (r.index() != 1)
        throw std::logic_error("wrong winner");
    };
    for (int i = 0; i < 100; ++i)
      co_await race();
    coronet_test::new_call_counter counter;
    for (int i = 0; i < 1000; ++i)
      co_await race();
    co_return counter.count();
  }());
  CHECK(allocations == 0);
  CHECK(destroyed == 2 * 1100);
}
