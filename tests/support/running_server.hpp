// A coronet::server with its own router, running on another thread for one test.
#pragma once

#include <chrono>
#include <cstdint>
#include <future>
#include <utility>

#include "coronet/server/server.hpp"
#include "support/server_thread.hpp"
#include "support/test_commands.hpp"

namespace coronet_test {

/// One worker thread on a port the kernel picks, speaking `p` (by default
/// the server's default protocol).
inline coronet::server_options test_server_options(coronet::wire_protocol p = coronet::server_options{}.protocol) {
  coronet::server_options o;
  o.port = 0;
  o.threads = 1;
  o.protocol = p;
  return o;
}

/// As test_server_options, on 127.0.0.1, without signal handling and with a
/// 200 ms drain: a test that leaves a handler sleeping must not wait out a
/// long drain.
inline coronet::server_options quick_stop_options(coronet::wire_protocol p = coronet::server_options{}.protocol) {
  coronet::server_options o = test_server_options(p);
  o.host = "127.0.0.1";
  o.handle_signals = false;
  o.drain_timeout = std::chrono::milliseconds(200);
  return o;
}

/// A server that owns its router (the test router unless given one) and
/// runs from construction on; the destructor stops it and waits.
class running_server {
public:
  explicit running_server(coronet::server_options o = test_server_options(), coronet::router r = make_test_router())
      : router_(std::move(r)), server_(router_, std::move(o)), thread_(server_) {}
  running_server(const running_server&) = delete;
  running_server& operator=(const running_server&) = delete;

  /// Stops the server and waits for run() to return; its exit code.
  int stop() { return thread_.stop(); }
  /// As stop(); fails the test if run() takes longer than `limit` to return.
  int stop_within(std::chrono::milliseconds limit) { return thread_.stop_within(limit); }
  /// run()'s result, for a test that stops the server another way.
  std::future<int>& result() { return thread_.result(); }

  coronet::server& get() { return server_; }
  /// The port of listener `i` (0: the main one).
  std::uint16_t port(std::size_t i = 0) const { return server_.port(i); }

private:
  coronet::router router_;
  coronet::server server_;
  server_thread<coronet::server> thread_;
};

}  // namespace coronet_test
