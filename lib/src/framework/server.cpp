#include "coronet/framework/server.hpp"

#include <algorithm>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include <asio/error.hpp>
#include <asio/ip/address.hpp>
#include <asio/post.hpp>
#include <asio/write.hpp>

#include "coronet/detail/log_limiter.hpp"
#include "coronet/detail/shutdown_signals.hpp"
#include "coronet/detail/thread_counter.hpp"
#include "coronet/framework/line_codec.hpp"
#include "coronet/framework/raw_codec.hpp"
#include "coronet/framework/resp_codec.hpp"
#include "coronet/log.hpp"
#include "coronet/net/acceptor.hpp"
#include "coronet/net/timeout.hpp"
#include "coronet/net/timer.hpp"
#include "coronet/spawn.hpp"
#include "coronet/task_group.hpp"

namespace coronet {

std::string_view to_string(wire_protocol p) noexcept {
  switch (p) {
    case wire_protocol::auto_detect: return "auto";
    case wire_protocol::line: return "line";
    case wire_protocol::resp: return "resp";
    case wire_protocol::raw: return "raw";
  }
  return "unknown";
}

bool parse_wire_protocol(std::string_view name, wire_protocol& out) noexcept {
  for (wire_protocol p : {wire_protocol::auto_detect, wire_protocol::line, wire_protocol::resp, wire_protocol::raw}) {
    if (name == to_string(p)) {
      out = p;
      return true;
    }
  }
  return false;
}

namespace detail {
namespace {

using steady = std::chrono::steady_clock;

// First read size of a connection; the buffer grows while reads fill it, so
// idle connections stay small and busy ones read in large chunks.
constexpr std::size_t initial_read_buffer = 256;
constexpr std::size_t max_read_chunk = 64 * 1024;
// Replies buffer kept between batches; a larger one is released after use.
constexpr std::size_t kept_output_capacity = 64 * 1024;
// After an error reply, how long the peer's remaining bytes are drained
// before closing, so the close does not turn into a reset that destroys the
// reply in flight.
constexpr auto linger_time = std::chrono::milliseconds(500);

log_limiter accept_error_log;
log_limiter protocol_error_log;
log_limiter output_limit_log;
log_limiter session_error_log;

bool is_descriptor_exhaustion(const std::error_code& ec) noexcept {
  return ec == asio::error::no_descriptors || ec == std::errc::too_many_files_open_in_system ||
         ec == asio::error::no_buffer_space || ec == asio::error::no_memory;
}

// The unconsumed bytes of a connection. Grows by doubling up to its limit;
// compaction moves only a partial request to the front.
class read_buffer {
public:
  std::span<char> data() noexcept { return {data_.get() + begin_, end_ - begin_}; }
  std::size_t size() const noexcept { return end_ - begin_; }
  std::size_t capacity() const noexcept { return capacity_; }

  void consume(std::size_t n) noexcept {
    begin_ += n;
    if (begin_ == end_)
      begin_ = end_ = 0;
  }

