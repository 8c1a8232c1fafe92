// coronet::client over TLS against coronet's own TLS server: verification by
// default (CA file, host name), clear errors, and the explicit insecure mode.
#include <catch2/catch.hpp>

#include <string>
#include <system_error>
#include <thread>

#include "coronet/client/client.hpp"
#include "coronet/server/server.hpp"
#include "coronet/core/sync_wait.hpp"
#include "support/running_server.hpp"
#include "support/client_pipeline.hpp"
#include "support/test_certs.hpp"
#include "support/test_commands.hpp"

namespace client_client_tls_test {

namespace {

using coronet_test::certs;

coronet::server_options tls_only_options(const char* cert, const char* key, coronet::wire_protocol p) {
  coronet::server_options o = coronet_test::test_server_options(p);
  o.tls_only = true;
  o.tls = {.certificate_file = certs().path(cert), .key_file = certs().path(key)};
  return o;
}

// A TLS-only server with `cert`/`key`, speaking `p`, on its own thread.
struct tls_server : coronet_test::running_server {
  tls_server(const char* cert, const char* key, coronet::wire_protocol p = coronet::wire_protocol::resp)
      : coronet_test::running_server(tls_only_options(cert, key, p)) {}
};

// Client options for TLS with `config`, which must outlive the connect.
coronet::client_options over_tls(const coronet::tls::client_config& config) {
  coronet::client_options o;
  o.tls = &config;
  return o;
}

const coronet::tls::client_config& trusting_ca() {
  static const coronet::tls::client_config config{.ca_file = certs().path("ca.pem")};
  return config;
}

coronet::client_options trusting() { return over_tls(trusting_ca()); }

// The message `connect` + one PING fails with, or "" if it worked.
std::string failure_of(std::string host, std::uint16_t port, coronet::client_options o) {
  try {
    coronet::sync_wait([&]() -> coronet::task<void> {
      coronet::client c = co_await coronet::client::connect(host, port, coronet::wire_protocol::resp, o);
      co_await c.call_checked("PING");
    }());
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("the client calls a TLS server over resp and line, verifying it", "[client][tls]") {
  SECTION("resp, one call and a pipeline") {
    tls_server s("server.pem", "server.key");
    coronet::sync_wait([&]() -> coronet::task<void> {
      coronet::client c = co_await coronet::client::connect("localhost", s.port(), coronet::wire_protocol::resp,
                                                            trusting());
      const coronet::reply pong = co_await c.call("PING");
      CHECK(pong.str() == "PONG");
      co_await coronet_test::check_pipelined(c, "PING", 50);
      CHECK(c.is_open());
      c.close();
      CHECK_FALSE(c.is_open());
    }());
  }
  SECTION("line, by IP address") {
    tls_server s("server.pem", "server.key", coronet::wire_protocol::line);
    coronet::sync_wait([&]() -> coronet::task<void> {
      coronet::client c = co_await coronet::client::connect("127.0.0.1", s.port(), coronet::wire_protocol::line,
                                                            trusting());
      const coronet::reply r = co_await c.call("ping", "hello");
      CHECK(r.str() == "hello");
    }());
  }
}

TEST_CASE("a server certificate from another CA: the client's error says so", "[client][tls]") {
  tls_server s("other.pem", "other.key");
  const std::string error = failure_of("localhost", s.port(), trusting());
  CHECK_THAT(error, Catch::Contains("TLS handshake with localhost:" + std::to_string(s.port()) + " failed"));
  CHECK_THAT(error, Catch::Contains("unable to get local issuer certificate"));
  CHECK_THAT(error, Catch::Contains("certificate verify failed"));
}

TEST_CASE("an expired server certificate: the client's error says so", "[client][tls]") {
  tls_server s("expired.pem", "expired.key");
  CHECK_THAT(failure_of("localhost", s.port(), trusting()), Catch::Contains("certificate has expired"));
}

TEST_CASE("a certificate for other names: hostname mismatch, unless server_name names it", "[client][tls]") {
  tls_server s("server.pem", "server.key");
  coronet::tls::client_config config = trusting_ca();
  config.server_name = "example.com";
  CHECK_THAT(failure_of("127.0.0.1", s.port(), over_tls(config)), Catch::Contains("hostname mismatch"));
  config.server_name = "localhost";
  CHECK(failure_of("127.0.0.1", s.port(), over_tls(config)).empty());
}

TEST_CASE("the system trust store does not know the test CA", "[client][tls]") {
  tls_server s("server.pem", "server.key");
  const coronet::tls::client_config system_store;
  CHECK_THAT(failure_of("localhost", s.port(), over_tls(system_store)), Catch::Contains("certificate verify failed"));
}

TEST_CASE("insecure accepts any certificate, expired and misnamed included", "[client][tls]") {
  tls_server s("expired.pem", "expired.key");
  const coronet::tls::client_config insecure{.insecure = true, .server_name = "example.com"};
  CHECK(failure_of("127.0.0.1", s.port(), over_tls(insecure)).empty());
}

TEST_CASE("a missing CA file fails connect, naming it", "[client][tls]") {
  tls_server s("server.pem", "server.key");
  const coronet::tls::client_config missing{.ca_file = "/nonexistent/ca.pem"};
  CHECK_THAT(failure_of("localhost", s.port(), over_tls(missing)), Catch::Contains("/nonexistent/ca.pem"));
}

TEST_CASE("a plaintext server fails the TLS handshake with an error, not a hang", "[client][tls]") {
  coronet::router r = coronet_test::make_test_router();
  coronet::server_options so;
  so.port = 0;
  coronet::server plain(r, so);
  std::thread t([&] { plain.run(); });
  coronet::client_options o = trusting();
  o.request_timeout = std::chrono::seconds(5);
  const std::string error = failure_of("127.0.0.1", plain.port(), o);
  plain.stop();
  t.join();
  CHECK_THAT(error, Catch::Contains("TLS handshake"));
}

}  // namespace client_client_tls_test
