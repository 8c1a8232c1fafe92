// HTTP over TLS end to end over loopback: an HTTP listener with TLS serves the same
// routes as a plain one, agrees to http/1.1 in ALPN, and takes a reloaded certificate.
#include <catch2/catch.hpp>

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "coronet/core/sync_wait.hpp"
#include "coronet/net/connect.hpp"
#include "coronet/net/timeout.hpp"
#include "coronet/server/server.hpp"
#include "coronet/tls/context.hpp"
#include "coronet/tls/stream.hpp"
#include "support/running_server.hpp"
#include "support/same_certificate.hpp"
#include "support/test_certs.hpp"

namespace server_https_test {

using namespace std::chrono_literals;

namespace {

using coronet_test::certs;

// HTTP on listener 0 over TLS (and a RESP listener 1 over TLS, whose ALPN stays off).
coronet::server_options https_options() {
  coronet::server_options o = coronet_test::quick_stop_options(coronet::wire_protocol::http);
  o.tls_only = true;
  o.tls = {.certificate_file = certs().path("server.pem"), .key_file = certs().path("server.key")};
  o.listeners.push_back({.host = "", .port = 0, .protocol = coronet::wire_protocol::resp, .tls = true});
  return o;
}

asio::ssl::context trusting_client() { return coronet::tls::make_client_context({.ca_file = certs().path("ca.pem")}); }

// A response as read: status line and headers, then the body (Content-Length framed).
struct response {
  std::string head;
  std::string body;
  bool has(std::string_view text) const { return head.find(text) != std::string::npos; }
};

// An HTTPS client on its own io_context; every step gives up after 5 s. `alpn` is the
// client's ALPN list in wire format (empty: none offered).
class https_peer {
public:
  https_peer(std::uint16_t port, asio::ssl::context& ssl, std::string_view alpn = {}) {
    coronet::sync_wait(ctx_, [&]() -> coronet::task<void> {
      coronet::tcp::socket sock = co_await coronet::tcp::connect(ctx_.get_executor(), "127.0.0.1", port);
      stream_.emplace(std::move(sock), ssl);
      stream_->set_server_name("localhost");
      if (!alpn.empty())
        REQUIRE(SSL_set_alpn_protos(stream_->ssl_handle(), reinterpret_cast<const unsigned char*>(alpn.data()),
                                    static_cast<unsigned>(alpn.size())) == 0);
      co_await coronet::with_timeout(shake(), 5s);
    }());
  }

  // The protocol the server agreed to in ALPN; empty for none.
  std::string alpn() {
    const unsigned char* p = nullptr;
    unsigned n = 0;
    SSL_get0_alpn_selected(stream_->ssl_handle(), &p, &n);
    return std::string(reinterpret_cast<const char*>(p), n);
  }

  X509* peer_certificate() { return SSL_get0_peer_certificate(stream_->ssl_handle()); }

  // Sends `request` and reads one response to it.
  response ask(std::string_view request) {
    return coronet::sync_wait(ctx_, [&]() -> coronet::task<response> {
      co_await stream_->write_all(asio::buffer(request));
      co_return co_await coronet::with_timeout(read_response(), 5s);
    }());
  }

  // Writes `bytes` and reads one chunk of what comes back, as the raw bytes.
  std::string raw(std::string_view bytes) {
    return coronet::sync_wait(ctx_, [&]() -> coronet::task<std::string> {
      co_await stream_->write_all(asio::buffer(bytes));
      char buf[4096];
      const std::size_t n = co_await coronet::with_timeout(read_some(buf, sizeof buf), 5s);
      co_return std::string(buf, n);
    }());
  }

private:
  coronet::task<void> shake() { co_await stream_->handshake(coronet::tls::stream::client); }
  coronet::task<std::size_t> read_some(char* buf, std::size_t n) {
    co_return co_await stream_->read_some(asio::buffer(buf, n));
  }

  coronet::task<response> read_response() {
    response r;
    std::size_t end = std::string::npos;
    while ((end = buffered_.find("\r\n\r\n")) == std::string::npos)
      co_await more();
    r.head = buffered_.substr(0, end + 4);
    buffered_.erase(0, end + 4);
    std::size_t length = 0;
    if (const std::size_t at = r.head.find("Content-Length: "); at != std::string::npos)
      length = std::stoul(r.head.substr(at + 16));
    while (buffered_.size() < length)
      co_await more();
    r.body = buffered_.substr(0, length);
    buffered_.erase(0, length);
    co_return r;
  }

