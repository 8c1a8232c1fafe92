// The router's commands over WebSocket at GET /ws, with frames built and read
// by hand: the opening handshake and its refusals, a text frame as one command
// line answered with the HTTP mapping's JSON, fragmentation, ping/pong, the close
// handshake, and each protocol error with the close code RFC 6455 gives it
// (unmasked frames, invalid UTF-8, binary messages, a message over the limit),
// AUTH on a server with a password, and the drain's going-away close.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

#include "coronet/commands/builtins.hpp"
#include "support/blocking_peer.hpp"
#include "support/router_calls.hpp"
#include "support/running_server.hpp"
#include "support/test_commands.hpp"

namespace server_websocket_test {

using namespace std::chrono_literals;

namespace {

coronet::server_options ws_options() {
  return coronet_test::quick_stop_options(coronet::wire_protocol::http);
}

// A client frame: `fin`, `opcode`, masked with a fixed key unless `masked` is false.
std::string frame(std::uint8_t opcode, std::string_view payload, bool fin = true, bool masked = true) {
  std::string f;
  f += static_cast<char>((fin ? 0x80 : 0) | opcode);
  const std::uint8_t mask_bit = masked ? 0x80 : 0;
  if (payload.size() < 126) {
    f += static_cast<char>(mask_bit | payload.size());
  } else if (payload.size() <= 0xffff) {
    f += static_cast<char>(mask_bit | 126);
    f += static_cast<char>(payload.size() >> 8);
    f += static_cast<char>(payload.size() & 0xff);
  } else {
    f += static_cast<char>(mask_bit | 127);
    for (int i = 7; i >= 0; --i)
      f += static_cast<char>((static_cast<std::uint64_t>(payload.size()) >> (8 * i)) & 0xff);
  }
  const char key[4] = {0x12, 0x34, 0x56, 0x78};
  if (masked)
    f.append(key, 4);
  for (std::size_t i = 0; i < payload.size(); ++i)
    f += masked ? static_cast<char>(payload[i] ^ key[i % 4]) : payload[i];
  return f;
}

std::string text(std::string_view payload) { return frame(0x1, payload); }

struct server_frame {
  std::uint8_t opcode = 0;
  std::string payload;
  // A close frame's status code (0 if none).
  int close_code() const {
    return payload.size() >= 2 ? (static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1])
                               : 0;
  }
};

class ws_peer : public coronet_test::blocking_peer {
public:
  using blocking_peer::blocking_peer;

  static constexpr std::string_view key = "dGhlIHNhbXBsZSBub25jZQ==";  // RFC 6455's example

  // Sends the opening handshake (with `extra` header lines); the response head.
  std::string upgrade(std::string_view extra = "") {
    std::string req = "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
                      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ";
    req += key;
    req += "\r\n";
    req += extra;
    req += "\r\n";
    send(req);
    return until("\r\n\r\n");
  }

  // One frame from the server (servers never mask).
  server_frame next() {
    const std::string h = exactly(2);
    server_frame f;
    f.opcode = static_cast<std::uint8_t>(h[0] & 0x0f);
    REQUIRE((static_cast<unsigned char>(h[0]) & 0x80) != 0);  // the server does not fragment
    REQUIRE((static_cast<unsigned char>(h[1]) & 0x80) == 0);
    std::uint64_t n = static_cast<unsigned char>(h[1]) & 0x7f;
    if (n == 126) {
      const std::string e = exactly(2);
      n = (static_cast<unsigned char>(e[0]) << 8) | static_cast<unsigned char>(e[1]);
    } else if (n == 127) {
      const std::string e = exactly(8);
      n = 0;
      for (char c : e)
        n = (n << 8) | static_cast<unsigned char>(c);
    }
    f.payload = exactly(static_cast<std::size_t>(n));
    return f;
  }

  // Sends `line` as a text frame; the text of the reply frame.
  std::string call(std::string_view line) {
    send(text(line));
    const server_frame f = next();
    REQUIRE(f.opcode == 0x1);
    return f.payload;
  }
};

}  // namespace

