// Proof that coroutine frames were destroyed: a token they hold, and a watch.
#pragma once

#include <memory>
#include <utility>

namespace coronet_test {

// A token for a coroutine frame to hold, and a watch on it: once the watch
// has expired, every frame that held a copy was destroyed.
inline std::pair<std::shared_ptr<int>, std::weak_ptr<int>> watched_token() {
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  return {std::move(token), std::move(watch)};
}

}  // namespace coronet_test
