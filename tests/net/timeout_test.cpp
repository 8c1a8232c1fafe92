// Tests for coronet/net/timeout.hpp: with_timeout's results, errors, nesting and cancellation.
#include "coronet/net/timeout.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/address_v4.hpp>

#include "coronet/core/error.hpp"
#include "coronet/core/spawn.hpp"
#include "coronet/core/sync_wait.hpp"
#include "coronet/core/task.hpp"
#include "coronet/core/task_group.hpp"
#include "coronet/core/when_all.hpp"
#include "coronet/net/acceptor.hpp"
#include "coronet/net/socket.hpp"
#include "coronet/net/timer.hpp"
#include "coronet/net/yield.hpp"

// Never co_await inside a Catch macro: the macro repeats its expression in a
// short-circuited `false && (...)`, and g++ 12 still runs a co_await there.

#include "support/cancellable_run.hpp"
#include "support/loopback_pair.hpp"
#include "support/wait_helpers.hpp"

namespace net_timeout_test {

namespace {

using namespace std::chrono_literals;
using coronet::task;
namespace tcp = coronet::tcp;
using clock_type = std::chrono::steady_clock;

using coronet_test::destroy_counter;
using coronet_test::run_until;
using coronet_test::wait_until;

// Counts live instances, to check that nothing outlives a loop.
struct live_counter {
  static inline int live = 0;
  live_counter() noexcept { ++live; }
  live_counter(const live_counter&) = delete;
  live_counter& operator=(const live_counter&) = delete;
  ~live_counter() { --live; }
};

task<int> value_now(int v) { co_return v; }

task<int> value_after(clock_type::duration d, int v) {
  co_await coronet::sleep_for(d);
  co_return v;
}

task<void> sleep_task(clock_type::duration d) { co_await coronet::sleep_for(d); }

// Catches the cancellation of its sleep and finishes normally, saying why it was cancelled.
task<std::string> shrug_off_cancellation(clock_type::duration d) {
  try {
    co_await coronet::sleep_for(d);
  } catch (const std::system_error& e) {
    if (e.code() == coronet::errc::timeout)
      co_return "cancelled: timeout";
    co_return "cancelled: " + std::string(e.code() == asio::error::operation_aborted ? "aborted" : "other");
  }
  co_return "slept";
}

// Awaits `t` and yields the error_code of the std::system_error it threw (empty if none).
template <class T>
task<std::error_code> error_of(task<T> t) {
  try {
    co_await std::move(t);
  } catch (const std::system_error& e) {
    co_return e.code();
  }
  co_return std::error_code{};
}

}  // namespace

TEST_CASE("with_timeout returns the value of a task that finishes in time", "[timeout]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, []() -> task<void> {
    const auto start = clock_type::now();
    const int later = co_await coronet::with_timeout(value_after(5ms, 7), 5s);
    CHECK(later == 7);
    co_await coronet::with_timeout(sleep_task(1ms), 5s);
    const std::string text = co_await coronet::with_timeout(shrug_off_cancellation(1ms), 5s);
    CHECK(text == "slept");
    // Finishing in time must not wait for the deadline.
    CHECK(clock_type::now() - start < 2s);
  }());
}

TEST_CASE("with_timeout returns at once when the task finishes without suspending", "[timeout]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, []() -> task<void> {
    const auto start = clock_type::now();
    const int now = co_await coronet::with_timeout(value_now(42), 10s);
    CHECK(now == 42);
    // The deadline (10 s) must be cancelled even though the task finished before the timer started.
    CHECK(clock_type::now() - start < 2s);
  }());
}

TEST_CASE("with_timeout throws coronet::errc::timeout when the task does not finish in time", "[timeout]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, []() -> task<void> {
    const auto start = clock_type::now();
    std::error_code thrown;
    try {
      co_await coronet::with_timeout(sleep_task(10s), 20ms);
    } catch (const std::system_error& e) {
      thrown = e.code();
    }
    const auto elapsed = clock_type::now() - start;
    CHECK(thrown == coronet::errc::timeout);
    CHECK(elapsed >= 20ms);
    CHECK(elapsed < 2s);

    const std::error_code for_value = co_await error_of(coronet::with_timeout(value_after(10s, 1), 0ms));
    CHECK(for_value == coronet::errc::timeout);
  }());
}

