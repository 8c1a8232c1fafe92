// A steady-state TLS read+write loop: no C++ heap allocation; OpenSSL's own
// allocations (malloc through CRYPTO_malloc) are counted and reported.
#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <cstdlib>
#include <string>

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "coronet/coronet.hpp"
#include "coronet/tls/context.hpp"
#include "coronet/tls/stream.hpp"
#include "support/counting_new.hpp"
#include "support/loopback_pair.hpp"
#include "support/test_certs.hpp"

namespace {

std::atomic<std::size_t> openssl_mallocs{0};
std::atomic<std::size_t> openssl_reallocs{0};

void* counting_malloc(std::size_t n, const char*, int) {
  openssl_mallocs.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n);
}
void* counting_realloc(void* p, std::size_t n, const char*, int) {
  openssl_reallocs.fetch_add(1, std::memory_order_relaxed);
  return std::realloc(p, n);
}
void plain_free(void* p, const char*, int) { std::free(p); }

// Before any static initializer can make OpenSSL allocate, or the hooks are refused.
bool hooks_installed = [] {
  return CRYPTO_set_mem_functions(&counting_malloc, &counting_realloc, &plain_free) == 1;
}();

constexpr int warmup = 100;
constexpr int measured = 10'000;

// Runs the loop; with `keep_buffers`, SSL_MODE_RELEASE_BUFFERS is turned off
// (to show what it costs: OpenSSL then allocates record buffers per operation).
void ping_pong(bool keep_buffers) {
  const coronet_test::test_certs certs;
  auto sctx = coronet::tls::make_server_context(
      {.certificate_file = certs.path("server.pem"), .key_file = certs.path("server.key")});
  auto cctx = coronet::tls::make_client_context({.ca_file = certs.path("ca.pem")});
  if (keep_buffers) {
    SSL_CTX_clear_mode(sctx.native_handle(), SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_clear_mode(cctx.native_handle(), SSL_MODE_RELEASE_BUFFERS);
  }
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> coronet::task<void> {
    auto [c, s] = co_await coronet_test::make_pair(ctx);
    coronet::tls::stream client(std::move(c), cctx);
    coronet::tls::stream server(std::move(s), sctx);
    client.set_server_name("localhost");
    auto client_shake = [&]() -> coronet::task<void> {
      co_await client.handshake(coronet::tls::stream::client);
    };
    auto server_shake = [&]() -> coronet::task<void> {
      co_await server.handshake(coronet::tls::stream::server);
    };
    co_await coronet::when_all(client_shake(), server_shake());

    // The server echoes; the client writes, then reads the echo.
    auto echo = [&]() -> coronet::task<void> {
      std::array<char, 256> buf;
      std::error_code ec;
      for (;;) {
        const std::size_t n = co_await server.read_some(asio::buffer(buf), ec);
        if (ec)
          co_return;
        co_await server.write_all(asio::buffer(buf.data(), n));
      }
    };
    auto drive = [&]() -> coronet::task<void> {
      const std::string message = "*1\r\n$4\r\nPING\r\n";
      std::array<char, 64> buf;
      auto round = [&]() -> coronet::task<void> {
        co_await client.write_all(asio::buffer(message));
        co_await client.read_exact(asio::buffer(buf.data(), message.size()));
      };
      for (int i = 0; i < warmup; ++i)
        co_await round();
      const std::size_t mallocs_before = openssl_mallocs.load();
      const std::size_t reallocs_before = openssl_reallocs.load();
      coronet_test::new_call_counter counter;
      for (int i = 0; i < measured; ++i)
        co_await round();
      const std::size_t cxx = counter.count();
      const std::size_t ossl = openssl_mallocs.load() - mallocs_before;
      const std::size_t ossl_re = openssl_reallocs.load() - reallocs_before;
      WARN((keep_buffers ? "without" : "with")
           << " SSL_MODE_RELEASE_BUFFERS, over " << measured << " TLS round trips (both ends): " << cxx
           << " operator new calls, " << ossl << " OpenSSL mallocs, " << ossl_re
           << " OpenSSL reallocs (counting hooks installed: " << (hooks_installed ? "yes" : "no") << ")");
      CHECK(cxx == 0);
      client.close();
    };
    co_await coronet::when_all(echo(), drive());
  }());
}

}  // namespace

TEST_CASE("a TLS read+write ping-pong makes no C++ heap allocation in steady state", "[tls][alloc]") {
  ping_pong(false);
}

TEST_CASE("without SSL_MODE_RELEASE_BUFFERS, OpenSSL allocates nothing per round trip either", "[tls][alloc]") {
  ping_pong(true);
}
