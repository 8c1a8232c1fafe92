// Whitespace splitting and joining shared by the line and raw codecs (no quoting).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace coronet::detail {

// Appends the words of `text` separated by runs of bytes for which
// `is_separator` holds. Returns false as soon as more than `max_words` words
// are found (words then holds a partial result).
template <class IsSeparator>
bool split_words(std::string_view text, std::vector<std::string_view>& words, std::size_t max_words,
                 IsSeparator is_separator) {
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_separator(text[i]))
      ++i;
    if (i == text.size())
      break;
    const std::size_t start = i;
    while (i < text.size() && !is_separator(text[i]))
      ++i;
    if (words.size() == max_words)
      return false;
    words.push_back(text.substr(start, i - start));
  }
  return true;
}

// Appends `words` joined by one space.
inline void append_joined(std::span<const std::string_view> words, std::string& out) {
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0)
      out += ' ';
    out += words[i];
  }
}

// Appends each element of `elements` with `append`, separated by one space
// (how the line and raw protocols flatten an array reply).
template <class Elements, class Append>
void append_spaced(const Elements& elements, std::string& out, Append append) {
  bool first = true;
  for (const auto& element : elements) {
    if (!first)
      out.push_back(' ');
    first = false;
    append(element, out);
  }
}

}  // namespace coronet::detail
