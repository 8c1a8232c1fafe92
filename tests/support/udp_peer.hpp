// A blocking UDP client for the datagram and time-service tests.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <asio/detail/socket_option.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace coronet_test {

/// A plain UDP client bound to `address`:`port` (0: the kernel picks);
/// with `reuse_port` it may share a port with a server's SO_REUSEPORT
/// sockets. Receives give up after 5 s, so no test hangs.
class udp_peer {
public:
  explicit udp_peer(asio::ip::address_v4 address = asio::ip::address_v4::loopback(), std::uint16_t port = 0,
                    bool reuse_port = false)
      : socket_(ctx_) {
    socket_.open(asio::ip::udp::v4());
    if (reuse_port)
      socket_.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
    socket_.bind({address, port});
  }

  void send(std::string_view data, std::uint16_t port) {
    socket_.send_to(asio::buffer(data.data(), data.size()), {asio::ip::address_v4::loopback(), port});
  }

  // Throws if nothing arrives within 5 s. (Asio's blocking receive would wait
  // out SO_RCVTIMEO, so the wait is a poll.)
  std::string receive() {
    pollfd p{socket_.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1)
      throw std::runtime_error("no datagram within 5 s");
    std::vector<char> buf(70'000);
    asio::ip::udp::endpoint from;
    const std::size_t n = socket_.receive_from(asio::buffer(buf), from);
    return std::string(buf.data(), n);
  }

  std::string call(std::string_view data, std::uint16_t port) {
    send(data, port);
    return receive();
  }

  // True if no datagram is waiting.
  bool nothing_pending() {
    char c;
    asio::ip::udp::endpoint from;
    std::error_code ec;
    // Asio's blocking sockets wait out EAGAIN whatever the flags say.
    socket_.non_blocking(true);
    socket_.receive_from(asio::buffer(&c, 1), from, 0, ec);
    socket_.non_blocking(false);
    return ec == asio::error::would_block;
  }

  std::uint16_t port() const { return socket_.local_endpoint().port(); }
  asio::ip::udp::socket& native() { return socket_; }

private:
  asio::io_context ctx_;
  asio::ip::udp::socket socket_;
};

}  // namespace coronet_test
