#include "server/http_dispatch.hpp"

#include <array>
#include <cstdint>

#include "coronet/core/log.hpp"
#include "protocol/detail/decimal.hpp"

namespace coronet::detail {
namespace {

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
  if (s.size() < prefix.size())
    return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (lower(s[i]) != lower(prefix[i]))
      return false;
  return true;
}

bool iequals(std::string_view a, std::string_view b) noexcept { return a.size() == b.size() && istarts_with(a, b); }

// Base64's alphabet (RFC 4648, 4): each byte's value, or -1.
constexpr std::array<signed char, 256> base64_values = [] {
  std::array<signed char, 256> t{};
  t.fill(-1);
  constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < alphabet.size(); ++i)
    t[static_cast<unsigned char>(alphabet[i])] = static_cast<signed char>(i);
  return t;
}();

// Decodes standard base64 (padding optional) into `out`; false if malformed.
bool base64_decode(std::string_view in, std::string& out) {
  while (!in.empty() && in.back() == '=')
    in.remove_suffix(1);
  // Written in place: a capacity kept from request to request allocates nothing.
  out.resize(in.size() * 3 / 4 + 1);
  char* o = out.data();
  std::uint32_t bits = 0;
  int held = 0;
  for (const char c : in) {
    const int v = base64_values[static_cast<unsigned char>(c)];
    if (v < 0)
      return false;
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    held += 6;
    if (held >= 8) {
      held -= 8;
      *o++ = static_cast<char>((bits >> held) & 0xff);
    }
  }
  out.resize(static_cast<std::size_t>(o - out.data()));
  return held < 6;
}

// Every byte of the attempt is compared with some byte of the secret, so the
// time taken depends on the attempt's length only.
bool same_secret(std::string_view secret, std::string_view attempt) noexcept {
  unsigned difference = secret.size() == attempt.size() ? 0u : 1u;
  for (std::size_t i = 0; i < attempt.size(); ++i) {
    const auto s = secret.empty() ? 0u : static_cast<unsigned char>(secret[i % secret.size()]);
    difference |= s ^ static_cast<unsigned char>(attempt[i]);
  }
  return difference == 0;
}

// Headers the server writes itself.
bool reserved_header(std::string_view name) noexcept {
  for (std::string_view r : {"content-length", "content-type", "transfer-encoding", "connection", "date", "server"})
    if (iequals(name, r))
      return true;
  return false;
}

bool valid_header(const http_response_header& h) noexcept {
  if (h.name.empty())
    return false;
  for (char c : h.name)
    if (!is_token_char(c))
      return false;
  return h.value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
}

void append_status_line(int status, output_buffer& out) {
  out += "HTTP/1.1 ";
  append_decimal(out, status);
  out += ' ';
  out += http_reason(status);
  out += "\r\nServer: coronet\r\nDate: ";
  out += http_date();
  out += "\r\n";
}

void append_connection(http_connection c, output_buffer& out) {
  switch (c) {
    case http_connection::keep_alive: break;
    case http_connection::keep_alive_1_0: out += "Connection: keep-alive\r\n"; break;
    case http_connection::close: out += "Connection: close\r\n"; break;
  }
}

// Whether any route of `table` may match `path`: a table of literal patterns
// (the built-in one) is ruled out by comparing strings, before any matching.
bool may_match(const http_routes& table, const http_path& path) noexcept {
  if (path.escaped)
    return true;
  for (const http_route& r : table.routes())
    if (!r.literal_only || r.pattern == path.decoded)
      return true;
  return false;
}

}  // namespace

const http_routes& builtin_http_routes() {
  static const http_routes table = [] {
    http_routes t;
    t.add_builtin("GET", "/", builtin_status_page);
    t.add_builtin("GET", "/stats.json", builtin_stats_json);
    t.add_builtin("GET", "/events", builtin_events);
    t.add_builtin("GET", "/healthz", builtin_healthz);
    t.add_builtin("GET", "/metrics", builtin_metrics);
    t.add_builtin("GET", "/ws", builtin_websocket);
    t.add_builtin("GET", "/subscribe/{channel}", builtin_subscribe);
    return t;
  }();
  return table;
}