  coronet::task<void> more() {
    char buf[4096];
    const std::size_t n = co_await stream_->read_some(asio::buffer(buf));
    buffered_.append(buf, n);
  }

  asio::io_context ctx_;
  std::optional<coronet::tls::stream> stream_;
  std::string buffered_;
};

std::string get(std::string_view path) {
  std::string r = "GET ";
  r += path;
  r += " HTTP/1.1\r\nHost: localhost\r\n\r\n";
  return r;
}

using coronet_test::same_certificate;

constexpr std::string_view h2_and_http11{"\x02h2\x08http/1.1", 12};

}  // namespace

TEST_CASE("an HTTP listener with TLS serves commands, the status page and stats over keep-alive", "[server][tls][http]") {
  coronet_test::running_server s(https_options());
  auto client = trusting_client();
  https_peer p(s.port(), client);
  response r = p.ask(get("/ping"));
  CHECK(r.has("HTTP/1.1 200 OK\r\n"));
  CHECK(r.body == R"({"ping":"PONG"})");
  r = p.ask(get("/"));
  CHECK(r.has("HTTP/1.1 200 OK\r\n"));
  CHECK(r.has("text/html"));
  CHECK(r.body.find("<html") != std::string::npos);
  r = p.ask(get("/stats.json"));
  CHECK(r.has("HTTP/1.1 200 OK\r\n"));
  CHECK(r.body.find("\"server\":\"coronet\"") != std::string::npos);
  r = p.ask(get("/healthz"));
  CHECK(r.body == "ok\n");
  r = p.ask(get("/no-such-command"));
  CHECK(r.has("HTTP/1.1 404 "));
  CHECK(s.get().listener(0).tls);
}

TEST_CASE("HTTPS agrees to http/1.1 in ALPN; a command listener ignores ALPN", "[server][tls][http]") {
  coronet_test::running_server s(https_options());
  auto client = trusting_client();
  {
    https_peer p(s.port(), client, h2_and_http11);
    CHECK(p.alpn() == "http/1.1");
    CHECK(p.ask(get("/ping")).body == R"({"ping":"PONG"})");
  }
  {
    https_peer p(s.port(), client);
    CHECK(p.alpn().empty());
    CHECK(p.ask(get("/ping")).body == R"({"ping":"PONG"})");
  }
  {
    https_peer p(s.port(1), client, h2_and_http11);
    CHECK(p.alpn().empty());
    CHECK(p.raw("PING\r\n") == "+PONG\r\n");
  }
}

TEST_CASE("HTTPS refuses a client whose ALPN offers only protocols it does not speak", "[server][tls][http]") {
  coronet_test::running_server s(https_options());
  auto client = trusting_client();
  constexpr std::string_view only_h2{"\x02h2", 3};
  CHECK_THROWS_AS(https_peer(s.port(), client, only_h2), std::system_error);
  // The listener goes on serving.
  https_peer p(s.port(), client, h2_and_http11);
  CHECK(p.ask(get("/ping")).body == R"({"ping":"PONG"})");
}

TEST_CASE("HTTPS takes a reloaded certificate for new connections, the open ones go on", "[server][tls][http]") {
  const std::filesystem::path live_cert = certs().dir() / "https-live.pem";
  const std::filesystem::path live_key = certs().dir() / "https-live.key";
  const auto copy = [](const std::string& from, const std::filesystem::path& to) {
    std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
  };
  copy(certs().path("server.pem"), live_cert);
  copy(certs().path("server.key"), live_key);
  coronet::server_options o = https_options();
  o.tls.certificate_file = live_cert.string();
  o.tls.key_file = live_key.string();
  coronet_test::running_server s(std::move(o));
  auto client = trusting_client();
  https_peer before(s.port(), client, h2_and_http11);
  CHECK(same_certificate(before.peer_certificate(), certs().path("server.pem")));
  copy(certs().path("server2.pem"), live_cert);
  copy(certs().path("server2.key"), live_key);
  REQUIRE(s.get().reload_tls());
  https_peer after(s.port(), client, h2_and_http11);
  CHECK(same_certificate(after.peer_certificate(), certs().path("server2.pem")));
  CHECK(after.alpn() == "http/1.1");
  CHECK(after.ask(get("/ping")).body == R"({"ping":"PONG"})");
  CHECK(before.ask(get("/ping")).body == R"({"ping":"PONG"})");
}

}  // namespace server_https_test
