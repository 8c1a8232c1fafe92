// Probes from outside against a TLS port: a load balancer's
// check-ssl and port scans that leave before or during the handshake are not logged as
// failures, and the count of failures suppressed by the once-a-second log limit is logged
// when its second ends. Labelled "unit;fault": it runs under the sanitizers too.
#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/core/log.hpp"
#include "coronet/core/sync_wait.hpp"
#include "coronet/net/connect.hpp"
#include "coronet/net/timeout.hpp"
#include "coronet/server/server.hpp"
#include "coronet/tls/context.hpp"
#include "coronet/tls/stream.hpp"
#include "support/blocking_peer.hpp"
#include "support/eventually.hpp"
#include "support/log_capture.hpp"
#include "support/running_server.hpp"
#include "support/test_certs.hpp"

namespace robustness_tls_probe_test {

using namespace std::chrono_literals;
using coronet_test::blocking_peer;
using coronet_test::eventually;
using coronet_test::log_capture;
using coronet_test::running_server;

namespace {

using coronet_test::certs;

// TLS on every port; a short handshake deadline makes the sweeper look every 50 ms.
coronet::server_options tls_only_options() {
  coronet::server_options o = coronet_test::quick_stop_options();
  o.tls_only = true;
  o.tls = {.certificate_file = certs().path("server.pem"), .key_file = certs().path("server.key")};
  o.handshake_timeout = 200ms;
  return o;
}

void abort_on_close(int fd) {
  const linger abort{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
}

// Sends `bytes` (maybe none), then leaves with end of stream or a reset.
void send_and_leave(std::uint16_t port, std::string_view bytes, bool reset) {
  blocking_peer p(port);
  if (!bytes.empty())
    p.send(bytes);
  if (reset)
    abort_on_close(p.socket().native_handle());
  p.close();
}

coronet::task<void> client_handshake(coronet::tls::stream& s) { co_await s.handshake(coronet::tls::stream::client); }

// As HAProxy's `check check-ssl`: a full handshake, then a reset.
void handshake_then_reset(std::uint16_t port) {
  asio::io_context ctx;
  asio::ssl::context ssl = coronet::tls::make_client_context({.ca_file = certs().path("ca.pem")});
  coronet::sync_wait(ctx, [&]() -> coronet::task<void> {
    coronet::tcp::socket sock = co_await coronet::tcp::connect(ctx.get_executor(), "127.0.0.1", port);
    coronet::tls::stream stream(std::move(sock), ssl);
    stream.set_server_name("localhost");
    co_await coronet::with_timeout(client_handshake(stream), 5s);
    abort_on_close(stream.lowest_layer().native_handle());
    stream.lowest_layer().close();
  }());
}

// Plaintext where a ClientHello belongs: a real handshake failure; waits for the close.
std::uint16_t fail_a_handshake(std::uint16_t port) {
  blocking_peer p(port);
  p.send("PING\r\n");
  CHECK(p.closed_by_server());
  return p.local_port();
}

// How many failures the lines account for: one per line that names a peer, plus the
// counts of "(N similar messages suppressed)".
std::uint64_t failures_logged(const std::vector<std::string>& lines) {
  std::uint64_t n = 0;
  for (const std::string& l : lines) {
    if (l.find(" from 127.0.0.1:") != std::string::npos)
      ++n;
    const std::size_t open = l.rfind(" (");
    if (open != std::string::npos && l.find(" similar messages suppressed)", open) != std::string::npos)
      n += std::stoull(l.substr(open + 2));
  }
  return n;
}

}  // namespace

TEST_CASE("TLS peers that leave before or during the handshake are not logged as failures", "[fault][tls]") {
  log_capture logs("TLS handshake failed");
  running_server s(tls_only_options());
  // A record header announcing a 512-byte ClientHello, then 5 of its bytes.
  const std::string_view partial_hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03", 10);
  for (bool reset : {false, true}) {
    send_and_leave(s.port(), "", reset);
    send_and_leave(s.port(), partial_hello, reset);
  }
  handshake_then_reset(s.port());
  REQUIRE(eventually([&] { return s.get().stats().connections_now == 0; }));
  // The first failure of this server's log limit: logged at once, alone, unless one of
  // the peers above was taken for a failure.
  const std::uint16_t plaintext = fail_a_handshake(s.port());
  REQUIRE(eventually([&] { return !logs.lines().empty(); }));
  const auto lines = logs.lines();
  REQUIRE(lines.size() == 1);
  CHECK(lines.front().find("from 127.0.0.1:" + std::to_string(plaintext) + ":") != std::string::npos);
  CHECK(lines.front().find("suppressed") == std::string::npos);
}

TEST_CASE("the count of suppressed handshake failures is logged when its second ends", "[fault][tls]") {
  log_capture logs("TLS handshake failed");
  running_server s(tls_only_options());
  constexpr int failures = 5;
  for (int i = 0; i < failures; ++i)
    fail_a_handshake(s.port());
  // No failure follows: the count must come from the sweeper, once the second is over.
  CHECK(eventually([&] { return failures_logged(logs.lines()) == failures; }));
  const auto lines = logs.lines();
  INFO(lines.size() << " lines");
  CHECK(lines.size() < failures);
}

}  // namespace robustness_tls_probe_test
