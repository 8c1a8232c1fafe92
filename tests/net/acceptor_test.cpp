// Tests for coronet/net/acceptor.hpp: binding, accepting, cancelling and closing on loopback.
#include "coronet/net/acceptor.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <string>
#include <system_error>
#include <utility>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/address_v4.hpp>
#include <asio/ip/address_v6.hpp>

#include "coronet/core/error.hpp"
#include "coronet/net/socket.hpp"
#include "coronet/net/timeout.hpp"
#include "coronet/core/spawn.hpp"
#include "coronet/core/sync_wait.hpp"
#include "coronet/core/task.hpp"
#include "coronet/core/task_group.hpp"
#include "coronet/core/when_all.hpp"
#include "coronet/net/yield.hpp"

// Never co_await inside a Catch macro: the macro repeats its expression in a
// short-circuited `false && (...)`, and g++ 12 still runs a co_await there.

#include "support/cancellable_run.hpp"
#include "support/ipv6_loopback.hpp"
#include "support/wait_helpers.hpp"

namespace net_acceptor_test {

namespace {

using namespace std::chrono_literals;
using coronet::task;
namespace tcp = coronet::tcp;
using clock_type = std::chrono::steady_clock;

tcp::endpoint loopback_v4_any_port() { return {asio::ip::address_v4::loopback(), 0}; }

using coronet_test::destroy_counter;
using coronet_test::run_until;
using coronet_test::wait_until;

}  // namespace

TEST_CASE("an acceptor bound to port 0 reports the real port", "[acceptor]") {
  asio::io_context ctx(1);
  tcp::acceptor acceptor(ctx, loopback_v4_any_port());
  CHECK(acceptor.is_open());
  CHECK(acceptor.port() != 0);
  CHECK(acceptor.local_endpoint().port() == acceptor.port());
  CHECK(acceptor.local_endpoint().address() == asio::ip::address_v4::loopback());
}

TEST_CASE("accept yields a connected socket, in both forms", "[acceptor]") {
  asio::io_context ctx(1);
  tcp::acceptor acceptor(ctx, loopback_v4_any_port());
  coronet::sync_wait(ctx, [&]() -> task<void> {
    tcp::socket client(ctx);
    co_await client.connect(acceptor.local_endpoint());
    tcp::socket server = co_await acceptor.accept();
    REQUIRE(server.is_open());
    CHECK(server.remote_endpoint() == client.local_endpoint());

    co_await client.write_all(asio::buffer(std::string("ping")));
    std::array<char, 4> buf{};
    co_await server.read_exact(asio::buffer(buf));
    CHECK(std::string(buf.data(), buf.size()) == "ping");

    // The error_code form clears a stale error on success.
    tcp::socket client2(ctx);
    co_await client2.connect(acceptor.local_endpoint());
    std::error_code ec = asio::error::eof;
    tcp::socket server2 = co_await acceptor.accept(ec);
    CHECK(!ec);
    CHECK(server2.is_open());
    CHECK(server2.remote_endpoint() == client2.local_endpoint());
  }());
}

TEST_CASE("accept waits for a connection that arrives later", "[acceptor]") {
  asio::io_context ctx(1);
  tcp::acceptor acceptor(ctx, loopback_v4_any_port());
  coronet::sync_wait(ctx, [&]() -> task<void> {
    bool accepting = false;
    tcp::endpoint accepted_peer;
    auto server = [&]() -> task<void> {
      accepting = true;
      tcp::socket s = co_await acceptor.accept();
      accepted_peer = s.remote_endpoint();
    };
    tcp::socket client(ctx);
    auto connector = [&]() -> task<void> {
      CHECK(accepting);
      co_await client.connect(acceptor.local_endpoint());
    };
    co_await coronet::with_timeout(coronet::when_all(server(), connector()), 5s);
    CHECK(accepted_peer == client.local_endpoint());
  }());
}

TEST_CASE("an IPv6 acceptor on ::1 accepts", "[acceptor][ipv6]") {
  if (coronet_test::skip_without_ipv6_loopback("IPv6 acceptor test"))
    return;
  asio::io_context ctx(1);
  tcp::acceptor acceptor(ctx, tcp::endpoint(asio::ip::address_v6::loopback(), 0));
  CHECK(acceptor.port() != 0);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    tcp::socket client(ctx);
    co_await client.connect(acceptor.local_endpoint());
    tcp::socket server = co_await acceptor.accept();
    CHECK(server.remote_endpoint() == client.local_endpoint());
    CHECK(server.local_endpoint().address() == asio::ip::address_v6::loopback());
  }());
}

