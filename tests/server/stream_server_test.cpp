// The public stream server over loopback: one generic handler over TCP and TLS, the limits
// and deadlines of the runtime, the drain, writer handles across connections and threads,
// per-connection state and PROXY addresses; each test checks what the peer sees.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <any>
#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "coronet/core/sync_wait.hpp"
#include "coronet/net/connect.hpp"
#include "coronet/net/timeout.hpp"
#include "coronet/server/stream_server.hpp"
#include "coronet/tls/context.hpp"
#include "coronet/tls/stream.hpp"
#include "support/test_certs.hpp"
#include "support/tls_round_trip.hpp"

namespace server_stream_server_test {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using coronet::stream_connection;
using coronet::stream_server;
using coronet::stream_server_options;

namespace {

using coronet_test::certs;

// True once `done()` holds, polled until `limit` passes.
bool eventually(const std::function<bool()>& done, steady::duration limit = 5s) {
  const auto deadline = steady::now() + limit;
  while (!done()) {
    if (steady::now() > deadline)
      return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

stream_server_options plain_options() {
  stream_server_options o;
  o.port = 0;
  o.threads = 1;
  return o;
}

// A stream server running on its own thread; stopped and joined at the end.
class running {
public:
  template <class Handler>
  running(stream_server_options o, Handler h) : server_(std::move(o), std::move(h)) {
    thread_ = std::thread([this] { result_ = server_.run(); });
  }
  running(const running&) = delete;
  running& operator=(const running&) = delete;
  ~running() {
    server_.stop();
    if (thread_.joinable())
      thread_.join();
  }
  stream_server& get() { return server_; }
  // Waits for run() to return and gives its result.
  int join() {
    thread_.join();
    return result_.load();
  }

private:
  stream_server server_;
  std::atomic<int> result_{-1};
  std::thread thread_;
};

// A blocking plaintext peer whose reads give up after 5 s.
class peer {
public:
  explicit peer(std::uint16_t port) : socket_(ctx_) {
    socket_.connect({asio::ip::address_v4::loopback(), port});
    timeval tv{5, 0};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  void send(std::string_view data) { asio::write(socket_, asio::buffer(data)); }
  std::string read(std::size_t n) {
    std::string got(n, '\0');
    asio::read(socket_, asio::buffer(got));
    return got;
  }
  // Everything until the server closes (or 5 s pass).
  std::string read_to_end() {
    std::string got;
    std::error_code ec;
    asio::read(socket_, asio::dynamic_buffer(got), ec);
    return got;
  }
  // True when the server closed the connection (a read ends) within 5 s.
  bool closed_by_server() {
    std::error_code ec;
    std::string ignored;
    asio::read(socket_, asio::dynamic_buffer(ignored), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }
  void close() { socket_.close(); }
  std::uint16_t local_port() const { return socket_.local_endpoint().port(); }

private:
  asio::io_context ctx_;
  asio::ip::tcp::socket socket_;
};

// The same echo for TCP and TLS connections.
const auto echo = [](auto& conn) -> coronet::task<void> {
  std::array<char, 4096> buf;
  for (;;) {
    std::error_code ec;
    const std::size_t n = co_await conn.read_some(asio::buffer(buf), ec);
    if (ec)
      co_return;
    co_await conn.write(std::string_view(buf.data(), n));
  }
};

// Echo that reads until the peer leaves.
coronet::task<void> read_until_end(stream_connection<coronet::tcp::socket>& conn) {
  std::array<char, 256> buf;
  std::error_code ec;
  while (!ec)
    (void)co_await conn.read_some(asio::buffer(buf), ec);
}

}  // namespace

TEST_CASE("one generic handler echoes over TCP and over TLS", "[stream_server]") {
  stream_server_options o = plain_options();
  o.listeners.push_back({.host = "", .port = 0, .tls = true});
  o.tls = {.certificate_file = certs().path("server.pem"), .key_file = certs().path("server.key")};
  running s(o, echo);
  REQUIRE(s.get().listener_count() == 2);

  peer p(s.get().port());
  p.send("hello over tcp");
  CHECK(p.read(14) == "hello over tcp");

  const std::string got = coronet_test::tls_round_trip(s.get().port(1), "hello over tls", 14);
  CHECK(got == "hello over tls");
  CHECK(s.get().stats().bytes_in >= 28);
}

TEST_CASE("over max_connections the peer gets on_reject's bytes, then end of stream", "[stream_server]") {
  stream_server_options o = plain_options();
  o.max_connections = 1;
  std::atomic<int> handlers{0};
  stream_server srv(o, [&](stream_connection<coronet::tcp::socket>& c) -> coronet::task<void> {
    ++handlers;
    co_await read_until_end(c);
  });
  srv.on_reject([](std::size_t listener) { return "busy on listener " + std::to_string(listener) + "\r\n"; });
  std::thread t([&] { srv.run(); });
  {
    peer first(srv.port());
    REQUIRE(eventually([&] { return handlers.load() == 1; }));
    peer second(srv.port());
    CHECK(second.read_to_end() == "busy on listener 0\r\n");
    CHECK(srv.stats().connections_rejected == 1);
    CHECK(handlers.load() == 1);
  }
  srv.stop();
  t.join();
}

TEST_CASE("idle_timeout closes a connection whose peer sends nothing", "[stream_server]") {
  stream_server_options o = plain_options();
  o.idle_timeout = 200ms;
  running s(o, echo);
  peer busy(s.get().port());
  peer idle(s.get().port());
  const auto start = steady::now();
  std::atomic<bool> idle_closed{false};
  std::thread watcher([&] { idle_closed = idle.closed_by_server(); });
  // The busy one talks meanwhile (well inside the timeout each time) and stays open.
  int rounds = 0;
  while (!idle_closed && steady::now() - start < 5s) {
    busy.send("x");
    CHECK(busy.read(1) == "x");
    std::this_thread::sleep_for(20ms);
    ++rounds;
  }
  watcher.join();
  CHECK(idle_closed.load());
  CHECK(steady::now() - start >= 200ms);
  CHECK(rounds >= 5);
  busy.send("still here");
  CHECK(busy.read(10) == "still here");
}

TEST_CASE("handshake_timeout closes a TLS peer that never sends a ClientHello", "[stream_server]") {
  stream_server_options o = plain_options();
  o.tls_only = true;
  o.tls = {.certificate_file = certs().path("server.pem"), .key_file = certs().path("server.key")};
  o.handshake_timeout = 200ms;
  std::atomic<int> handlers{0};
  running s(o, [&](stream_connection<coronet::tls::stream>&) -> coronet::task<void> {
    ++handlers;
    co_return;
  });
  peer silent(s.get().port());
  const auto start = steady::now();
  CHECK(silent.closed_by_server());
  CHECK(steady::now() - start >= 200ms);
  CHECK(s.get().stats().handshakes_timed_out == 1);
  CHECK(handlers.load() == 0);
}

TEST_CASE("stop() ends a handler's pending read with operation_aborted and run() returns 0", "[stream_server]") {
  std::atomic<bool> reading{false};
  std::mutex m;
  std::error_code seen;
  running s(plain_options(), [&](stream_connection<coronet::tcp::socket>& c) -> coronet::task<void> {
    std::array<char, 64> buf;
    std::error_code ec;
    reading = true;
    (void)co_await c.read_some(asio::buffer(buf), ec);
    {
      const std::lock_guard lock(m);
      seen = ec;
    }
    c.send("bye\n");
  });
  peer p(s.get().port());
  REQUIRE(eventually([&] { return reading.load(); }));
  s.get().stop();
  // The handler's last words arrive, then end of stream.
  CHECK(p.read_to_end() == "bye\n");
  CHECK(s.join() == 0);
  const std::lock_guard lock(m);
  CHECK(seen == asio::error::operation_aborted);
}

TEST_CASE("a writer broadcasts to other connections, and from a thread outside the server", "[stream_server]") {
  stream_server_options o = plain_options();
  o.threads = 2;
  std::mutex m;
  std::vector<coronet::stream_writer> writers;
  std::vector<std::uint16_t> ports;  // each writer's peer port
  running s(o, [&](stream_connection<coronet::tcp::socket>& c) -> coronet::task<void> {
    {
      const std::lock_guard lock(m);
      writers.push_back(c.writer());
      ports.push_back(c.peer().port());
    }
    const std::uint64_t me = c.id();
    std::array<char, 256> buf;
    for (;;) {
      std::error_code ec;
      const std::size_t n = co_await c.read_some(asio::buffer(buf), ec);
      if (ec)
        break;
      std::vector<coronet::stream_writer> others;
      {
        const std::lock_guard lock(m);
        for (const auto& w : writers)
          if (w.id() != me)
            others.push_back(w);
      }
      for (const auto& w : others)
        w.send(std::string_view(buf.data(), n));
    }
  });
  peer a(s.get().port());
  peer b(s.get().port());
  peer c(s.get().port());
  REQUIRE(eventually([&] {
    const std::lock_guard lock(m);
    return writers.size() == 3;
  }));
  a.send("hi all\n");
  CHECK(b.read(7) == "hi all\n");
  CHECK(c.read(7) == "hi all\n");

  // From this thread (no worker): posted to the connection's worker.
  coronet::stream_writer to_b;
  {
    const std::lock_guard lock(m);
    for (std::size_t i = 0; i < writers.size(); ++i)
      if (ports[i] == b.local_port())
        to_b = writers[i];
  }
  REQUIRE(to_b);
  CHECK(to_b.send("from outside\n"));
  CHECK(b.read(13) == "from outside\n");
  // Once b is gone, sending to it is a no-op that says so.
  b.close();
  CHECK(eventually([&] { return to_b.closed(); }));
  CHECK_FALSE(to_b.send("too late\n"));
  a.send("still\n");
  CHECK(c.read(6) == "still\n");
}

TEST_CASE("a send beyond max_output_bytes closes that connection only", "[stream_server]") {
  stream_server_options o = plain_options();
  o.max_output_bytes = 64 * 1024;
  std::atomic<int> refused{0};
  running s(o, [&](stream_connection<coronet::tcp::socket>& c) -> coronet::task<void> {
    std::array<char, 64> buf;
    for (;;) {
      std::error_code ec;
      const std::size_t n = co_await c.read_some(asio::buffer(buf), ec);
      if (ec)
        co_return;
      if (std::string_view(buf.data(), n) == "flood") {
        if (!c.send(std::string(100 * 1024, 'x')))
          ++refused;
      } else {
        c.send(std::string_view(buf.data(), n));
      }
    }
  });
  peer flooder(s.get().port());
  peer other(s.get().port());
  flooder.send("flood");
  CHECK(flooder.read_to_end().empty());
  CHECK(eventually([&] { return refused.load() == 1; }));
  other.send("fine");
  CHECK(other.read(4) == "fine");
  CHECK(s.get().stats().errors >= 1);
}

TEST_CASE("user_state lives with the connection and on_close runs when it ends", "[stream_server]") {
  std::mutex m;
  std::vector<std::string> closed;
  running s(plain_options(), [&](stream_connection<coronet::tcp::socket>& c) -> coronet::task<void> {
    c.user_state() = "user-" + std::to_string(c.id());
    c.on_close([&c, &m, &closed] {
      const std::lock_guard lock(m);
      closed.push_back(std::any_cast<std::string>(c.user_state()));
    });
    std::array<char, 64> buf;
    std::error_code ec;
    (void)co_await c.read_some(asio::buffer(buf), ec);
    c.send(std::any_cast<std::string&>(c.user_state()) + "\n");
    co_await read_until_end(c);
  });
  peer p(s.get().port());
  p.send("who am i");
  CHECK(p.read(7) == "user-1\n");
  p.close();
  CHECK(eventually([&] {
    const std::lock_guard lock(m);
    return closed.size() == 1;
  }));
  const std::lock_guard lock(m);
  CHECK(closed.front() == "user-1");
}

TEST_CASE("on_close callbacks run in order, one added by a callback too, past one that throws",
          "[stream_server]") {
  std::mutex m;
  std::vector<int> ran;
  const auto note = [&m, &ran](int i) {
    const std::lock_guard lock(m);
    ran.push_back(i);
  };
  running s(plain_options(), [&](stream_connection<coronet::tcp::socket>& c) -> coronet::task<void> {
    c.on_close([&c, note] {
      note(1);
      c.on_close([note] { note(3); });
    });
    c.on_close([] { throw std::runtime_error("callback failed"); });
    c.on_close([note] { note(2); });
    co_await read_until_end(c);
  });
  peer p(s.get().port());
  p.close();
  CHECK(eventually([&] {
    const std::lock_guard lock(m);
    return ran.size() == 3;
  }));
  const std::lock_guard lock(m);
  CHECK(ran == std::vector<int>{1, 2, 3});
}

TEST_CASE("peer() and local() come from a PROXY v1 header", "[stream_server]") {
  stream_server_options o = plain_options();
  o.proxy_protocol = coronet::proxy_protocol_mode::v1;
  running s(o, [](stream_connection<coronet::tcp::socket>& c) -> coronet::task<void> {
    std::array<char, 64> buf;
    const std::size_t n = co_await c.read_some(asio::buffer(buf));
    std::string out = c.peer().address().to_string() + ":" + std::to_string(c.peer().port()) + " -> " +
                      c.local().address().to_string() + ":" + std::to_string(c.local().port()) + " " +
                      std::string(buf.data(), n) + "\n";
    co_await c.write(out);
  });
  peer p(s.get().port());
  p.send("PROXY TCP4 192.168.0.1 10.0.0.2 56324 6379\r\nfirst");
  CHECK(p.read_to_end() == "192.168.0.1:56324 -> 10.0.0.2:6379 first\n");
  CHECK(s.get().stats().proxy_header_errors == 0);
}

}  // namespace server_stream_server_test