TEST_CASE("with_timeout returns the value of a task that handles the cancellation", "[timeout]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, []() -> task<void> {
    const auto start = clock_type::now();
    const std::string text = co_await coronet::with_timeout(shrug_off_cancellation(10s), 20ms);
    CHECK(text == "cancelled: timeout");

    // The error_code form of an operation is the same: no exception, so the
    // value comes back, and the operation's ec tells that the deadline passed.
    std::error_code ec;
    co_await coronet::with_timeout(
        [&]() -> task<void> {
          co_await coronet::sleep_for(10s, ec);
        }(),
        20ms);
    CHECK(ec == coronet::errc::timeout);
    CHECK(clock_type::now() - start < 2s);
  }());
}

TEST_CASE("with_timeout lets other exceptions through unchanged", "[timeout]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, []() -> task<void> {
    auto throws_now = []() -> task<int> {
      throw std::runtime_error("boom now");
    };
    auto throws_later = []() -> task<void> {
      co_await coronet::sleep_for(1ms);
      throw std::runtime_error("boom later");
    };
    auto io_error = []() -> task<void> {
      co_await coronet::yield();
      throw std::system_error(asio::error::connection_reset);
    };

    std::string message;
    try {
      co_await coronet::with_timeout(throws_now(), 10s);
    } catch (const std::runtime_error& e) {
      message = e.what();
    }
    CHECK(message == "boom now");

    message.clear();
    try {
      co_await coronet::with_timeout(throws_later(), 10s);
    } catch (const std::runtime_error& e) {
      message = e.what();
    }
    CHECK(message == "boom later");

    const std::error_code code = co_await error_of(coronet::with_timeout(io_error(), 10s));
    CHECK(code == asio::error::connection_reset);
  }());
}

TEST_CASE("nested with_timeout: the shorter deadline wins", "[timeout]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, []() -> task<void> {
    std::error_code inner_saw;
    // Records what the inner with_timeout threw, then lets it through.
    auto inner = [&](clock_type::duration inner_limit) -> task<void> {
      try {
        co_await coronet::with_timeout(sleep_task(10s), inner_limit);
      } catch (const std::system_error& e) {
        inner_saw = e.code();
        throw;
      }
    };

    SECTION("inner shorter") {
      const auto start = clock_type::now();
      const std::error_code outer = co_await error_of(coronet::with_timeout(inner(20ms), 5s));
      CHECK(inner_saw == coronet::errc::timeout);
      CHECK(outer == coronet::errc::timeout);
      CHECK(clock_type::now() - start < 2s);
    }
    SECTION("outer shorter") {
      const auto start = clock_type::now();
      const std::error_code outer = co_await error_of(coronet::with_timeout(inner(5s), 20ms));
      // The outer deadline cancels the inner with_timeout's task: its operation reports the timeout.
      CHECK(inner_saw == coronet::errc::timeout);
      CHECK(outer == coronet::errc::timeout);
      CHECK(clock_type::now() - start < 2s);
    }
    SECTION("both in time") {
      const int v = co_await coronet::with_timeout(coronet::with_timeout(value_after(1ms, 3), 5s), 5s);
      CHECK(v == 3);
    }
  }());
}

TEST_CASE("with_timeout around when_all", "[timeout]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, []() -> task<void> {
    const auto start = clock_type::now();
    auto [a, b, c] = co_await coronet::with_timeout(
        coronet::when_all(value_after(1ms, 1), value_now(2), sleep_task(2ms)), 5s);
    CHECK(a == 1);
    CHECK(b == 2);
    CHECK(c == std::monostate{});

    const std::error_code code = co_await error_of(
        coronet::with_timeout(coronet::when_all(sleep_task(10s), value_after(10s, 1)), 20ms));
    CHECK(code == coronet::errc::timeout);

    // One branch done, the other still sleeping when the deadline comes.
    const std::error_code partly = co_await error_of(
        coronet::with_timeout(coronet::when_all(value_now(1), sleep_task(10s)), 20ms));
    CHECK(partly == coronet::errc::timeout);
    CHECK(clock_type::now() - start < 2s);
  }());
}

