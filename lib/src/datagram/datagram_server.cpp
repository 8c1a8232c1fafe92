#include "coronet/datagram/datagram_server.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/error.hpp>

#include "coronet/core/detail/log_limiter.hpp"
#include "coronet/core/detail/thread_counter.hpp"
#include "runtime/worker_pool.hpp"
#include "coronet/core/log.hpp"
#include "coronet/net/timer.hpp"
#include "coronet/core/spawn.hpp"
#include "datagram/detail/source_rate_limiter.hpp"

namespace coronet::detail {
namespace {

using steady = std::chrono::steady_clock;

// After a receive error (ENOBUFS, ENOMEM...), a pause so a persistent one
// cannot turn the loop into a busy loop.
constexpr auto receive_error_backoff = std::chrono::milliseconds(10);

log_limiter receive_error_log;
log_limiter handler_error_log;
log_limiter send_error_log;

std::int64_t steady_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch()).count();
}

}  // namespace

// One receive loop: owns one receive buffer (one byte larger than the
// largest datagram accepted, to see truncation) and one reply buffer.
struct datagram_receiver {
  enum class phase { receiving, handling };

  datagram_receiver(std::size_t listener_index, std::size_t buffer_size)
      : listener(listener_index), buffer(std::make_unique_for_overwrite<std::byte[]>(buffer_size)) {}

  std::size_t listener;
  std::unique_ptr<std::byte[]> buffer;
  asio::cancellation_signal signal;
  phase state = phase::receiving;
};

// One worker's sockets and receive loops. The sockets and the timer live on
// the pool's io_context and are released before it; the receivers, which
// suspended loops still use, go after it.
struct datagram_worker {
  datagram_worker(datagram_server& s, asio::io_context& c) : srv(s), ctx(c), limiter(s.options_.rate_limit) {}

  task<void> main();
  task<void> receive_loop(datagram_receiver& r);
  void begin_drain() noexcept;
  void force_close() noexcept;
  void release_io() noexcept;

  datagram_server& srv;
  asio::io_context& ctx;
  source_rate_limiter limiter;
  std::size_t running = 0;
  bool draining = false;
  thread_counter received;
  thread_counter replies;
  thread_counter unanswered;
  thread_counter dropped_oversize;
  thread_counter dropped_source;
  thread_counter dropped_rate_limited;
  thread_counter handler_errors;
  thread_counter io_errors;
  thread_counter bytes_in;
  thread_counter bytes_out;
  std::vector<udp::socket> sockets;  // one per listener
  std::vector<std::unique_ptr<datagram_receiver>> receivers;
  // Never expires: its wait ends when the last loop cancels it.
  std::optional<timer> loops_ended;
};

// Each loop has its own cancellation signal, so a drain can stop the loops
// waiting for a datagram and leave the ones still answering.
task<void> datagram_worker::main() {
  loops_ended.emplace(ctx);
  loops_ended->expires_at(steady::time_point::max());
  for (auto& r : receivers) {
    ++running;
    spawn(ctx, receive_loop(*r), asio::bind_cancellation_slot(r->signal.slot(), [this](std::exception_ptr e) {
            if (e)
              report_unhandled_exception(e);
            if (--running == 0)
              loops_ended->cancel();
          }));
  }
  if (running > 0) {
    std::error_code ec;
    co_await loops_ended->wait(ec);
  }
  for (auto& s : sockets) {
    std::error_code ignored;
    s.close(ignored);
  }
}

