// Password guessing over sockets: a connection is closed after a few
// wrong AUTHs, an address that keeps failing gets its guesses one turn at a time, and a
// right AUTH from another address is answered at once meanwhile. No test sleeps: the
// server's delays are what take the time.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/commands/builtins.hpp"
#include "coronet/core/log.hpp"
#include "coronet/server/server.hpp"
#include "support/blocking_peer.hpp"
#include "support/running_server.hpp"

namespace robustness_auth_fault_test {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

const std::string wrongpass = "-WRONGPASS invalid username-password pair or user is disabled.";
const std::string too_many = "-ERR too many failed authentications from this address, try again later";

coronet::router builtin_router() {
  coronet::router r;
  coronet::commands::register_builtins(r);
  return r;
}

coronet::server_options auth_options() {
  coronet::server_options o = coronet_test::quick_stop_options();
  o.password = "secret";
  return o;
}

// A connection that says, in a PROXY v1 header from a trusted 127.0.0.1, that it comes from `source`.
std::unique_ptr<coronet_test::blocking_peer> from(std::uint16_t port, const std::string& source) {
  auto peer = std::make_unique<coronet_test::blocking_peer>(port);
  peer->send("PROXY TCP4 " + source + " 127.0.0.1 40000 6379\r\n");
  return peer;
}

std::string repeated(const std::string& line, int n) {
  std::string out;
  for (int i = 0; i < n; ++i)
    out += line;
  return out;
}

double seconds_since(steady::time_point t) { return std::chrono::duration<double>(steady::now() - t).count(); }

// Collects the log lines that contain `needle`, while it lives.
class log_capture {
public:
  explicit log_capture(std::string needle) : needle_(std::move(needle)) {
    coronet::set_log_handler([this](coronet::log_level, std::string_view line) {
      if (line.find(needle_) == std::string_view::npos)
        return;
      std::lock_guard lock(mutex_);
      lines_.emplace_back(line);
    });
  }
  log_capture(const log_capture&) = delete;
  log_capture& operator=(const log_capture&) = delete;
  ~log_capture() { coronet::set_log_handler(nullptr); }

  std::vector<std::string> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }

private:
  std::string needle_;
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

}  // namespace

TEST_CASE("the third failed AUTH on a connection is answered, then the connection is closed", "[robustness][auth]") {
  coronet_test::running_server srv(auth_options(), builtin_router());
  coronet_test::blocking_peer peer(srv.port());
  CHECK(peer.call("AUTH nope") == wrongpass);
  CHECK(peer.call("HELLO 3 AUTH default nope") == wrongpass);  // HELLO ... AUTH counts too
  CHECK(peer.call("PING") == "+PONG");
  CHECK(peer.call("AUTH default nope") == wrongpass);
  REQUIRE(peer.readable_within(10s));  // a server that keeps it open fails here instead of hanging
  CHECK(peer.closed());

  // The budget is the connection's: a new one starts afresh, and the right password works.
  coronet_test::blocking_peer next(srv.port());
  CHECK(next.call("AUTH nope") == wrongpass);
  CHECK(next.call("AUTH secret") == "+OK");
  CHECK(next.call("PING") == "+PONG");
}

TEST_CASE("the per-connection budget is an option; 0 means no limit", "[robustness][auth]") {
  SECTION("one failure") {
    coronet::server_options o = auth_options();
    o.auth_throttle.max_failures_per_connection = 1;
    coronet_test::running_server srv(o, builtin_router());
    coronet_test::blocking_peer peer(srv.port());
    CHECK(peer.call("AUTH nope") == wrongpass);
    REQUIRE(peer.readable_within(10s));
    CHECK(peer.closed());
  }
  SECTION("no limit") {
    coronet::server_options o = auth_options();
    o.auth_throttle.max_failures_per_connection = 0;
    o.auth_throttle.failures_before_delay = 1000;
    coronet_test::running_server srv(o, builtin_router());
    coronet_test::blocking_peer peer(srv.port());
    peer.send(repeated("AUTH nope\r\n", 20) + "AUTH secret\r\n");
    for (int i = 0; i < 20; ++i)
      REQUIRE(peer.line() == wrongpass);
    CHECK(peer.line() == "+OK");
  }
}

TEST_CASE("an address that keeps failing gets one guess per turn, over all its connections", "[robustness][auth]") {
  coronet::server_options o = auth_options();
  o.auth_throttle.max_failures_per_connection = 0;
  o.auth_throttle.failures_before_delay = 5;
  o.auth_throttle.first_delay = 1ms;
  o.auth_throttle.max_delay = 10ms;
  coronet_test::running_server srv(o, builtin_router());
  // 100 guesses, pipelined on 4 connections at once from 127.0.0.1. Unthrottled they take
  // well under 10 ms (one connection managed 342,000 a second before the throttle).
  std::vector<std::unique_ptr<coronet_test::blocking_peer>> peers;
  for (int i = 0; i < 4; ++i)
    peers.push_back(std::make_unique<coronet_test::blocking_peer>(srv.port()));
  const steady::time_point start = steady::now();
  for (auto& p : peers)
    p->send(repeated("AUTH nope\r\n", 25));
  for (auto& p : peers)
    for (int i = 0; i < 25; ++i)
      REQUIRE(p->line() == wrongpass);
  const double took = seconds_since(start);
  // Once its count passed 5 + 5 (the delay doubles from 1 ms to its 10 ms cap), at most
  // 4 guesses were in flight, so at least 100 - 10 - 4 turns came 10 ms apart.
  CHECK(took >= 0.85);
  INFO("100 guesses took " << took << " s");
  CHECK(took < 60.0);

  // INFO counts the waits (the right password waited its turn too).
  coronet_test::blocking_peer admin(srv.port());
  REQUIRE(admin.call("AUTH secret") == "+OK");
  admin.send("INFO stats\r\n");
  const std::string stats = admin.bulk();
  const std::string_view key = "\r\ncoronet_auth_delayed:";
  const std::size_t at = stats.find(key);
  REQUIRE(at != std::string::npos);
  CHECK(std::stoul(stats.substr(at + key.size())) >= 86);
  CHECK(stats.find("\r\ncoronet_auth_refused:0\r\n") != std::string::npos);
}

