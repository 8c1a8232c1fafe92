// Probes from outside against the PROXY protocol prelude: peers outside
// proxy_trusted are served with no handshake deadline, peers that leave after the first bytes
// of a signature free their slot at once, and a load balancer's LOCAL health checks that
// reset at once are counted as health checks, not as errors. Labelled "unit;fault": it runs
// under the sanitizers too, so its deadlines are generous and it never sleeps to wait.
#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "coronet/core/log.hpp"
#include "coronet/server/server.hpp"
#include "support/blocking_peer.hpp"
#include "support/eventually.hpp"
#include "support/log_capture.hpp"
#include "support/proxy_headers.hpp"
#include "support/running_server.hpp"
#include "support/test_commands.hpp"

namespace robustness_proxy_fault_test {

using namespace std::chrono_literals;
using coronet::proxy_protocol_mode;
using coronet_test::blocking_peer;
using coronet_test::eventually;
using coronet_test::log_capture;
using coronet_test::running_server;

namespace {

constexpr auto handshake = 200ms;

// PROXY on with loopback outside proxy_trusted: every peer of the test is untrusted.
coronet::server_options untrusted_options() {
  coronet::server_options o = coronet_test::quick_stop_options();
  o.proxy_protocol = proxy_protocol_mode::any;
  o.proxy_trusted = {"10.0.0.0/8", "fd00::/8"};
  o.handshake_timeout = handshake;
  return o;
}

// PROXY on with loopback trusted (the default list): every peer must send a header.
coronet::server_options trusted_options() {
  coronet::server_options o = coronet_test::quick_stop_options();
  o.proxy_protocol = proxy_protocol_mode::any;
  o.handshake_timeout = handshake;
  return o;
}

// Sends `bytes`, then leaves: with a reset (SO_LINGER 0) or end of stream.
void send_and_leave(std::uint16_t port, const std::string& bytes, bool reset) {
  blocking_peer p(port);
  if (!bytes.empty())
    p.send(bytes);
  if (reset) {
    const linger abort{1, 0};
    ::setsockopt(p.socket().native_handle(), SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  }
  p.close();
}

const std::string v2_local = coronet_test::v2(0x20, 0x00, "");

}  // namespace

TEST_CASE("an untrusted peer silent for many handshake_timeouts is served, not closed nor counted",
          "[fault][proxy]") {
  running_server s(untrusted_options());
  blocking_peer pooled(s.port());
  // A peer in the handshake would be closed within handshake_timeout and two sweeps (300 ms).
  CHECK_FALSE(pooled.readable_within(5 * handshake));
  CHECK(pooled.call("PING") == "+PONG");
  const auto st = s.get().stats();
  CHECK(st.proxy_header_errors == 0);
  CHECK(st.handshakes_timed_out == 0);
}

TEST_CASE("the same silence from a trusted peer is a late header: closed and counted", "[fault][proxy]") {
  running_server s(trusted_options());
  blocking_peer silent(s.port());
  CHECK(silent.readable_within(25 * handshake));
  CHECK(silent.closed());
  CHECK(eventually([&] { return s.get().stats().handshakes_timed_out == 1; }));
  CHECK(eventually([&] { return s.get().stats().proxy_header_errors == 1; }));
}

TEST_CASE("a silent untrusted peer has the idle_timeout of any connection, not the handshake's", "[fault][proxy]") {
  auto o = untrusted_options();
  o.idle_timeout = 3 * handshake;
  running_server s(o);
  blocking_peer idle(s.port());
  CHECK_FALSE(idle.readable_within(2 * handshake));
  CHECK(idle.closed_by_server());
  CHECK(eventually([&] { return s.get().stats().connections_now == 0; }));
  const auto st = s.get().stats();
  CHECK(st.proxy_header_errors == 0);
  CHECK(st.handshakes_timed_out == 0);
}

TEST_CASE("an untrusted peer that begins a signature and stops is in the handshake: closed at its deadline",
          "[fault][proxy]") {
  running_server s(untrusted_options());
  for (const std::string first : {"PROX", "\r\n\r\n"}) {
    INFO("sent " << first.size() << " bytes");
    const auto before = s.get().stats();
    blocking_peer p(s.port());
    p.send(first);
    CHECK(p.readable_within(25 * handshake));
    CHECK(p.closed());
    CHECK(eventually([&] { return s.get().stats().handshakes_timed_out == before.handshakes_timed_out + 1; }));
    // Counted by the prelude once the sweeper's close reaches it.
    CHECK(eventually([&] { return s.get().stats().proxy_header_errors == before.proxy_header_errors + 1; }));
  }
}

TEST_CASE("an untrusted peer whose command begins like a signature is served once it differs", "[fault][proxy]") {
  running_server s(untrusted_options());
  blocking_peer p(s.port());
  p.send("P");
  CHECK_FALSE(p.readable_within(50ms));
  p.send("ING\r\n");
  CHECK(p.line() == "+PONG");
  p.send("\r\n\r");
  p.send("\nPING\r\n");
  CHECK(p.line() == "+PONG");
  CHECK(s.get().stats().proxy_header_errors == 0);
}

TEST_CASE("peers that send the first bytes of a signature and leave free their slot at once", "[fault][proxy]") {
  auto o = untrusted_options();
  // The default deadline: a slot held until then would lock the real client out for 10 s.
  o.handshake_timeout = 10s;
  o.max_connections = 4;
  running_server s(o);
  const std::string firsts[] = {"P", "\r\n", "PROX", "\r"};
  for (int i = 0; i < 40; ++i)
    send_and_leave(s.port(), firsts[i % 4], i % 3 == 0);
  // All accepted (the rejected ones included) before their slots are looked at.
  REQUIRE(eventually([&] { return s.get().stats().connections_total == 40; }));
  CHECK(eventually([&] { return s.get().stats().connections_now == 0; }, 3s));
  blocking_peer client(s.port());
  CHECK(client.call("PING") == "+PONG");
  const auto st = s.get().stats();
  CHECK(st.connections_total >= 41);
  CHECK(st.proxy_header_errors == 0);
  CHECK(st.handshakes_timed_out == 0);
}

TEST_CASE("a LOCAL health check that resets before it is accepted is counted as one, and not logged",
          "[fault][proxy]") {
  log_capture logs;
  // `hold` blocks the only worker thread until released, so the check below connects,
  // sends its header and resets before the server accepts it, as HAProxy's do under load.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> holding{false};
  coronet::router r = coronet_test::make_test_router();
  r.add(
      "hold", "blocks the worker until the test releases it",
      [&](coronet::request&) -> coronet::task<coronet::reply> {
        holding = true;
        released.wait();
        co_return coronet::reply::text("RELEASED");
      },
      coronet::arity::exactly(0));
  running_server s(trusted_options(), std::move(r));
  blocking_peer holder(s.port());
  holder.send(v2_local + "hold\r\n");
  REQUIRE(eventually([&] { return holding.load(); }));
  send_and_leave(s.port(), v2_local, true);
  send_and_leave(s.port(), v2_local, false);
  release.set_value();
  CHECK(holder.line() == "+RELEASED");
  REQUIRE(eventually([&] { return s.get().stats().connections_total == 3; }));
  // The holder and both checks.
  CHECK(eventually([&] { return s.get().stats().proxy_health_checks == 3; }));
  CHECK(eventually([&] { return s.get().stats().connections_now == 1; }));
  const auto st = s.get().stats();
  CHECK(st.proxy_header_errors == 0);
  CHECK(st.errors == 0);
  CHECK(logs.containing("PROXY").empty());
  CHECK(logs.containing("0.0.0.0").empty());
}

TEST_CASE("a LOCAL header from a peer outside proxy_trusted is refused like any header from there",
          "[fault][proxy]") {
  running_server s(untrusted_options());
  blocking_peer p(s.port());
  p.send(v2_local + "PING\r\n");
  CHECK(p.until_closed().empty());
  CHECK(eventually([&] { return s.get().stats().proxy_header_errors == 1; }));
  CHECK(s.get().stats().proxy_health_checks == 0);
}

}  // namespace robustness_proxy_fault_test
