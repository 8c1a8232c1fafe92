// Tests for coronet/net/udp.hpp: datagrams, errors, cancellation and allocation on UDP loopback.
#include "coronet/net/udp.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/address_v4.hpp>

#include "coronet/core/error.hpp"
#include "coronet/net/timeout.hpp"
#include "coronet/core/spawn.hpp"
#include "coronet/core/sync_wait.hpp"
#include "coronet/core/task.hpp"
#include "coronet/net/yield.hpp"
#include "support/counting_new.hpp"
#include "support/wait_helpers.hpp"

// Never co_await inside a Catch macro: the macro repeats its expression in a
// short-circuited `false && (...)`, and g++ 12 still runs a co_await there.

namespace {

using namespace std::chrono_literals;
using coronet::task;
namespace udp = coronet::udp;

udp::endpoint loopback_any_port() { return {asio::ip::address_v4::loopback(), 0}; }

std::string text(const std::array<char, 64>& buf, std::size_t n) { return std::string(buf.data(), n); }

using coronet_test::destroy_counter;

}  // namespace

TEST_CASE("udp::socket binds port 0, and send_to / receive_from carry datagrams both ways", "[udp]") {
  asio::io_context ctx(1);
  udp::socket a(ctx, loopback_any_port());
  udp::socket b(ctx, loopback_any_port());
  CHECK(a.is_open());
  CHECK(a.port() != 0);
  CHECK(a.port() != b.port());
  coronet::sync_wait(ctx, [&]() -> task<void> {
    const std::string hello = "hello";
    const std::size_t sent = co_await a.send_to(asio::buffer(hello), b.local_endpoint());
    CHECK(sent == hello.size());
    std::array<char, 64> buf{};
    udp::endpoint from;
    const std::size_t n = co_await b.receive_from(asio::buffer(buf), from);
    CHECK(text(buf, n) == hello);
    CHECK(from == a.local_endpoint());

    // The error_code forms clear a stale error on success.
    std::error_code ec = asio::error::eof;
    const std::size_t sent2 = co_await b.send_to(asio::buffer(std::string("world")), from, ec);
    CHECK(!ec);
    CHECK(sent2 == 5);
    ec = asio::error::eof;
    const std::size_t n2 = co_await a.receive_from(asio::buffer(buf), from, ec);
    CHECK(!ec);
    CHECK(text(buf, n2) == "world");
    CHECK(from == b.local_endpoint());
  }());
}

TEST_CASE("an empty datagram yields 0; a datagram longer than the buffer is truncated", "[udp]") {
  asio::io_context ctx(1);
  udp::socket a(ctx, loopback_any_port());
  udp::socket b(ctx, loopback_any_port());
  coronet::sync_wait(ctx, [&]() -> task<void> {
    co_await a.send_to(asio::const_buffer(), b.local_endpoint());
    co_await a.send_to(asio::buffer(std::string("0123456789")), b.local_endpoint());
    std::array<char, 64> buf{};
    udp::endpoint from;
    const std::size_t empty = co_await b.receive_from(asio::buffer(buf), from);
    CHECK(empty == 0);
    const std::size_t truncated = co_await b.receive_from(asio::buffer(buf.data(), 4), from);
    CHECK(truncated == 4);
    CHECK(text(buf, truncated) == "0123");
  }());
}

TEST_CASE("several receives pending on one socket each get one datagram", "[udp]") {
  asio::io_context ctx(1);
  udp::socket a(ctx, loopback_any_port());
  udp::socket b(ctx, loopback_any_port());
  std::vector<std::string> got;
  for (int i = 0; i < 3; ++i) {
    coronet::spawn(ctx, [&]() -> task<void> {
      std::array<char, 64> buf{};
      udp::endpoint from;
      const std::size_t n = co_await b.receive_from(asio::buffer(buf), from);
      got.push_back(text(buf, n));
    });
  }
  coronet::sync_wait(ctx, [&]() -> task<void> {
    co_await coronet::yield();  // the three receives are pending now
    for (const char* s : {"x", "yy", "zzz"})
      co_await a.send_to(asio::buffer(std::string(s)), b.local_endpoint());
    while (got.size() < 3)
      co_await coronet::yield();
  }());
  std::sort(got.begin(), got.end());
  CHECK(got == std::vector<std::string>{"x", "yy", "zzz"});
}

TEST_CASE("with_timeout cancels a pending receive_from through the chain's slot", "[udp][cancel]") {
  asio::io_context ctx(1);
  udp::socket s(ctx, loopback_any_port());
  coronet::sync_wait(ctx, [&]() -> task<void> {
    std::array<char, 64> buf{};
    udp::endpoint from;
    std::error_code thrown;
    try {
      co_await coronet::with_timeout(
          [&]() -> task<std::size_t> {
            co_return co_await s.receive_from(asio::buffer(buf), from);
          }(),
          10ms);
    } catch (const std::system_error& e) {
      thrown = e.code();
    }
    CHECK(thrown == coronet::errc::timeout);

    // The error_code form learns that the deadline cancelled it; the task then ends normally.
    std::error_code ec;
    const std::size_t n = co_await coronet::with_timeout(
        [&]() -> task<std::size_t> {
          co_return co_await s.receive_from(asio::buffer(buf), from, ec);
        }(),
        10ms);
    CHECK(n == 0);
    CHECK(ec == coronet::errc::timeout);
  }());
  CHECK(s.is_open());
}

