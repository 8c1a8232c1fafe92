// Request targets to command words: the path's segments, percent-decoded in
// place, and the fixed pages' paths.
#include "protocol/http/http_codec.hpp"

#include "protocol/detail/hex.hpp"

namespace coronet::detail {
namespace {

// Percent-decodes [first, last) in place; returns the decoded end, or null
// for a malformed escape.
char* percent_decode(char* first, char* last) noexcept {
  char* out = first;
  for (char* p = first; p != last; ++p) {
    if (*p != '%') {
      *out++ = *p;
      continue;
    }
    if (last - p < 3)
      return nullptr;
    const int hi = hex_value(p[1]);
    const int lo = hex_value(p[2]);
    if (hi < 0 || lo < 0)
      return nullptr;
    *out++ = static_cast<char>(hi * 16 + lo);
    p += 2;
  }
  return out;
}

bool ends_with(std::string_view s, std::string_view suffix) noexcept {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

http_target map_target(std::span<char> target, std::vector<std::string_view>& words, bool& text) {
  text = false;
  char* first = target.data();
  char* last = first + target.size();
  if (first == last)
    return http_target::bad;
  if (*first != '/') {
    // Absolute form: scheme://authority/path.
    const std::string_view t(first, target.size());
    const std::size_t scheme = t.find("://");
    if (scheme == std::string_view::npos)
      return http_target::bad;
    const std::size_t slash = t.find('/', scheme + 3);
    if (slash == std::string_view::npos) {
      first = last;  // no path: "/"
    } else {
      first += slash;
    }
  }
  for (char* p = first; p != last; ++p) {
    if (*p == '?' || *p == '#') {
      last = p;
      break;
    }
  }
  const std::string_view path(first, static_cast<std::size_t>(last - first));
  if (path.empty() || path == "/")
    return http_target::status_page;
  if (path == "/stats.json")
    return http_target::stats_json;
  if (path == "/events")
    return http_target::events;
  if (path == "/healthz")
    return http_target::healthz;
  if (path == "/metrics")
    return http_target::metrics;
  if (path == "/ws")
    return http_target::websocket;
  if (path.starts_with("/subscribe/"))
    return http_target::subscribe;
  if (ends_with(path, ".txt")) {
    text = true;
    last -= 4;
  }
  ++first;  // the leading '/'
  if (last > first && last[-1] == '/')
    --last;
  // Segments, each decoded in place over itself.
  char* seg = first;
  for (char* p = first;; ++p) {
    if (p == last || *p == '/') {
      char* end = percent_decode(seg, p);
      if (end == nullptr)
        return http_target::bad;
      words.emplace_back(seg, static_cast<std::size_t>(end - seg));
      if (p == last)
        break;
      seg = p + 1;
    }
  }
  return http_target::command;
}

}  // namespace coronet::detail
