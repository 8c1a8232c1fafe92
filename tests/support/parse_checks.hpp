// Checks shared by the request codec tests (line, RESP, raw): a parse result
// against its table row, and words that must point into the parsed buffer.
#pragma once

#include <catch2/catch.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/protocol/parse_result.hpp"

namespace coronet_test {

/// The words as owned strings, to compare with a table row.
inline std::vector<std::string> to_strings(const std::vector<std::string_view>& words) {
  return {words.begin(), words.end()};
}

/// Checks `r` and `words` against a table row with `status`, `consumed`,
/// `words` and `error`; `consumed` is given separately for a codec whose
/// rows do not carry it.
template <class Row>
void check_parsed(const coronet::parse_result& r, const std::vector<std::string_view>& words, const Row& row,
                  std::size_t consumed) {
  CHECK(r.status == row.status);
  CHECK(r.consumed == consumed);
  CHECK(to_strings(words) == row.words);
  CHECK(r.error == row.error);
}

template <class Row>
void check_parsed(const coronet::parse_result& r, const std::vector<std::string_view>& words, const Row& row) {
  check_parsed(r, words, row, row.consumed);
}

/// Checks that every word is a view into `buffer` (parsed in place, no copy).
inline void check_words_inside(const std::vector<std::string_view>& words, std::span<const char> buffer) {
  for (std::string_view w : words) {
    CHECK(w.data() >= buffer.data());
    CHECK(w.data() + w.size() <= buffer.data() + buffer.size());
  }
}

/// Parses complete requests off the front of `rest` with `parse(rest, words)`
/// until one is not complete (which must then be incomplete); their words.
/// `rest` is left at the first byte not consumed.
template <class Parse>
std::vector<std::vector<std::string>> parse_pipelined(std::span<char>& rest, std::vector<std::string_view>& words,
                                                      Parse parse) {
  std::vector<std::vector<std::string>> seen;
  for (;;) {
    const coronet::parse_result result = parse(rest, words);
    if (result.status != coronet::parse_status::complete) {
      CHECK(result.status == coronet::parse_status::incomplete);
      break;
    }
    seen.push_back(to_strings(words));
    rest = rest.subspan(result.consumed);
  }
  return seen;
}

}  // namespace coronet_test
