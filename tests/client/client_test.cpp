// coronet::client against a real coronet::server on loopback: every reply kind,
// pipelining, errors as values or exceptions, timeouts, lost connections, raw mode.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <regex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <asio/error.hpp>

#include "coronet/client/client.hpp"
#include "coronet/command/router.hpp"
#include "coronet/commands/builtins.hpp"
#include "coronet/commands/redis_commands.hpp"
#include "coronet/core/error.hpp"
#include "coronet/core/sync_wait.hpp"
#include "coronet/net/acceptor.hpp"
#include "coronet/net/timer.hpp"
#include "coronet/core/sync_wait.hpp"
#include "support/nested_reply.hpp"
#include "support/run_client.hpp"
#include "support/running_server.hpp"
#include "coronet/server/server.hpp"

namespace client_client_test {

using namespace std::chrono_literals;
using coronet::reply;
using coronet::reply_kind;

// Catch's assertion macros repeat their expression, and g++ 12 evaluates a
// co_await written there a second time, so replies are checked through a local.
#define CHECK_REPLY(expr, expected) \
  do {                              \
    const reply got_ = (expr);      \
    CHECK(got_ == (expected));      \
  } while (false)

namespace {

const std::string binary("a\r\nb\0c\\d", 9);

reply nested_array() { return coronet_test::nested_reply(reply::array({})); }

coronet::router make_router() {
  coronet::router r;
  coronet::commands::register_builtins(r);
  auto constant = [](reply value) {
    return [value](coronet::request&) -> coronet::task<reply> {
      co_return value;
    };
  };
  r.add("t-text", "", constant(reply::text("hello")));
  r.add("t-error", "", constant(reply::error_line("ERR boom")));
  r.add("t-int", "", constant(reply::integer(-42)));
  r.add("t-bulk", "", constant(reply::bulk(binary)));
  r.add("t-array", "", constant(nested_array()));
  r.add("t-null", "", constant(reply::null()));
  r.add("t-big", "", constant(reply::bulk(std::string(300'000, 'b'))));
  r.add("t-peer-port", "",
        [](coronet::request& q) -> coronet::task<reply> { co_return reply::integer(q.conn->peer.port()); });
  r.add("sleep", "sleeps 10 s", [](coronet::request&) -> coronet::task<reply> {
    co_await coronet::sleep_for(10s);
    co_return reply::text("late");
  });
  return r;
}

coronet::server_options default_options() { return coronet_test::quick_stop_options(); }

// The shared running server, with this file's router.
struct test_server : coronet_test::running_server {
  explicit test_server(coronet::server_options options = default_options())
      : coronet_test::running_server(std::move(options), make_router()) {}
};

using coronet_test::run_client;

coronet::task<coronet::client> connect(coronet::tcp::executor_type ex, std::uint16_t port,
                                       coronet::wire_protocol protocol = coronet::wire_protocol::resp,
                                       coronet::client_options options = {}) {
  co_return co_await coronet::client::connect(ex, "127.0.0.1", port, protocol, options);
}

const std::regex ctime_form(
    R"(^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 1-3][0-9] \d\d:\d\d:\d\d \d{4}$)");

}  // namespace

TEST_CASE("over RESP every reply kind arrives as the handler returned it", "[client]") {
  test_server srv;
  run_client([&](auto ex) -> coronet::task<void> {
    coronet::client c = co_await connect(ex, srv.port());
    CHECK(c.protocol() == coronet::wire_protocol::resp);
    CHECK_REPLY(co_await c.call("t-text"), reply::text("hello"));
    CHECK_REPLY(co_await c.call("t-error"), reply::error_line("ERR boom"));
    CHECK_REPLY(co_await c.call("t-int"), reply::integer(-42));
    CHECK_REPLY(co_await c.call("t-bulk"), reply::bulk(binary));
    CHECK_REPLY(co_await c.call("t-array"), nested_array());
    CHECK_REPLY(co_await c.call("t-null"), reply::null());
    const reply big = co_await c.call("t-big");
    CHECK(big == reply::bulk(std::string(300'000, 'b')));
    CHECK_REPLY(co_await c.call("ping"), reply::text("PONG"));
    CHECK_REPLY(co_await c.call("echo", binary), reply::bulk(binary));
    const std::string arg = "x";
    CHECK_REPLY(co_await c.call("ping", arg), reply::bulk("x"));
    CHECK_REPLY(co_await c.call("nosuch"),
                reply::error_line("ERR unknown command 'nosuch', with args beginning with: "));
    CHECK_REPLY(co_await c.call("echo"), reply::error_line("ERR wrong number of arguments for 'echo' command"));
    const std::vector<std::string_view> words{"echo", "from a span"};
    CHECK_REPLY(co_await c.call(words), reply::bulk("from a span"));
    CHECK(c.pending() == 0);
    CHECK(c.is_open());
  });
}

TEST_CASE("over RESP the builtins answer: timestamp, help, stats", "[client]") {
  test_server srv;
  run_client([&](auto ex) -> coronet::task<void> {
    coronet::client c = co_await connect(ex, srv.port());
    const reply ts = co_await c.call("timestamp");
    REQUIRE(ts.kind() == reply_kind::bulk);
    CHECK(std::regex_match(std::string(ts.str()), ctime_form));
    const reply unix_seconds = co_await c.call("timestamp", "unix");
    CHECK(unix_seconds.kind() == reply_kind::bulk);
    CHECK_REPLY(co_await c.call("timestamp", "rfc"), reply::error_line("ERR unknown format 'rfc'"));
    const reply help = co_await c.call("help");
    REQUIRE(help.kind() == reply_kind::array);
    // 6 builtins, the Redis commands, the transaction commands and 9 test commands.
    CHECK(help.elements().size() == 6 + coronet::commands::redis_command_names.size() +
                                        coronet::commands::redis_transaction_command_names.size() + 9);
    const reply stats = co_await c.call("stats");
    REQUIRE(stats.kind() == reply_kind::array);
    REQUIRE(stats.elements().size() == 26);
    CHECK(stats.elements()[0] == reply::bulk("connections_now"));
    CHECK(stats.elements()[1] == reply::integer(1));
    CHECK(stats.elements()[6] == reply::bulk("requests"));
    CHECK(stats.elements()[7].integer() == 4);  // counted once replied: this one is not yet
    CHECK(stats.elements()[8] == reply::bulk("errors"));
    CHECK(stats.elements()[9].integer() >= 1);
    CHECK(stats.elements()[10] == reply::bulk("bytes_in"));
    CHECK(stats.elements()[11].integer() > 0);
    CHECK(stats.elements()[14] == reply::bulk("uptime_seconds"));
    CHECK(stats.elements()[15].kind() == reply_kind::integer);
    CHECK(stats.elements()[16] == reply::bulk("proxy_header_errors"));
    CHECK(stats.elements()[17] == reply::integer(0));
    CHECK(stats.elements()[18] == reply::bulk("draining"));
    CHECK(stats.elements()[19] == reply::integer(0));
    CHECK(stats.elements()[20] == reply::bulk("maintenance"));
    CHECK(stats.elements()[21] == reply::integer(0));
    CHECK(stats.elements()[22] == reply::bulk("proxy_health_checks"));
    CHECK(stats.elements()[23] == reply::integer(0));
    CHECK(stats.elements()[24] == reply::bulk("security_attacks"));
    CHECK(stats.elements()[25] == reply::integer(0));
  });
}

TEST_CASE("call_checked throws command_failed for an error reply", "[client]") {
  test_server srv;
  run_client([&](auto ex) -> coronet::task<void> {
    coronet::client c = co_await connect(ex, srv.port());
    CHECK_REPLY(co_await c.call_checked("ping"), reply::text("PONG"));
    try {
      co_await c.call_checked("t-error");
      FAIL("no exception");
    } catch (const coronet::command_failed& e) {
      CHECK(std::string(e.what()) == "ERR boom");
    }
    try {
      const std::vector<std::string_view> words{"nosuch", "arg"};
      co_await c.call_checked(words);
      FAIL("no exception");
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()) == "ERR unknown command 'nosuch', with args beginning with: 'arg' ");
    }
    // The connection is still usable after an error reply.
    CHECK_REPLY(co_await c.call_checked("echo", "still here"), reply::bulk("still here"));
  });
}

TEST_CASE("1000 pipelined requests get their replies in order", "[client]") {
  test_server srv;
  run_client([&](auto ex) -> coronet::task<void> {
    coronet::client c = co_await connect(ex, srv.port());
    constexpr int n = 1000;
    for (int i = 0; i < n; ++i)
      c.send("echo", std::to_string(i));
    CHECK(c.pending() == n);
    co_await c.flush();
    int in_order = 0;
    for (int i = 0; i < n; ++i)
      if (co_await c.receive() == reply::bulk(std::to_string(i)))
        ++in_order;
    CHECK(in_order == n);
    CHECK(c.pending() == 0);
    CHECK_REPLY(co_await c.call("ping"), reply::text("PONG"));
  });
}

TEST_CASE("receive writes queued requests itself", "[client]") {
  test_server srv;
  run_client([&](auto ex) -> coronet::task<void> {
    coronet::client c = co_await connect(ex, srv.port());
    c.send("t-int");
    c.send("t-null");
    CHECK_REPLY(co_await c.receive(), reply::integer(-42));
    CHECK_REPLY(co_await c.receive(), reply::null());
  });
}

TEST_CASE("misuse is refused at once: receive with nothing sent, call with replies pending", "[client]") {
  test_server srv;
  run_client([&](auto ex) -> coronet::task<void> {
    coronet::client c = co_await connect(ex, srv.port());
    CHECK_THROWS_AS(c.receive(), std::logic_error);
    CHECK_THROWS_AS(c.send(std::span<const std::string_view>{}), std::invalid_argument);
    CHECK_THROWS_AS(c.send(""), std::invalid_argument);
    c.send("ping");
    CHECK_THROWS_AS(c.call("ping"), std::logic_error);
    CHECK_REPLY(co_await c.receive(), reply::text("PONG"));
    CHECK_REPLY(co_await c.call("ping"), reply::text("PONG"));
  });
}

TEST_CASE("over the line protocol replies come back as text, errors as errors", "[client]") {
  // `auto` serves RESP (inline commands included); line must be chosen.
  coronet::server_options options = default_options();
  options.protocol = coronet::wire_protocol::line;
  test_server srv(options);
  run_client([&](auto ex) -> coronet::task<void> {
    coronet::client c = co_await connect(ex, srv.port(), coronet::wire_protocol::line);
    CHECK_REPLY(co_await c.call("ping"), reply::text("PONG"));
    CHECK_REPLY(co_await c.call("PING", "hello"), reply::text("hello"));
    CHECK_REPLY(co_await c.call("t-error"), reply::error_line("ERR boom"));
    CHECK_REPLY(co_await c.call("t-int"), reply::text("-42"));
    CHECK_REPLY(co_await c.call("t-bulk"), reply::text(binary));
    CHECK_REPLY(co_await c.call("t-null"), reply::text("(nil)"));
    CHECK_REPLY(co_await c.call("t-array"), reply::text("x 1 y (nil) "));
    CHECK_REPLY(co_await c.call("nosuch"),
                reply::error_line("ERR unknown command 'nosuch', with args beginning with: "));
    const reply ts = co_await c.call("timetampe");
    CHECK(std::regex_match(std::string(ts.str()), ctime_form));
    CHECK_THROWS_AS(c.call("echo", "two words"), std::invalid_argument);
    CHECK_THROWS_AS(c.send("echo", "cr\r"), std::invalid_argument);
    CHECK_THROWS_AS(c.send("echo", ""), std::invalid_argument);
    CHECK(c.pending() == 0);
    for (int i = 0; i < 100; ++i)
      c.send("echo", std::to_string(i));
    int in_order = 0;
    for (int i = 0; i < 100; ++i)
      if (co_await c.receive() == reply::text(std::to_string(i)))
        ++in_order;
    CHECK(in_order == 100);
    bool thrown = false;
    try {
      co_await c.call_checked("t-error");
    } catch (const coronet::command_failed&) {
      thrown = true;
    }
    CHECK(thrown);
  });
}

TEST_CASE("a reply slower than the client's request_timeout throws timed_out and closes the client", "[client]") {
  test_server srv;
  run_client([&](auto ex) -> coronet::task<void> {
    coronet::client_options opts;
    opts.request_timeout = 50ms;
    coronet::client c = co_await connect(ex, srv.port(), coronet::wire_protocol::resp, opts);
    CHECK_REPLY(co_await c.call("ping"), reply::text("PONG"));
    const auto start = std::chrono::steady_clock::now();
    try {
      co_await c.call("sleep");
      FAIL("no exception");
    } catch (const std::system_error& e) {
      CHECK(e.code() == coronet::errc::timeout);
    }
    CHECK(std::chrono::steady_clock::now() - start < 5s);
    CHECK(!c.is_open());
    try {
      co_await c.call("ping");
      FAIL("no exception");
    } catch (const std::system_error& e) {
      CHECK(e.code() == asio::error::not_connected);
    }
  });
}

TEST_CASE("a handler slower than the server's request_timeout gets ERR timeout", "[client]") {
  coronet::server_options options = default_options();
  options.request_timeout = 100ms;
  test_server srv(options);
  run_client([&](auto ex) -> coronet::task<void> {
    coronet::client c = co_await connect(ex, srv.port());
    CHECK_REPLY(co_await c.call("sleep"), reply::error_line("ERR timeout"));
    CHECK_REPLY(co_await c.call("ping"), reply::text("PONG"));
  });
}

TEST_CASE("after quit the next call reports the connection closed by the server", "[client]") {
  test_server srv;
  run_client([&](auto ex) -> coronet::task<void> {
    coronet::client c = co_await connect(ex, srv.port());
    CHECK_REPLY(co_await c.call("quit"), reply::text("OK"));
    try {
      co_await c.call("ping");
      FAIL("no exception");
    } catch (const std::system_error& e) {
      CHECK((e.code() == asio::error::eof || e.code() == asio::error::connection_reset ||
             e.code() == asio::error::broken_pipe));
      CHECK(std::string(e.what()).find("coronet::client: connection closed by server") != std::string::npos);
    }
    CHECK(!c.is_open());
  });
}

TEST_CASE("connecting to a closed port throws connection_refused", "[client]") {
  asio::io_context ctx(1);
  std::uint16_t port = 0;
  {
    coronet::tcp::acceptor acc(ctx, {asio::ip::address_v4::loopback(), 0});
    port = acc.port();
  }
  try {
    coronet::sync_wait(ctx, connect(ctx.get_executor(), port));
    FAIL("no exception");
  } catch (const std::system_error& e) {
    CHECK(e.code() == asio::error::connection_refused);
  }
}

TEST_CASE("connect refuses the HTTP protocol", "[client]") {
  asio::io_context ctx(1);
  CHECK_THROWS_AS(coronet::sync_wait(ctx, connect(ctx.get_executor(), 1, coronet::wire_protocol::http)),
                  std::invalid_argument);
}

TEST_CASE("raw protocol: timetampe gets the ctime text, as the seed's client expects", "[client]") {
  coronet::server_options options = default_options();
  options.protocol = coronet::wire_protocol::raw;
  test_server srv(options);
  run_client([&](auto ex) -> coronet::task<void> {
    coronet::client c = co_await connect(ex, srv.port(), coronet::wire_protocol::raw);
    const reply ts = co_await c.call("timetampe");
    REQUIRE(ts.kind() == reply_kind::text);
    CHECK(ts.str().size() == 24);
    CHECK(std::regex_match(std::string(ts.str()), ctime_form));
    CHECK(!c.is_open());
    CHECK_THROWS_AS(c.call("timetampe"), std::logic_error);

    coronet::client unknown = co_await connect(ex, srv.port(), coronet::wire_protocol::raw);
    CHECK_REPLY(co_await unknown.call("nosuch"), reply::error_line("ERR no reply"));

    coronet::client with_arg = co_await connect(ex, srv.port(), coronet::wire_protocol::raw);
    const reply unix_seconds = co_await with_arg.call("timestamp", "unix");
    CHECK(unix_seconds.kind() == reply_kind::text);

    coronet::client too_long = co_await connect(ex, srv.port(), coronet::wire_protocol::raw);
    CHECK_THROWS_AS(too_long.call("echo", std::string(2000, 'x')), std::invalid_argument);
  });
}

TEST_CASE("a task connects a client on co_await this_executor, or on its own executor implicitly",
          "[client][executor]") {
  test_server srv;
  asio::io_context ctx(1);
  auto body = [&]() -> coronet::task<void> {
    coronet::client given = co_await coronet::client::connect(co_await coronet::this_executor, "127.0.0.1", srv.port());
    CHECK_REPLY(co_await given.call("ping"), reply::text("PONG"));
    coronet::client implicit = co_await coronet::client::connect("127.0.0.1", srv.port());
    CHECK_REPLY(co_await implicit.call("ping"), reply::text("PONG"));
    coronet::client from_ctx = co_await coronet::client::connect(ctx, "127.0.0.1", srv.port());
    CHECK_REPLY(co_await from_ctx.call("ping"), reply::text("PONG"));
  };
  coronet::sync_wait(ctx, body());
}

namespace {

// TCP_NODELAY of this process's socket connected from 127.0.0.1:`local_port`
// to `remote_port`, found among the first descriptors (the client does not
// show its socket); -1 if there is none.
int nodelay_of_local_socket(std::uint16_t local_port, std::uint16_t remote_port) {
  for (int fd = 0; fd < 4096; ++fd) {
    sockaddr_in local{};
    sockaddr_in remote{};
    socklen_t local_len = sizeof local;
    socklen_t remote_len = sizeof remote;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0 || local.sin_family != AF_INET ||
        ntohs(local.sin_port) != local_port)
      continue;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&remote), &remote_len) != 0 ||
        ntohs(remote.sin_port) != remote_port)
      continue;
    int v = -1;
    socklen_t len = sizeof v;
    ::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len);
    return v;
  }
  return -1;
}

}  // namespace

TEST_CASE("the client's socket has TCP_NODELAY unless client_options::tcp_nodelay is false", "[client][nodelay]") {
  const bool on = GENERATE(true, false);
  test_server srv;
  run_client([&](auto ex) -> coronet::task<void> {
    coronet::client_options options;
    options.tcp_nodelay = on;
    coronet::client c = co_await connect(ex, srv.port(), coronet::wire_protocol::resp, options);
    const reply port = co_await c.call("t-peer-port");
    REQUIRE(port.kind() == reply_kind::integer);
    CHECK(nodelay_of_local_socket(static_cast<std::uint16_t>(port.integer()), srv.port()) == (on ? 1 : 0));
  });
}

}  // namespace client_client_test