TEST_CASE("with_timeout cancels a pending accept with timed_out; the acceptor keeps working", "[acceptor][cancel]") {
  asio::io_context ctx(1);
  tcp::acceptor acceptor(ctx, loopback_v4_any_port());
  coronet::sync_wait(ctx, [&]() -> task<void> {
    const auto start = clock_type::now();
    std::error_code thrown;
    try {
      co_await coronet::with_timeout(
          [&]() -> task<tcp::socket> {
            co_return co_await acceptor.accept();
          }(),
          20ms);
    } catch (const std::system_error& e) {
      thrown = e.code();
    }
    CHECK(thrown == coronet::errc::timeout);
    CHECK(clock_type::now() - start >= 20ms);
    CHECK(clock_type::now() - start < 2s);

    // The error_code form inside: the inner accept reports the deadline, with a closed socket.
    std::error_code inner_ec;
    tcp::socket none = co_await coronet::with_timeout(
        [&]() -> task<tcp::socket> {
          co_return co_await acceptor.accept(inner_ec);
        }(),
        20ms);
    CHECK(inner_ec == coronet::errc::timeout);
    CHECK_FALSE(none.is_open());

    REQUIRE(acceptor.is_open());
    tcp::socket client(ctx);
    co_await client.connect(acceptor.local_endpoint());
    tcp::socket server = co_await acceptor.accept();
    CHECK(server.remote_endpoint() == client.local_endpoint());
  }());
}

TEST_CASE("task_group::cancel aborts a pending accept promptly with operation_aborted", "[acceptor][cancel]") {
  asio::io_context ctx(1);
  tcp::acceptor acceptor(ctx, loopback_v4_any_port());
  tcp::acceptor acceptor2(ctx, loopback_v4_any_port());
  coronet::sync_wait(ctx, [&]() -> task<void> {
    coronet::task_group group(ctx.get_executor());
    int waiting = 0;
    std::error_code thrown;
    std::error_code returned;
    bool returned_socket_open = true;
    group.spawn([&]() -> task<void> {
      ++waiting;
      try {
        co_await acceptor.accept();
      } catch (const std::system_error& e) {
        thrown = e.code();
      }
    });
    group.spawn([&]() -> task<void> {
      ++waiting;
      tcp::socket s = co_await acceptor2.accept(returned);
      returned_socket_open = s.is_open();
    });
    const bool both_waiting = co_await wait_until([&] { return waiting == 2; });
    REQUIRE(both_waiting);
    const auto start = clock_type::now();
    group.cancel();
    co_await group.join();
    CHECK(clock_type::now() - start < 2s);
    CHECK(thrown == asio::error::operation_aborted);
    CHECK(returned == asio::error::operation_aborted);
    CHECK_FALSE(returned_socket_open);
  }());
}

TEST_CASE("a cancellation slot bound to spawn's completion aborts a pending accept", "[acceptor][cancel]") {
  asio::io_context ctx(1);
  tcp::acceptor acceptor(ctx, loopback_v4_any_port());
  coronet_test::cancellable_run run;
  run.spawn(ctx, [&] { return acceptor.accept(); });
  REQUIRE(run_until(ctx, [&] { return run.started; }));
  CHECK_FALSE(run.done);
  CHECK(run.cancel(ctx) < 2s);
  CHECK(run.thrown == asio::error::operation_aborted);
}

TEST_CASE("close() aborts a pending accept with operation_aborted", "[acceptor][cancel]") {
  asio::io_context ctx(1);
  // Closes `a` from another task while the accept waits.
  auto close_now = [](tcp::acceptor& a) -> task<void> {
    a.close();
    co_return;
  };
  coronet::sync_wait(ctx, [&]() -> task<void> {
    {
      tcp::acceptor acceptor(ctx, loopback_v4_any_port());
      std::error_code thrown;
      auto server = [&]() -> task<void> {
        try {
          co_await acceptor.accept();
        } catch (const std::system_error& e) {
          thrown = e.code();
        }
      };
      co_await coronet::with_timeout(coronet::when_all(server(), close_now(acceptor)), 2s);
      CHECK(thrown == asio::error::operation_aborted);
      CHECK_FALSE(acceptor.is_open());
    }
    {
      tcp::acceptor acceptor(ctx, loopback_v4_any_port());
      std::error_code returned;
      bool socket_open = true;
      auto server = [&]() -> task<void> {
        tcp::socket s = co_await acceptor.accept(returned);
        socket_open = s.is_open();
      };
      co_await coronet::with_timeout(coronet::when_all(server(), close_now(acceptor)), 2s);
      CHECK(returned == asio::error::operation_aborted);
      CHECK_FALSE(socket_open);
    }
  }());
}

