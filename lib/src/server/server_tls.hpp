// A server's TLS certificate: the context new connections use, reloadable
// (server::reload_tls, SIGHUP through the worker pool's reload callback)
// without touching connections already open.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <asio/ssl/context.hpp>
#include <openssl/ssl.h>

#include "coronet/tls/context.hpp"

namespace coronet::detail {

class server_tls {
public:
  // Loads the certificate and key; throws as tls::make_server_context.
  explicit server_tls(tls::server_config config);

  // The context for a new connection. Thread-safe.
  std::shared_ptr<asio::ssl::context> context() const;

  // Reads the files again; on success new connections use them, on failure
  // the old context stays. Logs either way. Thread-safe.
  bool reload() noexcept;

  // Makes the handshake of `ssl` (made from one of this class's contexts) agree to one of
  // `protocols` in ALPN, the first of them the client offers; a client that offers ALPN and
  // none of them is refused (no_application_protocol). `protocols` must outlive the
  // handshake. Throws std::system_error if OpenSSL cannot store it.
  static void offer_alpn(SSL* ssl, const std::vector<std::string>& protocols);

private:
  tls::server_config config_;
  mutable std::mutex mutex_;
  std::shared_ptr<asio::ssl::context> current_;
};

}  // namespace coronet::detail
