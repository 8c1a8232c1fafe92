// SIGINT/SIGTERM/SIGHUP handling shared by coronet's servers.
#pragma once

#include <functional>
#include <system_error>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>

namespace coronet::detail {

/// Waits for SIGINT, SIGTERM and SIGHUP on an io_context for a server's
/// `run()`: SIGINT or SIGTERM while no drain is under way calls `drain` (and
/// keeps waiting); during the drain it calls `exit_now`. SIGHUP never stops
/// the server, whenever it comes: it calls `reload` (which reloads what can be
/// reloaded and logs it; an exception it throws is logged), or, without one,
/// is logged and ignored. Each event is logged.
class shutdown_signals {
public:
  /// `stopping()` tells whether a drain is already under way.
  shutdown_signals(asio::io_context& ctx, std::function<bool()> stopping, std::function<void()> drain,
                   std::function<void()> exit_now, std::function<void()> reload = {});

  /// Stops waiting, so the io_context can run out of work.
  void cancel() noexcept;

private:
  void arm();
  void on_signal(const std::error_code& ec, int sig);
  void on_hangup() noexcept;

  asio::signal_set set_;
  std::function<bool()> stopping_;
  std::function<void()> drain_;
  std::function<void()> exit_now_;
  std::function<void()> reload_;
};

}  // namespace coronet::detail
