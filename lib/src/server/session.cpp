#include "server/session.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

#include <asio/error.hpp>
#include <asio/ssl/error.hpp>

#include "coronet/core/detail/log_limiter.hpp"
#include "coronet/protocol/codec.hpp"
#include "coronet/protocol/line/line_codec.hpp"
#include "coronet/protocol/raw/raw_codec.hpp"
#include "coronet/protocol/resp/resp_codec.hpp"
#include "coronet/core/log.hpp"
#include "coronet/runtime/listener.hpp"
#include "coronet/runtime/read_buffer.hpp"
#include "coronet/net/timeout.hpp"
#include "coronet/core/spawn.hpp"
#include "protocol/http/http_codec.hpp"
#include "server/server_tls.hpp"
#include "server/stream_runtime.hpp"

namespace coronet::detail {
namespace {

// After an error reply, how long the peer's remaining bytes are drained
// before closing, so the close does not turn into a reset that destroys the
// reply in flight.
constexpr auto linger_time = std::chrono::milliseconds(500);

log_limiter protocol_error_log;
log_limiter session_error_log;
log_limiter tls_handshake_log;

template <class Writer>
constexpr bool is_tls = std::is_same_v<Writer, tls::background_writer>;

// A handler suspended: the replies so far go out now, and the request
// timeout starts.
void handler_suspended(handler_watch& watch) noexcept {
  auto& s = static_cast<session&>(watch);
  if (s.tls_io != nullptr)
    s.tls_io->flush();
  else
    s.io->flush();
  s.handler_started = steady::now();
}

// TLS's close_notify, then the close: a peer that does not answer it within
// the linger time is not waited for.
task<void> close_tls(tls::background_writer& io) { co_await tls_close_notify(io.stream(), linger_time); }

// Sends what is buffered, waits until the kernel has all of it, then closes
// without a reset (see lingering_close).
template <class Writer>
task<void> finish(session& s, Writer& io) {
  io.flush();
  s.state = session::phase::writing;
  co_await io.drained();
  if constexpr (is_tls<Writer>)
    co_await close_tls(io);
  else
    co_await tcp::lingering_close(io.stream(), linger_time);
}

// Counts and encodes a request's reply.
template <request_codec Codec, class Writer>
void answer(session& s, Writer& io, const Codec& codec, const reply& rep) {
  server_worker& w = s.worker;
  w.requests.add();
  if (rep.kind() == reply_kind::error)
    w.errors.add();
  codec.encode(rep, io.pending());
  s.answered = true;
}

// Accounts for a read that completed with `ec` and `n` bytes.
template <class Writer>
after_read take_read(session& s, Writer& io, read_buffer& in, const std::error_code& ec, std::size_t n) {
  server_worker& w = s.worker;
  if (ec == asio::error::eof && !w.draining)
    return after_read::finish;  // the peer is done sending; it may still be reading our replies
  if constexpr (is_tls<Writer>) {
    // A TLS peer that closed without close_notify is done sending too.
    if (ec == asio::ssl::error::stream_truncated && !w.draining)
      return after_read::finish;
  }
  if (ec)
    return w.draining && !io.failed() ? after_read::finish : after_read::end;
  w.bytes_in.add(n);
  in.commit(n);
  return after_read::more;
}

// Reads, parses and answers requests until the peer leaves, an error closes
// the connection, or the server drains. Replies to the requests of one read
// are coalesced into one write, which goes on while the next ones are read.
// Backpressure: once more than half of max_output_bytes is unsent, no request
// is parsed or read until the peer has taken all but a quarter of it.
template <request_codec Codec, class Writer>
task<void> serve_stream(session& s, Writer& io) {
  server_worker& w = s.worker;
  const std::size_t buffer_limit = w.opts.max_request_bytes + w.opts.max_bulk_bytes;
  const std::size_t high_water = w.opts.max_output_bytes / 2;
  const std::size_t low_water = high_water / 2;
  Codec codec;
  read_buffer in;
  std::vector<std::string_view> words;
  s.serve_as(Codec::protocol);

  for (;;) {
    bool progressed = false;  // a request was completed since the last read
    bool behind = false;      // the peer reads its replies slower than it asks
    while (in.size() > 0) {
      parse_result r = codec.parse(in.data(), words, w.limits);
      if (r.status == parse_status::incomplete) {
        if (in.size() < buffer_limit)
          break;
        r = {parse_status::error, 0, "request too large"};
      }
      if (r.status == parse_status::error) {
        w.errors.add();
        protocol_error_log.log(log_level::info, "closing a connection: " + std::string(r.error));
        codec.encode(reply::err(r.error), io.pending());
        co_await finish(s, io);
        co_return;
      }
      if (!words.empty()) {
        request req = request::from_words(words);
        req.conn = &s.conn;
        s.state = session::phase::handling;
        dispatch_awaiter call(w.srv.routes(), req, &s);
        const reply& rep = co_await call;
        // HELLO's own reply is already in the version it chose, as in Redis.
        if constexpr (requires { codec.set_protover(2); })
          codec.set_protover(s.conn.protover);
        answer<Codec>(s, io, codec, rep);
        progressed = true;
      }
      in.consume(r.consumed);
      if (s.conn.closing()) {
        co_await finish(s, io);
        co_return;
      }
      if (io.buffered() > high_water) {
        behind = true;
        break;
      }
    }
    io.flush();
    if (io.failed())
      co_return;
    // Bytes alone do not count: a peer trickling a request that never
    // completes (slowloris) stays idle, and its request stays partial from
    // its first byte on.
    if (progressed)
      s.last_active = w.now;
    if (behind || io.buffered() > high_water) {
      // The requests already read wait in `in`; a peer that takes nothing
      // meanwhile is closed by the sweeper (output_stall_timeout).
      s.state = session::phase::writing;
      co_await io.drained_below(low_water);
      if (io.failed())
        co_return;
      continue;
    }
    if (in.size() == 0) {
      s.partial = false;
    } else if (progressed || !s.partial) {
      s.partial = true;
      s.partial_since = w.now;
    }
    // A connection taken during a reuse_port handoff gets its first request
    // read and answered (stop_fresh_after bounds the wait for it).
    if (w.draining && (s.answered || !w.opts.reuse_port)) {
      co_await finish(s, io);
      co_return;
    }
    s.state = session::phase::reading;
    std::error_code ec;
    const std::size_t n = co_await io.stream().read_some(in.prepare(buffer_limit), ec);
    switch (take_read(s, io, in, ec, n)) {
      case after_read::more: break;
      case after_read::finish: co_await finish(s, io); co_return;
      case after_read::end: co_return;
    }
  }
}

// The seed's one-shot mode: one read is the request, the reply is unframed,
// then the connection closes.
template <class Writer>
task<void> serve_raw(session& s, Writer& io) {
  server_worker& w = s.worker;
  char buf[raw_max_request_bytes];
  std::error_code ec;
  const std::size_t n = co_await io.stream().read_some(asio::buffer(buf), ec);
  if (ec)
    co_return;
  w.bytes_in.add(n);
  s.serve_as(wire_protocol::raw);
  raw_codec codec;
  std::vector<std::string_view> words;
  const parse_result r = codec.parse(std::span<char>(buf, n), words, w.limits);
  if (r.status == parse_status::complete && !words.empty()) {
    request req = request::from_words(words);
    req.conn = &s.conn;
    s.state = session::phase::handling;
    dispatch_awaiter call(w.srv.routes(), req, &s);
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

// The listener's protocol on `io`.
template <class Writer>
task<void> serve_protocol(session& s, Writer& io) {
  switch (s.where->protocol) {
    case wire_protocol::raw: co_await serve_raw(s, io); break;
    case wire_protocol::http:
      // The server refuses an HTTP listener with TLS at construction.
      if constexpr (!is_tls<Writer>)
        co_await serve_http(s);
      break;
    case wire_protocol::line: co_await serve_stream<line_codec>(s, io); break;
    case wire_protocol::auto_detect:  // RESP, inline commands included: see wire_protocol.hpp
    case wire_protocol::resp: co_await serve_stream<resp_codec>(s, io); break;
  }
}

// The TLS handshake, bounded by handshake_timeout (the sweeper closes the
// socket), then the protocol. A peer that fails it (plaintext to a TLS port,
// a wrong certificate, a cut connection) is closed, logged at most once a
// second.
task<void> serve_tls(session& s) {
  tls::background_writer& io = *s.tls_io;
  s.state = session::phase::handshake;
  s.handshake_since = steady::now();
  std::error_code ec;
  co_await io.stream().handshake(tls::stream::server, ec);
  if (ec) {
    if (ec != asio::error::operation_aborted) {
      std::string text = "TLS handshake failed from ";
      text += s.conn.peer.address().to_string();
      text += ": ";
      text += tls::describe_handshake_error(io.stream(), ec);
      tls_handshake_log.log(log_level::info, text);
    }
    co_return;
  }
  s.state = session::phase::reading;
  s.last_active = steady::now();
  co_await serve_protocol(s, io);
}

}  // namespace

task<void> finish(session& s) { return finish(s, *s.io); }

after_read take_read(session& s, read_buffer& in, const std::error_code& ec, std::size_t n) {
  return take_read(s, *s.io, in, ec, n);
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

namespace {

std::string describe(const tcp::endpoint& peer) {
  return peer.address().to_string() + ":" + std::to_string(peer.port());
}

}  // namespace

session::session(server_worker& w, tcp::socket s, std::uint64_t id, std::size_t listener)
    : handler_watch(&handler_suspended), worker(w), where(&w.srv.listener(listener)) {
  std::error_code ec;
  conn.peer = s.native().remote_endpoint(ec);
  conn.local = s.native().local_endpoint(ec);
  conn.fd = s.native().native_handle();
  set_socket_options(s, w.opts.tcp_keepalive, false);
  if (where->tls) {
    tls_context = w.tls->context();
    tls_io = tls::background_writer::create(tls::stream(std::move(s), *tls_context), &w.bytes_out);
  } else {
    io = tcp::background_writer::create(std::move(s), &w.bytes_out);
  }
  next = w.head;
  if (next != nullptr)
    next->prev = this;
  w.head = this;
  last_active = w.now;
  conn.owner = &w.srv;
  conn.listener = listener;
  conn.id = id;
  conn.created = steady::now();
  conn.authenticated = w.opts.password.empty();
  metrics = &w.metrics;
}

session::~session() {
  if (counted)
    worker.metrics.closed(conn.protocol);
  if (prev != nullptr)
    prev->next = next;
  else
    worker.head = next;
  if (next != nullptr)
    next->prev = prev;
  if (tls_io != nullptr)
    tls_io->release();
  else
    io->release();
  if (worker.draining && worker.head == nullptr && worker.sweep_timer)
    worker.sweep_timer->cancel();
}

task<void> run_session(server_worker& w, std::atomic<std::uint64_t>& connections_now, tcp::socket sock,
                       std::uint64_t id, std::size_t listener) {
  session s(w, std::move(sock), id, listener);
  // The PROXY header comes first (plain TCP bytes, before any TLS handshake),
  // so that the log and conn.peer show the client the proxy reports.
  const bool opened = co_await accept_proxy_header(s);
  if (opened && w.opts.log_connections)
    log(log_level::info, "connection from " + describe(s.conn.peer));
  try {
    if (opened) {
      if (s.tls_io != nullptr)
        co_await serve_tls(s);
      else
        co_await serve_protocol(s, *s.io);
    }
  } catch (const std::system_error& e) {
    // Cancellation is how a forced close ends a session.
    if (e.code() != asio::error::operation_aborted)
      session_error_log.log(log_level::error, std::string("session failed: ") + e.what());
  } catch (const std::exception& e) {
    session_error_log.log(log_level::error, std::string("session failed: ") + e.what());
  }
  // The write in flight refers to the socket: close, and wait for it to end.
  s.close();
  s.state = session::phase::writing;
  if (s.tls_io != nullptr)
    co_await s.tls_io->drained();
  else
    co_await s.io->drained();
  connections_now.fetch_sub(1, std::memory_order_relaxed);
  if (opened && w.opts.log_connections)
    log(log_level::info, "connection closed: " + describe(s.conn.peer));
}

task<void> reject_connection(server_worker& w, tcp::socket sock, std::size_t listener) {
  // In the listener's protocol, as any other error; raw never sends error texts.
  const wire_protocol protocol = w.srv.listener(listener).protocol;
  std::string text;
  // A TLS peer would take plaintext for a broken record: it is just closed.
  if (w.srv.listener(listener).tls) {
  } else if (protocol == wire_protocol::http) {
    append_http_error(503, "max number of clients reached", text);
  } else if (protocol != wire_protocol::raw) {
    if (protocol != wire_protocol::line)
      text = "-";
    text += "ERR max number of clients reached\r\n";
  }
  std::error_code ec;
  co_await sock.write_all(asio::buffer(text), ec);
  w.bytes_out.add(text.size());
  co_await tcp::lingering_close(sock, linger_time);
}

}  // namespace coronet::detail