TEST_CASE("with_timeout around a socket read", "[timeout]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    tcp::acceptor acceptor(ctx, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    tcp::socket client(ctx);
    co_await client.connect(acceptor.local_endpoint());
    tcp::socket server = co_await acceptor.accept();
    std::array<char, 4> buf{};
    auto read_exact = [&]() -> task<std::size_t> {
      co_return co_await client.read_exact(asio::buffer(buf));
    };

    const std::error_code code = co_await error_of(coronet::with_timeout(read_exact(), 20ms));
    CHECK(code == coronet::errc::timeout);

    co_await server.write_all(asio::buffer(std::string("abcd")));
    const std::size_t n = co_await coronet::with_timeout(read_exact(), 5s);
    CHECK(n == 4);
    CHECK(std::string(buf.data(), n) == "abcd");
  }());
}

TEST_CASE("cancelling the parent cancels the task inside with_timeout: operation_aborted, not a timeout",
          "[timeout][cancel]") {
  asio::io_context ctx(1);
  SECTION("task_group::cancel") {
    coronet::sync_wait(ctx, [&]() -> task<void> {
      coronet::task_group group(ctx.get_executor());
      bool waiting = false;
      std::error_code seen;
      group.spawn([&]() -> task<void> {
        waiting = true;
        seen = co_await error_of(coronet::with_timeout(sleep_task(10s), 5s));
      });
      const bool started = co_await wait_until([&] { return waiting; });
      REQUIRE(started);
      const auto start = clock_type::now();
      group.cancel();
      co_await group.join();
      CHECK(seen == asio::error::operation_aborted);
      CHECK(clock_type::now() - start < 2s);
    }());
  }
  SECTION("a cancellation slot bound to spawn's completion") {
    coronet_test::cancellable_run run;
    run.spawn(ctx, [] { return coronet::with_timeout(sleep_task(10s), 5s); });
    REQUIRE(run_until(ctx, [&] { return run.started; }));
    CHECK(run.cancel(ctx) < 2s);
    CHECK(run.thrown == asio::error::operation_aborted);
  }
}

TEST_CASE("the timeout error says an operation timed out and matches std::errc::timed_out", "[timeout]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, []() -> task<void> {
    std::string what;
    std::error_code code;
    try {
      co_await coronet::with_timeout(sleep_task(10s), 1ms);
    } catch (const std::system_error& e) {
      what = e.what();
      code = e.code();
    }
    CHECK(what.find("operation timed out") != std::string::npos);
    CHECK(code == std::errc::timed_out);
    CHECK(&code.category() == &coronet::error_category());
  }());
}

TEST_CASE("with_timeout's error_code form reports the timeout instead of throwing", "[timeout]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, []() -> task<void> {
    const auto start = clock_type::now();
    std::error_code ec = asio::error::connection_reset;

    const int in_time = co_await coronet::with_timeout(value_after(1ms, 5), 5s, ec);
    CHECK(in_time == 5);
    CHECK(!ec);

    const int late = co_await coronet::with_timeout(value_after(10s, 5), 10ms, ec);
    CHECK(late == 0);
    CHECK(ec == coronet::errc::timeout);

    co_await coronet::with_timeout(value_now(1), 5s, ec);
    CHECK(!ec);

    co_await coronet::with_timeout(sleep_task(10s), 10ms, ec);
    CHECK(ec == coronet::errc::timeout);

    const std::string text = co_await coronet::with_timeout(shrug_off_cancellation(10s), 10ms, ec);
    CHECK(text == "cancelled: timeout");
    CHECK(!ec);

    // Only the timeout goes to ec: the task's own exceptions still propagate.
    auto throws_later = []() -> task<int> {
      co_await coronet::sleep_for(1ms);
      throw std::runtime_error("boom");
    };
    std::string message;
    try {
      co_await coronet::with_timeout(throws_later(), 5s, ec);
    } catch (const std::runtime_error& e) {
      message = e.what();
    }
    CHECK(message == "boom");
    CHECK(clock_type::now() - start < 2s);
  }());
}

