// The end of a batch of requests, one step for every command session loop (line, RESP,
// HTTP): flush the replies, apply backpressure (reading on while the peer is behind, up to
// max_query_buffer_bytes), keep the partial-request clock.
#pragma once

#include <algorithm>
#include <coroutine>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/error.hpp>

#include "command/direct_lane.hpp"
#include "command/dispatch.hpp"
#include "coronet/core/task.hpp"
#include "coronet/net/detail/io_awaiter.hpp"
#include "coronet/net/detail/lazy_read.hpp"
#include "coronet/protocol/codec.hpp"
#include "coronet/runtime/read_buffer.hpp"
#include "server/session.hpp"

namespace coronet::detail {

// Backpressure: once more than half of max_output_bytes is unsent, no request is executed
// until the peer has taken all but a quarter of it. Reading goes on meanwhile (see
// wait_for_peer): a client that sends its whole pipeline before it reads its replies, as
// redis-py and hiredis pipelines do, would otherwise wait for us as we wait for it.
template <class Writer>
bool over_high_water(const session& s, const Writer& io) noexcept {
  return io.buffered() > s.worker.opts.max_output_bytes / 2;
}
inline std::size_t low_water(const session& s) noexcept { return s.worker.opts.max_output_bytes / 4; }

// How many bytes of requests a session may hold while its peer is behind: the
// max_query_buffer_bytes option, and never less than one request of `request_limit` bytes.
inline std::size_t query_buffer_limit(const session& s, std::size_t request_limit) noexcept {
  return std::max(s.worker.opts.max_query_buffer_bytes, request_limit);
}

// What the end of a batch decided: read more, wait for a peer that is behind (then parse
// again), or stop (the output failed).
enum class batch_step { read, backpressure, stop };

// Ends a batch of requests: its replies go out in one write, a batch that completed a
// request is activity (bytes alone are not: a peer trickling a request that never
// completes, slowloris, stays idle), a peer that is behind pauses the execution of
// requests, a request left incomplete in the buffer `in` is partial from its first byte on,
// and a buffer that grew past `request_limit` holding requests read ahead while the peer
// was behind is given back once they are all parsed (an idle connection keeps no large
// buffer). Once per batch, never per request.
template <class Writer>
batch_step end_batch(session& s, Writer& io, read_buffer& in, std::size_t request_limit, bool progressed,
                     bool behind) noexcept {
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
  if (in.size() == 0) {
    s.partial = false;
    if (in.capacity() > request_limit)
      in = read_buffer();
  } else if (progressed || !s.partial) {
    s.partial = true;
    s.partial_since = s.rt.now;
  }
  return batch_step::read;
}

// The read of a session whose peer is behind, of up to `room` bytes; it ends early, with
// operation_aborted and drained() set, once the writer is at most `low` bytes behind (or
// failed). Its own cancellation signal, not the chain's: the writer cancels this read only.
template <class Writer>
class read_or_drained : public io_awaiter<read_or_drained<Writer>, std::size_t> {
  using base = io_awaiter<read_or_drained<Writer>, std::size_t>;

public:
  read_or_drained(Writer& io, asio::mutable_buffer room, std::size_t low, std::error_code& ec) noexcept
      : base(&ec), io_(io), room_(room), low_(low) {}
  read_or_drained(const read_or_drained&) = delete;
  read_or_drained& operator=(const read_or_drained&) = delete;

  // Called by io_awaiter::await_suspend. No handler runs before it returns (both complete
  // on this thread's io_context), so the callback may be set first and undone on a throw.
  void initiate(io_handler<read_or_drained> h) {
    io_.on_drained_below(low_, &drained_now, this);
    try {
      io_.stream().native().async_read_some(room_, asio::bind_cancellation_slot(signal_.slot(), std::move(h)));
    } catch (...) {
      io_.forget_drain_callback();
      throw;
    }
  }
  void complete(std::error_code ec, std::size_t n) noexcept {
    io_.forget_drain_callback();
    signal_.slot().clear();
    this->ec_ = ec;
    this->result_ = n;
  }
  // The writer caught up while the read was pending (it was cancelled unless it had data).
  bool drained() const noexcept { return drained_; }

private:
  static void drained_now(void* self) noexcept {
    auto* a = static_cast<read_or_drained*>(self);
    a->drained_ = true;
    // TLS reads pass on terminal cancellation only, socket reads any kind. A read still
    // waiting has taken no bytes, so the stream stays usable either way.
    a->signal_.emit(asio::cancellation_type::terminal | asio::cancellation_type::partial);
  }

