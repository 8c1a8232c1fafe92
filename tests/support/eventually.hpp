// Waiting, from a test's own thread, for state another thread changes.
#pragma once

#include <chrono>
#include <thread>

namespace coronet_test {

/// Polls `pred()` until it holds; false if it did not within `limit`. For
/// state only observable by polling (server counters, another thread's
/// flags): the 1 ms pause leaves the core to the thread being waited for,
/// which a spinning yield would not on a loaded machine.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return pred();
}

}  // namespace coronet_test
