#include "command/http_probe.hpp"

#include <algorithm>
#include <string_view>

#include "coronet/command/connection.hpp"

namespace coronet::detail {
namespace {

// `a` with its ASCII letters lowered equals `lower`.
bool equals_lower(std::string_view a, std::string_view lower) noexcept {
  return std::equal(a.begin(), a.end(), lower.begin(), lower.end(),
                    [](char x, char y) { return (x >= 'A' && x <= 'Z' ? static_cast<char>(x | 0x20) : x) == y; });
}

// An HTTP method token (RFC 9110 section 9: letters; the registered ones are upper case).
bool is_method(std::string_view word) noexcept {
  if (word.empty() || word.size() > 16)
    return false;
  for (const char c : word)
    if (c < 'A' || c > 'Z')
      return false;
  return true;
}

}  // namespace

bool looks_like_http(const request& req) noexcept {
  if (equals_lower(req.name, "post") || equals_lower(req.name, "host:"))
    return true;
  return req.size() == 2 && is_method(req.name) && req.arg(1).starts_with("HTTP/");
}

void refuse_http_probe(const request& req) noexcept {
  connection* conn = req.conn;
  if (conn == nullptr || (conn->protocol != wire_protocol::resp && conn->protocol != wire_protocol::line))
    return;
  if (looks_like_http(req))
    conn->close_without_reply();
}

}  // namespace coronet::detail
