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

#include "coronet/core/detail/log_limiter.hpp"
#include "runtime/worker_pool.hpp"
#include "coronet/core/log.hpp"
#include "coronet/net/acceptor.hpp"
#include "runtime/listener.hpp"
#include "coronet/net/socket.hpp"
#include "coronet/net/timer.hpp"
#include "coronet/services/daytime.hpp"
#include "coronet/services/time_protocol.hpp"
#include "coronet/core/spawn.hpp"

namespace coronet::services::detail {
namespace {

// After an accept failure for lack of descriptors, accepting pauses this long.
constexpr auto accept_backoff = std::chrono::milliseconds(100);
// Tries at finding a port free for both TCP and UDP when asked for port 0.
constexpr int free_port_attempts = 32;

coronet::detail::log_limiter answer_error_log;

}  // namespace

// The TCP side: a worker pool of one (the thread calling run()) with an
// acceptor per TCP service. Its drain stops the UDP side too, and it stays up
// until that side has drained, so the signals cover both.
struct time_services_tcp {
  enum class kind { daytime, time };

  struct listener {
    tcp::acceptor acceptor;
    kind what;
  };

  time_services_tcp(const time_services_options& o, datagram_server& u) : opts(o), udp(u), pool(1) {}

  // The acceptors and the timer live on the pool's io_context: they go while
  // it exists but no thread runs it.
  ~time_services_tcp() {
    pool.force_stop();
    pool.join();
    udp_ended.reset();
    listeners.clear();
  }

  task<void> main();
  void accepted(tcp::socket s, kind what);
  task<void> answer(tcp::socket s, kind what);
  void begin_drain() noexcept;
  void force_close() noexcept;
  void udp_finished() noexcept;

  const time_services_options& opts;
  datagram_server& udp;
  coronet::detail::worker_pool pool;
  std::vector<listener> listeners;
  // Never expires: its wait ends when the UDP side has finished.
  std::optional<timer> udp_ended;
  bool udp_done = false;
  std::size_t open = 0;
  bool draining = false;
  std::atomic<std::uint64_t> answered{0};
  std::atomic<std::uint64_t> rejected{0};
};

task<void> time_services_tcp::main() {
  for (auto& l : listeners) {
    tcp::listener_options accepting{accept_backoff, [this] { return draining; }, {}, "time services"};
    pool.tasks(0).spawn(tcp::accept_loop(
        l.acceptor, [this, what = l.what](tcp::socket s) { accepted(std::move(s), what); }, std::move(accepting)));
  }
  if (!udp_done) {
    udp_ended.emplace(pool.context(0));
    udp_ended->expires_at(std::chrono::steady_clock::time_point::max());
    std::error_code ec;
    co_await udp_ended->wait(ec);
  }
}

void time_services_tcp::accepted(tcp::socket s, kind what) {
  if (open >= opts.max_tcp_connections) {
    rejected.fetch_add(1, std::memory_order_relaxed);
    return;  // `s` closes here
  }
  ++open;
  answered.fetch_add(1, std::memory_order_relaxed);
  pool.tasks(0).spawn(answer(std::move(s), what));
}

task<void> time_services_tcp::answer(tcp::socket s, kind what) {
  struct open_count {
    std::size_t& n;
    ~open_count() { --n; }
  } counted{open};
  char text[daytime_buffer_size];
  std::size_t n = 0;
  try {
    if (what == kind::daytime) {
      n = format_daytime(text, std::time(nullptr));
    } else {
      const auto bytes = encode_time_protocol(std::chrono::system_clock::now());
      std::memcpy(text, bytes.data(), bytes.size());
      n = bytes.size();
    }
  } catch (const std::exception& e) {
    answer_error_log.log(log_level::error, std::string("time services: answer failed: ") + e.what());
    co_return;
  }
  std::error_code ec;
  co_await s.write_all(asio::buffer(text, n), ec);
  if (!ec)
    co_await tcp::lingering_close(s, opts.tcp_linger);
}

void time_services_tcp::begin_drain() noexcept {
  draining = true;
  for (auto& l : listeners)
    l.acceptor.close();
  udp.stop();
}

void time_services_tcp::force_close() noexcept {
  // The deadline also passes while only the UDP side is still draining.
  if (pool.tasks(0).size() > 0)
    log(log_level::warning, "time services: drain deadline passed; closing the remaining connections");
}

// Called on the UDP side's thread once its run() has returned.
void time_services_tcp::udp_finished() noexcept {
  try {
    asio::post(pool.context(0), [this] {
      udp_done = true;
      if (udp_ended)
        udp_ended->cancel();
    });
  } catch (...) {
    // Out of memory for the post: stopping the io_context ends its run too.
    pool.force_stop();
  }
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
  datagram_server_options udp_options;
  udp_options.host = options_.host;
  udp_options.threads = options_.udp_threads;
  udp_options.rate_limit = options_.rate_limit;
  udp_options.drain_timeout = options_.drain_timeout;
  udp_ = std::make_unique<datagram_server>(std::move(udp_options));
  tcp_ = std::make_unique<detail::time_services_tcp>(options_, *udp_);

  // One port for both transports: TCP picks it, then UDP must get the same.
  auto bind_both = [&](std::uint16_t wanted, detail::time_services_tcp::kind what, datagram_handler handler) {
    const int attempts = wanted == 0 ? detail::free_port_attempts : 1;
    for (int attempt = 1;; ++attempt) {
      tcp::acceptor acceptor(tcp_->pool.context(0), tcp::endpoint(address, wanted));
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
  if (options_.sntp_port) {
    // NTP daemons send from port 123, often to port 123: SNTP takes requests
    // from the services' own ports, and its mode check is the loop guard.
    sntp_port_ = udp_->listen(datagram_listener{*options_.sntp_port, sntp_handler(options_.sntp), false});
  }
}

time_services::~time_services() {
  // The UDP threads stop first; the TCP side runs on the caller of run().
  udp_->force_stop();
  tcp_->pool.force_stop();
}

void time_services::stop() noexcept {
  tcp_->pool.stop();
  udp_->stop();
}

time_services_stats time_services::stats() const noexcept {
  time_services_stats s;
  s.tcp_connections = tcp_->answered.load(std::memory_order_relaxed);
  s.tcp_rejected = tcp_->rejected.load(std::memory_order_relaxed);
  s.udp = udp_->stats();
  return s;
}

int time_services::run() {
  if (ran_.exchange(true))
    throw std::logic_error("coronet::services::time_services::run: called twice");
  std::thread udp_thread([this] {
    try {
      udp_->run();
    } catch (...) {
      coronet::detail::report_unhandled_exception(std::current_exception());
    }
    tcp_->udp_finished();
  });
  coronet::detail::worker_pool::callbacks cb;
  cb.main = [this](std::size_t) {
    return tcp_->main();
  };
  cb.begin_drain = [this](std::size_t) {
    tcp_->begin_drain();
  };
  cb.force_close = [this](std::size_t) {
    tcp_->force_close();
  };
  int exit_code = 1;
  try {
    exit_code = tcp_->pool.run(std::move(cb), options_.drain_timeout, options_.handle_signals);
  } catch (...) {
    udp_->force_stop();
    udp_thread.join();
    throw;
  }
  // After a second signal the UDP side may still be draining.
  udp_->force_stop();
  udp_thread.join();
  return exit_code;
}

}  // namespace coronet::services
