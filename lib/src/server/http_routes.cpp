// http_routes: registering patterns, and matching requests against them.
#include "coronet/server/http_routes.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "protocol/detail/hex.hpp"
#include "server/http_route_match.hpp"

namespace coronet {
namespace {

using segment = detail::http_pattern_segment;

bool is_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

[[noreturn]] void bad_route(std::string_view method, std::string_view pattern, std::string_view why) {
  std::string msg = "coronet::http_routes: ";
  msg += method;
  msg += ' ';
  msg += pattern;
  msg += ": ";
  msg += why;
  throw std::invalid_argument(msg);
}

void check_method(std::string_view method, std::string_view pattern) {
  if (method.empty())
    bad_route(method, pattern, "empty method");
  for (char c : method)
    if (!detail::is_token_char(c) || (c >= 'a' && c <= 'z'))
      bad_route(method, pattern, "the method must be an upper-case token");
}

std::vector<segment> parse_pattern(std::string_view method, std::string_view pattern) {
  if (pattern.empty() || pattern.front() != '/')
    bad_route(method, pattern, "a pattern begins with '/'");
  std::vector<segment> out;
  if (pattern == "/")
    return out;
  std::string_view rest = pattern.substr(1);
  for (;;) {
    const std::size_t slash = rest.find('/');
    const std::string_view text = rest.substr(0, slash);
    if (text.empty())
      bad_route(method, pattern, "empty segment");
    if (!out.empty() && out.back().type == segment::kind::rest)
      bad_route(method, pattern, "{name...} must be the last segment");
    segment s;
    if (text.front() == '{') {
      if (text.back() != '}')
        bad_route(method, pattern, "a parameter is a whole segment: {name}");
      std::string_view name = text.substr(1, text.size() - 2);
      s.type = segment::kind::param;
      if (name.ends_with("...")) {
        s.type = segment::kind::rest;
        name.remove_suffix(3);
      }
      if (name.empty() || !std::all_of(name.begin(), name.end(), is_name_char))
        bad_route(method, pattern, "a parameter's name is letters, digits and '_'");
      for (const segment& other : out)
        if (other.type != segment::kind::literal && other.text == name)
          bad_route(method, pattern, "two parameters with the same name");
      s.text = name;
    } else {
      if (text.find_first_of("{}") != std::string_view::npos)
        bad_route(method, pattern, "a parameter is a whole segment: {name}");
      if (text.find_first_of("?#") != std::string_view::npos)
        bad_route(method, pattern, "a pattern has no query or fragment");
      // Paths are matched decoded, so "%20" in a pattern could never match anything.
      if (text.find('%') != std::string_view::npos)
        bad_route(method, pattern, "write a pattern decoded: no %XX escapes");
      s.text = text;
    }
    out.push_back(std::move(s));
    if (slash == std::string_view::npos)
      break;
    rest.remove_prefix(slash + 1);
  }
  return out;
}

// Patterns that match exactly the same paths: the same shape, literals equal.
bool same_shape(const std::vector<segment>& a, const std::vector<segment>& b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](const segment& x, const segment& y) {
           return x.type == y.type && (x.type != segment::kind::literal || x.text == y.text);
         });
}

// Whether `r`'s pattern matches `path`.
bool matches(const detail::http_route& r, const detail::http_path& path) {
  // The common case, and every built-in endpoint's: one comparison, no split.
  if (r.literal_only && !path.escaped)
    return path.decoded == r.pattern;
  const auto& segs = path.segments();
  std::size_t i = 0;
  for (const segment& s : r.segments) {
    if (s.type == segment::kind::rest)
      return true;
    if (i == segs.size())
      return false;
    if (s.type == segment::kind::literal ? segs[i] != s.text : segs[i].empty())
      return false;
    ++i;
  }
  return i == segs.size();
}

