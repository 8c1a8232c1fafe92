// One TLS exchange with a test server: connect, handshake, send, read a fixed-size reply.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <asio/buffer.hpp>
#include <asio/io_context.hpp>

#include "coronet/core/sync_wait.hpp"
#include "coronet/core/task.hpp"
#include "coronet/net/connect.hpp"
#include "coronet/net/timeout.hpp"
#include "coronet/tls/context.hpp"
#include "coronet/tls/stream.hpp"
#include "support/test_certs.hpp"

namespace coronet_test {

/// Connects to 127.0.0.1:`port` over TLS (trusting the test CA, server name "localhost"),
/// sends `request` and returns the next `reply_size` bytes. The handshake and the read are
/// each bounded by 5 s; throws on any failure.
inline std::string tls_round_trip(std::uint16_t port, std::string_view request, std::size_t reply_size) {
  using namespace std::chrono_literals;
  asio::io_context ctx;
  asio::ssl::context client = coronet::tls::make_client_context({.ca_file = certs().path("ca.pem")});
  return coronet::sync_wait(ctx, [&]() -> coronet::task<std::string> {
    coronet::tcp::socket sock = co_await coronet::tcp::connect(ctx.get_executor(), "127.0.0.1", port);
    coronet::tls::stream tls(std::move(sock), client);
    tls.set_server_name("localhost");
    co_await coronet::with_timeout(
        [](coronet::tls::stream& t) -> coronet::task<void> { co_await t.handshake(coronet::tls::stream::client); }(tls),
        5s);
    co_await tls.write_all(asio::buffer(request));
    std::string reply(reply_size, '\0');
    co_await coronet::with_timeout(
        [](coronet::tls::stream& t, std::string& r) -> coronet::task<void> {
          co_await t.read_exact(asio::buffer(r));
        }(tls, reply),
        5s);
    co_return reply;
  }());
}

}  // namespace coronet_test
