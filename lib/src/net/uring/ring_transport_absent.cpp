// tcp_transport's ring functions (coronet/net/detail/ring_transport.hpp) in a build without the
// io_uring transport (CORONET_IO_URING=OFF): there is no ring, so no socket is ever attached to
// one and only ring_of is reached.
#include <cstdlib>

#include "coronet/net/detail/ring_transport.hpp"

namespace coronet::detail::uring {

const char* unavailable_reason() noexcept {
  return "this build of coronet has no io_uring transport (CORONET_IO_URING=OFF)";
}

service* ring_of(asio::io_context&) noexcept {
  return nullptr;
}

// Unreachable: they need a ring, which this build cannot make.
void submit_transfer(service&, operation&, bool, int, void*, std::size_t) {
  std::abort();
}
void cancel(service&, operation&) noexcept {
  std::abort();
}
bool flush(service&) noexcept {
  std::abort();
}
void rethrow_later(service&, std::exception_ptr) noexcept {
  std::abort();
}
std::error_code completion_error(int res) noexcept {
  return {-res, std::system_category()};
}

}  // namespace coronet::detail::uring