// Negative when `a` is more specific than `b`: segment by segment, literal
// before {name} before {name...}; a longer pattern before its prefix.
int specificity(const detail::http_route& a, const detail::http_route& b) noexcept {
  const std::size_t n = std::min(a.segments.size(), b.segments.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto ka = static_cast<int>(a.segments[i].type);
    const auto kb = static_cast<int>(b.segments[i].type);
    if (ka != kb)
      return ka - kb;
  }
  return static_cast<int>(b.segments.size()) - static_cast<int>(a.segments.size());
}

}  // namespace

std::string_view http_request::param(std::string_view name) const noexcept {
  for (const http_field& f : params)
    if (f.name == name)
      return f.value;
  return {};
}

std::optional<std::string_view> http_request::query_value(std::string_view name) const noexcept {
  for (const http_field& f : query)
    if (f.name == name)
      return f.value;
  return std::nullopt;
}

std::optional<std::string_view> http_request::header(std::string_view name) const noexcept {
  for (const http_field& f : headers)
    if (iequals(f.name, name))
      return f.value;
  return std::nullopt;
}

http_response http_response::text(int status, std::string body) {
  http_response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

http_response http_response::json(int status, std::string body) {
  http_response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

http_response& http_response::with_header(std::string name, std::string value) {
  headers.push_back({std::move(name), std::move(value)});
  return *this;
}

namespace {
// A route whose handler, of the kind `Member` names, is `h`.
template <auto Member, class Handler>
detail::http_route route_of(Handler h) {
  detail::http_route r;
  r.*Member = std::move(h);
  return r;
}
}  // namespace

http_routes& http_routes::add(std::string_view method, std::string_view pattern, http_handler handler) {
  return add_route(method, pattern, route_of<&detail::http_route::handler>(std::move(handler)));
}

http_routes& http_routes::add(std::string_view method, std::string_view pattern, plain_http_handler handler) {
  return add_route(method, pattern, route_of<&detail::http_route::plain_handler>(std::move(handler)));
}

http_routes& http_routes::stream(std::string_view method, std::string_view pattern, http_stream_handler handler) {
  return add_route(method, pattern, route_of<&detail::http_route::stream_handler>(std::move(handler)));
}

http_routes& http_routes::add_builtin(std::string_view method, std::string_view pattern, int id) {
  detail::http_route r;
  r.builtin = id;
  return add_route(method, pattern, std::move(r));
}

http_routes& http_routes::add_route(std::string_view method, std::string_view pattern, detail::http_route r) {
  check_method(method, pattern);
  if (r.builtin == 0 && !r.handler && !r.plain_handler && !r.stream_handler)
    bad_route(method, pattern, "empty handler");
  r.segments = parse_pattern(method, pattern);
  r.literal_only = std::all_of(r.segments.begin(), r.segments.end(),
                               [](const segment& s) { return s.type == segment::kind::literal; });
  for (const detail::http_route& other : routes_)
    if (other.method == method && same_shape(other.segments, r.segments))
      bad_route(method, pattern, "already registered (as " + other.pattern + ")");
  r.method = method;
  r.pattern = pattern;
  routes_.push_back(std::move(r));
  return *this;
}

namespace detail {

bool is_token_char(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
    return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

namespace {

// Appends `raw` decoded to `out`; `plus` reads '+' as a space. False for a malformed escape.
bool append_decoded(std::string_view raw, bool plus, std::string& out) {
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '%') {
      if (raw.size() - i < 3)
        return false;
      const int hi = hex_value(raw[i + 1]);
      const int lo = hex_value(raw[i + 2]);
      if (hi < 0 || lo < 0)
        return false;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += plus && c == '+' ? ' ' : c;
    }
  }
  return true;
}

}  // namespace

const std::vector<std::string_view>& http_path::segments() const {
  if (!split_done) {
    split.clear();
    for (std::size_t at = 1; at < decoded.size() || (at == decoded.size() && decoded.size() > 1);) {
      const std::size_t slash = std::min(decoded.find('/', at), decoded.size());
      split.push_back(decoded.substr(at, slash - at));
      at = slash + 1;
    }
    split_done = true;
  }
  return split;
}

bool split_escaped_path(std::string_view raw, http_path& out) {
  out.escaped = true;
  // Decoded segment by segment: a decoded '/' stays inside its segment.
  out.split.clear();
  out.split_done = true;
  std::string& text = out.buffer;
  text.clear();
  // Decoding never lengthens, so the views taken below stay valid.
  text.reserve(raw.size());
  text += '/';
  std::string_view rest = raw.substr(1);
  for (;;) {
    const std::size_t slash = rest.find('/');
    if (!out.split.empty())
      text += '/';
    const std::size_t begin = text.size();
    if (!append_decoded(rest.substr(0, slash), false, text))
      return false;
    out.split.emplace_back(text.data() + begin, text.size() - begin);
    if (slash == std::string_view::npos)
      break;
    rest.remove_prefix(slash + 1);
  }
  out.decoded = text;
  return true;
}

bool decode_query(std::string_view raw, std::string& scratch, std::vector<http_field>& fields) {
  scratch.clear();
  fields.clear();
  scratch.reserve(raw.size());
  while (!raw.empty()) {
    const std::size_t amp = raw.find('&');
    const std::string_view pair = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view{} : raw.substr(amp + 1);
    if (pair.empty())
      continue;
    const std::size_t eq = pair.find('=');
    const std::size_t name_at = scratch.size();
    if (!append_decoded(pair.substr(0, eq), true, scratch))
      return false;
    const std::size_t value_at = scratch.size();
    if (eq != std::string_view::npos && !append_decoded(pair.substr(eq + 1), true, scratch))
      return false;
    fields.push_back({std::string_view(scratch.data() + name_at, value_at - name_at),
                      std::string_view(scratch.data() + value_at, scratch.size() - value_at)});
  }
  return true;
}

http_match match_route(std::span<const http_route> routes, std::string_view method, const http_path& path,
                       std::vector<http_field>& params) {
  http_match m;
  const http_route* via_get = nullptr;  // a GET route for a HEAD request
  const bool head = method == "HEAD";
  for (const http_route& r : routes) {
    if (!matches(r, path))
      continue;
    m.path_known = true;
    if (r.method == method) {
      if (m.route == nullptr || specificity(r, *m.route) < 0)
        m.route = &r;
    } else if (head && r.method == "GET") {
      if (via_get == nullptr || specificity(r, *via_get) < 0)
        via_get = &r;
    }
  }
  if (m.route == nullptr)
    m.route = via_get;
  params.clear();
  if (m.route == nullptr)
    return m;
  if (m.route->literal_only)
    return m;
  const auto& segs = path.segments();
  for (std::size_t i = 0; i < m.route->segments.size(); ++i) {
    const segment& s = m.route->segments[i];
    if (s.type == segment::kind::param) {
      params.push_back({s.text, segs[i]});
    } else if (s.type == segment::kind::rest) {
      // The rest of the decoded path, from this segment on.
      const char* const end = path.decoded.data() + path.decoded.size();
      const char* const from = i < segs.size() ? segs[i].data() : end;
      params.push_back({s.text, std::string_view(from, static_cast<std::size_t>(end - from))});
    }
  }
  return m;
}

std::string allowed_methods(std::span<const http_route> routes, const http_path& path) {
  std::vector<std::string_view> methods;
  for (const http_route& r : routes) {
    if (!matches(r, path))
      continue;
    auto add = [&](std::string_view m) {
      if (std::find(methods.begin(), methods.end(), m) == methods.end())
        methods.push_back(m);
    };
    add(r.method);
    if (r.method == "GET")
      add("HEAD");
  }
  std::string out;
  for (std::string_view m : methods) {
    if (!out.empty())
      out += ", ";
    out += m;
  }
  return out;
}

}  // namespace detail
}  // namespace coronet
