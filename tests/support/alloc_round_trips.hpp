// Counting the server's heap allocations over steady-state round trips.
// Include after support/counting_new.hpp, in that one translation unit.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

#include "support/counting_new.hpp"
#include "support/router_calls.hpp"
#include "support/running_server.hpp"

namespace coronet_test {

/// A running server with the built-in commands, speaking `p`.
class builtins_server : public running_server {
public:
  explicit builtins_server(coronet::wire_protocol p) : running_server(test_server_options(p), builtins()) {}
};

/// Connects `s` to 127.0.0.1:`port` with TCP_NODELAY, so that no round trip
/// waits on a delayed ACK. Throws asio::system_error if it cannot.
inline void connect_no_delay(asio::ip::tcp::socket& s, std::uint16_t port) {
  s.connect({asio::ip::address_v4::loopback(), port});
  s.set_option(asio::ip::tcp::no_delay(true));
}

/// Sends `request` and reads `reply.size()` bytes into `reply`, `warmup`
/// rounds uncounted and then `rounds` counted; the global operator new calls
/// made meanwhile. asio's blocking calls on a plain socket allocate nothing,
/// so every count is the server's. Throws asio::system_error on a socket error.
inline std::size_t count_round_trip_allocations(asio::ip::tcp::socket& s, const std::string& request,
                                                std::string& reply, int warmup, int rounds) {
  for (int i = 0; i < warmup; ++i) {
    asio::write(s, asio::buffer(request));
    asio::read(s, asio::buffer(reply));
  }
  new_call_counter counter;
  for (int i = 0; i < rounds; ++i) {
    asio::write(s, asio::buffer(request));
    asio::read(s, asio::buffer(reply));
  }
  return counter.count();
}

}  // namespace coronet_test
