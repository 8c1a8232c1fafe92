// A server behind a load balancer, over loopback: PROXY protocol headers
// (server_options::proxy_protocol, proxy_trusted) end to end, good and bad.
#include <catch2/catch.hpp>

#include "support/proxy_headers.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "coronet/commands/builtins.hpp"
#include "coronet/server/server.hpp"
#include "support/blocking_peer.hpp"
#include "support/eventually.hpp"
#include "support/running_server.hpp"
#include "coronet/core/log.hpp"

namespace server_server_proxy_test {

using namespace std::chrono_literals;
using namespace std::string_literals;
using steady = std::chrono::steady_clock;
using coronet::proxy_protocol_mode;

namespace {

std::string describe(const asio::ip::tcp::endpoint& e) {
  return e.address().to_string() + ":" + std::to_string(e.port());
}

// The built-in commands (CLIENT INFO shows addr= and laddr=), plus `whoami`:
// "<peer> <local>" as the session filled them in.
coronet::router make_router() {
  coronet::router r;
  coronet::commands::register_builtins(r);
  r.add(
      "whoami", "the connection's peer and local addresses",
      [](coronet::request& q) { return coronet::reply::bulk(describe(q.conn->peer) + " " + describe(q.conn->local)); },
      coronet::arity::exactly(0));
  return r;
}

coronet::server_options proxy_options(proxy_protocol_mode mode = proxy_protocol_mode::any) {
  coronet::server_options o = coronet_test::test_server_options();
  o.proxy_protocol = mode;
  return o;
}

// The shared running server, with this file's router.
struct running_server : coronet_test::running_server {
  explicit running_server(coronet::server_options o) : coronet_test::running_server(std::move(o), make_router()) {}
};

using peer = coronet_test::blocking_peer;
using coronet_test::eventually;

const std::string& v2_sig = coronet_test::proxy_v2_signature;
using coronet_test::bytes;
using coronet_test::u16;
using coronet_test::v2;

// PROXY TCP4 from 192.168.0.1:56324 to 10.0.0.2:6379.
const std::string v2_tcp4 = v2(0x21, 0x11, coronet_test::tcp4_block);
const std::string v1_tcp4 = "PROXY TCP4 192.168.0.1 10.0.0.2 56324 6379\r\n";

std::uint64_t proxy_errors(running_server& s) { return s.get().stats().proxy_header_errors; }

// Sends `input` (then end of stream if `then_close`) and expects the server
// to close with no reply, counting one more header error.
void expect_refused(running_server& s, const std::string& input, bool then_close = false) {
  const std::uint64_t before = proxy_errors(s);
  peer p(s.port());
  p.send(input);
  if (then_close)
    p.shutdown_send();
  CHECK(p.until_closed().empty());
  CHECK(eventually([&] { return proxy_errors(s) == before + 1; }));
}

}  // namespace

TEST_CASE("a v2 header sets the client's address; the command in the same segment is served", "[server][proxy]") {
  running_server s(proxy_options(proxy_protocol_mode::v2));
  peer p(s.port());
  p.send(v2_tcp4 + "*1\r\n$6\r\nwhoami\r\n*2\r\n$6\r\nCLIENT\r\n$4\r\nINFO\r\n");
  CHECK(p.bulk() == "192.168.0.1:56324 10.0.0.2:6379");
  const std::string info = p.bulk();
  CHECK(info.find(" addr=192.168.0.1:56324 ") != std::string::npos);
  CHECK(info.find(" laddr=10.0.0.2:6379 ") != std::string::npos);
  CHECK(proxy_errors(s) == 0);
}

TEST_CASE("a v1 header arriving a few bytes at a time, then pipelined commands", "[server][proxy]") {
  running_server s(proxy_options(proxy_protocol_mode::v1));
  peer p(s.port());
  const std::string input = v1_tcp4 + "whoami\r\nPING\r\n";
  for (std::size_t at = 0; at < v1_tcp4.size(); at += 7) {
    p.send(input.substr(at, 7));
    std::this_thread::sleep_for(2ms);  // separate segments, not a wait for the server
  }
  p.send(input.substr(((v1_tcp4.size() + 6) / 7) * 7));
  CHECK(p.bulk() == "192.168.0.1:56324 10.0.0.2:6379");
  CHECK(p.line() == "+PONG");
}

TEST_CASE("v2 over IPv6, with TLVs; LOCAL and v1 UNKNOWN keep the real endpoints", "[server][proxy]") {
  running_server s(proxy_options());
  SECTION("TCP6 with TLVs") {
    std::string block = bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7});
    block += bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}) + u16(40000) + u16(6380);
    block += "\x01"s + u16(2) + "h2" + "\x05"s + u16(4) + "uid1";
    peer p(s.port());
    p.send(v2(0x21, 0x21, block) + "whoami\r\n");
    CHECK(p.bulk() == "2001:db8::7:40000 ::1:6380");
  }
  SECTION("LOCAL (a health check)") {
    peer p(s.port());
    p.send(v2(0x20, 0x00, "") + "whoami\r\n");
    CHECK(p.bulk().starts_with("127.0.0.1:" + std::to_string(p.local_port()) + " 127.0.0.1:"));
  }
  SECTION("v1 UNKNOWN") {
    peer p(s.port());
    p.send("PROXY UNKNOWN\r\nwhoami\r\n");
    CHECK(p.bulk().starts_with("127.0.0.1:" + std::to_string(p.local_port()) + " "));
  }
  CHECK(proxy_errors(s) == 0);
}

