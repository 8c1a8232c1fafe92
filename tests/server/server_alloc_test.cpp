// A steady-state request through the whole server (read, parse, route, run
// the handler, encode, write) makes no heap allocation, over line and RESP.
#include <catch2/catch.hpp>

#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <string>

#include "support/counting_new.hpp"
#include "support/alloc_round_trips.hpp"

namespace {

// Sends `request` and reads exactly `reply_size` bytes, `rounds` times; the
// buffers are made before the counting starts and asio's blocking calls on a
// plain socket allocate nothing, so every count is the server's.
std::size_t count_server_allocations(std::uint16_t port, const std::string& request, std::size_t reply_size, int warmup,
                                     int rounds, std::string& last_reply) {
  asio::io_context ctx;
  asio::ip::tcp::socket s(ctx);
  coronet_test::connect_no_delay(s, port);
  last_reply.assign(reply_size, '\0');
  return coronet_test::count_round_trip_allocations(s, request, last_reply, warmup, rounds);
}

}  // namespace

TEST_CASE("steady-state ping and timestamp requests allocate nothing in the server", "[server][alloc]") {
  std::string reply;
  SECTION("line ping") {
    coronet_test::builtins_server srv(coronet::wire_protocol::line);
    CHECK(count_server_allocations(srv.port(), "ping\r\n", 6, 200, 2000, reply) == 0);
    CHECK(reply == "PONG\r\n");
  }
  SECTION("line timestamp") {
    coronet_test::builtins_server srv(coronet::wire_protocol::line);
    CHECK(count_server_allocations(srv.port(), "timestamp\r\n", 26, 200, 2000, reply) == 0);
    CHECK(reply.size() == 26);
  }
  SECTION("RESP ping") {
    coronet_test::builtins_server srv(coronet::wire_protocol::resp);
    CHECK(count_server_allocations(srv.port(), "*1\r\n$4\r\nPING\r\n", 7, 200, 2000, reply) == 0);
    CHECK(reply == "+PONG\r\n");
  }
  SECTION("RESP inline ping (redis-benchmark's PING_INLINE)") {
    coronet_test::builtins_server srv(coronet::wire_protocol::resp);
    CHECK(count_server_allocations(srv.port(), "PING\r\n", 7, 200, 2000, reply) == 0);
    CHECK(reply == "+PONG\r\n");
  }
  SECTION("RESP timestamp") {
    coronet_test::builtins_server srv(coronet::wire_protocol::resp);
    CHECK(count_server_allocations(srv.port(), "*1\r\n$9\r\ntimestamp\r\n", 31, 200, 2000, reply) == 0);
    CHECK(reply.substr(0, 5) == "$24\r\n");
  }
  SECTION("RESP echo of 100 bytes (a writing handler's bulk, past reply's inline capacity)") {
    coronet_test::builtins_server srv(coronet::wire_protocol::resp);
    const std::string arg(100, 'e');
    CHECK(count_server_allocations(srv.port(), "*2\r\n$4\r\nECHO\r\n$100\r\n" + arg + "\r\n", 108, 200, 2000,
                                   reply) == 0);
    CHECK(reply == "$100\r\n" + arg + "\r\n");
  }
  SECTION("line echo (a writing handler in the line protocol)") {
    coronet_test::builtins_server srv(coronet::wire_protocol::line);
    CHECK(count_server_allocations(srv.port(), "echo hello\r\n", 7, 200, 2000, reply) == 0);
    CHECK(reply == "hello\r\n");
  }
}
