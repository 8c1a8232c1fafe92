// The base of every session's Pub/Sub sink (RESP, Server-Sent Events, WebSocket): deliver()
// appends a message to the session's writer in the protocol's framing, and flush() writes
// what a delivery batch appended, closing the connection once its unread output is over
// pubsub_output_limit.
#pragma once

#include "server/pubsub/pubsub_client.hpp"
#include "server/session.hpp"

namespace coronet::detail {

template <class Writer>
class session_subscriber : public pubsub_client {
public:
  void flush() noexcept override {
    if (cut_off_)
      return;
    before_flush();
    io_.flush();
    if (over_output_limit(io_.buffered()))
      session_.close();
  }

protected:
  session_subscriber(session& s, Writer& io)
      : pubsub_client(*s.worker.pubsub, s.worker.index, s.rt.ctx, s.conn, s.worker.opts.pubsub_output_limit),
        session_(s),
        io_(io) {}
  ~session_subscriber() = default;

  // What a protocol does before the batch is written (WebSocket: frame the queued messages).
  virtual void before_flush() noexcept {}

  session& session_;
  Writer& io_;
};

}  // namespace coronet::detail
