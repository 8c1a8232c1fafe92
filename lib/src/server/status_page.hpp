// The status page a server's HTTP listener serves at `/`, and the JSON it
// reads (`/stats.json`, and the data of each `/events` event). The format is
// documented in docs/status.md.
#pragma once

#include <string>
#include <string_view>

namespace coronet {
class server;
}  // namespace coronet

namespace coronet::detail {

// The whole page: one self-contained HTML document (inline CSS and script,
// no external resource), UTF-8. It reads `/events` (Server-Sent Events) and
// falls back to polling `/stats.json` once a second.
std::string_view status_page_html() noexcept;

// Appends the server's statistics as one JSON object on one line (no raw
// newline, so it fits an SSE `data:` line) to `out`. Thread-safe, as
// server::stats() and server::metrics(). Throws std::bad_alloc.
void append_stats_json(const coronet::server& s, std::string& out);

}  // namespace coronet::detail
