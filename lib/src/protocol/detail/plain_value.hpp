// The plain-text reply shape the line and raw codecs share: no type markers,
// aggregates flattened onto one line.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "coronet/protocol/reply.hpp"
#include "protocol/detail/decimal.hpp"
#include "protocol/detail/split_words.hpp"

namespace coronet::detail {

// Appends `r`: integers and reals in decimal, booleans as `true`/`false`,
// arrays and sets as their elements separated by one space, maps as
// `key=value` pairs separated by one space (a last key without a value is
// dropped). Strings, errors and null, which the codecs write differently,
// are appended by `leaf(r, out)`.
template <class Leaf>
void append_plain_value(const reply& r, std::string& out, Leaf leaf) {
  switch (r.kind()) {
    case reply_kind::integer: append_decimal(out, r.integer()); break;
    case reply_kind::boolean: out.append(r.boolean() ? "true" : "false"); break;
    case reply_kind::real: append_double(out, r.real()); break;
    case reply_kind::array:
    case reply_kind::set:
      append_spaced(r.elements(), out, [&leaf](const reply& e, std::string& o) { append_plain_value(e, o, leaf); });
      break;
    case reply_kind::map: {
      const std::span<const reply> all = r.elements();
      for (std::size_t i = 0; i + 1 < all.size(); i += 2) {
        if (i > 0)
          out.push_back(' ');
        append_plain_value(all[i], out, leaf);
        out.push_back('=');
        append_plain_value(all[i + 1], out, leaf);
      }
      break;
    }
    case reply_kind::text:
    case reply_kind::bulk:
    case reply_kind::verbatim:
    case reply_kind::error:
    case reply_kind::null: leaf(r, out); break;
  }
}

}  // namespace coronet::detail
