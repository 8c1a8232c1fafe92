#include "coronet/server/server.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <asio/ip/address.hpp>

#include "coronet/server/stream_server.hpp"
#include "server/pubsub/backplane.hpp"
#include "server/pubsub/pubsub_hub.hpp"
#include "server/session.hpp"
#include "server/stream_runtime.hpp"

namespace coronet {

namespace detail {

// A command server on a stream server: the sessions are its connection handler.
struct server_impl {
  explicit server_impl(server& s);
  // The workers stop first (and a run() on another thread returns): the backplane, which
  // goes first, is used on worker 0 until then.
  ~server_impl() { stream.rt_->halt(); }
  server_impl(const server_impl&) = delete;
  server_impl& operator=(const server_impl&) = delete;

  static stream_server_options stream_options(const server& s);
  static stream_server::handlers handlers_of(server_impl& self);

  // Declared before the stream server: the sessions its connections run use them until the
  // stream server is gone.
  auth_throttle throttle;
  std::vector<std::unique_ptr<server_worker>> workers;
  // Its deliveries are tasks on the stream server's io_contexts: it outlives them.
  std::unique_ptr<pubsub_hub> pubsub;
  stream_server stream;
  // Null without server_options::pubsub_backplane. After the stream server: its connections
  // are sockets on the stream server's io_contexts, destroyed while those exist (no thread
  // runs them by then: see ~server_impl).
  std::unique_ptr<pubsub_backplane> backplane;
};

// What a listener agrees to in ALPN: HTTPS says which HTTP it speaks, as nginx does; the
// command protocols have no registered ALPN name, so they ignore it, as redis-server does.
std::vector<std::string> alpn_of(const listener_config& l) {
  if (l.protocol == wire_protocol::http)
    return {"http/1.1", "http/1.0"};
  return {};
}

stream_server_options server_impl::stream_options(const server& s) {
  const server_options& o = s.options();
  stream_server_options so;
  static_cast<connection_options&>(so) = o;
  so.host = o.host;
  so.port = o.port;
  for (std::size_t i = 1; i < s.listener_count(); ++i)
    so.listeners.push_back({s.listener(i).host, s.listener(i).port, s.listener(i).tls, alpn_of(s.listener(i))});
  so.alpn = alpn_of(s.listener(0));
  return so;
}

stream_server::handlers server_impl::handlers_of(server_impl& self) {
  stream_server::handlers h;
  h.plain = [&self](stream_connection<tcp::socket>& c) {
    return serve_commands(*self.workers[c.worker_->index], c);
  };
  h.tls = [&self](stream_connection<tls::stream>& c) {
    return serve_commands(*self.workers[c.worker_->index], c);
  };
  return h;
}

server_impl::server_impl(server& s) : throttle(s.options().auth_throttle), stream(stream_options(s), [&] {
  stream_server::handlers h = handlers_of(*this);
  // The sweeper looks often enough for the protocol deadlines the sessions arm.
  const server_options& o = s.options();
  std::chrono::milliseconds shortest{0};
  std::vector<std::chrono::milliseconds> deadlines{o.partial_request_timeout, o.request_timeout};
  for (std::size_t i = 0; i < s.listener_count(); ++i)
    if (s.listener(i).protocol == wire_protocol::http) {
      deadlines.push_back(o.http.idle_timeout);
      deadlines.push_back(o.http.header_timeout);
    }
  for (auto t : deadlines)
    if (t.count() > 0 && (shortest.count() == 0 || t < shortest))
      shortest = t;
  h.shortest_deadline = shortest;
  return h;
}()) {
  stream.on_reject([&s](std::size_t listener) { return reject_text(s.listener(listener).protocol); });
}

}  // namespace detail

server::server(const router& r, server_options options) : router_(r), options_(std::move(options)) {
  std::optional<detail::backplane_endpoint> backplane;
  if (!options_.pubsub_backplane.empty())
    backplane = detail::backplane_endpoint::parse(options_.pubsub_backplane);
  listeners_.push_back(listener_config{options_.host, options_.port, options_.protocol});
  for (const listener_config& l : options_.listeners) {
    listeners_.push_back(l);
    if (listeners_.back().host.empty())
      listeners_.back().host = options_.host;
  }
  for (listener_config& l : listeners_)
    l.tls = l.tls || options_.tls_only;
  impl_ = std::make_unique<detail::server_impl>(*this);
  const stream_server& st = impl_->stream;
  options_.threads = st.options().threads;
  options_.backend = st.options().backend;
  for (std::size_t l = 0; l < listeners_.size(); ++l)
    listeners_[l].port = st.port(l);
  impl_->pubsub = std::make_unique<detail::pubsub_hub>(options_.threads);
  for (std::size_t i = 0; i < options_.threads; ++i) {
    impl_->workers.push_back(std::make_unique<detail::server_worker>(*this, i, impl_->throttle));
    impl_->workers.back()->pubsub = impl_->pubsub.get();
  }
  if (backplane)
    impl_->backplane = std::make_unique<detail::pubsub_backplane>(std::move(*backplane), *impl_->pubsub, *this);
}

namespace {

// The router of a server of HTTP routes alone.
const router& no_commands() {
  static const router empty;
  return empty;
}

}  // namespace

server::server(const router& r, const http_routes& routes, server_options options) : server(r, std::move(options)) {
  http_routes_ = &routes;
  for (auto& w : impl_->workers)
    w->user_routes = &routes;
}

server::server(const http_routes& routes, server_options options) : server(no_commands(), routes, std::move(options)) {
  commands_over_http_ = false;
  for (auto& w : impl_->workers)
    w->commands_over_http = false;
}

server::~server() = default;

void server::stop() noexcept { impl_->stream.stop(); }

bool server::reload_tls() noexcept { return impl_->stream.reload_tls(); }

void server::set_maintenance(bool on) noexcept { impl_->stream.set_maintenance(on); }

bool server::maintenance() const noexcept { return impl_->stream.maintenance(); }

void server::on_stop(std::function<void()> callback) { impl_->stream.on_stop(std::move(callback)); }

server_metrics server::metrics() const {
  server_metrics m;
  const auto commands = router_.commands();
  m.commands.resize(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i)
    m.commands[i].name = commands[i].name;
  for (const auto& w : impl_->workers)
    w->metrics.add_to(m);
  std::sort(m.connections.begin(), m.connections.end(),
            [](const protocol_connections& a, const protocol_connections& b) { return a.protocol < b.protocol; });
  impl_->workers.front()->rate.read(m.requests_per_second);
  return m;
}

server_stats server::stats() const noexcept {
  const stream_server_stats st = impl_->stream.stats();
  server_stats s;
  s.connections_now = st.connections_now;
  s.connections_total = st.connections_total;
  s.connections_rejected = st.connections_rejected;
  s.handshakes_timed_out = st.handshakes_timed_out;
  s.proxy_header_errors = st.proxy_header_errors;
  s.bytes_in = st.bytes_in;
  s.bytes_out = st.bytes_out;
  // A rejected connection got an error reply; a stalled one was closed as an error.
  s.errors = st.errors + st.connections_rejected;
  for (const auto& w : impl_->workers) {
    s.requests += w->requests.get();
    s.errors += w->errors.get();
    s.security_attacks += w->metrics.security_attacks.get();
  }
  s.pubsub_channels = impl_->pubsub->channel_count();
  s.pubsub_patterns = impl_->pubsub->numpat();
  s.pubsub_output_limit_disconnections = impl_->pubsub->output_limit_disconnections.load(std::memory_order_relaxed);
  if (const detail::pubsub_backplane* b = impl_->backplane.get()) {
    s.pubsub_backplane = b->state();
    s.pubsub_backplane_forwarded = b->forwarded();
    s.pubsub_backplane_received = b->received();
    s.pubsub_backplane_dropped = b->dropped();
  }
  s.uptime = st.uptime;
  s.draining = st.draining;
  s.maintenance = st.maintenance;
  s.proxy_health_checks = st.proxy_health_checks;
  return s;
}

bool server::draining() const noexcept { return impl_->stream.draining(); }

std::uint16_t server::agent_port() const noexcept { return impl_->stream.agent_port(); }

int server::run() {
  // Before any worker serves: the router no longer changes.
  for (auto& w : impl_->workers)
    w->metrics.prepare(router_.commands().size(), options_.track_latency, options_.latency_sample_every);
  // Worker 0 ticks the request rate; the drain cancels it.
  impl_->stream.spawn(detail::tick_request_rate(*this, impl_->workers.front()->rate));
  if (impl_->backplane)
    impl_->stream.spawn(impl_->backplane->run());
  return impl_->stream.run();
}

std::size_t server::current_worker() noexcept { return stream_server::current_worker(); }

std::size_t server::publish(std::string_view channel, std::string_view payload) const {
  const std::size_t receivers = impl_->pubsub->publish(channel, payload);
  if (impl_->backplane)
    impl_->backplane->forward(channel, payload);
  return receivers;
}

std::vector<std::string> server::pubsub_channels(const std::string_view* pattern) const {
  return impl_->pubsub->channels(pattern != nullptr ? *pattern : std::string_view(), pattern == nullptr);
}

std::size_t server::pubsub_numsub(std::string_view channel) const { return impl_->pubsub->numsub(channel); }

std::size_t server::pubsub_numpat() const { return impl_->pubsub->numpat(); }

void server::spawn(task<void> t) const { impl_->stream.spawn(std::move(t)); }

}  // namespace coronet
