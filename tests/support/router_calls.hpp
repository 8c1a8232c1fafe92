// Router fixtures for the command tests: the built-in commands, and one
// request dispatched to completion without a server.
#pragma once

#include <string_view>
#include <vector>

#include "coronet/command/connection.hpp"
#include "coronet/command/request.hpp"
#include "coronet/command/router.hpp"
#include "coronet/commands/builtins.hpp"
#include "coronet/core/sync_wait.hpp"

namespace coronet_test {

/// A router with `register_builtins` and nothing else.
inline coronet::router builtins() {
  coronet::router r;
  coronet::commands::register_builtins(r);
  return r;
}

/// Dispatches `words` through `r` on the calling thread, as connection
/// `conn` (none if null), and returns the reply.
inline coronet::reply call(const coronet::router& r, std::vector<std::string_view> words,
                           coronet::connection* conn = nullptr) {
  coronet::request req = coronet::request::from_words(words);
  req.conn = conn;
  return coronet::sync_wait(r.dispatch(req));
}

}  // namespace coronet_test
