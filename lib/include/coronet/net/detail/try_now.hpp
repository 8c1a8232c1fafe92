// Trying an operation synchronously before waiting for it: the one try-now
// write used by tcp::socket writes, the server's writer and UDP sends.
#pragma once

#include <cerrno>
#include <cstddef>
#include <system_error>
#include <type_traits>

#include <asio/basic_stream_socket.hpp>
#include <asio/buffer.hpp>
#include <asio/error.hpp>

#include "coronet/net/detail/sys_io.hpp"

namespace coronet::detail {

/// Puts `s` in non-blocking mode unless Asio already did (a syscall only the
/// first time).
template <class Socket>
void ensure_non_blocking(Socket& s, std::error_code& ec) noexcept {
  if (!s.non_blocking())
    s.non_blocking(true, ec);
}

/// True when `ec` says the kernel could not take the operation now.
inline bool would_block(const std::error_code& ec) noexcept {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

/// An Asio stream socket (TCP, local) whose descriptor `write_now` can send on itself.
template <class Socket>
concept direct_send_socket =
#if defined(ASIO_WINDOWS) || defined(__CYGWIN__)
    false;
#else
    requires { typename Socket::protocol_type; typename Socket::executor_type; } &&
    std::is_base_of_v<asio::basic_stream_socket<typename Socket::protocol_type, typename Socket::executor_type>,
                      Socket>;
#endif

/// Writes `b` to the stream socket `s` without blocking, for as long as the
/// kernel takes bytes (just once, if `all` is false and some were taken).
/// Returns the bytes written; `ec` is set when it stopped short, to a
/// `would_block` error when the send buffer was full. Writes are tried first
/// because the send buffer usually has room; reads are not, since a failed
/// speculative read costs a second syscall.
template <class Socket>
std::size_t write_now(Socket& s, asio::const_buffer b, bool all, std::error_code& ec) noexcept {
  ec.clear();
  ensure_non_blocking(s, ec);
  std::size_t total = 0;
  if constexpr (direct_send_socket<Socket>) {
    // The send system call itself (sys_send), as Asio's write_some would make it on a
    // socket in non-blocking mode, without the library's cancellation-point wrapper.
    if (ec)
      return 0;
    const auto fd = s.native_handle();
    const char* const data = static_cast<const char*>(b.data());
    while (total < b.size()) {
      const ssize_t sent = sys_send(fd, data + total, b.size() - total);
      if (sent >= 0) {
        total += static_cast<std::size_t>(sent);
        if (!all && total > 0)
          break;
      } else if (errno != EINTR) {
        ec.assign(errno, asio::error::get_system_category());
        break;
      }
    }
  } else {
    while (!ec && total < b.size()) {
      total += s.write_some(b + total, ec);
      if (!all && total > 0)
        break;
    }
  }
  return total;
}

}  // namespace coronet::detail
