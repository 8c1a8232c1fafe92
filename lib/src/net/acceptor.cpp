#include "coronet/net/acceptor.hpp"

#include <sys/socket.h>

#include <asio/detail/socket_option.hpp>

namespace coronet::tcp {

acceptor::acceptor(io_context_executor ex, const endpoint& ep, const acceptor_options& opts) : acceptor_(ex.get()) {
  acceptor_.open(ep.protocol());
  if (opts.reuse_address)
    acceptor_.set_option(asio::socket_base::reuse_address(true));
  if (opts.reuse_port)
    acceptor_.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
  acceptor_.bind(ep);
  acceptor_.listen(opts.backlog);
}

}  // namespace coronet::tcp
