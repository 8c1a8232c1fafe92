#include "server/server_tls.hpp"

#include <exception>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "coronet/core/log.hpp"

namespace coronet::detail {
namespace {

// Where a connection's ALPN protocols are kept on its SSL object.
int alpn_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// OpenSSL's ALPN callback: `in` is the client's list, each entry a length byte and its name.
int select_alpn(SSL* ssl, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  const auto* ours = static_cast<const std::vector<std::string>*>(SSL_get_ex_data(ssl, alpn_index()));
  if (ours == nullptr || ours->empty())
    return SSL_TLSEXT_ERR_NOACK;
  for (const std::string& want : *ours) {
    for (unsigned int i = 0; i < inlen;) {
      const unsigned int n = in[i];
      if (i + 1 + n > inlen)
        return SSL_TLSEXT_ERR_ALERT_FATAL;  // a malformed list
      if (std::string_view(reinterpret_cast<const char*>(in + i + 1), n) == want) {
        *out = in + i + 1;
        *outlen = static_cast<unsigned char>(n);
        return SSL_TLSEXT_ERR_OK;
      }
      i += 1 + n;
    }
  }
  // RFC 7301 section 3.2: the client offered only protocols this listener does not speak.
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

std::shared_ptr<asio::ssl::context> make_context(const tls::server_config& config) {
  auto ctx = std::make_shared<asio::ssl::context>(tls::make_server_context(config));
  SSL_CTX_set_alpn_select_cb(ctx->native_handle(), &select_alpn, nullptr);
  return ctx;
}

}  // namespace

server_tls::server_tls(tls::server_config config) : config_(std::move(config)), current_(make_context(config_)) {}

void server_tls::offer_alpn(SSL* ssl, const std::vector<std::string>& protocols) {
  if (SSL_set_ex_data(ssl, alpn_index(), const_cast<std::vector<std::string>*>(&protocols)) != 1)
    throw std::system_error(std::make_error_code(std::errc::not_enough_memory), "SSL_set_ex_data");
}

std::shared_ptr<asio::ssl::context> server_tls::context() const {
  const std::lock_guard lock(mutex_);
  return current_;
}

bool server_tls::reload() noexcept {
  try {
    auto fresh = make_context(config_);
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
