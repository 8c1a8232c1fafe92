// A server's metrics in the Prometheus text exposition format, version 0.0.4: what
// `GET /metrics` on an HTTP listener answers, so that Prometheus scrapes the server itself
// (as HAProxy's built-in exporter), with no exporter beside it. The metrics are listed in
// docs/status.md.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "coronet/server/server.hpp"
#include "coronet/server/server_metrics.hpp"
#include "protocol/http/http_codec.hpp"

namespace coronet::detail {

// The Content-Type of the format.
inline constexpr std::string_view metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

// What the text is made of, taken at one moment.
struct metrics_snapshot {
  server_stats stats;
  server_metrics metrics;
  std::vector<listener_config> listeners;
  unsigned threads = 1;
};

// Takes a snapshot of `s` (thread-safe, as server::stats() and server::metrics()).
metrics_snapshot snapshot_metrics(const server& s);

// Appends the exposition of `m` to `out`: `# HELP` and `# TYPE` for every family, label
// values escaped, each command's latency as a histogram whose buckets are cumulative and
// whose `+Inf` bucket equals its `_count`. Throws std::bad_alloc.
void append_metrics_text(const metrics_snapshot& m, std::string& out);

// Fills `head` and `body` with the response to `GET /metrics` for `s`.
void respond_metrics(const server& s, http_head& head, std::string& body);

// Appends `value` as a label value, escaped (backslash, double quote, line feed).
void append_label_value(std::string_view value, std::string& out);

}  // namespace coronet::detail
