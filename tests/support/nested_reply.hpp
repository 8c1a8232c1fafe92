// A reply with an array nested in an array, for the reply and client tests.
#pragma once

#include <utility>
#include <vector>

#include "coronet/protocol/reply.hpp"

namespace coronet_test {

/// [x, 1, [y, nil], `last`]: text, integer, a nested array of bulk and null,
/// then `last`.
inline coronet::reply nested_reply(coronet::reply last) {
  using coronet::reply;
  std::vector<reply> inner;
  inner.push_back(reply::bulk("y"));
  inner.push_back(reply::null());
  std::vector<reply> outer;
  outer.push_back(reply::text("x"));
  outer.push_back(reply::integer(1));
  outer.push_back(reply::array(std::move(inner)));
  outer.push_back(std::move(last));
  return reply::array(std::move(outer));
}

}  // namespace coronet_test
