// Runs a server's blocking run() on another thread for the duration of a test.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <future>

namespace coronet_test {

/// Calls `server.run()` on its own thread from construction on. Works for any
/// server with `int run()` and a thread-safe `stop()` (coronet::server,
/// coronet::datagram_server, coronet::services::time_services). The
/// destructor stops the server and waits for run() to return.
template <class Server>
class server_thread {
public:
  explicit server_thread(Server& server)
      : server_(server), result_(std::async(std::launch::async, [&server] { return server.run(); })) {}
  ~server_thread() {
    if (result_.valid()) {
      server_.stop();
      result_.wait();
    }
  }

  /// Stops the server and waits, unbounded, for run() to return; run()'s
  /// exit code (the same on every call). Rethrows what run() threw.
  int stop() {
    if (result_.valid()) {
      server_.stop();
      exit_code_ = result_.get();
    }
    return exit_code_;
  }

  /// As stop(), but fails the test (REQUIRE) if run() has not returned
  /// within `limit`.
  int stop_within(std::chrono::milliseconds limit) {
    if (result_.valid()) {
      server_.stop();
      REQUIRE(result_.wait_for(limit) == std::future_status::ready);
    }
    return stop();
  }

  /// run()'s result, for a test that stops the server another way.
  std::future<int>& result() { return result_; }

private:
  Server& server_;
  std::future<int> result_;
  int exit_code_ = -1;
};

}  // namespace coronet_test
