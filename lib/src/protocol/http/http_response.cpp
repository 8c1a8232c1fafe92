// Responses: the head (status line, Date, lengths), text/plain replies, and
// whole reply and error responses.
#include "protocol/http/http_codec.hpp"

#include <cstdint>
#include <cstdio>
#include <ctime>

#include "protocol/detail/decimal.hpp"

namespace coronet::detail {
namespace {

void append_text_element(const reply& r, std::string& out) {
  if (r.kind() == reply_kind::array || r.kind() == reply_kind::set || r.kind() == reply_kind::map) {
    for (const reply& e : r.elements())
      append_text_element(e, out);
    return;
  }
  append_text_reply(r, out);
  out += '\n';
}

}  // namespace

void append_text_reply(const reply& r, std::string& out) {
  switch (r.kind()) {
    case reply_kind::text:
    case reply_kind::bulk:
    case reply_kind::verbatim:
    case reply_kind::error: out += r.str(); break;
    case reply_kind::integer: append_decimal(out, r.integer()); break;
    case reply_kind::real: {
      char buf[max_double_chars];
      out.append(buf, format_double(r.real(), buf));
      break;
    }
    case reply_kind::boolean: out += r.boolean() ? "true" : "false"; break;
    case reply_kind::null: break;
    case reply_kind::array:
    case reply_kind::set:
    case reply_kind::map: append_text_element(r, out); break;
  }
}

std::string_view http_reason(int status) noexcept {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 412: return "Precondition Failed";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 502: return "Bad Gateway";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

std::string_view http_date() noexcept {
  struct cache {
    std::time_t second = -1;
    char text[64] = {};
    std::size_t size = 0;
  };
  thread_local cache c;
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME_COARSE, &now);
  if (now.tv_sec != c.second) {
    c.second = now.tv_sec;
    std::tm tm{};
    ::gmtime_r(&now.tv_sec, &tm);
    // By hand: strftime's %a and %b follow the locale; HTTP's names do not.
    static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const int n = std::snprintf(c.text, sizeof c.text, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7],
                                tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                                tm.tm_sec);
    c.size = n > 0 ? static_cast<std::size_t>(n) : 0;
  }
  return {c.text, c.size};
}

void append_reply_response(http_head head, std::string_view name, const reply& rep, bool text, bool head_only,
                           std::string& scratch, output_buffer& out) {
  scratch.clear();
  if (text) {
    head.content_type = "text/plain; charset=utf-8";
    append_text_reply(rep, scratch);
  } else {
    append_json_reply(name, rep, scratch);
  }
  head.content_length = scratch.size();
  append_http_head(head, out);
  if (!head_only)
    out += scratch;
}

void append_event_stream_head(output_buffer& out) {
  http_head h;
  h.content_type = "text/event-stream";
  h.until_close = true;
  h.no_store = true;
  h.connection = http_connection::close;
  append_http_head(h, out);
}

void append_http_error(int status, std::string_view text, output_buffer& out) {
  std::string line = "ERR ";
  line += text;
  std::string body = "{\"error\":";
  append_json_quoted(line, body);
  body += '}';
  http_head h;
  h.status = status;
  h.content_length = body.size();
  h.connection = http_connection::close;
  // A 405 must name what is allowed (RFC 9110, 15.5.6); the parser refuses
  // CONNECT and `OPTIONS *` with it, which no route takes.
  if (status == 405)
    h.allow = "GET, HEAD, POST";
  append_http_head(h, out);
  out += body;
}

void append_http_head(const http_head& h, output_buffer& out) {
  out += "HTTP/1.1 ";
  append_decimal(out, h.status);
  out += ' ';
  out += http_reason(h.status);
  out += "\r\nServer: coronet\r\nDate: ";
  out += http_date();
  out += "\r\nContent-Type: ";
  out += h.content_type;
  if (!h.until_close) {
    out += "\r\nContent-Length: ";
    append_decimal(out, static_cast<std::int64_t>(h.content_length));
  }
  if (h.no_store)
    out += "\r\nCache-Control: no-store";
  if (!h.allow.empty()) {
    out += "\r\nAllow: ";
    out += h.allow;
  }
  switch (h.connection) {
    case http_connection::keep_alive: break;
    case http_connection::keep_alive_1_0: out += "\r\nConnection: keep-alive"; break;
    case http_connection::close: out += "\r\nConnection: close"; break;
  }
  out += "\r\n\r\n";
}

}  // namespace coronet::detail
