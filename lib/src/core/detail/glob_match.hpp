// Glob patterns as Redis matches them (its stringmatchlen: CONFIG GET, KEYS, PSUBSCRIBE):
// `*` any run of bytes, `?` any one byte, `[abc]`, `[^abc]`, `[a-z]` a class, `\x` the byte x.
// Matched without recursion, in O(pattern x text) at worst, so a pattern of many stars costs
// no more than a product of lengths (Redis had to cap its recursive version for that).
#pragma once

#include <cstddef>
#include <string_view>

namespace coronet::detail {

inline char glob_fold(char c, bool nocase) noexcept {
  return nocase && c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Whether the one-byte element of `pattern` at `at` (not a '*') matches `c`; `next` is set to
// where the element ends. A class left open by the end of the pattern ends there; a '\' at
// the very end is a literal '\'.
inline bool glob_element_matches(std::string_view pattern, std::size_t at, char c, bool nocase,
                                 std::size_t& next) noexcept {
  const char p = pattern[at];
  c = glob_fold(c, nocase);
  if (p == '?') {
    next = at + 1;
    return true;
  }
  if (p == '\\' && at + 1 < pattern.size()) {
    next = at + 2;
    return glob_fold(pattern[at + 1], nocase) == c;
  }
  if (p != '[') {
    next = at + 1;
    return glob_fold(p, nocase) == c;
  }
  std::size_t i = at + 1;
  const bool negated = i < pattern.size() && pattern[i] == '^';
  if (negated)
    ++i;
  bool found = false;
  for (; i < pattern.size() && pattern[i] != ']'; ++i) {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      ++i;
      found = found || glob_fold(pattern[i], nocase) == c;
    } else if (i + 2 < pattern.size() && pattern[i + 1] == '-') {
      char lo = glob_fold(pattern[i], nocase);
      char hi = glob_fold(pattern[i + 2], nocase);
      if (lo > hi) {
        const char t = lo;
        lo = hi;
        hi = t;
      }
      found = found || (c >= lo && c <= hi);
      i += 2;
    } else {
      found = found || glob_fold(pattern[i], nocase) == c;
    }
  }
  next = i < pattern.size() ? i + 1 : i;
  return found != negated;
}

// Whether all of `text` matches `pattern`; `nocase` folds ASCII letters on both sides.
inline bool glob_match(std::string_view pattern, std::string_view text, bool nocase = false) noexcept {
  constexpr std::size_t none = std::string_view::npos;
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star_p = none;  // the pattern just after the last '*' seen
  std::size_t star_t = 0;     // where in the text that star's run ends for now
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      while (p < pattern.size() && pattern[p] == '*')
        ++p;
      if (p == pattern.size())
        return true;
      star_p = p;
      star_t = t;
      continue;
    }
    std::size_t next = 0;
    if (p < pattern.size() && glob_element_matches(pattern, p, text[t], nocase, next)) {
      p = next;
      ++t;
      continue;
    }
    if (star_p == none)
      return false;
    // The last star takes one more byte; the rest of the pattern is tried again after it.
    p = star_p;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

}  // namespace coronet::detail
