// The io_uring side of tcp_transport (coronet/net/detail/ring_transport.hpp), in a build with
// the io_uring transport (CORONET_IO_URING).
#include <sys/socket.h>

#include <cerrno>
#include <exception>

#include <asio/error.hpp>
#include <asio/post.hpp>

#include "coronet/net/detail/ring_transport.hpp"
#include "net/uring/uring_service.hpp"

namespace coronet::detail::uring {

const char* unavailable_reason() noexcept {
  const kernel_support& k = probe();
  return k.usable ? nullptr : k.why.c_str();
}

service* ring_of(asio::io_context& ctx) noexcept {
  return &asio::use_service<service>(ctx);
}

void submit_transfer(service& ring, operation& op, bool read, int fd, void* data, std::size_t size) {
  // A receive or send takes at most 2^31 - 4096 bytes (the kernel's own cap); the rest is the
  // caller's next call.
  const auto length = static_cast<unsigned>(size < 0x7ffff000u ? size : 0x7ffff000u);
  ring.submit(op, [&](io_uring_sqe& sqe) {
    if (read)
      io_uring_prep_recv(&sqe, fd, data, length, 0);
    else
      io_uring_prep_send(&sqe, fd, data, length, MSG_NOSIGNAL);
  });
}

void cancel(service& ring, operation& op) noexcept {
  try {
    ring.submit_detached([&op](io_uring_sqe& sqe) { io_uring_prep_cancel64(&sqe, reinterpret_cast<std::uintptr_t>(&op), 0); });
  } catch (...) {
    // No room for the request: the operation ends when the socket does.
  }
}

bool flush(service& ring) noexcept {
  try {
    ring.flush();
    return true;
  } catch (...) {
    return false;
  }
}

void rethrow_later(service& ring, std::exception_ptr e) noexcept {
  asio::post(ring.context(), [e] { std::rethrow_exception(e); });
}

std::error_code completion_error(int res) noexcept {
  if (res == -ECANCELED || res == -EINTR)
    return asio::error::operation_aborted;
  return {-res, std::system_category()};
}

}  // namespace coronet::detail::uring
