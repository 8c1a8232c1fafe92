// The receive and send system calls of the hot path, made directly. Not an API.
//
// glibc's recv and send are thread cancellation points: around each system call they turn
// asynchronous cancellation on and off again, about 60 instructions per call, as many as
// the rest of a pipelined request's parse. coronet never cancels a thread (a server's
// threads end when their io_context stops), so its own receives and sends (the session's
// lazy read, the try-now write) make the system call through syscall(2), which is no
// cancellation point. Elsewhere than Linux they are the ordinary calls.
#pragma once

#include <cstddef>

#include <sys/socket.h>
#include <sys/types.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace coronet::detail {

/// `recv(fd, data, size, 0)`: the bytes received, 0 at the end of the stream, or -1 with
/// `errno` set.
inline ssize_t sys_recv(int fd, void* data, std::size_t size) noexcept {
#if defined(__linux__) && defined(SYS_recvfrom)
  return static_cast<ssize_t>(::syscall(SYS_recvfrom, fd, data, size, 0, nullptr, nullptr));
#else
  return ::recv(fd, data, size, 0);
#endif
}

/// `send(fd, data, size, MSG_NOSIGNAL)` (no SIGPIPE where the peer is gone, as Asio's
/// sends): the bytes sent, or -1 with `errno` set.
inline ssize_t sys_send(int fd, const void* data, std::size_t size) noexcept {
#if defined(__linux__) && defined(SYS_sendto)
  return static_cast<ssize_t>(::syscall(SYS_sendto, fd, data, size, MSG_NOSIGNAL, nullptr, 0));
#elif defined(MSG_NOSIGNAL)
  return ::send(fd, data, size, MSG_NOSIGNAL);
#else
  return ::send(fd, data, size, 0);
#endif
}

}  // namespace coronet::detail
