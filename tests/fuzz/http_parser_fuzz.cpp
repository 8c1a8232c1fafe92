// libFuzzer target: the HTTP adapter (llhttp) and the HTTP mapping, as
// the session drives them. Request bytes in, arriving in pieces; every
// request answered with the session's response functions (the reply echoes
// the request's words); then every byte written must be a well-formed HTTP/1.1
// response: a status line, headers without stray CR/LF, a Content-Length
// matching the body, and a JSON body that parses. A first byte `^` selects
// tiny limits, so that every limit is reached. Each request's target also
// goes through the routes' splitting, decoding and matching, whose views must
// stay inside their buffers.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/http/http_codec.hpp"
#include "protocol/http/http_parser_adapter.hpp"
#include "server/http_route_match.hpp"

namespace {

using namespace coronet::detail;

void check(bool condition) {
  if (!condition)
    __builtin_trap();
}

// A minimal JSON grammar check: one value, then nothing but whitespace.
struct json_checker {
  std::string_view s;
  std::size_t i = 0;
  int depth = 0;

  void space() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t'))
      ++i;
  }
  bool literal(std::string_view word) {
    if (s.substr(i, word.size()) != word)
      return false;
    i += word.size();
    return true;
  }
  bool string() {
    if (i >= s.size() || s[i] != '"')
      return false;
    for (++i; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c == '"') {
        ++i;
        return true;
      }
      if (c < 0x20)
        return false;
      if (c == '\\') {
        if (++i >= s.size())
          return false;
        if (s[i] == 'u') {
          for (int k = 0; k < 4; ++k)
            if (++i >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i])))
              return false;
        } else if (std::string_view("\"\\/bfnrt").find(s[i]) == std::string_view::npos) {
          return false;
        }
      }
    }
    return false;
  }
  bool number() {
    const std::size_t start = i;
    if (i < s.size() && s[i] == '-')
      ++i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.' || s[i] == 'e' ||
                            s[i] == 'E' || s[i] == '+' || s[i] == '-'))
      ++i;
    return i > start && std::isdigit(static_cast<unsigned char>(s[i - 1]));
  }
  bool value() {
    if (++depth > 64)
      return false;
    space();
    bool ok = false;
    if (i >= s.size()) {
      ok = false;
    } else if (s[i] == '"') {
      ok = string();
    } else if (s[i] == '[' || s[i] == '{') {
      const char close = s[i] == '[' ? ']' : '}';
      const bool object = close == '}';
      ++i;
      space();
      if (i < s.size() && s[i] == close) {
        ++i;
        ok = true;
      } else {
        for (;;) {
          if (object) {
            space();
            if (!string())
              break;
            space();
            if (i >= s.size() || s[i++] != ':')
              break;
          }
          if (!value())
            break;
          space();
          if (i < s.size() && s[i] == ',') {
            ++i;
            continue;
          }
          ok = i < s.size() && s[i++] == close;
          break;
        }
      }
    } else if (s[i] == 't' || s[i] == 'f' || s[i] == 'n') {
      ok = literal("true") || literal("false") || literal("null");
    } else {
      ok = number();
    }
    --depth;
    return ok;
  }
  bool document() {
    if (!value())
      return false;
    space();
    return i == s.size();
  }
};

// Every response in `out`, each well-formed; `head_only[k]`: response k
// answers a HEAD request (no body); a trailing SSE stream is not produced here.
void check_responses(std::string_view out, const std::vector<bool>& head_only) {
  std::size_t k = 0;
  while (!out.empty()) {
    const std::size_t end = out.find("\r\n\r\n");
    check(end != std::string_view::npos);
    const std::string_view head = out.substr(0, end + 2);
    out.remove_prefix(end + 4);
    check(head.starts_with("HTTP/1.1 "));
    const std::size_t eol = head.find("\r\n");
    const std::string_view status_line = head.substr(0, eol);
    check(status_line.size() > 13 && std::isdigit(static_cast<unsigned char>(status_line[9])) &&
          std::isdigit(static_cast<unsigned char>(status_line[10])) &&
          std::isdigit(static_cast<unsigned char>(status_line[11])) && status_line[12] == ' ');
    const int status = (status_line[9] - '0') * 100 + (status_line[10] - '0') * 10 + (status_line[11] - '0');
    if (status == 100)
      continue;  // 100 Continue: no headers, no body
    std::size_t length = static_cast<std::size_t>(-1);
    bool json = false;
    bool saw_date = false;
    for (std::size_t p = eol + 2; p < head.size();) {
      const std::size_t e = head.find("\r\n", p);
      const std::string_view line = head.substr(p, e - p);
      check(line.find('\r') == std::string_view::npos && line.find('\n') == std::string_view::npos);
      const std::size_t colon = line.find(": ");
      check(colon != std::string_view::npos && colon > 0);
      const std::string_view name = line.substr(0, colon);
      const std::string_view value = line.substr(colon + 2);
      if (name == "Content-Length") {
        check(length == static_cast<std::size_t>(-1));
        length = 0;
        for (char c : value) {
          check(c >= '0' && c <= '9');
          length = length * 10 + static_cast<std::size_t>(c - '0');
        }
      }
      if (name == "Content-Type")
        json = value == "application/json";
      if (name == "Date")
        saw_date = value.size() == 29;
      p = e + 2;
    }
    check(saw_date);
    check(length != static_cast<std::size_t>(-1));
    check(k < head_only.size());
    if (head_only[k++])
      continue;
    check(out.size() >= length);
    if (json) {
      json_checker j{out.substr(0, length)};
      check(j.document());
    }
    out.remove_prefix(length);
  }
}

