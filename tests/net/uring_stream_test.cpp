// Tests for tcp::socket on the io_uring ring (coronet/net/detail/ring_transport.hpp) under coronet's own
// awaiters (net/detail/stream_ops.hpp), on TCP loopback: bytes both ways, the end of the
// stream, with_timeout's cancellation, close with a read in flight, and a write larger than the
// socket buffers (asio::async_write over the ring's partial sends).
#include "net/uring/uring_service.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <stdexcept>
#include <system_error>

#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/write.hpp>

#include "coronet/core/error.hpp"
#include "coronet/core/sync_wait.hpp"
#include "coronet/core/task.hpp"
#include "coronet/core/when_all.hpp"
#include "coronet/net/timeout.hpp"

// Never co_await inside a Catch macro: the macro repeats its expression in a
// short-circuited `false && (...)`, and g++ 12 still runs a co_await there.

#include "support/loopback_pair.hpp"
#include "support/ring_socket.hpp"

namespace net_uring_stream_test {

namespace {

using namespace std::chrono_literals;
using coronet::task;
namespace uring = coronet::detail::uring;

using coronet_test::make_ring_pair;
using coronet_test::ring_pair;

bool usable() {
  const auto& k = uring::probe();
  if (!k.usable)
    WARN("io_uring is not usable here: " << k.why);
  return k.usable;
}

const uring::service_stats& ring_stats(asio::io_context& ctx) { return asio::use_service<uring::service>(ctx).stats(); }

// Runs `body(ctx, pair)` on a fresh io_context with a connected pair whose server end uses the
// ring, where io_uring is usable.
template <class Body>
void with_ring_pair(Body body) {
  if (!usable())
    return;
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    ring_pair p = co_await make_ring_pair(ctx);
    co_await body(ctx, p);
  }());
}

}  // namespace

TEST_CASE("reads and writes through the ring carry bytes both ways") {
  with_ring_pair([](asio::io_context& ctx, ring_pair& p) -> task<void> {
    co_await p.client.write_all(asio::buffer(std::string("ping")));
    std::array<char, 16> got{};
    const std::size_t n = co_await p.server.read_some(asio::buffer(got));
    CHECK(std::string(got.data(), n) == "ping");
    const std::size_t completions = ring_stats(ctx).completions;
    CHECK(completions >= 1);  // the read went through the ring
    co_await p.server.write_all(asio::buffer(std::string("pong")));
    const std::string back = co_await coronet_test::read_exactly(p.client, 4);
    CHECK(back == "pong");
    // read_exact is asio::async_read over the stream's async_read_some.
    co_await p.client.write_all(asio::buffer(std::string("abcdef")));
    std::array<char, 6> six{};
    co_await p.server.read_exact(asio::buffer(six));
    CHECK(std::string(six.data(), six.size()) == "abcdef");
  });
}

TEST_CASE("the end of the stream reads as eof") {
  with_ring_pair([](asio::io_context&, ring_pair& p) -> task<void> {
    p.client.close();
    std::array<char, 8> got{};
    std::error_code ec;
    const std::size_t n = co_await p.server.read_some(asio::buffer(got), ec);
    CHECK(n == 0);
    CHECK(ec == asio::error::eof);
  });
}

TEST_CASE("with_timeout cancels a read in the ring") {
  with_ring_pair([](asio::io_context& ctx, ring_pair& p) -> task<void> {
    std::array<char, 8> got{};
    std::error_code ec;
    try {
      co_await coronet::with_timeout([&]() -> task<std::size_t> { co_return co_await p.server.read_some(asio::buffer(got)); }(),
                                     50ms);
    } catch (const std::system_error& e) {
      ec = e.code();
    }
    CHECK(ec == coronet::errc::timeout);
    CHECK(asio::use_service<uring::service>(ctx).in_flight() == 0);
    // The stream still works after the cancelled read.
    co_await p.client.write_all(asio::buffer(std::string("late")));
    const std::size_t n = co_await p.server.read_some(asio::buffer(got));
    CHECK(std::string(got.data(), n) == "late");
  });
}

TEST_CASE("closing the stream ends its read in flight with operation_aborted") {
  with_ring_pair([](asio::io_context&, ring_pair& p) -> task<void> {
    std::array<char, 8> got{};
    std::error_code read_ec;
    auto reader = [&]() -> task<void> { co_await p.server.read_some(asio::buffer(got), read_ec); };
    auto closer = [&]() -> task<void> {
      std::error_code ignored;
      p.server.native().close(ignored);
      co_return;
    };
    co_await coronet::when_all(reader(), closer());
    CHECK(read_ec == asio::error::operation_aborted);
    CHECK(!p.server.native().is_open());
  });
}

