#include "server/metrics_text.hpp"

#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <system_error>

#include "coronet/core/version.hpp"

namespace coronet::detail {
namespace {

void append_uint(std::uint64_t n, std::string& out) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

void append_double(double d, std::string& out) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, d);
  out.append(buf, r.ptr);
}

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  append_escaped(help, false, out);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

// One label set: `{a="x",b="y"}`, values escaped.
struct labels {
  std::array<std::string_view, 4> names{};
  std::array<std::string_view, 4> values{};
  std::size_t count = 0;

  labels& add(std::string_view n, std::string_view v) {
    names[count] = n;
    values[count] = v;
    ++count;
    return *this;
  }
};

void sample_name(std::string& out, std::string_view name, std::string_view suffix, const labels& l,
                 std::string_view le = {}) {
  out += name;
  out += suffix;
  if (l.count == 0 && le.empty())
    return;
  out += '{';
  for (std::size_t i = 0; i < l.count; ++i) {
    if (i != 0)
      out += ',';
    out += l.names[i];
    out += "=\"";
    append_escaped(l.values[i], true, out);
    out += '"';
  }
  if (!le.empty()) {
    if (l.count != 0)
      out += ',';
    out += "le=\"";
    out += le;
    out += '"';
  }
  out += '}';
}

void sample(std::string& out, std::string_view name, std::uint64_t value, const labels& l = {}) {
  sample_name(out, name, {}, l);
  out += ' ';
  append_uint(value, out);
  out += '\n';
}

// A family with one unlabelled sample.
void single(std::string& out, std::string_view name, std::string_view type, std::string_view help,
            std::uint64_t value) {
  family(out, name, type, help);
  sample(out, name, value);
}

