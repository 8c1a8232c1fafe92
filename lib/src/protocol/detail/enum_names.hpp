// Enumerations with names for options and logs (`--protocol resp`): one
// table of names serves both directions.
#pragma once

#include <cstddef>
#include <string_view>

namespace coronet::detail {

// The name of `value` in `names`, which lists the names in the order of the
// enumerators, counting from 0; "unknown" past its end.
template <class Enum, std::size_t N>
constexpr std::string_view name_of(const std::string_view (&names)[N], Enum value) noexcept {
  const auto i = static_cast<std::size_t>(value);
  return i < N ? names[i] : std::string_view("unknown");
}

// Sets `out` to the value named `name` in `names` (as for name_of); false,
// `out` unchanged, if none has that name.
template <class Enum, std::size_t N>
constexpr bool value_named(const std::string_view (&names)[N], std::string_view name, Enum& out) noexcept {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == name) {
      out = static_cast<Enum>(i);
      return true;
    }
  }
  return false;
}

}  // namespace coronet::detail
