// SIGINT/SIGTERM handling shared by coronet's servers.
#pragma once

#include <functional>
#include <system_error>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>

namespace coronet::detail {

/// Waits for SIGINT and SIGTERM on an io_context for a server's `run()`: a
/// signal while no drain is under way calls `drain` (and keeps waiting); a
/// signal during the drain calls `exit_now`. Each event is logged.
class shutdown_signals {
public:
  /// `stopping()` tells whether a drain is already under way.
  shutdown_signals(asio::io_context& ctx, std::function<bool()> stopping, std::function<void()> drain,
                   std::function<void()> exit_now);

  /// Stops waiting, so the io_context can run out of work.
  void cancel() noexcept;

private:
  void arm();
  void on_signal(const std::error_code& ec, int sig);

  asio::signal_set set_;
  std::function<bool()> stopping_;
  std::function<void()> drain_;
  std::function<void()> exit_now_;
};

}  // namespace coronet::detail
