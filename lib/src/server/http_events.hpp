// GET /events, the status page's stream: the stats as a Server-Sent Event every
// second, over any writer (TCP or TLS alike).
#pragma once

#include <chrono>
#include <string>
#include <system_error>

#include "coronet/core/error.hpp"
#include "coronet/core/task.hpp"
#include "coronet/net/timeout.hpp"
#include "protocol/http/http_codec.hpp"
#include "server/session.hpp"
#include "server/status_page.hpp"

namespace coronet::detail {

// GET /events: a server-sent event with the stats now and then every second,
// until the peer closes or the server drains. The response has no length: it
// ends with the connection.
template <class Writer>
task<void> serve_events(session& s, Writer& io, std::string& body) {
  server_worker& w = s.worker;
  append_event_stream_head(io.pending());
  char discard[512];
  for (;;) {
    body.clear();
    append_stats_json(w.srv, body);
    output_buffer& out = io.pending();
    out += "data: ";
    out += body;
    out += "\n\n";
    io.flush();
    if (io.failed())
      co_return;
    s.core.last_active_ = s.rt.now;
    // Waiting for the next second, the peer's close ends the response (what
    // it sends meanwhile is dropped), and so does the drain (its shutdown of
    // the read side ends the read).
    const auto next = steady::now() + std::chrono::seconds(1);
    for (;;) {
      if (s.rt.draining)
        co_return;
      const auto left = next - steady::now();
      if (left <= steady::duration::zero())
        break;
      s.enter(session::phase::reading);
      std::error_code ec;
      (void)co_await with_timeout(io.stream().read_some(asio::buffer(discard), ec), left);
      if (ec == errc::timeout)
        break;  // the second is over
      if (ec)
        co_return;  // end of stream, reset, or the close of a forced stop
    }
  }
}

}  // namespace coronet::detail
