// coronet::detail::lazy_read: a read from a TCP socket whose buffer is taken only once the
// socket has data, so that a connection waiting for its next request holds no buffer.
// Not an API; the session loops use it (docs/architecture.md, "Idle connections").
//
// On Asio's epoll reactor it is a reactor operation of coronet's own, kept in the awaiter
// (nothing is allocated per read): the reactor calls its perform step when the socket is
// readable (and once at the start, as Asio tries every read first), and that step takes the
// space, receives into it, and gives the space back if the receive would block. On a ring,
// or with another reactor, the space is taken up front and the socket's own read runs.
#pragma once

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <new>
#include <system_error>

// io_context first: Asio's detail headers below need what it declares.
#include <asio/io_context.hpp>
#include <asio/buffer.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/detail/reactor.hpp>
#include <asio/detail/reactor_op.hpp>
#include <asio/detail/socket_ops.hpp>
#include <asio/error.hpp>

#include "coronet/net/detail/io_awaiter.hpp"
#include "coronet/net/detail/ring_transport.hpp"

#if defined(ASIO_HAS_EPOLL) && !defined(ASIO_HAS_IO_URING_AS_DEFAULT) && !defined(ASIO_HAS_IOCP)
#define CORONET_DETAIL_REACTOR_READS 1
#else
#define CORONET_DETAIL_REACTOR_READS 0
#endif

namespace coronet::detail {

/// What a `lazy_read` reads into: `prepare(limit)` gives room (it may allocate, and throw
/// `std::bad_alloc`); `release()` gives the memory back if it holds no unconsumed byte.
/// `coronet::read_buffer` is one.
template <class Space>
concept read_space = requires(Space& s, std::size_t limit) {
  { s.prepare(limit) } -> std::convertible_to<asio::mutable_buffer>;
  { s.release() } noexcept;
};

#if CORONET_DETAIL_REACTOR_READS
/// The epoll reactor of `ctx` (Asio's service), looked up once per thread and context.
inline asio::detail::epoll_reactor& reactor_of(asio::execution_context& ctx) {
  struct cache {
    asio::execution_context* context;
    asio::detail::epoll_reactor* reactor;
  };
  static constinit thread_local cache last{nullptr, nullptr};
  if (last.context != &ctx) [[unlikely]]
    last = {&ctx, &asio::use_service<asio::detail::epoll_reactor>(ctx)};
  return *last.reactor;
}
#endif

/// Awaiter of one read of at most `limit` bytes into a `read_space`, yielding the count.
/// Errors as every coronet operation (`io_awaiter`): to `*ec`, or thrown when `ec` is null;
/// `asio::error::eof` at the end of the stream, `asio::error::no_memory` when the space
/// could not be taken. Room for 0 bytes (`limit` bytes are held) completes with 0.
template <read_space Space>
class lazy_read : public io_awaiter<lazy_read<Space>, std::size_t> {
  using base = io_awaiter<lazy_read<Space>, std::size_t>;

public:
  /// The read from `socket` into `space`; neither may move or go away until it completes.
  lazy_read(tcp_transport& socket, Space& space, std::size_t limit, std::error_code* ec) noexcept
      : base(ec), socket_(socket), space_(space), limit_(limit) {}
  lazy_read(const lazy_read&) = delete;
  lazy_read& operator=(const lazy_read&) = delete;

  /// Starts the read; the coroutine resumes when it completes.
  template <class Promise>
  void await_suspend(std::coroutine_handle<Promise> h) {
#if CORONET_DETAIL_REACTOR_READS
    if (!socket_.on_ring()) {
      this->waiter_ = h;
      this->context_ = context_of(h);
      start_on_reactor(this->context_ != nullptr ? this->context_->slot : asio::cancellation_slot{});
      return;
    }
#endif
    base::await_suspend(h);
  }

