// The stream server's runtime: workers, accept loops, max_connections, spawn and the drain.
#include <exception>
#include <new>
#include <string>
#include <string_view>
#include <utility>

#include <asio/post.hpp>

#include "coronet/core/detail/log_limiter.hpp"
#include "coronet/core/log.hpp"
#include "coronet/core/when_all.hpp"
#include "runtime/listener.hpp"
#include "runtime/worker_pool.hpp"
#include "server/agent_check.hpp"
#include "server/reuseport_handoff.hpp"
#include "server/server_tls.hpp"
#include "server/stream_runtime.hpp"

namespace coronet::detail {
namespace {

thread_local const stream_worker* this_thread_worker = nullptr;
log_limiter setup_failure_log;

// Logs why a new connection could not be set up (at most once a second), without throwing:
// out of memory, the message itself may not be made.
void log_setup_failure(const std::exception& e) noexcept {
  static constexpr std::string_view prefix = "stream_server: a new connection was closed unserved: ";
  try {
    setup_failure_log.log(log_level::error, std::string(prefix) + e.what());
  } catch (const std::bad_alloc&) {
    setup_failure_log.log(log_level::error, "stream_server: a new connection was closed unserved: out of memory");
  }
}

task<void> join_background(stream_worker& w) { co_await w.background->join(); }

}  // namespace

const stream_worker* current_stream_worker() noexcept { return this_thread_worker; }
void set_current_stream_worker(const stream_worker* w) noexcept { this_thread_worker = w; }

int stream_runtime::run() {
  worker_pool::callbacks cb;
  cb.main = [this](std::size_t i) {
    return serve_worker(i);
  };
  cb.begin_drain = [this](std::size_t i) {
    begin_drain(i);
  };
  cb.force_close = [this](std::size_t i) {
    force_close(i);
  };
  cb.reload = [this] {
    if (!tls) {
      log(log_level::info, "signal 1 (SIGHUP): no TLS certificate to reload, serving on");
      return;
    }
    log(log_level::info, "signal 1 (SIGHUP): reloading the TLS certificate");
    tls->reload();
  };
  // The caller is worker 0; afterwards it is not a worker any more.
  struct forget_worker {
    ~forget_worker() { set_current_stream_worker(nullptr); }
  } forget;
  return pool->run(std::move(cb), options.drain_timeout, options.handle_signals);
}

task<void> stream_runtime::serve_worker(std::size_t index) {
  stream_worker& w = *workers[index];
  set_current_stream_worker(&w);
  task_group& connections = pool->tasks(index);
  if (tick.count() > 0)
    connections.spawn(sweep_connections(w));
  if (index == 0 && agent)
    connections.spawn(agent->serve(
        [this] { return agent_check::answer(draining(), maintenance.load(std::memory_order_relaxed)); },
        connections));
  std::vector<task<void>> loops;
  for (std::size_t l = 0; l < w.acceptors.size(); ++l)
    loops.push_back(accept_connections(w, l));
  co_await when_all(std::move(loops));
}

task<void> stream_runtime::accept_connections(stream_worker& w, std::size_t listener) {
  tcp::listener_options listening;
  listening.backoff = options.accept_backoff;
  listening.log_name = "stream_server";
  // With reuse_port, a connection accepted just as the drain began is served like the ones
  // hand_over takes.
  listening.stop_requested = [this, &w] {
    return w.draining && !options.reuse_port;
  };
  co_await tcp::accept_loop(
      w.acceptors[listener], [this, &w, listener](tcp::socket sock) { take_connection(w, listener, std::move(sock)); },
      std::move(listening));
}

void stream_runtime::take_connection(stream_worker& w, std::size_t listener, tcp::socket sock) {
  task_group& connections = pool->tasks(w.index);
  w.connections_total.add();
  if (connections_now.fetch_add(1, std::memory_order_relaxed) >= options.max_connections) {
    connections_now.fetch_sub(1, std::memory_order_relaxed);
    w.connections_rejected.add();
    connections.spawn(reject_stream_connection(w, std::move(sock), listener));
    return;
  }
  const std::uint64_t id = next_id.fetch_add(1, std::memory_order_relaxed) + 1;
  try {
    connections.spawn(run_stream_connection(w, std::move(sock), id, listener));
  } catch (const std::exception& e) {
    // No memory for this connection (its writer, its frame), or no TLS session for it
    // (SSL_new, ALPN): it is closed unserved (what was made is destroyed with the socket)
    // and accepting goes on.
    connections_now.fetch_sub(1, std::memory_order_relaxed);
    w.connections_rejected.add();
    log_setup_failure(e);
  }
}

void stream_runtime::spawn(task<void> t) {
  const stream_worker* here = this_thread_worker;
  if (here != nullptr && &here->rt == this) {
    stream_worker& w = *workers[here->index];
    if (!w.draining)
      w.background->spawn(std::move(t));
    return;
  }
  stream_worker& first = *workers.front();
  asio::post(pool->context(0), [&first, t = std::move(t)]() mutable {
    if (!first.draining)
      first.background->spawn(std::move(t));
  });
}

void stream_runtime::begin_drain(std::size_t index) noexcept {
  stream_worker& w = *workers[index];
  if (w.draining)
    return;
  w.draining = true;
  if (!stop_announced.exchange(true) && on_stop) {
    try {
      on_stop();
    } catch (const std::exception& e) {
      log(log_level::error, std::string("stream_server: on_stop callback threw: ") + e.what());
    } catch (...) {
      log(log_level::error, "stream_server: on_stop callback threw a non-standard exception");
    }
  }
  if (w.background->size() > 0) {
    w.background->cancel();
    try {
      pool->tasks(index).spawn(join_background(w));
    } catch (const std::bad_alloc&) {
      log(log_level::error, "stream_server: out of memory; background tasks are not awaited");
    }
  }
  for (std::size_t l = 0; l < w.acceptors.size(); ++l) {
    // With reuse_port another process may be taking the port over: the connections already
    // queued here are served instead of reset by the close.
    if (options.reuse_port) {
      steer_to_next_process(w.acceptors[l], options.threads);
      try {
        auto later =
            hand_over(w.acceptors[l], [this, &w, l](tcp::socket sock) { take_connection(w, l, std::move(sock)); });
        if (later)
          pool->tasks(index).spawn(std::move(*later));
      } catch (const std::bad_alloc&) {
        log(log_level::error, "stream_server: out of memory while handing the port over");
      }
    }
    w.acceptors[l].close();
  }
  if (index == 0 && agent) {
    try {
      pool->tasks(0).spawn(agent->close_when_drained(connections_now));
    } catch (const std::bad_alloc&) {
      agent->close();
    }
  }
  // Handshakes in progress are abandoned; handlers see their reads end (as their protocol
  // says).
  for (connection_core* c = w.head; c != nullptr; c = c->next_) {
    if (c->in_handshake_)
      c->close_transport();
    else
      c->drain_settled_ = !take_drain(*c, false, false);
  }
  if (options.reuse_port) {
    try {
      pool->tasks(index).spawn(stop_fresh_connections(w, fresh_connection_grace));
    } catch (const std::bad_alloc&) {
      for (connection_core* c = w.head; c != nullptr; c = c->next_)
        stop_reading_for_drain(*c);
    }
  }
  w.sweep_timer->cancel();
}

void stream_runtime::force_close(std::size_t index) noexcept {
  stream_worker& w = *workers[index];
  if (index == 0 && agent)
    agent->close();
  w.background->cancel();
  for (connection_core* c = w.head; c != nullptr; c = c->next_) {
    if (c->on_force_close_ != nullptr)
      c->on_force_close_(*c);
    c->close_transport();
  }
}

bool take_drain(connection_core& c, bool late, bool grace_over) noexcept {
  if (c.on_drain_ != nullptr)
    return c.on_drain_(c, late, grace_over);
  if (late ? !grace_over : c.fresh_)
    return true;
  stop_reading_for_drain(c);
  return false;
}

task<void> stop_fresh_connections(stream_worker& w, std::chrono::milliseconds grace) {
  // Each connection gets `grace` from when it was accepted (the hand-off takes some after
  // the drain began); the wait ends with the last of them.
  for (;;) {
    std::error_code ec;
    co_await sleep_for(grace / 4, ec);
    const auto now = std::chrono::steady_clock::now();
    bool waiting = false;
    for (connection_core* c = w.head; c != nullptr; c = c->next_) {
      if (c->drain_settled_ || c->in_handshake_)
        continue;
      c->drain_settled_ = !take_drain(*c, true, ec || now - c->created_ >= grace);
      waiting = waiting || !c->drain_settled_;
    }
    if (!waiting || ec)
      co_return;
  }
}

}  // namespace coronet::detail