// Routes of every kind of segment, two methods on one path.
const coronet::http_routes& fuzz_routes() {
  static const coronet::http_routes table = [] {
    coronet::http_routes t;
    auto none = [](coronet::http_request&) { return coronet::http_response{}; };
    t.add("GET", "/", none).add("GET", "/a/{x}", none).add("PUT", "/a/{x}", none).add("GET", "/a/b", none);
    t.add("GET", "/f/{rest...}", none).add("DELETE", "/{c}/{d}", none);
    return t;
  }();
  return table;
}

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

// What the routes make of `m`'s target.
void check_routing(const http_message& m, http_path& path, std::vector<coronet::http_field>& fields,
                   std::string& text) {
  std::string_view raw_path, query;
  if (!split_target(std::string_view(m.target.data(), m.target.size()), raw_path, query) ||
      !split_path(raw_path, path))
    return;
  check(path.decoded.size() <= raw_path.size() + 1 && path.decoded.front() == '/');
  const http_match found = match_route(fuzz_routes().routes(), m.method_name, path, fields);
  check(found.route == nullptr || found.path_known);
  for (const coronet::http_field& f : fields)
    check(inside(f.value, path.decoded));
  if (found.route == nullptr && found.path_known)
    check(!allowed_methods(fuzz_routes().routes(), path).empty());
  if (decode_query(query, text, fields))
    for (const coronet::http_field& f : fields)
      check(inside(f.name, text) && inside(f.value, text));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  coronet::http_options limits;
  if (!input.empty() && input[0] == '^') {
    input.erase(0, 1);
    limits.max_request_line = 24;
    limits.max_header_bytes = 48;
    limits.max_header_fields = 3;
    limits.max_body_bytes = 16;
  }
  http_request_parser parser(limits);
  std::vector<std::string_view> words;
  coronet::output_buffer out;
  std::string scratch;
  http_path path;
  std::vector<coronet::http_field> fields;
  std::vector<bool> head_only;
  // The bytes arrive in pieces of a size taken from the input's length, so
  // that each input also tests the incremental path.
  const std::size_t step = 1 + size % 7;
  std::size_t start = 0;  // the current request's first byte
  std::size_t have = 0;   // bytes arrived
  bool closed = false;
  bool continued = false;
  while (!closed && have < input.size()) {
    have = std::min(input.size(), have + step);
    for (;;) {
      std::span<char> buffered(input.data() + start, have - start);
      if (buffered.empty())
        break;
      const http_parse_outcome r = parser.parse(buffered);
      check(r.consumed <= buffered.size());
      if (r.status == http_parse_outcome::state::incomplete) {
        if (parser.expects_continue() && !continued) {
          out += "HTTP/1.1 100 Continue\r\n\r\n";
          continued = true;
        }
        break;
      }
      if (r.status == http_parse_outcome::state::error) {
        check(r.http_status >= 400 && r.http_status <= 505 && !r.error.empty());
        append_http_error(r.http_status, r.error, out);
        head_only.push_back(false);
        closed = true;
        break;
      }
      check(r.consumed > 0);
      const http_message& m = parser.message();
      check(m.target.data() >= buffered.data() && m.target.data() + m.target.size() <= buffered.data() + r.consumed);
      check(m.body.empty() ||
            (m.body.data() >= buffered.data() && m.body.data() + m.body.size() <= buffered.data() + r.consumed));
      check(m.body.size() <= limits.max_body_bytes);
      for (const coronet::http_field& h : m.headers)
        check(inside(h.name, {buffered.data(), r.consumed}) && inside(h.value, {buffered.data(), r.consumed}));
      check_routing(m, path, fields, scratch);
      words.clear();
      bool text = false;
      const http_target t = map_target(m.target, words, text);
      http_head head;
      head.connection = m.keep_alive ? http_connection::keep_alive : http_connection::close;
      if (t == http_target::bad) {
        append_http_error(400, "bad request target", out);
        head_only.push_back(false);
        closed = true;
        break;
      }
      if (t == http_target::command) {
        check(!words.empty());
        if (m.method == http_method::post && !m.body.empty()) {
          if (!m.json_body || !append_json_words(m.body, words))
            words.emplace_back(m.body.data(), m.body.size());
        }
        std::vector<coronet::reply> echoed;
        for (std::string_view w : words)
          echoed.push_back(coronet::reply::bulk(w));
        append_reply_response(head, words.front(), coronet::reply::array(std::move(echoed)), text || m.wants_text,
                              m.method == http_method::head, scratch, out);
        head_only.push_back(m.method == http_method::head);
      } else {
        append_reply_response(head, "status", coronet::reply::err("not here"), false, false, scratch, out);
        head_only.push_back(false);
      }
      const bool keep_alive = m.keep_alive;
      start += r.consumed;
      parser.reset();
      continued = false;
      if (!keep_alive) {
        closed = true;
        break;
      }
    }
  }
  check_responses(out, head_only);
  return 0;
}