  /// The read on a ring or another reactor: the space is taken now (called by
  /// `io_awaiter::await_suspend`).
  void initiate(io_handler<lazy_read> h) { socket_.async_read_some(space_.prepare(limit_), std::move(h)); }

private:
#if CORONET_DETAIL_REACTOR_READS
  using reactor = asio::detail::epoll_reactor;

  // Installed in the chain's cancellation slot while the read waits: cancels it as Asio's
  // own reactor operations are cancelled (the key is this object's address).
  struct cancel_read {
    reactor* r;
    reactor::per_descriptor_data* data;
    asio::detail::socket_type fd;
    void operator()(asio::cancellation_type type) noexcept {
      if (!!(type & (asio::cancellation_type::terminal | asio::cancellation_type::partial |
                     asio::cancellation_type::total)))
        r->cancel_ops_by_key(fd, *data, reactor::read_op, this);
    }
  };

  struct operation final : asio::detail::reactor_op {
    explicit operation(lazy_read& a) noexcept
        : reactor_op(no_error, &lazy_read::perform_read, &lazy_read::complete_read), owner(a) {}
    lazy_read& owner;
  };
  // Made once: a default-constructed error_code calls std::system_category() each time.
  static inline const asio::error_code no_error{};

  // The reactor's step: take the space and receive into it (called with the descriptor's
  // lock held, on the thread that runs the io_context).
  static asio::detail::reactor_op::status perform_read(asio::detail::reactor_op* base_op) {
    auto* op = static_cast<operation*>(base_op);
    asio::mutable_buffer room;
    try {
      room = op->owner.space_.prepare(op->owner.limit_);
    } catch (const std::bad_alloc&) {
      op->ec_ = asio::error::no_memory;
      return asio::detail::reactor_op::done;
    }
    if (room.size() == 0)
      return asio::detail::reactor_op::done;
    if (!asio::detail::socket_ops::non_blocking_recv1(op->owner.socket_.reactor_state().socket_, room.data(), room.size(), 0, true, op->ec_,
                                                      op->bytes_transferred_)) {
      // Nothing to read yet: no memory is held while the connection waits.
      op->owner.space_.release();
      return asio::detail::reactor_op::not_done;
    }
    // The end of the stream is done and exhausted, as for Asio's receive.
    return op->bytes_transferred_ == 0 ? asio::detail::reactor_op::done_and_exhausted
                                       : asio::detail::reactor_op::done;
  }

  // The completion, run by the io_context; `io` is null when the operation is destroyed
  // unrun (its io_context is going away): the suspended chain is then abandoned, as when an
  // Asio handler is destroyed uncalled.
  static void complete_read(void* io, asio::detail::scheduler_operation* base_op, const asio::error_code&, std::size_t) {
    auto* op = static_cast<operation*>(base_op);
    lazy_read& a = op->owner;
    // The chain's slot, where start_on_reactor installed the handler if it was connected.
    if (a.context_ != nullptr && a.context_->slot.is_connected())
      a.context_->slot.clear();
    if (io == nullptr) {
      abandon_chain(a.context_);
      return;
    }
    a.ec_ = op->ec_;
    a.result_ = op->bytes_transferred_;
    tl_inline_completions = 0;
    a.waiter_.resume();
  }

  void start_on_reactor(asio::cancellation_slot slot) {
    auto& state = socket_.reactor_state();
    reactor& r = reactor_of(socket_.get_executor().context());
    if (slot.is_connected()) {
      op_.cancellation_key_ = &slot.emplace<cancel_read>(&r, &state.reactor_data_, state.socket_);
    }
    if ((state.state_ & asio::detail::socket_ops::internal_non_blocking) == 0 &&
        !asio::detail::socket_ops::set_internal_non_blocking(state.socket_, state.state_, true, op_.ec_)) {
      r.post_immediate_completion(&op_, false);
      return;
    }
    r.start_op(reactor::read_op, state.socket_, state.reactor_data_, &op_, false, true);
  }

  operation op_{*this};
#endif

  tcp_transport& socket_;
  Space& space_;
  std::size_t limit_;
};

}  // namespace coronet::detail
