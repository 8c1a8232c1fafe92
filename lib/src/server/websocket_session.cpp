#include "server/websocket_session.hpp"

#include <openssl/evp.h>
#include <wslay/wslay.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <span>
#include <new>
#include <system_error>
#include <vector>

#include "coronet/core/error.hpp"
#include "coronet/net/timeout.hpp"
#include "coronet/protocol/line/line_codec.hpp"
#include "protocol/http/http_codec.hpp"
#include "server/session_batch.hpp"

namespace coronet::detail {
namespace {

// RFC 6455, 1.3: appended to the client's key before hashing.
constexpr std::string_view accept_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
// How long a close we sent waits for the peer's.
constexpr std::chrono::seconds close_wait{5};
// The most bytes one read takes from the socket (wslay keeps what a frame needs).
constexpr std::size_t read_chunk = 64 * 1024;

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return lower(x) == lower(y);
         });
}

std::string_view trim(std::string_view v) noexcept {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
    v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t'))
    v.remove_suffix(1);
  return v;
}

// True if header `name` of `m` holds `token` in its comma-separated list (any case).
bool has_token(const http_message& m, std::string_view name, std::string_view token) noexcept {
  for (const http_field& f : m.headers) {
    if (!iequals(f.name, name))
      continue;
    std::string_view list = f.value;
    while (!list.empty()) {
      const std::size_t comma = list.find(',');
      if (iequals(trim(list.substr(0, comma)), token))
        return true;
      list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
    }
  }
  return false;
}

std::string_view header(const http_message& m, std::string_view name) noexcept {
  for (const http_field& f : m.headers)
    if (iequals(f.name, name))
      return f.value;
  return {};
}

// A key is 16 bytes in base64: 22 characters of the alphabet and `==`.
bool valid_key(std::string_view k) noexcept {
  if (k.size() != 24 || k.substr(22) != "==")
    return false;
  return std::all_of(k.begin(), k.begin() + 22, [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
  });
}

void append_base64(const unsigned char* p, std::size_t n, std::string& out) {
  constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t i = 0; i < n; i += 3) {
    const std::uint32_t v = (std::uint32_t{p[i]} << 16) | (i + 1 < n ? std::uint32_t{p[i + 1]} << 8 : 0u) |
                            (i + 2 < n ? std::uint32_t{p[i + 2]} : 0u);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
    out += i + 2 < n ? alphabet[v & 63] : '=';
  }
}

// What wslay's callbacks reach: the session's input and output, and the text
// messages received, answered once wslay_event_recv has returned.
struct websocket_link {
  read_buffer& in;
  std::string& out;
  std::vector<std::string> messages;
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

void on_message(wslay_event_context_ptr ctx, const wslay_event_on_msg_recv_arg* arg, void* user) {
  auto& l = *static_cast<websocket_link*>(user);
  if (arg->opcode == WSLAY_BINARY_FRAME) {
    queue_close(ctx, WSLAY_CODE_UNSUPPORTED_DATA, "binary messages are not supported");
    return;
  }
  if (arg->opcode != WSLAY_TEXT_FRAME)
    return;  // ping, pong and close: wslay answers them
  const std::string_view text(reinterpret_cast<const char*>(arg->msg), arg->msg_length);
  if (!valid_utf8(text)) {
    queue_close(ctx, WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA, "a text message that is not UTF-8");
    return;
  }
  try {
    l.messages.emplace_back(text);
  } catch (const std::bad_alloc&) {
    queue_close(ctx, WSLAY_CODE_INTERNAL_SERVER_ERROR, "out of memory");
  }
}

using context_ptr = std::unique_ptr<wslay_event_context, void (*)(wslay_event_context_ptr)>;

context_ptr make_context(websocket_link& link, std::uint64_t max_message) {
  static constexpr wslay_event_callbacks callbacks{&on_recv, &on_send, nullptr, nullptr, nullptr, nullptr, &on_message};
  wslay_event_context_ptr ctx = nullptr;
  if (wslay_event_context_server_init(&ctx, &callbacks, &link) != 0)
    throw std::bad_alloc();
  wslay_event_config_set_max_recv_msg_length(ctx, max_message);
  return context_ptr(ctx, &wslay_event_context_free);
}

}  // namespace

