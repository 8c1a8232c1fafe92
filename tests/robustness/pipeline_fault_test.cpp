// Clients that write their whole pipeline before reading a reply (redis-py's and
// hiredis's pipelines do), and peers that write and never read, against a server in this
// process. Backpressure pauses the execution of requests, not their
// reading: the first get every reply, the second are closed once they overflow
// max_query_buffer_bytes, or by output_stall_timeout once they stop sending.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <system_error>

#include <asio/error.hpp>

#include "coronet/coronet.hpp"
#include "coronet/server/server.hpp"
#include "support/eventually.hpp"
#include "support/running_server.hpp"
#include "support/test_certs.hpp"

namespace robustness_pipeline_fault_test {

using namespace std::chrono_literals;
using coronet::task;
using coronet_test::running_server;

namespace {

// The pipeline: 50 values of 1 MB (the default max_bulk_bytes is 1 MiB). Before
// the fix the kernel's buffers and the server took about 16 MB of a write-first pipeline
// before the client's write blocked for good; the shorter pipelines (30 MB) of the other
// cases, which keep the suite quick under sanitizers, are still well past that.
constexpr int pipeline_length = 50;
constexpr int short_length = 30;
constexpr std::size_t value_bytes = 1000 * 1000;
// Bounds each write and read of a client: a deadlock, not a slow sanitizer build.
constexpr auto io_limit = 120s;

// Value i: value_bytes of one letter, a different one per request, so that a reply out of
// order or cut short does not compare equal.
std::string value(int i) { return std::string(value_bytes, static_cast<char>('a' + i % 26)); }

// A server whose peers are behind as soon as 512 KiB of replies are unsent.
coronet::server_options small_output(coronet::wire_protocol p = coronet::wire_protocol::resp) {
  coronet::server_options o = coronet_test::quick_stop_options(p);
  o.max_output_bytes = 1024 * 1024;
  return o;
}

std::string resp_bulk(const std::string& v) { return "$" + std::to_string(v.size()) + "\r\n" + v + "\r\n"; }

// `PING value` of `length` values (the test router's ping echoes its argument), and the
// replies.
void resp_pipeline(std::string& requests, std::string& replies, int length = pipeline_length) {
  for (int i = 0; i < length; ++i) {
    const std::string v = value(i);
    requests += "*2\r\n$4\r\nping\r\n" + resp_bulk(v);
    replies += resp_bulk(v);
  }
}

// Sends all of `requests` before reading anything (shutting down its sending side after,
// with `half_close`), then reads `reply_bytes`; each within io_limit. A server that stops
// reading while the replies pile up makes the write time out.
task<std::string> write_all_then_read(std::uint16_t port, const std::string& requests, std::size_t reply_bytes,
                                      bool half_close = false) {
  coronet::tcp::socket s = co_await coronet::tcp::connect("127.0.0.1", port);
  co_await coronet::with_timeout(s.write_all(asio::buffer(requests)), io_limit);
  if (half_close)
    s.shutdown(asio::socket_base::shutdown_send);
  std::string got(reply_bytes, '\0');
  const std::size_t n = co_await coronet::with_timeout(s.read_exact(asio::buffer(got)), io_limit);
  got.resize(n);
  if (half_close) {
    // Then end of stream: the server finished the connection.
    char more[1];
    std::error_code ec;
    co_await coronet::with_timeout(s.read_some(asio::buffer(more), ec), io_limit);
    if (ec != asio::error::eof)
      got += "<no end of stream: " + ec.message() + ">";
  }
  co_return got;
}

// Writes 1 MB requests and reads nothing, until a write fails (at most 2 GB); what the
// writes ended with and how much they sent.
struct flood_outcome {
  std::error_code ec;
  std::size_t sent = 0;
};
task<flood_outcome> flood_without_reading(std::uint16_t port) {
  coronet::tcp::socket s = co_await coronet::tcp::connect("127.0.0.1", port);
  const std::string request = "*2\r\n$4\r\nping\r\n" + resp_bulk(value(0));
  flood_outcome out;
  for (int i = 0; i < 2000 && !out.ec; ++i) {
    const std::size_t n = co_await coronet::with_timeout(s.write_all(asio::buffer(request), out.ec), io_limit);
    out.sent += n;
  }
  co_return out;
}

using coronet_test::certs;

bool is_reset(const std::error_code& ec) {
  return ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
}

}  // namespace

TEST_CASE("a RESP client that writes 50 values of 1 MB before it reads gets every reply, in order", "[robustness]") {
  running_server srv(small_output());
  std::string requests, replies;
  resp_pipeline(requests, replies);
  const std::string got = coronet::sync_wait(write_all_then_read(srv.port(), requests, replies.size()));
  CHECK(got.size() == replies.size());
  CHECK(got == replies);
  CHECK(srv.get().stats().errors == 0);
}

TEST_CASE("the same with the default max_output_bytes and max_query_buffer_bytes", "[robustness]") {
  running_server srv(coronet_test::quick_stop_options());
  std::string requests, replies;
  resp_pipeline(requests, replies);
  const std::string got = coronet::sync_wait(write_all_then_read(srv.port(), requests, replies.size()));
  CHECK(got == replies);
}

TEST_CASE("a write-first pipeline that then closes its sending side gets every reply, then end of stream",
          "[robustness]") {
  running_server srv(small_output());
  std::string requests, replies;
  resp_pipeline(requests, replies, short_length);
  const std::string got = coronet::sync_wait(write_all_then_read(srv.port(), requests, replies.size(), true));
  CHECK(got == replies);
}

TEST_CASE("a line-protocol client that writes 30 MB of requests before it reads gets every reply", "[robustness]") {
  running_server srv(small_output(coronet::wire_protocol::line));
  // A line is at most max_request_bytes (64 KiB): 600 of 50 kB.
  std::string requests, replies;
  for (int i = 0; i < 600; ++i) {
    const std::string v(50 * 1000, static_cast<char>('a' + i % 26));
    requests += "ping " + v + "\n";
    replies += v + "\r\n";
  }
  const std::string got = coronet::sync_wait(write_all_then_read(srv.port(), requests, replies.size()));
  CHECK(got == replies);
}

TEST_CASE("an HTTP client that pipelines 30 POSTs of 1 MB before it reads gets 30 responses", "[robustness]") {
  running_server srv(small_output(coronet::wire_protocol::http));
  std::string requests;
  for (int i = 0; i < short_length; ++i) {
    requests += "POST /ping HTTP/1.1\r\nHost: x\r\nAccept: text/plain\r\nContent-Length: " +
                std::to_string(value_bytes) + "\r\n\r\n" + value(i);
  }
  // Each response: its head, then the value as text/plain; read until the server closes
  // after the last request, which asks for it.
  requests += "GET /ping HTTP/1.1\r\nHost: x\r\nAccept: text/plain\r\nConnection: close\r\n\r\n";
  auto scenario = [&]() -> task<std::string> {
    coronet::tcp::socket s = co_await coronet::tcp::connect("127.0.0.1", srv.port());
    co_await coronet::with_timeout(s.write_all(asio::buffer(requests)), io_limit);
    std::string got;
    char chunk[64 * 1024];
    std::error_code ec;
    while (!ec) {
      const std::size_t n = co_await coronet::with_timeout(s.read_some(asio::buffer(chunk), ec), io_limit);
      got.append(chunk, n);
    }
    if (ec != asio::error::eof)
      got += "<" + ec.message() + ">";
    co_return got;
  };
  const std::string got = coronet::sync_wait(scenario());
  std::size_t at = 0;
  for (int i = 0; i < short_length; ++i) {
    INFO("response " << i);
    REQUIRE(got.compare(at, 15, "HTTP/1.1 200 OK") == 0);
    const std::size_t body = got.find("\r\n\r\n", at);
    REQUIRE(body != std::string::npos);
    REQUIRE(got.compare(body + 4, value_bytes, value(i)) == 0);
    at = got.find("HTTP/1.1 ", body + 4 + value_bytes);
    REQUIRE(at != std::string::npos);
  }
  // The last response, PING's PONG, then the close it asked for.
  CHECK(got.compare(at, 15, "HTTP/1.1 200 OK") == 0);
  CHECK(got.size() >= 4);
  CHECK(got.substr(got.size() - 4) == "PONG");
}

TEST_CASE("a peer that writes forever and never reads is reset once it overflows max_query_buffer_bytes",
          "[robustness]") {
  coronet::server_options o = small_output();
  o.max_query_buffer_bytes = 8 * 1024 * 1024;
  // Never closed for not reading: only the query buffer limit may end it.
  o.output_stall_timeout = 0ms;
  running_server srv(o);
  const flood_outcome out = coronet::sync_wait(flood_without_reading(srv.port()));
  std::printf("measured: the flood ended with '%s' after %zu MB\n", out.ec.message().c_str(), out.sent / 1000000);
  CHECK(is_reset(out.ec));
  // What the server held (8 MB of requests, 512 KiB of replies) plus what the kernel
  // buffers on both sides took: far from the 2 GB the peer would have sent.
  CHECK(out.sent > o.max_query_buffer_bytes);
  CHECK(out.sent < 200u * 1000 * 1000);
  CHECK(coronet_test::eventually([&] { return srv.get().stats().errors >= 1; }));
  CHECK(coronet_test::eventually([&] { return srv.get().stats().connections_now == 0; }));
  // The server serves the next client, one whose write-first pipeline fits in the limit.
  std::string requests, replies;
  for (int i = 0; i < 5; ++i) {
    requests += "*2\r\n$4\r\nping\r\n" + resp_bulk(value(i));
    replies += resp_bulk(value(i));
  }
  CHECK(coronet::sync_wait(write_all_then_read(srv.port(), requests, replies.size())) == replies);
}

TEST_CASE("a peer that pipelines within the query buffer and never reads is closed by output_stall_timeout",
          "[robustness]") {
  coronet::server_options o = small_output();
  o.output_stall_timeout = 300ms;
  running_server srv(o);
  auto scenario = [&]() -> task<std::error_code> {
    coronet::tcp::socket s = co_await coronet::tcp::connect("127.0.0.1", srv.port());
    std::string requests, replies;
    resp_pipeline(requests, replies, 10);
    std::error_code ec;
    co_await coronet::with_timeout(s.write_all(asio::buffer(requests), ec), io_limit);
    if (ec)
      co_return ec;
    // Reads nothing until the server gives up on it; then what the read sees first is the
    // replies the kernel already had, then the close.
    co_await coronet::sleep_for(1s);
    std::string got;
    char chunk[64 * 1024];
    while (!ec) {
      const std::size_t n = co_await coronet::with_timeout(s.read_some(asio::buffer(chunk), ec), io_limit);
      got.append(chunk, n);
    }
    co_return ec;
  };
  const std::error_code ec = coronet::sync_wait(scenario());
  INFO(ec.message());
  CHECK((ec == asio::error::eof || is_reset(ec)));
  CHECK(coronet_test::eventually([&] { return srv.get().stats().errors >= 1; }));
}

TEST_CASE("a TLS client that writes 30 values of 1 MB before it reads gets every reply, in order", "[robustness]") {
  // TLS reads take only terminal cancellation: the read the writer cancels once the peer
  // caught up must leave the TLS stream usable.
  coronet::server_options o = small_output();
  o.tls_only = true;
  o.tls = {.certificate_file = certs().path("server.pem"), .key_file = certs().path("server.key")};
  running_server srv(o);
  std::string requests, replies;
  resp_pipeline(requests, replies, short_length);
  asio::ssl::context ssl = coronet::tls::make_client_context({.ca_file = certs().path("ca.pem")});
  auto scenario = [&]() -> task<std::string> {
    coronet::tcp::socket sock = co_await coronet::tcp::connect("127.0.0.1", srv.port());
    coronet::tls::stream s(std::move(sock), ssl);
    s.set_server_name("localhost");
    co_await coronet::with_timeout(s.handshake(coronet::tls::stream::client), io_limit);
    co_await coronet::with_timeout(s.write_all(asio::buffer(requests)), io_limit);
    std::string got(replies.size(), '\0');
    got.resize(co_await coronet::with_timeout(s.read_exact(asio::buffer(got)), io_limit));
    co_return got;
  };
  const std::string got = coronet::sync_wait(scenario());
  CHECK(got.size() == replies.size());
  CHECK(got == replies);
}

}  // namespace robustness_pipeline_fault_test
