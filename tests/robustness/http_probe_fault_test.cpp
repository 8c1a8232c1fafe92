// HTTP sent to a command port, as a browser tricked into posting to it would send: the
// connection is closed at once with no reply to the HTTP lines (redis-server's "Possible
// SECURITY ATTACK detected"), counted and logged at most once a second. Commands that
// merely share a first word are untouched.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "coronet/server/server.hpp"
#include "support/blocking_peer.hpp"
#include "support/eventually.hpp"
#include "support/log_capture.hpp"
#include "support/running_server.hpp"

namespace robustness_http_probe_fault_test {

using namespace std::chrono_literals;

namespace {

using coronet_test::blocking_peer;
using coronet_test::eventually;

// What the peer reads after sending `bytes` until the server closes.
std::string reply_to(std::uint16_t port, const std::string& bytes) {
  blocking_peer p(port);
  p.send(bytes);
  return p.until_closed();
}

std::uint64_t attacks(coronet_test::running_server& s) { return s.get().stats().security_attacks; }

const std::string browser_post =
    "POST / HTTP/1.1\r\nHost: 127.0.0.1:6379\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n\r\n"
    "FLUSHALL\r\nQUIT\r\n";

}  // namespace

TEST_CASE("HTTP to a RESP port: the connection is closed with no reply, counted and logged",
          "[robustness][http]") {
  coronet_test::log_capture log("SECURITY ATTACK");
  coronet_test::running_server s(coronet_test::quick_stop_options(coronet::wire_protocol::resp));
  CHECK(reply_to(s.port(), browser_post).empty());
  CHECK(eventually([&] { return attacks(s) == 1; }));
  CHECK(reply_to(s.port(), "GET / HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n").empty());
  CHECK(eventually([&] { return attacks(s) == 2; }));
  // A Host: line alone, and one framed as RESP, are HTTP too.
  CHECK(reply_to(s.port(), "host: example.com\r\n").empty());
  CHECK(reply_to(s.port(), "*2\r\n$5\r\nHOST:\r\n$1\r\nx\r\n").empty());
  CHECK(eventually([&] { return attacks(s) == 4; }));
  // The replies before the HTTP line go out; nothing after it is run.
  CHECK(reply_to(s.port(), "PING\r\nHost: evil.example\r\nPING\r\n") == "+PONG\r\n");
  CHECK(eventually([&] { return attacks(s) == 5; }));
  REQUIRE_FALSE(log.lines().empty());
  CHECK(log.lines().front().find("Connection from 127.0.0.1:") != std::string::npos);
}

TEST_CASE("HTTP to a line port is closed the same way", "[robustness][http]") {
  coronet_test::running_server s(coronet_test::quick_stop_options(coronet::wire_protocol::line));
  CHECK(reply_to(s.port(), "POST /x HTTP/1.0\r\n\r\n").empty());
  CHECK(eventually([&] { return attacks(s) == 1; }));
}

TEST_CASE("what only looks a little like HTTP is an unknown command, and the connection stays",
          "[robustness][http]") {
  coronet_test::running_server s(coronet_test::quick_stop_options(coronet::wire_protocol::resp));
  blocking_peer p(s.port());
  CHECK(p.call("posting a letter").starts_with("-ERR unknown command 'posting'"));
  CHECK(p.call("GET / HTTP").starts_with("-ERR unknown command 'GET'"));
  CHECK(p.call("get / http/1.1").starts_with("-ERR unknown command 'get'"));
  CHECK(p.call("hostname").starts_with("-ERR unknown command 'hostname'"));
  CHECK(p.call("PING") == "+PONG");
  CHECK(attacks(s) == 0);
}

TEST_CASE("a command registered as POST runs: only unknown names are checked", "[robustness][http]") {
  coronet::router r = coronet_test::make_test_router();
  r.add("post", "a command named post", [](coronet::request&) { return coronet::reply::text("POSTED"); },
        coronet::arity::at_least(0));
  coronet_test::running_server s(coronet_test::quick_stop_options(coronet::wire_protocol::resp), std::move(r));
  blocking_peer p(s.port());
  CHECK(p.call("POST / HTTP/1.1") == "+POSTED");
  CHECK(attacks(s) == 0);
}

TEST_CASE("an HTTP listener's /post/... is a 404, not an attack", "[robustness][http]") {
  coronet_test::running_server s(coronet_test::quick_stop_options(coronet::wire_protocol::http));
  blocking_peer p(s.port());
  p.send("GET /post/x HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(p.line() == "HTTP/1.1 404 Not Found");
  CHECK(attacks(s) == 0);
}

TEST_CASE("300 forged posts: every one closed and counted, the log says so at most once a second",
          "[robustness][http]") {
  coronet_test::log_capture log("SECURITY ATTACK");
  coronet_test::running_server s(coronet_test::quick_stop_options(coronet::wire_protocol::resp));
  const auto start = std::chrono::steady_clock::now();
  constexpr int n = 300;
  for (int i = 0; i < n; ++i)
    REQUIRE(reply_to(s.port(), browser_post).empty());
  CHECK(eventually([&] { return attacks(s) == n; }));
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start);
  CHECK(log.lines().size() <= static_cast<std::size_t>(seconds.count()) + 2);
  // The server is still there for honest clients.
  blocking_peer p(s.port());
  CHECK(p.call("PING") == "+PONG");
}

}  // namespace robustness_http_probe_fault_test
