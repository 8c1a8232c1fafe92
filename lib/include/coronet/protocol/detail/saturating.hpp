// Size arithmetic that stops at SIZE_MAX instead of wrapping: a limit plus the
// bytes of a line end, where the limit may be "unlimited". Not an API: the
// request parsers share it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace coronet::detail {

/// `a + b`, or SIZE_MAX when that would overflow.
constexpr std::size_t saturating_add(std::size_t a, std::size_t b) noexcept {
  return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

}  // namespace coronet::detail