TEST_CASE("with_timeout's error_code form around a socket read", "[timeout]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    tcp::acceptor acceptor(ctx, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    tcp::socket client(ctx);
    co_await client.connect(acceptor.local_endpoint());
    tcp::socket server = co_await acceptor.accept();
    std::array<char, 4> buf{};
    auto read_exact = [&]() -> task<std::size_t> {
      co_return co_await client.read_exact(asio::buffer(buf));
    };
    std::error_code ec;
    std::size_t n = co_await coronet::with_timeout(read_exact(), 20ms, ec);
    CHECK(ec == coronet::errc::timeout);
    CHECK(n == 0);

    co_await server.write_all(asio::buffer(std::string("wxyz")));
    n = co_await coronet::with_timeout(read_exact(), 5s, ec);
    CHECK(!ec);
    CHECK(std::string(buf.data(), n) == "wxyz");
  }());
}

TEST_CASE("with_timeout in a loop of 1000 iterations leaves nothing behind", "[timeout]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, []() -> task<void> {
    auto counted = [](int i) -> task<int> {
      live_counter alive;
      if (i % 3 == 1)
        co_await coronet::yield();
      if (i % 3 == 2)
        co_await coronet::sleep_for(10s);
      co_return i;
    };
    int finished = 0;
    int timed_out = 0;
    const auto start = clock_type::now();
    for (int i = 0; i < 1000; ++i) {
      try {
        const int v = co_await coronet::with_timeout(counted(i), i % 3 == 2 ? 0ms : 10s);
        if (v == i)
          ++finished;
      } catch (const std::system_error& e) {
        if (e.code() == coronet::errc::timeout)
          ++timed_out;
      }
    }
    CHECK(finished == 667);
    CHECK(timed_out == 333);
    CHECK(live_counter::live == 0);
    CHECK(clock_type::now() - start < 5s);
  }());
}

