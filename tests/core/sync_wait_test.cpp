#include "coronet/core/sync_wait.hpp"

#include <catch2/catch.hpp>

#include <asio/post.hpp>
#include <stdexcept>

#include "coronet/core/task.hpp"
#include "coronet/net/yield.hpp"

namespace core_sync_wait_test {

TEST_CASE("sync_wait returns the value and rethrows the exception", "[sync_wait]") {
  asio::io_context ctx(1);
  CHECK(coronet::sync_wait(ctx, []() -> coronet::task<int> {
          co_return 3;
        }()) == 3);
  CHECK_THROWS_AS(coronet::sync_wait(ctx,
                                     []() -> coronet::task<void> {
                                       throw std::out_of_range("x");
                                       co_return;
                                     }()),
                  std::out_of_range);
}

TEST_CASE("sync_wait runs other work on the io_context meanwhile", "[sync_wait]") {
  asio::io_context ctx(1);
  int other = 0;
  asio::post(ctx, [&] { ++other; });
  auto t = [&]() -> coronet::task<int> {
    co_await coronet::yield();
    co_return other;
  };
  CHECK(coronet::sync_wait(ctx, t()) == 1);
}

TEST_CASE("sync_wait can be called repeatedly on one io_context", "[sync_wait]") {
  asio::io_context ctx(1);
  for (int i = 0; i < 3; ++i) {
    auto t = [](int v) -> coronet::task<int> {
      co_await coronet::yield();
      co_return v;
    };
    CHECK(coronet::sync_wait(ctx, t(i)) == i);
  }
}

TEST_CASE("sync_wait reports a task that can never finish", "[sync_wait]") {
  asio::io_context ctx(1);
  struct never {
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    void await_resume() const noexcept {}
  };
  auto t = []() -> coronet::task<void> {
    co_await never{};
  };
  CHECK_THROWS_AS(coronet::sync_wait(ctx, t()), std::logic_error);
}

}  // namespace core_sync_wait_test
