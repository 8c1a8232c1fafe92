// Opening and binding a listening TCP or a UDP socket, with the reuse options both offer.
#pragma once

#include <sys/socket.h>

#include <asio/detail/socket_option.hpp>
#include <asio/socket_base.hpp>

namespace coronet::detail {

// Opens `s` for `local`'s protocol, sets SO_REUSEADDR / SO_REUSEPORT as asked
// and binds it to `local`. Throws std::system_error.
template <class Socket, class Endpoint>
void open_and_bind(Socket& s, const Endpoint& local, bool reuse_address, bool reuse_port) {
  s.open(local.protocol());
  if (reuse_address)
    s.set_option(asio::socket_base::reuse_address(true));
  if (reuse_port)
    s.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
  s.bind(local);
}

}  // namespace coronet::detail
