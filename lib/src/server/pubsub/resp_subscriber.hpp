// The Pub/Sub sink of a RESP session: messages go into the session's own writer, as RESP2
// arrays or RESP3 pushes (the connection's version when they are delivered), and are written
// once per delivery batch.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "coronet/server/stream_connection.hpp"
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
    output_buffer& out = this->io_.pending();
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

// A RESP session's subscriber, made when the connection first subscribes
// (connection::pubsub_state): until then, a pointer. It writes to the session's connection,
// a stream_connection<Stream> (found through the session, not kept: an idle connection's
// frame holds this object).
template <class Stream>
class lazy_resp_subscriber {
public:
  lazy_resp_subscriber(session& s, bool offered) noexcept : s_(s) {
    if (offered) {
      s.conn.make_pubsub = &make;
      s.conn.make_pubsub_context = this;
    }
  }
  lazy_resp_subscriber(const lazy_resp_subscriber&) = delete;
  lazy_resp_subscriber& operator=(const lazy_resp_subscriber&) = delete;
  ~lazy_resp_subscriber() {
    if (s_.conn.make_pubsub_context == this) {
      s_.conn.make_pubsub = nullptr;
      s_.conn.make_pubsub_context = nullptr;
    }
  }

  void drop_all() noexcept {
    if (made_)
      made_->drop_all();
  }

private:
  using writer = background_writer<Stream>;

  static pubsub_client* make(void* self) {
    auto& lazy = *static_cast<lazy_resp_subscriber*>(self);
    if (!lazy.made_)
      lazy.made_ = std::make_unique<resp_subscriber<writer>>(
          lazy.s_, static_cast<stream_connection<Stream>&>(lazy.s_.core).output());
    return lazy.made_.get();
  }

  session& s_;
  std::unique_ptr<resp_subscriber<writer>> made_;
};

}  // namespace coronet::detail
