// A steady-state keep-alive HTTP request through the whole server (read,
// parse with llhttp, map, route, run the handler, encode JSON, write)
// makes no heap allocation.
#include <catch2/catch.hpp>

#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>

#include <string>

#include "support/counting_new.hpp"
#include "support/alloc_round_trips.hpp"

namespace {

// The size of the whole response to `request` (its Content-Length body
// included), measured on a first exchange.
std::size_t response_size(asio::ip::tcp::socket& s, const std::string& request) {
  asio::write(s, asio::buffer(request));
  std::string head;
  const std::size_t n = asio::read_until(s, asio::dynamic_buffer(head), "\r\n\r\n");
  const std::size_t at = head.find("Content-Length: ");
  REQUIRE(at != std::string::npos);
  const std::size_t length = std::stoul(head.substr(at + 16));
  std::string rest(n + length - head.size(), '\0');
  asio::read(s, asio::buffer(rest));
  return n + length;
}

// Sends `request` and reads its whole response, `rounds` times, after
// `warmup` rounds; the buffers are made before the counting starts and asio's
// blocking calls on a plain socket allocate nothing, so every count is the
// server's.
std::size_t count_server_allocations(std::uint16_t port, const std::string& request, int warmup, int rounds,
                                     std::string& last_reply) {
  asio::io_context ctx;
  asio::ip::tcp::socket s(ctx);
  coronet_test::connect_no_delay(s, port);
  last_reply.assign(response_size(s, request), '\0');
  return coronet_test::count_round_trip_allocations(s, request, last_reply, warmup, rounds);
}

}  // namespace

TEST_CASE("steady-state keep-alive HTTP requests allocate nothing in the server", "[http][alloc]") {
  coronet_test::builtins_server srv(coronet::wire_protocol::http);
  std::string reply;
  SECTION("GET /ping (wrk's request)") {
    CHECK(count_server_allocations(srv.port(), "GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 200, 2000, reply) == 0);
    CHECK(reply.starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(reply.ends_with("\r\n\r\n{\"ping\":\"PONG\"}"));
  }
  SECTION("GET /ping with curl's headers, text/plain") {
    CHECK(count_server_allocations(srv.port(),
                                   "GET /ping.txt HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/7.88.1\r\n"
                                   "Accept: */*\r\n\r\n",
                                   200, 2000, reply) == 0);
    CHECK(reply.ends_with("\r\n\r\nPONG"));
  }
  SECTION("GET /timestamp/iso") {
    CHECK(count_server_allocations(srv.port(), "GET /timestamp/iso HTTP/1.1\r\nHost: x\r\n\r\n", 200, 2000, reply) ==
          0);
    CHECK(reply.find("{\"timestamp\":\"") != std::string::npos);
  }
}
