#include "server/server_tls.hpp"

#include <exception>
#include <string>
#include <utility>

#include "coronet/core/log.hpp"

namespace coronet::detail {

server_tls::server_tls(tls::server_config config)
    : config_(std::move(config)), current_(std::make_shared<asio::ssl::context>(tls::make_server_context(config_))) {}

std::shared_ptr<asio::ssl::context> server_tls::context() const {
  const std::lock_guard lock(mutex_);
  return current_;
}

bool server_tls::reload() noexcept {
  try {
    auto fresh = std::make_shared<asio::ssl::context>(tls::make_server_context(config_));
    {
      const std::lock_guard lock(mutex_);
      current_.swap(fresh);
    }
    std::string text = "TLS certificate reloaded from '";
    text += config_.certificate_file;
    text += "'";
    log(log_level::info, text);
    return true;
  } catch (const std::exception& e) {
    std::string text = "TLS certificate not reloaded, the old one stays in use: ";
    text += e.what();
    log(log_level::error, text);
  } catch (...) {
    log(log_level::error, "TLS certificate not reloaded, the old one stays in use: unknown error");
  }
  return false;
}

}  // namespace coronet::detail
