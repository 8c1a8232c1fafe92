#include "coronet/services/time_services.hpp"

#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <asio/error.hpp>
#include <asio/ip/address.hpp>
#include <asio/post.hpp>

#include "coronet/detail/log_limiter.hpp"
#include "coronet/detail/shutdown_signals.hpp"
#include "coronet/log.hpp"
#include "coronet/net/acceptor.hpp"
#include "coronet/net/socket.hpp"
#include "coronet/net/timeout.hpp"
#include "coronet/net/timer.hpp"
#include "coronet/services/daytime.hpp"
#include "coronet/services/time_protocol.hpp"
#include "coronet/spawn.hpp"
#include "coronet/task_group.hpp"

namespace coronet::services::detail {
namespace {

// After an accept failure for lack of descriptors, accepting pauses this long.
constexpr auto accept_backoff = std::chrono::milliseconds(100);
// Tries at finding a port free for both TCP and UDP when asked for port 0.
constexpr int free_port_attempts = 32;

coronet::detail::log_limiter accept_error_log;
coronet::detail::log_limiter answer_error_log;

bool is_descriptor_exhaustion(const std::error_code& ec) noexcept {
  return ec == asio::error::no_descriptors || ec == std::errc::too_many_files_open_in_system ||
         ec == asio::error::no_buffer_space || ec == asio::error::no_memory;
}

}  // namespace

// The TCP side: one io_context on the thread calling run(), an acceptor per
// TCP service, and a task group holding the accept loops and connections.
struct time_services_tcp {
  enum class kind { daytime, time };

  struct listener {
    tcp::acceptor acceptor;
    kind what;
  };

  explicit time_services_tcp(const time_services_options& o) : opts(o) {
    ctx.emplace(1);
    tasks.emplace(ctx->get_executor());
    drain_timer.emplace(*ctx);
  }

  // The io_context goes before the task group: destroying it frees the
  // frames still suspended, which unlink themselves from the group.
  ~time_services_tcp() {
    signals.reset();
    drain_timer.reset();
    listeners.clear();
    ctx.reset();
    tasks.reset();
  }

  task<void> main();
  task<void> accept_loop(listener& l);
  task<void> answer(tcp::socket s, kind what);
  void begin_drain() noexcept;

  const time_services_options& opts;
  std::optional<task_group> tasks;
  std::optional<asio::io_context> ctx;
  std::vector<listener> listeners;
  std::optional<timer> drain_timer;
  std::optional<coronet::detail::shutdown_signals> signals;
  std::size_t open = 0;
  bool draining = false;
  bool finished = false;
  std::atomic<std::uint64_t> answered{0};
  std::atomic<std::uint64_t> rejected{0};
};

task<void> time_services_tcp::main() {
  for (auto& l : listeners)
    tasks->spawn(accept_loop(l));
  co_await tasks->join();
  finished = true;
  drain_timer->cancel();
}

task<void> time_services_tcp::accept_loop(listener& l) {
  for (;;) {
    std::error_code ec;
    tcp::socket s = co_await l.acceptor.accept(ec);
    if (draining || ec == asio::error::operation_aborted)
      co_return;
    if (ec) {
      accept_error_log.log(log_level::warning, "time services: accept: " + ec.message());
      if (is_descriptor_exhaustion(ec))
        co_await sleep_for(accept_backoff, ec);
      continue;
    }
    if (open >= opts.max_tcp_connections) {
      rejected.fetch_add(1, std::memory_order_relaxed);
      continue;  // `s` closes here
    }
    ++open;
    answered.fetch_add(1, std::memory_order_relaxed);
    tasks->spawn(answer(std::move(s), l.what));
  }
}

task<void> time_services_tcp::answer(tcp::socket s, kind what) {
  struct open_count {
    std::size_t& n;
    ~open_count() { --n; }
  } counted{open};
  try {
    char text[daytime_buffer_size];
    std::size_t n = 0;
    if (what == kind::daytime) {
      n = format_daytime(text, std::time(nullptr));
    } else {
      const auto bytes = encode_time_protocol(std::chrono::system_clock::now());
      std::memcpy(text, bytes.data(), bytes.size());
      n = bytes.size();
    }
    std::error_code ec;
    co_await s.write_all(asio::buffer(text, n), ec);
    if (!ec)
      s.shutdown(asio::socket_base::shutdown_send, ec);
    if (!ec && opts.tcp_linger.count() > 0) {
      // Wait for the peer's close, discarding what it sends, so that our
      // close does not turn into a reset that destroys the reply in flight.
      co_await with_timeout(
          [](tcp::socket& sock) -> task<void> {
            char sink[512];
            std::error_code read_ec;
            while (!read_ec)
              co_await sock.read_some(asio::buffer(sink), read_ec);
          }(s),
          opts.tcp_linger);
    }
  } catch (const std::system_error& e) {
    // Timed out or cancelled while lingering: close now.
    if (e.code() != asio::error::timed_out && e.code() != asio::error::operation_aborted)
      answer_error_log.log(log_level::error, std::string("time services: answer failed: ") + e.what());
  } catch (const std::exception& e) {
    answer_error_log.log(log_level::error, std::string("time services: answer failed: ") + e.what());
  }
  std::error_code ignored;
  s.close(ignored);
}

void time_services_tcp::begin_drain() noexcept {
  if (draining)
    return;
  draining = true;
  for (auto& l : listeners)
    l.acceptor.close();
  if (finished)
    return;
  drain_timer->expires_after(opts.drain_timeout);
  spawn(*ctx, [this]() -> task<void> {
    if (finished)
      co_return;
    std::error_code ec;
    co_await drain_timer->wait(ec);
    if (!ec && !finished) {
      log(log_level::warning, "time services: drain deadline passed; closing the remaining connections");
      tasks->cancel();
    }
  });
}

}  // namespace coronet::services::detail