TEST_CASE("destroying the io_context frees a task suspended in with_timeout", "[timeout][lifetime]") {
  int destroyed = 0;
  bool waiting = false;
  bool resumed = false;
  {
    asio::io_context ctx(1);
    // The task waits on a socket read, the deadline on its timer: both branches pending.
    coronet::spawn(ctx, [&]() -> task<void> {
      destroy_counter counter(&destroyed);
      tcp::acceptor acceptor(ctx, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
      tcp::socket client(ctx);
      co_await client.connect(acceptor.local_endpoint());
      tcp::socket server = co_await acceptor.accept();
      auto read = [&]() -> task<void> {
        destroy_counter inner(&destroyed);
        std::array<char, 4> buf{};
        co_await client.read_some(asio::buffer(buf));
      };
      waiting = true;
      co_await coronet::with_timeout(read(), 1h);
      resumed = true;
    });
    REQUIRE(run_until(ctx, [&] { return waiting; }));
    ctx.poll();
    CHECK(destroyed == 0);
  }
  CHECK_FALSE(resumed);
  CHECK(destroyed == 2);
}

TEST_CASE("destroying the io_context frees a task suspended in when_all", "[timeout][lifetime]") {
  int destroyed = 0;
  int waiting = 0;
  bool resumed = false;
  {
    asio::io_context ctx(1);
    // Every branch pending.
    coronet::spawn(ctx, [&]() -> task<void> {
      destroy_counter counter(&destroyed);
      auto sleeper = [&]() -> task<void> {
        destroy_counter inner(&destroyed);
        co_await coronet::sleep_for(1h);
      };
      ++waiting;
      co_await coronet::when_all(sleeper(), sleeper());
      resumed = true;
    });
    // One branch finished, one pending.
    coronet::spawn(ctx, [&]() -> task<void> {
      destroy_counter counter(&destroyed);
      auto quick = [&]() -> task<int> {
        destroy_counter inner(&destroyed);
        co_await coronet::yield();
        co_return 1;
      };
      ++waiting;
      co_await coronet::when_all(quick(), sleep_task(1h));
      resumed = true;
    });
    REQUIRE(run_until(ctx, [&] { return waiting == 2; }));
    // Let the quick branch finish; everything else stays suspended.
    for (int i = 0; i < 10; ++i)
      ctx.poll();
    CHECK(destroyed == 1);
  }
  CHECK_FALSE(resumed);
  // 2 roots + 2 sleepers + the quick branch (counted above).
  CHECK(destroyed == 5);
}

TEST_CASE("destroying the io_context frees with_timeout and when_all nested in each other", "[timeout][lifetime]") {
  int destroyed = 0;
  int waiting = 0;
  bool resumed = false;
  {
    asio::io_context ctx(1);
    auto counted_sleep = [&]() -> task<void> {
      destroy_counter inner(&destroyed);
      co_await coronet::sleep_for(1h);
    };
    coronet::spawn(ctx, [&]() -> task<void> {
      destroy_counter counter(&destroyed);
      ++waiting;
      co_await coronet::when_all(coronet::with_timeout(counted_sleep(), 1h), counted_sleep());
      resumed = true;
    });
    coronet::spawn(ctx, [&]() -> task<void> {
      destroy_counter counter(&destroyed);
      ++waiting;
      co_await coronet::with_timeout(coronet::when_all(counted_sleep(), counted_sleep()), 1h);
      resumed = true;
    });
    coronet::spawn(ctx, [&]() -> task<void> {
      destroy_counter counter(&destroyed);
      ++waiting;
      co_await coronet::with_timeout(coronet::with_timeout(counted_sleep(), 1h), 1h);
      resumed = true;
    });
    coronet::spawn(ctx, [&]() -> task<void> {
      destroy_counter counter(&destroyed);
      std::vector<task<void>> tasks;
      tasks.push_back(coronet::with_timeout(counted_sleep(), 1h));
      tasks.push_back(coronet::with_timeout(counted_sleep(), 1h));
      ++waiting;
      co_await coronet::when_all(std::move(tasks));
      resumed = true;
    });
    REQUIRE(run_until(ctx, [&] { return waiting == 4; }));
    ctx.poll();
    CHECK(destroyed == 0);
  }
  CHECK_FALSE(resumed);
  // 4 roots + 2 + 2 + 1 + 2 sleepers.
  CHECK(destroyed == 11);
}

// Operations of the library passed to with_timeout directly, without a task around them.
static_assert(coronet::detail::plain_awaitable<tcp::socket::read_some_awaitable>);
static_assert(coronet::detail::plain_awaitable<tcp::socket::write_all_awaitable>);
static_assert(coronet::detail::plain_awaitable<tcp::detail::connect_op>);
static_assert(coronet::detail::plain_awaitable<coronet::detail::sleep_op>);
static_assert(coronet::detail::plain_awaitable<coronet::detail::timer_wait_op>);
static_assert(!coronet::detail::plain_awaitable<task<int>>);

TEST_CASE("an operation in its error_code form learns that the deadline passed: errc::timeout, not operation_aborted",
          "[timeout][awaitable]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    coronet_test::connected_pair p = co_await coronet_test::make_pair(ctx);
    std::array<char, 8> buf{};
    std::error_code ec = asio::error::eof;
    const auto start = clock_type::now();
    const std::size_t n = co_await coronet::with_timeout(p.client.read_some(asio::buffer(buf), ec), 20ms);
    CHECK(n == 0);
    CHECK(ec == coronet::errc::timeout);
    CHECK(ec != asio::error::operation_aborted);
    CHECK(clock_type::now() - start >= 20ms);
    CHECK(clock_type::now() - start < 2s);

    // Inside a task of the caller's: the operation's ec says the same.
    ec.clear();
    const std::size_t m = co_await coronet::with_timeout(
        [&]() -> task<std::size_t> {
          const std::size_t got = co_await p.client.read_some(asio::buffer(buf), ec);
          co_return ec == coronet::errc::timeout ? 99 : got;
        }(),
        20ms);
    CHECK(m == 99);

    // The connection is still usable: the next read gets the next bytes.
    co_await p.server.write_all(asio::buffer(std::string("abc")));
    const std::size_t after = co_await coronet::with_timeout(p.client.read_some(asio::buffer(buf), ec), 5s);
    CHECK(!ec);
    CHECK(std::string(buf.data(), after) == "abc");
  }());
}

