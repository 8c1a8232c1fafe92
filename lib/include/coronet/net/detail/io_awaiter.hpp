// The one mechanism by which coronet awaits an Asio operation.
#pragma once

#include <coroutine>
#include <cstddef>
#include <system_error>
#include <utility>

#include <asio/associated_allocator.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/error.hpp>

#include "coronet/core/detail/frame_allocator.hpp"
#include "coronet/core/detail/promise_base.hpp"
#include "coronet/core/error.hpp"

namespace coronet::detail {

// The awaiter whose operation is being initiated on this thread. A handler
// destroyed while it is set is being unwound by a throwing initiation, whose
// exception already reaches the coroutine: it must not abandon the chain.
inline constinit thread_local const void* tl_initiating = nullptr;

// Sets `tl_initiating` to one operation for the scope of its initiation, and
// gives the previous value back when the scope ends, by return or by throw.
class initiation_scope {
public:
  explicit initiation_scope(const void* op) noexcept : previous_(std::exchange(tl_initiating, op)) {}
  initiation_scope(const initiation_scope&) = delete;
  initiation_scope& operator=(const initiation_scope&) = delete;
  ~initiation_scope() { tl_initiating = previous_; }

private:
  const void* previous_;
};

// Operations that completed without suspending, in a row, on this thread.
// Bounded so that one always-ready connection cannot starve the others.
inline constinit thread_local unsigned tl_inline_completions = 0;
inline constexpr unsigned max_inline_completions = 64;

/// Completion handler of every coronet awaitable: holds a pointer to the
/// awaiter, stores the result there and resumes the coroutine inline.
///
/// Its associated allocator is the thread's frame pool (no heap allocation per
/// operation) and its cancellation slot is the awaiting chain's. Destroyed
/// without being invoked (the io_context went away with the operation still
/// pending) it abandons the chain so the suspended frames are freed.
template <class Awaiter>
class io_handler {
public:
  using allocator_type = pool_allocator<void>;
  using cancellation_slot_type = asio::cancellation_slot;

  io_handler(Awaiter* a, asio::cancellation_slot slot) noexcept : awaiter_(a), slot_(slot) {}
  io_handler(io_handler&& other) noexcept : awaiter_(std::exchange(other.awaiter_, nullptr)), slot_(other.slot_) {}
  io_handler& operator=(io_handler&&) = delete;
  ~io_handler() {
    if (awaiter_ != nullptr && awaiter_ != tl_initiating)
      abandon_chain(awaiter_->context_);
  }

  template <class... Args>
  void operator()(Args&&... args) {
    Awaiter* a = std::exchange(awaiter_, nullptr);
    // Asio leaves the operation's cancellation handler installed; drop it
    // before the objects it refers to can go away.
    if (slot_.is_connected())
      slot_.clear();
    a->complete(std::forward<Args>(args)...);
    tl_inline_completions = 0;
    a->waiter_.resume();
  }

  allocator_type get_allocator() const noexcept { return {}; }
  cancellation_slot_type get_cancellation_slot() const noexcept { return slot_; }

private:
  Awaiter* awaiter_;
  asio::cancellation_slot slot_;
};

/// Where an operation reports its failure: by default nowhere, and the
/// `co_await` throws `std::system_error`; converted from a
/// `std::error_code&`, into it (cleared on success), without throwing for
/// I/O errors. Lets one function serve both forms: `s.read_some(b)` and
/// `s.read_some(b, ec)`.
class error_target {
public:
  /// Errors are thrown.
  error_target() noexcept = default;
  /// Errors go to `ec`.
  error_target(std::error_code& ec) noexcept : ec_(&ec) {}  // NOLINT(google-explicit-constructor)
  /// Where errors go, or null when they are thrown.
  std::error_code* get() const noexcept { return ec_; }

private:
  std::error_code* ec_ = nullptr;
};

/// report_io_error's half for an operation that failed (`ec` is an error): out of line,
/// so that the common case is two tests where it is inlined.
[[gnu::noinline]] inline void report_io_failure(std::error_code& ec, const chain_context* context,
                                                std::error_code* user_ec) {
  if (ec == asio::error::operation_aborted && cancelled_by_deadline(context))
    ec = make_error_code(errc::timeout);
  if (user_ec == nullptr)
    throw std::system_error(ec);
  *user_ec = ec;
}

/// Reports how an operation awaited by a chain with `context` ended, in the form
/// requested: into `*user_ec`, or thrown (std::system_error) when that is null and
/// `ec` is an error. An operation cancelled by a with_timeout deadline reports
/// errc::timeout rather than operation_aborted (`ec` is changed to it).
[[gnu::always_inline]] inline void report_io_error(std::error_code& ec, const chain_context* context,
                                                   std::error_code* user_ec) {
  if (ec) [[unlikely]] {
    report_io_failure(ec, context, user_ec);
    return;
  }
  if (user_ec != nullptr)
    *user_ec = ec;
}

/// Base of awaiters for one Asio operation producing a `Result`.
///
/// `Derived` provides `initiate(io_handler<Derived>)`, which starts the
/// operation; the completion `(std::error_code[, Result])` is stored by
/// `complete`, which `Derived` may hide to store something else.
/// The throwing form (no `std::error_code*` given) throws
/// `std::system_error` from `co_await` when the operation failed; the other
/// form stores the error in `*ec` (cleared on success) and returns whatever
/// partial result the operation produced. An operation cancelled because a
/// `with_timeout` deadline passed fails with `coronet::errc::timeout`
/// instead of `operation_aborted`, in either form.
template <class Derived, class Result>
class io_awaiter {
public:
  explicit io_awaiter(std::error_code* ec = nullptr) noexcept : user_ec_(ec) {}

  bool await_ready() const noexcept { return false; }

  template <class Promise>
  void await_suspend(std::coroutine_handle<Promise> h) {
    waiter_ = h;
    context_ = context_of(h);
    asio::cancellation_slot slot = context_ != nullptr ? context_->slot : asio::cancellation_slot{};
    // Not a member touched after initiation: with several threads the
    // handler may run, and this frame be gone, before initiate returns.
    const initiation_scope initiating(this);
    static_cast<Derived*>(this)->initiate(io_handler<Derived>{static_cast<Derived*>(this), slot});
  }

  Result await_resume() {
    finish();
    return std::move(result_);
  }

  /// Stores the outcome of an operation that yields only an error.
  void complete(std::error_code ec) noexcept { ec_ = ec; }
  /// Stores the outcome of an operation that yields a value.
  template <class Value>
  void complete(std::error_code ec, Value&& value) noexcept(noexcept(result_ = std::forward<Value>(value))) {
    ec_ = ec;
    result_ = std::forward<Value>(value);
  }

protected:
  template <class>
  friend class io_handler;

  // Reports the error in the requested form (report_io_error).
  void finish() { report_io_error(ec_, context_, user_ec_); }

  std::coroutine_handle<> waiter_{};
  chain_context* context_ = nullptr;
  std::error_code* user_ec_;
  std::error_code ec_{};
  Result result_{};
};

/// As `io_awaiter` for operations with no result but success or an error.
template <class Derived>
class io_awaiter<Derived, void> : public io_awaiter<Derived, bool> {
public:
  using io_awaiter<Derived, bool>::io_awaiter;
  void await_resume() { this->finish(); }
};

}  // namespace coronet::detail
