// coronet::detail::lazy_read: a read from a TCP socket whose buffer is taken only once the
// socket has data, so that a connection waiting for its next request holds no buffer.
// Not an API; the session loops use it (docs/architecture.md, "Idle connections").
//
// On Asio's epoll reactor it is a reactor operation of coronet's own, kept in the awaiter
// (nothing is allocated per read): the reactor calls its perform step when the socket is
// readable (and once at the start, as Asio tries every read first, unless the last read
// drained the socket), and that step takes the space, receives into it, and gives the space
// back if the receive would block. On a ring, or with another reactor, the space is taken
// up front and the socket's own read runs.
#pragma once

#include <cerrno>
#include <concepts>
#include <coroutine>
#include <cstddef>
#include <system_error>

// io_context first: Asio's detail headers below need what it declares.
#include <asio/io_context.hpp>
#include <asio/buffer.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/detail/reactor.hpp>
#include <asio/detail/reactor_op.hpp>
#include <asio/detail/socket_ops.hpp>
#include <asio/error.hpp>
#include <asio/version.hpp>

#include "coronet/net/detail/io_awaiter.hpp"
#include "coronet/net/detail/ring_transport.hpp"
#include "coronet/net/detail/sys_io.hpp"

// The reactor operation is written against Asio 1.22's reactor (reactor_op, start_op,
// cancel_ops_by_key, which are not Asio's API): with another version, or another reactor,
// the space is taken up front and the socket's ordinary read runs.
#if defined(ASIO_HAS_EPOLL) && !defined(ASIO_HAS_IO_URING_AS_DEFAULT) && !defined(ASIO_HAS_IOCP) && \
    ASIO_VERSION >= 102200 && ASIO_VERSION < 102300
#define CORONET_DETAIL_REACTOR_READS 1
#else
#define CORONET_DETAIL_REACTOR_READS 0
#endif

namespace coronet::detail {

/// What a `lazy_read` reads into: `prepare(limit)` gives room (it may allocate; it may
/// throw only `std::bad_alloc`); `release()` gives the memory back if it holds no
/// unconsumed byte.
/// `coronet::read_buffer` is one.
template <class Space>
concept read_space = requires(Space& s, std::size_t limit) {
  { s.prepare(limit) } -> std::convertible_to<asio::mutable_buffer>;
  { s.release() } noexcept;
};

#if CORONET_DETAIL_REACTOR_READS
/// Adds `EPOLLRDHUP` to the events the socket `fd` (registration `d`) is registered for
/// with `r`, so that each wake-up says whether the peer has finished sending. Nothing
/// changes if the socket is not in the epoll set or `epoll_ctl` fails (`drained()` then
/// stays false). These three functions read and write the reactor's state of the socket
/// without its lock: for an io_context run by one thread (as a server's workers are).
/// Not an API.
void watch_peer_shutdown(asio::detail::epoll_reactor& r, asio::detail::epoll_reactor::per_descriptor_data d,
                         asio::detail::socket_type fd) noexcept;

/// After a receive that did not fill its room: true when the socket is registered for
/// `EPOLLRDHUP` and the reactor's wake-up being performed (or its last one) did not report
/// it. The receive then drained the socket, and new data or the peer's shutdown will be a
/// new wake-up: the next read can wait for it instead of trying the socket first. False
/// otherwise (the peer's shutdown may be there unread: the next read tries the socket).
bool drained(asio::detail::epoll_reactor::per_descriptor_data d) noexcept;

/// True when the socket's next read (registration `d`) waits for the reactor's next
/// wake-up without trying the socket: its last receive was done and exhausted.
bool next_read_waits(asio::detail::epoll_reactor::per_descriptor_data d) noexcept;

/// The epoll reactor of `s`'s io_context (Asio's service), looked up at the socket's first
/// lazy read and kept in the socket (a lookup takes the context's service lock); the
/// socket is then watched for the peer's shutdown (`watch_peer_shutdown`).
inline asio::detail::epoll_reactor& reactor_of(tcp_transport& s) {
  void*& cache = s.reactor_cache();
  if (cache == nullptr) [[unlikely]] {
    auto& r = asio::use_service<asio::detail::epoll_reactor>(s.get_executor().context());
    cache = &r;
    watch_peer_shutdown(r, s.reactor_state().reactor_data_, s.reactor_state().socket_);
  }
  return *static_cast<asio::detail::epoll_reactor*>(cache);
}
#endif

#if CORONET_DETAIL_REACTOR_READS
/// Where a lazy read's outcome is kept: in the reactor operation it is.
using lazy_read_base = asio::detail::reactor_op;
#else
/// Where a lazy read's outcome is kept (the names of Asio's reactor_op).
struct lazy_read_base {
  /// The read's error, if any.
  asio::error_code ec_{};
  /// The bytes it read.
  std::size_t bytes_transferred_ = 0;
};
#endif

/// Awaiter of one read of at most `limit` bytes into a `read_space`, yielding the count.
/// Errors as every coronet operation (`report_io_error`): to `*ec`, or thrown when `ec` is
/// null; `asio::error::eof` at the end of the stream. Room for 0 bytes (`limit` bytes are
/// held) completes with 0. The caller commits what was read (`read_buffer::commit`).
/// When the space cannot be taken: on Asio's reactor, where it is taken when data is
/// there, the read fails with `asio::error::no_memory`; on a ring, where it is taken when
/// the read starts, `co_await` throws `std::bad_alloc`.
///
/// On Asio's epoll reactor the awaiter is itself the reactor operation (no allocation per
/// read); its outcome is kept in the operation's `ec_` and `bytes_transferred_`.
template <read_space Space>
class lazy_read : private lazy_read_base {
public:
  /// The read from `socket` into `space`; neither may move or go away until it completes.
  lazy_read(tcp_transport& socket, Space& space, std::size_t limit, std::error_code* ec) noexcept
#if CORONET_DETAIL_REACTOR_READS
      : reactor_op(no_error, &lazy_read::perform_read, &lazy_read::complete_read),
        user_ec_(ec),
#else
      : user_ec_(ec),
#endif
        socket_(socket),
        space_(space),
        limit_(limit) {
  }
  lazy_read(const lazy_read&) = delete;
  lazy_read& operator=(const lazy_read&) = delete;

