// coronet::detail::uring::stream: a connected TCP socket whose asynchronous reads and writes go
// through the io_context's ring (uring_service.hpp) instead of Asio's reactor. The io_uring
// transport's step 2 (docs/architecture.md, "io_uring").
//
// Its async_read_some and async_write_some take completion handlers (not completion tokens),
// which is what the awaiters every coronet stream shares (net/detail/stream_ops.hpp:
// transfer_op, write_op) and Asio's composed operations (asio::async_write) pass, so they run
// over it unchanged: handlers keep their associated allocator (no allocation per operation
// with coronet's frame pool), their cancellation slot (with_timeout) and their semantics
// (never called inside the initiating function; destroyed uncalled when the io_context goes
// away with the operation in flight). Unlike Asio's own operations, a handler is called
// directly on the io_context's thread, not through its associated executor, and the socket
// stays registered with Asio's reactor, whose wakeups for it find nothing to do. The synchronous members (the try-now
// write, options, addresses, shutdown) are the Asio socket's, which it owns.
#pragma once

#include <cerrno>
#include <cstddef>
#include <memory>
#include <system_error>
#include <utility>

#include <asio/associated_allocator.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/buffer.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/error.hpp>
#include <asio/execution/context.hpp>
#include <asio/query.hpp>

#include "coronet/net/socket.hpp"
#include "net/uring/uring_service.hpp"

namespace coronet::detail::uring {

/// The error of a completion's negative `res`: `operation_aborted` for a cancelled request.
inline std::error_code completion_error(int res) noexcept {
  if (res == -ECANCELED || res == -EINTR)
    return asio::error::operation_aborted;
  return {-res, std::system_category()};
}

// A read or write of a `stream`, whatever its handler: where the stream keeps it (null once
// the stream is gone), so that the operation can clear it when it ends.
struct stream_op : operation {
  stream_op** slot = nullptr;
};

class stream {
public:
  /// The io_context's executor (as `tcp::socket`'s).
  using executor_type = tcp::executor_type;

  /// Takes over the connected Asio socket `s`; its io_context's ring carries the reads and
  /// writes.
  explicit stream(tcp::asio_socket s)
      : socket_(std::move(s)), ring_(&asio::use_service<service>(asio::query(socket_.get_executor(), asio::execution::context))) {}
  /// Moves the connection, with its operations in flight.
  stream(stream&& other) noexcept
      : socket_(std::move(other.socket_)), ring_(other.ring_), reading_(other.reading_), writing_(other.writing_) {
    other.reading_ = other.writing_ = nullptr;
    for (stream_op** op : {&reading_, &writing_})
      if (*op != nullptr)
        (*op)->slot = op;
  }
  stream& operator=(stream&&) = delete;
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;
  /// Closes the socket (see `close`); what is still in flight completes later, without
  /// referring to the stream.
  ~stream() {
    std::error_code ignored;
    close(ignored);
    for (stream_op* op : {reading_, writing_})
      if (op != nullptr)
        op->slot = nullptr;
  }

  /// See `executor_type`.
  executor_type get_executor() noexcept { return socket_.get_executor(); }
  /// The Asio socket: options, addresses, shutdown, the synchronous writes of the try-now path.
  tcp::asio_socket& socket() noexcept { return socket_; }

  /// As Asio's socket: for `write_now` (net/detail/try_now.hpp).
  bool non_blocking() const { return socket_.non_blocking(); }
  /// As Asio's socket.
  void non_blocking(bool on, std::error_code& ec) { socket_.non_blocking(on, ec); }
  /// A synchronous non-blocking write, as Asio's socket.
  std::size_t write_some(asio::const_buffer b, std::error_code& ec) { return socket_.write_some(b, ec); }

  /// Receives into the first non-empty buffer of `buffers`, then calls
  /// `handler(std::error_code, std::size_t)`: `asio::error::eof` at the end of the stream,
  /// `operation_aborted` when cancelled (the handler's cancellation slot, or `close`). An
  /// empty buffer completes with 0 (through the ring as well: never inside this call).
  template <class MutableBufferSequence, class Handler>
  void async_read_some(const MutableBufferSequence& buffers, Handler&& handler) {
    const asio::mutable_buffer b = first_of<asio::mutable_buffer>(buffers);
    start<true>(reading_, b.data(), b.size(), std::forward<Handler>(handler));
  }

  /// Sends from the first non-empty buffer of `buffers`, then calls
  /// `handler(std::error_code, std::size_t)` with the bytes the kernel took (at least one
  /// unless the buffer is empty, or an error such as `broken_pipe`).
  template <class ConstBufferSequence, class Handler>
  void async_write_some(const ConstBufferSequence& buffers, Handler&& handler) {
    const asio::const_buffer b = first_of<asio::const_buffer>(buffers);
    start<false>(writing_, const_cast<void*>(b.data()), b.size(), std::forward<Handler>(handler));
  }

  /// Cancels the read and write in flight (they complete with `operation_aborted`) and
  /// closes the socket. Never throws.
  void close(std::error_code& ec) noexcept {
    if (reading_ != nullptr || writing_ != nullptr) {
      cancel();
      // Before the descriptor goes: a request still queued would otherwise reach the kernel
      // after it closed, by then maybe another connection's descriptor number.
      try {
        ring_->flush();
      } catch (...) {
        // The ring refused the submission (it keeps the requests queued). Shutting the socket
        // down ends a receive already in the kernel; a request still queued is the gap named
        // above, not closed yet (docs/architecture.md, io_uring).
        std::error_code ignored;
        socket_.shutdown(asio::socket_base::shutdown_both, ignored);
      }
    }
    socket_.close(ec);
  }
  /// Whether the socket is open.
  bool is_open() const noexcept { return socket_.is_open(); }

