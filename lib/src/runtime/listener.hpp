// coronet::tcp::accept_loop and lingering_close: the two ends of a server's connections.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <system_error>

#include "coronet/net/acceptor.hpp"
#include "coronet/net/socket.hpp"
#include "coronet/core/task.hpp"

namespace coronet::tcp {

/// Called by `accept_loop` with each accepted connection, on the thread
/// running the acceptor's io_context. It owns the socket from then on
/// (typically it spawns a session for it); it must not suspend.
using accept_handler = std::function<void(socket)>;

/// How an `accept_loop` behaves.
struct listener_options {
  /// After an accept failed for lack of descriptors or memory (EMFILE, ENFILE,
  /// ENOBUFS, ENOMEM), accepting pauses this long: the pending connection
  /// stays in the backlog, so retrying at once would only spin.
  std::chrono::milliseconds backoff = std::chrono::milliseconds(100);
  /// Checked after each accept: when it yields true, the connection just
  /// accepted is closed unhandled and the loop returns. Empty: never.
  std::function<bool()> stop_requested;
  /// Called with each accept error (not the `operation_aborted` that ends the
  /// loop), before the pause if any; e.g. to count it. Empty: not called.
  std::function<void(const std::error_code&)> on_error;
  /// Names the server in the log messages (`"<log_name>: accept: ..."`).
  std::string log_name = "server";
};

/// Accepts connections on `a` and hands each to `on_accepted` until `a` is
/// closed (before the loop starts, or while it waits: the pending accept then
/// ends with `operation_aborted`), or `opts.stop_requested()` holds after an
/// accept.
///
/// Accept errors never end the loop: they go to `opts.on_error`, are logged
/// (at most one message a second over all loops, with a count of the ones
/// suppressed), and on descriptor or memory exhaustion accepting pauses for
/// `opts.backoff`. Cancelling the awaiting chain ends the loop like closing
/// `a` does. An exception thrown by `on_accepted` or `opts.stop_requested`
/// ends the loop and propagates; so does `std::bad_alloc`.
///
/// `a` must outlive the loop; run it on the thread running `a`'s io_context.
task<void> accept_loop(acceptor& a, accept_handler on_accepted, listener_options opts = {});

/// True for the accept errors after which a server should pause accepting:
/// out of file descriptors (EMFILE, ENFILE) or kernel memory (ENOBUFS, ENOMEM).
bool is_descriptor_exhaustion(const std::error_code& ec) noexcept;

/// Closes `s` without resetting the connection, so a reply just written
/// arrives intact: shuts down sending (the peer sees end of stream after the
/// reply), then reads and discards what the peer still sends until it closes
/// or `linger` has passed (0: not at all), then closes `s`.
///
/// Errors (the peer reset, the shutdown failed, the wait was cancelled through
/// the awaiting chain) only end the wait early; `s` is closed in every case.
/// Throws only `std::bad_alloc`, after closing `s`. `s` must outlive the task.
task<void> lingering_close(socket& s, std::chrono::milliseconds linger);

}  // namespace coronet::tcp
