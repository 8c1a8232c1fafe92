// Tests for coronet/net/connect.hpp: resolving and connecting by host name or numeric address.
#include "coronet/net/connect.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/address_v4.hpp>
#include <asio/ip/address_v6.hpp>
#include <asio/ip/tcp.hpp>

#include "coronet/core/sync_wait.hpp"
#include "coronet/core/task.hpp"
#include "coronet/core/when_all.hpp"
#include "coronet/net/acceptor.hpp"
#include "coronet/net/socket.hpp"
#include "coronet/net/socket_options.hpp"
#include "coronet/net/timeout.hpp"
#include "support/ipv6_loopback.hpp"

namespace net_connect_test {

// Never co_await inside a Catch macro: the macro repeats its expression in a
// short-circuited `false && (...)`, and g++ 12 still runs a co_await there.

namespace {

using namespace std::chrono_literals;
using coronet::task;
namespace tcp = coronet::tcp;

// Connects to `host`:`acceptor.port()` and checks that a byte makes it across.
task<void> connect_and_exchange(asio::io_context& ctx, tcp::acceptor& acceptor, std::string host) {
  tcp::socket client = co_await tcp::connect(ctx.get_executor(), std::move(host), acceptor.port());
  REQUIRE(client.is_open());
  tcp::socket server = co_await acceptor.accept();
  CHECK(server.remote_endpoint() == client.local_endpoint());
  CHECK(client.remote_endpoint() == acceptor.local_endpoint());
  co_await client.write_all(asio::buffer(std::string("x")));
  std::array<char, 1> buf{};
  co_await server.read_exact(asio::buffer(buf));
  CHECK(buf[0] == 'x');
}

}  // namespace

TEST_CASE("connect to a numeric IPv4 address", "[connect]") {
  asio::io_context ctx(1);
  tcp::acceptor acceptor(ctx, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  coronet::sync_wait(ctx, connect_and_exchange(ctx, acceptor, "127.0.0.1"));
}

TEST_CASE("connect to a numeric IPv6 address", "[connect][ipv6]") {
  if (coronet_test::skip_without_ipv6_loopback("IPv6 connect test"))
    return;
  asio::io_context ctx(1);
  tcp::acceptor acceptor(ctx, tcp::endpoint(asio::ip::address_v6::loopback(), 0));
  coronet::sync_wait(ctx, connect_and_exchange(ctx, acceptor, "::1"));
}

TEST_CASE("connect to \"localhost\" goes through the resolver", "[connect]") {
  asio::io_context ctx(1);
  // localhost may resolve to ::1 first; connect must go on to 127.0.0.1 when ::1 refuses.
  tcp::acceptor acceptor(ctx, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  coronet::sync_wait(ctx, connect_and_exchange(ctx, acceptor, "localhost"));
}

TEST_CASE("connect with an error_code clears a stale error on success", "[connect]") {
  asio::io_context ctx(1);
  tcp::acceptor acceptor(ctx, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  coronet::sync_wait(ctx, [&]() -> task<void> {
    for (const char* host : {"127.0.0.1", "localhost"}) {
      INFO(host);
      std::error_code ec = asio::error::eof;
      tcp::socket client = co_await tcp::connect(ctx.get_executor(), host, acceptor.port(), ec);
      CHECK(!ec);
      CHECK(client.is_open());
      tcp::socket server = co_await acceptor.accept();
      CHECK(server.remote_endpoint() == client.local_endpoint());
    }
  }());
}

TEST_CASE("connect to a port nobody listens on fails with connection_refused", "[connect]") {
  asio::io_context ctx(1);
  // Bound but not listening: the port stays ours, and connecting to it is refused.
  asio::ip::tcp::socket holder(ctx, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  const auto port = holder.local_endpoint().port();
  coronet::sync_wait(ctx, [&]() -> task<void> {
    for (const char* host : {"127.0.0.1", "localhost"}) {
      INFO(host);
      std::error_code thrown;
      try {
        co_await tcp::connect(ctx.get_executor(), host, port);
      } catch (const std::system_error& e) {
        thrown = e.code();
      }
      CHECK(thrown == asio::error::connection_refused);

      std::error_code ec;
      tcp::socket s = co_await tcp::connect(ctx.get_executor(), host, port, ec);
      CHECK(ec == asio::error::connection_refused);
      CHECK_FALSE(s.is_open());
    }
  }());
}

TEST_CASE("connect to an IPv6 port nobody listens on fails with connection_refused", "[connect][ipv6]") {
  if (coronet_test::skip_without_ipv6_loopback("IPv6 refusal test"))
    return;
  asio::io_context ctx(1);
  asio::ip::tcp::socket holder(ctx, tcp::endpoint(asio::ip::address_v6::loopback(), 0));
  const auto port = holder.local_endpoint().port();
  coronet::sync_wait(ctx, [&]() -> task<void> {
    std::error_code ec;
    tcp::socket s = co_await tcp::connect(ctx.get_executor(), "::1", port, ec);
    CHECK(ec == asio::error::connection_refused);
    CHECK_FALSE(s.is_open());
  }());
}

TEST_CASE("connect to a name that does not resolve fails with the resolver's error", "[connect]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    // Not a valid host name (empty label), so the resolver fails locally without asking DNS.
    std::error_code ec;
    tcp::socket s = co_await coronet::with_timeout(tcp::connect(ctx.get_executor(), "bad..name", 1, ec), 5s);
    INFO(ec.message());
    CHECK(ec);
    CHECK(ec != asio::error::connection_refused);
    CHECK_FALSE(s.is_open());
  }());
}

TEST_CASE("connect takes co_await this_executor, an io_context or its executor", "[connect][executor]") {
  asio::io_context ctx(1);
  tcp::acceptor acceptor(ctx, {asio::ip::address_v4::loopback(), 0});
  auto body = [&]() -> task<int> {
    int open = 0;
    tcp::socket from_this = co_await tcp::connect(co_await coronet::this_executor, "127.0.0.1", acceptor.port());
    open += from_this.is_open();
    tcp::socket from_ctx = co_await tcp::connect(ctx, "127.0.0.1", acceptor.port());
    open += from_ctx.is_open();
    std::error_code ec;
    tcp::socket from_executor = co_await tcp::connect(ctx.get_executor(), "127.0.0.1", acceptor.port(), ec);
    open += from_executor.is_open() && !ec;
    co_return open;
  };
  CHECK(coronet::sync_wait(ctx, body()) == 3);
}

TEST_CASE("connect given an any_io_executor that is no io_context's throws std::invalid_argument at the call",
          "[connect][executor]") {
  CHECK_THROWS_AS(tcp::connect(asio::any_io_executor{}, "127.0.0.1", 1), std::invalid_argument);
}

TEST_CASE("connect sets TCP_NODELAY unless connect_options::no_delay is false", "[connect][nodelay]") {
  asio::io_context ctx(1);
  tcp::acceptor acceptor(ctx, {asio::ip::address_v4::loopback(), 0});
  auto body = [&]() -> task<void> {
    for (const char* host : {"127.0.0.1", "localhost"}) {
      INFO(host);
      std::error_code ec;
      tcp::socket by_default = co_await tcp::connect(ctx.get_executor(), host, acceptor.port());
      CHECK(tcp::no_delay(by_default, ec));
      CHECK(!ec);
      tcp::socket by_default_ec = co_await tcp::connect(ctx.get_executor(), host, acceptor.port(), ec);
      CHECK(tcp::no_delay(by_default_ec, ec));
      tcp::connect_options off;
      off.no_delay = false;
      tcp::socket without = co_await tcp::connect(ctx.get_executor(), host, acceptor.port(), off);
      CHECK_FALSE(tcp::no_delay(without, ec));
      CHECK(!ec);
      tcp::socket without_ec = co_await tcp::connect(ctx.get_executor(), host, acceptor.port(), off, ec);
      CHECK(!ec);
      CHECK_FALSE(tcp::no_delay(without_ec, ec));
      tcp::socket on_this = co_await tcp::connect(host, acceptor.port());
      CHECK(tcp::no_delay(on_this, ec));
      tcp::socket on_this_without = co_await tcp::connect(host, acceptor.port(), off);
      CHECK_FALSE(tcp::no_delay(on_this_without, ec));
      CHECK(!ec);
    }
  };
  coronet::sync_wait(ctx, body());
}

TEST_CASE("set_no_delay turns TCP_NODELAY on and off; a closed socket reports an error", "[connect][nodelay]") {
  asio::io_context ctx(1);
  tcp::acceptor acceptor(ctx, {asio::ip::address_v4::loopback(), 0});
  auto body = [&]() -> task<void> {
    tcp::socket s = co_await tcp::connect(ctx.get_executor(), "127.0.0.1", acceptor.port());
    std::error_code ec;
    tcp::set_no_delay(s, false, ec);
    CHECK(!ec);
    CHECK_FALSE(tcp::no_delay(s, ec));
    tcp::set_no_delay(s, true, ec);
    CHECK(tcp::no_delay(s, ec));
    s.close();
    tcp::set_no_delay(s, true, ec);
    CHECK(ec);
    CHECK_FALSE(tcp::no_delay(s, ec));
    CHECK(ec);
  };
  coronet::sync_wait(ctx, body());
}

}  // namespace net_connect_test
