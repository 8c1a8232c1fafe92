// Matching a request's method and path against http_routes: the path split
// into percent-decoded segments, the query decoded, the most specific route
// found. Pure functions over buffers the session reuses (no allocation once
// they have grown to a request's size).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/server/http_routes.hpp"

namespace coronet::detail {

// A request path as routes see it.
struct http_path {
  // The path, percent-decoded: '/' and the segments joined by '/' (a decoded
  // "%2F" is in a segment, not between two). The request's own bytes when it
  // has no '%', else `buffer`.
  std::string_view decoded;
  // The path had escapes (`decoded` is `buffer`).
  bool escaped = false;
  // Views into `decoded`: "/" has none, "/a/" has "a" and "". Split when a
  // pattern with parameters is tried (segments()), or at once with escapes.
  mutable std::vector<std::string_view> split;
  mutable bool split_done = false;
  // The decoded copy of a path with escapes.
  std::string buffer;

  // The segments, split on first use. Throws std::bad_alloc only.
  const std::vector<std::string_view>& segments() const;
};

// split_path for a path with a '%'.
bool split_escaped_path(std::string_view raw, http_path& out);

// Splits `raw` (a path beginning with '/', without query) into `out`,
// percent-decoding each segment; `out` may point into `raw`. False for a
// malformed escape. Inline: most paths have nothing to decode.
inline bool split_path(std::string_view raw, http_path& out) {
  out.split_done = false;
  if (raw.find('%') != std::string_view::npos)
    return split_escaped_path(raw, out);
  out.escaped = false;
  out.decoded = raw.empty() ? std::string_view("/") : raw;
  return true;
}

// Decodes the query `raw` (without '?') into `fields`, names and values
// pointing into `scratch`: pairs split at '&', name and value at the first
// '=', '+' read as a space, %XX decoded; empty pairs skipped. False for a
// malformed escape.
bool decode_query(std::string_view raw, std::string& scratch, std::vector<http_field>& fields);

// The route for a request, if any.
struct http_match {
  // The route to serve; null when none takes the method.
  const http_route* route = nullptr;
  // Some route's pattern matches the path (with another method, when `route` is null: 405).
  bool path_known = false;
};

// Finds the most specific route of `routes` for `method` and `path`; a HEAD
// request takes a GET route when no HEAD route matches. `params` gets the
// route's parameters (views into path.decoded).
http_match match_route(std::span<const http_route> routes, std::string_view method, const http_path& path,
                       std::vector<http_field>& params);

// The `Allow` value for `path`: the methods of every route of `routes` whose
// pattern matches it, in registration order, HEAD after GET.
std::string allowed_methods(std::span<const http_route> routes, const http_path& path);

// A character of an RFC 9110 token (a method, a header's name).
bool is_token_char(char c) noexcept;

// Splits a request target (origin form, or absolute form whose path is
// taken) into its path and query; false if it is neither form.
inline bool split_target(std::string_view target, std::string_view& path, std::string_view& query) noexcept {
  if (target.empty())
    return false;
  if (target.front() != '/') {
    // Absolute form: scheme://authority/path.
    const std::size_t scheme = target.find("://");
    if (scheme == std::string_view::npos)
      return false;
    const std::size_t slash = target.find_first_of("/?#", scheme + 3);
    target = slash == std::string_view::npos || target[slash] != '/' ? std::string_view("/") : target.substr(slash);
  }
  const char* const first = target.data();
  const char* const last = first + target.size();
  const char* at = first;
  while (at != last && *at != '?' && *at != '#')
    ++at;
  path = std::string_view(first, static_cast<std::size_t>(at - first));
  query = {};
  if (at != last && *at == '?') {
    const char* const from = ++at;
    while (at != last && *at != '#')
      ++at;
    query = std::string_view(from, static_cast<std::size_t>(at - from));
  }
  return true;
}

}  // namespace coronet::detail
