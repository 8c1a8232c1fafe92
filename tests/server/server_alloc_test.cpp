// A steady-state request through the whole server (read, parse, route, run
// the handler, encode, write) makes no heap allocation, over line and RESP.
#include <catch2/catch.hpp>

#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <optional>
#include <string>
#include <thread>

#include "coronet/commands/builtins.hpp"
#include "coronet/server/server.hpp"
#include "support/counting_new.hpp"

namespace {

// Sends `request` and reads exactly `reply_size` bytes, `rounds` times; the
// buffers are made before the counting starts and asio's blocking calls on a
// plain socket allocate nothing, so every count is the server's.
std::size_t count_server_allocations(std::uint16_t port, const std::string& request, std::size_t reply_size, int warmup,
                                     int rounds, std::string& last_reply) {
  asio::io_context ctx;
  asio::ip::tcp::socket s(ctx);
  s.connect({asio::ip::address_v4::loopback(), port});
  s.set_option(asio::ip::tcp::no_delay(true));
  last_reply.assign(reply_size, '\0');
  for (int i = 0; i < warmup; ++i) {
    asio::write(s, asio::buffer(request));
    asio::read(s, asio::buffer(last_reply));
  }
  coronet_test::new_call_counter counter;
  for (int i = 0; i < rounds; ++i) {
    asio::write(s, asio::buffer(request));
    asio::read(s, asio::buffer(last_reply));
  }
  return counter.count();
}

}  // namespace

// A server with the built-ins on its own thread, for one section.
class serving {
public:
  explicit serving(coronet::wire_protocol p) {
    coronet::commands::register_builtins(router_);
    coronet::server_options o;
    o.port = 0;
    o.threads = 1;
    o.protocol = p;
    server_.emplace(router_, o);
    thread_ = std::thread([this] { server_->run(); });
  }
  serving(const serving&) = delete;
  serving& operator=(const serving&) = delete;
  ~serving() {
    server_->stop();
    thread_.join();
  }
  std::uint16_t port() const { return server_->port(); }

private:
  coronet::router router_;
  std::optional<coronet::server> server_;
  std::thread thread_;
};

TEST_CASE("steady-state ping and timestamp requests allocate nothing in the server", "[server][alloc]") {
  std::string reply;
  SECTION("line ping") {
    serving srv(coronet::wire_protocol::line);
    CHECK(count_server_allocations(srv.port(), "ping\r\n", 6, 200, 2000, reply) == 0);
    CHECK(reply == "PONG\r\n");
  }
  SECTION("line timestamp") {
    serving srv(coronet::wire_protocol::line);
    CHECK(count_server_allocations(srv.port(), "timestamp\r\n", 26, 200, 2000, reply) == 0);
    CHECK(reply.size() == 26);
  }
  SECTION("RESP ping") {
    serving srv(coronet::wire_protocol::resp);
    CHECK(count_server_allocations(srv.port(), "*1\r\n$4\r\nPING\r\n", 7, 200, 2000, reply) == 0);
    CHECK(reply == "+PONG\r\n");
  }
  SECTION("RESP inline ping (redis-benchmark's PING_INLINE)") {
    serving srv(coronet::wire_protocol::resp);
    CHECK(count_server_allocations(srv.port(), "PING\r\n", 7, 200, 2000, reply) == 0);
    CHECK(reply == "+PONG\r\n");
  }
  SECTION("RESP timestamp") {
    serving srv(coronet::wire_protocol::resp);
    CHECK(count_server_allocations(srv.port(), "*1\r\n$9\r\ntimestamp\r\n", 31, 200, 2000, reply) == 0);
    CHECK(reply.substr(0, 5) == "$24\r\n");
  }
}
