// The router's probe of its short names (at most 8 bytes), inlined where a
// request is routed: dispatch_awaiter::route() and direct_lane::call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "command/short_names.hpp"
#include "coronet/command/router.hpp"

namespace coronet {

[[gnu::always_inline]] inline const detail::router_short_name* router::find_short_entry(
    std::string_view name) const noexcept {
  if (short_count_ == 0)
    return nullptr;
  const std::size_t n = name.size();
  const std::uint64_t word = detail::short_word(name.data(), n);
  const std::size_t mask = short_mask_;
  for (std::size_t i = detail::short_slot(word, n, short_shift_);; i = (i + 1) & mask) {
    const detail::router_short_name& e = short_[i];
    if (e.length == 0)
      return nullptr;
    if (e.length == n && (word | e.case_bits) == e.lower)
      return &e;
  }
}

[[gnu::always_inline]] inline const command* router::find_short(std::string_view name) const noexcept {
  const detail::router_short_name* e = find_short_entry(name);
  return e == nullptr ? nullptr : &commands_[e->index];
}

}  // namespace coronet
