#include "coronet/server/server.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include <asio/ip/address.hpp>
#include <asio/post.hpp>

#include "server/agent_check.hpp"
#include "coronet/core/detail/log_limiter.hpp"
#include "coronet/runtime/worker_pool.hpp"
#include "coronet/core/log.hpp"
#include "coronet/runtime/listener.hpp"
#include "coronet/core/when_all.hpp"
#include "server/server_tls.hpp"
#include "server/reuseport_handoff.hpp"
#include "server/session.hpp"

namespace coronet {

std::string_view to_string(wire_protocol p) noexcept {
  switch (p) {
    case wire_protocol::auto_detect: return "auto";
    case wire_protocol::line: return "line";
    case wire_protocol::resp: return "resp";
    case wire_protocol::raw: return "raw";
    case wire_protocol::http: return "http";
  }
  return "unknown";
}

bool parse_wire_protocol(std::string_view name, wire_protocol& out) noexcept {
  for (wire_protocol p : {wire_protocol::auto_detect, wire_protocol::line, wire_protocol::resp, wire_protocol::raw,
                          wire_protocol::http}) {
    if (name == to_string(p)) {
      out = p;
      return true;
    }
  }
  return false;
}

namespace {

using detail::server_worker;
using detail::session;
using detail::steady;

detail::log_limiter output_stall_log;
detail::log_limiter handshake_timeout_log;

// The worker whose thread this is, set when it starts serving.
thread_local const server_worker* this_thread_worker = nullptr;

// The deadlines the sweeper enforces (0 = none) and how often it looks.
struct sweep_deadlines {
  std::chrono::milliseconds handshake;
  std::chrono::milliseconds idle;
  std::chrono::milliseconds partial;
  std::chrono::milliseconds request;
  std::chrono::milliseconds stall;
  std::chrono::milliseconds tick;
  // HTTP connections' own: http_options::idle_timeout and header_timeout.
  std::chrono::milliseconds http_idle;
  std::chrono::milliseconds http_header;
};

// Notes whether `s`'s pending output moved since the last tick: its peer is
// reading, which counts as activity for idle_timeout; output that does not
// move is stalled from the tick it was first seen pending. Progress is seen
// at ticks only, so a stall measured is never longer than the real one: no
// connection is closed early.
void watch_output(session& s, steady::time_point now) noexcept {
  if (s.buffered() == 0) {
    s.output_watched = false;
    return;
  }
  const std::uint64_t written = s.written();
  if (!s.output_watched || written != s.seen_written) {
    if (s.output_watched)
      s.last_active = now;
    s.output_watched = true;
    s.seen_written = written;
    s.output_since = now;
  }
}

// Closes connections still in their opening handshake after handshake_timeout,
// idle (no request completed, no reply taken) for longer than idle_timeout,
// holding an incomplete request for longer than partial_request_timeout, or
// whose peer took none of their output for output_stall_timeout, and cancels
// handlers running longer than request_timeout. Ends once the worker drains
// and its last connection is gone.
task<void> sweep(server_worker& w, sweep_deadlines d) {
  while (!w.draining || w.head != nullptr) {
    w.sweep_timer->expires_after(d.tick);
    std::error_code ec;
    co_await w.sweep_timer->wait(ec);
    w.now = steady::now();
    for (session* s = w.head; s != nullptr; s = s->next) {
      watch_output(*s, w.now);
      if (d.stall.count() > 0 && s->output_watched && w.now - s->output_since >= d.stall) {
        output_stall_log.log(log_level::info, "closing a connection whose peer reads none of its replies");
        w.errors.add();
        s->close();
      } else if (s->state == session::phase::handshake) {
        // Stamped with steady::now() when it began: the deadline is exact
        // to a tick.
        if (d.handshake.count() > 0 && w.now - s->handshake_since >= d.handshake) {
          handshake_timeout_log.log(log_level::info, "closing a connection whose handshake did not finish in time");
          w.handshakes_timed_out.add();
          s->close();
        }
      } else if (s->state != session::phase::handling) {
        const bool http = s->where->protocol == wire_protocol::http;
        const auto idle = http ? d.http_idle : d.idle;
        const auto partial = http ? d.http_header : d.partial;
        // Sessions stamp times with the last tick's `now`, up to a tick
        // early: adding a tick never closes early.
        if (idle.count() > 0 && w.now - s->last_active >= idle + d.tick) {
          s->close();
        } else if (partial.count() > 0 && s->state == session::phase::reading && s->partial &&
                   w.now - s->partial_since >= partial + d.tick) {
          if (s->partial_expired != nullptr)
            s->partial_expired(*s);
          else
            s->close();
        }
      } else if (d.request.count() > 0 && s->waiting && !s->timed_out && w.now - s->handler_started >= d.request) {
        s->timed_out = true;
        s->cancel();
      }
    }
  }
}

// Keeps the pool's group of worker `w` busy until its background tasks end.
task<void> join_background(server_worker& w) { co_await w.background->join(); }

}  // namespace

server::server(const router& r, server_options options)
    : router_(r), options_(std::move(options)), started_(std::chrono::steady_clock::now()) {
  listeners_.push_back(listener_config{options_.host, options_.port, options_.protocol});
  for (const listener_config& l : options_.listeners) {
    listeners_.push_back(l);
    if (listeners_.back().host.empty())
      listeners_.back().host = options_.host;
  }
  bool any_tls = false;
  for (listener_config& l : listeners_) {
    l.tls = l.tls || options_.tls_only;
    any_tls = any_tls || l.tls;
    if (l.tls && l.protocol == wire_protocol::http)
      throw std::invalid_argument(
          "coronet::server: an HTTP listener cannot serve TLS; put a TLS-terminating proxy in front of it");
  }
  // Before binding: a wrong certificate fails here, naming the file.
  if (any_tls)
    tls_ = std::make_unique<detail::server_tls>(options_.tls);
  std::vector<asio::ip::address> addresses;
  for (const listener_config& l : listeners_) {
    std::error_code ec;
    addresses.push_back(asio::ip::make_address(l.host, ec));
    if (ec)
      throw std::invalid_argument("coronet::server: host '" + l.host + "' is not a numeric IP address");
  }
  pool_ = std::make_unique<detail::worker_pool>(options_.threads);
  options_.threads = static_cast<unsigned>(pool_->size());
  tcp::acceptor_options acceptor_opts;
  acceptor_opts.backlog = options_.backlog;
  acceptor_opts.reuse_port = options_.threads > 1 || options_.reuse_port;
  for (std::size_t i = 0; i < pool_->size(); ++i) {
    auto w = std::make_unique<server_worker>(*this, pool_->context(i), i);
    // Worker 0 binds the requested ports; the others bind the ports it got.
    for (std::size_t l = 0; l < listeners_.size(); ++l) {
      w->acceptors.emplace_back(pool_->context(i), tcp::endpoint(addresses[l], listeners_[l].port), acceptor_opts);
      listeners_[l].port = w->acceptors.back().port();
    }
    w->tls = tls_.get();
    workers_.push_back(std::move(w));
  }
  if (options_.agent_port)
    agent_ = std::make_unique<detail::agent_check>(pool_->context(0), addresses.front(), *options_.agent_port,
                                                   acceptor_opts.reuse_port);
}

server::~server() {
  force_stop();
  pool_->join();
  // Sockets and timers first, while their io_contexts exist; then the pool,
  // whose io_contexts free the suspended sessions, which unlink themselves
  // from the workers.
  for (auto& w : workers_) {
    w->acceptors.clear();
    w->sweep_timer.reset();
  }
  agent_.reset();
  if (tls_)
    tls_->release_signals();
  pool_.reset();
}

void server::stop() noexcept { pool_->stop(); }

bool server::reload_tls() noexcept { return tls_ ? tls_->reload() : false; }

void server::force_stop() noexcept { pool_->force_stop(); }

server_metrics server::metrics() const {
  server_metrics m;
  const auto commands = router_.commands();
  m.commands.resize(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i)
    m.commands[i].name = commands[i].name;
  for (const auto& w : workers_)
    w->metrics.add_to(m);
  std::sort(m.connections.begin(), m.connections.end(),
            [](const protocol_connections& a, const protocol_connections& b) { return a.protocol < b.protocol; });
  workers_.front()->rate.read(m.requests_per_second);
  return m;
}

server_stats server::stats() const noexcept {
  server_stats s;
  s.connections_now = connections_now_.load(std::memory_order_relaxed);
  for (const auto& w : workers_) {
    s.connections_total += w->connections_total.get();
    s.connections_rejected += w->connections_rejected.get();
    s.requests += w->requests.get();
    s.errors += w->errors.get();
    s.handshakes_timed_out += w->handshakes_timed_out.get();
    s.proxy_header_errors += w->proxy_header_errors.get();
    s.bytes_in += w->bytes_in.get();
    s.bytes_out += w->bytes_out.get();
  }
  s.uptime = std::chrono::steady_clock::now() - started_;
  s.draining = draining();
  s.maintenance = maintenance();
  return s;
}

bool server::draining() const noexcept { return pool_->stopping(); }

std::uint16_t server::agent_port() const noexcept { return agent_ ? agent_->port() : 0; }

int server::run() {
  detail::worker_pool::callbacks cb;
  cb.main = [this](std::size_t i) {
    return serve_worker(i);
  };
  cb.begin_drain = [this](std::size_t i) {
    begin_drain(i);
  };
  cb.force_close = [this](std::size_t i) {
    force_close(i);
  };
  // The caller is worker 0; afterwards it is not a worker any more.
  struct forget_worker {
    ~forget_worker() { this_thread_worker = nullptr; }
  } forget;
  // Before any worker serves: the router no longer changes.
  for (auto& w : workers_)
    w->metrics.prepare(router_.commands().size());
  return pool_->run(std::move(cb), options_.drain_timeout, options_.handle_signals);
}

std::size_t server::current_worker() noexcept {
  return this_thread_worker != nullptr ? this_thread_worker->index : no_worker;
}

// Worker `index` accepts until it drains; its connections run in its task
// group, which the pool waits for.
task<void> server::serve_worker(std::size_t index) {
  server_worker& w = *workers_[index];
  this_thread_worker = &w;
  task_group& sessions = pool_->tasks(index);
  sweep_deadlines d{};
  d.handshake = std::max(options_.handshake_timeout, std::chrono::milliseconds(0));
  d.idle = std::max(options_.idle_timeout, std::chrono::milliseconds(0));
  d.partial = std::max(options_.partial_request_timeout, std::chrono::milliseconds(0));
  d.request = std::max(options_.request_timeout, std::chrono::milliseconds(0));
  d.stall = std::max(options_.output_stall_timeout, std::chrono::milliseconds(0));
  if (std::any_of(listeners_.begin(), listeners_.end(),
                  [](const listener_config& l) { return l.protocol == wire_protocol::http; })) {
    d.http_idle = std::max(options_.http.idle_timeout, std::chrono::milliseconds(0));
    d.http_header = std::max(options_.http.header_timeout, std::chrono::milliseconds(0));
  }
  std::chrono::milliseconds shortest{0};
  for (auto t : {d.handshake, d.idle, d.partial, d.request, d.stall, d.http_idle, d.http_header})
    if (t.count() > 0 && (shortest.count() == 0 || t < shortest))
      shortest = t;
  if (shortest.count() > 0) {
    d.tick = std::clamp(shortest / 4, std::chrono::milliseconds(5), std::chrono::milliseconds(1000));
    sessions.spawn(sweep(w, d));
  }
  if (index == 0)
    w.background->spawn(detail::tick_request_rate(*this, w.rate, w.draining));
  if (index == 0 && agent_)
    sessions.spawn(agent_->serve(
        [this] { return detail::agent_check::answer(draining(), maintenance()); }, sessions));
  if (index == 0 && tls_ && options_.handle_signals)
    tls_->watch_sighup(pool_->context(0));
  // One accept loop per listener; this task ends when all have.
  std::vector<task<void>> loops;
  for (std::size_t l = 0; l < w.acceptors.size(); ++l)
    loops.push_back(accept_connections(w, l));
  co_await when_all(std::move(loops));
}

task<void> server::accept_connections(server_worker& w, std::size_t listener) {
  tcp::listener_options listening;
  listening.backoff = options_.accept_backoff;
  // With reuse_port, a connection accepted just as the drain began is served
  // (its request, then closed) like the ones hand_over takes.
  listening.stop_requested = [this, &w] {
    return w.draining && !options_.reuse_port;
  };
  co_await tcp::accept_loop(
      w.acceptors[listener], [this, &w, listener](tcp::socket sock) { take_connection(w, listener, std::move(sock)); },
      std::move(listening));
}

void server::take_connection(server_worker& w, std::size_t listener, tcp::socket sock) {
  task_group& sessions = pool_->tasks(w.index);
  w.connections_total.add();
  if (connections_now_.fetch_add(1, std::memory_order_relaxed) >= options_.max_connections) {
    connections_now_.fetch_sub(1, std::memory_order_relaxed);
    w.connections_rejected.add();
    w.errors.add();
    sessions.spawn(detail::reject_connection(w, std::move(sock), listener));
    return;
  }
  const std::uint64_t id = next_connection_id_.fetch_add(1, std::memory_order_relaxed) + 1;
  sessions.spawn(detail::run_session(w, connections_now_, std::move(sock), id, listener));
}

void server::spawn(task<void> t) const {
  const server_worker* here = this_thread_worker;
  if (here != nullptr && &here->srv == this) {
    server_worker& w = *workers_[here->index];
    if (!w.draining)
      w.background->spawn(std::move(t));
    return;
  }
  server_worker& first = *workers_.front();
  asio::post(pool_->context(0), [&first, t = std::move(t)]() mutable {
    if (!first.draining)
      first.background->spawn(std::move(t));
  });
}

void server::begin_drain(std::size_t index) noexcept {
  server_worker& w = *workers_[index];
  if (w.draining)
    return;
  w.draining = true;
  if (!stop_announced_.exchange(true) && on_stop_) {
    try {
      on_stop_();
    } catch (const std::exception& e) {
      log(log_level::error, std::string("server: on_stop callback threw: ") + e.what());
    } catch (...) {
      log(log_level::error, "server: on_stop callback threw a non-standard exception");
    }
  }
  // Background work ends with the drain; the pool waits for it as for the
  // connections, up to the drain deadline.
  if (w.background->size() > 0) {
    w.background->cancel();
    try {
      pool_->tasks(index).spawn(join_background(w));
    } catch (const std::bad_alloc&) {
      log(log_level::error, "server: out of memory; background tasks are not awaited");
    }
  }
  for (std::size_t l = 0; l < w.acceptors.size(); ++l) {
    // With reuse_port another process may be taking over the port (a
    // restart): new connections go to it, and the ones already queued here
    // are served (each its request, then closed) instead of reset by the close.
    if (options_.reuse_port) {
      detail::steer_to_next_process(w.acceptors[l], options_.threads);
      try {
        auto later = detail::hand_over(w.acceptors[l],
                                       [this, &w, l](tcp::socket sock) { take_connection(w, l, std::move(sock)); });
        if (later)
          pool_->tasks(index).spawn(std::move(*later));
      } catch (const std::bad_alloc&) {
        log(log_level::error, "server: out of memory while handing the port over");
      }
    }
    w.acceptors[l].close();
  }
  // The agent answers "drain" until the last connection is gone.
  if (index == 0 && agent_) {
    try {
      pool_->tasks(0).spawn(agent_->close_when_drained(connections_now_));
    } catch (const std::bad_alloc&) {
      agent_->close();
    }
  }
  if (index == 0 && tls_)
    tls_->stop_watching();
  // Connections waiting for a request have nothing in flight: close them
  // now. The others close once their current replies are written; an HTTP
  // request still arriving is read and answered first, as nginx does. With
  // reuse_port (a restart), one that has not sent its first request yet gets
  // a moment to send it: it just connected.
  for (session* s = w.head; s != nullptr; s = s->next)
    if ((s->state == session::phase::reading && !(s->partial && s->where->protocol == wire_protocol::http) &&
         !(options_.reuse_port && !s->answered)) ||
        s->state == session::phase::handshake)
      s->stop_reading();
  if (options_.reuse_port) {
    try {
      pool_->tasks(index).spawn(detail::stop_fresh_after(w, detail::fresh_connection_grace));
    } catch (const std::bad_alloc&) {
      for (session* s = w.head; s != nullptr; s = s->next)
        if (s->state == session::phase::reading)
          s->stop_reading();
    }
  }
  w.sweep_timer->cancel();
}

void server::force_close(std::size_t index) noexcept {
  server_worker& w = *workers_[index];
  if (index == 0 && agent_)
    agent_->close();
  w.background->cancel();
  for (session* s = w.head; s != nullptr; s = s->next) {
    s->close();
    s->cancel();
  }
}

}  // namespace coronet