TEST_CASE("close() completes a pending receive_from with operation_aborted", "[udp][cancel]") {
  asio::io_context ctx(1);
  udp::socket s(ctx, loopback_any_port());
  std::error_code seen;
  bool done = false;
  coronet::spawn(ctx, [&]() -> task<void> {
    std::array<char, 64> buf{};
    udp::endpoint from;
    try {
      co_await s.receive_from(asio::buffer(buf), from);
    } catch (const std::system_error& e) {
      seen = e.code();
    }
    done = true;
  });
  coronet::sync_wait(ctx, [&]() -> task<void> {
    co_await coronet::yield();
    s.close();
    while (!done)
      co_await coronet::yield();
  }());
  CHECK(seen == asio::error::operation_aborted);
  CHECK_FALSE(s.is_open());
}

TEST_CASE("send_to of a datagram too large for UDP fails with message_size", "[udp][errors]") {
  asio::io_context ctx(1);
  udp::socket a(ctx, loopback_any_port());
  udp::socket b(ctx, loopback_any_port());
  coronet::sync_wait(ctx, [&]() -> task<void> {
    const std::vector<char> huge(70'000, 'x');
    std::error_code thrown;
    try {
      co_await a.send_to(asio::buffer(huge), b.local_endpoint());
    } catch (const std::system_error& e) {
      thrown = e.code();
    }
    CHECK(thrown == asio::error::message_size);
    std::error_code ec;
    const std::size_t n = co_await a.send_to(asio::buffer(huge), b.local_endpoint(), ec);
    CHECK(ec == asio::error::message_size);
    CHECK(n == 0);
  }());
}

TEST_CASE("binding a UDP port in use fails in the constructor", "[udp][errors]") {
  asio::io_context ctx(1);
  udp::socket a(ctx, loopback_any_port());
  std::error_code thrown;
  try {
    udp::socket b(ctx, a.local_endpoint());
  } catch (const std::system_error& e) {
    thrown = e.code();
  }
  CHECK(thrown == asio::error::address_in_use);
}

TEST_CASE("two sockets with reuse_port share one port", "[udp]") {
  asio::io_context ctx(1);
  udp::socket::options opts;
  opts.reuse_port = true;
  udp::socket a(ctx, loopback_any_port(), opts);
  udp::socket b(ctx, a.local_endpoint(), opts);
  CHECK(a.port() == b.port());
}

TEST_CASE("an io_context destroyed with a receive pending frees the suspended chain", "[udp][lifetime]") {
  int destroyed = 0;
  {
    asio::io_context ctx(1);
    udp::socket s(ctx, loopback_any_port());
    coronet::spawn(ctx, [&]() -> task<void> {
      destroy_counter guard(&destroyed);
      std::array<char, 64> buf{};
      udp::endpoint from;
      co_await s.receive_from(asio::buffer(buf), from);
    });
    ctx.run_one();  // starts the task, which suspends in receive_from
    CHECK(destroyed == 0);
    s.close();
  }
  CHECK(destroyed == 1);
}

TEST_CASE("a UDP send_to + receive_from ping-pong allocates nothing in steady state", "[udp][alloc]") {
  asio::io_context ctx(1);
  udp::socket a(ctx, loopback_any_port());
  udp::socket b(ctx, loopback_any_port());
  // The peer echoes every datagram back to its sender.
  coronet::spawn(ctx, [&b]() -> task<void> {
    std::array<char, 64> buf;
    udp::endpoint from;
    std::error_code ec;
    for (;;) {
      const std::size_t n = co_await b.receive_from(asio::buffer(buf), from, ec);
      if (ec)
        co_return;
      co_await b.send_to(asio::buffer(buf.data(), n), from);
    }
  });
  const udp::endpoint peer = b.local_endpoint();
  auto round_trip = [&a, peer](int i) -> task<void> {
    const char out = static_cast<char>(i);
    char in = 0;
    udp::endpoint from;
    co_await a.send_to(asio::buffer(&out, 1), peer);
    co_await a.receive_from(asio::buffer(&in, 1), from);
    if (in != out)
      throw std::runtime_error("echo mismatch");
  };
  const std::size_t allocations = coronet::sync_wait(ctx, [&]() -> task<std::size_t> {
    for (int i = 0; i < 100; ++i)
      co_await round_trip(i);
    coronet_test::new_call_counter counter;
    for (int i = 0; i < 10'000; ++i)
      co_await round_trip(i);
    co_return counter.count();
  }());
  CHECK(allocations == 0);
  b.close();
  ctx.run();
}

TEST_CASE("a task makes UDP sockets from co_await this_executor", "[udp][executor]") {
  asio::io_context ctx(1);
  auto body = []() -> task<std::string> {
    udp::socket a(co_await coronet::this_executor, loopback_any_port());
    udp::socket b(co_await coronet::this_executor, loopback_any_port());
    udp::socket unopened(co_await coronet::this_executor);
    CHECK(!unopened.is_open());
    co_await a.send_to(asio::buffer(std::string("hi")), b.local_endpoint());
    std::array<char, 64> buf{};
    udp::endpoint from;
    const std::size_t n = co_await b.receive_from(asio::buffer(buf), from);
    co_return text(buf, n);
  };
  CHECK(coronet::sync_wait(ctx, body()) == "hi");
}
