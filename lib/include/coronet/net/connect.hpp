// coronet::tcp::connect: resolve a host name and connect to the first address that answers.
#pragma once

#include <cstdint>
#include <string>
#include <system_error>

#include "coronet/core/task.hpp"
#include "coronet/net/io_context_executor.hpp"
#include "coronet/net/socket.hpp"

namespace coronet::tcp {

/// How `connect` sets up the socket it yields.
struct connect_options {
  /// TCP_NODELAY on the connected socket (see `set_no_delay`): small writes
  /// go out at once instead of waiting for the peer's ACK of earlier ones.
  /// Best effort: a socket that refuses the option is yielded without it.
  bool no_delay = true;
};

/// Resolves `host` (a name or a numeric address; numeric ones skip the
/// resolver) and tries each address in turn until one accepts the connection;
/// the socket runs on `ex` (an `io_context&`, its executor, or an
/// `asio::any_io_executor` wrapping one, such as `co_await this_executor`).
/// Throws `std::system_error` from `co_await` with the resolver's error, or
/// with the last connection error (e.g. `asio::error::connection_refused`)
/// when every address failed; throws `std::invalid_argument` at the call for
/// an `any_io_executor` that wraps no io_context executor. The socket has
/// TCP_NODELAY set, as with default `connect_options`.
task<socket> connect(io_context_executor ex, std::string host, std::uint16_t port);

/// As above, with the socket set up as `options` says.
task<socket> connect(io_context_executor ex, std::string host, std::uint16_t port, connect_options options);

/// As above; errors from `co_await` go to `ec` and the yielded socket is closed.
task<socket> connect(io_context_executor ex, std::string host, std::uint16_t port, std::error_code& ec);

/// As above, with the socket set up as `options` says.
task<socket> connect(io_context_executor ex, std::string host, std::uint16_t port, connect_options options,
                     std::error_code& ec);

/// As `connect(ex, host, port)`, on the executor of the calling task (which
/// must be an io_context executor; otherwise throws `std::logic_error`).
task<socket> connect(std::string host, std::uint16_t port);

/// As above, with the socket set up as `options` says.
task<socket> connect(std::string host, std::uint16_t port, connect_options options);

}  // namespace coronet::tcp
