// IPv6 loopback for the tests that need ::1, which containers often lack.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <system_error>

#include <asio/io_context.hpp>
#include <asio/ip/address_v6.hpp>
#include <asio/ip/tcp.hpp>

namespace coronet_test {

/// True if this machine can bind ::1.
inline bool ipv6_loopback_available() {
  asio::io_context ctx(1);
  asio::ip::tcp::acceptor probe(ctx);
  std::error_code ec;
  probe.open(asio::ip::tcp::v6(), ec);
  if (!ec)
    probe.bind({asio::ip::address_v6::loopback(), 0}, ec);
  return !ec;
}

/// True, with a Catch warning that test `what` is skipped, if ::1 cannot be
/// bound here; the caller then returns.
inline bool skip_without_ipv6_loopback(const std::string& what) {
  if (ipv6_loopback_available())
    return false;
  WARN("::1 cannot be bound on this machine; " << what << " skipped");
  return true;
}

}  // namespace coronet_test
