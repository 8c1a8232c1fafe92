// What every request parser's result must satisfy, for the libFuzzer targets.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "coronet/protocol/codec_limits.hpp"
#include "coronet/protocol/parse_result.hpp"

// Stops the fuzzer on the first broken invariant, with the input that broke it.
inline void check(bool condition) {
  if (!condition)
    __builtin_trap();
}

// Checks `r`, the result of parsing the start of `input` into `words`: a
// result short of complete consumed nothing, produced no words and has an
// error text exactly when it is an error; a complete one consumed something,
// within `input`, and its words (at most max_args) lie in the consumed bytes.
// True if the request was complete.
inline bool check_request_result(const coronet::parse_result& r, std::span<const char> input,
                                 const std::vector<std::string_view>& words, const coronet::codec_limits& limits) {
  check(r.consumed <= input.size());
  if (r.status != coronet::parse_status::complete) {
    check(r.consumed == 0);
    check(words.empty());
    check((r.status == coronet::parse_status::error) == !r.error.empty());
    return false;
  }
  check(r.consumed > 0);
  check(words.size() <= limits.max_args);
  for (std::string_view w : words)
    check(w.data() >= input.data() && w.data() + w.size() <= input.data() + r.consumed);
  return true;
}
