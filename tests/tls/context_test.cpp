// make_server_context / make_client_context: defaults, the cipher suites a server accepts
// (over sockets), and errors that name the file and the reason.
#include <catch2/catch.hpp>

#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>

#include <openssl/ssl.h>

#include "coronet/coronet.hpp"
#include "coronet/tls/context.hpp"
#include "coronet/tls/stream.hpp"
#include "support/loopback_pair.hpp"
#include "support/test_certs.hpp"

namespace tls_context_test {

namespace {

using coronet_test::certs;

// The message of the exception `f` throws, or "" if none.
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// A client limited to TLS 1.2 (or not, with `tls12_only` false) that offers
// only the TLS 1.2 suites `suites`, as an old or deliberately weak client does.
asio::ssl::context limited_client(const char* suites, bool tls12_only = true) {
  asio::ssl::context ctx = coronet::tls::make_client_context({.ca_file = certs().path("ca.pem")});
  if (tls12_only)
    REQUIRE(SSL_CTX_set_max_proto_version(ctx.native_handle(), TLS1_2_VERSION) == 1);
  REQUIRE(SSL_CTX_set_cipher_list(ctx.native_handle(), suites) == 1);
  return ctx;
}

struct handshake_result {
  std::error_code client;
  std::error_code server;
  std::string server_reason;
  std::string cipher;
  int version = 0;
};

// Both handshakes over a loopback TCP connection; the side that fails closes
// its socket so that the other's handshake ends too.
handshake_result handshake(asio::ssl::context& server_ctx, asio::ssl::context& client_ctx) {
  asio::io_context io(1);
  return coronet::sync_wait(io, [&]() -> coronet::task<handshake_result> {
    auto [c, s] = co_await coronet_test::make_pair(io);
    coronet::tls::stream client(std::move(c), client_ctx);
    coronet::tls::stream server(std::move(s), server_ctx);
    client.set_server_name("localhost");
    handshake_result out;
    auto client_side = [&]() -> coronet::task<void> {
      co_await client.handshake(coronet::tls::stream::client, out.client);
      if (out.client) {
        client.close();
      } else {
        out.cipher = SSL_get_cipher_name(client.ssl_handle());
        out.version = SSL_version(client.ssl_handle());
      }
    };
    auto server_side = [&]() -> coronet::task<void> {
      co_await server.handshake(coronet::tls::stream::server, out.server);
      if (out.server) {
        out.server_reason = coronet::tls::describe_handshake_error(server, out.server);
        server.close();
      }
    };
    co_await coronet::when_all(client_side(), server_side());
    co_return out;
  }());
}

asio::ssl::context default_server() {
  return coronet::tls::make_server_context(
      {.certificate_file = certs().path("server.pem"), .key_file = certs().path("server.key")});
}

}  // namespace

TEST_CASE("a server context has TLS 1.2 at least, no compression, server preference, released buffers", "[tls]") {
  asio::ssl::context ctx = coronet::tls::make_server_context(
      {.certificate_file = certs().path("server.pem"), .key_file = certs().path("server.key")});
  SSL_CTX* native = ctx.native_handle();
  CHECK(SSL_CTX_get_min_proto_version(native) == TLS1_2_VERSION);
  const auto options = SSL_CTX_get_options(native);
  CHECK((options & SSL_OP_NO_COMPRESSION) != 0);
  CHECK((options & SSL_OP_CIPHER_SERVER_PREFERENCE) != 0);
  CHECK((options & SSL_OP_NO_RENEGOTIATION) != 0);
  CHECK((SSL_CTX_get_mode(native) & SSL_MODE_RELEASE_BUFFERS) != 0);
  CHECK(SSL_CTX_get_verify_mode(native) == SSL_VERIFY_NONE);
}

TEST_CASE("a client CA makes the server require client certificates", "[tls]") {
  asio::ssl::context ctx = coronet::tls::make_server_context({.certificate_file = certs().path("server.pem"),
                                                              .key_file = certs().path("server.key"),
                                                              .client_ca_file = certs().path("ca.pem")});
  CHECK(SSL_CTX_get_verify_mode(ctx.native_handle()) == (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT));
}

TEST_CASE("an encrypted key loads with its password and fails clearly without it", "[tls]") {
  coronet::tls::server_config config{.certificate_file = certs().path("server.pem"),
                                     .key_file = certs().path("server-enc.key"),
                                     .key_password = "secret"};
  CHECK_NOTHROW(coronet::tls::make_server_context(config));
  config.key_password = "wrong";
  const std::string wrong = error_of([&] { coronet::tls::make_server_context(config); });
  CHECK_THAT(wrong, Catch::Contains("key file '" + certs().path("server-enc.key") + "'"));
  // OpenSSL's reason. A wrong password fails the padding check ("bad decrypt"), except
  // about once in 256 fresh keys, where the garbage it decrypts to happens to end in valid
  // padding and the decoder then rejects it ("unsupported (DECODER routines)").
  CHECK_THAT(wrong, Catch::Contains("bad decrypt") || Catch::Contains("DECODER routines"));
  config.key_password.clear();
  const std::string missing = error_of([&] { coronet::tls::make_server_context(config); });
  CHECK_THAT(missing, Catch::Contains("key file '" + certs().path("server-enc.key") + "'"));
}

TEST_CASE("a missing file fails at construction, naming it and the OS reason", "[tls]") {
  const std::string cert_error = error_of([&] {
    coronet::tls::make_server_context(
        {.certificate_file = "/nonexistent/cert.pem", .key_file = certs().path("server.key")});
  });
  CHECK_THAT(cert_error, Catch::Contains("certificate file '/nonexistent/cert.pem'"));
  CHECK_THAT(cert_error, Catch::Contains("No such file or directory"));
  const std::string key_error = error_of([&] {
    coronet::tls::make_server_context(
        {.certificate_file = certs().path("server.pem"), .key_file = "/nonexistent/key.pem"});
  });
  CHECK_THAT(key_error, Catch::Contains("key file '/nonexistent/key.pem'"));
  const std::string ca_error = error_of([&] { coronet::tls::make_client_context({.ca_file = "/nonexistent/ca.pem"}); });
  CHECK_THAT(ca_error, Catch::Contains("CA file '/nonexistent/ca.pem'"));
  CHECK_THROWS_AS(coronet::tls::make_server_context({}), std::invalid_argument);
}

TEST_CASE("a key that does not match the certificate fails at construction", "[tls]") {
  const std::string error = error_of([&] {
    coronet::tls::make_server_context(
        {.certificate_file = certs().path("server.pem"), .key_file = certs().path("server2.key")});
  });
  CHECK_THAT(error, Catch::Contains("key file '" + certs().path("server2.key") +
                                    "' does not match the certificate in '" + certs().path("server.pem") + "'"));
  CHECK_THAT(error, Catch::Contains("mismatch"));
}

TEST_CASE("a file that is not PEM fails with OpenSSL's reason", "[tls]") {
  const std::string garbage = (certs().dir() / "garbage.pem").string();
  std::ofstream(garbage) << "not a certificate\n";
  const std::string error = error_of([&] {
    coronet::tls::make_server_context({.certificate_file = garbage, .key_file = certs().path("server.key")});
  });
  CHECK_THAT(error, Catch::Contains("certificate file '" + garbage + "'"));
  CHECK_THAT(error, Catch::Contains("no start line"));
}

TEST_CASE("a client context verifies by default and not when insecure", "[tls]") {
  asio::ssl::context verifying = coronet::tls::make_client_context({.ca_file = certs().path("ca.pem")});
  CHECK(SSL_CTX_get_verify_mode(verifying.native_handle()) == SSL_VERIFY_PEER);
  CHECK(SSL_CTX_get_min_proto_version(verifying.native_handle()) == TLS1_2_VERSION);
  asio::ssl::context system_store = coronet::tls::make_client_context({});
  CHECK(SSL_CTX_get_verify_mode(system_store.native_handle()) == SSL_VERIFY_PEER);
  asio::ssl::context insecure = coronet::tls::make_client_context({.insecure = true});
  CHECK(SSL_CTX_get_verify_mode(insecure.native_handle()) == SSL_VERIFY_NONE);
}

TEST_CASE("a server offers TLS 1.2 clients only AEAD suites with ECDHE key exchange", "[tls]") {
  asio::ssl::context ctx = default_server();
  STACK_OF(SSL_CIPHER)* suites = SSL_CTX_get_ciphers(ctx.native_handle());
  REQUIRE(suites != nullptr);
  int tls12_suites = 0;
  for (int i = 0; i < sk_SSL_CIPHER_num(suites); ++i) {
    const SSL_CIPHER* suite = sk_SSL_CIPHER_value(suites, i);
    INFO(SSL_CIPHER_get_name(suite));
    CHECK(SSL_CIPHER_is_aead(suite) == 1);
    if (SSL_CIPHER_get_kx_nid(suite) == NID_kx_any)  // a TLS 1.3 suite: its key exchange is always ephemeral
      continue;
    ++tls12_suites;
    CHECK(SSL_CIPHER_get_kx_nid(suite) == NID_kx_ecdhe);
  }
  CHECK(tls12_suites == 6);
}

TEST_CASE("over sockets, a TLS 1.2 client offering only CBC-SHA fails its handshake, GCM and TLS 1.3 succeed", "[tls]") {
  asio::ssl::context server_ctx = default_server();
  // The test certificates are ECDSA: ECDHE-ECDSA-AES128-SHA is the CBC suite they could use.
  asio::ssl::context cbc = limited_client("ECDHE-ECDSA-AES128-SHA");
  const handshake_result refused = handshake(server_ctx, cbc);
  CHECK(refused.client);
  CHECK(refused.server);
  CHECK_THAT(refused.server_reason, Catch::Contains("no shared cipher"));

  asio::ssl::context gcm = limited_client("ECDHE-ECDSA-AES128-GCM-SHA256");
  const handshake_result accepted = handshake(server_ctx, gcm);
  CHECK_FALSE(accepted.client);
  CHECK_FALSE(accepted.server);
  CHECK(accepted.version == TLS1_2_VERSION);
  CHECK(accepted.cipher == "ECDHE-ECDSA-AES128-GCM-SHA256");

  asio::ssl::context chacha = limited_client("ECDHE-ECDSA-CHACHA20-POLY1305");
  CHECK(handshake(server_ctx, chacha).cipher == "ECDHE-ECDSA-CHACHA20-POLY1305");

  // A TLS 1.3 client that would take CBC in TLS 1.2 is served with TLS 1.3.
  asio::ssl::context modern = limited_client("ECDHE-ECDSA-AES128-SHA", false);
  const handshake_result tls13 = handshake(server_ctx, modern);
  CHECK_FALSE(tls13.client);
  CHECK(tls13.version == TLS1_3_VERSION);
}

TEST_CASE("a server's cipher list can be set, and one OpenSSL cannot use fails at construction", "[tls]") {
  coronet::tls::server_config config{.certificate_file = certs().path("server.pem"),
                                     .key_file = certs().path("server.key"),
                                     .cipher_list = "ECDHE-ECDSA-AES128-SHA"};
  asio::ssl::context legacy = coronet::tls::make_server_context(config);
  asio::ssl::context cbc = limited_client("ECDHE-ECDSA-AES128-SHA");
  const handshake_result accepted = handshake(legacy, cbc);
  CHECK_FALSE(accepted.client);
  CHECK(accepted.cipher == "ECDHE-ECDSA-AES128-SHA");

  config.cipher_list = "NO-SUCH-CIPHER";
  const std::string list_error = error_of([&] { coronet::tls::make_server_context(config); });
  CHECK_THAT(list_error, Catch::Contains("cipher list 'NO-SUCH-CIPHER'"));
  config.cipher_list.clear();
  config.ciphersuites = "TLS_NO_SUCH_SUITE";
  const std::string suites_error = error_of([&] { coronet::tls::make_server_context(config); });
  CHECK_THAT(suites_error, Catch::Contains("TLS 1.3 cipher suites 'TLS_NO_SUCH_SUITE'"));
}

}  // namespace tls_context_test
