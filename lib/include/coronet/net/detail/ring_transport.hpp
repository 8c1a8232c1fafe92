// coronet::detail::tcp_transport: the Asio TCP socket beneath every coronet::tcp::socket, whose
// asynchronous reads and writes go either to Asio's reactor (epoll, the default) or to the
// io_context's io_uring ring (a server with `backend = io_uring`, docs/architecture.md,
// "io_uring"). Not an API: `coronet::tcp::socket` is.
//
// It is an Asio socket (it derives from one), so everything that takes `tcp::asio_socket&`
// (options, addresses, shutdown, the try-now write, PROXY's reads) works on it unchanged. Only
// async_read_some, async_write_some and close differ, and only once a ring is attached: the
// operation is then a ring request that keeps its handler's associated allocator (no
// allocation per operation with coronet's frame pool) and cancellation slot (with_timeout),
// completes on the io_context's thread (its handler called directly, not through the
// associated executor) and is never completed inside the initiating call; close cancels what
// is in flight before the descriptor goes. The socket stays registered with Asio's reactor,
// whose wakeups for it then find nothing to do.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <utility>

#include <asio/associated_allocator.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/async_result.hpp>
#include <asio/buffer.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/ip/tcp.hpp>

namespace coronet::detail {

namespace uring {

class service;

/// One request in flight in a ring (see `service`). Whoever submits it owns it and keeps it
/// alive (and at the same address) until its last completion.
struct operation {
  /// Called on the io_context's thread with each completion's `res` (a count, or -errno)
  /// and `flags` (IORING_CQE_F_*). The last one for this request is the one without
  /// IORING_CQE_F_MORE; after it the service no longer refers to the operation.
  using complete_fn = void (*)(operation& op, int res, std::uint32_t flags) noexcept;
  /// Called instead, at most once, when the service shuts down (the io_context is being
  /// destroyed) with the request still in flight: the owner releases what it holds, as Asio
  /// destroys a pending handler without calling it. Null: nothing to release.
  using abandon_fn = void (*)(operation& op) noexcept;

  complete_fn complete = nullptr;
  abandon_fn abandon = nullptr;

  // The service's list of requests in flight.
  operation* prev_ = nullptr;
  operation* next_ = nullptr;
};

/// A read or write of a `tcp_transport`: where the socket keeps it (null once the socket is
/// gone), so that the operation can clear it when it ends.
struct stream_op : operation {
  stream_op** slot = nullptr;
  // The ring it was submitted to.
  service* ring = nullptr;
  // The socket closed while it was in flight: it completes with operation_aborted whatever
  // the kernel did (a request queued in the same turn may still have run).
  bool aborted = false;
};

/// The ring of `ctx` (made on first use), or null when this build has no io_uring transport.
service* ring_of(asio::io_context& ctx) noexcept;
/// Null when rings can carry connections here; otherwise why not, in words (the kernel's
/// refusal, or a build without io_uring), for the fallback's log line.
const char* unavailable_reason() noexcept;
/// Queues a receive (`read`) or a send of at most `size` bytes at `data` on `fd`, completing
/// `op`; reaches the kernel with the rest of this turn. Throws `std::system_error` when the
/// ring cannot take it (nothing is queued then).
void submit_transfer(service& ring, operation& op, bool read, int fd, void* data, std::size_t size);
/// Asks the kernel to end `op` (it completes with -ECANCELED unless done already). Never
/// throws: without room in the ring, the operation ends when its socket does.
void cancel(service& ring, operation& op) noexcept;
/// Hands what is queued to the kernel now; false when the kernel refused it.
bool flush(service& ring) noexcept;
/// The error of a completion's negative `res`: `operation_aborted` for a cancelled request.
std::error_code completion_error(int res) noexcept;
/// Rethrows `e` from the io_context's `run()` (a posted handler), as an exception escaping an
/// Asio handler would leave it: for a completion handler that threw.
void rethrow_later(service& ring, std::exception_ptr e) noexcept;

}  // namespace uring

/// See the file comment.
class tcp_transport : public asio::basic_stream_socket<asio::ip::tcp, asio::io_context::executor_type> {
public:
  /// The Asio socket it is.
  using asio_base = asio::basic_stream_socket<asio::ip::tcp, asio::io_context::executor_type>;

  using asio_base::asio_base;
  /// Takes over an Asio socket (on Asio's reactor until `use_ring`).
  tcp_transport(asio_base&& s) noexcept : asio_base(std::move(s)) {}  // NOLINT: implicit on purpose
  /// Moves the connection, with its ring operations in flight.
  tcp_transport(tcp_transport&& other) noexcept : asio_base(std::move(other)) { take(other); }
  /// Closes this socket (as `close`), then takes over `other`'s connection.
  tcp_transport& operator=(tcp_transport&& other) noexcept {
    if (this != &other) {
      release();
      asio_base::operator=(std::move(other));
      take(other);
    }
    return *this;
  }
  /// Cancels what is in flight in the ring; Asio's socket then closes the descriptor.
  ~tcp_transport() { release(); }

