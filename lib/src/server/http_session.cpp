// The HTTP/1.1 session loop: requests parsed by http_request_parser, mapped to
// router commands (http_codec), answered in order over the connection's
// background_writer, with the sweeper's deadlines (docs/protocols.md).
#include <chrono>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <asio/error.hpp>

#include "coronet/core/detail/log_limiter.hpp"
#include "coronet/core/error.hpp"
#include "coronet/core/log.hpp"
#include "coronet/runtime/read_buffer.hpp"
#include "coronet/net/timeout.hpp"
#include "protocol/http/http_codec.hpp"
#include "protocol/http/http_parser_adapter.hpp"
#include "server/http_dispatch.hpp"
#include "server/http_route_call.hpp"
#include "server/http_events.hpp"
#include "server/http_stream_call.hpp"
#include "server/pubsub/sse_subscriber.hpp"
#include "server/websocket_session.hpp"
#include "server/metrics_text.hpp"
#include "server/session_batch.hpp"
#include "server/status_page.hpp"

namespace coronet::detail {
namespace {

log_limiter http_error_log;

constexpr std::string_view text_type = "text/plain; charset=utf-8";
constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";

// The status of a command's reply: 200, or the code its error means.
int reply_status(const reply& rep, const command* cmd, std::size_t args, bool timed_out) noexcept {
  if (rep.kind() != reply_kind::error)
    return 200;
  if (cmd == nullptr)
    return 404;
  if (args < cmd->args.min || args > cmd->args.max)
    return 400;
  if (timed_out)
    return 504;
  const std::string_view line = rep.str();
  if (line.starts_with("NOAUTH") || line.starts_with("WRONGPASS"))
    return 403;
  return 500;
}

// Appends a complete response whose body is `body` (none for HEAD).
void respond(output_buffer& out, http_head head, std::string_view body, bool head_only) {
  head.content_length = body.size();
  append_http_head(head, out);
  if (!head_only)
    out += body;
}

// Fills `body` with `{"error":"ERR <text>"}`.
void error_body(std::string_view text, std::string& body) {
  body.clear();
  std::string line = "ERR ";
  line += text;
  body += "{\"error\":";
  append_json_quoted(line, body);
  body += '}';
}

// Appends a 405 response that names the methods `allow`ed; counted as an error.
void method_not_allowed(server_worker& w, http_head& head, std::string_view allow, std::string& body,
                        output_buffer& out, bool head_only) {
  w.errors.add();
  error_body("method not allowed", body);
  head.status = 405;
  head.allow = allow;
  respond(out, head, body, head_only);
}

// The response to a request that cannot be parsed; the connection closes.
template <class Writer>
void respond_protocol_error(session& s, Writer& io, int status, std::string_view text) {
  s.worker.errors.add();
  std::string msg = "closing an HTTP connection: ";
  msg += std::to_string(status);
  msg += ' ';
  msg += text;
  http_error_log.log(log_level::info, msg);
  append_http_error(status, text, io.pending());
}

// The sweeper's hook for a request that took longer than header_timeout:
// `408`, then the read ends (end of stream) and the session closes.
void request_timed_out(session& s) noexcept {
  try {
    output_buffer text;
    append_http_error(408, "request timeout", text);
    (void)s.core.queue(text);
  } catch (const std::bad_alloc&) {
    http_error_log.log(log_level::error, "out of memory: an HTTP connection closes without its 408");
  }
  s.worker.errors.add();
  s.partial = false;
  s.stop_reading();
}

void not_found(server_worker& w, http_connection connection, bool head_only, output_buffer& out) {
  w.errors.add();
  append_error_response(404, "not found", connection, {}, head_only, out);
}

// The built-in endpoints but /events' stream.
void serve_builtin(session& s, int id, http_head& head, bool head_only, std::string& body, output_buffer& out) {
  switch (id) {
    case builtin_status_page:
      head.content_type = "text/html; charset=utf-8";
      respond(out, head, status_page_html(), head_only);
      break;
    case builtin_healthz:
      head.content_type = text_type;
      head.no_store = true;
      head.status = s.rt.draining ? 503 : 200;
      respond(out, head, s.rt.draining ? "draining\n" : "ok\n", head_only);
      break;
    case builtin_metrics:
      respond_metrics(s.worker.srv, head, body);
      respond(out, head, body, head_only);
      break;
    case builtin_websocket:  // a server without a router: no commands to serve
      not_found(s.worker, head.connection, head_only, out);
      break;
    case builtin_events:  // HEAD: the head alone
    case builtin_subscribe:
      head.content_type = "text/event-stream";
      head.no_store = true;
      respond(out, head, {}, head_only);
      break;
    default:
      body.clear();
      append_stats_json(s.worker.srv, body);
      head.no_store = true;
      respond(out, head, body, head_only);
      break;
  }
}

}  // namespace

template <class Writer>
task<void> serve_http(session& s, Writer& io) {
  server_worker& w = s.worker;
  const http_options& limits = w.opts.http;
  // What one request may take in the buffer: its line, its headers and its
  // body, whose chunked framing may at most double it.
  const std::size_t buffer_limit = limits.max_request_line + limits.max_header_bytes + 2 * limits.max_body_bytes +
                                   4 * 1024;
  read_buffer in;
  http_request_parser parser(limits);
  // The headers are read by authentication, routes of the user's and the WebSocket upgrade.
  parser.collect_headers(!w.opts.password.empty() || w.user_routes != nullptr || w.commands_over_http);
  std::vector<std::string_view> words;
  std::string body;
  std::string stash;  // bytes read while a response streamed
  http_route_state rs;
  bool continue_sent = false;
  bool body_clock = false;  // the deadline restarted for the body
  bool input_ended = false;  // the peer finished sending while it was behind
  const std::size_t query_limit = query_buffer_limit(s, buffer_limit);
  s.serve_as(wire_protocol::http);
  s.partial_expired = &request_timed_out;

  for (;;) {
    bool progressed = false;
    bool behind = false;
    while (in.size() > 0) {
      http_parse_outcome r = parser.parse(in.data());
      if (r.status == http_parse_outcome::state::incomplete) {
        if (parser.expects_continue() && !continue_sent) {
          io.pending() += continue_line;
          continue_sent = true;
        }
        if (in.size() < buffer_limit)
          break;
        r.status = http_parse_outcome::state::error;
        r.http_status = 413;
        r.error = "request too large";
      }
      if (r.status == http_parse_outcome::state::error) {
        respond_protocol_error(s, io, r.http_status, r.error);
        co_await finish(s, io);
        co_return;
      }

      const http_message& m = parser.message();
      progressed = true;
      w.requests.add();
      // Without routes of the user's, the command mapping reads the target first, as it
      // did before there were routes: the built-in endpoints are then the only other
      // paths (the per-request cost of a command stays that of the mapping alone).
      words.clear();
      bool text = false;
      http_target mapped = http_target::bad;
      http_destination dest;
      if (w.user_routes == nullptr && w.commands_over_http) {
        mapped = map_target(m.target, words, text);
        if (mapped == http_target::command)
          dest.what = http_destination::kind::commands;
        else if (mapped == http_target::bad)
          dest.what = http_destination::kind::bad_target;
        else
          dest = route_request(m, nullptr, false, rs);  // a built-in path: the target is as sent
      } else {
        dest = route_request(m, w.user_routes, w.commands_over_http, rs);
      }
      if (dest.what == http_destination::kind::bad_target) {
        respond_protocol_error(s, io, 400, "bad request target");
        co_await finish(s, io);
        co_return;
      }
      // With a password, every request but /healthz carries its credentials: the
      // connection is never authenticated beyond one request (a proxy may share it).
      // A WebSocket upgrade without credentials is served: its connection starts
      // unauthenticated and must send AUTH, as over RESP (a browser cannot send them).
      const bool websocket = dest.route != nullptr && dest.route->builtin == builtin_websocket;
      bool presented = false;
      if (!w.opts.password.empty()) {
        s.conn.authenticated = dest.route != nullptr && dest.route->builtin == builtin_healthz;
        const http_credentials c = s.conn.authenticated ? http_credentials{} : request_credentials(m, rs.password);
        presented = c.present;
        if (c.present) {
          const auth_throttle::admission admission =
              w.throttle.admit(s.conn.peer.address(), auth_throttle::clock::now());
          if (admission.refused) {
            w.errors.add();
            append_error_response(429, "too many failed authentications from this address, try again later",
                                  http_connection::close, {}, false, io.pending());
            co_await finish(s, io);
            co_return;
          }
          if (admission.wait > auth_throttle::clock::duration::zero()) {
            io.flush();
            s.enter(session::phase::handling);
            co_await sleep_for(admission.wait);
          }
          s.conn.authenticated = check_credentials(s.conn, c, s.routes);
        }
      }
      // Draining: this is the connection's last reply.
      http_connection connection = !m.keep_alive || s.rt.draining ? http_connection::close
                                   : m.version_minor == 0         ? http_connection::keep_alive_1_0
                                                                  : http_connection::keep_alive;
      if (s.conn.closing())
        connection = http_connection::close;
      const bool head_only = m.method == http_method::head;
      if (!s.conn.authenticated && !(websocket && !presented)) {
        w.errors.add();
        append_error_response(401, "authentication required", connection, {}, head_only, io.pending());
      } else {
        output_buffer& out = io.pending();
        http_head head;
        head.connection = connection;
        switch (dest.what) {
          case http_destination::kind::commands: {
            if (m.method != http_method::get && !head_only && m.method != http_method::post) {
              method_not_allowed(w, head, "GET, HEAD, POST", body, out, head_only);
              break;
            }
            if (mapped != http_target::command)
              mapped = map_target(m.target, words, text);
            if (mapped != http_target::command || is_auth_command(words.front())) {
              not_found(w, connection, head_only, out);
              break;
            }
            text = text || m.wants_text;
            if (m.method == http_method::post && !m.body.empty()) {
              if (m.json_body) {
                if (!append_json_words(m.body, words)) {
                  w.errors.add();
                  error_body("the body is not a JSON array of strings", body);
                  head.status = 400;
                  respond(out, head, body, false);
                  break;
                }
              } else {
                words.emplace_back(m.body.data(), m.body.size());
              }
            }
            const command* cmd = w.srv.routes().find(words.front());
            session_call call(s, words);
            const reply& rep = co_await call;
            head.status = reply_status(rep, cmd, call.req().size(), s.timed_out);
            if (head.status != 200)
              w.errors.add();
            append_reply_response(head, words.front(), rep, text, head_only, body, out);
            break;
          }
          case http_destination::kind::route:
            if (dest.route->builtin == builtin_websocket && w.commands_over_http) {
              in.consume(r.consumed);
              co_await upgrade_to_websocket(s, io, m, in);
              co_return;
            }
            if (dest.route->builtin == builtin_subscribe && !head_only && w.pubsub != nullptr) {
              co_await serve_subscribe(s, io, rs.params.front().value);
              co_await finish(s, io);
              co_return;
            }
            if (dest.route->builtin == builtin_events && !head_only) {
              co_await serve_events(s, io, body);
              co_await finish(s, io);
              co_return;
            }
            if (dest.route->builtin != 0)
              serve_builtin(s, dest.route->builtin, head, head_only, body, out);
            else if (dest.route->stream_handler)
              co_await serve_stream(s, io, m, *dest.route, rs, connection, stash, query_limit);
            else
              co_await serve_route(s, io, m, *dest.route, rs, connection);
            break;
          case http_destination::kind::method_not_allowed:
            w.errors.add();
            append_error_response(405, "method not allowed", connection, rs.allow, head_only, out);
            break;
          case http_destination::kind::bad_query:
            w.errors.add();
            append_error_response(400, "bad query string", connection, {}, head_only, out);
            break;
          case http_destination::kind::not_found:
          case http_destination::kind::bad_target: not_found(w, connection, head_only, out); break;
        }
      }
      in.consume(r.consumed);
      take_stash(in, stash);
      parser.reset();
      continue_sent = false;
      body_clock = false;
      if (connection == http_connection::close || s.conn.closing()) {
        co_await finish(s, io);
        co_return;
      }
      if (over_high_water(s, io)) {
        behind = true;
        break;
      }
    }
    const bool was_partial = s.partial;
    if (const batch_step step = end_batch(s, io, in, buffer_limit, progressed, behind); step != batch_step::read) {
      if (step == batch_step::stop || !co_await wait_for_peer(s, io, in, query_limit, input_ended))
        co_return;
      continue;  // the requests read meanwhile wait in `in`
    }
    // The header deadline runs from a request's first byte, and again for its body once the
    // headers are complete.
    if (in.size() > 0 && !progressed && was_partial && parser.headers_complete() && !body_clock) {
      body_clock = true;
      s.partial_since = s.rt.now;
    }
    // Draining: a request still arriving is read to its end (bounded by the
    // header deadline and the drain's), the others end here.
    const bool stop = input_ended || (s.rt.draining && !s.partial);
    const after_read next = co_await read_step(s, io, in, buffer_limit, stop);
    if (next == after_read::finish)
      co_await finish(s, io);
    if (next != after_read::more)
      co_return;
  }
}

template task<void> serve_http(session&, background_writer<tcp::socket>&);
template task<void> serve_http(session&, background_writer<tls::stream>&);

}  // namespace coronet::detail
