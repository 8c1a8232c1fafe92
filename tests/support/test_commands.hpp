// The commands the server tests register: ping, sleep, fail, big.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

#include "coronet/command/router.hpp"
#include "coronet/net/timer.hpp"

namespace coronet_test {

/// Adds `sleep N`: waits N milliseconds, then replies SLEPT.
inline void add_sleep_command(coronet::router& r) {
  r.add(
      "sleep", "waits N milliseconds, then SLEPT",
      [](coronet::request& q) -> coronet::task<coronet::reply> {
        co_await coronet::sleep_for(std::chrono::milliseconds(std::stol(std::string(q.arg(0)))));
        co_return coronet::reply::text("SLEPT");
      },
      coronet::arity::exactly(1));
}

/// A router with `ping [msg]` (PONG or msg), `sleep N` (waits N ms, then
/// SLEPT), `fail` (throws) and `big N` (N bytes of 'x').
inline coronet::router make_test_router() {
  coronet::router r;
  r.add(
      "ping", "PONG or the argument",
      [](coronet::request& q) -> coronet::task<coronet::reply> {
        if (q.size() == 1)
          co_return coronet::reply::bulk(q.arg(0));
        co_return coronet::reply::text("PONG");
      },
      coronet::arity::between(0, 1));
  add_sleep_command(r);
  r.add(
      "fail", "throws",
      [](coronet::request&) -> coronet::task<coronet::reply> {
        throw std::runtime_error("handler failure");
        co_return coronet::reply::null();
      },
      coronet::arity::exactly(0));
  r.add(
      "big", "N bytes of 'x'",
      [](coronet::request& q) -> coronet::task<coronet::reply> {
        co_return coronet::reply::bulk(std::string(std::stoul(std::string(q.arg(0))), 'x'));
      },
      coronet::arity::exactly(1));
  return r;
}

}  // namespace coronet_test
