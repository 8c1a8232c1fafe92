// The WebSocket opening handshake (RFC 6455, 4.2): its checks, the accept value and the
// answers, with no sockets.
#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <new>
#include <span>
#include <string>

#include "protocol/detail/ascii_case.hpp"
#include "protocol/http/http_codec.hpp"
#include "server/websocket_session.hpp"

namespace coronet::detail {
namespace {

// RFC 6455, 1.3: appended to the client's key before hashing.
constexpr std::string_view accept_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

std::string_view trim(std::string_view v) noexcept {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
    v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t'))
    v.remove_suffix(1);
  return v;
}

// True if header `name` of `m` holds `token` in its comma-separated list (any case).
bool has_token(const http_message& m, std::string_view name, std::string_view token) noexcept {
  for (const http_field& f : m.headers) {
    if (!ascii_iequals(f.name, name))
      continue;
    std::string_view list = f.value;
    while (!list.empty()) {
      const std::size_t comma = list.find(',');
      if (ascii_iequals(trim(list.substr(0, comma)), token))
        return true;
      list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
    }
  }
  return false;
}

std::string_view header(const http_message& m, std::string_view name) noexcept {
  for (const http_field& f : m.headers)
    if (ascii_iequals(f.name, name))
      return f.value;
  return {};
}

// A key is 16 bytes in base64: 22 characters of the alphabet and `==`.
bool valid_key(std::string_view k) noexcept {
  if (k.size() != 24 || k.substr(22) != "==")
    return false;
  return std::all_of(k.begin(), k.begin() + 22, [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
  });
}

void append_base64(const unsigned char* p, std::size_t n, std::string& out) {
  constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < n; i += 3) {
    const std::uint32_t v = (std::uint32_t{p[i]} << 16) | (i + 1 < n ? std::uint32_t{p[i + 1]} << 8 : 0u) |
                            (i + 2 < n ? std::uint32_t{p[i + 2]} : 0u);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
    out += i + 2 < n ? alphabet[v & 63] : '=';
  }
}

// True if a page of `origin` may open the WebSocket that `m` asks for (see
// http_options::websocket_origins).
bool origin_allowed(const http_message& m, std::string_view origin, std::span<const std::string> allowed) noexcept {
  if (origin.empty())
    return true;
  if (allowed.empty()) {
    const std::size_t scheme_end = origin.find("://");
    return scheme_end != std::string_view::npos && ascii_iequals(origin.substr(scheme_end + 3), trim(header(m, "host")));
  }
  return std::any_of(allowed.begin(), allowed.end(),
                     [origin](const std::string& a) { return a == "*" || ascii_iequals(a, origin); });
}

}  // namespace

websocket_upgrade check_websocket_upgrade(const http_message& m, std::span<const std::string> origins) noexcept {
  websocket_upgrade u;
  if (!has_token(m, "upgrade", "websocket")) {
    u.status = 426;
    u.error = "this endpoint speaks WebSocket only (Upgrade: websocket)";
  } else if (m.method != http_method::get || m.version_major != 1 || m.version_minor < 1) {
    u.status = 400;
    u.error = "a WebSocket handshake is a GET of HTTP/1.1";
  } else if (!has_token(m, "connection", "upgrade")) {
    u.status = 400;
    u.error = "a WebSocket handshake needs Connection: Upgrade";
  } else if (trim(header(m, "sec-websocket-version")) != "13") {
    u.status = 426;
    u.error = "unsupported WebSocket version (13 is)";
  } else if (u.key = trim(header(m, "sec-websocket-key")); !valid_key(u.key)) {
    u.status = 400;
    u.error = "a WebSocket handshake needs a Sec-WebSocket-Key of 16 bytes in base64";
  } else if (!origin_allowed(m, trim(header(m, "origin")), origins)) {
    u.status = 403;
    u.error = "WebSocket from a page of another origin (see http_options::websocket_origins)";
  }
  return u;
}

std::string websocket_accept(std::string_view key) {
  std::string text(key);
  text += accept_guid;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha1(), nullptr) != 1)
    throw std::bad_alloc();  // only fails when OpenSSL cannot allocate
  std::string out;
  append_base64(digest, size, out);
  return out;
}

void append_websocket_switch(std::string_view key, output_buffer& out) {
  out += "HTTP/1.1 101 Switching Protocols\r\nServer: coronet\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: ";
  out += websocket_accept(key);
  out += "\r\n\r\n";
}

void append_websocket_refusal(const websocket_upgrade& u, output_buffer& out) {
  std::string body = "{\"error\":";
  append_json_quoted(std::string("ERR ") + std::string(u.error), body);
  body += '}';
  http_head h;
  h.status = u.status;
  h.content_length = body.size();
  h.connection = http_connection::close;
  append_http_head(h, out);
  if (u.status == 426) {
    // The head's last CRLF goes after the headers a 426 must carry (RFC 9110, 15.5.22).
    out.resize(out.size() - 2);
    out += "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n";
  }
  out += body;
}

}  // namespace coronet::detail
