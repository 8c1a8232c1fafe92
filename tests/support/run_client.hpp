// Runs the client side of a test on a private io_context in the calling thread.
#pragma once

#include <asio/io_context.hpp>

#include "coronet/core/sync_wait.hpp"

namespace coronet_test {

/// Runs `body(executor)` (a coroutine returning task<void>) to completion on
/// a fresh one-thread io_context; rethrows what it throws.
template <class Body>
void run_client(Body body) {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, body(ctx.get_executor()));
}

}  // namespace coronet_test
