// Tests for runtime/worker_pool.hpp: run until stop, stop before run, the drain deadline (stray tasks
// included), force stop and teardown. Signals: tests/server/server_shutdown_test.cpp, in child processes.
#include "runtime/worker_pool.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

#include <asio/error.hpp>

#include "coronet/net/timer.hpp"
#include "coronet/core/spawn.hpp"
#include "coronet/core/task.hpp"

// Never co_await inside a Catch macro: the macro repeats its expression in a
// short-circuited `false && (...)`, and g++ 12 still runs a co_await there.

#include "support/wait_helpers.hpp"

namespace runtime_worker_pool_test {

namespace {

using namespace std::chrono_literals;
using coronet::task;
using coronet::detail::worker_pool;
using coronet_test::clock_type;
using coronet_test::destroy_counter;

constexpr auto never = clock_type::time_point::max();

// pool.run() on a thread of its own, waited for with a deadline; a run still
// going when the test ends is force-stopped, so a failure cannot hang.
class background_run {
public:
  background_run(worker_pool& pool, worker_pool::callbacks cb, std::chrono::milliseconds drain_timeout)
      : pool_(pool), result_(std::async(std::launch::async, [&pool, cb = std::move(cb), drain_timeout]() mutable {
          return pool.run(std::move(cb), drain_timeout, false);
        })) {}
  background_run(const background_run&) = delete;
  background_run& operator=(const background_run&) = delete;
  ~background_run() {
    if (result_.valid()) {
      pool_.force_stop();
      result_.wait();
    }
  }

  /// run()'s result, or -1 if it has not returned within `limit`.
  int result(std::chrono::seconds limit = 5s) {
    if (result_.wait_for(limit) != std::future_status::ready)
      return -1;
    return result_.get();
  }

private:
  worker_pool& pool_;
  std::future<int> result_;
};

// Becomes ready when `count` workers have called arrive().
class all_arrived {
public:
  explicit all_arrived(int count) : left_(count) {}
  void arrive() {
    if (left_.fetch_sub(1) == 1)
      ready_.set_value();
  }
  bool wait(std::chrono::seconds limit = 5s) { return future_.wait_for(limit) == std::future_status::ready; }

private:
  std::atomic<int> left_;
  std::promise<void> ready_;
  std::future<void> future_ = ready_.get_future();
};

}  // namespace

TEST_CASE("run serves every worker on its own thread until stop(), then returns 0", "[worker_pool]") {
  worker_pool pool(2);
  REQUIRE(pool.size() == 2);
  // On the workers' io_contexts: declared after the pool, so destroyed before it.
  std::array<std::optional<coronet::timer>, 2> wake;
  std::array<std::thread::id, 2> main_thread;
  std::array<std::thread::id, 2> drain_thread;
  std::array<int, 2> drains{};
  all_arrived started(2);

  worker_pool::callbacks cb;
  cb.main = [&](std::size_t i) -> task<void> {
    main_thread[i] = std::this_thread::get_id();
    wake[i].emplace(pool.context(i));
    wake[i]->expires_at(never);
    started.arrive();
    std::error_code ec;
    co_await wake[i]->wait(ec);
  };
  cb.begin_drain = [&](std::size_t i) {
    ++drains[i];
    drain_thread[i] = std::this_thread::get_id();
    if (wake[i])
      wake[i]->cancel();
  };
  background_run run(pool, std::move(cb), 5s);
  REQUIRE(started.wait());
  CHECK(!pool.stopping());
  pool.stop();
  pool.stop();  // idempotent
  CHECK(pool.stopping());
  REQUIRE(run.result() == 0);
  CHECK(main_thread[0] != main_thread[1]);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(drains[i] == 1);
    CHECK(drain_thread[i] == main_thread[i]);
  }
}

