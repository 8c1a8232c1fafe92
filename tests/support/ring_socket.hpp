// A socket whose reads and writes are coronet's awaiters (net/detail/stream_ops.hpp) over the
// io_uring stream (lib/src/net/uring/uring_stream.hpp), as the io_uring transport's socket
// will be, and a loopback pair with one: for the io_uring tests.
#pragma once

#include <utility>

#include <asio/io_context.hpp>

#include "coronet/core/task.hpp"
#include "coronet/net/detail/stream_ops.hpp"
#include "coronet/net/socket.hpp"
#include "net/uring/uring_stream.hpp"
#include "support/loopback_pair.hpp"

namespace coronet_test {

class ring_socket : public coronet::detail::stream_operations<ring_socket, coronet::detail::uring::stream, true> {
public:
  explicit ring_socket(coronet::tcp::socket s) : stream_(std::move(s.native())) {}
  coronet::detail::uring::stream& native() noexcept { return stream_; }

private:
  coronet::detail::uring::stream stream_;
};

// A connected loopback pair whose server end reads and writes through the ring.
struct ring_pair {
  coronet::tcp::socket client;
  ring_socket server;
};

inline coronet::task<ring_pair> make_ring_pair(asio::io_context& ctx) {
  connected_pair p = co_await make_pair(ctx);
  co_return ring_pair{std::move(p.client), ring_socket(std::move(p.server))};
}

}  // namespace coronet_test