// The histogram's upper bounds: 1 µs to 10 s in 1-2.5-5 steps, as text and in nanoseconds.
struct bound {
  std::string_view le;
  std::uint64_t ns;
};
constexpr std::array<bound, 22> latency_bounds{{
    {"1e-06", 1'000},          {"2.5e-06", 2'500},        {"5e-06", 5'000},
    {"1e-05", 10'000},         {"2.5e-05", 25'000},       {"5e-05", 50'000},
    {"0.0001", 100'000},       {"0.00025", 250'000},      {"0.0005", 500'000},
    {"0.001", 1'000'000},      {"0.0025", 2'500'000},     {"0.005", 5'000'000},
    {"0.01", 10'000'000},      {"0.025", 25'000'000},     {"0.05", 50'000'000},
    {"0.1", 100'000'000},      {"0.25", 250'000'000},     {"0.5", 500'000'000},
    {"1", 1'000'000'000},      {"2.5", 2'500'000'000},    {"5", 5'000'000'000},
    {"10", 10'000'000'000},
}};

// A command's latency histogram. A bucket of the server's finer histogram counts in `le`
// once all of it is at most `le` (so a count may show in the next bound up, within the
// 12.5% precision of those buckets); the sum is estimated from their midpoints.
void histogram(std::string& out, std::string_view name, const labels& l, const latency_histogram& h) {
  std::uint64_t cumulative = 0;
  double sum_ns = 0;
  std::size_t i = 0;
  for (const bound& b : latency_bounds) {
    for (; i < latency_histogram::bucket_count && latency_histogram::upper_bound(i) <= b.ns; ++i) {
      cumulative += h.counts[i];
      sum_ns += static_cast<double>(h.counts[i]) *
                (static_cast<double>(latency_histogram::lower_bound(i)) +
                 static_cast<double>(latency_histogram::upper_bound(i))) / 2;
    }
    sample_name(out, name, "_bucket", l, b.le);
    out += ' ';
    append_uint(cumulative, out);
    out += '\n';
  }
  for (; i < latency_histogram::bucket_count; ++i) {
    cumulative += h.counts[i];
    sum_ns += static_cast<double>(h.counts[i]) *
              (static_cast<double>(latency_histogram::lower_bound(i)) +
               static_cast<double>(latency_histogram::upper_bound(i))) / 2;
  }
  sample_name(out, name, "_bucket", l, "+Inf");
  out += ' ';
  append_uint(cumulative, out);
  out += '\n';
  sample_name(out, name, "_sum", l);
  out += ' ';
  append_double(sum_ns / 1e9, out);
  out += '\n';
  sample_name(out, name, "_count", l);
  out += ' ';
  append_uint(cumulative, out);
  out += '\n';
}

}  // namespace

void append_escaped(std::string_view text, bool label_value, std::string& out) {
  for (const char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '"' && label_value)
      out += "\\\"";
    else
      out += c;
  }
}

void respond_metrics(const server& s, http_head& head, std::string& body) {
  body.clear();
  append_metrics_text(snapshot_metrics(s), body);
  head.content_type = metrics_content_type;
  head.no_store = true;
}

metrics_snapshot snapshot_metrics(const server& s) {
  metrics_snapshot m;
  m.stats = s.stats();
  m.metrics = s.metrics();
  for (std::size_t i = 0; i < s.listener_count(); ++i)
    m.listeners.push_back(s.listener(i));
  m.threads = s.options().threads;
  return m;
}

void append_metrics_text(const metrics_snapshot& m, std::string& out) {
  const server_stats& st = m.stats;
  family(out, "coronet_build_info", "gauge", "Always 1; the version of coronet serving.");
  sample(out, "coronet_build_info", 1, labels{}.add("version", version_string));
  single(out, "coronet_uptime_seconds", "gauge", "Seconds since the server was constructed.",
         static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(st.uptime).count()));
  single(out, "coronet_threads", "gauge", "Worker threads.", m.threads);

  single(out, "coronet_connections_open", "gauge", "Connections open now.", st.connections_now);
  single(out, "coronet_connections_total", "counter", "Connections accepted, rejected ones included.",
         st.connections_total);
  single(out, "coronet_connections_rejected_total", "counter",
         "Connections refused because max_connections was reached.", st.connections_rejected);
  single(out, "coronet_handshakes_timed_out_total", "counter",
         "Connections closed because their TLS or PROXY handshake passed handshake_timeout.",
         st.handshakes_timed_out);
  single(out, "coronet_proxy_header_errors_total", "counter", "Connections closed over their PROXY header.",
         st.proxy_header_errors);
  single(out, "coronet_proxy_health_checks_total", "counter",
         "Connections a trusted proxy opened with a PROXY v2 LOCAL header (its health checks).",
         st.proxy_health_checks);
  single(out, "coronet_security_attacks_total", "counter",
         "Connections closed without a reply for sending HTTP to a command port.", st.security_attacks);
  single(out, "coronet_pubsub_backplane_dropped_total", "counter",
         "Publishes not shared with other instances through the Pub/Sub backplane.", st.pubsub_backplane_dropped);

  family(out, "coronet_protocol_connections_open", "gauge", "Connections open now, by protocol.");
  for (const protocol_connections& p : m.metrics.connections)
    sample(out, "coronet_protocol_connections_open", p.now, labels{}.add("protocol", to_string(p.protocol)));
  family(out, "coronet_protocol_connections_total", "counter", "Connections served, by protocol.");
  for (const protocol_connections& p : m.metrics.connections)
    sample(out, "coronet_protocol_connections_total", p.total, labels{}.add("protocol", to_string(p.protocol)));

  single(out, "coronet_requests_total", "counter", "Requests handled, over every protocol.", st.requests);
  single(out, "coronet_errors_total", "counter",
         "Error replies, protocol errors, rejected connections and connections closed as errors.", st.errors);
  single(out, "coronet_unknown_commands_total", "counter", "Requests naming no registered command.",
         m.metrics.unknown_commands);
  single(out, "coronet_received_bytes_total", "counter", "Bytes read from peers (plaintext for TLS).", st.bytes_in);
  single(out, "coronet_sent_bytes_total", "counter", "Bytes taken by the kernel (plaintext for TLS).", st.bytes_out);

  family(out, "coronet_command_calls_total", "counter", "Calls of each command, whatever their outcome.");
  for (const command_metrics& c : m.metrics.commands)
    sample(out, "coronet_command_calls_total", c.calls, labels{}.add("command", c.name));
  family(out, "coronet_command_errors_total", "counter", "Calls of each command answered with an error.");
  for (const command_metrics& c : m.metrics.commands)
    sample(out, "coronet_command_errors_total", c.errors, labels{}.add("command", c.name));
  family(out, "coronet_command_duration_seconds", "histogram",
         "Time from routing a call to its reply being ready, by command, of the calls timed (each "
         "command's first per worker, then one in latency_sample_every; calls_total counts them all).");
  for (const command_metrics& c : m.metrics.commands)
    histogram(out, "coronet_command_duration_seconds", labels{}.add("command", c.name), c.latency);

  single(out, "coronet_draining", "gauge", "1 once the server began draining (stop or a signal).",
         st.draining ? 1 : 0);
  single(out, "coronet_maintenance", "gauge", "1 while in maintenance (the agent check answers maint).",
         st.maintenance ? 1 : 0);
  family(out, "coronet_listener_up", "gauge", "1 while the listener accepts connections, 0 once draining.");
  for (const listener_config& l : m.listeners) {
    char port[8];
    const auto r = std::to_chars(port, port + sizeof port, l.port);
    sample(out, "coronet_listener_up", st.draining ? 0 : 1,
           labels{}
               .add("host", l.host)
               .add("port", std::string_view(port, static_cast<std::size_t>(r.ptr - port)))
               .add("protocol", to_string(l.protocol))
               .add("tls", l.tls ? "true" : "false"));
  }
}

}  // namespace coronet::detail