TEST_CASE("stop() before run() drains every worker before its main runs", "[worker_pool]") {
  worker_pool pool(2);
  pool.stop();
  CHECK(pool.stopping());
  std::array<int, 2> drains{};
  std::array<bool, 2> drained_before_main{};
  worker_pool::callbacks cb;
  cb.main = [&](std::size_t i) -> task<void> {
    drained_before_main[i] = drains[i] == 1;
    co_return;
  };
  cb.begin_drain = [&](std::size_t i) {
    ++drains[i];
  };
  background_run run(pool, std::move(cb), 5s);
  REQUIRE(run.result() == 0);
  CHECK(drains == std::array<int, 2>{1, 1});
  CHECK(drained_before_main == std::array<bool, 2>{true, true});
}

TEST_CASE("a main that returns by itself drains its worker; the pool waits for its tasks", "[worker_pool]") {
  worker_pool pool(1);
  int drains = 0;
  bool child_done = false;
  worker_pool::callbacks cb;
  cb.main = [&](std::size_t i) -> task<void> {
    pool.tasks(i).spawn([&]() -> task<void> {
      co_await coronet::sleep_for(20ms);
      child_done = drains == 1;  // still running after the drain began
    });
    co_return;
  };
  cb.begin_drain = [&](std::size_t) {
    ++drains;
  };
  background_run run(pool, std::move(cb), 5s);
  REQUIRE(run.result() == 0);
  CHECK(drains == 1);
  CHECK(child_done);
}

TEST_CASE("past the drain deadline force_close runs and the worker's tasks are cancelled", "[worker_pool]") {
  constexpr auto drain_timeout = 50ms;
  worker_pool pool(1);
  int force_closes = 0;
  std::error_code child_ec;
  worker_pool::callbacks cb;
  cb.main = [&](std::size_t i) -> task<void> {
    // A child that ignores the drain: only the deadline ends it.
    pool.tasks(i).spawn([&]() -> task<void> { co_await coronet::sleep_for(1h, child_ec); });
    co_return;
  };
  cb.force_close = [&](std::size_t) {
    ++force_closes;
  };
  const auto start = clock_type::now();
  background_run run(pool, std::move(cb), drain_timeout);
  REQUIRE(run.result() == 0);
  CHECK(clock_type::now() - start >= drain_timeout);
  CHECK(force_closes == 1);
  CHECK(child_ec == asio::error::operation_aborted);
}

TEST_CASE("run() called twice throws std::logic_error", "[worker_pool]") {
  worker_pool pool(1);
  // Nothing plugged in: the worker drains at once and run() returns.
  CHECK(pool.run({}, 1s, false) == 0);
  CHECK_THROWS_AS(pool.run({}, 1s, false), std::logic_error);
}

TEST_CASE("force_stop() ends run() at once; destroying the pool frees the suspended frames", "[worker_pool]") {
  auto pool = std::make_unique<worker_pool>(2);
  int destroyed = 0;
  all_arrived started(2);
  worker_pool::callbacks cb;
  cb.main = [&](std::size_t i) -> task<void> {
    destroy_counter main_frame(&destroyed);
    // The child arrives, not main: a child whose first step has not run yet
    // has no frame to free.
    pool->tasks(i).spawn([&]() -> task<void> {
      destroy_counter child_frame(&destroyed);
      started.arrive();
      co_await coronet::sleep_for(1h);
    });
    co_await coronet::sleep_for(1h);
  };
  {
    background_run run(*pool, std::move(cb), 1h);
    REQUIRE(started.wait());
    pool->force_stop();
    CHECK(run.result() == 0);
  }
  CHECK(destroyed == 0);
  pool.reset();
  CHECK(destroyed == 4);
}

