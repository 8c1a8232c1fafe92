// The server's HAProxy agent-check port (server_options::agent_port) and
// maintenance mode, over loopback: up, maint, drain, closed after the drain.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <chrono>
#include <future>
#include <string>

#include "coronet/commands/builtins.hpp"
#include "coronet/net/timer.hpp"
#include "coronet/server/server.hpp"
#include "support/eventually.hpp"
#include "support/running_server.hpp"
#include "support/test_commands.hpp"

namespace server_server_agent_check_test {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

coronet::server_options agent_options() {
  coronet::server_options o = coronet_test::test_server_options();
  o.agent_port = 0;
  return o;
}

// `hold`: says it started, then answers HELD once the test releases it.
std::atomic<bool> hold_started{false};
std::atomic<bool> hold_released{false};

coronet::router make_router() {
  coronet::router r;
  coronet::commands::register_builtins(r);
  r.add(
      "hold", "waits until the test releases it, then HELD",
      [](coronet::request&) -> coronet::task<coronet::reply> {
        hold_started = true;
        while (!hold_released)
          co_await coronet::sleep_for(1ms);
        co_return coronet::reply::text("HELD");
      },
      coronet::arity::exactly(0));
  return r;
}

// The shared running server, with the built-ins and `hold`.
struct running_server : coronet_test::running_server {
  explicit running_server(coronet::server_options o) : coronet_test::running_server(std::move(o), make_router()) {}
};

// Connects to 127.0.0.1:port; false if refused.
bool connect(asio::ip::tcp::socket& s, std::uint16_t port) {
  std::error_code ec;
  s.connect({asio::ip::address_v4::loopback(), port}, ec);
  if (ec)
    return false;
  timeval tv{5, 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return true;
}

// What the agent says to one connection, up to its close; "refused" if it
// does not listen, "reset" if the connection was reset instead (the kernel resets
// a connection still in the listener's backlog when the agent port closes).
std::string ask_agent(std::uint16_t port) {
  asio::io_context ctx;
  asio::ip::tcp::socket s(ctx);
  if (!connect(s, port))
    return "refused";
  std::string all;
  std::error_code ec;
  asio::read(s, asio::dynamic_buffer(all), ec);
  if (ec == asio::error::connection_reset)
    return "reset";
  REQUIRE(ec == asio::error::eof);
  return all;
}

using coronet_test::eventually;

}  // namespace

TEST_CASE("no agent port unless asked for", "[server][agent]") {
  coronet::router r;
  coronet::server_options o;
  o.port = 0;
  coronet::server s(r, o);
  CHECK(s.agent_port() == 0);
}

TEST_CASE("the agent answers 'up ready' while serving and 'maint' in maintenance", "[server][agent]") {
  running_server s(agent_options());
  const std::uint16_t agent = s.get().agent_port();
  REQUIRE(agent != 0);
  CHECK(agent != s.get().port());
  CHECK(ask_agent(agent) == "up ready\n");
  CHECK_FALSE(s.get().stats().maintenance);

  s.get().set_maintenance(true);
  CHECK(s.get().maintenance());
  CHECK(s.get().stats().maintenance);
  CHECK(ask_agent(agent) == "maint\n");
  // Maintenance changes what the agent says, nothing else: the port serves.
  {
    asio::io_context ctx;
    asio::ip::tcp::socket c(ctx);
    REQUIRE(connect(c, s.get().port()));
    asio::write(c, asio::buffer(std::string("*1\r\n$5\r\nstats\r\n")));
    std::string reply;
    asio::read_until(c, asio::dynamic_buffer(reply), "$11\r\nmaintenance\r\n:1\r\n");
    CHECK(reply.find("$8\r\ndraining\r\n:0\r\n") != std::string::npos);
  }
  s.get().set_maintenance(false);
  CHECK(ask_agent(agent) == "up ready\n");
  // What HAProxy may send (agent-send) is read and ignored.
  {
    asio::io_context ctx;
    asio::ip::tcp::socket c(ctx);
    REQUIRE(connect(c, agent));
    asio::write(c, asio::buffer(std::string("backend/app1\n")));
    std::string all;
    std::error_code ec;
    asio::read(c, asio::dynamic_buffer(all), ec);
    CHECK(all == "up ready\n");
  }
}

TEST_CASE("during the drain: the listener is closed, the agent says 'drain' until the last request is done",
          "[server][agent]") {
  running_server s(agent_options());
  const std::uint16_t port = s.get().port();
  const std::uint16_t agent = s.get().agent_port();
  asio::io_context ctx;
  asio::ip::tcp::socket busy(ctx);
  REQUIRE(connect(busy, port));
  hold_started = false;
  hold_released = false;
  asio::write(busy, asio::buffer(std::string("hold\r\n")));
  REQUIRE(eventually([&] { return hold_started.load(); }));  // the request is read and running

  const auto start = steady::now();
  s.get().stop();
  CHECK(eventually([&] {
    asio::ip::tcp::socket probe(ctx);
    return !connect(probe, port);
  }));
  CHECK(steady::now() - start < 2s);  // closed at once, not after the request
  CHECK(s.get().draining());
  CHECK(s.get().stats().draining);
  CHECK(ask_agent(agent) == "drain\n");

  // The request in flight finishes and its reply arrives.
  hold_released = true;
  std::string reply;
  asio::read_until(busy, asio::dynamic_buffer(reply), "\r\n");
  CHECK(reply == "+HELD\r\n");
  // Then the agent port closes too, and run() returns 0.
  CHECK(eventually([&] { return ask_agent(agent) == "refused"; }));
  REQUIRE(s.result().wait_for(5s) == std::future_status::ready);
  CHECK(s.result().get() == 0);
}

}  // namespace server_server_agent_check_test
