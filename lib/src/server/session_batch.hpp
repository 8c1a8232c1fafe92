// The end of a batch of requests, one step for every command session loop (line, RESP,
// HTTP): flush the replies, apply backpressure, keep the partial-request clock.
#pragma once

#include <coroutine>
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <utility>

#include "command/dispatch.hpp"
#include "coronet/runtime/read_buffer.hpp"
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

// `co_await session_call(s, words)`: the request made of `words`, dispatched on the
// server's routes with `s` as its watch; yields the reply, valid while the awaiter lives
// (keep it in a named variable). An awaiter, not a coroutine: nothing is allocated.
class session_call {
public:
  // Per request, two stores and no more (the request path is counted in instructions):
  // busy_ and the request deadline are set by handler_suspended, for the handlers that
  // suspend. A request deadline left armed after its handler finished finds no handler
  // waiting and does nothing; the next suspension or partial-request deadline replaces it.
  session_call(session& s, std::span<const std::string_view> words) noexcept
      : req_(request::from_words(words)), call_(s.routes, req_, &s) {
    req_.conn = &s.conn;
    s.state = session::phase::handling;
  }
  session_call(const session_call&) = delete;
  session_call& operator=(const session_call&) = delete;
  const request& req() const noexcept { return req_; }
  bool await_ready() { return call_.await_ready(); }
  template <class Promise>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> h) {
    return call_.await_suspend(h);
  }
  const reply& await_resume() { return call_.await_resume(); }

private:
  request req_;
  dispatch_awaiter call_;
};

// `co_await read_step(s, io, in, limit, stop)`: the read that ends a turn of a session
// loop, of up to `limit` bytes into `in` under the partial-request clock, accounted by
// take_read; with `stop` (the drain ends the session here), no read and `finish`.
// An awaiter around the stream's, so the read allocates nothing.
template <class Writer>
class read_step {
  using read_awaiter = decltype(std::declval<Writer&>().stream().read_some(std::declval<asio::mutable_buffer>(),
                                                                           std::declval<std::error_code&>()));

public:
  read_step(session& s, Writer& io, read_buffer& in, std::size_t limit, bool stop) : s_(s), io_(io), in_(in) {
    if (!stop)
      read_.emplace(starter{s, io, in, limit, ec_});
  }
  bool await_ready() { return !read_ || read_->await_ready(); }
  template <class Promise>
  decltype(auto) await_suspend(std::coroutine_handle<Promise> h) {
    return read_->await_suspend(h);
  }
  after_read await_resume() {
    if (!read_)
      return after_read::finish;
    const std::size_t n = read_->await_resume();
    return take_read(s_, io_, in_, ec_, n);
  }

private:
  // Starts the read where the optional holds it: the stream's awaiter need not move.
  struct starter {
    session& s;
    Writer& io;
    read_buffer& in;
    std::size_t limit;
    std::error_code& ec;
    operator read_awaiter() const {
      s.enter(session::phase::reading);
      s.watch_partial();
      return io.stream().read_some(in.prepare(limit), ec);
    }
  };

  session& s_;
  Writer& io_;
  read_buffer& in_;
  std::error_code ec_;
  std::optional<read_awaiter> read_;
};

}  // namespace coronet::detail