  /// Cancels the read and write in flight without closing.
  void cancel() noexcept {
    for (stream_op* op : {reading_, writing_})
      if (op != nullptr)
        cancel(*ring_, *op);
  }

private:
  template <class Handler>
  struct io_op;

  // Installed in a handler's cancellation slot while its operation is in flight.
  struct cancel_handler {
    cancel_handler(service* r, operation* o) noexcept : ring(r), op(o) {}
    service* ring;
    operation* op;
    void operator()(asio::cancellation_type type) const noexcept {
      if (type != asio::cancellation_type::none)
        cancel(*ring, *op);
    }
  };

  static void cancel(service& ring, operation& op) noexcept {
    try {
      ring.submit_detached([&op](io_uring_sqe& sqe) { io_uring_prep_cancel64(&sqe, reinterpret_cast<std::uintptr_t>(&op), 0); });
    } catch (...) {
      // No room for the request: the operation ends when the socket does.
    }
  }

  template <class Buffer, class Sequence>
  static Buffer first_of(const Sequence& buffers) {
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it)
      if (Buffer b(*it); b.size() != 0)
        return b;
    return Buffer{};
  }

  template <bool Read, class Handler>
  void start(stream_op*& slot, void* data, std::size_t size, Handler&& handler);

  tcp::asio_socket socket_;
  service* ring_;
  // The read and the write in flight, for close(); null when none.
  stream_op* reading_ = nullptr;
  stream_op* writing_ = nullptr;
};

// One read or write: the handler, allocated with its own allocator, and what the ring needs.
template <class Handler>
struct stream::io_op final : stream_op {
  using allocator_type = typename std::allocator_traits<
      asio::associated_allocator_t<Handler>>::template rebind_alloc<io_op>;

  io_op(Handler&& h, stream_op*& where, bool is_read, std::size_t bytes)
      : handler(std::move(h)), read(is_read), size(bytes) {
    slot = &where;
    complete = &on_complete;
    abandon = &on_abandon;
  }

  // Frees the op with `a`, its handler's allocator (taken before the handler moves out).
  static void destroy(io_op* self, allocator_type a) noexcept {
    std::allocator_traits<allocator_type>::destroy(a, self);
    std::allocator_traits<allocator_type>::deallocate(a, self, 1);
  }
  static allocator_type allocator_of(const Handler& h) noexcept { return allocator_type(asio::get_associated_allocator(h)); }

  // The stream no longer refers to this operation.
  void leave() noexcept {
    if (slot != nullptr && *slot == this)
      *slot = nullptr;
    if (auto cs = asio::get_associated_cancellation_slot(handler); cs.is_connected())
      cs.clear();
  }

  static void on_complete(operation& base, int res, std::uint32_t) noexcept {
    auto* self = static_cast<io_op*>(&base);
    self->leave();
    std::error_code ec;
    std::size_t n = 0;
    if (res > 0)
      n = static_cast<std::size_t>(res);
    else if (res < 0)
      ec = completion_error(res);
    else if (self->read && self->size > 0)
      ec = asio::error::eof;
    const allocator_type a = allocator_of(self->handler);
    Handler h(std::move(self->handler));
    destroy(self, a);
    std::move(h)(ec, n);
  }

  static void on_abandon(operation& base) noexcept {
    auto* self = static_cast<io_op*>(&base);
    self->leave();
    destroy(self, allocator_of(self->handler));  // the handler goes uncalled, as Asio's at shutdown
  }

  Handler handler;
  bool read;
  std::size_t size;
};

template <bool Read, class Handler>
void stream::start(stream_op*& slot, void* data, std::size_t size, Handler&& handler) {
  using op_type = io_op<std::decay_t<Handler>>;
  using traits = std::allocator_traits<typename op_type::allocator_type>;
  typename op_type::allocator_type a = op_type::allocator_of(handler);
  op_type* op = traits::allocate(a, 1);
  try {
    traits::construct(a, op, std::move(handler), slot, Read, size);
  } catch (...) {
    traits::deallocate(a, op, 1);
    throw;
  }
  // Everything that can throw happens before the request is queued: once it is, its
  // completion calls the handler.
  const int fd = socket_.native_handle();
  // A receive or send takes at most 2^31 - 4096 bytes (the kernel's own cap); the rest is
  // the caller's next call.
  const auto length = static_cast<unsigned>(size < 0x7ffff000u ? size : 0x7ffff000u);
  try {
    if (auto cs = asio::get_associated_cancellation_slot(op->handler); cs.is_connected())
      cs.template emplace<cancel_handler>(ring_, op);
    ring_->submit(*op, [&](io_uring_sqe& sqe) {
      if constexpr (Read)
        io_uring_prep_recv(&sqe, fd, data, length, 0);
      else
        io_uring_prep_send(&sqe, fd, data, length, MSG_NOSIGNAL);
    });
  } catch (...) {
    // Not queued: the handler goes back to the caller's unwinding, uncalled.
    op->slot = nullptr;
    op->leave();
    op_type::destroy(op, a);
    throw;
  }
  slot = op;
}

}  // namespace coronet::detail::uring
