// A reply as one line of words: what the line and raw protocols send and what
// reply::to_string() gives, which differ only in how strings and null appear.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "coronet/protocol/reply.hpp"
#include "protocol/detail/decimal.hpp"
#include "protocol/detail/split_words.hpp"

namespace coronet::detail {

/// Appends `r`: integers in decimal, reals as Redis formats them, booleans as
/// `true`/`false`, the elements of an array or set joined by one space, a
/// map's pairs as `key=value` joined by one space; `leaf(r, out)` appends a
/// text, error, bulk, verbatim or null reply.
template <class Out, class Leaf>
void append_reply_text(const reply& r, Out& out, const Leaf& leaf) {
  switch (r.kind()) {
    case reply_kind::integer: append_decimal(out, r.integer()); break;
    case reply_kind::boolean: out.append(r.boolean() ? "true" : "false"); break;
    case reply_kind::real: append_double(out, r.real()); break;
    case reply_kind::array:
    case reply_kind::set:
      append_spaced(r.elements(), out,
                    [&leaf](const reply& element, Out& o) { append_reply_text(element, o, leaf); });
      break;
    case reply_kind::map: {
      const std::span<const reply> all = r.elements();
      for (std::size_t i = 0; i + 1 < all.size(); i += 2) {
        if (i > 0)
          out.push_back(' ');
        append_reply_text(all[i], out, leaf);
        out.push_back('=');
        append_reply_text(all[i + 1], out, leaf);
      }
      break;
    }
    case reply_kind::text:
    case reply_kind::error:
    case reply_kind::bulk:
    case reply_kind::verbatim:
    case reply_kind::null: leaf(r, out); break;
  }
}

}  // namespace coronet::detail
