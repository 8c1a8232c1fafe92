#include "coronet/net/udp.hpp"

#include <sys/socket.h>

#include <asio/detail/socket_option.hpp>

namespace coronet::udp {

socket::socket(io_context_executor ex, const endpoint& local, const socket_options& opts) : socket_(ex.get()) {
  socket_.open(local.protocol());
  if (opts.reuse_address)
    socket_.set_option(asio::socket_base::reuse_address(true));
  if (opts.reuse_port)
    socket_.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
  socket_.bind(local);
  socket_.non_blocking(true);
}

}  // namespace coronet::udp
