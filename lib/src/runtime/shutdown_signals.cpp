#include "runtime/shutdown_signals.hpp"

#include <csignal>
#include <exception>
#include <new>
#include <string>
#include <utility>

#include "coronet/core/log.hpp"

namespace coronet::detail {

shutdown_signals::shutdown_signals(asio::io_context& ctx, std::function<bool()> stopping, std::function<void()> drain,
                                   std::function<void()> exit_now, std::function<void()> reload)
    : set_(ctx, SIGINT, SIGTERM, SIGHUP),
      stopping_(std::move(stopping)),
      drain_(std::move(drain)),
      exit_now_(std::move(exit_now)),
      reload_(std::move(reload)) {
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
  if (sig == SIGHUP) {
    // Its default action would end the process without a drain: a terminal closing,
    // or `kill -HUP` meant to reload, must not take the server down.
    on_hangup();
    arm();
    return;
  }
  if (!stopping_()) {
    log(log_level::info, "signal " + std::to_string(sig) + ": draining (send it again to exit at once)");
    drain_();
    arm();
  } else {
    log(log_level::warning, "signal " + std::to_string(sig) + " during the drain: exiting at once");
    exit_now_();
  }
}

void shutdown_signals::on_hangup() noexcept {
  if (!reload_) {
    log(log_level::info, "signal 1 (SIGHUP): nothing to reload, serving on");
    return;
  }
  try {
    reload_();
  } catch (const std::exception& e) {
    try {
      log(log_level::error, std::string("signal 1 (SIGHUP): reload failed, serving on: ") + e.what());
    } catch (const std::bad_alloc&) {
      log(log_level::error, "signal 1 (SIGHUP): reload failed, serving on");
    }
  }
}

}  // namespace coronet::detail
