// TCP socket options coronet sets on the connections it makes and accepts.
#pragma once

#include <system_error>

#include <asio/ip/tcp.hpp>

#include "coronet/net/socket.hpp"

namespace coronet::tcp {

/// Turns Nagle's algorithm off (`on` = true, TCP_NODELAY set) or back on.
///
/// With Nagle on, a small write that follows unacknowledged data waits for
/// the peer's ACK, which a peer with delayed ACKs holds back for up to 40 ms:
/// the last reply of a pipelined batch arrives that much late. coronet
/// therefore sets TCP_NODELAY on every socket it connects or accepts (see
/// `connect_options::no_delay`, `server_options::tcp_nodelay`,
/// `client_options::tcp_nodelay`). Errors (e.g. `bad_descriptor` on a closed
/// socket) go to `ec`; never throws.
inline void set_no_delay(socket& s, bool on, std::error_code& ec) noexcept {
  s.native().set_option(asio::ip::tcp::no_delay(on), ec);
}

/// True if TCP_NODELAY is set on `s`; false with `ec` set if it cannot be
/// read (e.g. a closed socket). Never throws.
inline bool no_delay(const socket& s, std::error_code& ec) noexcept {
  asio::ip::tcp::no_delay option;
  s.native().get_option(option, ec);
  return !ec && option.value();
}

}  // namespace coronet::tcp
