// make_server_context / make_client_context: defaults, and errors that name the file and the reason.
#include <catch2/catch.hpp>

#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>

#include <openssl/ssl.h>

#include "coronet/tls/context.hpp"
#include "support/test_certs.hpp"

namespace {

const coronet_test::test_certs& certs() {
  static const coronet_test::test_certs c;
  return c;
}

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
  CHECK_THAT(wrong, Catch::Contains("bad decrypt"));
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