  /// Never ready: the read starts on the reactor, which tries the socket first unless the
  /// last receive drained it.
  bool await_ready() const noexcept { return false; }

  /// Starts the read; the coroutine resumes when it completes.
  template <class Promise>
  void await_suspend(std::coroutine_handle<Promise> h) {
    waiter_ = h;
    context_ = context_of(h);
    const asio::cancellation_slot slot = context_ != nullptr ? context_->slot : asio::cancellation_slot{};
#if CORONET_DETAIL_REACTOR_READS
    if (!socket_.on_ring()) {
      start_on_reactor(slot);
      return;
    }
#endif
    // On a ring, or another reactor: the space is taken now, and the socket's read runs.
    const initiation_scope initiating(this);
    socket_.async_read_some(space_.prepare(limit_), io_handler<lazy_read>{this, slot});
  }

  /// The count read; reports an error as described above.
  std::size_t await_resume() {
    report_io_error(this->ec_, context_, user_ec_);
    return this->bytes_transferred_;
  }

private:
  template <class>
  friend class io_handler;

  // The completion of the socket's read (io_handler, on a ring).
  void complete(std::error_code ec, std::size_t n) noexcept {
    this->ec_ = ec;
    this->bytes_transferred_ = n;
  }
  // The completion of the reactor operation (io_handler, from complete_read): the outcome is
  // in the operation already.
  void complete() noexcept {}

#if CORONET_DETAIL_REACTOR_READS
  using reactor = asio::detail::epoll_reactor;

  // Made once: a default-constructed error_code calls std::system_category() each time.
  static inline const asio::error_code no_error{};

  // Installed in the chain's cancellation slot while the read waits: cancels it as Asio's
  // own reactor operations are cancelled (the key is this object's address). The read's
  // completion disarms it and leaves it in the slot (complete_read): the next read on the
  // chain, or any other operation's handler, takes its place in the memory it holds,
  // without the slot's clear and allocation per read. Disarmed, it touches nothing (the
  // socket it names may be gone). While armed, `owner` is the read's `cancellation_key_`,
  // which points back here: a handler replaced in the slot before the read completes (by
  // another operation bound to the same slot) clears it, so the completion never reaches
  // a handler that is gone, and the read then waits uncancellable, as one whose handler
  // was replaced did before.
  struct cancel_read {
    cancel_read(reactor* reactor_ptr, reactor::per_descriptor_data* d, asio::detail::socket_type s,
                void** key) noexcept
        : r(reactor_ptr), data(d), fd(s), owner(key) {}
    cancel_read(const cancel_read&) = delete;
    cancel_read& operator=(const cancel_read&) = delete;
    ~cancel_read() {
      if (owner != nullptr)
        *owner = nullptr;
    }
    reactor* r;
    reactor::per_descriptor_data* data;
    asio::detail::socket_type fd;
    void** owner;
    void operator()(asio::cancellation_type type) noexcept {
      if (owner != nullptr && !!(type & (asio::cancellation_type::terminal | asio::cancellation_type::partial |
                                         asio::cancellation_type::total)))
        r->cancel_ops_by_key(fd, *data, reactor::read_op, this);
    }
  };

