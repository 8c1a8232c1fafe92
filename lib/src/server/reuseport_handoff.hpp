// Handing a SO_REUSEPORT port over to another process on drain (a restart
// without refused or reset connections; see docs/deploy.md).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>

#include "coronet/net/acceptor.hpp"
#include "coronet/net/socket.hpp"
#include "coronet/core/task.hpp"

namespace coronet::detail {

// Steers the new connections of `a`'s SO_REUSEPORT group to the socket at
// index `first_other` (a classic BPF program on the group): the group's
// sockets are indexed in the order they were bound, so with this process's
// `first_other` sockets bound first, that is the first socket of the process
// that bound the port after it. With no such socket the kernel falls back to
// its hash, as without a program. Best effort: false if the kernel refuses.
bool steer_to_next_process(tcp::acceptor& a, unsigned first_other) noexcept;

// How long a steered port's listening socket outlives its acceptor: the
// connections whose handshake was under way when the steering began land in
// its queue meanwhile.
inline constexpr std::chrono::milliseconds handoff_linger{50};

// Call just before closing `a`: takes the connections already queued, and
// keeps the listening socket open (a duplicate descriptor) for
// handoff_linger after `a` is closed, then takes what was queued meanwhile
// and closes it. Each connection goes to `on_accepted`. The returned task
// does the later part and owns the duplicate; none if it cannot be made.
std::optional<task<void>> hand_over(tcp::acceptor& a, std::function<void(tcp::socket)> on_accepted);

// How long, into a reuse_port drain, a connection that has not sent its
// first request yet may still send it (it is answered, then closed).
inline constexpr std::chrono::milliseconds fresh_connection_grace{200};

}  // namespace coronet::detail
