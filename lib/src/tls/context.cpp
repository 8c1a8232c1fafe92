#include "coronet/tls/context.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <asio/ssl/error.hpp>

namespace coronet::tls {
namespace {

// Throws for OpenSSL's first queued error (the root cause; later ones are
// the callers' "PEM lib" and the like), then empties the queue.
[[noreturn]] void throw_openssl_error(const std::string& what) {
  const unsigned long first = ::ERR_get_error();
  ::ERR_clear_error();
  if (first == 0)
    throw std::system_error(std::error_code(asio::error::invalid_argument), what);
  throw std::system_error(std::error_code(static_cast<int>(first), asio::error::get_ssl_category()), what);
}

// OpenSSL reports an unreadable file as "system lib"; this says which errno.
void check_readable(const std::string& path, const char* kind) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    std::string what = "coronet::tls: cannot read ";
    what += kind;
    what += " '";
    what += path;
    what += "'";
    throw std::system_error(errno, std::generic_category(), what);
  }
  std::fclose(f);
}

std::string describe(const char* kind, const std::string& path) {
  std::string what = "coronet::tls: ";
  what += kind;
  what += " '";
  what += path;
  what += "'";
  return what;
}

// Never lets OpenSSL prompt on a terminal: with no password, an encrypted key
// fails to load.
int password_callback(char* buf, int size, int, void* userdata) {
  const auto* password = static_cast<const std::string*>(userdata);
  if (password == nullptr || password->empty() || size <= 0)
    return 0;
  const std::size_t n = std::min(password->size(), static_cast<std::size_t>(size));
  std::memcpy(buf, password->data(), n);
  return static_cast<int>(n);
}

void set_common_defaults(SSL_CTX* ctx) {
  ::SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (::SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
    throw_openssl_error("coronet::tls: cannot require TLS 1.2");
  ::SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
}

void load_certificate_and_key(SSL_CTX* ctx, const std::string& certificate, const std::string& key,
                              const std::string& password) {
  check_readable(certificate, "certificate file");
  check_readable(key, "key file");
  ::ERR_clear_error();
  if (::SSL_CTX_use_certificate_chain_file(ctx, certificate.c_str()) != 1)
    throw_openssl_error(describe("certificate file", certificate));
  // The callback is needed only while the key loads; the password is not kept.
  ::SSL_CTX_set_default_passwd_cb(ctx, &password_callback);
  ::SSL_CTX_set_default_passwd_cb_userdata(ctx, const_cast<std::string*>(&password));
  const int loaded = ::SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM);
  ::SSL_CTX_set_default_passwd_cb_userdata(ctx, nullptr);
  if (loaded != 1) {
    std::string what = describe("key file", key);
    if (ERR_GET_REASON(::ERR_peek_error()) == X509_R_KEY_VALUES_MISMATCH) {
      what += " does not match the certificate in '";
      what += certificate;
      what += "'";
    }
    throw_openssl_error(what);
  }
  if (::SSL_CTX_check_private_key(ctx) != 1) {
    std::string what = describe("key file", key);
    what += " does not match the certificate in '";
    what += certificate;
    what += "'";
    throw_openssl_error(what);
  }
}

// The TLS 1.2 suites (the default ones unless `list` says otherwise) and,
// if given, the TLS 1.3 ones.
void set_ciphers(SSL_CTX* ctx, const std::string& list, const std::string& tls13) {
  ::ERR_clear_error();
  const char* tls12 = list.empty() ? default_tls12_ciphers : list.c_str();
  if (::SSL_CTX_set_cipher_list(ctx, tls12) != 1)
    throw_openssl_error(describe("cipher list", tls12));
  if (!tls13.empty() && ::SSL_CTX_set_ciphersuites(ctx, tls13.c_str()) != 1)
    throw_openssl_error(describe("TLS 1.3 cipher suites", tls13));
}

void load_ca_file(SSL_CTX* ctx, const std::string& ca) {
  check_readable(ca, "CA file");
  ::ERR_clear_error();
  if (::SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr) != 1)
    throw_openssl_error(describe("CA file", ca));
}

}  // namespace

asio::ssl::context make_server_context(const server_config& config) {
  if (config.certificate_file.empty() || config.key_file.empty())
    throw std::invalid_argument("coronet::tls: a server needs both a certificate file and a key file");
  asio::ssl::context ctx(asio::ssl::context::tls_server);
  SSL_CTX* native = ctx.native_handle();
  set_common_defaults(native);
  ::SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE);
  set_ciphers(native, config.cipher_list, config.ciphersuites);
  load_certificate_and_key(native, config.certificate_file, config.key_file, config.key_password);
  // Session resumption with client certificates needs an id context.
  static const unsigned char session_id_context[] = "coronet";
  ::SSL_CTX_set_session_id_context(native, session_id_context, sizeof session_id_context - 1);
  if (!config.client_ca_file.empty()) {
    load_ca_file(native, config.client_ca_file);
    STACK_OF(X509_NAME)* names = ::SSL_load_client_CA_file(config.client_ca_file.c_str());
    if (names == nullptr)
      throw_openssl_error(describe("client CA file", config.client_ca_file));
    ::SSL_CTX_set_client_CA_list(native, names);
    ::SSL_CTX_set_verify(native, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return ctx;
}

asio::ssl::context make_client_context(const client_config& config) {
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  SSL_CTX* native = ctx.native_handle();
  set_common_defaults(native);
  if (config.certificate_file.empty() != config.key_file.empty())
    throw std::invalid_argument("coronet::tls: a client certificate needs its key, and a key its certificate");
  if (!config.certificate_file.empty())
    load_certificate_and_key(native, config.certificate_file, config.key_file, config.key_password);
  if (config.insecure) {
    ::SSL_CTX_set_verify(native, SSL_VERIFY_NONE, nullptr);
    return ctx;
  }
  if (!config.ca_file.empty()) {
    load_ca_file(native, config.ca_file);
  } else if (::SSL_CTX_set_default_verify_paths(native) != 1) {
    throw_openssl_error("coronet::tls: cannot load the system's trusted CAs");
  }
  ::SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
  return ctx;
}

}  // namespace coronet::tls
