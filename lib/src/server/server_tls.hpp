// A server's TLS certificate: the context new connections use, reloadable
// (server::reload_tls, SIGHUP) without touching connections already open.
#pragma once

#include <memory>
#include <mutex>
#include <optional>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/ssl/context.hpp>

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

  // Reloads on each SIGHUP delivered to the process, on `ctx`'s thread, until
  // stop_watching().
  void watch_sighup(asio::io_context& ctx);
  void stop_watching() noexcept;
  // Before the io_context given to watch_sighup goes away.
  void release_signals() noexcept { hangup_.reset(); }

private:
  void wait_for_sighup();

  tls::server_config config_;
  mutable std::mutex mutex_;
  std::shared_ptr<asio::ssl::context> current_;
  std::optional<asio::signal_set> hangup_;
};

}  // namespace coronet::detail
