#include "status_page.hpp"

#include <charconv>
#include <chrono>
#include <cstdint>

#include "coronet/framework/server.hpp"
#include "coronet/version.hpp"

namespace coronet::detail {
namespace {

void append_uint(std::string& out, std::uint64_t n) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

template <class Rep, class Period>
void append_ms(std::string& out, std::chrono::duration<Rep, Period> d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  append_uint(out, ms > 0 ? static_cast<std::uint64_t>(ms) : 0);
}

// `"key":` after a comma unless it opens its object.
void append_key(std::string& out, std::string_view key) {
  if (out.back() != '{')
    out += ',';
  out += '"';
  out += key;
  out += "\":";
}

void append_field(std::string& out, std::string_view key, std::uint64_t value) {
  append_key(out, key);
  append_uint(out, value);
}

void append_field(std::string& out, std::string_view key, std::string_view value) {
  append_key(out, key);
  append_json_string(out, value);
}

// The length of the UTF-8 sequence at `s[i]`, or 0 if it is not a valid one
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
std::size_t utf8_length(std::string_view s, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) {
    return static_cast<unsigned char>(s[k]);
  };
  const unsigned char b0 = byte(i);
  std::size_t n;
  unsigned char lo = 0x80;
  unsigned char hi = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    n = 2;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    n = 3;
    if (b0 == 0xe0)
      lo = 0xa0;
    else if (b0 == 0xed)
      hi = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    n = 4;
    if (b0 == 0xf0)
      lo = 0x90;
    else if (b0 == 0xf4)
      hi = 0x8f;
  } else {
    return 0;
  }
  if (s.size() - i < n)
    return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi)
    return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf)
      return 0;
  return n;
}

void append_limits(std::string& out, const server_options& o) {
  out += ",\"limits\":{";
  append_field(out, "max_connections", o.max_connections);
  append_field(out, "max_request_bytes", o.max_request_bytes);
  append_field(out, "max_bulk_bytes", o.max_bulk_bytes);
  append_field(out, "max_args", o.max_args);
  append_field(out, "max_output_bytes", o.max_output_bytes);
  append_key(out, "idle_timeout_ms");
  append_ms(out, o.idle_timeout);
  append_key(out, "partial_request_timeout_ms");
  append_ms(out, o.partial_request_timeout);
  append_key(out, "request_timeout_ms");
  append_ms(out, o.request_timeout);
  append_key(out, "output_stall_timeout_ms");
  append_ms(out, o.output_stall_timeout);
  append_key(out, "drain_timeout_ms");
  append_ms(out, o.drain_timeout);
  append_key(out, "tcp_keepalive_ms");
  append_ms(out, o.tcp_keepalive);
  append_key(out, "handshake_timeout_ms");
  append_ms(out, o.handshake_timeout);
  append_field(out, "http_max_request_line_bytes", o.http.max_request_line);
  append_field(out, "http_max_header_bytes", o.http.max_header_bytes);
  append_field(out, "http_max_header_fields", o.http.max_header_fields);
  append_field(out, "http_max_body_bytes", o.http.max_body_bytes);
  append_key(out, "http_header_timeout_ms");
  append_ms(out, o.http.header_timeout);
  append_key(out, "http_idle_timeout_ms");
  append_ms(out, o.http.idle_timeout);
  out += '}';
}

}  // namespace

void append_json_string(std::string& out, std::string_view value) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < value.size();) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c >= 0x80) {
      const std::size_t n = utf8_length(value, i);
      if (n != 0) {
        out.append(value.substr(i, n));
        i += n;
        continue;
      }
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c >= 0x80) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

void append_stats_json(const coronet::server& s, std::string& out) {
  const server_stats stats = s.stats();
  const server_metrics metrics = s.metrics();
  const server_options& o = s.options();
  out += '{';
  append_field(out, "server", "coronet");
  append_field(out, "version", version_string);
  append_key(out, "uptime_ms");
  append_ms(out, stats.uptime);
  append_field(out, "threads", o.threads);

  out += ",\"listeners\":[";
  for (std::size_t i = 0; i < s.listener_count(); ++i) {
    const listener_config& l = s.listener(i);
    if (out.back() != '[')
      out += ',';
    out += '{';
    append_field(out, "host", l.host);
    append_field(out, "port", l.port);
    append_field(out, "protocol", to_string(l.protocol));
    out += '}';
  }
  out += ']';

  out += ",\"connections\":{";
  append_field(out, "now", stats.connections_now);
  append_field(out, "total", stats.connections_total);
  append_field(out, "rejected", stats.connections_rejected);
  out += ",\"protocols\":[";
  for (const protocol_connections& p : metrics.connections) {
    if (out.back() != '[')
      out += ',';
    out += '{';
    append_field(out, "protocol", to_string(p.protocol));
    append_field(out, "now", p.now);
    append_field(out, "total", p.total);
    out += '}';
  }
  out += "]}";

  out += ",\"requests\":{";
  append_field(out, "total", stats.requests);
  append_field(out, "errors", stats.errors);
  append_field(out, "unknown_commands", metrics.unknown_commands);
  out += ",\"per_second\":[";
  for (std::size_t i = 0; i < metrics.requests_per_second.size(); ++i) {
    if (i != 0)
      out += ',';
    append_uint(out, metrics.requests_per_second[i]);
  }
  out += "]}";

  out += ",\"bytes\":{";
  append_field(out, "in", stats.bytes_in);
  append_field(out, "out", stats.bytes_out);
  out += '}';

  out += ",\"commands\":[";
  for (const command_metrics& c : metrics.commands) {
    if (out.back() != '[')
      out += ',';
    out += '{';
    append_field(out, "name", c.name);
    append_field(out, "calls", c.calls);
    append_field(out, "errors", c.errors);
    append_field(out, "p50_ns", static_cast<std::uint64_t>(c.p50().count()));
    append_field(out, "p99_ns", static_cast<std::uint64_t>(c.p99().count()));
    out += '}';
  }
  out += ']';

  append_limits(out, o);
  out += '}';
}

}  // namespace coronet::detail
