#include "coronet/net/udp.hpp"

#include "net/open_and_bind.hpp"

namespace coronet::udp {

socket::socket(io_context_executor ex, const endpoint& local, const socket_options& opts) : basic_socket(ex) {
  coronet::detail::open_and_bind(socket_, local, opts.reuse_address, opts.reuse_port);
  socket_.non_blocking(true);
}

}  // namespace coronet::udp