TEST_CASE("websocket: the handshake, a command per text frame, ping, the close handshake", "[http][websocket]") {
  coronet_test::running_server s(ws_options());
  ws_peer p(s.port());
  const std::string head = p.upgrade();
  CHECK(head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
  // RFC 6455, 1.3's example: this key's accept value.
  CHECK(head.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") != std::string::npos);
  CHECK(head.find("Upgrade: websocket\r\n") != std::string::npos);
  CHECK(p.call("ping") == R"({"ping":"PONG"})");
  CHECK(p.call("ping hello") == R"({"ping":"hello"})");
  CHECK(p.call("nosuch") == R"({"error":"ERR unknown command 'nosuch', with args beginning with: "})");
  // A message in three fragments is one command line.
  p.send(frame(0x1, "pi", false) + frame(0x0, "ng wo", false) + frame(0x0, "rld", true));
  CHECK(p.next().payload == R"({"ping":"world"})");
  // A ping between fragments is answered with a pong of the same payload.
  p.send(frame(0x9, "are you there"));
  server_frame pong = p.next();
  CHECK(pong.opcode == 0xA);
  CHECK(pong.payload == "are you there");
  // A coroutine handler that waits is answered when it is done.
  CHECK(p.call("sleep 5") == R"({"sleep":"SLEPT"})");
  p.send(frame(0x8, std::string("\x03\xe8", 2) + "bye"));
  server_frame close = p.next();
  CHECK(close.opcode == 0x8);
  CHECK(close.close_code() == 1000);
  CHECK(p.closed_by_server());
}

TEST_CASE("websocket: a request that is not a valid handshake is refused", "[http][websocket]") {
  coronet_test::running_server s(ws_options());
  SECTION("no Upgrade: 426 naming the protocol") {
    ws_peer p(s.port());
    p.send("GET /ws HTTP/1.1\r\nHost: t\r\n\r\n");
    const std::string head = p.until("\r\n\r\n");
    CHECK(head.starts_with("HTTP/1.1 426 "));
    CHECK(head.find("Upgrade: websocket\r\n") != std::string::npos);
    CHECK(head.find("Sec-WebSocket-Version: 13\r\n") != std::string::npos);
    CHECK(p.closed_by_server());
  }
  SECTION("another version: 426") {
    ws_peer p(s.port());
    p.send("GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
    CHECK(p.until("\r\n\r\n").starts_with("HTTP/1.1 426 "));
  }
  SECTION("a key that is not 16 bytes: 400") {
    ws_peer p(s.port());
    p.send("GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
           "Sec-WebSocket-Key: c2hvcnQ=\r\n\r\n");
    CHECK(p.until("\r\n\r\n").starts_with("HTTP/1.1 400 "));
  }
  SECTION("a page of another origin: 403; of this server's own: 101") {
    ws_peer p(s.port());
    CHECK(p.upgrade("Origin: https://evil.example\r\n").starts_with("HTTP/1.1 403 "));
    CHECK(p.closed_by_server());
    ws_peer same(s.port());
    CHECK(same.upgrade("Origin: http://T\r\n").starts_with("HTTP/1.1 101 "));  // Host: t, any case
  }
  SECTION("no Connection: Upgrade: 400") {
    ws_peer p(s.port());
    p.send("GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
    CHECK(p.until("\r\n\r\n").starts_with("HTTP/1.1 400 "));
  }
}

TEST_CASE("websocket: http_options::websocket_origins names the other pages allowed", "[http][websocket]") {
  coronet::server_options o = ws_options();
  o.http.websocket_origins = {"https://app.example"};
  coronet_test::running_server s(o);
  ws_peer allowed(s.port());
  CHECK(allowed.upgrade("Origin: https://app.example\r\n").starts_with("HTTP/1.1 101 "));
  ws_peer other(s.port());
  CHECK(other.upgrade("Origin: http://t\r\n").starts_with("HTTP/1.1 403 "));
  ws_peer program(s.port());
  CHECK(program.upgrade().starts_with("HTTP/1.1 101 "));  // no Origin: not a browser
}

TEST_CASE("websocket: after QUIT or a protocol error, later messages are not run", "[http][websocket]") {
  coronet_test::running_server s(ws_options(), coronet_test::builtins());
  ws_peer p(s.port());
  REQUIRE(p.upgrade().starts_with("HTTP/1.1 101 "));
  CHECK(p.call("ping") == R"({"ping":"PONG"})");
  const std::uint64_t before = s.get().stats().requests;
  // One segment: QUIT, then a command that must not run.
  p.send(text("quit") + text("echo after-quit"));
  CHECK(p.next().payload == R"({"quit":"OK"})");
  CHECK(p.next().close_code() == 1000);
  CHECK(s.get().stats().requests == before + 1);
}

TEST_CASE("websocket: protocol errors close with RFC 6455's codes", "[http][websocket]") {
  coronet::server_options o = ws_options();
  o.http.max_websocket_message = 1000;
  coronet_test::running_server s(o);
  ws_peer p(s.port());
  REQUIRE(p.upgrade().starts_with("HTTP/1.1 101 "));
  int expected = 0;
  SECTION("an unmasked client frame: 1002") {
    p.send(frame(0x1, "ping", true, false));
    expected = 1002;
  }
  SECTION("a text message that is not UTF-8: 1007") {
    p.send(text("ping \xc3\x28"));
    expected = 1007;
  }
  SECTION("a binary message: 1003") {
    p.send(frame(0x2, "ping"));
    expected = 1003;
  }
  SECTION("a message over max_websocket_message, even in fragments: 1009") {
    p.send(frame(0x1, std::string(600, 'a'), false) + frame(0x0, std::string(600, 'b'), true));
    expected = 1009;
  }
  const server_frame close = p.next();
  CHECK(close.opcode == 0x8);
  CHECK(close.close_code() == expected);
  // The peer's close ends the handshake.
  p.send(frame(0x8, std::string("\x03\xe8", 2)));
  CHECK(p.closed_by_server());
}

TEST_CASE("websocket: a peer that never answers the server's close is closed after 5 s", "[http][websocket]") {
  coronet_test::running_server s(ws_options());
  ws_peer p(s.port());
  REQUIRE(p.upgrade().starts_with("HTTP/1.1 101 "));
  p.send(frame(0x2, "binary"));
  CHECK(p.next().close_code() == 1003);
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(p.readable_within(10s));
  CHECK(p.closed());
  CHECK(std::chrono::steady_clock::now() - start >= 4s);
}

TEST_CASE("websocket: with a password, the upgrade with credentials is authenticated, without it AUTH is needed",
          "[http][websocket][auth]") {
  coronet::server_options o = ws_options();
  o.password = "sesame";
  coronet_test::running_server s(o, coronet_test::builtins());
  SECTION("Basic credentials on the upgrade") {
    ws_peer p(s.port());
    REQUIRE(p.upgrade("Authorization: Basic ZGVmYXVsdDpzZXNhbWU=\r\n").starts_with("HTTP/1.1 101 "));
    CHECK(p.call("echo hi") == R"({"echo":"hi"})");
  }
  SECTION("none: NOAUTH until AUTH") {
    ws_peer p(s.port());
    REQUIRE(p.upgrade().starts_with("HTTP/1.1 101 "));
    // (PING needs no authentication, as a health check; ECHO does.)
    CHECK(p.call("echo hi") == R"({"error":"NOAUTH Authentication required."})");
    CHECK(p.call("auth wrong").find("WRONGPASS") != std::string::npos);
    CHECK(p.call("auth sesame") == R"({"auth":"OK"})");
    CHECK(p.call("echo hi") == R"({"echo":"hi"})");
  }
  SECTION("wrong credentials on the upgrade: 401") {
    ws_peer p(s.port());
    CHECK(p.upgrade("Authorization: Bearer wrong\r\n").starts_with("HTTP/1.1 401 "));
  }
}

TEST_CASE("websocket: the idle timeout closes a silent connection, not a subscribed one", "[http][websocket]") {
  coronet::server_options o = ws_options();
  o.http.idle_timeout = 200ms;
  coronet_test::running_server s(o, coronet_test::builtins());
  ws_peer subscribed(s.port());
  REQUIRE(subscribed.upgrade().starts_with("HTTP/1.1 101 "));
  CHECK(subscribed.call("subscribe quiet") == R"({"subscribe":{"channel":"quiet","subscriptions":1}})");
  ws_peer silent(s.port());
  REQUIRE(silent.upgrade().starts_with("HTTP/1.1 101 "));
  REQUIRE(silent.readable_within(5s));
  CHECK(silent.closed());
  // Several idle periods later, the subscriber is still there.
  CHECK_FALSE(subscribed.readable_within(800ms));
  CHECK(subscribed.call("ping") == R"({"ping":"PONG"})");
}

TEST_CASE("websocket: before AUTH, a message over 4 KiB closes with 1009", "[http][websocket][auth]") {
  coronet::server_options o = ws_options();
  o.password = "sesame";
  coronet_test::running_server s(o, coronet_test::builtins());
  ws_peer p(s.port());
  REQUIRE(p.upgrade().starts_with("HTTP/1.1 101 "));
  p.send(text("echo " + std::string(5000, 'x')));
  CHECK(p.next().close_code() == 1009);
}

TEST_CASE("websocket: the drain closes with 1001 going away", "[http][websocket]") {
  coronet_test::running_server s(ws_options());
  ws_peer p(s.port());
  REQUIRE(p.upgrade().starts_with("HTTP/1.1 101 "));
  CHECK(p.call("ping") == R"({"ping":"PONG"})");
  s.stop_within(5s);
  const server_frame close = p.next();
  CHECK(close.opcode == 0x8);
  CHECK(close.close_code() == 1001);
}

namespace {

// Publishes until a subscriber receives it (the subscription is made on the server's
// thread, maybe after the test saw its confirmation); false if none did within 5 s.
bool publish_until_heard(coronet::server& srv, std::string_view channel, std::string_view payload) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline)
    if (srv.publish(channel, payload) > 0)
      return true;
  return false;
}

}  // namespace

TEST_CASE("websocket: subscribe makes a channel's messages arrive as text messages", "[http][websocket][pubsub]") {
  coronet_test::running_server s(ws_options(), coronet_test::builtins());
  ws_peer p(s.port());
  REQUIRE(p.upgrade().starts_with("HTTP/1.1 101 "));
  CHECK(p.call("subscribe news") == R"({"subscribe":{"channel":"news","subscriptions":1}})");
  p.send(text("PSUBSCRIBE n*"));
  CHECK(p.next().payload == R"({"psubscribe":{"pattern":"n*","subscriptions":2}})");
  CHECK(s.get().publish("news", "line \"1\"\n") == 2);
  CHECK(p.next().payload == R"({"message":{"channel":"news","data":"line \"1\"\n"}})");
  CHECK(p.next().payload == R"({"pmessage":{"pattern":"n*","channel":"news","data":"line \"1\"\n"}})");
  // Commands go on beside the subscription.
  CHECK(p.call("echo still") == R"({"echo":"still"})");
  CHECK(p.call("unsubscribe news") == R"({"unsubscribe":{"channel":"news","subscriptions":1}})");
  CHECK(p.call("subscribe") == R"({"error":"ERR a channel or pattern is needed"})");
  // Closing the connection leaves the hub.
  p.send(frame(0x8, std::string("\x03\xe8", 2)));
  CHECK(p.next().close_code() == 1000);
  CHECK(p.closed_by_server());
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (s.get().publish("news", "x") != 0 && std::chrono::steady_clock::now() < deadline) {
  }
  CHECK(s.get().publish("news", "x") == 0);
}

