// MULTI/EXEC/DISCARD through a server: the bytes the peer gets (RESP2, RESP3, the line
// protocol), writing and coroutine handlers inside EXEC, the bound on a transaction's
// queued commands, and that no other connection's command runs inside an EXEC.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "coronet/command/connection.hpp"
#include "coronet/command/response_writer.hpp"
#include "coronet/commands/builtins.hpp"
#include "coronet/net/timer.hpp"
#include "coronet/server/server.hpp"
#include "support/blocking_peer.hpp"
#include "support/router_calls.hpp"
#include "support/running_server.hpp"

namespace server_server_transaction_test {

namespace {

using peer = coronet_test::blocking_peer;

std::string resp(std::initializer_list<std::string_view> words) {
  std::string out = "*" + std::to_string(words.size()) + "\r\n";
  for (std::string_view w : words)
    out += "$" + std::to_string(w.size()) + "\r\n" + std::string(w) + "\r\n";
  return out;
}

// The built-ins, `incr` (a plain function over one counter: one worker thread), `pair`
// (a writing handler that writes an array) and `later` (a coroutine that suspends).
coronet::router make_router(std::int64_t& counter) {
  coronet::router r;
  coronet::commands::register_builtins(r);
  r.add(
      "incr", "adds one to the counter", [&counter](coronet::request&) { return coronet::reply::integer(++counter); },
      coronet::arity::exactly(0));
  r.add(
      "pair", "writes [a, b]",
      [](coronet::request& req, coronet::response_writer& w) {
        w.value(coronet::reply::array({coronet::reply::bulk(req.arg(0)), coronet::reply::bulk(req.arg(1))}));
      },
      coronet::arity::exactly(2));
  r.add(
      "later", "waits 5 ms, then replies its argument",
      [](coronet::request& req) -> coronet::task<coronet::reply> {
        std::string value(req.arg(0));
        co_await coronet::sleep_for(std::chrono::milliseconds(5));
        co_return coronet::reply::bulk(value);
      },
      coronet::arity::exactly(1));
  return r;
}

const std::string execabort = "-EXECABORT Transaction discarded because of previous errors.\r\n";

}  // namespace

TEST_CASE("MULTI queues, EXEC answers one array of the replies, byte for byte", "[server][transaction]") {
  std::int64_t counter = 0;
  coronet_test::running_server s(coronet_test::quick_stop_options(), make_router(counter));
  peer p(s.port());

  SECTION("RESP2: plain, writing and suspending handlers in order") {
    p.send(resp({"MULTI"}) + resp({"ECHO", "a"}) + resp({"PING"}) + resp({"pair", "x", "y"}) + resp({"later", "z"}) +
           resp({"incr"}) + resp({"EXEC"}));
    const std::string want =
        "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n"
        "*5\r\n$1\r\na\r\n+PONG\r\n*2\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n:1\r\n";
    CHECK(p.exactly(want.size()) == want);
    CHECK(p.call("PING") == "+PONG");  // the transaction is over
  }
  SECTION("an unknown command or a wrong argument count while queuing aborts EXEC") {
    p.send(resp({"MULTI"}) + resp({"incr"}) + resp({"nosuch", "x"}) + resp({"ECHO"}) + resp({"EXEC"}) + resp({"incr"}));
    const std::string want =
        "+OK\r\n+QUEUED\r\n"
        "-ERR unknown command 'nosuch', with args beginning with: 'x' \r\n"
        "-ERR wrong number of arguments for 'echo' command\r\n" +
        execabort + ":1\r\n";
    CHECK(p.exactly(want.size()) == want);  // the queued incr never ran
  }
  SECTION("DISCARD, nested MULTI, EXEC and DISCARD without MULTI, RESET") {
    p.send(resp({"EXEC"}) + resp({"DISCARD"}) + resp({"MULTI"}) + resp({"MULTI"}) + resp({"incr"}) + resp({"DISCARD"}) +
           resp({"MULTI"}) + resp({"incr"}) + resp({"RESET"}) + resp({"EXEC"}) + resp({"WATCH", "k"}) +
           resp({"UNWATCH"}));
    const std::string want =
        "-ERR EXEC without MULTI\r\n-ERR DISCARD without MULTI\r\n+OK\r\n"
        "-ERR MULTI calls can not be nested\r\n+QUEUED\r\n+OK\r\n"
        "+OK\r\n+QUEUED\r\n+RESET\r\n-ERR EXEC without MULTI\r\n"
        "-ERR WATCH is not supported: this server keeps no keys to watch\r\n+OK\r\n";
    CHECK(p.exactly(want.size()) == want);
    CHECK(counter == 0);
  }
  SECTION("RESP3: the replies inside EXEC in RESP3") {
    CHECK(p.call("HELLO 3").substr(0, 1) == "%");
    p.until("modules\r\n*0\r\n");
    p.send(resp({"MULTI"}) + resp({"CONFIG", "GET", "nosuch"}) + resp({"ECHO", "a"}) + resp({"EXEC"}));
    const std::string want = "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n%0\r\n$1\r\na\r\n";
    CHECK(p.exactly(want.size()) == want);
  }
}

TEST_CASE("the line protocol answers EXEC on one line, the replies joined by a space", "[server][transaction]") {
  std::int64_t counter = 0;
  coronet_test::running_server s(coronet_test::quick_stop_options(coronet::wire_protocol::line), make_router(counter));
  peer p(s.port());
  CHECK(p.call("MULTI") == "OK");
  CHECK(p.call("ECHO a") == "QUEUED");
  CHECK(p.call("pair x y") == "QUEUED");
  CHECK(p.call("incr") == "QUEUED");
  CHECK(p.call("EXEC") == "a x y 1");
  CHECK(p.call("MULTI") == "OK");
  CHECK(p.call("EXEC") == "");
  CHECK(p.call("MULTI") == "OK");
  CHECK(p.call("nosuch") == "ERR unknown command 'nosuch', with args beginning with: ");
  CHECK(p.call("EXEC") == "EXECABORT Transaction discarded because of previous errors.");
}

TEST_CASE("a transaction's queued commands are bounded by max_query_buffer_bytes", "[server][transaction]") {
  std::int64_t counter = 0;
  coronet::server_options o = coronet_test::quick_stop_options();
  o.max_query_buffer_bytes = 1024;
  coronet_test::running_server s(o, make_router(counter));
  peer p(s.port());
  const std::string value(100, 'x');
  CHECK(p.call("MULTI") == "+OK");
  // Each ECHO costs its words' bytes plus 32 per word: 4 + 100 + 64 = 168, so 6 fit.
  for (int i = 0; i < 6; ++i)
    CHECK(p.call("ECHO " + value) == "+QUEUED");
  CHECK(p.call("ECHO " + value) ==
        "-ERR transaction too large: its queued commands would exceed max_query_buffer_bytes");
  CHECK(p.call("ECHO a") == "+QUEUED");  // not kept: the transaction is aborted already
  CHECK(p.call("EXEC") + "\r\n" == execabort);
  CHECK(p.call("PING") == "+PONG");
}

TEST_CASE("MULTI is refused over HTTP; EXEC outside a session aborts", "[server][transaction]") {
  const coronet::router r = coronet_test::builtins();
  coronet::connection conn;
  conn.protocol = coronet::wire_protocol::http;
  CHECK(coronet_test::call(r, {"MULTI"}, &conn).str() == "ERR MULTI is not available over this protocol");
  CHECK_FALSE(conn.in_transaction());
  conn.protocol = coronet::wire_protocol::resp;
  CHECK(coronet_test::call(r, {"MULTI"}, &conn).str() == "OK");
  CHECK(conn.in_transaction());
  CHECK(coronet_test::call(r, {"EXEC"}, &conn).str() ==
        "EXECABORT Transaction discarded because of: no session runs it");
  CHECK_FALSE(conn.in_transaction());
}

TEST_CASE("no other connection's command runs between the commands of an EXEC", "[server][transaction]") {
  std::int64_t counter = 0;
  coronet_test::running_server s(coronet_test::quick_stop_options(), make_router(counter));
  peer a(s.port());
  peer b(s.port());
  constexpr int queued = 200;
  std::string transaction = resp({"MULTI"});
  for (int i = 0; i < queued; ++i)
    transaction += resp({"incr"});
  a.send(transaction);
  a.exactly(5 + queued * 9);  // +OK and the +QUEUED replies
  // b's pipeline and a's EXEC reach the one worker thread together.
  std::string pipeline;
  for (int i = 0; i < 2000; ++i)
    pipeline += resp({"incr"});
  b.send(pipeline);
  a.send(resp({"EXEC"}));
  CHECK(a.line() == "*" + std::to_string(queued));
  std::int64_t first = 0;
  for (int i = 0; i < queued; ++i) {
    const std::string l = a.line();
    REQUIRE(l.size() > 1);
    const std::int64_t n = std::stoll(l.substr(1));
    if (i == 0)
      first = n;
    CHECK(n == first + i);
  }
  for (int i = 0; i < 2000; ++i)
    REQUIRE(b.line().substr(0, 1) == ":");
}

}  // namespace server_server_transaction_test
