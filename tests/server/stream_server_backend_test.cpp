// The stream server's io backend (connection_options::backend): how it is chosen (the option,
// the CORONET_BACKEND environment variable, auto's fallback), and that an io_uring server's
// plain connections really go through the worker's ring while TLS ones stay on Asio's reactor,
// with what the peer sees the same.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>

#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>

#include "coronet/net/detail/ring_transport.hpp"
#include "coronet/server/stream_server.hpp"
#include "support/server_thread.hpp"
#include "support/test_certs.hpp"
#include "support/tls_round_trip.hpp"
#ifdef CORONET_TEST_RING_STATS
#include <asio/execution/context.hpp>
#include <asio/query.hpp>

#include "net/uring/uring_service.hpp"
#endif

namespace server_stream_server_backend_test {

namespace {

using coronet::io_backend;
using coronet::stream_connection;
using coronet::stream_server;
using coronet::stream_server_options;

// Whether this build and kernel can run backend io_uring (and why not).
bool ring_usable() {
  const char* why = coronet::detail::uring::unavailable_reason();
  if (why != nullptr)
    WARN("io_uring is not usable here: " << why);
  return why == nullptr;
}

// Sets CORONET_BACKEND for one scope, restoring what it was.
class backend_env {
public:
  explicit backend_env(const char* value) {
    if (const char* old = std::getenv("CORONET_BACKEND"))
      old_ = old;
    if (value != nullptr)
      ::setenv("CORONET_BACKEND", value, 1);
    else
      ::unsetenv("CORONET_BACKEND");
  }
  backend_env(const backend_env&) = delete;
  backend_env& operator=(const backend_env&) = delete;
  ~backend_env() {
    if (old_)
      ::setenv("CORONET_BACKEND", old_->c_str(), 1);
    else
      ::unsetenv("CORONET_BACKEND");
  }

private:
  std::optional<std::string> old_;
};

stream_server_options options_with(io_backend b) {
  stream_server_options o;
  o.threads = 1;
  o.backend = b;
  return o;
}

// What carries `conn`: "ring" (with the count of the worker ring's completions so far, which
// its first read made at least 1, where the test can see the ring) or "epoll".
template <class Conn>
std::string carrier(Conn& conn) {
  if constexpr (std::is_same_v<Conn, stream_connection<coronet::tcp::socket>>) {
    if (conn.stream().native().on_ring()) {
#ifdef CORONET_TEST_RING_STATS
      const auto ex = conn.stream().get_executor();
      return "ring " + std::to_string(asio::use_service<coronet::detail::uring::service>(
                                           asio::query(ex, asio::execution::context))
                                           .stats()
                                           .completions);
#else
      return "ring";
#endif
    }
  }
  return "epoll";
}

// Reads, says first what carries the connection (a line), then echoes what it read and the
// rest.
const auto report_and_echo = [](auto& conn) -> coronet::task<void> {
  std::string buf(64 * 1024, '\0');
  bool first = true;
  for (;;) {
    std::error_code ec;
    const std::size_t n = co_await conn.read_some(asio::buffer(buf), ec);
    if (ec)
      co_return;
    if (std::exchange(first, false))
      co_await conn.write(carrier(conn) + "\n");
    co_await conn.write(std::string_view(buf.data(), n));
  }
};

// Whether `line` says the ring carried the bytes (and, where the test can see the ring, that
// it completed requests).
bool ring_line(const std::string& line) {
#ifdef CORONET_TEST_RING_STATS
  return line.rfind("ring ", 0) == 0 && std::stoul(line.substr(5)) >= 1;
#else
  return line == "ring";
#endif
}

// A server on its own thread, stopped and joined at the end.
class running {
public:
  explicit running(stream_server_options o) : server_(std::move(o), report_and_echo), thread_(server_) {}
  stream_server& get() { return server_; }

private:
  stream_server server_;
  coronet_test::server_thread<stream_server> thread_;
};

// Sends `payload` on a new connection; what carried it, and whether the echo came back whole.
// The bytes are sent from another thread: the echo of a big payload comes back while it is
// still being sent.
std::string carried_by(std::uint16_t port, const std::string& payload, bool& echoed) {
  asio::io_context ctx;
  asio::ip::tcp::socket s(ctx);
  s.connect({asio::ip::address_v4::loopback(), port});
  timeval tv{10, 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::error_code send_ec;
  std::thread sender([&] { asio::write(s, asio::buffer(payload), send_ec); });
  std::string got;
  std::error_code ec;
  asio::read_until(s, asio::dynamic_buffer(got), '\n', ec);
  const std::size_t eol = got.find('\n');
  const std::string first = got.substr(0, eol);
  got.erase(0, eol == std::string::npos ? got.size() : eol + 1);
  if (!ec && got.size() < payload.size()) {
    std::string rest(payload.size() - got.size(), '\0');
    asio::read(s, asio::buffer(rest), ec);
    got += rest;
  }
  sender.join();
  echoed = !ec && !send_ec && got == payload;
  return first;
}

}  // namespace

TEST_CASE("io_backend names read back as they are written", "[backend]") {
  for (const io_backend b : {io_backend::epoll, io_backend::io_uring, io_backend::automatic})
    CHECK(coronet::parse_io_backend(coronet::to_string(b)) == b);
  CHECK(coronet::parse_io_backend("io-uring") == io_backend::io_uring);
  CHECK(coronet::parse_io_backend("uring") == io_backend::io_uring);
  CHECK(!coronet::parse_io_backend("kqueue"));
  CHECK(!coronet::parse_io_backend(""));
  CHECK(std::string_view(coronet::to_string(io_backend::environment)) == "environment");
}

TEST_CASE("backend epoll serves its connections on Asio's reactor", "[backend]") {
  running r(options_with(io_backend::epoll));
  CHECK(r.get().options().backend == io_backend::epoll);
  bool echoed = false;
  CHECK(carried_by(r.get().port(), "hello", echoed) == "epoll");
  CHECK(echoed);
}

TEST_CASE("backend io_uring carries plain connections on the ring, TLS ones on the reactor", "[backend]") {
  if (!ring_usable()) {
    CHECK_THROWS_AS(stream_server(options_with(io_backend::io_uring), report_and_echo), std::system_error);
    return;
  }
  stream_server_options o = options_with(io_backend::io_uring);
  // A TLS listener beside it: its connections stay on the reactor (the TLS suites run over
  // backend io_uring in CI's ASan pass).
  o.tls = {.certificate_file = coronet_test::certs().path("server.pem"),
           .key_file = coronet_test::certs().path("server.key")};
  o.listeners.push_back({.host = "", .port = 0, .tls = true});
  running r(std::move(o));
  CHECK(r.get().options().backend == io_backend::io_uring);
  bool echoed = false;
  CHECK(ring_line(carried_by(r.get().port(), "hello", echoed)));
  CHECK(echoed);
  // More than the socket buffers hold at once: partial sends and several reads.
  std::string big(4 * 1024 * 1024, '\0');
  for (std::size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<char>('a' + i % 26);
  CHECK(ring_line(carried_by(r.get().port(), big, echoed)));
  CHECK(echoed);
  // The TLS listener's connection: served (after the handshake) on Asio's reactor.
  const std::string got = coronet_test::tls_round_trip(r.get().port(1), "tls", 9);  // "epoll\n" and the echo
  CHECK(got == "epoll\ntls");
}

TEST_CASE("backend auto takes io_uring where it is usable, epoll otherwise", "[backend]") {
  running r(options_with(io_backend::automatic));
  const io_backend expected = ring_usable() ? io_backend::io_uring : io_backend::epoll;
  CHECK(r.get().options().backend == expected);
  bool echoed = false;
  const std::string line = carried_by(r.get().port(), "hello", echoed);
  CHECK((expected == io_backend::io_uring ? ring_line(line) : line == "epoll"));
  CHECK(echoed);
}

TEST_CASE("the default backend is CORONET_BACKEND's, epoll when it is unset or unknown", "[backend]") {
  SECTION("unset") {
    const backend_env env(nullptr);
    running r(options_with(io_backend::environment));
    CHECK(r.get().options().backend == io_backend::epoll);
  }
  SECTION("not a backend's name") {
    const backend_env env("kqueue");
    running r(options_with(io_backend::environment));
    CHECK(r.get().options().backend == io_backend::epoll);
  }
  SECTION("epoll") {
    const backend_env env("epoll");
    running r(options_with(io_backend::environment));
    CHECK(r.get().options().backend == io_backend::epoll);
  }
  SECTION("io_uring") {
    const backend_env env("io_uring");
    if (!ring_usable()) {
      CHECK_THROWS_AS(stream_server(options_with(io_backend::environment), report_and_echo), std::system_error);
      return;
    }
    running r(options_with(io_backend::environment));
    CHECK(r.get().options().backend == io_backend::io_uring);
    bool echoed = false;
    CHECK(ring_line(carried_by(r.get().port(), "hello", echoed)));
    CHECK(echoed);
  }
  SECTION("an explicit option wins over the environment") {
    const backend_env env("io_uring");
    running r(options_with(io_backend::epoll));
    CHECK(r.get().options().backend == io_backend::epoll);
  }
}

}  // namespace server_stream_server_backend_test
