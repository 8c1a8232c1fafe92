#include "server/status_page.hpp"

#include <charconv>
#include <chrono>
#include <cstdint>

#include "coronet/core/version.hpp"
#include "coronet/server/server.hpp"
#include "protocol/http/http_codec.hpp"

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
  append_json_quoted(value, out);
}

template <class Rep, class Period>
void append_field(std::string& out, std::string_view key, std::chrono::duration<Rep, Period> d) {
  append_key(out, key);
  append_ms(out, d);
}

// `"key":[{...},...]`, object `i` (of `count`) holding what `fields(i)` appends.
template <class Fields>
void append_objects(std::string& out, std::string_view key, std::size_t count, Fields fields) {
  append_key(out, key);
  out += '[';
  for (std::size_t i = 0; i < count; ++i) {
    out += i == 0 ? "{" : ",{";
    fields(i);
    out += '}';
  }
  out += ']';
}

void append_limits(std::string& out, const server_options& o) {
  out += ",\"limits\":{";
  append_field(out, "max_connections", o.max_connections);
  append_field(out, "max_request_bytes", o.max_request_bytes);
  append_field(out, "max_bulk_bytes", o.max_bulk_bytes);
  append_field(out, "max_args", o.max_args);
  append_field(out, "max_output_bytes", o.max_output_bytes);
  append_field(out, "idle_timeout_ms", o.idle_timeout);
  append_field(out, "partial_request_timeout_ms", o.partial_request_timeout);
  append_field(out, "request_timeout_ms", o.request_timeout);
  append_field(out, "output_stall_timeout_ms", o.output_stall_timeout);
  append_field(out, "drain_timeout_ms", o.drain_timeout);
  append_field(out, "tcp_keepalive_ms", o.tcp_keepalive);
  append_field(out, "handshake_timeout_ms", o.handshake_timeout);
  append_field(out, "http_max_request_line_bytes", o.http.max_request_line);
  append_field(out, "http_max_header_bytes", o.http.max_header_bytes);
  append_field(out, "http_max_header_fields", o.http.max_header_fields);
  append_field(out, "http_max_body_bytes", o.http.max_body_bytes);
  append_field(out, "http_header_timeout_ms", o.http.header_timeout);
  append_field(out, "http_idle_timeout_ms", o.http.idle_timeout);
  out += '}';
}

}  // namespace

void append_stats_json(const coronet::server& s, std::string& out) {
  const server_stats stats = s.stats();
  const server_metrics metrics = s.metrics();
  const server_options& o = s.options();
  out += '{';
  append_field(out, "server", "coronet");
  append_field(out, "version", version_string);
  append_field(out, "uptime_ms", stats.uptime);
  append_field(out, "threads", o.threads);

  append_objects(out, "listeners", s.listener_count(), [&](std::size_t i) {
    const listener_config& l = s.listener(i);
    append_field(out, "host", l.host);
    append_field(out, "port", l.port);
    append_field(out, "protocol", to_string(l.protocol));
  });

  out += ",\"connections\":{";
  append_field(out, "now", stats.connections_now);
  append_field(out, "total", stats.connections_total);
  append_field(out, "rejected", stats.connections_rejected);
  append_objects(out, "protocols", metrics.connections.size(), [&](std::size_t i) {
    const protocol_connections& p = metrics.connections[i];
    append_field(out, "protocol", to_string(p.protocol));
    append_field(out, "now", p.now);
    append_field(out, "total", p.total);
  });
  out += '}';

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

  append_objects(out, "commands", metrics.commands.size(), [&](std::size_t i) {
    const command_metrics& c = metrics.commands[i];
    append_field(out, "name", c.name);
    append_field(out, "calls", c.calls);
    append_field(out, "errors", c.errors);
    append_field(out, "p50_ns", static_cast<std::uint64_t>(c.p50().count()));
    append_field(out, "p99_ns", static_cast<std::uint64_t>(c.p99().count()));
  });

  out += ",\"pubsub_backplane\":{";
  append_field(out, "state", to_string(stats.pubsub_backplane));
  append_field(out, "forwarded", stats.pubsub_backplane_forwarded);
  append_field(out, "received", stats.pubsub_backplane_received);
  append_field(out, "dropped", stats.pubsub_backplane_dropped);
  out += '}';

  append_limits(out, o);
  out += '}';
}

}  // namespace coronet::detail
