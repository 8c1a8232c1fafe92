// coronet::stream_server: construction (listeners, TLS, workers) and the public API over the
// runtime (stream_runtime.cpp runs it).
#include "coronet/server/stream_server.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include <asio/ip/address.hpp>

#include "runtime/worker_pool.hpp"
#include "server/agent_check.hpp"
#include "server/proxy_prelude.hpp"
#include "server/server_tls.hpp"
#include "server/stream_runtime.hpp"

namespace coronet {
namespace detail {

stream_worker::stream_worker(stream_runtime& r, asio::io_context& c, std::size_t i)
    : rt(r), opts(r.options), index(i), ctx(c), proxy_trusted(parse_trusted_proxies(r.options.proxy_trusted)) {
  sweep_timer.emplace(c);
  background.emplace(c.get_executor(), &report_background_failure);
}

stream_runtime::stream_runtime(stream_server& o, stream_server_options opts, stream_server::handlers h)
    : owner(o), options(std::move(opts)), handlers(std::move(h)), started(std::chrono::steady_clock::now()) {
  listeners.push_back(stream_listener_config{options.host, options.port, false, options.alpn});
  for (const stream_listener_config& l : options.listeners) {
    listeners.push_back(l);
    if (listeners.back().host.empty())
      listeners.back().host = options.host;
  }
  bool any_tls = false;
  for (stream_listener_config& l : listeners) {
    l.tls = l.tls || options.tls_only;
    any_tls = any_tls || l.tls;
    if (l.tls && !handlers.tls)
      throw std::invalid_argument("coronet::stream_server: a TLS listener needs a handler of stream_connection<tls::stream>");
    if (!l.tls && !handlers.plain)
      throw std::invalid_argument(
          "coronet::stream_server: a plain listener needs a handler of stream_connection<tcp::socket>");
  }
  if (any_tls)
    tls = std::make_unique<server_tls>(options.tls);
  std::vector<asio::ip::address> addresses;
  for (const stream_listener_config& l : listeners) {
    std::error_code ec;
    addresses.push_back(asio::ip::make_address(l.host, ec));
    if (ec)
      throw std::invalid_argument("coronet::stream_server: host '" + l.host + "' is not a numeric IP address");
  }
  options.backend = resolve_io_backend(options.backend);
  pool = std::make_unique<worker_pool>(options.threads);
  options.threads = static_cast<unsigned>(pool->size());
  tcp::acceptor_options acceptor_opts;
  acceptor_opts.backlog = options.backlog;
  acceptor_opts.reuse_port = options.threads > 1 || options.reuse_port;
  for (std::size_t i = 0; i < pool->size(); ++i) {
    auto w = std::make_unique<stream_worker>(*this, pool->context(i), i);
    if (options.backend == io_backend::io_uring)
      w->ring = uring::ring_of(pool->context(i));
    // Worker 0 binds the requested ports; the others bind the ports it got.
    for (std::size_t l = 0; l < listeners.size(); ++l) {
      w->acceptors.emplace_back(pool->context(i), tcp::endpoint(addresses[l], listeners[l].port), acceptor_opts);
      listeners[l].port = w->acceptors.back().port();
    }
    workers.push_back(std::move(w));
  }
  if (options.agent_port)
    agent = std::make_unique<agent_check>(pool->context(0), addresses.front(), *options.agent_port,
                                          acceptor_opts.reuse_port);
  std::chrono::milliseconds shortest{0};
  for (auto t : {options.handshake_timeout, options.idle_timeout, options.output_stall_timeout,
                 handlers.shortest_deadline})
    if (t.count() > 0 && (shortest.count() == 0 || t < shortest))
      shortest = t;
  if (shortest.count() > 0)
    tick = std::clamp(shortest / 4, std::chrono::milliseconds(5), std::chrono::milliseconds(1000));
  else if (tls || options.proxy_protocol != proxy_protocol_mode::off)
    tick = std::chrono::milliseconds(1000);  // the sweeper flushes the counts of suppressed log lines
}

stream_runtime::~stream_runtime() {
  halt();
  // Sockets and timers first, while their io_contexts exist; then the pool, whose
  // io_contexts free the suspended connections, which unlink themselves from the workers.
  for (auto& w : workers) {
    w->acceptors.clear();
    w->sweep_timer.reset();
  }
  agent.reset();
  pool.reset();
}

void stream_runtime::stop() noexcept { pool->stop(); }

void stream_runtime::halt() noexcept {
  pool->force_stop();
  pool->join();
}

bool stream_runtime::draining() const noexcept { return pool->stopping(); }

stream_server_stats stream_runtime::stats() const noexcept {
  stream_server_stats s;
  s.connections_now = connections_now.load(std::memory_order_relaxed);
  for (const auto& w : workers) {
    s.connections_total += w->connections_total.get();
    s.connections_rejected += w->connections_rejected.get();
    s.errors += w->errors.get();
    s.handshakes_timed_out += w->handshakes_timed_out.get();
    s.proxy_header_errors += w->proxy_header_errors.get();
    s.bytes_in += w->bytes_in.get();
    s.bytes_out += w->bytes_out.get();
    s.proxy_health_checks += w->proxy_health_checks.get();
  }
  s.uptime = std::chrono::steady_clock::now() - started;
  s.draining = draining();
  s.maintenance = maintenance.load(std::memory_order_relaxed);
  return s;
}

}  // namespace detail

stream_server::stream_server(stream_server_options options, handlers h)
    : rt_(std::make_unique<detail::stream_runtime>(*this, std::move(options), std::move(h))) {}

stream_server::~stream_server() = default;

std::uint16_t stream_server::port() const noexcept { return rt_->listeners.front().port; }
std::uint16_t stream_server::port(std::size_t i) const { return rt_->listeners.at(i).port; }
std::size_t stream_server::listener_count() const noexcept { return rt_->listeners.size(); }
const stream_listener_config& stream_server::listener(std::size_t i) const { return rt_->listeners.at(i); }
const stream_server_options& stream_server::options() const noexcept { return rt_->options; }
int stream_server::run() { return rt_->run(); }
void stream_server::stop() noexcept { rt_->stop(); }
bool stream_server::draining() const noexcept { return rt_->draining(); }
void stream_server::spawn(task<void> t) const { rt_->spawn(std::move(t)); }
void stream_server::on_stop(std::function<void()> f) { rt_->on_stop = std::move(f); }
void stream_server::on_reject(std::function<std::string(std::size_t)> f) { rt_->on_reject = std::move(f); }
bool stream_server::reload_tls() noexcept { return rt_->tls ? rt_->tls->reload() : false; }
void stream_server::set_maintenance(bool on) noexcept { rt_->maintenance.store(on, std::memory_order_relaxed); }
bool stream_server::maintenance() const noexcept { return rt_->maintenance.load(std::memory_order_relaxed); }
std::uint16_t stream_server::agent_port() const noexcept { return rt_->agent ? rt_->agent->port() : 0; }
stream_server_stats stream_server::stats() const noexcept { return rt_->stats(); }

std::size_t stream_server::current_worker() noexcept {
  const detail::stream_worker* w = detail::current_stream_worker();
  return w != nullptr ? w->index : no_worker;
}

}  // namespace coronet
