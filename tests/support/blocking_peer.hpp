// A plain blocking TCP client for the server tests.
#pragma once

#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace coronet_test {

/// Connects to 127.0.0.1:`port` with Nagle off (each send is its own
/// segment) and SO_RCVTIMEO at 5 s. The timeout bounds a plain recv(2) on
/// `socket()`; Asio's own blocking reads, used below, wait on past it (they
/// poll again on EAGAIN), so what bounds those is the test's ctest timeout.
/// Reads throw `std::system_error` on an error unless said otherwise.
class blocking_peer {
public:
  explicit blocking_peer(std::uint16_t port) : socket_(ctx_) {
    socket_.connect({asio::ip::address_v4::loopback(), port});
    socket_.set_option(asio::ip::tcp::no_delay(true));
    timeval tv{5, 0};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  void send(std::string_view data) { asio::write(socket_, asio::buffer(data)); }

  /// The next line, without its CRLF.
  std::string line() {
    const std::size_t n = asio::read_until(socket_, asio::dynamic_buffer(pending_), "\r\n");
    std::string l = pending_.substr(0, n - 2);
    pending_.erase(0, n);
    return l;
  }

  /// Sends `command` as an inline command and returns its one-line reply.
  std::string call(std::string_view command) {
    std::string l(command);
    l += "\r\n";
    send(l);
    return line();
  }

  /// Everything up to and including `delim`.
  std::string until(std::string_view delim) {
    const std::size_t n = asio::read_until(socket_, asio::dynamic_buffer(pending_), delim);
    std::string out = pending_.substr(0, n);
    pending_.erase(0, n);
    return out;
  }

  /// The next `n` bytes.
  std::string exactly(std::size_t n) {
    if (pending_.size() < n) {
      const std::size_t have = pending_.size();
      pending_.resize(n);
      asio::read(socket_, asio::buffer(pending_.data() + have, n - have));
    }
    std::string out = pending_.substr(0, n);
    pending_.erase(0, n);
    return out;
  }

  /// A RESP bulk string reply's value; fails the test on another reply.
  std::string bulk() {
    const std::string header = line();
    REQUIRE(header.size() > 1);
    REQUIRE(header[0] == '$');
    const std::size_t n = std::stoul(header.substr(1));
    std::string value = exactly(n + 2);
    return value.substr(0, n);
  }

  /// Everything until the server closes; throws on any other end.
  std::string until_closed() {
    std::error_code ec;
    asio::read(socket_, asio::dynamic_buffer(pending_), ec);
    if (ec != asio::error::eof && ec != asio::error::connection_reset)
      throw std::system_error(ec, "until_closed");
    return std::exchange(pending_, {});
  }

  /// True if the next thing the server does is close the connection (end
  /// of stream or reset), with nothing more to read.
  bool closed() {
    if (!pending_.empty())
      return false;
    char c;
    std::error_code ec;
    const std::size_t n = socket_.read_some(asio::buffer(&c, 1), ec);
    return n == 0 && (ec == asio::error::eof || ec == asio::error::connection_reset);
  }

  /// True if the server closes the connection (end of stream or reset),
  /// whatever it sent before (that is discarded); false on another error.
  bool closed_by_server() {
    std::error_code ec;
    std::string ignored;
    asio::read(socket_, asio::dynamic_buffer(ignored), ec);
    pending_.clear();
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

  /// True if a byte or the close arrives within `limit` (nothing is consumed).
  bool readable_within(std::chrono::milliseconds limit) {
    if (!pending_.empty())
      return true;
    pollfd p{socket_.native_handle(), POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(limit.count())) > 0;
  }

  /// Sends end of stream (this side stops sending).
  void shutdown_send() { socket_.shutdown(asio::ip::tcp::socket::shutdown_send); }
  void close() { socket_.close(); }
  std::uint16_t local_port() const { return socket_.local_endpoint().port(); }
  asio::ip::tcp::socket& socket() { return socket_; }

private:
  asio::io_context ctx_;
  asio::ip::tcp::socket socket_;
  std::string pending_;
};

}  // namespace coronet_test
