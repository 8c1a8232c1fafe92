// The Pub/Sub sink of a RESP session: messages go into the session's own writer, as RESP2
// arrays or RESP3 pushes (the connection's version when they are delivered), and are written
// once per delivery batch.
#pragma once

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
  session& session_;
  Writer& io_;
};

}  // namespace coronet::detail
