// The stream server's sweeper: the deadlines every connection has (handshake, idle, output
// stall) and the protocol deadlines connections arm (connection_core::set_deadline). It knows
// no protocol.
#include <chrono>
#include <system_error>

#include "coronet/core/detail/log_limiter.hpp"
#include "coronet/core/log.hpp"
#include "server/stream_runtime.hpp"

namespace coronet::detail {
namespace {

using steady = std::chrono::steady_clock;

log_limiter stall_log("stream_server: closing a connection whose peer reads none of its output");
log_limiter handshake_log("stream_server: closing a connection whose handshake did not finish");

// The counts of log lines suppressed in a burst are logged once its second is over, not
// with the next line, which may come much later or never.
void flush_suppressed_logs(stream_runtime& rt) noexcept {
  rt.tls_handshake_log.flush();
  rt.proxy_log.flush();
  stall_log.flush();
  handshake_log.flush();
}

std::chrono::milliseconds positive(std::chrono::milliseconds d) noexcept {
  return d.count() > 0 ? d : std::chrono::milliseconds(0);
}

// Notes whether `c`'s pending output moved since the last tick: its peer is reading, which
// is activity for idle_timeout; output that does not move is stalled from the tick it was
// first seen pending (so a stall measured is never longer than the real one).
void watch_output(connection_core& c, steady::time_point now) noexcept {
  if (c.buffered() == 0) {
    c.output_watched_ = false;
    return;
  }
  const std::uint64_t written = c.written();
  if (!c.output_watched_ || written != c.seen_written_) {
    if (c.output_watched_)
      c.last_active_ = now;
    c.output_watched_ = true;
    c.seen_written_ = written;
    c.output_since_ = now;
  }
}

}  // namespace

task<void> sweep_connections(stream_worker& w) {
  const auto tick = w.rt.tick;
  const auto handshake = positive(w.opts.handshake_timeout);
  const auto stall = positive(w.opts.output_stall_timeout);
  while (!w.draining || w.head != nullptr) {
    w.sweep_timer->expires_after(tick);
    std::error_code ec;
    co_await w.sweep_timer->wait(ec);
    w.now = steady::now();
    flush_suppressed_logs(w.rt);
    for (connection_core* c = w.head; c != nullptr;) {
      // A callback may close (never free) the connection; the list stays as it is.
      connection_core& s = *c;
      c = c->next_;
      if (s.closed_)
        continue;
      watch_output(s, w.now);
      if (stall.count() > 0 && s.output_watched_ && w.now - s.output_since_ >= stall) {
        stall_log.log(log_level::info, "stream_server: closing a connection whose peer reads none of its output");
        w.errors.add();
        s.close_transport();
      } else if (s.in_handshake_) {
        if (handshake.count() > 0 && w.now - s.handshake_since_ >= handshake) {
          handshake_log.log(log_level::info, "stream_server: closing a connection whose handshake did not finish");
          w.handshakes_timed_out.add();
          s.close_transport();
        }
      } else if (!s.busy_ && s.idle_timeout_.count() > 0 && w.now - s.last_active_ >= s.idle_timeout_ + tick) {
        // Activity is stamped with the last tick's time, up to a tick early: adding a tick
        // never closes early.
        s.close_transport();
      } else if (s.deadline_armed_ && w.now >= s.deadline_) {
        s.deadline_armed_ = false;
        if (s.deadline_expired_ != nullptr)
          s.deadline_expired_(s);
        else
          s.close_transport();
      }
    }
  }
}

}  // namespace coronet::detail
