// Tests for coronet/net/io_context_executor.hpp: what converts to an io_context executor, and what is refused.
#include "coronet/net/io_context_executor.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

#include <asio/any_io_executor.hpp>
#include <asio/io_context.hpp>
#include <asio/strand.hpp>

#include "coronet/core/sync_wait.hpp"
#include "coronet/core/task.hpp"

namespace net_io_context_executor_test {

namespace {

const asio::io_context* context_of(const coronet::io_context_executor& ex) { return &ex.get().context(); }

}  // namespace

TEST_CASE("an io_context, its executor and an any_io_executor wrapping it all give its executor", "[executor]") {
  asio::io_context ctx(1);
  CHECK(context_of(ctx) == &ctx);
  CHECK(context_of(ctx.get_executor()) == &ctx);
  const asio::any_io_executor any = ctx.get_executor();
  CHECK(context_of(any) == &ctx);
  CHECK(coronet::io_context_executor(any).get() == ctx.get_executor());
}

TEST_CASE("co_await this_executor converts to the io_context executor the task runs on", "[executor]") {
  asio::io_context ctx(1);
  auto body = []() -> coronet::task<const asio::io_context*> {
    const coronet::io_context_executor ex(co_await coronet::this_executor);
    co_return &ex.get().context();
  };
  CHECK(coronet::sync_wait(ctx, body()) == &ctx);
}

TEST_CASE("an empty any_io_executor or one wrapping a strand throws std::invalid_argument", "[executor]") {
  asio::io_context ctx(1);
  CHECK_THROWS_AS(coronet::io_context_executor(asio::any_io_executor{}), std::invalid_argument);
  const asio::any_io_executor strand = asio::make_strand(ctx);
  CHECK_THROWS_AS(coronet::io_context_executor(strand), std::invalid_argument);
}

}  // namespace net_io_context_executor_test
