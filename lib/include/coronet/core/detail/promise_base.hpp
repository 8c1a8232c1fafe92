// What every coronet coroutine frame shares with the chain of frames awaiting it.
#pragma once

#include <coroutine>
#include <cstddef>
#include <type_traits>

#include <asio/any_io_executor.hpp>
#include <asio/cancellation_signal.hpp>

#include "coronet/core/detail/frame_allocator.hpp"

namespace coronet::detail {

/// State shared by a chain of coroutines that await one another: the root
/// (a `spawn`ed or `sync_wait`ed task) and every task it awaits, transitively.
///
/// Only one operation of a chain is pending at a time, except below a fork
/// (`when_all`, `with_timeout`), which gives each branch a context of its own.
struct chain_context {
  /// Executor the chain runs on; what `this_executor` returns.
  asio::any_io_executor executor;
  /// Slot that Asio operations started by the chain are bound to.
  asio::cancellation_slot slot;
  /// Called when an operation the chain waits on is destroyed without ever
  /// completing (its io_context was destroyed first), so that the suspended
  /// frames are freed rather than leaked. Null means: nobody owns the chain.
  void (*abandon)(chain_context*) noexcept = nullptr;
  /// The context of the chain this one is a branch of (set by a fork), or
  /// null for a root.
  chain_context* parent = nullptr;
  /// Set by `with_timeout` on its task's branch just before its deadline
  /// cancels it, so that the cancelled operations report `errc::timeout`.
  bool deadline_passed = false;
};

/// True if `c` or a chain it is a branch of was cancelled by a deadline.
inline bool cancelled_by_deadline(const chain_context* c) noexcept {
  for (; c != nullptr; c = c->parent)
    if (c->deadline_passed)
      return true;
  return false;
}

/// Reports that the operation a chain waits on will never complete.
inline void abandon_chain(chain_context* c) noexcept {
  if (c != nullptr && c->abandon != nullptr)
    c->abandon(c);
}

/// Base of every coronet promise: pooled frame memory, the continuation to
/// resume at the end, and the chain context inherited from the awaiter.
struct promise_base {
  // Always inline: g++ otherwise calls the release out of line from every frame's destroy
  // (about 20 instructions per coroutine call, bench/micro's `nested`).
  [[gnu::always_inline]] static void* operator new(std::size_t size) { return frame_pool::allocate(size); }
  [[gnu::always_inline]] static void operator delete(void* p, std::size_t size) noexcept {
    frame_pool::deallocate(p, size);
  }

  std::coroutine_handle<> continuation_{};
  chain_context* context_ = nullptr;
};

/// The chain context of a suspended coroutine, or null when it is not a coronet one.
template <class Promise>
chain_context* context_of(std::coroutine_handle<Promise> h) noexcept {
  if constexpr (std::is_base_of_v<promise_base, Promise>)
    return h.promise().context_;
  else
    return nullptr;
}

}  // namespace coronet::detail
