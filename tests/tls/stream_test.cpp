// coronet::tls::stream: handshake, reads, writes, shutdown, errors, cancellation and timeouts.
#include <catch2/catch.hpp>

#include <array>
#include <string>
#include <system_error>

#include <asio/ssl/error.hpp>

#include "coronet/coronet.hpp"
#include "coronet/tls/context.hpp"
#include "coronet/tls/stream.hpp"
#include "support/loopback_pair.hpp"
#include "support/test_certs.hpp"

namespace tls_stream_test {

using namespace std::chrono_literals;
using coronet::tls::stream;

namespace {

using coronet_test::certs;

asio::ssl::context server_context(const char* cert = "server.pem", const char* key = "server.key") {
  return coronet::tls::make_server_context({.certificate_file = certs().path(cert), .key_file = certs().path(key)});
}

asio::ssl::context client_context(const char* ca = "ca.pem") {
  return coronet::tls::make_client_context({.ca_file = certs().path(ca)});
}

struct tls_pair {
  stream client;
  stream server;
};

// Connects over loopback and runs both handshakes; the client checks `name`.
coronet::task<tls_pair> make_tls_pair(asio::io_context& ctx, asio::ssl::context& server_ctx,
                                      asio::ssl::context& client_ctx, std::string name = "localhost") {
  auto [c, s] = co_await coronet_test::make_pair(ctx);
  tls_pair p{stream(std::move(c), client_ctx), stream(std::move(s), server_ctx)};
  p.client.set_server_name(name);
  auto client_side = [&]() -> coronet::task<void> {
    co_await p.client.handshake(stream::client);
  };
  auto server_side = [&]() -> coronet::task<void> {
    co_await p.server.handshake(stream::server);
  };
  co_await coronet::when_all(client_side(), server_side());
  co_return std::move(p);
}

struct handshake_outcome {
  std::error_code client;
  std::string client_text;
  std::error_code server;
};

// Both handshakes, errors collected; the side that fails closes its socket
// so the other's handshake ends too.
coronet::task<handshake_outcome> try_handshake(asio::io_context& ctx, asio::ssl::context& server_ctx,
                                               asio::ssl::context& client_ctx, std::string name = "localhost") {
  auto [c, s] = co_await coronet_test::make_pair(ctx);
  stream client(std::move(c), client_ctx);
  stream server(std::move(s), server_ctx);
  client.set_server_name(name);
  handshake_outcome out;
  auto client_side = [&]() -> coronet::task<void> {
    co_await client.handshake(stream::client, out.client);
    if (out.client) {
      out.client_text = coronet::tls::describe_handshake_error(client, out.client);
      client.close();
    }
  };
  auto server_side = [&]() -> coronet::task<void> {
    co_await server.handshake(stream::server, out.server);
    if (out.server)
      server.close();
  };
  co_await coronet::when_all(client_side(), server_side());
  co_return out;
}

}  // namespace

TEST_CASE("a verified handshake, then read_some, read_exact, read_until and write_all both ways", "[tls]") {
  asio::io_context ctx(1);
  auto sctx = server_context();
  auto cctx = client_context();
  coronet::sync_wait(ctx, [&]() -> coronet::task<void> {
    tls_pair p = co_await make_tls_pair(ctx, sctx, cctx);
    CHECK(SSL_version(p.client.ssl_handle()) >= TLS1_2_VERSION);
    co_await p.client.write_all(asio::buffer(std::string_view("hello\nworld")));
    std::string line;
    const std::size_t n = co_await p.server.read_until(asio::dynamic_buffer(line), "\n");
    CHECK(line.substr(0, n) == "hello\n");
    std::array<char, 5> rest{};
    const std::size_t already = line.size() - n;
    std::copy(line.begin() + static_cast<std::ptrdiff_t>(n), line.end(), rest.begin());
    co_await p.server.read_exact(asio::buffer(rest.data() + already, rest.size() - already));
    CHECK(std::string_view(rest.data(), rest.size()) == "world");

    std::string big(100'000, 'x');  // several TLS records
    auto writer = [&]() -> coronet::task<void> {
      co_await p.server.write_all(asio::buffer(big));
    };
    auto reader = [&]() -> coronet::task<std::string> {
      std::string got(big.size(), '\0');
      co_await p.client.read_exact(asio::buffer(got));
      co_return got;
    };
    auto [ignored, got] = co_await coronet::when_all(writer(), reader());
    (void)ignored;
    CHECK(got == big);

    std::array<char, 16> buf{};
    co_await p.client.write_all(asio::buffer(std::string_view("ping")));
    const std::size_t m = co_await p.server.read_some(asio::buffer(buf));
    CHECK(std::string_view(buf.data(), m) == "ping");
  }());
}

TEST_CASE("shutdown sends close_notify: the peer's read ends with eof", "[tls]") {
  asio::io_context ctx(1);
  auto sctx = server_context();
  auto cctx = client_context();
  coronet::sync_wait(ctx, [&]() -> coronet::task<void> {
    tls_pair p = co_await make_tls_pair(ctx, sctx, cctx);
    auto client_side = [&]() -> coronet::task<std::error_code> {
      std::error_code ec;
      co_await p.client.shutdown(ec);
      co_return ec;
    };
    auto server_side = [&]() -> coronet::task<std::error_code> {
      std::array<char, 8> buf{};
      std::error_code ec;
      co_await p.server.read_some(asio::buffer(buf), ec);
      std::error_code answer;
      co_await p.server.shutdown(answer);
      co_return ec;
    };
    auto [client_ec, server_ec] = co_await coronet::when_all(client_side(), server_side());
    CHECK(server_ec == asio::error::eof);
    CHECK(!client_ec);
  }());
}

TEST_CASE("a peer that closes without close_notify ends reads with stream_truncated", "[tls]") {
  asio::io_context ctx(1);
  auto sctx = server_context();
  auto cctx = client_context();
  coronet::sync_wait(ctx, [&]() -> coronet::task<void> {
    tls_pair p = co_await make_tls_pair(ctx, sctx, cctx);
    p.client.lowest_layer().shutdown(asio::socket_base::shutdown_send);
    std::array<char, 8> buf{};
    std::error_code ec;
    co_await p.server.read_some(asio::buffer(buf), ec);
    CHECK(ec == asio::ssl::error::stream_truncated);
    CHECK_THROWS_AS(co_await p.server.read_some(asio::buffer(buf)), std::system_error);
  }());
}

TEST_CASE("a server certificate from an untrusted CA fails the client's handshake, saying why", "[tls]") {
  asio::io_context ctx(1);
  auto sctx = server_context("other.pem", "other.key");
  auto cctx = client_context();
  handshake_outcome out = coronet::sync_wait(ctx, try_handshake(ctx, sctx, cctx));
  CHECK(out.client);
  CHECK_THAT(out.client_text, Catch::Contains("certificate verify failed"));
  CHECK_THAT(out.client_text, Catch::Contains("unable to get local issuer certificate"));
  CHECK(out.server);
}

TEST_CASE("an expired server certificate fails the client's handshake, saying so", "[tls]") {
  asio::io_context ctx(1);
  auto sctx = server_context("expired.pem", "expired.key");
  auto cctx = client_context();
  handshake_outcome out = coronet::sync_wait(ctx, try_handshake(ctx, sctx, cctx));
  CHECK(out.client);
  CHECK_THAT(out.client_text, Catch::Contains("certificate has expired"));
}

TEST_CASE("a certificate for another host name fails verification; an IP in its names passes", "[tls]") {
  asio::io_context ctx(1);
  auto sctx = server_context();
  auto cctx = client_context();
  handshake_outcome wrong = coronet::sync_wait(ctx, try_handshake(ctx, sctx, cctx, "example.com"));
  CHECK(wrong.client);
  CHECK_THAT(wrong.client_text, Catch::Contains("hostname mismatch"));
  handshake_outcome by_ip = coronet::sync_wait(ctx, try_handshake(ctx, sctx, cctx, "127.0.0.1"));
  CHECK(!by_ip.client);
  CHECK(!by_ip.server);
}

TEST_CASE("an insecure client accepts any certificate", "[tls]") {
  asio::io_context ctx(1);
  auto sctx = server_context("expired.pem", "expired.key");
  auto cctx = coronet::tls::make_client_context({.insecure = true});
  handshake_outcome out = coronet::sync_wait(ctx, try_handshake(ctx, sctx, cctx, "example.com"));
  CHECK(!out.client);
  CHECK(!out.server);
}

TEST_CASE("plaintext sent to a TLS server fails its handshake", "[tls]") {
  asio::io_context ctx(1);
  auto sctx = server_context();
  coronet::sync_wait(ctx, [&]() -> coronet::task<void> {
    auto [c, s] = co_await coronet_test::make_pair(ctx);
    stream server(std::move(s), sctx);
    co_await c.write_all(asio::buffer(std::string_view("PING\r\n")));
    std::error_code ec;
    co_await server.handshake(stream::server, ec);
    CHECK(ec);
    CHECK(ec.category() == asio::error::get_ssl_category());
  }());
}

TEST_CASE("with_timeout ends a handshake with a silent peer, and a read with nothing to read", "[tls]") {
  asio::io_context ctx(1);
  auto sctx = server_context();
  auto cctx = client_context();
  coronet::sync_wait(ctx, [&]() -> coronet::task<void> {
    auto [c, s] = co_await coronet_test::make_pair(ctx);
    stream server(std::move(s), sctx);
    auto shake = [&]() -> coronet::task<void> {
      co_await server.handshake(stream::server);
    };
    std::error_code ec;
    co_await coronet::with_timeout(shake(), 50ms, ec);
    CHECK(ec == coronet::errc::timeout);

    tls_pair p = co_await make_tls_pair(ctx, sctx, cctx);
    auto read = [&]() -> coronet::task<std::size_t> {
      std::array<char, 8> buf{};
      co_return co_await p.server.read_some(asio::buffer(buf));
    };
    co_await coronet::with_timeout(read(), 50ms, ec);
    CHECK(ec == coronet::errc::timeout);
  }());
}

TEST_CASE("a read pending while the other side writes: both directions at once", "[tls]") {
  asio::io_context ctx(1);
  auto sctx = server_context();
  auto cctx = client_context();
  coronet::sync_wait(ctx, [&]() -> coronet::task<void> {
    tls_pair p = co_await make_tls_pair(ctx, sctx, cctx);
    // The server reads and writes on the same stream concurrently.
    auto server_reads = [&]() -> coronet::task<std::string> {
      std::string got(4, '\0');
      co_await p.server.read_exact(asio::buffer(got));
      co_return got;
    };
    auto server_writes = [&]() -> coronet::task<void> {
      co_await p.server.write_all(asio::buffer(std::string_view("pong")));
    };
    auto client_side = [&]() -> coronet::task<std::string> {
      std::string got(4, '\0');
      co_await p.client.read_exact(asio::buffer(got));
      co_await p.client.write_all(asio::buffer(std::string_view("ping")));
      co_return got;
    };
    auto [from_client, ignored, from_server] = co_await coronet::when_all(server_reads(), server_writes(),
                                                                          client_side());
    (void)ignored;
    CHECK(from_client == "ping");
    CHECK(from_server == "pong");
  }());
}

}  // namespace tls_stream_test
