#include "coronet/net/acceptor.hpp"

#include "net/open_and_bind.hpp"

namespace coronet::tcp {

acceptor::acceptor(io_context_executor ex, const endpoint& ep, const acceptor_options& opts) : acceptor_(ex.get()) {
  coronet::detail::open_and_bind(acceptor_, ep, opts.reuse_address, opts.reuse_port);
  acceptor_.listen(opts.backlog);
}

}  // namespace coronet::tcp