  /// From now on the reads and writes started through this object go to `ring` (the ring of
  /// this socket's io_context, `uring::ring_of`); null: back to Asio's reactor. Only while
  /// nothing is in flight.
  void use_ring(uring::service* ring) noexcept { ring_ = ring; }
  /// Whether the reads and writes go to a ring.
  bool on_ring() const noexcept { return ring_ != nullptr; }
  /// Asio's state of this socket for its reactor (descriptor, flags, reactor data), for the
  /// reactor operations coronet starts itself (`lazy_read`); used only while not on a ring.
  auto& reactor_state() noexcept { return impl_.get_implementation(); }
  /// Where `lazy_read` keeps Asio's reactor of this socket's io_context once it looked it up
  /// (opaque here); null until then. It moves with the socket, as the executor does.
  void*& reactor_cache() noexcept { return reactor_cache_; }

  /// As Asio's, through the ring when one is attached (any completion token).
  template <class MutableBufferSequence, class Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, std::size_t)>(initiate<true>{this}, token, buffers);
  }
  /// As Asio's, through the ring when one is attached (any completion token).
  template <class ConstBufferSequence, class Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, std::size_t)>(initiate<false>{this}, token, buffers);
  }

  /// Cancels the ring's operations in flight (they complete with `operation_aborted`), then
  /// closes as Asio's socket. Never throws.
  void close(std::error_code& ec) noexcept {
    end_ring_operations();
    asio_base::close(ec);
  }
  /// As above; throws `std::system_error` as Asio's `close`.
  void close() {
    end_ring_operations();
    asio_base::close();
  }

private:
  template <class Handler>
  struct io_op;

  // Starts a read (`Read`) or write once Asio has turned the token into a handler: on Asio's
  // reactor, or as a ring request.
  template <bool Read>
  struct initiate {
    tcp_transport* self;

    template <class Handler, class Buffers>
    void operator()(Handler&& handler, const Buffers& buffers) const {
      if (self->ring_ == nullptr) {
        if constexpr (Read)
          self->asio_base::async_read_some(buffers, std::forward<Handler>(handler));
        else
          self->asio_base::async_write_some(buffers, std::forward<Handler>(handler));
        return;
      }
      using buffer_type = std::conditional_t<Read, asio::mutable_buffer, asio::const_buffer>;
      const buffer_type b = first_of<buffer_type>(buffers);
      if (b.size() == 0) {
        // Nothing to transfer: done, as Asio's (a zero-length receive would wait for data).
        asio::post(self->get_executor(), bound_completion<std::decay_t<Handler>>{std::forward<Handler>(handler)});
        return;
      }
      uring::stream_op*& slot = Read ? self->reading_ : self->writing_;
      if (slot != nullptr)
        throw std::logic_error(Read ? "coronet: a read is already pending on this socket"
                                    : "coronet: a write is already pending on this socket");
      using op_type = io_op<std::decay_t<Handler>>;
      using traits = std::allocator_traits<typename op_type::allocator_type>;
      typename op_type::allocator_type a = op_type::allocator_of(handler);
      op_type* op = traits::allocate(a, 1);
      try {
        traits::construct(a, op, std::forward<Handler>(handler), slot, self->ring_, Read, b.size());
      } catch (...) {
        traits::deallocate(a, op, 1);
        throw;
      }
      // Everything that can throw happens before the request is queued: once it is, its
      // completion calls the handler.
      try {
        if (auto cs = asio::get_associated_cancellation_slot(op->handler); cs.is_connected())
          cs.template emplace<cancel_handler>(op);
        uring::submit_transfer(*self->ring_, *op, Read, self->native_handle(), const_cast<void*>(b.data()), b.size());
      } catch (...) {
        // Not queued: the handler goes back to the caller's unwinding, uncalled.
        op->slot = nullptr;
        op->leave();
        op_type::destroy(op, a);
        throw;
      }
      slot = op;
    }
  };

  // A handler called with (no error, 0), keeping its associated allocator.
  template <class Handler>
  struct bound_completion {
    using allocator_type = asio::associated_allocator_t<Handler>;
    allocator_type get_allocator() const noexcept { return asio::get_associated_allocator(handler); }
    void operator()() { std::move(handler)(std::error_code{}, std::size_t{0}); }
    Handler handler;
  };

  // Installed in a handler's cancellation slot while its operation is in flight.
  struct cancel_handler {
    explicit cancel_handler(uring::stream_op* o) noexcept : op(o) {}
    uring::stream_op* op;
    void operator()(asio::cancellation_type type) const noexcept {
      if (type != asio::cancellation_type::none)
        uring::cancel(*op->ring, *op);
    }
  };

  // Closes, leaving what is still in flight to complete without referring to this object.
  void release() noexcept {
    std::error_code ignored;
    close(ignored);
    for (uring::stream_op** op : {&reading_, &writing_})
      if (*op != nullptr)
        std::exchange(*op, nullptr)->slot = nullptr;
  }

  // Takes over `other`'s ring and operations in flight (its Asio socket has moved already).
  void take(tcp_transport& other) noexcept {
    ring_ = other.ring_;
    reactor_cache_ = other.reactor_cache_;
    reading_ = std::exchange(other.reading_, nullptr);
    writing_ = std::exchange(other.writing_, nullptr);
    for (uring::stream_op** op : {&reading_, &writing_})
      if (*op != nullptr)
        (*op)->slot = op;
  }

  void end_ring_operations() noexcept {
    if (reading_ == nullptr && writing_ == nullptr)
      return;
    for (uring::stream_op* op : {reading_, writing_})
      if (op != nullptr) {
        op->aborted = true;
        uring::cancel(*ring_, *op);
      }
    // Before the descriptor goes: a request still queued would otherwise reach the kernel
    // after it closed, by then maybe another connection's descriptor number.
    if (!uring::flush(*ring_)) {
      // The ring refused the submission (it keeps the requests queued). Shutting the socket
      // down ends a receive already in the kernel; a request still queued is the gap named
      // in docs/architecture.md (io_uring).
      std::error_code ignored;
      shutdown(shutdown_both, ignored);
    }
  }

  template <class Buffer, class Sequence>
  static Buffer first_of(const Sequence& buffers) {
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it)
      if (Buffer b(*it); b.size() != 0)
        return b;
    return Buffer{};
  }

  uring::service* ring_ = nullptr;
  // See reactor_cache().
  void* reactor_cache_ = nullptr;
  // The ring's read and write in flight, for close(); null when none.
  uring::stream_op* reading_ = nullptr;
  uring::stream_op* writing_ = nullptr;
};

