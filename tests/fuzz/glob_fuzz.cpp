// libFuzzer target: the glob matcher of CONFIG GET (core/detail/glob_match.hpp), against a
// plain recursive matcher of the same rules. The input is a pattern and a text separated by
// the first 0 byte; the first byte's low bit turns case folding on. The matcher under test
// backtracks to the last star only; the reference tries every split, so a difference is a
// bug in that backtracking.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/detail/glob_match.hpp"

namespace {

void check(bool condition) {
  if (!condition)
    __builtin_trap();
}

bool reference(std::string_view p, std::string_view t, bool nocase, int depth) {
  if (p.empty())
    return t.empty();
  if (p.front() == '*') {
    for (std::size_t i = 0; i <= t.size(); ++i)
      if (reference(p.substr(1), t.substr(i), nocase, depth + 1))
        return true;
    return false;
  }
  if (t.empty())
    return false;
  std::size_t next = 0;
  return coronet::detail::glob_element_matches(p, 0, t.front(), nocase, next) &&
         reference(p.substr(next), t.substr(1), nocase, depth + 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  const bool nocase = (data[0] & 1) != 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t zero = rest.find('\0');
  const std::string_view pattern = rest.substr(0, zero);
  const std::string_view text = zero == std::string_view::npos ? std::string_view{} : rest.substr(zero + 1);
  const bool got = coronet::detail::glob_match(pattern, text, nocase);
  // The reference is exponential in the stars: compare only where it stays quick.
  std::size_t stars = 0;
  for (char c : pattern)
    stars += c == '*';
  if (stars <= 4 && text.size() <= 64)
    check(got == reference(pattern, text, nocase, 0));
  return 0;
}