TEST_CASE("a write larger than the socket buffers goes out whole, in order") {
  with_ring_pair([](asio::io_context&, ring_pair& p) -> task<void> {
    const std::string big = coronet_test::patterned_bytes(8 * 1024 * 1024);
    std::string got;
    auto writer = [&]() -> task<void> { co_await p.server.write_all(asio::buffer(big)); };
    auto reader = [&]() -> task<void> { got = co_await coronet_test::read_exactly(p.client, big.size()); };
    co_await coronet::when_all(writer(), reader());
    CHECK(got.size() == big.size());
    CHECK(got == big);
  });
}

TEST_CASE("destroying the stream with a read and a write in flight ends both, touching nothing freed") {
  with_ring_pair([](asio::io_context&, ring_pair& p) -> task<void> {
    auto server = std::make_unique<coronet::tcp::socket>(std::move(p.server));
    const std::string big = coronet_test::patterned_bytes(16 * 1024 * 1024);  // more than the buffers take
    std::array<char, 8> got{};
    std::error_code read_ec;
    std::error_code write_ec;
    coronet::tcp::socket* s = server.get();
    // Neither touches the stream after its operation ends: it is gone by then.
    auto reader = [&read_ec, &got, s]() -> task<void> { co_await s->read_some(asio::buffer(got), read_ec); };
    auto writer = [&write_ec, &big, s]() -> task<void> { co_await s->write_all(asio::buffer(big), write_ec); };
    auto destroyer = [&server]() -> task<void> {
      server.reset();
      co_return;
    };
    co_await coronet::when_all(reader(), writer(), destroyer());
    CHECK(read_ec == asio::error::operation_aborted);
    CHECK(write_ec == asio::error::operation_aborted);
  });
}

TEST_CASE("an empty read or write completes at once with 0 on the ring too") {
  with_ring_pair([](asio::io_context&, ring_pair& p) -> task<void> {
    std::error_code ec = asio::error::eof;
    const std::size_t r = co_await p.server.read_some(asio::mutable_buffer(), ec);
    CHECK(r == 0);
    CHECK(!ec);
    co_await p.server.read_exact(asio::mutable_buffer());
  });
  if (!usable())
    return;
  // An empty async_write_some: not inside the call, then (no error, 0).
  asio::io_context ctx(1);
  ring_pair p = coronet::sync_wait(ctx, make_ring_pair(ctx));
  bool called = false;
  bool inside = false;
  std::error_code ec = asio::error::eof;
  std::size_t n = 1;
  // Started on the io_context's thread, as the ring wants.
  asio::post(ctx, [&] {
    p.server.native().async_write_some(asio::const_buffer(), [&](std::error_code e, std::size_t k) {
      called = true;
      ec = e;
      n = k;
    });
    inside = called;
  });
  ctx.restart();
  ctx.run();
  CHECK(!inside);
  CHECK(called);
  CHECK(!ec);
  CHECK(n == 0);
}

TEST_CASE("a second read while one is in the ring is refused, the first goes on") {
  with_ring_pair([](asio::io_context&, ring_pair& p) -> task<void> {
    std::array<char, 8> got{};
    std::size_t n = 0;
    auto reader = [&]() -> task<void> { n = co_await p.server.read_some(asio::buffer(got)); };
    auto second = [&]() -> task<void> {
      std::array<char, 8> other{};
      CHECK_THROWS_AS(p.server.native().async_read_some(asio::buffer(other), [](std::error_code, std::size_t) {}),
                      std::logic_error);
      co_await p.client.write_all(asio::buffer(std::string("x")));
    };
    co_await coronet::when_all(reader(), second());
    CHECK(n == 1);
  });
}

TEST_CASE("closing in the turn a send was queued ends it with operation_aborted") {
  if (!usable())
    return;
  asio::io_context ctx(1);
  ring_pair p = coronet::sync_wait(ctx, make_ring_pair(ctx));
  // The send is queued, not yet in the kernel, when close cancels it: the kernel may still
  // run it first, but the socket is gone for the caller, which must hear so.
  bool called = false;
  std::error_code ec;
  const std::string hello = "hello";
  asio::post(ctx, [&] {
    p.server.native().async_write_some(asio::buffer(hello), [&](std::error_code e, std::size_t) {
      called = true;
      ec = e;
    });
    std::error_code ignored;
    p.server.native().close(ignored);
  });
  ctx.restart();
  ctx.run();  // returns once the ring has nothing in flight
  CHECK(called);
  CHECK(ec == asio::error::operation_aborted);
}

TEST_CASE("a completion handler that throws leaves run() with its exception") {
  if (!usable())
    return;
  asio::io_context ctx(1);
  ring_pair p = coronet::sync_wait(ctx, make_ring_pair(ctx));
  asio::write(p.client.native(), asio::buffer(std::string("x")));
  std::array<char, 8> got{};
  asio::post(ctx, [&] {
    p.server.native().async_read_some(asio::buffer(got), [](std::error_code, std::size_t) {
      throw std::runtime_error("thrown by a completion handler");
    });
  });
  ctx.restart();
  CHECK_THROWS_WITH(ctx.run(), "thrown by a completion handler");
}

}  // namespace net_uring_stream_test