task<void> datagram_worker::receive_loop(datagram_receiver& r) {
  const datagram_server_options& opts = srv.options_;
  const datagram_server::listener_entry& entry = srv.listeners_[r.listener];
  const std::vector<std::uint16_t>& dropped_ports = entry.listener.drop_from_own_ports ? srv.dropped_ports_own_
                                                                                       : srv.dropped_ports_;
  udp::socket& sock = sockets[r.listener];
  const asio::mutable_buffer receive_room(r.buffer.get(), opts.max_datagram_bytes + 1);
  const std::span<std::byte> reply_room(r.buffer.get() + opts.max_datagram_bytes + 1, opts.max_reply_bytes);
  udp::endpoint source;

  while (!draining) {
    r.state = datagram_receiver::phase::receiving;
    std::error_code ec;
    const std::size_t n = co_await sock.receive_from(receive_room, source, ec);
    r.state = datagram_receiver::phase::handling;
    if (ec) {
      if (ec == asio::error::operation_aborted || draining)
        co_return;
      io_errors.add();
      receive_error_log.log(log_level::warning, "datagram server: receive: " + ec.message());
      co_await sleep_for(receive_error_backoff, ec);
      continue;
    }
    received.add();
    bytes_in.add(n);
    if (n > opts.max_datagram_bytes) {
      dropped_oversize.add();
      continue;
    }
    if (source.port() == 0 || std::binary_search(dropped_ports.begin(), dropped_ports.end(), source.port())) {
      dropped_source.add();
      continue;
    }
    const std::int64_t now = steady_ns();
    if (!limiter.allows(source.address(), now)) {
      dropped_rate_limited.add();
      continue;
    }

    datagram d{std::span<const std::byte>(r.buffer.get(), n), source, entry.port, std::chrono::system_clock::now(),
               reply_room};
    std::optional<std::size_t> reply;
    try {
      reply = co_await entry.listener.handler(d);
    } catch (const std::system_error& e) {
      if (draining && e.code() == asio::error::operation_aborted)
        co_return;
      handler_errors.add();
      handler_error_log.log(log_level::error, std::string("datagram handler failed: ") + e.what());
      continue;
    } catch (const std::exception& e) {
      handler_errors.add();
      handler_error_log.log(log_level::error, std::string("datagram handler failed: ") + e.what());
      continue;
    } catch (...) {
      handler_errors.add();
      handler_error_log.log(log_level::error, "datagram handler failed: an exception not derived from std::exception");
      continue;
    }
    if (!reply) {
      unanswered.add();
      continue;
    }
    if (*reply > reply_room.size()) {
      handler_errors.add();
      handler_error_log.log(log_level::error, "datagram handler yielded a reply larger than max_reply_bytes");
      continue;
    }
    // Another loop of this thread may have spent the last reply meanwhile.
    if (!limiter.take(source.address(), now)) {
      dropped_rate_limited.add();
      continue;
    }
    co_await sock.send_to(asio::buffer(reply_room.data(), *reply), source, ec);
    if (ec) {
      if (ec == asio::error::operation_aborted && draining)
        co_return;
      io_errors.add();
      send_error_log.log(log_level::warning, "datagram server: send: " + ec.message());
      continue;
    }
    replies.add();
    bytes_out.add(*reply);
  }
}

void datagram_worker::begin_drain() noexcept {
  draining = true;
  // Loops waiting for a datagram have nothing in flight: stop them now. The
  // others end once their replies are sent.
  for (auto& r : receivers)
    if (r->state == datagram_receiver::phase::receiving)
      r->signal.emit(asio::cancellation_type::terminal);
}

void datagram_worker::force_close() noexcept {
  log(log_level::warning, "datagram server: drain deadline passed; cancelling the remaining handlers");
  for (auto& r : receivers)
    r->signal.emit(asio::cancellation_type::terminal);
}

void datagram_worker::release_io() noexcept {
  sockets.clear();
  loops_ended.reset();
}

}  // namespace coronet::detail