TEST_CASE("bad headers close the connection without a reply and are counted", "[server][proxy]") {
  running_server s(proxy_options(proxy_protocol_mode::v2));
  struct bad {
    const char* what;
    std::string input;
  };
  const std::vector<bad> cases = {
      {"no header at all", "PING\r\n"},
      {"v1 where only v2 is accepted", v1_tcp4 + "PING\r\n"},
      {"version 1 in the v2 header", v2(0x11, 0x11, std::string(12, '\0')) + "PING\r\n"},
      {"unknown command", v2(0x2F, 0x11, std::string(12, '\0')) + "PING\r\n"},
      {"address block too short", v2(0x21, 0x21, std::string(12, '\0')) + "PING\r\n"},
      {"TLV past the end", v2(0x21, 0x11, std::string(12, '\0') + "\x01\x00\x09" + "ab") + "PING\r\n"},
      {"oversized", v2_sig + "\x21\x11\xff\xff"s + std::string(64, 'x')},
      {"a broken signature", "\r\n\r\n\0\r\nQUIX\n\x21\x11\x00\x0c"s + std::string(12, '\0')},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    expect_refused(s, c.input);
  }
  // The server goes on serving good connections.
  peer p(s.port());
  p.send(v2_tcp4 + "PING\r\n");
  CHECK(p.line() == "+PONG");
}

TEST_CASE("a truncated header (the peer stops sending mid-header) is counted", "[server][proxy]") {
  running_server s(proxy_options());
  for (const std::string& part : {v1_tcp4.substr(0, 20), v2_tcp4.substr(0, 10), v2_tcp4.substr(0, 20)}) {
    INFO("sent " << part.size() << " bytes");
    expect_refused(s, part, true);
  }
  // A peer that leaves before sending anything is not a bad header.
  {
    peer p(s.port());
    p.shutdown_send();
    CHECK(p.until_closed().empty());
  }
  CHECK(eventually([&] { return s.get().stats().connections_now == 0; }));
  CHECK(proxy_errors(s) == 3);
}

TEST_CASE("v1 without CRLF within 107 bytes is refused at once", "[server][proxy]") {
  running_server s(proxy_options(proxy_protocol_mode::v1));
  expect_refused(s, "PROXY UNKNOWN " + std::string(200, 'a'));
}

TEST_CASE("a header that does not arrive within handshake_timeout closes the connection", "[server][proxy]") {
  auto o = proxy_options();
  o.handshake_timeout = 200ms;
  running_server s(o);
  for (const std::string& part : {""s, v2_tcp4.substr(0, 10), "PROXY TCP4 1.2.3.4"s}) {
    INFO("sent " << part.size() << " bytes");
    const auto before = s.get().stats();
    peer p(s.port());
    if (!part.empty())
      p.send(part);
    const auto start = steady::now();
    CHECK(p.until_closed().empty());
    const auto waited = steady::now() - start;
    CHECK(waited >= 150ms);
    CHECK(waited < 2s);
    CHECK(eventually([&] { return s.get().stats().handshakes_timed_out == before.handshakes_timed_out + 1; }));
    CHECK(eventually([&] { return proxy_errors(s) == before.proxy_header_errors + 1; }));
  }
}

