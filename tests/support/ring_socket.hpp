// A connected loopback pair whose server end is a tcp::socket on its io_context's io_uring ring
// (coronet/net/detail/ring_transport.hpp), as a server with backend = io_uring accepts it: for
// the io_uring tests.
#pragma once

#include <utility>

#include <asio/io_context.hpp>

#include "coronet/core/task.hpp"
#include "coronet/net/socket.hpp"
#include "support/loopback_pair.hpp"

namespace coronet_test {

// A connected loopback pair whose server end reads and writes through the ring.
struct ring_pair {
  coronet::tcp::socket client;
  coronet::tcp::socket server;
};

inline coronet::task<ring_pair> make_ring_pair(asio::io_context& ctx) {
  connected_pair p = co_await make_pair(ctx);
  p.server.native().use_ring(coronet::detail::uring::ring_of(ctx));
  co_return ring_pair{std::move(p.client), std::move(p.server)};
}

}  // namespace coronet_test
