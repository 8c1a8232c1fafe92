// coronet::client over TLS against a real redis-server started with
// --tls-port (Debian's build supports it) on a free port, in a temp dir.
// Label `clients`: without redis-server it exits 77 (skipped) unless CI is set.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "coronet/client/client.hpp"
#include "coronet/net/timer.hpp"
#include "coronet/core/sync_wait.hpp"
#include "support/client_pipeline.hpp"
#include "support/test_certs.hpp"

namespace client_client_tls_redis_test {

using namespace std::chrono_literals;

namespace {

// A port nobody listens on now (bound to 0 and closed).
std::uint16_t free_port() {
  asio::io_context ctx;
  asio::ip::tcp::acceptor a(ctx, {asio::ip::address_v4::loopback(), 0});
  return a.local_endpoint().port();
}

bool on_path(const char* program) {
  std::string command = "command -v ";
  command += program;
  command += " >/dev/null 2>&1";
  return std::system(command.c_str()) == 0;
}

// redis-server with plaintext off and TLS on a free port.
class redis_tls_server {
public:
  explicit redis_tls_server(const coronet_test::test_certs& certs) : port_(free_port()) {
    std::vector<std::string> args{"redis-server",
                                  "--port",
                                  "0",
                                  "--tls-port",
                                  std::to_string(port_),
                                  "--bind",
                                  "127.0.0.1",
                                  "--tls-cert-file",
                                  certs.path("server.pem"),
                                  "--tls-key-file",
                                  certs.path("server.key"),
                                  "--tls-ca-cert-file",
                                  certs.path("ca.pem"),
                                  "--tls-auth-clients",
                                  "no",
                                  "--save",
                                  "",
                                  "--appendonly",
                                  "no",
                                  "--dir",
                                  certs.dir().string(),
                                  "--logfile",
                                  (certs.dir() / "redis.log").string()};
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      std::vector<char*> argv;
      for (auto& a : args)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execvp("redis-server", argv.data());
      ::_exit(127);
    }
  }
  redis_tls_server(const redis_tls_server&) = delete;
  redis_tls_server& operator=(const redis_tls_server&) = delete;
  ~redis_tls_server() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::uint16_t port() const { return port_; }

private:
  std::uint16_t port_;
  pid_t pid_ = -1;
};

// Client options for TLS with `config`, which must outlive the connect.
coronet::client_options over_tls(const coronet::tls::client_config& config) {
  coronet::client_options o;
  o.tls = &config;
  o.request_timeout = 5s;
  return o;
}

// Connects, retrying while redis-server starts (bounded).
coronet::task<coronet::client> connect_when_up(std::uint16_t port, coronet::client_options o) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    try {
      co_return co_await coronet::client::connect("localhost", port, coronet::wire_protocol::resp, o);
    } catch (const std::system_error& e) {
      if (e.code() != asio::error::connection_refused || std::chrono::steady_clock::now() > deadline)
        throw;
    }
    co_await coronet::sleep_for(20ms);
  }
}

}  // namespace

TEST_CASE("the client over TLS against redis-server --tls-port: verified, then commands and a pipeline",
          "[client][tls][redis]") {
  if (!on_path("redis-server")) {
    if (std::getenv("CI") == nullptr) {
      WARN("redis-server is not installed (scripts/setup installs it): skipped");
      std::exit(77);
    }
    FAIL("redis-server is not installed, and CI is set");
  }
  const coronet_test::test_certs certs;
  redis_tls_server redis(certs);
  const coronet::tls::client_config trusting{.ca_file = certs.path("ca.pem")};
  coronet::sync_wait([&]() -> coronet::task<void> {
    coronet::client c = co_await connect_when_up(redis.port(), over_tls(trusting));
    const coronet::reply pong = co_await c.call("PING");
    CHECK(pong.str() == "PONG");
    const coronet::reply ok = co_await c.call("SET", "coronet:tls", "yes");
    CHECK(ok.str() == "OK");
    const coronet::reply value = co_await c.call("GET", "coronet:tls");
    CHECK(value.str() == "yes");
    co_await coronet_test::check_pipelined(c, "ECHO", 100);
  }());
  // A client that trusts another CA is refused by its own verification.
  const coronet::tls::client_config wrong_ca{.ca_file = certs.path("other-ca.pem")};
  try {
    coronet::sync_wait(connect_when_up(redis.port(), over_tls(wrong_ca)));
    FAIL("connected while trusting the wrong CA");
  } catch (const std::system_error& e) {
    // redis-server sends its CA in the chain: "self-signed certificate in certificate chain".
    CHECK_THAT(e.what(), Catch::Contains("certificate verify failed"));
    CHECK_THAT(e.what(), Catch::Contains("certificate in certificate chain"));
  }
}

}  // namespace client_client_tls_redis_test
