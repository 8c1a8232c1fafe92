// Whitespace splitting and joining shared by the line and raw codecs (no quoting).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace coronet::detail {

// Appends the words of `text` separated by runs of bytes for which
// `is_separator` holds; every separator must be a byte at or below the space
// character, so the common bytes above it cost one comparison. Returns false
// as soon as more than `max_words` words are found (words then holds a
// partial result).
template <class IsSeparator>
bool split_words(std::string_view text, std::vector<std::string_view>& words, std::size_t max_words,
                 IsSeparator is_separator) {
  const char* p = text.data();
  const char* const last = p + text.size();
  for (;;) {
    while (p != last && is_separator(*p))
      ++p;
    if (p == last)
      return true;
    const char* const start = p;
    while (p != last && (static_cast<unsigned char>(*p) > ' ' || !is_separator(*p)))
      ++p;
    if (words.size() == max_words)
      return false;
    words.emplace_back(start, static_cast<std::size_t>(p - start));
  }
}

// Appends each element of `elements` with `append`, separated by one space
// (how the line and raw protocols flatten an array reply).
template <class Elements, class Out, class Append>
void append_spaced(const Elements& elements, Out& out, Append append) {
  bool first = true;
  for (const auto& element : elements) {
    if (!first)
      out.push_back(' ');
    first = false;
    append(element, out);
  }
}

// Appends `words` joined by one space.
template <class Out>
void append_joined(std::span<const std::string_view> words, Out& out) {
  append_spaced(words, out, [](std::string_view word, Out& o) { o += word; });
}

}  // namespace coronet::detail