  // Free space at the end, making room first; empty when `limit` bytes are
  // already held.
  asio::mutable_buffer prepare(std::size_t limit) {
    if (end_ == capacity_ && begin_ > 0) {
      std::memmove(data_.get(), data_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (capacity_ == 0 || (end_ == capacity_ && capacity_ < limit) || (grow_ && capacity_ < max_read_chunk)) {
      grow(capacity_ == 0 ? initial_read_buffer : std::min(capacity_ * 2, std::max(limit, capacity_)));
      grow_ = false;
    }
    const std::size_t room = std::min(capacity_, limit) - std::min(end_, std::min(capacity_, limit));
    return {data_.get() + end_, room};
  }

  void commit(std::size_t n) noexcept {
    // A read that filled all the room suggests more is queued: read more next time.
    grow_ = n == capacity_ - end_;
    end_ += n;
  }

private:
  void grow(std::size_t new_capacity) {
    if (new_capacity <= capacity_)
      return;
    auto bigger = std::make_unique_for_overwrite<char[]>(new_capacity);
    if (end_ > begin_)
      std::memcpy(bigger.get(), data_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    data_ = std::move(bigger);
    capacity_ = new_capacity;
  }

  std::unique_ptr<char[]> data_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  bool grow_ = false;
};

}  // namespace

struct session_state;

struct server_worker {
  explicit server_worker(server& s) : srv(s), connections_now(s.connections_now_) {
    ctx.emplace(1);
    sessions.emplace(ctx->get_executor());
    sweep_timer.emplace(*ctx);
    drain_timer.emplace(*ctx);
  }

  // The io_context goes last but one: destroying it frees the frames of
  // sessions still suspended, which unlink themselves from this worker.
  ~server_worker() {
    signals.reset();
    acceptor.reset();
    sweep_timer.reset();
    drain_timer.reset();
    ctx.reset();
    sessions.reset();
  }

  server& srv;
  std::atomic<std::uint64_t>& connections_now;  // shared by all workers
  codec_limits limits;
  // Declared before ctx: it must outlive the sessions ctx may still hold.
  std::optional<task_group> sessions;
  session_state* head = nullptr;
  steady::time_point now = steady::now();
  bool draining = false;
  bool finished = false;
  thread_counter connections_total;
  thread_counter connections_rejected;
  thread_counter requests;
  thread_counter errors;
  thread_counter bytes_in;
  thread_counter bytes_out;
  std::optional<asio::io_context> ctx;
  std::optional<tcp::acceptor> acceptor;
  std::optional<timer> sweep_timer;
  std::optional<timer> drain_timer;
  std::optional<shutdown_signals> signals;
  std::thread thread;
};

// A connection's socket and its replies on their way out. Shared by the
// session's frame and the write in flight (if any), so that either may go
// first, as both can when an io_context is destroyed with both suspended.
class connection_io {
public:
  connection_io(server_worker& w, tcp::socket s) : worker(w), socket(std::move(s)) {}
  connection_io(const connection_io&) = delete;
  connection_io& operator=(const connection_io&) = delete;

  void add_ref() noexcept { ++refs_; }
  void release() noexcept {
    if (--refs_ == 0)
      delete this;
  }

  // Reply bytes not yet taken by the kernel.
  std::size_t buffered() const noexcept { return pending.size() + sending_.size() - sent_; }
  bool failed() const noexcept { return failed_; }

  // Sends `pending` without suspending: synchronously while the kernel takes
  // it, the rest through a write that goes on while the session reads on.
  void flush() {
    if (writing_ || failed_ || pending.empty())
      return;
    tcp::asio_socket& native = socket.native();
    std::error_code ec;
    if (!native.non_blocking())
      native.non_blocking(true, ec);
    std::size_t total = 0;
    while (!ec && total < pending.size())
      total += native.write_some(asio::buffer(pending) + total, ec);
    worker.bytes_out.add(total);
    if (total == pending.size()) {
      recycle(pending);
      return;
    }
    if (ec != asio::error::would_block && ec != asio::error::try_again) {
      fail();
      return;
    }
    sending_.swap(pending);
    sent_ = total;
    pending.clear();
    start_write();
  }

  // Resumes the awaiting coroutine once no write is in flight.
  class drain_awaiter {
  public:
    explicit drain_awaiter(connection_io& io) noexcept : io_(io) {}
    bool await_ready() const noexcept { return !io_.writing_; }
    template <class Promise>
    void await_suspend(std::coroutine_handle<Promise> h) noexcept {
      io_.drain_waiter_ = h;
      io_.drain_context_ = context_of(h);
    }
    void await_resume() const noexcept {}

  private:
    connection_io& io_;
  };
  drain_awaiter drained() noexcept { return drain_awaiter{*this}; }

  void close() noexcept {
    std::error_code ignored;
    socket.close(ignored);
  }

  server_worker& worker;
  tcp::socket socket;
  std::string pending;

private:
  class write_handler {
  public:
    using allocator_type = pool_allocator<void>;
    explicit write_handler(connection_io* io) noexcept : io_(io) {}
    write_handler(write_handler&& other) noexcept : io_(std::exchange(other.io_, nullptr)) {}
    write_handler& operator=(write_handler&&) = delete;
    ~write_handler() {
      if (io_ != nullptr) {
        io_->write_abandoned();
        io_->release();
      }
    }
    void operator()(std::error_code ec, std::size_t n) {
      connection_io* io = std::exchange(io_, nullptr);
      io->on_written(ec, n);
      io->release();
    }
    allocator_type get_allocator() const noexcept { return {}; }

  private:
    connection_io* io_;
  };

  static void recycle(std::string& buffer) noexcept {
    if (buffer.capacity() > kept_output_capacity)
      std::string().swap(buffer);
    else
      buffer.clear();
  }

  void start_write() {
    writing_ = true;
    add_ref();
    asio::async_write(socket.native(), asio::buffer(sending_) + sent_, write_handler{this});
  }

  void fail() noexcept {
    failed_ = true;
    pending.clear();
    close();
  }

  void on_written(std::error_code ec, std::size_t n) noexcept {
    writing_ = false;
    worker.bytes_out.add(n);
    sending_.clear();
    sent_ = 0;
    if (ec) {
      fail();
    } else if (!pending.empty()) {
      sending_.swap(pending);
      try {
        start_write();
        return;
      } catch (...) {
        fail();
      }
    }
    recycle(sending_);
    if (std::coroutine_handle<> waiter = std::exchange(drain_waiter_, {}))
      waiter.resume();
  }

  // The io_context went away with the write pending: a session waiting for
  // it would never be resumed, so its chain is abandoned too.
  void write_abandoned() noexcept {
    writing_ = false;
    if (drain_waiter_) {
      drain_waiter_ = {};
      abandon_chain(drain_context_);
    }
  }

  std::string sending_;
  std::size_t sent_ = 0;
  bool writing_ = false;
  bool failed_ = false;
  std::coroutine_handle<> drain_waiter_{};
  chain_context* drain_context_ = nullptr;
  unsigned refs_ = 1;
};

// What the worker knows about one connection, for idle sweeps and draining.
struct session_state {
  enum class phase { reading, handling, writing };

  session_state(server_worker& w, tcp::socket s) : worker(w), io(new connection_io(w, std::move(s))) {
    handler_context.slot = handler_signal.slot();
    handler_context.abandon = [](chain_context* c) noexcept {
      abandon_chain(static_cast<handler_chain*>(c)->parent);
    };
    next = w.head;
    if (next != nullptr)
      next->prev = this;
    w.head = this;
    last_active = w.now;
    std::error_code ec;
    conn.peer = io->socket.native().remote_endpoint(ec);
    conn.owner = &w.srv;
  }
  session_state(const session_state&) = delete;
  session_state& operator=(const session_state&) = delete;
  ~session_state() {
    if (prev != nullptr)
      prev->next = next;
    else
      worker.head = next;
    if (next != nullptr)
      next->prev = prev;
    io->release();
  }

  void close() noexcept { io->close(); }

  // Ends the wait for the next request (the read sees end of stream) while
  // replies still being written go on.
  void stop_reading() noexcept {
    std::error_code ignored;
    io->socket.shutdown(asio::socket_base::shutdown_receive, ignored);
  }

  // A handler that suspended is now subject to request_timeout.
  void handler_suspended() {
    io->flush();
    handler_waiting = true;
    handler_started = steady::now();
  }

  // Cancels what the running handler waits on.
  void cancel_handler() noexcept { handler_signal.emit(asio::cancellation_type::terminal); }

  // The chain a handler runs in: it has its own cancellation signal, so a
  // request timeout or a forced close cancels the handler alone; abandoning
  // it abandons the session.
  struct handler_chain : chain_context {
    chain_context* parent = nullptr;
  };

  server_worker& worker;
  connection_io* io;
  connection conn;
  session_state* prev = nullptr;
  session_state* next = nullptr;
  steady::time_point last_active;
  phase state = phase::reading;
  handler_chain handler_context;
  asio::cancellation_signal handler_signal;
  steady::time_point handler_started;
  bool handler_waiting = false;
  bool timed_out = false;
};

namespace {

const server_options& options_of(const server_worker& w) noexcept { return w.srv.options(); }

// Sends what is left to send, then closes without resetting: the peer's
// unread bytes are drained for a short while so the reply arrives intact.
task<void> lingering_close(tcp::socket& s) {
  std::error_code ec;
  s.shutdown(asio::socket_base::shutdown_send, ec);
  if (!ec) {
    try {
      co_await with_timeout(
          [](tcp::socket& sock) -> task<void> {
            char sink[4096];
            std::error_code read_ec;
            while (!read_ec)
              co_await sock.read_some(asio::buffer(sink), read_ec);
          }(s),
          linger_time);
    } catch (const std::system_error&) {
      // Timed out or cancelled: close now.
    }
  }
  s.close(ec);
}

void encode_reply(wire_protocol p, const reply& r, std::string& out) {
  if (p == wire_protocol::resp)
    encode_resp_reply(r, out);
  else
    encode_line_reply(r, out);
}

// Runs a handler's task in the session's handler chain until it first
// suspends; only if it does are the replies so far flushed and the request
// timeout started, so a handler that finishes at once costs neither a write
// nor a timer. The task resumes on this thread (one io_context per thread).
class handler_awaiter {
public:
  handler_awaiter(task<reply>& t, session_state& s, bool& timed_out) noexcept
      : handle_(t.handle()), session_(s), timed_out_(timed_out) {}
  bool await_ready() const noexcept { return false; }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> awaiting) {
    session_state::handler_chain& chain = session_.handler_context;
    chain.parent = context_of(awaiting);
    if (!chain.executor && chain.parent != nullptr)
      chain.executor = chain.parent->executor;
    handle_.promise().context_ = &chain;
    handle_.promise().continuation_ = {};  // finishing now must come back here
    handle_.resume();
    if (handle_.done())
      return false;
    handle_.promise().continuation_ = awaiting;
    session_.handler_suspended();
    return true;
  }
  // Ends the handler's request-timeout watch before its result (or
  // exception) reaches the session.
  reply await_resume() {
    session_.handler_waiting = false;
    timed_out_ = std::exchange(session_.timed_out, false);
    return handle_.promise().result();
  }

private:
  std::coroutine_handle<task<reply>::promise_type> handle_;
  session_state& session_;
  bool& timed_out_;
};

// Routes and runs one request; yields its reply, `ERR timeout` when the
// request timeout cancelled the handler, or `ERR internal error` when it
// threw. Rethrows the cancellation of a forced close.
task<reply> respond(session_state& s, request& req) {
  const router& routes = s.worker.srv.routes();
  reply rep;
  const command* cmd = routes.route(req, rep);
  if (cmd == nullptr)
    co_return rep;
  std::exception_ptr failure;
  bool timed_out = false;
  try {
    task<reply> handling = cmd->handler(req);
    // Returned straight from the awaiter: each move of a reply costs.
    co_return co_await handler_awaiter(handling, s, timed_out);
  } catch (...) {
    failure = std::current_exception();
  }
  if (router::is_cancellation(failure)) {
    if (timed_out)
      co_return reply::err("timeout");
    std::rethrow_exception(failure);
  }
  co_return router::handler_failed(*cmd, failure);
}

// Sends what is buffered, waits until the kernel has all of it, then closes
// without a reset (see lingering_close).
task<void> finish(session_state& s) {
  s.io->flush();
  s.state = session_state::phase::writing;
  co_await s.io->drained();
  co_await lingering_close(s.io->socket);
}

task<void> serve_raw(session_state& s) {
  server_worker& w = s.worker;
  char buf[raw_max_request_bytes];
  std::error_code ec;
  const std::size_t n = co_await s.io->socket.read_some(asio::buffer(buf), ec);
  if (ec)
    co_return;
  w.bytes_in.add(n);
  s.conn.protocol = wire_protocol::raw;
  std::vector<std::string_view> words;
  const parse_result r = parse_raw_request(std::span<char>(buf, n), words, w.limits);
  if (r.status == parse_status::complete && !words.empty()) {
    request req = request::from_words(words);
    req.conn = &s.conn;
    s.state = session_state::phase::handling;
    reply rep = co_await respond(s, req);
    w.requests.add();
    // As the seed did, an unknown or failed command gets no reply at all.
    if (rep.kind() == reply_kind::error)
      w.errors.add();
    else
      encode_raw_reply(rep, s.io->pending);
  } else if (r.status == parse_status::error) {
    w.errors.add();
  }
  co_await finish(s);
}

// Reads, parses and answers requests until the peer leaves, an error closes
// the connection, or the server drains. Replies of one read are coalesced
// into one write, which goes on while the next requests are read.
task<void> serve_stream(session_state& s) {
  server_worker& w = s.worker;
  connection_io& io = *s.io;
  const server_options& opts = options_of(w);
  const std::size_t buffer_limit = opts.max_request_bytes + opts.max_bulk_bytes;
  wire_protocol protocol = opts.protocol;
  read_buffer in;
  std::vector<std::string_view> words;
  resp_request_parser resp;
  std::size_t line_scanned = 0;  // bytes known to hold no '\n'

  for (;;) {
    bool progressed = false;  // a request was completed since the last read
    while (in.size() > 0) {
      if (protocol == wire_protocol::auto_detect) {
        protocol = in.data()[0] == '*' ? wire_protocol::resp : wire_protocol::line;
        s.conn.protocol = protocol;
      }
      parse_result r;
      if (protocol == wire_protocol::line) {
        std::span<char> d = in.data();
        if (std::memchr(d.data() + line_scanned, '\n', d.size() - line_scanned) == nullptr) {
          line_scanned = d.size();
          r.status = parse_status::incomplete;
          if (d.size() > opts.max_request_bytes) {
            r.status = parse_status::error;
            r.error = "request too large";
          }
        } else {
          line_scanned = 0;
          r = parse_line_request(d, words, w.limits);
        }
      } else {
        r = resp.parse(in.data(), words, w.limits);
      }
      if (r.status == parse_status::incomplete) {
        if (in.size() < buffer_limit)
          break;
        r.status = parse_status::error;
        r.error = "request too large";
      }
      if (r.status == parse_status::error) {
        w.errors.add();
        protocol_error_log.log(log_level::info, std::string("closing a connection: ") + std::string(r.error));
        encode_reply(protocol, reply::err(r.error), io.pending);
        co_await finish(s);
        co_return;
      }
      if (!words.empty()) {
        request req = request::from_words(words);
        req.conn = &s.conn;
        s.state = session_state::phase::handling;
        reply rep = co_await respond(s, req);
        w.requests.add();
        progressed = true;
        if (rep.kind() == reply_kind::error)
          w.errors.add();
        encode_reply(protocol, rep, io.pending);
        if (io.buffered() > opts.max_output_bytes) {
          output_limit_log.log(log_level::warning, "closing a connection whose unsent replies exceed max_output_bytes");
          w.errors.add();
          s.close();
          co_return;
        }
      }
      in.consume(r.consumed);
      if (s.conn.closing()) {
        co_await finish(s);
        co_return;
      }
    }
    io.flush();
    if (io.failed())
      co_return;
    // Bytes alone do not count: a peer trickling a request that never
    // completes (slowloris) stays idle.
    if (progressed)
      s.last_active = w.now;
    if (w.draining) {
      co_await finish(s);
      co_return;
    }
    s.state = session_state::phase::reading;
    const asio::mutable_buffer room = in.prepare(buffer_limit);
    std::error_code ec;
    const std::size_t n = co_await io.socket.read_some(room, ec);
    if (ec == asio::error::eof && !w.draining) {
      // The peer is done sending; it may still be reading our replies.
      co_await finish(s);
      co_return;
    }
    if (ec) {
      if (w.draining && !io.failed())
        co_await finish(s);
      co_return;
    }
    w.bytes_in.add(n);
    in.commit(n);
  }
}

task<void> run_session(server_worker& w, tcp::socket sock) {
  session_state s(w, std::move(sock));
  if (options_of(w).log_connections)
    log(log_level::info, "connection from " + s.conn.peer.address().to_string() + ":" + std::to_string(s.conn.peer.port()));
  try {
    if (options_of(w).protocol == wire_protocol::raw)
      co_await serve_raw(s);
    else
      co_await serve_stream(s);
  } catch (const std::system_error& e) {
    // Cancellation is how a forced close ends a session.
    if (e.code() != asio::error::operation_aborted)
      session_error_log.log(log_level::error, std::string("session failed: ") + e.what());
  } catch (const std::exception& e) {
    session_error_log.log(log_level::error, std::string("session failed: ") + e.what());
  }
  // The write in flight refers to the socket: close, and wait for it to end.
  s.close();
  s.state = session_state::phase::writing;
  co_await s.io->drained();
  w.connections_now.fetch_sub(1, std::memory_order_relaxed);
  if (options_of(w).log_connections)
    log(log_level::info, "connection closed: " + s.conn.peer.address().to_string() + ":" + std::to_string(s.conn.peer.port()));
}

task<void> reject_connection(server_worker& w, tcp::socket sock) {
  // The protocol is unknown until the peer speaks; answer in RESP only when
  // its first byte is already here and says so.
  char first = 0;
  std::error_code ec;
  const bool resp = sock.native().receive(asio::buffer(&first, 1), asio::socket_base::message_peek, ec) == 1 &&
                    first == '*';
  std::string text = resp ? "-" : "";
  text += "ERR max number of clients reached\r\n";
  co_await sock.write_all(asio::buffer(text), ec);
  w.bytes_out.add(text.size());
  co_await lingering_close(sock);
}

task<void> accept_loop(server_worker& w) {
  const server_options& opts = options_of(w);
  for (;;) {
    std::error_code ec;
    tcp::socket sock = co_await w.acceptor->accept(ec);
    if (w.draining || ec == asio::error::operation_aborted)
      co_return;
    if (ec) {
      if (is_descriptor_exhaustion(ec)) {
        accept_error_log.log(log_level::warning, "accept: " + ec.message() + "; pausing accepts");
        std::error_code sleep_ec;
        co_await sleep_for(opts.accept_backoff, sleep_ec);
      } else {
        accept_error_log.log(log_level::warning, "accept: " + ec.message());
      }
      continue;
    }
    w.connections_total.add();
    if (w.connections_now.fetch_add(1, std::memory_order_relaxed) >= opts.max_connections) {
      w.connections_now.fetch_sub(1, std::memory_order_relaxed);
      w.connections_rejected.add();
      w.errors.add();
      w.sessions->spawn(reject_connection(w, std::move(sock)));
      continue;
    }
    w.sessions->spawn(run_session(w, std::move(sock)));
  }
}

// Closes connections idle (or stuck writing) for longer than idle_timeout
// and cancels handlers running longer than request_timeout (0 = never).
task<void> sweep(server_worker& w, std::chrono::milliseconds idle, std::chrono::milliseconds request,
                 std::chrono::milliseconds tick) {
  while (!w.finished) {
    w.sweep_timer->expires_after(tick);
    std::error_code ec;
    co_await w.sweep_timer->wait(ec);
    w.now = steady::now();
    for (session_state* s = w.head; s != nullptr; s = s->next) {
      if (s->state != session_state::phase::handling) {
        if (idle.count() > 0 && w.now - s->last_active >= idle)
          s->close();
      } else if (request.count() > 0 && s->handler_waiting && !s->timed_out &&
                 w.now - s->handler_started >= request) {
        s->timed_out = true;
        s->cancel_handler();
      }
    }
  }
}

void begin_drain(server_worker& w) {
  if (w.draining)
    return;
  w.draining = true;
  if (w.acceptor)
    w.acceptor->close();
  // Connections waiting for a request have nothing in flight: close them
  // now. The others close once their current replies are written.
  for (session_state* s = w.head; s != nullptr; s = s->next)
    if (s->state == session_state::phase::reading)
      s->stop_reading();
}

void force_close_all(server_worker& w) {
  for (session_state* s = w.head; s != nullptr; s = s->next) {
    s->close();
    s->cancel_handler();
  }
  w.sessions->cancel();
}

task<void> worker_main(server_worker& w) {
  const server_options& opts = options_of(w);
  const auto idle = std::max(opts.idle_timeout, std::chrono::milliseconds(0));
  const auto request = std::max(opts.request_timeout, std::chrono::milliseconds(0));
  if (idle.count() > 0 || request.count() > 0) {
    const auto shortest = idle.count() == 0 ? request : (request.count() == 0 ? idle : std::min(idle, request));
    const auto tick = std::clamp(shortest / 4, std::chrono::milliseconds(5), std::chrono::milliseconds(1000));
    spawn(*w.ctx, sweep(w, idle, request, tick));
  }
  co_await accept_loop(w);
  begin_drain(w);
  if (w.sessions->size() > 0) {
    w.drain_timer->expires_after(opts.drain_timeout);
    spawn(*w.ctx, [&w]() -> task<void> {
      // The join may already be over when this first runs.
      if (w.finished)
        co_return;
      std::error_code ec;
      co_await w.drain_timer->wait(ec);
      if (!ec && !w.finished) {
        log(log_level::warning, "drain deadline passed; closing the remaining connections");
        force_close_all(w);
      }
    });
  }
  co_await w.sessions->join();
  w.finished = true;
  w.drain_timer->cancel();
  w.sweep_timer->cancel();
}

}  // namespace
}  // namespace detail

server::server(const router& r, server_options options) : router_(r), options_(std::move(options)) {
  started_ = std::chrono::steady_clock::now();
  if (options_.threads == 0)
    options_.threads = std::max(1u, std::thread::hardware_concurrency());
  std::error_code ec;
  const asio::ip::address address = asio::ip::make_address(options_.host, ec);
  if (ec)
    throw std::invalid_argument("coronet::server: host '" + options_.host + "' is not a numeric IP address");
  tcp::acceptor_options acceptor_opts;
  acceptor_opts.backlog = options_.backlog;
  acceptor_opts.reuse_port = options_.threads > 1;
  std::uint16_t port = options_.port;
  for (unsigned i = 0; i < options_.threads; ++i) {
    auto w = std::make_unique<detail::server_worker>(*this);
    w->limits = codec_limits{options_.max_request_bytes, options_.max_bulk_bytes, options_.max_args};
    w->acceptor.emplace(*w->ctx, tcp::endpoint(address, port), acceptor_opts);
    port = w->acceptor->port();
    workers_.push_back(std::move(w));
  }
  port_ = port;
}

server::~server() {
  force_stop();
  for (auto& w : workers_)
    if (w->thread.joinable())
      w->thread.join();
}

void server::stop() noexcept {
  stopping_.store(true);
  for (auto& w : workers_) {
    try {
      asio::post(*w->ctx, [wp = w.get()] { detail::begin_drain(*wp); });
    } catch (...) {
      // Out of memory: the drain cannot be queued; fall back to stopping.
      w->ctx->stop();
    }
  }
}

void server::force_stop() noexcept {
  for (auto& w : workers_)
    w->ctx->stop();
}

server_stats server::stats() const noexcept {
  server_stats s;
  s.connections_now = connections_now_.load(std::memory_order_relaxed);
  for (const auto& w : workers_) {
    s.connections_total += w->connections_total.get();
    s.connections_rejected += w->connections_rejected.get();
    s.requests += w->requests.get();
    s.errors += w->errors.get();
    s.bytes_in += w->bytes_in.get();
    s.bytes_out += w->bytes_out.get();
  }
  s.uptime = std::chrono::steady_clock::now() - started_;
  return s;
}

int server::run() {
  if (ran_.exchange(true))
    throw std::logic_error("coronet::server::run: called twice");
  std::atomic<std::size_t> running{workers_.size()};
  detail::server_worker& first = *workers_.front();
  if (options_.handle_signals) {
    first.signals.emplace(
        *first.ctx, [this] { return stopping_.load(); }, [this] { stop(); },
        [this] {
          exit_code_.store(1);
          force_stop();
        });
  }
  for (auto& w : workers_) {
    spawn(*w->ctx, detail::worker_main(*w), [&running, &first](std::exception_ptr e) {
      if (e)
        detail::report_unhandled_exception(e);
      if (running.fetch_sub(1) == 1 && first.signals)
        asio::post(*first.ctx, [&first] {
          if (first.signals)
            first.signals->cancel();
        });
    });
  }
  for (std::size_t i = 1; i < workers_.size(); ++i)
    workers_[i]->thread = std::thread([w = workers_[i].get()] { w->ctx->run(); });
  first.ctx->run();
  for (std::size_t i = 1; i < workers_.size(); ++i)
    workers_[i]->thread.join();
  return exit_code_.load();
}

}  // namespace coronet
