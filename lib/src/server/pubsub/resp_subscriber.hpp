// The Pub/Sub sink of a RESP session: messages go into the session's own writer, as RESP2
// arrays or RESP3 pushes (the connection's version when they are delivered), and are written
// once per delivery batch.
#pragma once

#include <chrono>
#include <string>

#include "server/pubsub/session_subscriber.hpp"

namespace coronet::detail {

template <class Writer>
class resp_subscriber final : public session_subscriber<Writer> {
  using base = session_subscriber<Writer>;

public:
  resp_subscriber(session& s, Writer& io) : base(s, io) {}
  ~resp_subscriber() = default;

  void deliver(const pubsub_delivery& d) override {
    if (this->cut_off_)
      return;
    std::string& out = this->io_.pending();
    out += this->conn_.protover >= 3 ? '>' : '*';
    out.append(d.resp_frame.substr(1));
  }

private:
  // As in Redis, idle_timeout does not close a subscribed connection: it waits for messages.
  void subscribed(bool on) noexcept override {
    connection_core& core = this->session_.core;
    if (on) {
      idle_timeout_ = core.idle_timeout_;
      core.idle_timeout_ = std::chrono::milliseconds(0);
    } else {
      core.idle_timeout_ = idle_timeout_;
      core.last_active_ = this->session_.rt.now;
    }
  }

  std::chrono::milliseconds idle_timeout_{0};
};

}  // namespace coronet::detail
