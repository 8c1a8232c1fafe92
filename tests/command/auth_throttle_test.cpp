// coronet::auth_throttle on its own, with time given by the test: turns, doubling, decay,
// address grouping, the bounded table and the log budget.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>

#include <asio/ip/address.hpp>

#include "coronet/command/auth_throttle.hpp"

namespace command_auth_throttle_test {

using namespace std::chrono_literals;
using coronet::auth_throttle;

namespace {

asio::ip::address addr(const char* text) { return asio::ip::make_address(text); }

coronet::auth_throttle_options small_options() {
  coronet::auth_throttle_options o;
  o.failures_before_delay = 2;
  o.first_delay = 10ms;
  o.max_delay = 80ms;
  o.max_wait = 1s;
  o.decay = 60s;
  return o;
}

}  // namespace

TEST_CASE("an address is not delayed until it failed more than failures_before_delay times", "[auth_throttle]") {
  auth_throttle t(small_options());
  const auto now = auth_throttle::clock::now();
  const auto a = addr("192.0.2.1");
  CHECK(t.admit(a, now).wait == 0ms);
  t.failed(a, now);
  t.failed(a, now);
  CHECK(t.admit(a, now).wait == 0ms);
  const auth_throttle::failure third = t.failed(a, now);
  CHECK(third.failures == 3);
  CHECK(third.delay == 10ms);
  CHECK(t.admit(a, now).wait == 10ms);
  CHECK(t.admit(addr("192.0.2.2"), now).wait == 0ms);  // another address: nothing
  CHECK(t.delayed() == 1);
}

TEST_CASE("the gap doubles per failure up to max_delay, and turns queue over connections", "[auth_throttle]") {
  auth_throttle t(small_options());
  const auto now = auth_throttle::clock::now();
  const auto a = addr("192.0.2.1");
  for (int i = 0; i < 3; ++i)
    t.failed(a, now);
  CHECK(t.failed(a, now).delay == 20ms);
  CHECK(t.failed(a, now).delay == 40ms);
  CHECK(t.failed(a, now).delay == 80ms);
  CHECK(t.failed(a, now).delay == 80ms);
  // Guesses at the same moment (several connections) get turns 80 ms apart.
  CHECK(t.admit(a, now).wait == 80ms);
  CHECK(t.admit(a, now).wait == 160ms);
  CHECK(t.admit(a, now).wait == 240ms);
  // A turn beyond max_wait (1 s) is refused, and takes no turn.
  for (int i = 0; i < 9; ++i)
    t.admit(a, now);
  CHECK(t.admit(a, now).refused);
  CHECK(t.refused() == 1);
}

TEST_CASE("a failure count halves every decay period", "[auth_throttle]") {
  auth_throttle t(small_options());
  const auto start = auth_throttle::clock::now();
  const auto a = addr("192.0.2.1");
  for (int i = 0; i < 8; ++i)
    t.failed(a, start);
  CHECK(t.failed(a, start + 59s).failures == 9);
  CHECK(t.failed(a, start + 61s).failures == 5);   // 9 halved, then this one
  CHECK(t.failed(a, start + 181s).failures == 2);  // 5 halved twice, then this one
  CHECK(t.admit(a, start + 181s).wait == 0ms);
}

TEST_CASE("IPv6 addresses count per /64, IPv4-mapped ones as IPv4", "[auth_throttle]") {
  coronet::auth_throttle_options o = small_options();
  o.failures_before_delay = 0;
  auth_throttle t(o);
  const auto now = auth_throttle::clock::now();
  t.failed(addr("2001:db8:1:2::1"), now);
  CHECK(t.admit(addr("2001:db8:1:2:ffff::7"), now).wait > 0ms);
  CHECK(t.admit(addr("2001:db8:1:3::1"), now).wait == 0ms);
  t.failed(addr("198.51.100.4"), now);
  CHECK(t.admit(addr("::ffff:198.51.100.4"), now).wait > 0ms);
  CHECK(t.admit(addr("198.51.100.5"), now).wait == 0ms);
}

TEST_CASE("the table stays within max_sources, forgetting the least recent failures", "[auth_throttle]") {
  coronet::auth_throttle_options o = small_options();
  o.failures_before_delay = 0;
  o.max_sources = 64;
  auth_throttle t(o);
  const auto start = auth_throttle::clock::now();
  t.failed(addr("203.0.113.1"), start);
  // 10,000 other addresses later, the first one is forgotten...
  for (unsigned i = 0; i < 10'000; ++i)
    t.failed(asio::ip::address_v4(0x0a000000u + i), start + 1ms + std::chrono::microseconds(i));
  CHECK(t.admit(addr("203.0.113.1"), start + 1s).wait == 0ms);
  // ...while the most recent ones are remembered.
  CHECK(t.admit(asio::ip::address_v4(0x0a000000u + 9'999), start + 1s).wait > 0ms);
}

TEST_CASE("failures are logged once per address per decay window, ten lines a second at most", "[auth_throttle]") {
  auth_throttle t(small_options());
  const auto start = auth_throttle::clock::now();
  const auto a = addr("192.0.2.1");
  CHECK(t.failed(a, start).log);
  CHECK_FALSE(t.failed(a, start + 1s).log);
  const auth_throttle::failure later = t.failed(a, start + 61s);
  CHECK(later.log);
  CHECK(later.unlogged == 2);
  // Another address in the same 100 ms: its line waits for its next failure.
  const auto b = addr("192.0.2.2");
  CHECK_FALSE(t.failed(b, start + 61s + 50ms).log);
  CHECK(t.failed(b, start + 61s + 150ms).log);
}

TEST_CASE("max_sources over the limit is refused when the throttle is made, not at the first failure",
          "[auth_throttle]") {
  coronet::auth_throttle_options o;
  o.max_sources = coronet::auth_throttle::max_sources_limit;
  CHECK_NOTHROW(coronet::auth_throttle(o));
  o.max_sources = coronet::auth_throttle::max_sources_limit + 1;
  CHECK_THROWS_AS(coronet::auth_throttle(o), std::invalid_argument);
  o.max_sources = static_cast<std::size_t>(-1);  // would overflow the table's size
  CHECK_THROWS_AS(coronet::auth_throttle(o), std::invalid_argument);
}

}  // namespace command_auth_throttle_test
