// The datagram server over UDP loopback: handlers, every check before them, shutdown, threads.
#include "coronet/datagram/datagram_server.hpp"

#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>

#include <asio/detail/socket_option.hpp>
#include <asio/ip/udp.hpp>

#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "coronet/net/timer.hpp"
#include "support/eventually.hpp"
#include "support/server_thread.hpp"
#include "support/udp_peer.hpp"

namespace datagram_datagram_server_test {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

std::string as_text(std::span<const std::byte> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::size_t put_text(std::span<std::byte> out, std::string_view s) {
  std::memcpy(out.data(), s.data(), s.size());
  return s.size();
}

// Echoes the payload, except for a few commands that exercise the server.
coronet::task<std::optional<std::size_t>> test_handler(coronet::datagram& d) {
  const std::string text = as_text(d.payload);
  if (text == "none")
    co_return std::nullopt;
  if (text == "throw")
    throw std::runtime_error("handler failure");
  if (text == "too big")
    co_return d.reply.size() + 1;
  if (text == "port")
    co_return put_text(d.reply, std::to_string(d.local_port));
  if (text == "when") {
    const auto age = std::chrono::system_clock::now() - d.received_at;
    co_return put_text(d.reply, age >= 0s && age < 5s ? "recent" : "wrong");
  }
  if (text.rfind("sleep ", 0) == 0) {
    co_await coronet::sleep_for(std::chrono::milliseconds(std::stoi(text.substr(6))));
    co_return put_text(d.reply, "slept");
  }
  co_return put_text(d.reply, text);
}

coronet::datagram_server_options test_options() {
  coronet::datagram_server_options o;
  o.threads = 1;
  // One loop: datagrams are handled in arrival order, so a reply to a later
  // datagram proves an earlier one was dealt with.
  o.max_in_flight = 1;
  o.rate_limit.per_second = 0;
  return o;
}

// A datagram server with one echo listener, running on its own thread.
class running_server {
public:
  explicit running_server(coronet::datagram_server_options o = test_options()) : server_(std::move(o)) {
    port_ = server_.listen(0, test_handler);
  }

  void start() { thread_.emplace(server_); }
  int stop() { return thread_ ? thread_->stop() : -1; }

  coronet::datagram_server& get() { return server_; }
  std::uint16_t port() const { return port_; }

private:
  coronet::datagram_server server_;
  std::uint16_t port_ = 0;
  std::optional<coronet_test::server_thread<coronet::datagram_server>> thread_;
};

// A running_server started at once.
struct started_server : running_server {
  explicit started_server(coronet::datagram_server_options o = test_options()) : running_server(std::move(o)) {
    start();
  }
};

using client = coronet_test::udp_peer;
using coronet_test::eventually;

}  // namespace

TEST_CASE("a handler's reply goes back to the datagram's source", "[datagram_server]") {
  started_server s;
  client c;
  CHECK(c.call("hello", s.port()) == "hello");
  CHECK(c.call("", s.port()).empty());
  CHECK(c.call("port", s.port()) == std::to_string(s.port()));
  CHECK(c.call("when", s.port()) == "recent");
  // The reply is counted once sent, so maybe just after it arrived.
  CHECK(eventually([&] { return s.get().stats().replies == 4; }));
  const auto st = s.get().stats();
  CHECK(st.received == 4);
  CHECK(st.bytes_in == 5 + 0 + 4 + 4);
  CHECK(st.bytes_out == 5 + 0 + std::to_string(s.port()).size() + 6);
  CHECK(s.get().ports() == std::vector<std::uint16_t>{s.port()});
}

TEST_CASE("a handler yielding nullopt sends nothing", "[datagram_server]") {
  started_server s;
  client c;
  c.send("none", s.port());
  CHECK(c.call("after", s.port()) == "after");
  CHECK(c.nothing_pending());
  CHECK(s.get().stats().unanswered == 1);
}

TEST_CASE("datagrams over max_datagram_bytes are dropped; max_datagram_bytes itself is served",
          "[datagram_server][limits]") {
  auto o = test_options();
  o.max_datagram_bytes = 16;
  started_server s(o);
  client c;
  c.send(std::string(17, 'x'), s.port());
  c.send(std::string(65'507, 'y'), s.port());
  CHECK(c.call(std::string(16, 'z'), s.port()) == std::string(16, 'z'));
  CHECK(c.nothing_pending());
  CHECK(s.get().stats().dropped_oversize == 2);
}

TEST_CASE("a handler that throws or overflows its reply room gets no reply; the server goes on",
          "[datagram_server][errors]") {
  started_server s;
  client c;
  c.send("throw", s.port());
  c.send("too big", s.port());
  CHECK(c.call("still here", s.port()) == "still here");
  CHECK(c.nothing_pending());
  CHECK(s.get().stats().handler_errors == 2);
}

TEST_CASE("datagrams from dropped_source_ports get no reply", "[datagram_server][reflection]") {
  client victim;
  auto o = test_options();
  o.dropped_source_ports = {victim.port()};
  started_server s(o);
  client other;
  victim.send("reflect me", s.port());
  REQUIRE(eventually([&] { return s.get().stats().dropped_source == 1; }));
  CHECK(other.call("fine", s.port()) == "fine");
  CHECK(victim.nothing_pending());
}

TEST_CASE("datagrams from the server's own ports get no reply, unless the listener allows them",
          "[datagram_server][reflection]") {
  // With two threads the server's sockets use SO_REUSEPORT, so a test socket
  // (same user) can share a port with listener `b` and send from it.
  auto o = test_options();
  o.threads = 2;
  coronet::datagram_server srv(o);
  const std::uint16_t a = srv.listen(0, test_handler);
  const std::uint16_t b = srv.listen(0, test_handler);
  const std::uint16_t lenient = srv.listen(coronet::datagram_listener{0, test_handler, false});
  std::thread t([&] { srv.run(); });
  client impostor(asio::ip::address_v4::loopback(), b, true);
  impostor.send("loop", a);
  REQUIRE(eventually([&] { return srv.stats().dropped_source == 1; }));
  impostor.send("loop", lenient);
  REQUIRE(eventually([&] { return srv.stats().replies == 1; }));
  // The reply went to port `b`: to the impostor, or to the server's own
  // socket there, which drops it as coming from one of its own ports.
  CHECK(eventually([&] { return srv.stats().dropped_source == 2 || !impostor.nothing_pending(); }));
  srv.stop();
  t.join();
}

TEST_CASE("replies are rate-limited per source address: burst, then dropped", "[datagram_server][reflection]") {
  auto o = test_options();
  o.rate_limit.per_second = 1;
  o.rate_limit.burst = 3;
  started_server s(o);
  client c;
  for (int i = 0; i < 3; ++i)
    CHECK(c.call("hi", s.port()) == "hi");
  c.send("over the limit", s.port());
  // Another source address has its own bucket (Linux routes all of 127/8 to lo).
  client other(asio::ip::make_address_v4("127.0.0.2"));
  CHECK(other.call("other source", s.port()) == "other source");
  CHECK(c.nothing_pending());
  CHECK(s.get().stats().dropped_rate_limited == 1);
}

TEST_CASE("with the rate limit off, every datagram is answered", "[datagram_server][reflection]") {
  started_server s;
  client c;
  for (int i = 0; i < 100; ++i)
    REQUIRE(c.call(std::to_string(i), s.port()) == std::to_string(i));
  CHECK(s.get().stats().dropped_rate_limited == 0);
}

TEST_CASE("graceful stop: a handler in flight finishes and its reply is sent; then the port is closed",
          "[datagram_server][shutdown]") {
  auto o = test_options();
  o.max_in_flight = 4;
  started_server s(o);
  client c;
  c.native().connect({asio::ip::address_v4::loopback(), s.port()});
  c.native().send(asio::buffer(std::string("sleep 200")));
  REQUIRE(eventually([&] { return s.get().stats().received == 1; }));
  s.get().stop();
  CHECK(c.receive() == "slept");
  CHECK(s.stop() == 0);
  // Nobody listens any more: the kernel answers with ICMP port unreachable.
  c.native().send(asio::buffer(std::string("late")));
  std::string late_error;
  try {
    c.receive();
  } catch (const std::system_error& e) {
    late_error = e.code() == asio::error::connection_refused ? "refused" : e.what();
  } catch (const std::runtime_error& e) {
    late_error = e.what();
  }
  CHECK(late_error == "refused");
}

TEST_CASE("the drain deadline cancels handlers that run too long", "[datagram_server][shutdown]") {
  auto o = test_options();
  o.drain_timeout = 100ms;
  started_server s(o);
  client c;
  c.send("sleep 60000", s.port());
  REQUIRE(eventually([&] { return s.get().stats().received == 1; }));
  const auto start = steady::now();
  CHECK(s.stop() == 0);
  CHECK(steady::now() - start < 5s);
  CHECK(c.nothing_pending());
}

TEST_CASE("stop() before run() makes run() return at once", "[datagram_server][shutdown]") {
  running_server s;
  s.get().stop();
  s.start();
  CHECK(s.stop() == 0);
}

TEST_CASE("two threads share each port and the counters", "[datagram_server][threads]") {
  auto o = test_options();
  o.threads = 2;
  started_server s(o);
  std::vector<std::unique_ptr<client>> clients;
  for (int i = 0; i < 20; ++i) {
    clients.push_back(std::make_unique<client>());
    clients.back()->send(std::to_string(i), s.port());
  }
  for (int i = 0; i < 20; ++i)
    CHECK(clients[i]->receive() == std::to_string(i));
  CHECK(eventually([&] { return s.get().stats().replies == 20; }));
}

TEST_CASE("bad options and a port in use fail early; listen() once running is an error", "[datagram_server][errors]") {
  running_server s;
  auto o = test_options();
  coronet::datagram_server other(o);
  CHECK_THROWS_AS(other.listen(s.port(), test_handler), std::system_error);
  CHECK_THROWS_AS(other.listen(0, coronet::datagram_handler{}), std::invalid_argument);
  auto bad_host = o;
  bad_host.host = "not-an-address";
  CHECK_THROWS_AS(coronet::datagram_server(bad_host), std::invalid_argument);
  auto no_loops = o;
  no_loops.max_in_flight = 0;
  CHECK_THROWS_AS(coronet::datagram_server(no_loops), std::invalid_argument);
  auto huge_table = o;
  huge_table.rate_limit.tracked_sources = static_cast<std::size_t>(-1);
  CHECK_THROWS_AS(coronet::datagram_server(huge_table), std::invalid_argument);
  s.start();
  REQUIRE(eventually([&] {
    client c;
    return c.call("up", s.port()) == "up";
  }));
  CHECK_THROWS_AS(s.get().listen(0, test_handler), std::logic_error);
}

}  // namespace datagram_datagram_server_test