namespace coronet::services {

time_services::time_services(time_services_options options) : options_(std::move(options)) {
  if (!options_.daytime_port && !options_.time_port && !options_.sntp_port)
    throw std::invalid_argument("coronet::services::time_services: no service enabled");
  std::error_code ec;
  const asio::ip::address address = asio::ip::make_address(options_.host, ec);
  if (ec)
    throw std::invalid_argument("coronet::services::time_services: host '" + options_.host +
                                "' is not a numeric IP address");
  tcp_ = std::make_unique<detail::time_services_tcp>(options_);
  datagram_server_options udp_options;
  udp_options.host = options_.host;
  udp_options.threads = options_.udp_threads;
  udp_options.rate_limit = options_.rate_limit;
  udp_options.drain_timeout = options_.drain_timeout;
  udp_ = std::make_unique<datagram_server>(std::move(udp_options));

  // One port for both transports: TCP picks it, then UDP must get the same.
  auto bind_both = [&](std::uint16_t wanted, detail::time_services_tcp::kind what, datagram_handler handler) {
    const int attempts = wanted == 0 ? detail::free_port_attempts : 1;
    for (int attempt = 1;; ++attempt) {
      tcp::acceptor acceptor(*tcp_->ctx, tcp::endpoint(address, wanted));
      const std::uint16_t port = acceptor.port();
      try {
        udp_->listen(datagram_listener{port, handler});
      } catch (const std::system_error& e) {
        if (e.code() == asio::error::address_in_use && attempt < attempts)
          continue;
        throw;
      }
      tcp_->listeners.push_back({std::move(acceptor), what});
      return port;
    }
  };
  if (options_.daytime_port)
    daytime_port_ = bind_both(*options_.daytime_port, detail::time_services_tcp::kind::daytime, daytime_handler());
  if (options_.time_port)
    time_port_ = bind_both(*options_.time_port, detail::time_services_tcp::kind::time, time_protocol_handler());
  if (options_.sntp_port)
    sntp_port_ = udp_->listen(
        datagram_listener{*options_.sntp_port, sntp_handler(options_.sntp), options_.sntp_drop_from_own_ports});
}

time_services::~time_services() {
  // The UDP threads stop first; the TCP side runs on the caller of run().
  udp_->force_stop();
  tcp_->ctx->stop();
}

void time_services::stop() noexcept {
  stopping_.store(true);
  udp_->stop();
  try {
    asio::post(*tcp_->ctx, [t = tcp_.get()] { t->begin_drain(); });
  } catch (...) {
    // Out of memory: the drain cannot be queued; fall back to stopping.
    tcp_->ctx->stop();
  }
}

time_services_stats time_services::stats() const noexcept {
  time_services_stats s;
  s.tcp_connections = tcp_->answered.load(std::memory_order_relaxed);
  s.tcp_rejected = tcp_->rejected.load(std::memory_order_relaxed);
  s.udp = udp_->stats();
  return s;
}

void time_services::side_done() noexcept {
  if (sides_running_.fetch_sub(1) != 1)
    return;
  try {
    asio::post(*tcp_->ctx, [t = tcp_.get()] {
      if (t->signals)
        t->signals->cancel();
    });
  } catch (...) {
    tcp_->ctx->stop();
  }
}

int time_services::run() {
  if (ran_.exchange(true))
    throw std::logic_error("coronet::services::time_services::run: called twice");
  sides_running_.store(2);
  if (options_.handle_signals) {
    tcp_->signals.emplace(
        *tcp_->ctx, [this] { return stopping_.load(); }, [this] { stop(); },
        [this] {
          exit_code_.store(1);
          udp_->force_stop();
          tcp_->ctx->stop();
        });
  }
  spawn(*tcp_->ctx, tcp_->main(), [this](std::exception_ptr e) {
    if (e)
      coronet::detail::report_unhandled_exception(e);
    side_done();
  });
  std::thread udp_thread([this] {
    try {
      udp_->run();
    } catch (...) {
      coronet::detail::report_unhandled_exception(std::current_exception());
    }
    side_done();
  });
  tcp_->ctx->run();
  udp_thread.join();
  return exit_code_.load();
}

}  // namespace coronet::services