TEST_CASE("peers outside proxy_trusted are served as they are, and closed if they send a header", "[server][proxy]") {
  auto o = proxy_options();
  o.proxy_trusted = {"10.0.0.0/8", "fd00::/8"};
  running_server s(o);
  SECTION("no header: served, with its real address") {
    peer p(s.port());
    p.send("whoami\r\n");
    CHECK(p.bulk().starts_with("127.0.0.1:" + std::to_string(p.local_port()) + " "));
    CHECK(proxy_errors(s) == 0);
  }
  SECTION("a v1 header: closed") { expect_refused(s, v1_tcp4 + "whoami\r\n"); }
  SECTION("a v2 header: closed") { expect_refused(s, v2_tcp4 + "whoami\r\n"); }
  SECTION("a header whose signature arrives in pieces: closed") {
    const std::uint64_t before = proxy_errors(s);
    peer p(s.port());
    p.send("PRO");
    CHECK_FALSE(p.readable_within(30ms));
    p.send("XY TCP4 1.2.3.4 5.6.7.8 1 2\r\nwhoami\r\n");
    CHECK(p.until_closed().empty());
    CHECK(eventually([&] { return proxy_errors(s) == before + 1; }));
  }
  SECTION("bytes that only begin like a signature are served once they differ") {
    peer p(s.port());
    p.send("\r\n");
    CHECK_FALSE(p.readable_within(30ms));
    p.send("PING\r\n");
    CHECK(p.line() == "+PONG");
    CHECK(proxy_errors(s) == 0);
  }
}

TEST_CASE("with the protocol off, a PROXY line is just an unknown command", "[server][proxy]") {
  running_server s(proxy_options(proxy_protocol_mode::off));
  peer p(s.port());
  p.send(v1_tcp4 + "whoami\r\n");
  CHECK(p.line().starts_with("-ERR unknown command 'PROXY'"));
  CHECK(p.bulk().starts_with("127.0.0.1:"));
  CHECK(proxy_errors(s) == 0);
}

TEST_CASE("the connection log shows the client the proxy reports", "[server][proxy]") {
  std::mutex m;
  std::vector<std::string> lines;
  coronet::set_log_handler([&](coronet::log_level, std::string_view msg) {
    std::lock_guard lock(m);
    lines.emplace_back(msg);
  });
  {
    auto o = proxy_options();
    o.log_connections = true;
    running_server s(o);
    peer p(s.port());
    p.send(v2_tcp4 + "PING\r\n");
    CHECK(p.line() == "+PONG");
  }
  coronet::set_log_handler({});
  std::lock_guard lock(m);
  CHECK(std::find(lines.begin(), lines.end(), "connection from 192.168.0.1:56324") != lines.end());
  CHECK(std::find(lines.begin(), lines.end(), "connection closed: 192.168.0.1:56324") != lines.end());
}

TEST_CASE("a drain during a header wait ends at once and counts nothing", "[server][proxy]") {
  running_server s(proxy_options());
  peer waiting(s.port());
  waiting.send(v2_tcp4.substr(0, 5));
  REQUIRE(eventually([&] { return s.get().stats().connections_now == 1; }));
  const auto start = steady::now();
  CHECK(s.stop() == 0);
  CHECK(steady::now() - start < 2s);
  CHECK(proxy_errors(s) == 0);
}

TEST_CASE("proxy_trusted entries that are not addresses fail in the constructor", "[server][proxy]") {
  const coronet::router r = make_router();
  for (const char* bad : {"localhost", "10.0.0.0/33", "", "1.2.3.4/"}) {
    INFO(bad);
    auto o = proxy_options();
    o.proxy_trusted = {"127.0.0.1", bad};
    CHECK_THROWS_AS(coronet::server(r, o), std::invalid_argument);
  }
}

}  // namespace server_server_proxy_test
