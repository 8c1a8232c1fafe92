// A TCP relay on coronet::stream_server: each client is connected to one of
// the --upstream servers, taken in turn, and bytes are copied both ways until
// both directions have ended. A half-close is passed on: when one side stops
// sending, the other side's sending half is shut down once everything before
// it has been written, and the other direction goes on to its own end. The
// stream server accepts, handles SIGINT/SIGTERM and drains.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <CLI/CLI.hpp>
#include <coronet/coronet.hpp>
#include <coronet/server/stream_server.hpp>

#include "common/stream_cli.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

struct upstream {
  std::string host;
  std::uint16_t port = 0;
  std::string name() const { return host + ":" + std::to_string(port); }
};

struct relay_config {
  std::vector<upstream> upstreams;
  std::chrono::milliseconds idle_timeout{0};  // 0 = never
  std::atomic<std::size_t> next{0};           // round-robin position, shared by the workers
};

// HOST:PORT, or [IPv6]:PORT.
upstream parse_upstream(const std::string& text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    throw std::invalid_argument("--upstream " + text + ": expected HOST:PORT");
  upstream u;
  u.host = text.substr(0, colon);
  if (u.host.size() > 2 && u.host.front() == '[' && u.host.back() == ']')
    u.host = u.host.substr(1, u.host.size() - 2);
  const std::string port = text.substr(colon + 1);
  std::size_t used = 0;
  unsigned long value = 0;
  try {
    value = std::stoul(port, &used);
  } catch (const std::logic_error&) {
    used = 0;
  }
  if (used != port.size() || value == 0 || value > 65535)
    throw std::invalid_argument("--upstream " + text + ": the port must be a number from 1 to 65535");
  u.port = static_cast<std::uint16_t>(value);
  return u;
}

// What the two copying directions and the idle watchdog share. They all run
// on the connection's worker, interleaved by when_all, so no lock.
struct relay_state {
  clock_type::time_point last_activity = clock_type::now();
  int directions_done = 0;
  coronet::timer* watchdog = nullptr;  // woken when both directions have ended

  void touch() noexcept { last_activity = clock_type::now(); }
  void direction_done() {
    if (++directions_done == 2 && watchdog != nullptr)
      watchdog->cancel();
  }
};

constexpr std::size_t chunk_bytes = 64 * 1024;

// Client -> upstream. The client's end of stream becomes a half-close
// towards the upstream; write_all has handed every earlier byte to the
// kernel by then, so the FIN follows the data.
template <class Connection>
coronet::task<void> client_to_upstream(Connection& client, coronet::tcp::socket& up, relay_state& state) {
  const auto buf = std::make_unique<char[]>(chunk_bytes);
  for (;;) {
    std::error_code ec;
    const std::size_t n = co_await client.read_some(asio::buffer(buf.get(), chunk_bytes), ec);
    if (ec == asio::error::eof)
      break;
    if (ec)
      throw std::system_error(ec);  // when_all cancels the other direction
    state.touch();
    co_await up.write_all(asio::buffer(buf.get(), n));
    state.touch();
  }
  std::error_code ignored;  // the upstream may have closed already; its reads will tell
  up.shutdown(asio::socket_base::shutdown_send, ignored);
  state.direction_done();
}

// Upstream -> client. `write` waits while the client is behind
// (backpressure), so a slow client slows its upstream, not the relay's
// memory. The upstream's end of stream becomes a half-close towards the
// client once the client has taken everything before it.
template <class Connection>
coronet::task<void> upstream_to_client(coronet::tcp::socket& up, Connection& client, relay_state& state) {
  const auto buf = std::make_unique<char[]>(chunk_bytes);
  for (;;) {
    std::error_code ec;
    const std::size_t n = co_await up.read_some(asio::buffer(buf.get(), chunk_bytes), ec);
    if (ec == asio::error::eof)
      break;
    if (ec)
      throw std::system_error(ec);
    state.touch();
    co_await client.write(std::string_view(buf.get(), n));
    state.touch();
  }
  co_await client.shutdown_send();
  state.direction_done();
}

