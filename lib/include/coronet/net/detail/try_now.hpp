// Trying an operation synchronously before waiting for it: the one try-now
// write used by tcp::socket writes, the server's writer and UDP sends.
#pragma once

#include <cstddef>
#include <system_error>

#include <asio/buffer.hpp>
#include <asio/error.hpp>

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
  while (!ec && total < b.size()) {
    total += s.write_some(b + total, ec);
    if (!all && total > 0)
      break;
  }
  return total;
}

}  // namespace coronet::detail