TEST_CASE("an operation in its throwing form throws errc::timeout when the deadline passes", "[timeout][awaitable]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    coronet_test::connected_pair p = co_await coronet_test::make_pair(ctx);
    std::array<char, 8> buf{};
    std::error_code thrown;
    try {
      co_await coronet::with_timeout(p.client.read_some(asio::buffer(buf)), 20ms);
    } catch (const std::system_error& e) {
      thrown = e.code();
    }
    CHECK(thrown == coronet::errc::timeout);

    thrown.clear();
    try {
      co_await coronet::with_timeout(coronet::sleep_for(10s), 10ms);
    } catch (const std::system_error& e) {
      thrown = e.code();
    }
    CHECK(thrown == coronet::errc::timeout);

    // with_timeout's own error_code form over a throwing-form operation.
    std::error_code ec;
    const std::size_t n = co_await coronet::with_timeout(p.client.read_some(asio::buffer(buf)), 10ms, ec);
    CHECK(n == 0);
    CHECK(ec == coronet::errc::timeout);

    // The same code given to both: the operation's timeout is not cleared by with_timeout.
    ec.clear();
    co_await coronet::with_timeout(p.client.read_some(asio::buffer(buf), ec), 10ms, ec);
    CHECK(ec == coronet::errc::timeout);
  }());
}

TEST_CASE("with_timeout takes any operation of the library: reads, writes, accepts, connects, timers",
          "[timeout][awaitable]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    tcp::acceptor acceptor(ctx, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    tcp::socket client(ctx);
    std::error_code ec = asio::error::eof;
    co_await coronet::with_timeout(client.connect(acceptor.local_endpoint(), ec), 5s);
    CHECK(!ec);
    tcp::socket server = co_await coronet::with_timeout(acceptor.accept(), 5s);
    CHECK(server.is_open());

    const std::string data = "hello";
    const std::size_t written = co_await coronet::with_timeout(server.write_all(asio::buffer(data)), 5s);
    CHECK(written == data.size());
    std::array<char, 5> buf{};
    const std::size_t read = co_await coronet::with_timeout(client.read_exact(asio::buffer(buf)), 5s);
    CHECK(std::string(buf.data(), read) == "hello");

    // An accept with nobody connecting times out with a closed socket.
    tcp::socket none = co_await coronet::with_timeout(acceptor.accept(ec), 10ms);
    CHECK(ec == coronet::errc::timeout);
    CHECK_FALSE(none.is_open());

    coronet::timer t(ctx);
    t.expires_after(1ms);
    co_await coronet::with_timeout(t.wait(ec), 5s);
    CHECK(!ec);
    t.expires_after(10s);
    co_await coronet::with_timeout(t.wait(ec), 10ms);
    CHECK(ec == coronet::errc::timeout);
    co_await coronet::with_timeout(coronet::sleep_for(10s, ec), 10ms);
    CHECK(ec == coronet::errc::timeout);
  }());
}

TEST_CASE("an operation that completes before the deadline never reports a timeout", "[timeout][awaitable]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    coronet_test::connected_pair p = co_await coronet_test::make_pair(ctx);
    std::array<char, 1> buf{};
    int in_time = 0;
    // Short deadlines too: a read whose byte is already there must win the race.
    for (int i = 0; i < 200; ++i) {
      co_await p.server.write_all(asio::buffer(std::string(1, static_cast<char>('a' + i % 26))));
      std::error_code ec = asio::error::eof;
      const std::size_t n = co_await coronet::with_timeout(p.client.read_some(asio::buffer(buf), ec),
                                                           i % 2 == 0 ? 5s : 1ms);
      if (!ec && n == 1 && buf[0] == 'a' + i % 26)
        ++in_time;
    }
    CHECK(in_time == 200);
  }());
}

}  // namespace net_timeout_test