  Writer& io_;
  asio::mutable_buffer room_;
  std::size_t low_;
  bool drained_ = false;
  asio::cancellation_signal signal_;
};

// After end_batch's backpressure: waits until the peer has taken all but a quarter of
// max_output_bytes, reading on meanwhile, without executing, up to `limit` bytes of
// requests in `in`; then yields true: execute on. False: stop, the output or the read
// failed, or a peer sent more than `limit` while it read nothing and was closed
// (query_buffer_overflow: it sees a reset). A peer that is done sending sets `ended`: its
// buffered requests are still executed, then the session finishes. Draining, or once
// `ended`, nothing more is read. Runs on the backpressure path only; its frame comes from
// the frame pool.
template <class Writer>
task<bool> wait_for_peer(session& s, Writer& io, read_buffer& in, std::size_t limit, bool& ended) {
  const std::size_t low = low_water(s);
  const std::size_t room = limit < static_cast<std::size_t>(-1) ? limit + 1 : limit;
  while (!io.drained_below(low).await_ready()) {
    if (ended || s.rt.draining) {
      co_await io.drained_below(low);
      break;
    }
    std::error_code ec;
    read_or_drained<Writer> read(io, in.prepare(room), low, ec);
    const std::size_t n = co_await read;
    if (read.drained() && ec == asio::error::operation_aborted)
      continue;
    switch (take_read(s, io, in, ec, n)) {
      case after_read::more:
        if (in.size() > limit) {
          query_buffer_overflow(s);
          co_return false;
        }
        break;
      case after_read::finish:
        ended = true;
        co_await io.drained_below(low);
        co_return !io.failed();
      case after_read::end: co_return false;
    }
  }
  co_return !io.failed();
}

// After a command: the codec encodes in the RESP version the connection now speaks. HELLO's
// own reply is then already in the version it chose, as in Redis.
template <request_codec Codec>
[[gnu::always_inline]] inline void follow_protover(Codec& codec, const session& s) noexcept {
  if constexpr (requires { codec.set_protover(2); })
    codec.set_protover(s.conn.protover);
}

// Where writing handlers write: the output, in the codec's encoding.
template <request_codec Codec>
response_target target_of(const Codec& codec, output_buffer& out) noexcept {
  if constexpr (requires { codec.protover(); })
    return {&out, codec.protover() >= 3 ? reply_encoding::resp3 : reply_encoding::resp2};
  else
    return {&out, reply_encoding::line};
}

// The request made of `words`, answered in the direct lane into `target`
// (see direct_lane: plain and writing handlers, with no awaiter); declined
// for session_call to dispatch.
[[gnu::always_inline]] inline direct_outcome answer_directly(session& s, std::span<const std::string_view> words,
                                      response_target target) {
  request req = request::from_words(words);
  req.conn = &s.conn;
  s.state = session::phase::handling;
  return direct_lane::call(s.routes, req, s.metrics, *target.out, target.encoding);
}

// `co_await session_call(s, words)`: the request made of `words`, dispatched on the
// server's routes with `s` as its watch; yields the reply, valid while the awaiter lives
// (keep it in a named variable). An awaiter, not a coroutine: nothing is allocated.
class session_call {
public:
  // Per request, two stores and no more (the request path is counted in instructions):
  // busy_ and the request deadline are set by handler_suspended, for the handlers that
  // suspend. A request deadline left armed after its handler finished finds no handler
  // waiting and does nothing; the next suspension or partial-request deadline replaces it.
  // With a `target`, writing handlers write their replies into it (see written()).
  session_call(session& s, std::span<const std::string_view> words, response_target target = {}) noexcept
      : req_(request::from_words(words)), call_(s.routes, req_, &s, target) {
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
  [[gnu::always_inline]] const reply& await_resume() { return call_.await_resume(); }
  // The handler wrote its reply into the target: the awaited reply is a placeholder.
  bool written() const noexcept { return call_.written(); }
  bool wrote_error() const noexcept { return call_.wrote_error(); }

private:
  request req_;
  dispatch_awaiter call_;
};

// `co_await read_step(s, io, in, limit, stop)`: the read that ends a turn of a session
// loop, of up to `limit` bytes into `in` under the partial-request clock, accounted by
// take_read; with `stop` (the drain ends the session here), no read and `finish`.
// An awaiter around the stream's, so the read allocates nothing. Over plain TCP it is a
// lazy_read: a connection waiting for its next request holds no read buffer.
template <class Writer>
class read_step {
  static constexpr bool lazy = std::is_same_v<Writer, background_writer<tcp::socket>>;
  using read_awaiter = std::conditional_t<
      lazy, lazy_read<read_buffer>,
      decltype(std::declval<Writer&>().stream().read_some(std::declval<asio::mutable_buffer>(),
                                                          std::declval<std::error_code&>()))>;

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
      if constexpr (lazy)
        return read_awaiter(io.stream().native(), in, limit, &ec);
      else
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
