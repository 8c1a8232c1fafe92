// The stream server's io backend (connection_options::backend): how it is chosen (the option,
// the CORONET_BACKEND environment variable, auto's fallback), and that an io_uring server's
// plain connections really go through the worker's ring while TLS ones stay on Asio's reactor,
// with what the peer sees the same.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <array>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <type_traits>

#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>

#include "coronet/net/detail/ring_transport.hpp"
#include "coronet/server/stream_server.hpp"
#include "support/test_certs.hpp"

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

// Says first what carries the connection ("ring\n" or "epoll\n"), then echoes what it reads.
const auto report_and_echo = [](auto& conn) -> coronet::task<void> {
  bool on_ring = false;
  if constexpr (std::is_same_v<std::decay_t<decltype(conn)>, stream_connection<coronet::tcp::socket>>)
    on_ring = conn.stream().native().on_ring();
  co_await conn.write(on_ring ? "ring\n" : "epoll\n");
  std::string buf(64 * 1024, '\0');
  for (;;) {
    std::error_code ec;
    const std::size_t n = co_await conn.read_some(asio::buffer(buf), ec);
    if (ec)
      co_return;
    co_await conn.write(std::string_view(buf.data(), n));
  }
};

// A server on its own thread, stopped and joined at the end.
class running {
public:
  explicit running(stream_server_options o) : server_(std::move(o), report_and_echo) {
    thread_ = std::thread([this] { server_.run(); });
  }
  running(const running&) = delete;
  running& operator=(const running&) = delete;
  ~running() {
    server_.stop();
    thread_.join();
  }
  stream_server& get() { return server_; }

private:
  stream_server server_;
  std::thread thread_;
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
  std::thread sender([&] { asio::write(s, asio::buffer(payload)); });
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
  echoed = !ec && got == payload;
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
  CHECK(carried_by(r.get().port(), "hello", echoed) == "ring");
  CHECK(echoed);
  // More than the socket buffers hold at once: partial sends and several reads.
  std::string big(4 * 1024 * 1024, '\0');
  for (std::size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<char>('a' + i % 26);
  CHECK(carried_by(r.get().port(), big, echoed) == "ring");
  CHECK(echoed);
}

TEST_CASE("backend auto takes io_uring where it is usable, epoll otherwise", "[backend]") {
  running r(options_with(io_backend::automatic));
  const io_backend expected = ring_usable() ? io_backend::io_uring : io_backend::epoll;
  CHECK(r.get().options().backend == expected);
  bool echoed = false;
  CHECK(carried_by(r.get().port(), "hello", echoed) == (expected == io_backend::io_uring ? "ring" : "epoll"));
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
    CHECK(carried_by(r.get().port(), "hello", echoed) == "ring");
    CHECK(echoed);
  }
  SECTION("an explicit option wins over the environment") {
    const backend_env env("io_uring");
    running r(options_with(io_backend::epoll));
    CHECK(r.get().options().backend == io_backend::epoll);
  }
}

}  // namespace server_stream_server_backend_test
