#include "server/session.hpp"

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include <asio/error.hpp>

#include "coronet/core/detail/log_limiter.hpp"
#include "coronet/protocol/codec.hpp"
#include "coronet/protocol/line/line_codec.hpp"
#include "coronet/protocol/raw/raw_codec.hpp"
#include "coronet/protocol/resp/resp_codec.hpp"
#include "coronet/core/log.hpp"
#include "coronet/runtime/read_buffer.hpp"
#include "coronet/core/spawn.hpp"
#include "protocol/http/http_codec.hpp"
#include "server/pubsub/resp_subscriber.hpp"
#include "server/security_attack.hpp"
#include "server/session_batch.hpp"
#include "server/session_transaction.hpp"

namespace coronet::detail {
namespace {

log_limiter protocol_error_log;
log_limiter query_buffer_log;

// A handler suspended: the replies so far go out now, and the request timeout starts.
void handler_suspended(handler_watch& watch) noexcept {
  auto& s = static_cast<session&>(watch);
  // Only a suspended handler can be seen by the sweeper: it is busy, not idle, until the
  // session's next phase.
  s.core.busy_ = true;
  s.core.flush_output();
  const auto limit = s.worker.opts.request_timeout;
  if (limit.count() > 0)
    s.core.set_deadline(steady::now() + limit, [](connection_core& c) noexcept {
      auto* running = static_cast<session*>(c.protocol_);
      if (running != nullptr && running->waiting && !running->timed_out) {
        running->timed_out = true;
        running->cancel();
      }
    });
}

// A request begun too long ago: HTTP answers 408 first, the others just close.
void partial_deadline_passed(connection_core& c) noexcept {
  auto* s = static_cast<session*>(c.protocol_);
  if (s == nullptr || s->state != session::phase::reading || !s->partial)
    return;
  if (s->partial_expired != nullptr)
    s->partial_expired(*s);
  else
    s->close();
}

// How a command connection takes the drain. Connections waiting for a request have
// nothing in flight: their reading stops now. The others close once their current replies
// are written (the session loops check the drain); an HTTP request still arriving is read
// and answered first, as nginx does. With reuse_port (a restart), one that has not sent its
// first request yet gets a moment to send it: it just connected.
bool drain_session(connection_core& c, bool late, bool grace_over) noexcept {
  auto* s = static_cast<session*>(c.protocol_);
  if (s != nullptr && s->state == session::phase::streaming) {
    // A streamed response ends: its handler sees the stream closed.
    s->stop_reading();
    return false;
  }
  if (s == nullptr || s->state != session::phase::reading)
    return true;
  if (!late) {
    if (s->partial && s->where->protocol == wire_protocol::http)
      return true;
    if (s->worker.opts.reuse_port && !s->answered)
      return true;
  } else if (!s->answered && !grace_over) {
    return true;
  }
  s->stop_reading();
  return false;
}

// The drain's forced close: a handler still running is cancelled, so that the session ends
// (and its connection's close hooks run) on its own thread rather than being abandoned.
void force_close_session(connection_core& c) noexcept {
  auto* s = static_cast<session*>(c.protocol_);
  if (s != nullptr && s->waiting)
    s->cancel();
}

// Counts a request answered, with an error or not.
[[gnu::always_inline]] inline void count_answer(session& s, bool error) noexcept {
  server_worker& w = s.worker;
  w.requests.add();
  if (error)
    w.errors.add();
  s.answered = true;
}

// Counts a request whose error reply is not sent: HTTP on a command port
// (connection::close_without_reply), and the connection closes without it.
void drop_answer(session& s) noexcept {
  s.worker.requests.add();
  s.worker.errors.add();
  security_attack(s);
}

// Counts and encodes a request's reply.
template <request_codec Codec, class Writer>
void answer(session& s, Writer& io, const Codec& codec, const reply& rep) {
  const bool error = rep.kind() == reply_kind::error;
  if (error && s.conn.dropping_reply())
    return drop_answer(s);
  count_answer(s, error);
  codec.encode(rep, io.pending());
}

// A request the direct lane declined (a coroutine handler, a refusal, an unknown command),
// dispatched with an awaiter, then counted and answered. A coroutine of its own, whose frame
// comes from the frame pool per such request: the awaiter and the reply it may build (over
// 200 bytes) are then not part of every connection's frame.
// A request inside a transaction comes here too, and is queued (or run) by
// serve_in_transaction.
template <request_codec Codec, class Writer>
task<void> answer_declined(session& s, Writer& io, Codec& codec, std::span<const std::string_view> words) {
  if (s.conn.in_transaction()) {
    co_await serve_in_transaction(s, io, codec, words);
    co_return;
  }
  session_call call(s, words, target_of(codec, io.pending()));
  const reply& rep = co_await call;
  follow_protover(codec, s);
  if (call.written())
    count_answer(s, call.wrote_error());
  else
    answer<Codec>(s, io, codec, rep);
}

// A protocol error's reply, written, counted and logged; out of line, unlike the loop's common path.
template <request_codec Codec, class Writer>
[[gnu::noinline]] void answer_protocol_error(Codec& codec, server_worker& w, Writer& io, std::string_view error) {
  w.errors.add();
  protocol_error_log.log(log_level::info, "closing a connection: " + std::string(error));
  codec.encode(reply::err(error), io.pending());
}

// Parses the request at the front of `in` into `words`: true when one is complete, with
// `consumed` its length. False with `consumed` 0 when it is incomplete (and within
// `limit`); false with `consumed` not 0 after a protocol error, whose reply is written and
// counted: the session then finishes.
template <request_codec Codec, class Writer>
bool parse_next(Codec& codec, server_worker& w, Writer& io, read_buffer& in, std::vector<std::string_view>& words,
                std::size_t limit, std::size_t& consumed) {
  parse_result r = codec.parse(in.data(), words, w.limits);
  if (r.status == parse_status::complete) [[likely]] {
    consumed = r.consumed;
    return true;
  }
  if (r.status == parse_status::incomplete) {
    if (in.size() < limit)
      return false;
    r = {parse_status::error, 0, "request too large"};
  }
  answer_protocol_error(codec, w, io, r.error);
  consumed = 1;
  return false;
}

// Reads, parses and answers requests until the peer leaves, an error closes the connection,
// or the server drains. Replies to the requests of one read are coalesced into one write,
// which goes on while the next ones are read. Backpressure: see end_batch and wait_for_peer.
// The session lives in this coroutine's frame: an idle connection holds one frame here, not
// two. A failure (an exception) ends the session and reaches the connection's coroutine,
// which logs and counts it.
template <request_codec Codec, class Stream>
task<void> serve_stream(server_worker& w, stream_connection<Stream>& c) {
  session s(w, c, lowest(c.stream()).native_handle());
  background_writer<Stream>& io = c.output();
  // Read once, not per request: the request path is counted in instructions.
  const std::size_t high_water = w.opts.max_output_bytes / 2;
  bool input_ended = false;  // the peer finished sending while it was behind
  Codec codec;
  read_buffer in;
  std::vector<std::string_view> words;
  s.serve_as(Codec::protocol);
  // A RESP connection can subscribe; its subscriptions end with the session, or once it
  // finishes (as Redis, nothing is delivered after a QUIT's reply). Made at the first
  // Pub/Sub command (SUBSCRIBE and the like): an idle connection holds a pointer, not
  // the subscriber.
  lazy_resp_subscriber<Stream> subscriber(s, Codec::protocol == wire_protocol::resp);

  // Every local of this frame lives as long as the connection: the loop keeps few across
  // its awaits, and the session finishes at one place, after it.
  bool finishing = false;
  for (;;) {
    bool progressed = false;  // a request was completed since the last read
    bool behind = false;      // the peer reads its replies slower than it asks
    while (in.size() > 0) {
      std::size_t consumed = 0;
      if (!parse_next(codec, w, io, in, words, w.request_buffer_limit, consumed)) {
        if (consumed == 0)
          break;  // incomplete
        finishing = true;  // a protocol error, answered
        break;
      }
      if (!words.empty()) {
        // Between MULTI and EXEC the request goes to answer_declined, which queues or runs
        // it: the one test the request path pays for transactions.
        if (const direct_outcome d = s.conn.in_transaction()
                                         ? direct_outcome::declined
                                         : answer_directly(s, words, target_of(codec, io.pending()));
            d != direct_outcome::declined) [[likely]] {
          follow_protover(codec, s);
          if (d != direct_outcome::dropped) [[likely]]
            count_answer(s, d == direct_outcome::answered_error);
          else
            drop_answer(s);
        } else {
          // Made before the await: a temporary of the await's expression (the span of the
          // words) would keep a slot in this frame for the connection's life.
          task<void> declined = answer_declined(s, io, codec, words);
          co_await std::move(declined);
        }
        progressed = true;
      }
      in.consume(consumed);
      if (s.conn.closing()) {
        finishing = true;
        break;
      }
      if (io.buffered() > high_water) {
        behind = true;
        break;
      }
    }
    if (finishing)
      break;
    if (const batch_step step = end_batch(s, io, in, w.request_buffer_limit, progressed, behind); step != batch_step::read) {
      if (step == batch_step::stop)
        break;
      // Made before the await, as above.
      task<bool> waited = wait_for_peer(s, io, in, query_buffer_limit(s, w.request_buffer_limit), input_ended);
      if (!co_await std::move(waited))
        break;
      continue;  // the requests read meanwhile wait in `in`
    }
    // A connection taken during a reuse_port handoff gets its first request read and
    // answered (drain_session bounds the wait for it).
    const bool stop = input_ended || (s.rt.draining && (s.answered || !w.opts.reuse_port));
    const after_read next = co_await read_step(s, io, in, w.request_buffer_limit, stop);
    if (next != after_read::more) {
      finishing = next == after_read::finish;
      break;
    }
  }
  subscriber.drop_all();
  if (finishing)
    co_await finish(s, io);
}

// The seed's one-shot mode: one read is the request, the reply is unframed, then the
// connection closes.
template <class Stream>
task<void> serve_raw(server_worker& w, stream_connection<Stream>& c) {
  session s(w, c, lowest(c.stream()).native_handle());
  background_writer<Stream>& io = c.output();
  char buf[raw_max_request_bytes];
  std::error_code ec;
  const std::size_t n = co_await io.stream().read_some(asio::buffer(buf), ec);
  if (ec)
    co_return;
  s.rt.bytes_in.add(n);
  s.serve_as(wire_protocol::raw);
  raw_codec codec;
  std::vector<std::string_view> words;
  const parse_result r = codec.parse(std::span<char>(buf, n), words, w.limits);
  if (r.status == parse_status::complete && !words.empty()) {
    session_call call(s, words);
    const reply& rep = co_await call;
    w.requests.add();
    // As the seed did, an unknown or failed command gets no reply at all.
    if (rep.kind() == reply_kind::error)
      w.errors.add();
    else
      raw_codec::encode(rep, io.pending());
  } else if (r.status == parse_status::error) {
    w.errors.add();
  }
  co_await finish(s, io);
}

// An HTTP listener's session, around serve_http (whose loop is written for any session).
template <class Stream>
task<void> serve_http_session(server_worker& w, stream_connection<Stream>& c) {
  session s(w, c, lowest(c.stream()).native_handle());
  co_await serve_http(s, c.output());
}

}  // namespace

session::session(server_worker& w, connection_core& c, int fd)
    : handler_watch(&handler_suspended),
      worker(w),
      rt(*c.worker_),
      core(c),
      routes(w.srv.routes()),
      where(&w.srv.listener(c.listener_)) {
  conn.peer = c.peer_;
  conn.local = c.local_;
  conn.fd = fd;
  conn.owner = &w.srv;
  conn.listener = c.listener_;
  conn.id = c.id_;
  conn.created = steady::now();
  conn.password = w.opts.password;
  conn.authenticated = w.opts.password.empty();
  conn.throttle = &w.throttle;
  metrics = &w.metrics;
  const bool http = where->protocol == wire_protocol::http;
  partial_timeout = std::max(http ? w.opts.http.header_timeout : w.opts.partial_request_timeout,
                             std::chrono::milliseconds(0));
  if (http)
    c.idle_timeout_ = std::max(w.opts.http.idle_timeout, std::chrono::milliseconds(0));
  c.protocol_ = this;
  c.on_drain_ = &drain_session;
  c.on_force_close_ = &force_close_session;
}

session::~session() {
  if (counted)
    worker.metrics.closed(conn.protocol);
  core.protocol_ = nullptr;
  core.on_drain_ = nullptr;
  core.on_force_close_ = nullptr;
  core.busy_ = false;
  core.clear_deadline();
}

void session::watch_partial() noexcept {
  if (partial && partial_timeout.count() > 0)
    // Sessions stamp times with the last tick's `now`, up to a tick early: adding a tick
    // never closes early.
    core.set_deadline(partial_since + partial_timeout + rt.rt.tick, &partial_deadline_passed);
}

void query_buffer_overflow(session& s) noexcept {
  query_buffer_log.log(log_level::info,
                       "closing a connection whose peer sent more than max_query_buffer_bytes of requests "
                       "while it read none of its replies");
  s.rt.errors.add();
  s.close();
}

void report_background_failure(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::system_error& err) {
    if (err.code() == asio::error::operation_aborted)
      return;
    report_unhandled_exception(e);
  } catch (...) {
    report_unhandled_exception(e);
  }
}

// The listener's protocol: its own coroutine, with no frame of this dispatch's kept for the
// connection's life.
template <class Stream>
task<void> serve_commands(server_worker& w, stream_connection<Stream>& c) {
  switch (w.srv.listener(c.listener_).protocol) {
    case wire_protocol::raw: return serve_raw(w, c);
    case wire_protocol::http: return serve_http_session(w, c);
    case wire_protocol::line: return serve_stream<line_codec>(w, c);
    case wire_protocol::resp: break;
  }
  return serve_stream<resp_codec>(w, c);
}

template task<void> serve_commands(server_worker&, stream_connection<tcp::socket>&);
template task<void> serve_commands(server_worker&, stream_connection<tls::stream>&);

std::string reject_text(wire_protocol p) {
  // In the listener's protocol, as any other error; raw never sends error texts.
  output_buffer text;
  const reply busy = reply::err("max number of clients reached");
  switch (p) {
    case wire_protocol::http: append_http_error(503, "max number of clients reached", text); break;
    case wire_protocol::raw: break;
    case wire_protocol::line: line_codec::encode(busy, text); break;
    case wire_protocol::resp: resp_codec().encode(busy, text); break;
  }
  return text.str();
}

}  // namespace coronet::detail