http_destination route_request(const http_message& m, const http_routes* user, bool commands, http_route_state& state) {
  using kind = http_destination::kind;
  std::string_view path;
  std::string_view query;
  if (!split_target(std::string_view(m.target.data(), m.target.size()), path, query) || !split_path(path, state.path))
    return {kind::bad_target, nullptr};
  state.raw_query = query;
  bool known = false;
  const http_routes* tables[] = {user, &state.builtins};
  for (const http_routes* table : tables) {
    if (table == nullptr || !may_match(*table, state.path))
      continue;
    const http_match found = match_route(table->routes(), m.method_name, state.path, state.params);
    if (found.route != nullptr) {
      if (found.route->builtin == 0 && !decode_query(query, state.query_text, state.query))
        return {kind::bad_query, nullptr};
      return {kind::route, found.route};
    }
    known = known || found.path_known;
  }
  if (known) {
    state.allow.clear();
    for (const http_routes* table : tables) {
      if (table == nullptr)
        continue;
      const std::string more = allowed_methods(table->routes(), state.path);
      if (!more.empty() && !state.allow.empty())
        state.allow += ", ";
      state.allow += more;
    }
    return {kind::method_not_allowed, nullptr};
  }
  return {commands ? kind::commands : kind::not_found, nullptr};
}

http_credentials request_credentials(const http_message& m, std::string& scratch) {
  http_credentials c;
  for (const http_field& f : m.headers) {
    if (!iequals(f.name, "authorization"))
      continue;
    std::string_view v = f.value;
    if (istarts_with(v, "bearer ")) {
      c.present = true;
      c.password = v.substr(7);
    } else if (istarts_with(v, "basic ")) {
      v.remove_prefix(6);
      while (!v.empty() && v.front() == ' ')
        v.remove_prefix(1);
      c.present = true;
      std::string_view pair;
      if (base64_decode(v, scratch))
        pair = scratch;
      const std::size_t colon = pair.find(':');
      // Redis's ACL has one user here, `default`: any other name is a wrong credential.
      c.right_user = colon != std::string_view::npos && same_secret("default", pair.substr(0, colon));
      c.password = colon == std::string_view::npos ? std::string_view{} : pair.substr(colon + 1);
    }
    break;
  }
  return c;
}

bool is_auth_command(std::string_view name) noexcept { return iequals(name, "auth"); }

bool check_credentials(connection& conn, const http_credentials& c, const router& routes) {
  // Both compared in full, whatever the user's name says.
  const bool right_pass = same_secret(conn.password, c.password);
  if (c.right_user && right_pass)
    return true;
  routes.count_auth_failure();
  ++conn.auth_failures;
  if (conn.throttle == nullptr)
    return false;
  const auth_throttle::failure f = conn.throttle->failed(conn.peer.address(), auth_throttle::clock::now());
  if (f.log) {
    std::string msg = "HTTP authentication failed from ";
    msg += conn.peer.address().to_string();
    if (f.unlogged > 1) {
      msg += " (";
      msg += std::to_string(f.unlogged);
      msg += " failures from this address since its last such line)";
    }
    coronet::log(log_level::warning, msg);
  }
  const unsigned budget = conn.throttle->options().max_failures_per_connection;
  if (budget != 0 && conn.auth_failures >= budget)
    conn.close_after_reply();
  return false;
}

bool append_route_head(const http_response& r, http_connection connection, http_framing framing,
                       std::size_t length, output_buffer& out) {
  if (r.status < 200 || r.status > 599)
    return false;
  for (const http_response_header& h : r.headers)
    if (!valid_header(h))
      return false;
  if (r.content_type.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
    return false;
  append_status_line(r.status, out);
  if (!no_content(r.status)) {
    out += "Content-Type: ";
    out += r.content_type;
    switch (framing) {
      case http_framing::length:
        out += "\r\nContent-Length: ";
        append_decimal(out, static_cast<std::int64_t>(length));
        break;
      case http_framing::chunked: out += "\r\nTransfer-Encoding: chunked"; break;
      case http_framing::until_close: break;
    }
    out += "\r\n";
  }
  for (const http_response_header& h : r.headers) {
    if (reserved_header(h.name))
      continue;
    out += h.name;
    out += ": ";
    out += h.value;
    out += "\r\n";
  }
  append_connection(connection, out);
  out += "\r\n";
  return true;
}

bool append_route_response(const http_response& r, http_connection connection, bool head_only, output_buffer& out) {
  if (!append_route_head(r, connection, http_framing::length, r.body.size(), out))
    return false;
  if (!head_only && !no_content(r.status))
    out += r.body;
  return true;
}

void append_error_response(int status, std::string_view text, http_connection connection, std::string_view allow,
                           bool head_only, output_buffer& out) {
  std::string line = "ERR ";
  line += text;
  std::string body = "{\"error\":";
  append_json_quoted(line, body);
  body += '}';
  append_status_line(status, out);
  out += "Content-Type: application/json\r\nContent-Length: ";
  append_decimal(out, static_cast<std::int64_t>(body.size()));
  out += "\r\n";
  if (!allow.empty()) {
    out += "Allow: ";
    out += allow;
    out += "\r\n";
  }
  if (status == 401)
    out += "WWW-Authenticate: Basic realm=\"coronet\"\r\n";
  append_connection(connection, out);
  out += "\r\n";
  if (!head_only)
    out += body;
}

}  // namespace coronet::detail
