#include "runtime/listener.hpp"

#include <string>
#include <utility>

#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/socket_base.hpp>

#include "coronet/core/detail/log_limiter.hpp"
#include "coronet/core/log.hpp"
#include "coronet/net/timeout.hpp"
#include "coronet/net/timer.hpp"

namespace coronet::tcp {
namespace {

// One for all loops: a process out of descriptors fails every accept at once.
coronet::detail::log_limiter accept_error_log;

task<void> discard_until_closed(socket& s) {
  char sink[4096];
  std::error_code ec;
  while (!ec)
    co_await s.read_some(asio::buffer(sink), ec);
}

}  // namespace

bool is_descriptor_exhaustion(const std::error_code& ec) noexcept {
  return ec == asio::error::no_descriptors || ec == std::errc::too_many_files_open_in_system ||
         ec == asio::error::no_buffer_space || ec == asio::error::no_memory;
}

task<void> accept_loop(acceptor& a, accept_handler on_accepted, listener_options opts) {
  for (;;) {
    std::error_code ec;
    socket s = co_await a.accept(ec);
    // Accepting on an acceptor closed before the loop started fails with
    // bad_descriptor, not operation_aborted.
    if (ec == asio::error::operation_aborted || !a.is_open() || (opts.stop_requested && opts.stop_requested()))
      co_return;
    if (!ec) {
      on_accepted(std::move(s));
      continue;
    }
    if (opts.on_error)
      opts.on_error(ec);
    if (!is_descriptor_exhaustion(ec)) {
      accept_error_log.log(log_level::warning, opts.log_name + ": accept: " + ec.message());
      continue;
    }
    accept_error_log.log(log_level::warning, opts.log_name + ": accept: " + ec.message() + "; pausing accepts");
    co_await sleep_for(opts.backoff, ec);
    if (ec == asio::error::operation_aborted)
      co_return;
  }
}

task<void> lingering_close(socket& s, std::chrono::milliseconds linger) {
  std::error_code ec;
  s.shutdown(asio::socket_base::shutdown_send, ec);
  if (!ec && linger.count() > 0) {
    try {
      // The drain ends by itself at the peer's close, a reset or a
      // cancellation; the timeout cancels it otherwise.
      co_await with_timeout(discard_until_closed(s), linger);
    } catch (...) {
      s.close(ec);
      throw;
    }
  }
  s.close(ec);
}

}  // namespace coronet::tcp
