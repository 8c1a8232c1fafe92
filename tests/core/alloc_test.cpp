// Steady-state operations make no calls to the global operator new.
#include <catch2/catch.hpp>

#include <array>
#include <memory>
#include <system_error>

#include "coronet/coronet.hpp"
#include "support/counting_new.hpp"

using namespace std::chrono_literals;

namespace {

constexpr int warmup = 100;
constexpr int measured = 10'000;

coronet::task<int> child(int x) { co_return x + 1; }

// Runs `body(i)` `warmup` times, then `measured` times under a counter.
template <class Body>
coronet::task<std::size_t> count_steady_state(Body body) {
  for (int i = 0; i < warmup; ++i)
    co_await body(i);
  coronet_test::new_call_counter counter;
  for (int i = 0; i < measured; ++i)
    co_await body(i);
  co_return counter.count();
}

struct connected_pair {
  coronet::tcp::socket a;
  coronet::tcp::socket b;
};

coronet::task<connected_pair> make_pair(asio::io_context& ctx) {
  coronet::tcp::acceptor acc(ctx, {asio::ip::address_v4::loopback(), 0});
  auto accept_one = [&]() -> coronet::task<coronet::tcp::socket> {
    co_return co_await acc.accept();
  };
  auto [server, client] = co_await coronet::when_all(
      accept_one(), coronet::tcp::connect(ctx.get_executor(), "127.0.0.1", acc.port()));
  co_return connected_pair{std::move(server), std::move(client)};
}

// Echoes every byte back until the connection ends.
coronet::task<void> echo_peer(coronet::tcp::socket& s) {
  std::array<char, 64> buf;
  std::error_code ec;
  for (;;) {
    std::size_t n = co_await s.read_some(asio::buffer(buf), ec);
    if (ec)
      co_return;
    co_await s.write_all(asio::buffer(buf.data(), n));
  }
}

// Heap allocations, in steady state, of a one-byte round trip to a peer that
// echoes it: the measured side writes the byte, then `read(socket, in)`
// reads the echo back into `in`.
template <class Read>
std::size_t echo_allocations(Read read) {
  asio::io_context ctx(1);
  connected_pair pair = coronet::sync_wait(ctx, make_pair(ctx));
  coronet::spawn(ctx, echo_peer(pair.b));
  const std::size_t n = coronet::sync_wait(ctx, count_steady_state([&pair, &read](int i) -> coronet::task<void> {
                                             char out = static_cast<char>(i);
                                             char in = 0;
                                             co_await pair.a.write_all(asio::buffer(&out, 1));
                                             co_await read(pair.a, in);
                                             if (in != out)
                                               throw std::runtime_error("echo mismatch");
                                           }));
  pair.a.close();
  ctx.run();
  return n;
}

}  // namespace

TEST_CASE("awaiting a child task allocates nothing in steady state", "[alloc]") {
  auto n = coronet::sync_wait(count_steady_state([](int i) -> coronet::task<void> {
    int v = co_await child(i);
    (void)v;
  }));
  CHECK(n == 0);
}

TEST_CASE("yield through the executor allocates nothing in steady state", "[alloc]") {
  auto n = coronet::sync_wait(count_steady_state([](int) -> coronet::task<void> { co_await coronet::yield(); }));
  CHECK(n == 0);
}

TEST_CASE("a zero-duration sleep allocates nothing in steady state", "[alloc]") {
  auto n = coronet::sync_wait(count_steady_state([](int) -> coronet::task<void> { co_await coronet::sleep_for(0ms); }));
  CHECK(n == 0);
}

TEST_CASE("a socket read+write ping-pong allocates nothing in steady state", "[alloc]") {
  CHECK(echo_allocations([](coronet::tcp::socket& s, char& in) -> coronet::task<void> {
          co_await s.read_exact(asio::buffer(&in, 1));
        }) == 0);
}

TEST_CASE("a read under with_timeout allocates nothing in steady state", "[alloc]") {
  CHECK(echo_allocations([](coronet::tcp::socket& s, char& in) -> coronet::task<void> {
          co_await coronet::with_timeout(
              [&]() -> coronet::task<void> {
                co_await s.read_exact(asio::buffer(&in, 1));
              }(),
              10s);
        }) == 0);
}

TEST_CASE("a read passed to with_timeout directly allocates nothing in steady state", "[alloc]") {
  asio::io_context ctx(1);
  connected_pair pair = coronet::sync_wait(ctx, make_pair(ctx));
  coronet::spawn(ctx, echo_peer(pair.b));
  auto n = coronet::sync_wait(ctx, count_steady_state([&pair](int i) -> coronet::task<void> {
                                char out = static_cast<char>(i);
                                char in = 0;
                                co_await pair.a.write_all(asio::buffer(&out, 1));
                                std::error_code ec;
                                co_await coronet::with_timeout(pair.a.read_exact(asio::buffer(&in, 1), ec), 10s);
                              }));
  CHECK(n == 0);
  pair.a.close();
  ctx.run();
}

TEST_CASE("the counter itself sees a heap allocation", "[alloc]") {
  coronet_test::new_call_counter counter;
  auto p = std::make_unique<int>(1);
  CHECK(counter.count() == 1);
}
