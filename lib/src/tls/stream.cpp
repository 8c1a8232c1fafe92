#include "coronet/tls/stream.hpp"

#include <string>
#include <system_error>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <asio/ip/address.hpp>

namespace coronet::tls {

void stream::set_server_name(std::string_view host) {
  const std::string name(host);
  SSL* ssl = ssl_handle();
  std::error_code not_ip;
  (void)asio::ip::make_address(name, not_ip);
  ::ERR_clear_error();
  // RFC 6066: SNI carries host names only.
  if (not_ip && ::SSL_set_tlsext_host_name(ssl, name.c_str()) != 1)
    throw std::system_error(std::error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()),
                            "coronet::tls: cannot set the server name");
  X509_VERIFY_PARAM* param = ::SSL_get0_param(ssl);
  const int ok = not_ip ? ::X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size())
                        : ::X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
  if (ok != 1)
    throw std::system_error(std::error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()),
                            "coronet::tls: cannot check the server name '" + name + "'");
}

std::string verify_failure(stream& s) {
  const long verify = ::SSL_get_verify_result(s.ssl_handle());
  return verify == X509_V_OK ? std::string() : std::string(::X509_verify_cert_error_string(verify));
}

std::string describe_handshake_error(stream& s, const std::error_code& ec) {
  std::string text = ec.message();
  const std::string why = verify_failure(s);
  if (!why.empty()) {
    text += ": ";
    text += why;
  }
  return text;
}

}  // namespace coronet::tls