// One read or write: the handler, allocated with its own allocator, and what the ring needs.
template <class Handler>
struct tcp_transport::io_op final : uring::stream_op {
  using allocator_type =
      typename std::allocator_traits<asio::associated_allocator_t<Handler>>::template rebind_alloc<io_op>;

  template <class H>
  io_op(H&& h, uring::stream_op*& where, uring::service* r, bool is_read, std::size_t bytes)
      : handler(std::forward<H>(h)), read(is_read), size(bytes) {
    slot = &where;
    ring = r;
    complete = &on_complete;
    abandon = &on_abandon;
  }

  // Frees the op with `a`, its handler's allocator (taken before the handler moves out).
  static void destroy(io_op* self, allocator_type a) noexcept {
    std::allocator_traits<allocator_type>::destroy(a, self);
    std::allocator_traits<allocator_type>::deallocate(a, self, 1);
  }
  static allocator_type allocator_of(const Handler& h) noexcept {
    return allocator_type(asio::get_associated_allocator(h));
  }

  // The socket no longer refers to this operation.
  void leave() noexcept {
    if (slot != nullptr && *slot == this)
      *slot = nullptr;
    if (auto cs = asio::get_associated_cancellation_slot(handler); cs.is_connected())
      cs.clear();
  }

  static void on_complete(uring::operation& base, int res, std::uint32_t) noexcept {
    auto* self = static_cast<io_op*>(&base);
    self->leave();
    std::error_code ec;
    std::size_t n = 0;
    if (res > 0)
      n = static_cast<std::size_t>(res);
    else if (res < 0)
      ec = uring::completion_error(res);
    else if (self->read && self->size > 0)
      ec = asio::error::eof;
    if (self->aborted)
      ec = asio::error::operation_aborted;  // bytes a send took are still counted
    uring::service& r = *self->ring;
    const allocator_type a = allocator_of(self->handler);
    Handler h(std::move(self->handler));
    destroy(self, a);
    try {
      std::move(h)(ec, n);
    } catch (...) {
      // A continuation failed to start its next operation: out of run(), as under Asio.
      uring::rethrow_later(r, std::current_exception());
    }
  }

  static void on_abandon(uring::operation& base) noexcept {
    auto* self = static_cast<io_op*>(&base);
    self->leave();
    destroy(self, allocator_of(self->handler));  // the handler goes uncalled, as Asio's at shutdown
  }

  Handler handler;
  bool read;
  std::size_t size;
};

}  // namespace coronet::detail