websocket_upgrade check_websocket_upgrade(const http_message& m) noexcept {
  websocket_upgrade u;
  if (!has_token(m, "upgrade", "websocket")) {
    u.status = 426;
    u.error = "this endpoint speaks WebSocket only (Upgrade: websocket)";
  } else if (m.method != http_method::get || m.version_major != 1 || m.version_minor < 1) {
    u.status = 400;
    u.error = "a WebSocket handshake is a GET of HTTP/1.1";
  } else if (!has_token(m, "connection", "upgrade")) {
    u.status = 400;
    u.error = "a WebSocket handshake needs Connection: Upgrade";
  } else if (trim(header(m, "sec-websocket-version")) != "13") {
    u.status = 426;
    u.error = "unsupported WebSocket version (13 is)";
  } else if (u.key = trim(header(m, "sec-websocket-key")); !valid_key(u.key)) {
    u.status = 400;
    u.error = "a WebSocket handshake needs a Sec-WebSocket-Key of 16 bytes in base64";
  }
  return u;
}

std::string websocket_accept(std::string_view key) {
  std::string text(key);
  text += accept_guid;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha1(), nullptr) != 1)
    throw std::bad_alloc();  // only fails when OpenSSL cannot allocate
  std::string out;
  append_base64(digest, size, out);
  return out;
}

void append_websocket_switch(std::string_view key, std::string& out) {
  out += "HTTP/1.1 101 Switching Protocols\r\nServer: coronet\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Accept: ";
  out += websocket_accept(key);
  out += "\r\n\r\n";
}

void append_websocket_refusal(const websocket_upgrade& u, std::string& out) {
  std::string body = "{\"error\":";
  append_json_quoted(std::string("ERR ") + std::string(u.error), body);
  body += '}';
  http_head h;
  h.status = u.status;
  h.content_length = body.size();
  h.connection = http_connection::close;
  append_http_head(h, out);
  if (u.status == 426) {
    // The head's last CRLF goes after the headers a 426 must carry (RFC 9110, 15.5.22).
    out.resize(out.size() - 2);
    out += "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n";
  }
  out += body;
}

template <class Writer>
task<void> serve_websocket(session& s, Writer& io, read_buffer& in) {
  server_worker& w = s.worker;
  websocket_link link{in, io.pending(), {}};
  const context_ptr ctx = make_context(link, w.opts.http.max_websocket_message);
  std::vector<std::string_view> words;
  std::string body;
  bool closing = false;  // QUIT asked for the close
  for (;;) {
    if (wslay_event_recv(ctx.get()) != 0)
      break;  // out of memory: no more of this connection
    for (std::string& text : link.messages) {
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
      } else {
        session_call call(s, words);
        const reply& rep = co_await call;
        if (rep.kind() == reply_kind::error)
          w.errors.add();
        append_json_reply(words.front(), rep, body);
      }
      const wslay_event_msg msg{WSLAY_TEXT_FRAME, reinterpret_cast<const std::uint8_t*>(body.data()), body.size()};
      (void)wslay_event_queue_msg(ctx.get(), &msg);
      if (s.conn.closing() && !closing) {
        queue_close(ctx.get(), WSLAY_CODE_NORMAL_CLOSURE, "");
        closing = true;
      }
    }
    link.messages.clear();
    if (wslay_event_send(ctx.get()) != 0)
      break;
    io.flush();
    if (io.failed() || !wslay_event_want_read(ctx.get()))
      break;  // the close handshake is over (or the output failed)
    if (over_high_water(s, io)) {
      s.enter(session::phase::writing);
      co_await io.drained_below(low_water(s));
      continue;
    }
    // Waiting for messages is not idleness: a subscriber may hear nothing for long.
    // The drain ends the read (end of stream) and the connection says going away.
    s.enter(session::phase::streaming);
    std::error_code ec;
    std::size_t n = 0;
    const bool close_sent = wslay_event_get_close_sent(ctx.get()) != 0;
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
  co_await finish(s, io);
}

template <class Writer>
task<void> upgrade_to_websocket(session& s, Writer& io, const http_message& m, read_buffer& in) {
  const websocket_upgrade u = check_websocket_upgrade(m);
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
