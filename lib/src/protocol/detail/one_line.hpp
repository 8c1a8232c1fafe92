// Keeping text on one line of the wire, as Redis writes simple strings and
// errors: shared by the RESP and line codecs.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "protocol/detail/byte_set.hpp"

namespace coronet::detail {

inline constexpr byte_set line_breaks("\r\n");

// Appends `text` to `out` with every CR and LF turned into a space, so it
// cannot end the line early; runs without them are copied whole.
template <class Out>
void append_on_one_line(Out& out, std::string_view text) {
  std::size_t run = 0;  // start of the bytes not yet copied
  for (std::size_t i = line_breaks.find_in(text); i < text.size(); i = line_breaks.find_in(text, run)) {
    out.append(text.data() + run, i - run);
    out.push_back(' ');
    run = i + 1;
  }
  out.append(text.data() + run, text.size() - run);
}

}  // namespace coronet::detail