// Once neither direction has moved a byte for `idle`: closes both sides
// (which ends their pending operations) and ends with errc::timeout. Ends
// quietly once both directions are done.
template <class Connection>
coronet::task<void> watch_idle(Connection& client, coronet::tcp::socket& up, relay_state& state, coronet::timer& t,
                               std::chrono::milliseconds idle) {
  for (;;) {
    t.expires_at(state.last_activity + idle);
    std::error_code ec;
    co_await t.wait(ec);
    if (ec || state.directions_done == 2)
      co_return;
    if (clock_type::now() - state.last_activity >= idle) {
      client.close();
      up.close(ec);
      throw std::system_error(make_error_code(coronet::errc::timeout));
    }
  }
}

coronet::task<coronet::tcp::socket> connect_upstream(const upstream& u, std::chrono::milliseconds timeout) {
  asio::any_io_executor ex = co_await coronet::this_executor;
  if (timeout.count() == 0)
    co_return co_await coronet::tcp::connect(ex, u.host, u.port);
  co_return co_await coronet::with_timeout(coronet::tcp::connect(ex, u.host, u.port), timeout);
}

template <class Connection>
coronet::task<void> relay(Connection& client, relay_config& config) {
  const upstream& u = config.upstreams[config.next.fetch_add(1) % config.upstreams.size()];
  std::optional<coronet::tcp::socket> up;
  std::string failure;
  try {
    up.emplace(co_await connect_upstream(u, config.idle_timeout));
  } catch (const std::system_error& e) {
    failure = e.code().message();
  }
  if (!up) {
    coronet::log(coronet::log_level::warning, "relay: client " + std::to_string(client.id()) + ": upstream " +
                                                  u.name() + ": " + failure + "; closing the client");
    co_return;  // the stream server closes the client
  }

  relay_state state;
  coronet::timer watchdog(co_await coronet::this_executor);
  state.watchdog = &watchdog;
  try {
    if (config.idle_timeout.count() == 0)
      co_await coronet::when_all(client_to_upstream(client, *up, state), upstream_to_client(*up, client, state));
    else
      co_await coronet::when_all(client_to_upstream(client, *up, state), upstream_to_client(*up, client, state),
                                 watch_idle(client, *up, state, watchdog, config.idle_timeout));
  } catch (const std::system_error& e) {
    failure = e.code() == coronet::errc::timeout ? "idle, closed" : e.code().message();
  }
  if (!failure.empty() && !client.server().draining())  // a drain aborts every relay: nothing to report
    coronet::log(coronet::log_level::info, "relay: client " + std::to_string(client.id()) + " <-> " + u.name() +
                                               ": " + failure);
  // Returning closes the client; the upstream socket closes with `up`.
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Relays each client to one of the upstream servers, taken in turn, copying bytes both ways\n"
      "(try `socat - TCP:127.0.0.1:PORT`). A half-close is passed on; a connection idle both ways\n"
      "for --idle-timeout seconds is closed. SIGINT/SIGTERM: stop accepting, drain, exit."};
  coronet::stream_server_options o;
  samples::add_stream_server_options(app, o);
  std::vector<std::string> upstream_texts;
  double idle_seconds = 300;
  app.add_option("--upstream", upstream_texts, "HOST:PORT of a server to relay to (repeat for several)")
      ->required();
  app.add_option("--idle-timeout", idle_seconds,
                 "seconds without a byte in either direction before a connection is closed (0 = never)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  relay_config config;
  try {
    for (const std::string& text : upstream_texts)
      config.upstreams.push_back(parse_upstream(text));
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "relay: %s\n", e.what());
    return 2;
  }
  config.idle_timeout = std::chrono::milliseconds(static_cast<long long>(idle_seconds * 1000));
  std::array<char, 32> idle_text{};
  std::snprintf(idle_text.data(), idle_text.size(), "%g", idle_seconds);

  try {
    coronet::stream_server server(o, [&config](auto& conn) { return relay(conn, config); });
    samples::print_listening("relay", o, server,
                             std::to_string(config.upstreams.size()) + " upstream" +
                                 (config.upstreams.size() == 1 ? "" : "s") + ", idle timeout " + idle_text.data() + " s");
    return server.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "relay: cannot listen on %s port %u: %s\n", o.host.c_str(), o.port, e.what());
    return 1;
  }
}
