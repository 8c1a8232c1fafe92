// The Pub/Sub sink of a RESP session: messages go into the session's own writer, as RESP2
// arrays or RESP3 pushes (the connection's version when they are delivered), and are written
// once per delivery batch.
#pragma once

#include <chrono>
#include <string>

#include "server/pubsub/pubsub_client.hpp"
#include "server/session.hpp"

namespace coronet::detail {

template <class Writer>
class resp_subscriber final : public pubsub_client {
public:
  resp_subscriber(session& s, Writer& io)
      : pubsub_client(*s.worker.pubsub, s.worker.index, s.rt.ctx, s.conn, s.worker.opts.pubsub_output_limit),
        session_(s),
        io_(io) {}
  ~resp_subscriber() = default;

  void deliver(const pubsub_delivery& d) override {
    if (cut_off_)
      return;
    std::string& out = io_.pending();
    out += conn_.protover >= 3 ? '>' : '*';
    out.append(d.resp_frame.substr(1));
  }

  void flush() noexcept override {
    if (cut_off_)
      return;
    io_.flush();
    if (over_output_limit(io_.buffered()))
      session_.close();
  }

private:
  // As in Redis, idle_timeout does not close a subscribed connection: it waits for messages.
  void subscribed(bool on) noexcept override {
    connection_core& core = session_.core;
    if (on) {
      idle_timeout_ = core.idle_timeout_;
      core.idle_timeout_ = std::chrono::milliseconds(0);
    } else {
      core.idle_timeout_ = idle_timeout_;
      core.last_active_ = session_.rt.now;
    }
  }

  session& session_;
  Writer& io_;
  std::chrono::milliseconds idle_timeout_{0};
};

}  // namespace coronet::detail
