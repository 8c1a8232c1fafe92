// Branches for the tests of when_all, when_any and with_timeout: sleeps that
// log how they ended, values now or after a yield, failures.
#pragma once

#include <chrono>
#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include <asio/error.hpp>

#include "coronet/core/task.hpp"
#include "coronet/core/error.hpp"
#include "coronet/net/timer.hpp"
#include "coronet/net/yield.hpp"

namespace coronet_test {

/// Sleeps `d` unless cancelled, then returns `v`; counts the sleeps started,
/// aborted (ended by cancellation, which is rethrown), timed out (ended by a
/// `with_timeout` deadline: `errc::timeout`, rethrown) and finished.
struct sleeper_log {
  int started = 0;
  int aborted = 0;
  int timed_out = 0;
  int finished = 0;
  coronet::task<int> sleep(std::chrono::steady_clock::duration d = std::chrono::hours(1), int v = 0) {
    ++started;
    try {
      co_await coronet::sleep_for(d);
    } catch (const std::system_error& e) {
      if (e.code() == asio::error::operation_aborted)
        ++aborted;
      if (e.code() == coronet::errc::timeout)
        ++timed_out;
      throw;
    }
    ++finished;
    co_return v;
  }
};

/// `v` at once.
inline coronet::task<int> value_now(int v) { co_return v; }

/// `v` after one trip through the executor.
inline coronet::task<int> value_after_yield(int v) {
  co_await coronet::yield();
  co_return v;
}

/// Throws `std::runtime_error(what)` after one trip through the executor.
inline coronet::task<int> fail_after_yield(std::string what) {
  co_await coronet::yield();
  throw std::runtime_error(what);
}

/// The message of the exception `t` ends with, or "" if none.
template <class T>
coronet::task<std::string> failure_of(coronet::task<T> t) {
  try {
    co_await std::move(t);
  } catch (const std::exception& e) {
    co_return e.what();
  }
  co_return "";
}

}  // namespace coronet_test
