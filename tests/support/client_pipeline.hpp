// A pipelined exchange through coronet::client, shared by the client tests.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "coronet/client/client.hpp"
#include "coronet/core/task.hpp"

namespace coronet_test {

/// Sends `command 0` .. `command count-1` without waiting, then checks that
/// the replies come back in order, each the text of its argument (as ECHO
/// and PING with an argument answer).
inline coronet::task<void> check_pipelined(coronet::client& c, std::string_view command, int count) {
  for (int i = 0; i < count; ++i)
    c.send(command, std::to_string(i));
  for (int i = 0; i < count; ++i) {
    const coronet::reply r = co_await c.receive();
    CHECK(r.str() == std::to_string(i));
  }
}

}  // namespace coronet_test