  // The reactor's step: take the space and receive into it (on the thread that runs the
  // io_context, with the descriptor's lock held unless the io_context's concurrency hint
  // turns that lock off, as a server's workers do).
  static asio::detail::reactor_op::status perform_read(asio::detail::reactor_op* op) {
    auto& self = *static_cast<lazy_read*>(op);
    asio::mutable_buffer room;
    try {
      room = self.space_.prepare(self.limit_);
    } catch (...) {
      // Nothing may unwind through the reactor, which may hold the descriptor's lock.
      self.ec_ = asio::error::no_memory;
      return done;
    }
    if (room.size() == 0)
      return done;
    // As Asio's non-blocking receive, with the system call made directly (sys_recv).
    ssize_t got;
    do
      got = sys_recv(self.socket_.reactor_state().socket_, room.data(), room.size());
    while (got < 0 && errno == EINTR);
    if (got <= 0) {
      if (got == 0) {
        self.ec_ = asio::error::eof;
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        // Nothing to read yet: no memory is held while the connection waits.
        self.space_.release();
        return not_done;
      } else {
        self.ec_.assign(errno, asio::error::get_system_category());
      }
      self.bytes_transferred_ = 0;
      return done;
    }
    self.bytes_transferred_ = static_cast<std::size_t>(got);
    // A receive that did not fill its room, once the reactor says no shutdown of the
    // peer's is pending (drained), is done and exhausted: the next read waits for the next
    // wake-up, where Asio's would try the socket first and, for a peer waiting for its
    // reply, fail with EAGAIN. The end of the stream is not: a read after it tries the
    // socket and sees the end again (no wake-up would come for it). One short receive
    // that leaves data queued: TCP urgent data (a receive stops at the urgent mark), which
    // none of coronet's protocols use; the rest is read when the peer sends again or the
    // connection's deadline passes. nginx's reads have the same gap.
    if (self.bytes_transferred_ < room.size() && drained(self.socket_.reactor_state().reactor_data_))
      return done_and_exhausted;
    return done;
  }

  // The completion, run by the io_context, through the io_handler every coronet operation
  // completes with: it disarms the cancellation handler start_on_reactor installed in the
  // chain's slot (see cancel_read) and resumes the coroutine. `io` is null when the operation
  // is destroyed unrun (its io_context is going away): the handler is then destroyed
  // uncalled, which abandons the suspended chain, as for an Asio operation.
  static void complete_read(void* io, asio::detail::scheduler_operation* op, const asio::error_code&, std::size_t) {
    auto& self = *static_cast<lazy_read*>(static_cast<asio::detail::reactor_op*>(op));
    // The handler is given no slot to clear: the cancellation handler is disarmed instead.
    if (self.cancellation_key_ != nullptr)
      static_cast<cancel_read*>(self.cancellation_key_)->owner = nullptr;
    io_handler<lazy_read> handler(&self, asio::cancellation_slot{});
    if (io != nullptr)
      handler();
  }

  void start_on_reactor(asio::cancellation_slot slot) {
    auto& state = socket_.reactor_state();
    reactor& r = reactor_of(socket_);
    if (slot.is_connected())
      cancellation_key_ = &slot.emplace<cancel_read>(&r, &state.reactor_data_, state.socket_, &cancellation_key_);
    if ((state.state_ & asio::detail::socket_ops::internal_non_blocking) == 0 &&
        !asio::detail::socket_ops::set_internal_non_blocking(state.socket_, state.state_, true, this->ec_)) {
      r.post_immediate_completion(this, false);
      return;
    }
    // A read that waits without trying the socket holds no memory meanwhile, as one that
    // tried it and found nothing: the space goes back unless it holds a partial request
    // (read_buffer::release), and perform_read takes it again.
    if (next_read_waits(state.reactor_data_))
      space_.release();
    r.start_op(reactor::read_op, state.socket_, state.reactor_data_, this, false, true);
  }
#endif

  std::coroutine_handle<> waiter_{};
  chain_context* context_ = nullptr;
  std::error_code* user_ec_;
  tcp_transport& socket_;
  Space& space_;
  std::size_t limit_;
};

}  // namespace coronet::detail
