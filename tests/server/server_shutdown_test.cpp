// Shutdown of a server whose handler spawned a task the server does not own
// (issue 13): stop() and the first signal are bounded by drain_timeout, a
// second signal (SIGTERM or SIGINT) ends run() with 1 at once. The signal
// cases run coronet_test_server in a child process.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <future>
#include <string>
#include <string_view>
#include <system_error>

#include <asio/ip/address_v4.hpp>
#include <asio/read_until.hpp>

#include "runtime/worker_pool.hpp"
#include "coronet/command/router.hpp"
#include "coronet/server/server.hpp"
#include "coronet/net/connect.hpp"
#include "coronet/net/socket.hpp"
#include "coronet/net/timeout.hpp"
#include "coronet/net/timer.hpp"
#include "coronet/core/spawn.hpp"
#include "coronet/core/sync_wait.hpp"
#include "support/server_process.hpp"

namespace server_server_shutdown_test {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using coronet::task;
using coronet_test::server_process;

namespace {

// The margin over the documented bound (drain_timeout + cancel_grace) a loaded
// or sanitized run may need to notice and return.
constexpr auto margin = 3s;

double ms_since(steady::time_point t0) { return std::chrono::duration<double, std::milli>(steady::now() - t0).count(); }

// Sends `spawn_sleeper` (as RESP, which every wire protocol but raw answers)
// and yields the reply line; throws after 5 s.
task<std::string> call_spawn_sleeper(std::uint16_t port) {
  coronet::tcp::socket s = co_await coronet::tcp::connect("127.0.0.1", port);
  co_await s.write_all(asio::buffer(std::string_view("*1\r\n$13\r\nspawn_sleeper\r\n")));
  std::string buf;
  const std::size_t n = co_await coronet::with_timeout(
      [](coronet::tcp::socket& sock, std::string& b) -> task<std::size_t> {
        co_return co_await sock.read_until(asio::dynamic_buffer(b), "\r\n");
      }(s, buf),
      5s);
  co_return buf.substr(0, n - 2);
}

// True once the server refuses connections (its drain has begun); false after 3 s.
task<bool> drain_began(std::uint16_t port) {
  const auto deadline = steady::now() + 3s;
  while (steady::now() < deadline) {
    std::error_code ec;
    coronet::tcp::socket probe(co_await coronet::this_executor);
    co_await probe.connect({asio::ip::address_v4::loopback(), port}, ec);
    if (ec == asio::error::connection_refused)
      co_return true;
    co_await coronet::sleep_for(10ms);
  }
  co_return false;
}

coronet::router sleeper_router() {
  coronet::router r;
  r.add(
      "spawn_sleeper", "spawns an hour-long task outside the server",
      [](coronet::request&) -> task<coronet::reply> {
        coronet::spawn(co_await coronet::this_executor, []() -> task<void> { co_await coronet::sleep_for(1h); });
        co_return coronet::reply::text("OK");
      },
      coronet::arity::exactly(0));
  return r;
}

}  // namespace

TEST_CASE("stop() returns run() within drain_timeout although a handler spawned an hour-long task",
          "[server][shutdown]") {
  constexpr auto drain_timeout = 200ms;
  const coronet::router r = sleeper_router();
  coronet::server_options o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.threads = 2;
  o.drain_timeout = drain_timeout;
  // Declared before the server, whose destructor force-stops a run() that did not return.
  std::future<int> run;
  coronet::server srv(r, o);
  run = std::async(std::launch::async, [&srv] { return srv.run(); });
  // Both workers' executors get a sleeper (connections spread over the threads by SO_REUSEPORT; two per worker on
  // average is enough: one suffices for the bound).
  for (int i = 0; i < 4; ++i)
    CHECK(coronet::sync_wait(call_spawn_sleeper(srv.port())) == "+OK");
  const auto t0 = steady::now();
  srv.stop();
  REQUIRE(run.wait_for(drain_timeout + coronet::detail::worker_pool::cancel_grace + margin) ==
          std::future_status::ready);
  CHECK(run.get() == 0);
  std::printf("measured: stop() with stray sleepers returned after %.0f ms (drain_timeout 200 ms)\n", ms_since(t0));
  CHECK(steady::now() - t0 >= drain_timeout);
}

TEST_CASE("SIGTERM with a spawned hour-long task: the process exits 0 once drain_timeout has passed",
          "[server][shutdown]") {
  server_process srv({"--spawn-sleeper", "--drain-timeout-ms", "300"});
  REQUIRE(coronet::sync_wait(call_spawn_sleeper(srv.port())) == "+OK");
  const auto t0 = steady::now();
  srv.signal(SIGTERM);
  CHECK(srv.wait(300ms + coronet::detail::worker_pool::cancel_grace + margin) == 0);
  std::printf("measured: SIGTERM with a stray sleeper exited after %.0f ms (drain_timeout 300 ms)\n", ms_since(t0));
  CHECK(steady::now() - t0 >= 300ms);
}

TEST_CASE("a second signal during the drain exits 1 at once although a handler spawned an hour-long task",
          "[server][shutdown]") {
  const int second = GENERATE(SIGTERM, SIGINT);
  CAPTURE(second);
  server_process srv({"--spawn-sleeper", "--drain-timeout-ms", "60000"});
  REQUIRE(coronet::sync_wait(call_spawn_sleeper(srv.port())) == "+OK");
  srv.signal(SIGTERM);
  REQUIRE(coronet::sync_wait(drain_began(srv.port())));
  const auto t0 = steady::now();
  srv.signal(second);
  CHECK(srv.wait(margin) == 1);
  std::printf("measured: second signal (%d) exited 1 after %.0f ms\n", second, ms_since(t0));
  CHECK(steady::now() - t0 < 1s);
}

}  // namespace server_server_shutdown_test
