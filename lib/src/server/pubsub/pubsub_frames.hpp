// RESP frames of Pub/Sub, as redis-server 7.0 writes them (its addReplyPubsub* family): an
// array of 3 or 4 in RESP2, a push of the same length in RESP3.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/detail/decimal.hpp"

namespace coronet::detail {

// `$<n>\r\n`
template <class Out>
void append_bulk_header(Out& out, std::size_t n) {
  out += '$';
  append_decimal(out, static_cast<std::int64_t>(n));
  out += "\r\n";
}

template <class Out>
void append_bulk(Out& out, std::string_view s) {
  append_bulk_header(out, s.size());
  out.append(s);
  out += "\r\n";
}

// The header of a Pub/Sub frame of `n` elements: an array in RESP2, a push in RESP3.
template <class Out>
void append_pubsub_header(Out& out, bool resp3, int n) {
  out += resp3 ? '>' : '*';
  append_decimal(out, n);
  out += "\r\n";
}

// `pmessage`, RESP2's form (a RESP3 push differs in its first byte only).
template <class Out>
void append_pmessage(Out& out, std::string_view pattern, std::string_view channel,
                            std::string_view payload) {
  out += "*4\r\n$8\r\npmessage\r\n";
  append_bulk(out, pattern);
  append_bulk(out, channel);
  append_bulk(out, payload);
}

// A (p)(un)subscribe confirmation: its kind, the name (null: none, as UNSUBSCRIBE with no
// subscription answers) and the connection's count of subscriptions after it.
template <class Out>
void append_confirmation(Out& out, bool resp3, std::string_view kind, const std::string_view* name,
                                std::size_t subscriptions) {
  append_pubsub_header(out, resp3, 3);
  append_bulk(out, kind);
  if (name != nullptr)
    append_bulk(out, *name);
  else
    out += resp3 ? "_\r\n" : "$-1\r\n";
  out += ':';
  append_decimal(out, static_cast<std::int64_t>(subscriptions));
  out += "\r\n";
}

}  // namespace coronet::detail