namespace coronet {

datagram_server::datagram_server(datagram_server_options options) : options_(std::move(options)) {
  if (options_.max_in_flight == 0)
    throw std::invalid_argument("coronet::datagram_server: max_in_flight must be at least 1");
  if (options_.rate_limit.per_second != 0 && options_.rate_limit.burst == 0)
    throw std::invalid_argument("coronet::datagram_server: rate_limit.burst must be at least 1");
  if (options_.rate_limit.tracked_sources > reply_rate_limit::max_tracked_sources)
    throw std::invalid_argument("coronet::datagram_server: rate_limit.tracked_sources " +
                                std::to_string(options_.rate_limit.tracked_sources) + " is over the limit of " +
                                std::to_string(reply_rate_limit::max_tracked_sources));
  std::error_code ec;
  address_ = asio::ip::make_address(options_.host, ec);
  if (ec)
    throw std::invalid_argument("coronet::datagram_server: host '" + options_.host + "' is not a numeric IP address");
  dropped_ports_ = options_.dropped_source_ports;
  std::sort(dropped_ports_.begin(), dropped_ports_.end());
  dropped_ports_own_ = dropped_ports_;
  pool_ = std::make_unique<detail::worker_pool>(options_.threads);
  options_.threads = static_cast<unsigned>(pool_->size());
  for (std::size_t i = 0; i < pool_->size(); ++i)
    workers_.push_back(std::make_unique<detail::datagram_worker>(*this, pool_->context(i)));
}

// The sockets go while the io_contexts still exist but no thread runs them.
datagram_server::~datagram_server() {
  pool_->force_stop();
  pool_->join();
  for (auto& w : workers_)
    w->release_io();
}

std::uint16_t datagram_server::listen(datagram_listener l) {
  if (ran_.load())
    throw std::logic_error("coronet::datagram_server::listen: the server is already running");
  if (!l.handler)
    throw std::invalid_argument("coronet::datagram_server::listen: empty handler");
  udp::socket_options socket_opts;
  socket_opts.reuse_port = options_.threads > 1;
  std::uint16_t port = l.port;
  std::vector<udp::socket> bound;
  for (auto& w : workers_) {
    bound.emplace_back(w->ctx, udp::endpoint(address_, port), socket_opts);
    port = bound.back().port();
  }
  const std::size_t index = listeners_.size();
  const std::size_t buffer_size = options_.max_datagram_bytes + 1 + options_.max_reply_bytes;
  listeners_.push_back(listener_entry{std::move(l), port});
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    workers_[i]->sockets.push_back(std::move(bound[i]));
    for (std::size_t k = 0; k < options_.max_in_flight; ++k)
      workers_[i]->receivers.push_back(std::make_unique<detail::datagram_receiver>(index, buffer_size));
  }
  dropped_ports_own_.insert(std::upper_bound(dropped_ports_own_.begin(), dropped_ports_own_.end(), port), port);
  return port;
}

std::vector<std::uint16_t> datagram_server::ports() const {
  std::vector<std::uint16_t> out;
  for (const auto& l : listeners_)
    out.push_back(l.port);
  return out;
}

void datagram_server::stop() noexcept { pool_->stop(); }

void datagram_server::force_stop() noexcept { pool_->force_stop(); }

datagram_server_stats datagram_server::stats() const noexcept {
  datagram_server_stats s;
  for (const auto& w : workers_) {
    s.received += w->received.get();
    s.replies += w->replies.get();
    s.unanswered += w->unanswered.get();
    s.dropped_oversize += w->dropped_oversize.get();
    s.dropped_source += w->dropped_source.get();
    s.dropped_rate_limited += w->dropped_rate_limited.get();
    s.handler_errors += w->handler_errors.get();
    s.io_errors += w->io_errors.get();
    s.bytes_in += w->bytes_in.get();
    s.bytes_out += w->bytes_out.get();
  }
  return s;
}

int datagram_server::run() {
  if (ran_.exchange(true))
    throw std::logic_error("coronet::datagram_server::run: called twice");
  detail::worker_pool::callbacks cb;
  cb.main = [this](std::size_t i) {
    return workers_[i]->main();
  };
  cb.begin_drain = [this](std::size_t i) {
    workers_[i]->begin_drain();
  };
  cb.force_close = [this](std::size_t i) {
    workers_[i]->force_close();
  };
  return pool_->run(std::move(cb), options_.drain_timeout, options_.handle_signals);
}

}  // namespace coronet
