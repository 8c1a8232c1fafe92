// coronet::tls contexts: asio::ssl::context built from PEM files, with safe defaults.
#pragma once

#include <string>

#include <asio/ssl/context.hpp>

namespace coronet::tls {

/// What a TLS server presents and whom it accepts. Paths are PEM files.
struct server_config {
  /// The server's certificate, followed by the intermediate certificates of
  /// its chain (the leaf first), as `ssl_certificate` in nginx.
  std::string certificate_file{};
  /// The certificate's private key (any type OpenSSL reads: EC, RSA,
  /// Ed25519; PKCS#8 or traditional PEM; encrypted if `key_password` is set).
  std::string key_file{};
  /// If set, clients must present a certificate signed by one of these CAs
  /// (mutual TLS); the handshake of a client without one fails. Empty (the
  /// default): clients are not asked for a certificate.
  std::string client_ca_file{};
  /// Password of an encrypted `key_file`. Never prompted for on a terminal: an
  /// encrypted key without it fails to load.
  std::string key_password{};
  /// The TLS 1.2 cipher suites offered, in OpenSSL's cipher-list syntax
  /// (`SSL_CTX_set_cipher_list`, nginx's `ssl_ciphers`), most preferred
  /// first. Empty (the default): `default_tls12_ciphers`, AEAD suites with
  /// forward secrecy only. A list OpenSSL cannot use (no suite it knows)
  /// makes `make_server_context` throw `std::system_error`. TLS 1.3 suites
  /// are set apart (`ciphersuites`).
  std::string cipher_list{};
  /// The TLS 1.3 cipher suites, in OpenSSL's syntax
  /// (`SSL_CTX_set_ciphersuites`, e.g. `TLS_AES_256_GCM_SHA384`). Empty (the
  /// default): OpenSSL's, which are all AEAD with forward secrecy. An unknown
  /// suite makes `make_server_context` throw `std::system_error`.
  std::string ciphersuites{};
};

/// The TLS 1.2 suites a server offers by default, as Mozilla's
/// "intermediate" profile (version 5.7) without its finite-field DHE suites:
/// ECDHE key exchange (forward secrecy) with AES-GCM or ChaCha20-Poly1305
/// (authenticated encryption), ECDSA certificates first, then RSA. No CBC
/// suite (LUCKY13 and the like), no static RSA key exchange, no SHA-1 MAC.
inline constexpr const char* default_tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

/// How a TLS client checks the server, and what it presents.
struct client_config {
  /// CAs to trust, in one PEM file. Empty (the default): the system's trust
  /// store (OpenSSL's default paths, /etc/ssl/certs on Debian).
  std::string ca_file{};
  /// Turns off every check of the server's certificate (chain, expiry and
  /// host name): the connection is encrypted but the peer may be anyone,
  /// including an attacker in the middle. For tests against a throw-away
  /// certificate only; never in production.
  bool insecure = false;
  /// The name the server's certificate must carry and SNI sends; empty means
  /// the host connected to (a name or an IP address). Used by
  /// `coronet::client`; a `tls::stream` takes it in `set_server_name`.
  std::string server_name{};
  /// A certificate (chain) and key to present to servers that ask for one
  /// (mutual TLS). Both or neither.
  std::string certificate_file{};
  /// See `certificate_file`.
  std::string key_file{};
  /// Password of an encrypted `key_file`.
  std::string key_password{};
};

/// A server context for `config`: TLS 1.2 at least, with only the TLS 1.2
/// suites of `config.cipher_list` (by default `default_tls12_ciphers`: AEAD
/// with forward secrecy; a TLS 1.2 client that offers none of them fails its
/// handshake with `no shared cipher`), no compression, no renegotiation, the
/// server's cipher preference, `SSL_MODE_RELEASE_BUFFERS` (an idle connection
/// keeps no record buffers), and the certificate chain and key checked
/// against each other.
///
/// Throws `std::system_error` naming the file and the reason, at once rather
/// than at the first connection: a file that cannot be read (the OS error,
/// e.g. "No such file or directory"), a file OpenSSL cannot parse, a key that
/// does not match the certificate, a wrong or missing key password (OpenSSL's
/// reason, e.g. "bad decrypt"), a `cipher_list` or `ciphersuites` OpenSSL
/// cannot use (naming it). Throws `std::invalid_argument` when
/// `certificate_file` or `key_file` is empty.
asio::ssl::context make_server_context(const server_config& config);

/// A client context for `config`: TLS 1.2 at least, no compression, and,
/// unless `insecure`, peer verification against `ca_file` or the system
/// store (host names are checked per connection: see
/// `stream::set_server_name`). Throws `std::system_error` naming the file and
/// the reason, as `make_server_context`.
asio::ssl::context make_client_context(const client_config& config);

}  // namespace coronet::tls