TEST_CASE("server-sent events: GET /subscribe/<channel> streams its messages", "[http][pubsub][sse]") {
  coronet_test::running_server s(ws_options(), coronet_test::builtins());
  coronet_test::blocking_peer p(s.port());
  p.send("GET /subscribe/a%20b HTTP/1.1\r\nHost: t\r\n\r\n");
  const std::string head = p.until("\r\n\r\n");
  CHECK(head.starts_with("HTTP/1.1 200 "));
  CHECK(head.find("Content-Type: text/event-stream\r\n") != std::string::npos);
  CHECK(head.find("Cache-Control: no-store\r\n") != std::string::npos);
  REQUIRE(publish_until_heard(s.get(), "a b", "first"));
  CHECK(p.until("\n\n") == "data: first\n\n");
  CHECK(s.get().publish("a b", "two\nlines") == 1);
  CHECK(p.until("\n\n") == "data: two\ndata: lines\n\n");
  SECTION("the peer leaves: the subscription ends") {
    p.close();
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (s.get().publish("a b", "x") != 0 && std::chrono::steady_clock::now() < deadline) {
    }
    CHECK(s.get().publish("a b", "x") == 0);
  }
  SECTION("the drain ends the stream") {
    s.stop_within(5s);
    CHECK(p.closed_by_server());
  }
}

}  // namespace server_websocket_test
