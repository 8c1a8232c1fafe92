#include "runtime/shutdown_signals.hpp"

#include <csignal>
#include <string>
#include <utility>

#include "coronet/core/log.hpp"

namespace coronet::detail {

shutdown_signals::shutdown_signals(asio::io_context& ctx, std::function<bool()> stopping, std::function<void()> drain,
                                   std::function<void()> exit_now)
    : set_(ctx, SIGINT, SIGTERM),
      stopping_(std::move(stopping)),
      drain_(std::move(drain)),
      exit_now_(std::move(exit_now)) {
  arm();
}

void shutdown_signals::cancel() noexcept {
  std::error_code ignored;
  set_.cancel(ignored);
}

void shutdown_signals::arm() {
  set_.async_wait([this](const std::error_code& ec, int sig) { on_signal(ec, sig); });
}

void shutdown_signals::on_signal(const std::error_code& ec, int sig) {
  if (ec)
    return;
  if (!stopping_()) {
    log(log_level::info, "signal " + std::to_string(sig) + ": draining (send it again to exit at once)");
    drain_();
    arm();
  } else {
    log(log_level::warning, "signal " + std::to_string(sig) + " during the drain: exiting at once");
    exit_now_();
  }
}

}  // namespace coronet::detail
