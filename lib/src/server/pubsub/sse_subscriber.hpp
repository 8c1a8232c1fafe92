// GET /subscribe/<channel>: a channel's messages as Server-Sent Events, one `data:` event per
// message, until the peer leaves, the server drains, or the peer falls behind by more than
// pubsub_output_limit. Over any writer (TCP or TLS alike).
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <system_error>

#include <asio/buffer.hpp>

#include "coronet/core/task.hpp"
#include "protocol/http/http_codec.hpp"
#include "server/pubsub/session_subscriber.hpp"

namespace coronet::detail {

// Appends `payload` as one event: a `data:` field per line (CR LF, LF or CR end a line).
inline void append_sse_event(std::string_view payload, output_buffer& out) {
  for (;;) {
    const std::size_t end = payload.find_first_of("\r\n");
    out += "data: ";
    out += payload.substr(0, end);
    out += '\n';
    if (end == std::string_view::npos)
      break;
    payload.remove_prefix(payload[end] == '\r' && end + 1 < payload.size() && payload[end + 1] == '\n' ? end + 2
                                                                                                       : end + 1);
  }
  out += '\n';
}

// The sink of one event stream: its messages go into the connection's writer.
template <class Writer>
class sse_subscriber final : public session_subscriber<Writer> {
public:
  sse_subscriber(session& s, Writer& io) : session_subscriber<Writer>(s, io) {}
  ~sse_subscriber() = default;

  void deliver(const pubsub_delivery& d) override {
    if (!this->cut_off_)
      append_sse_event(d.payload, this->io_.pending());
  }
};

// Streams `channel`'s messages: the head, then an event per message. The response has no
// length and ends with the connection; what the peer sends meanwhile is dropped.
template <class Writer>
task<void> serve_subscribe(session& s, Writer& io, std::string_view channel) {
  append_event_stream_head(io.pending());
  sse_subscriber<Writer> subscriber(s, io);
  {
    output_buffer confirmation;  // RESP's, which an event stream does not carry
    const std::array<std::string_view, 1> channels{channel};
    subscriber.subscribe(channels, confirmation);
  }
  io.flush();
  // Waiting for messages is not idleness; the drain ends the read (end of stream).
  s.enter(session::phase::streaming);
  char discard[512];
  // A drain that began while the request was being answered found it busy: see it here.
  while (!s.rt.draining) {
    std::error_code ec;
    (void)co_await io.stream().read_some(asio::buffer(discard), ec);
    if (ec)
      break;  // the peer left, the drain, or the close of a forced stop or of the output limit
  }
  subscriber.drop_all();
}

}  // namespace coronet::detail
