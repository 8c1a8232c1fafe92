#include "server/websocket_session.hpp"

#include <wslay/wslay.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <new>
#include <system_error>
#include <utility>
#include <vector>

#include "coronet/core/error.hpp"
#include "coronet/net/timeout.hpp"
#include "coronet/protocol/line/line_codec.hpp"
#include "protocol/detail/ascii_case.hpp"
#include "protocol/http/http_codec.hpp"
#include "server/pubsub/session_subscriber.hpp"
#include "server/session_batch.hpp"

namespace coronet::detail {
namespace {

// How long a close we sent waits for the peer's.
constexpr std::chrono::seconds close_wait{5};
// The most bytes one read takes from the socket (wslay keeps what a frame needs).
constexpr std::size_t read_chunk = 64 * 1024;
// The largest message of a connection that has not authenticated yet (AUTH and its
// password fit).
constexpr std::uint64_t unauthenticated_message = 4096;

// What wslay's callbacks reach: the session's input and output, and the text
// messages received, answered once wslay_event_recv has returned.
struct websocket_link {
  read_buffer& in;
  output_buffer& out;
  std::vector<std::string> messages;
  // A close is due (a protocol error, QUIT): later messages are not run.
  bool closing = false;
  // A protocol error's close, queued once the replies to the messages before it are.
  std::uint16_t close_code = 0;
  std::string_view close_reason;
};

ssize_t on_recv(wslay_event_context_ptr ctx, std::uint8_t* buf, std::size_t len, int, void* user) {
  auto& l = *static_cast<websocket_link*>(user);
  const std::size_t n = std::min(len, l.in.size());
  if (n == 0) {
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    return -1;
  }
  std::memcpy(buf, l.in.data().data(), n);
  l.in.consume(n);
  return static_cast<ssize_t>(n);
}

ssize_t on_send(wslay_event_context_ptr ctx, const std::uint8_t* data, std::size_t len, int, void* user) {
  try {
    static_cast<websocket_link*>(user)->out.append(reinterpret_cast<const char*>(data), len);
    return static_cast<ssize_t>(len);
  } catch (const std::bad_alloc&) {
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
  }
}

void queue_close(wslay_event_context_ptr ctx, std::uint16_t code, std::string_view reason) noexcept {
  (void)wslay_event_queue_close(ctx, code, reinterpret_cast<const std::uint8_t*>(reason.data()), reason.size());
}

void on_message(wslay_event_context_ptr, const wslay_event_on_msg_recv_arg* arg, void* user) {
  auto& l = *static_cast<websocket_link*>(user);
  if (l.closing || (arg->opcode != WSLAY_TEXT_FRAME && arg->opcode != WSLAY_BINARY_FRAME))
    return;  // ping, pong and close: wslay answers them
  const auto refuse = [&l](std::uint16_t code, std::string_view reason) {
    l.closing = true;
    l.close_code = code;
    l.close_reason = reason;
  };
  if (arg->opcode == WSLAY_BINARY_FRAME) {
    refuse(WSLAY_CODE_UNSUPPORTED_DATA, "binary messages are not supported");
    return;
  }
  const std::string_view text(reinterpret_cast<const char*>(arg->msg), arg->msg_length);
  if (!valid_utf8(text)) {  // wslay checks too; this keeps the rule whatever its version
    refuse(WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA, "a text message that is not UTF-8");
    return;
  }
  try {
    l.messages.emplace_back(text);
  } catch (const std::bad_alloc&) {
    refuse(WSLAY_CODE_INTERNAL_SERVER_ERROR, "out of memory");
  }
}

using context_ptr = std::unique_ptr<wslay_event_context, void (*)(wslay_event_context_ptr)>;

context_ptr make_context(websocket_link& link) {
  static constexpr wslay_event_callbacks callbacks{&on_recv, &on_send, nullptr, nullptr, nullptr, nullptr, &on_message};
  wslay_event_context_ptr ctx = nullptr;
  if (wslay_event_context_server_init(&ctx, &callbacks, &link) != 0)
    throw std::bad_alloc();
  return context_ptr(ctx, &wslay_event_context_free);
}

void queue_text(wslay_event_context_ptr ctx, std::string_view text) noexcept {
  const wslay_event_msg msg{WSLAY_TEXT_FRAME, reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
  (void)wslay_event_queue_msg(ctx, &msg);
}

// The Pub/Sub sink of a WebSocket connection: each message becomes a text message
// `{"message":{"channel":...,"data":...}}` (a pattern's: `{"pmessage":{"pattern":...,...}}`),
// queued in wslay and written once per delivery batch.
template <class Writer>
class websocket_subscriber final : public session_subscriber<Writer> {
public:
  websocket_subscriber(session& s, Writer& io, wslay_event_context_ptr ctx)
      : session_subscriber<Writer>(s, io), ctx_(ctx) {}
  ~websocket_subscriber() = default;

  void deliver(const pubsub_delivery& d) override {
    if (this->cut_off_)
      return;
    text_.clear();
    text_ += d.pattern_match ? "{\"pmessage\":{\"pattern\":" : "{\"message\":{";
    if (d.pattern_match) {
      append_json_quoted(d.pattern, text_);
      text_ += ',';
    }
    text_ += "\"channel\":";
    append_json_quoted(d.channel, text_);
    text_ += ",\"data\":";
    append_json_quoted(d.payload, text_);
    text_ += "}}";
    queue_text(ctx_, text_);
  }

  // SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE or PUNSUBSCRIBE `names` (`verb` in lower case): one
  // confirmation each, `{"<verb>":{"channel":...,"subscriptions":N}}` ("pattern" for the P
  // forms), appended to `replies`.
  void change(std::string_view verb, std::span<const std::string_view> names, std::vector<std::string>& replies) {
    const bool pattern = verb.front() == 'p';
    for (std::string_view name : names) {
      const std::array<std::string_view, 1> one{name};
      output_buffer resp;  // RESP's confirmation, which this protocol does not carry
      if (verb == "subscribe")
        this->subscribe(one, resp);
      else if (verb == "unsubscribe")
        this->unsubscribe(one, resp);
      else if (verb == "psubscribe")
        this->psubscribe(one, resp);
      else
        this->punsubscribe(one, resp);
      std::string& r = replies.emplace_back("{\"");
      r += verb;
      r += pattern ? "\":{\"pattern\":" : "\":{\"channel\":";
      append_json_quoted(name, r);
      r += ",\"subscriptions\":";
      r += std::to_string(this->subscriptions());
      r += "}}";
    }
  }

private:
  void before_flush() noexcept override { (void)wslay_event_send(ctx_); }

  wslay_event_context_ptr ctx_;
  std::string text_;
};

// The Pub/Sub verbs a WebSocket connection handles itself, in lower case; empty for others.
std::string_view subscription_verb(std::string_view word) noexcept {
  for (std::string_view verb : {"subscribe", "unsubscribe", "psubscribe", "punsubscribe"})
    if (ascii_iequals(word, verb))
      return verb;
  return {};
}

}  // namespace

template <class Writer>
task<void> serve_websocket(session& s, Writer& io, read_buffer& in) {
  server_worker& w = s.worker;
  websocket_link link{in, io.pending(), {}, false, 0, {}};
  const context_ptr ctx = make_context(link);
  std::vector<std::string_view> words;
  std::string body;
  std::vector<std::string> replies;
  // Created by the first SUBSCRIBE; goes before the context it queues messages in.
  std::optional<websocket_subscriber<Writer>> subscriber;
  const std::uint64_t max_message = w.opts.http.max_websocket_message;
  for (;;) {
    // Until AUTH, a connection may buffer no more than a small message.
    wslay_event_config_set_max_recv_msg_length(ctx.get(), s.conn.needs_auth() ? unauthenticated_message : max_message);
    if (wslay_event_recv(ctx.get()) != 0)
      break;  // out of memory: no more of this connection
    for (std::string& text : link.messages) {
      if (link.closing && link.close_code == 0)
        break;  // QUIT: what came after it is not run
      text += '\n';  // one command line, as the line protocol reads it
      const parse_result parsed = parse_line_request(std::span<char>(text.data(), text.size()), words, w.limits);
      if (parsed.status == parse_status::complete && words.empty())
        continue;  // a blank line
      w.requests.add();
      body.clear();
      if (parsed.status != parse_status::complete) {
        w.errors.add();
        body += "{\"error\":";
        append_json_quoted(std::string("ERR ") + std::string(parsed.error), body);
        body += '}';
        queue_text(ctx.get(), body);
      } else if (const std::string_view verb = subscription_verb(words.front());
                 !verb.empty() && s.worker.pubsub != nullptr) {
        if (s.conn.needs_auth() || words.size() < 2) {
          w.errors.add();
          queue_text(ctx.get(), s.conn.needs_auth() ? R"({"error":"NOAUTH Authentication required."})"
                                                    : R"({"error":"ERR a channel or pattern is needed"})");
        } else {
          if (!subscriber)
            subscriber.emplace(s, io, ctx.get());
          replies.clear();
          subscriber->change(verb, std::span(words).subspan(1), replies);
          for (const std::string& r : replies)
            queue_text(ctx.get(), r);
        }
      } else {
        session_call call(s, words);
        const reply& rep = co_await call;
        if (rep.kind() == reply_kind::error)
          w.errors.add();
        append_json_reply(words.front(), rep, body);
        queue_text(ctx.get(), body);
      }
      // Each reply goes out as it is made, and a peer behind on them holds the next.
      if (wslay_event_send(ctx.get()) != 0)
        break;
      if (s.conn.closing()) {
        // QUIT: its reply went first (wslay sends a queued close before queued messages).
        queue_close(ctx.get(), WSLAY_CODE_NORMAL_CLOSURE, "");
        link.closing = true;
        (void)wslay_event_send(ctx.get());
      }
      io.flush();
      if (over_high_water(s, io)) {
        s.enter(session::phase::writing);
        co_await io.drained_below(low_water(s));
      }
    }
    link.messages.clear();
    if (link.close_code != 0) {
      queue_close(ctx.get(), std::exchange(link.close_code, std::uint16_t{0}), link.close_reason);
      link.close_reason = {};
    }
    if (wslay_event_send(ctx.get()) != 0)
      break;
    io.flush();
    if (io.failed() || !wslay_event_want_read(ctx.get()))
      break;  // the close handshake is over (or the output failed)
    const bool close_sent = wslay_event_get_close_sent(ctx.get()) != 0;
    if (s.rt.draining) {
      // The drain began while this connection was busy: it goes away now.
      if (!close_sent) {
        queue_close(ctx.get(), WSLAY_CODE_GOING_AWAY, "the server is shutting down");
        (void)wslay_event_send(ctx.get());
      }
      break;
    }
    if (over_high_water(s, io)) {
      s.enter(session::phase::writing);
      co_await io.drained_below(low_water(s));
      continue;
    }
    // A subscriber may hear nothing for long: the idle timeout spares it, as Redis spares
    // its Pub/Sub clients; another connection is idle when it sends nothing. Either way the
    // drain ends the read (end of stream) and the connection says going away.
    const bool subscribed = subscriber && subscriber->subscriptions() > 0;
    s.enter(subscribed ? session::phase::streaming : session::phase::reading);
    std::error_code ec;
    std::size_t n = 0;
    if (close_sent)
      n = co_await with_timeout(io.stream().read_some(in.prepare(read_chunk), ec), close_wait);
    else
      n = co_await io.stream().read_some(in.prepare(read_chunk), ec);
    if (ec) {
      if (s.rt.draining && !close_sent && !io.failed()) {
        queue_close(ctx.get(), WSLAY_CODE_GOING_AWAY, "the server is shutting down");
        (void)wslay_event_send(ctx.get());
      }
      break;
    }
    in.commit(n);
    s.rt.bytes_in.add(n);
    s.core.last_active_ = s.rt.now;
  }
  // No more deliveries into an output that is only being drained now.
  subscriber.reset();
  co_await finish(s, io);
}

template <class Writer>
task<void> upgrade_to_websocket(session& s, Writer& io, const http_message& m, read_buffer& in) {
  const websocket_upgrade u = check_websocket_upgrade(m, s.worker.opts.http.websocket_origins);
  if (u.status != 0) {
    s.worker.errors.add();
    append_websocket_refusal(u, io.pending());
    co_await finish(s, io);
    co_return;
  }
  append_websocket_switch(u.key, io.pending());
  co_await serve_websocket(s, io, in);
}

template task<void> upgrade_to_websocket(session&, background_writer<tcp::socket>&, const http_message&,
                                         read_buffer&);
template task<void> upgrade_to_websocket(session&, background_writer<tls::stream>&, const http_message&,
                                         read_buffer&);
template task<void> serve_websocket(session&, background_writer<tcp::socket>&, read_buffer&);
template task<void> serve_websocket(session&, background_writer<tls::stream>&, read_buffer&);

}  // namespace coronet::detail