TEST_CASE("accept on a closed acceptor fails at once", "[acceptor]") {
  asio::io_context ctx(1);
  tcp::acceptor acceptor(ctx, loopback_v4_any_port());
  acceptor.close();
  coronet::sync_wait(ctx, [&]() -> task<void> {
    std::error_code ec;
    tcp::socket s = co_await acceptor.accept(ec);
    CHECK(ec == asio::error::bad_descriptor);
    CHECK_FALSE(s.is_open());
  }());
}

TEST_CASE("reuse_port lets two acceptors bind the same port", "[acceptor]") {
  asio::io_context ctx(1);
  tcp::acceptor::options opts;
  opts.reuse_port = true;
  tcp::acceptor first(ctx, loopback_v4_any_port(), opts);
  const tcp::endpoint ep = first.local_endpoint();
  tcp::acceptor second(ctx, ep, opts);
  CHECK(second.port() == first.port());

  // A connection to the shared port reaches one of the two.
  coronet::sync_wait(ctx, [&]() -> task<void> {
    tcp::socket client(ctx);
    co_await client.connect(ep);
    tcp::endpoint accepted_peer;
    auto accept_on = [&](tcp::acceptor& a) -> task<void> {
      std::error_code ec;
      tcp::socket s = co_await a.accept(ec);
      if (!ec) {
        accepted_peer = s.remote_endpoint();
        first.close();
        second.close();
      }
    };
    co_await coronet::with_timeout(coronet::when_all(accept_on(first), accept_on(second)), 5s);
    CHECK(accepted_peer == client.local_endpoint());
  }());
}

TEST_CASE("binding a port in use without reuse_port throws address_in_use", "[acceptor]") {
  asio::io_context ctx(1);
  tcp::acceptor first(ctx, loopback_v4_any_port());
  const tcp::endpoint ep = first.local_endpoint();
  std::error_code thrown;
  try {
    tcp::acceptor second(ctx, ep);
  } catch (const std::system_error& e) {
    thrown = e.code();
  }
  CHECK(thrown == asio::error::address_in_use);

  // reuse_port on the second only is not enough: the first did not opt in.
  tcp::acceptor::options opts;
  opts.reuse_port = true;
  thrown.clear();
  try {
    tcp::acceptor third(ctx, ep, opts);
  } catch (const std::system_error& e) {
    thrown = e.code();
  }
  CHECK(thrown == asio::error::address_in_use);
}

TEST_CASE("destroying the io_context frees a task suspended on accept", "[acceptor][lifetime]") {
  int destroyed = 0;
  bool accepting = false;
  bool resumed = false;
  {
    asio::io_context ctx(1);
    coronet::spawn(ctx, [&]() -> task<void> {
      destroy_counter counter(&destroyed);
      tcp::acceptor acceptor(ctx, loopback_v4_any_port());
      accepting = true;
      co_await acceptor.accept();
      resumed = true;
    });
    // The acceptor outlives the task here: it is destroyed before the io_context.
    tcp::acceptor outer(ctx, loopback_v4_any_port());
    bool outer_accepting = false;
    coronet::spawn(ctx, [&]() -> task<void> {
      destroy_counter counter(&destroyed);
      outer_accepting = true;
      co_await outer.accept();
      resumed = true;
    });
    REQUIRE(run_until(ctx, [&] { return accepting && outer_accepting; }));
    ctx.poll();
    CHECK(destroyed == 0);
  }
  CHECK_FALSE(resumed);
  CHECK(destroyed == 2);
}

TEST_CASE("a task makes an acceptor from co_await this_executor", "[acceptor][executor]") {
  asio::io_context ctx(1);
  auto body = []() -> task<bool> {
    tcp::acceptor acc(co_await coronet::this_executor, {asio::ip::address_v4::loopback(), 0});
    tcp::socket client(co_await coronet::this_executor);
    auto accept_one = [](tcp::acceptor& a) -> task<tcp::socket> {
      co_return co_await a.accept();
    };
    auto connect_to = [](tcp::socket& c, std::uint16_t port) -> task<void> {
      co_await c.connect({asio::ip::address_v4::loopback(), port});
    };
    auto [accepted, connected] = co_await coronet::with_timeout(
        coronet::when_all(accept_one(acc), connect_to(client, acc.port())), 5s);
    (void)connected;
    co_return accepted.is_open() && client.is_open();
  };
  CHECK(coronet::sync_wait(ctx, body()));
}

}  // namespace net_acceptor_test
