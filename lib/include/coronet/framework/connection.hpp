// What a command handler may know about, and do to, the connection it serves.
#pragma once

#include <string_view>

#include "coronet/framework/wire_protocol.hpp"
#include "coronet/net/socket.hpp"

namespace coronet {

class server;

/// The connection a request arrived on, as a handler sees it (`request::conn`).
/// Valid for the duration of the handler; used only on the connection's thread.
class connection {
public:
  /// The peer's address.
  tcp::endpoint peer;
  /// The protocol in use (never `auto_detect` once a request was parsed).
  wire_protocol protocol = wire_protocol::auto_detect;
  /// The server that accepted the connection; null outside a server.
  const server* owner = nullptr;

  /// Asks for the connection to be closed once the current reply is sent.
  void close_after_reply() noexcept { close_after_reply_ = true; }
  /// True once `close_after_reply()` was called.
  bool closing() const noexcept { return close_after_reply_; }

private:
  bool close_after_reply_ = false;
};

}  // namespace coronet
