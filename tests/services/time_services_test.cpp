// time_services end to end over loopback: daytime and time over TCP and UDP, SNTP, drops, shutdown.
#include "coronet/services/time_services.hpp"

#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "coronet/services/daytime.hpp"
#include "coronet/services/sntp.hpp"
#include "coronet/services/time_protocol.hpp"
#include "support/blocking_peer.hpp"
#include "support/eventually.hpp"
#include "support/server_thread.hpp"
#include "support/udp_peer.hpp"

namespace services_time_services_test {

using namespace std::chrono_literals;

namespace {

namespace services = coronet::services;
using sys = std::chrono::system_clock;

services::time_services_options all_on_free_ports() {
  services::time_services_options o;
  o.daytime_port = o.time_port = o.sntp_port = 0;
  o.rate_limit.per_second = 0;
  return o;
}

// The time services on their own thread for the duration of a test.
class running_services {
public:
  explicit running_services(services::time_services_options o = all_on_free_ports())
      : services_(std::move(o)), thread_(services_) {}

  int stop() { return thread_.stop(); }
  services::time_services& get() { return services_; }

private:
  services::time_services services_;
  coronet_test::server_thread<services::time_services> thread_;
};

// Everything a TCP service sends before it closes; throws if that takes over 5 s.
std::string tcp_read_all(std::uint16_t port) {
  // blocking_peer sets SO_RCVTIMEO; the plain recv(2) below honours it,
  // where Asio's blocking reads would wait it out.
  coronet_test::blocking_peer peer(port);
  asio::ip::tcp::socket& s = peer.socket();
  std::string out;
  char buf[256];
  for (;;) {
    const ssize_t n = ::recv(s.native_handle(), buf, sizeof buf, 0);
    if (n == 0)
      return out;
    if (n < 0)
      throw std::runtime_error("no end of stream within 5 s");
    out.append(buf, static_cast<std::size_t>(n));
  }
}

using coronet_test::eventually;
using udp_client = coronet_test::udp_peer;

sys::time_point decode_rfc868(const std::string& b) {
  REQUIRE(b.size() == 4);
  std::uint32_t s = 0;
  for (char c : b)
    s = s << 8 | static_cast<unsigned char>(c);
  return sys::time_point(std::chrono::seconds(std::int64_t{s} - services::seconds_from_1900_to_1970));
}

std::string sntp_request(unsigned version, unsigned mode) {
  std::string r(48, '\0');
  r[0] = static_cast<char>((version << 3) | mode);
  r[47] = 42;
  return r;
}

}  // namespace

TEST_CASE("daytime, time and SNTP answer over TCP and UDP with the current time", "[services][time_services]") {
  running_services s;
  auto& ts = s.get();
  REQUIRE(ts.daytime_port() != 0);
  REQUIRE(ts.time_port() != 0);
  REQUIRE(ts.sntp_port() != 0);

  const std::string daytime = tcp_read_all(ts.daytime_port());
  CHECK(daytime.size() == 26);
  CHECK(daytime.substr(24) == "\r\n");
  CHECK(std::chrono::abs(decode_rfc868(tcp_read_all(ts.time_port())) - sys::now()) < 2s);

  udp_client c;
  CHECK(c.call("", ts.daytime_port()).substr(24) == "\r\n");
  CHECK(c.call("anything", ts.daytime_port()).size() == 26);
  CHECK(std::chrono::abs(decode_rfc868(c.call("", ts.time_port())) - sys::now()) < 2s);

  const std::string reply = c.call(sntp_request(3, 3), ts.sntp_port());
  REQUIRE(reply.size() == 48);
  CHECK(reply[0] == static_cast<char>((3 << 3) | 4));
  CHECK(reply[31] == 42);  // originate = our transmit timestamp
  const auto* p = reinterpret_cast<const unsigned char*>(reply.data()) + 40;
  const services::ntp_timestamp transmit{
      std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3],
      std::uint32_t{p[4]} << 24 | std::uint32_t{p[5]} << 16 | std::uint32_t{p[6]} << 8 | p[7]};
  CHECK(std::chrono::abs(services::from_ntp_timestamp(transmit) - sys::now()) < 2s);

  // A reply is counted once sent, so maybe just after it arrived.
  CHECK(eventually([&] { return ts.stats().udp.replies == 4; }));
  CHECK(ts.stats().tcp_connections == 2);
  CHECK(s.stop() == 0);
}

