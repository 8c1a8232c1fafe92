// Connected TCP pairs on 127.0.0.1 for the io tests: no fixed ports, no sleeps.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>

#include <asio/io_context.hpp>
#include <asio/ip/address_v4.hpp>
#include <asio/socket_base.hpp>

#include "coronet/net/acceptor.hpp"
#include "coronet/net/socket.hpp"
#include "coronet/net/timeout.hpp"
#include "coronet/core/task.hpp"

namespace coronet_test {

// 127.0.0.1 with a port the kernel picks.
inline coronet::tcp::endpoint loopback_v4_any_port() { return {asio::ip::address_v4::loopback(), 0}; }

struct connected_pair {
  coronet::tcp::socket client;
  coronet::tcp::socket server;
};

// A connected loopback pair: the kernel completes the handshake before accept runs.
inline coronet::task<connected_pair> make_pair(asio::io_context& ctx) {
  coronet::tcp::acceptor acceptor(ctx, loopback_v4_any_port());
  coronet::tcp::socket client(ctx);
  co_await client.connect(acceptor.local_endpoint());
  coronet::tcp::socket server = co_await acceptor.accept();
  co_return connected_pair{std::move(client), std::move(server)};
}

// Resets the connection: the peer sees an RST instead of a FIN.
inline void reset(coronet::tcp::socket& s) {
  s.native().set_option(asio::socket_base::linger(true, 0));
  s.close();
}

// Reads exactly `n` bytes from `s`; throws if they take longer than `limit`.
inline coronet::task<std::string> read_exactly(coronet::tcp::socket& s, std::size_t n,
                                               std::chrono::seconds limit = std::chrono::seconds(30)) {
  std::string got(n, '\0');
  co_await coronet::with_timeout(
      [&]() -> coronet::task<std::size_t> {
        co_return co_await s.read_exact(asio::buffer(got));
      }(),
      limit);
  co_return got;
}

// `n` bytes in a pattern that does not repeat every few bytes, so that a
// reader can tell a reordered or dropped chunk.
inline std::string patterned_bytes(std::size_t n) {
  std::string out(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    out[i] = static_cast<char>((i * 7) ^ (i >> 8) ^ (i >> 16));
  return out;
}

}  // namespace coronet_test
