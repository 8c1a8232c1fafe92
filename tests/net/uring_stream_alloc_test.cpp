// A steady-state echo whose server end reads and writes through the io_uring stream: no heap
// allocation per operation (each operation is allocated with its handler's allocator, the
// frame pool).
#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <string>
#include <system_error>

#include <asio/io_context.hpp>

#include "coronet/core/sync_wait.hpp"
#include "coronet/core/task.hpp"
#include "coronet/core/when_all.hpp"
#include "net/uring/uring_service.hpp"
#include "support/counting_new.hpp"
#include "support/ring_socket.hpp"

namespace {

constexpr int warmup = 100;
constexpr int measured = 10'000;

}  // namespace

TEST_CASE("an echo through the ring makes no heap allocation in steady state", "[uring][alloc]") {
  const auto& k = coronet::detail::uring::probe();
  if (!k.usable) {
    WARN("io_uring is not usable here: " << k.why);
    return;
  }
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> coronet::task<void> {
    auto p = co_await coronet_test::make_ring_pair(ctx);
    auto echo = [&]() -> coronet::task<void> {
      std::array<char, 256> buf;
      std::error_code ec;
      for (;;) {
        const std::size_t n = co_await p.server.read_some(asio::buffer(buf), ec);
        if (ec)
          co_return;
        co_await p.server.write_all(asio::buffer(buf.data(), n));
      }
    };
    auto drive = [&]() -> coronet::task<void> {
      const std::string message = "*1\r\n$4\r\nPING\r\n";
      std::array<char, 64> buf;
      auto round = [&]() -> coronet::task<void> {
        co_await p.client.write_all(asio::buffer(message));
        co_await p.client.read_exact(asio::buffer(buf.data(), message.size()));
      };
      for (int i = 0; i < warmup; ++i)
        co_await round();
      const std::size_t completions_before = asio::use_service<coronet::detail::uring::service>(ctx).stats().completions;
      coronet_test::new_call_counter counter;
      const auto started = std::chrono::steady_clock::now();
      for (int i = 0; i < measured; ++i)
        co_await round();
      const auto took = std::chrono::steady_clock::now() - started;
      const std::size_t allocations = counter.count();
      // A ring whose completions wake the thread late (DEFER_TASKRUN's eventfd did, ~16 ms a
      // round trip here) shows here: a round trip takes tens of microseconds on loopback.
      CHECK(took < std::chrono::seconds(30));
      const std::size_t completions =
          asio::use_service<coronet::detail::uring::service>(ctx).stats().completions - completions_before;
      WARN("over " << measured << " round trips: " << allocations << " operator new calls, " << completions
                   << " ring completions");
      CHECK(allocations == 0);
      CHECK(completions >= static_cast<std::size_t>(measured));  // the server's reads went through the ring
      p.client.close();
    };
    co_await coronet::when_all(echo(), drive());
  }());
}