TEST_CASE("a right AUTH from another address is answered at once while one address is throttled",
          "[robustness][auth]") {
  coronet::server_options o = auth_options();
  o.proxy_protocol = coronet::proxy_protocol_mode::v1;  // 127.0.0.1 is trusted: it says who the client is
  o.auth_throttle.max_failures_per_connection = 0;
  o.auth_throttle.failures_before_delay = 2;
  o.auth_throttle.first_delay = 1500ms;
  o.auth_throttle.max_delay = 1500ms;
  coronet_test::running_server srv(o, builtin_router());

  auto attacker = from(srv.port(), "192.0.2.1");
  for (int i = 0; i < 3; ++i)
    REQUIRE(attacker->call("AUTH nope") == wrongpass);  // the free failures, answered at once
  const steady::time_point guessed = steady::now();
  attacker->send("AUTH nope\r\n");  // its turn is 1.5 s away

  auto other = from(srv.port(), "192.0.2.2");
  CHECK(other->call("AUTH secret") == "+OK");
  CHECK(other->call("PING") == "+PONG");
  const double other_took = seconds_since(guessed);
  CHECK_FALSE(attacker->readable_within(0ms));  // the throttled guess is still waiting
  CHECK(other_took < 1.5);

  CHECK(attacker->line() == wrongpass);
  CHECK(seconds_since(guessed) >= 1.45);

  // The throttled address's right password waits its turn too: how fast an answer
  // comes tells nothing about the password.
  auto same = from(srv.port(), "192.0.2.1");
  const steady::time_point right = steady::now();
  CHECK(same->call("AUTH secret") == "+OK");
  CHECK(seconds_since(right) >= 1.45);
}

TEST_CASE("guesses beyond max_wait are refused unchecked and their connections closed", "[robustness][auth]") {
  coronet::server_options o = auth_options();
  o.auth_throttle.max_failures_per_connection = 0;
  o.auth_throttle.failures_before_delay = 0;
  o.auth_throttle.first_delay = 400ms;
  o.auth_throttle.max_delay = 400ms;
  o.auth_throttle.max_wait = 500ms;
  coronet_test::running_server srv(o, builtin_router());
  coronet_test::blocking_peer first(srv.port());
  REQUIRE(first.call("AUTH nope") == wrongpass);  // count 1: every turn is now 400 ms after the last
  // Six guesses at once: one gets the next turn (400 ms away), the next would wait 800 ms.
  std::vector<std::unique_ptr<coronet_test::blocking_peer>> peers;
  for (int i = 0; i < 6; ++i)
    peers.push_back(std::make_unique<coronet_test::blocking_peer>(srv.port()));
  for (auto& p : peers)
    p->send("AUTH secret\r\n");
  int refused = 0;
  int accepted = 0;
  for (auto& p : peers) {
    const std::string reply = p->line();
    if (reply == too_many) {
      ++refused;
      REQUIRE(p->readable_within(10s));
      CHECK(p->closed());
    } else {
      CHECK(reply == "+OK");
      ++accepted;
    }
  }
  CHECK(refused >= 4);
  CHECK(accepted >= 1);
}

TEST_CASE("failures are logged once per address and window, with their count", "[robustness][auth]") {
  log_capture log("authentication failed");
  coronet::server_options o = auth_options();
  o.proxy_protocol = coronet::proxy_protocol_mode::v1;
  o.auth_throttle.max_failures_per_connection = 0;
  o.auth_throttle.failures_before_delay = 1000;
  coronet_test::running_server srv(o, builtin_router());
  auto guesser = from(srv.port(), "192.0.2.7");
  guesser->send(repeated("AUTH nope\r\n", 50));
  for (int i = 0; i < 50; ++i)
    REQUIRE(guesser->line() == wrongpass);
  std::vector<std::string> lines = log.lines();
  REQUIRE(lines.size() == 1);
  CHECK_THAT(lines[0], Catch::Contains("from 192.0.2.7:40000"));

  // Another address gets its own line (once the global budget of ten lines a second allows).
  auto other = from(srv.port(), "192.0.2.8");
  const steady::time_point start = steady::now();
  while (log.lines().size() < 2 && seconds_since(start) < 5)
    REQUIRE(other->call("AUTH nope") == wrongpass);
  lines = log.lines();
  REQUIRE(lines.size() == 2);
  CHECK_THAT(lines[1], Catch::Contains("from 192.0.2.8:40000"));
}

}  // namespace robustness_auth_fault_test