// A task spawned onto a worker's executor outside its task group, as a
// handler doing `spawn(co_await this_executor, ...)` does.
TEST_CASE("stop() bounds run() by drain_timeout although a stray spawned task sleeps for an hour", "[worker_pool]") {
  constexpr auto drain_timeout = 100ms;
  auto pool = std::make_unique<worker_pool>(2);
  int destroyed = 0;
  all_arrived started(2);
  // main serves until its drain begins, so the drain (and its deadline) starts with stop().
  std::array<std::optional<coronet::timer>, 2> wake;
  worker_pool::callbacks cb;
  cb.main = [&](std::size_t i) -> task<void> {
    coronet::spawn(co_await coronet::this_executor, [&]() -> task<void> {
      destroy_counter frame(&destroyed);
      started.arrive();
      co_await coronet::sleep_for(1h);
    });
    wake[i].emplace(co_await coronet::this_executor);
    wake[i]->expires_at(never);
    std::error_code ec;
    co_await wake[i]->wait(ec);
  };
  cb.begin_drain = [&](std::size_t i) {
    if (wake[i])
      wake[i]->cancel();
  };
  {
    background_run run(*pool, std::move(cb), drain_timeout);
    REQUIRE(started.wait());
    const auto stopped = clock_type::now();
    pool->stop();
    REQUIRE(run.result() == 0);
    const auto took = clock_type::now() - stopped;
    CHECK(took >= drain_timeout);
    CHECK(took < drain_timeout + worker_pool::cancel_grace + 2s);
  }
  // Abandoned, not leaked: the frames go with the io_contexts.
  CHECK(destroyed == 0);
  for (auto& w : wake)
    w.reset();
  pool.reset();
  CHECK(destroyed == 2);
}

TEST_CASE("a stray task that ends before the deadline is waited for", "[worker_pool]") {
  worker_pool pool(1);
  std::atomic<bool> stray_done{false};
  worker_pool::callbacks cb;
  cb.main = [&](std::size_t) -> task<void> {
    coronet::spawn(co_await coronet::this_executor, [&]() -> task<void> {
      co_await coronet::sleep_for(30ms);
      stray_done = true;
    });
  };
  background_run run(pool, std::move(cb), 1h);
  pool.stop();
  REQUIRE(run.result() == 0);
  CHECK(stray_done);
}

TEST_CASE("a main that returns by itself leaves stray tasks drain_timeout to end", "[worker_pool]") {
  constexpr auto drain_timeout = 50ms;
  worker_pool pool(1);
  worker_pool::callbacks cb;
  cb.main = [&](std::size_t) -> task<void> {
    coronet::spawn(co_await coronet::this_executor, []() -> task<void> { co_await coronet::sleep_for(1h); });
  };
  const auto start = clock_type::now();
  background_run run(pool, std::move(cb), drain_timeout);
  REQUIRE(run.result() == 0);
  CHECK(clock_type::now() - start >= drain_timeout);
  CHECK(!pool.stopping());
}

TEST_CASE("a task that ignores cancellation is abandoned cancel_grace after the deadline", "[worker_pool]") {
  constexpr auto drain_timeout = 50ms;
  auto pool = std::make_unique<worker_pool>(1);
  int destroyed = 0;
  int cancelled = 0;
  int force_closes = 0;
  worker_pool::callbacks cb;
  cb.main = [&](std::size_t i) -> task<void> {
    pool->tasks(i).spawn([&]() -> task<void> {
      destroy_counter frame(&destroyed);
      std::error_code ec;
      co_await coronet::sleep_for(1h, ec);
      if (ec == asio::error::operation_aborted)
        ++cancelled;
      // Ignores the cancellation and waits on (the group cancels a child once).
      coronet::timer stubborn(pool->context(i));
      stubborn.expires_after(1h);
      co_await stubborn.wait(ec);
    });
    co_return;
  };
  cb.force_close = [&](std::size_t) {
    ++force_closes;
  };
  {
    const auto start = clock_type::now();
    background_run run(*pool, std::move(cb), drain_timeout);
    pool->stop();
    REQUIRE(run.result() == 0);
    const auto took = clock_type::now() - start;
    CHECK(took >= drain_timeout + worker_pool::cancel_grace);
    CHECK(took < drain_timeout + worker_pool::cancel_grace + 2s);
  }
  CHECK(force_closes == 1);
  CHECK(cancelled == 1);
  pool.reset();
  CHECK(destroyed == 1);
}

}  // namespace runtime_worker_pool_test