TEST_CASE("malformed SNTP datagrams get no reply and the service goes on", "[services][time_services]") {
  running_services s;
  const std::uint16_t port = s.get().sntp_port();
  udp_client c;
  c.send("", port);
  c.send("x", port);
  c.send(std::string(47, '\x1b'), port);
  c.send(sntp_request(4, 4), port);
  c.send(sntp_request(0, 3), port);
  c.send(std::string(65'507, '\x1b'), port);
  CHECK(c.call(sntp_request(4, 3), port).size() == 48);
  CHECK(c.nothing_pending());
  const auto st = s.get().stats().udp;
  CHECK(st.unanswered == 5);
  CHECK(st.dropped_oversize == 1);
}

TEST_CASE("UDP replies are rate-limited per source by default", "[services][time_services]") {
  auto o = all_on_free_ports();
  o.rate_limit = coronet::reply_rate_limit{};
  o.rate_limit.per_second = 1;
  o.rate_limit.burst = 2;
  running_services s(o);
  udp_client c;
  const auto start = std::chrono::steady_clock::now();
  CHECK(c.call("", s.get().time_port()).size() == 4);
  CHECK(c.call("", s.get().daytime_port()).size() == 26);  // one bucket for all the services
  // The burst is spent: of these, only the refill (one a second) is answered. Several, so
  // that a machine slow enough to refill the bucket once meanwhile still shows the limit.
  constexpr int more = 5;
  for (int i = 0; i < more; ++i)
    c.send("", s.get().time_port());
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start);
  const auto refills = static_cast<std::uint64_t>(seconds.count()) + 1;
  // Another source address has its own bucket (Linux routes all of 127/8 to lo).
  udp_client other(asio::ip::make_address_v4("127.0.0.2"));
  REQUIRE(other.call("", s.get().time_port()).size() == 4);
  // Every datagram sent has been received and either answered or dropped.
  CHECK(eventually([&] { return s.get().stats().udp.received == 2 + more + 1; }));
  const auto dropped = s.get().stats().udp.dropped_rate_limited;
  CHECK(dropped + refills >= more);
  CHECK(dropped >= 1);
  CHECK(dropped <= more);
  for (std::uint64_t i = dropped; i < more; ++i)
    CHECK(c.receive().size() == 4);  // the refills' replies, each to a datagram not dropped
  CHECK(c.nothing_pending());
}

TEST_CASE("services can be turned off one by one; none at all is an error", "[services][time_services]") {
  services::time_services_options o;
  o.sntp_port = 0;
  services::time_services only_sntp(o);
  CHECK(only_sntp.daytime_port() == 0);
  CHECK(only_sntp.time_port() == 0);
  CHECK(only_sntp.sntp_port() != 0);
  CHECK_THROWS_AS(services::time_services(services::time_services_options{}), std::invalid_argument);
  o.host = "localhost";
  CHECK_THROWS_AS(services::time_services(o), std::invalid_argument);
}

TEST_CASE("stop() drains: TCP and UDP close, run() returns 0", "[services][time_services][shutdown]") {
  running_services s;
  const std::uint16_t port = s.get().time_port();
  CHECK(tcp_read_all(port).size() == 4);
  CHECK(s.stop() == 0);
  asio::io_context ctx;
  asio::ip::tcp::socket late(ctx);
  std::error_code ec;
  late.connect({asio::ip::address_v4::loopback(), port}, ec);
  CHECK(ec == asio::error::connection_refused);
}

TEST_CASE("SNTP answers client requests from the services' own ports; daytime and time do not",
          "[services][time_services][reflection]") {
  // Two UDP threads: the sockets use SO_REUSEPORT, so the test can send from
  // the daytime port as if it were another server there (or ntpd on 123).
  auto o = all_on_free_ports();
  o.udp_threads = 2;
  running_services s(o);
  auto& ts = s.get();
  udp_client impostor(asio::ip::address_v4::loopback(), ts.daytime_port(), true);

  impostor.send(sntp_request(4, 3), ts.sntp_port());
  REQUIRE(eventually([&] { return ts.stats().udp.replies == 1; }));
  // The reply went to the daytime port: to the impostor, or to daytime's own
  // socket there, which drops it as coming from one of the services' ports.
  CHECK(eventually([&] { return ts.stats().udp.dropped_source == 1 || !impostor.nothing_pending(); }));
  const auto dropped = ts.stats().udp.dropped_source;

  // The mode is SNTP's loop guard: a server reply (mode 4) is never answered.
  impostor.send(sntp_request(4, 4), ts.sntp_port());
  CHECK(eventually([&] { return ts.stats().udp.unanswered == 1; }));
  // Time answers any datagram, so it drops those from the services' ports.
  impostor.send("", ts.time_port());
  CHECK(eventually([&] { return ts.stats().udp.dropped_source == dropped + 1; }));
  CHECK(ts.stats().udp.replies == 1);
}

TEST_CASE("SNTP answers a request from source port 123, as NTP daemons send (root only)",
          "[services][time_services][reflection]") {
  if (::geteuid() != 0) {
    WARN("not root: cannot bind port 123; the decision is covered by sntp_should_answer's test");
    return;
  }
  std::optional<udp_client> ntpd;
  try {
    ntpd.emplace(asio::ip::address_v4::loopback(), std::uint16_t{123});
  } catch (const std::system_error& e) {
    WARN(std::string("port 123 is taken (a system NTP daemon?): ") + e.what());
    return;
  }
  running_services s;
  const std::string reply = ntpd->call(sntp_request(4, 3), s.get().sntp_port());
  REQUIRE(reply.size() == 48);
  CHECK(reply[0] == static_cast<char>((4 << 3) | 4));
  CHECK(s.get().stats().udp.dropped_source == 0);
}

}  // namespace services_time_services_test
