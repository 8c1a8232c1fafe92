// A task spawned with a cancellation slot, for the tests of cancellation.
#pragma once

#include <catch2/catch.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <system_error>

#include "coronet/core/spawn.hpp"
#include "coronet/core/task.hpp"
#include "support/wait_helpers.hpp"

namespace coronet_test {

// A task spawned with a cancellation slot, and how it ended: `started` once
// its body began, `done` once it ended, `thrown` the code of the
// std::system_error it ended with, if any.
struct cancellable_run {
  asio::cancellation_signal signal;
  bool started = false;
  bool done = false;
  std::error_code thrown;

  // Spawns on `ctx` a task that sets `started`, then awaits `body()`, with
  // `signal`'s slot bound to its completion.
  template <class Body>
  void spawn(asio::io_context& ctx, Body body) {
    coronet::spawn(
        ctx,
        [this, body]() -> coronet::task<void> {
          started = true;
          co_await body();
        },
        asio::bind_cancellation_slot(signal.slot(), [this](std::exception_ptr e) {
          done = true;
          try {
            if (e)
              std::rethrow_exception(e);
          } catch (const std::system_error& error) {
            thrown = error.code();
          }
        }));
  }

  // Emits a terminal cancellation and runs `ctx` until the task has ended,
  // failing the test (REQUIRE) after 2 s; how long it took.
  clock_type::duration cancel(asio::io_context& ctx) {
    const auto start = clock_type::now();
    signal.emit(asio::cancellation_type::terminal);
    REQUIRE(run_until(
        ctx, [this] { return done; }, std::chrono::seconds(2)));
    return clock_type::now() - start;
  }
};

}  // namespace coronet_test
