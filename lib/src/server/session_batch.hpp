// The end of a batch of requests, one step for every command session loop (line, RESP,
// HTTP): flush the replies, apply backpressure, keep the partial-request clock.
#pragma once

#include <coroutine>
#include <cstddef>

#include "server/session.hpp"

namespace coronet::detail {

// Backpressure: once more than half of max_output_bytes is unsent, no request is parsed or
// read until the peer has taken all but a quarter of it.
template <class Writer>
bool over_high_water(const session& s, const Writer& io) noexcept {
  return io.buffered() > s.worker.opts.max_output_bytes / 2;
}
inline std::size_t low_water(const session& s) noexcept { return s.worker.opts.max_output_bytes / 4; }

// What the end of a batch decided: read more, parse again (the peer was behind and has
// caught up), or stop (the output failed).
enum class batch_step { read, backpressure, stop };

// Ends a batch of requests: its replies go out in one write, a batch that completed a
// request is activity (bytes alone are not: a peer trickling a request that never
// completes, slowloris, stays idle), a peer that is behind pauses the loop, and a request
// left incomplete in the buffer (`buffered` bytes) is partial from its first byte on.
template <class Writer>
batch_step end_batch(session& s, Writer& io, std::size_t buffered, bool progressed, bool behind) noexcept {
  io.flush();
  if (io.failed())
    return batch_step::stop;
  if (progressed)
    s.core.last_active_ = s.rt.now;
  if (behind || over_high_water(s, io)) {
    // The requests already read wait in the buffer; a peer that takes nothing meanwhile is
    // closed by the output stall deadline.
    s.enter(session::phase::writing);
    return batch_step::backpressure;
  }
  if (buffered == 0) {
    s.partial = false;
  } else if (progressed || !s.partial) {
    s.partial = true;
    s.partial_since = s.rt.now;
  }
  return batch_step::read;
}

// `co_await batch_end(s, io, ...)`: end_batch, then, when the peer is behind, the wait until
// it has taken all but a quarter of max_output_bytes (a failed output then yields stop).
// An awaiter, not a coroutine: the request path allocates nothing.
template <class Writer>
class batch_end {
public:
  batch_end(session& s, Writer& io, std::size_t buffered, bool progressed, bool behind) noexcept
      : io_(io), step_(end_batch(s, io, buffered, progressed, behind)), wait_(io.drained_below(low_water(s))) {}
  bool await_ready() const noexcept { return step_ != batch_step::backpressure || wait_.await_ready(); }
  template <class Promise>
  void await_suspend(std::coroutine_handle<Promise> h) noexcept {
    wait_.await_suspend(h);
  }
  batch_step await_resume() const noexcept {
    return step_ == batch_step::backpressure && io_.failed() ? batch_step::stop : step_;
  }

private:
  Writer& io_;
  batch_step step_;
  typename Writer::drain_awaiter wait_;
};

}  // namespace coronet::detail
