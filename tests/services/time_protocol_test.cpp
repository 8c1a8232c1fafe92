// Tests for coronet/services/time_protocol.hpp: RFC 868 seconds since 1900.
#include "coronet/services/time_protocol.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>

#include "coronet/core/sync_wait.hpp"

namespace services_time_protocol_test {

namespace {

using sys = std::chrono::system_clock;

sys::time_point unix_time(std::int64_t seconds) { return sys::time_point(std::chrono::seconds(seconds)); }

}  // namespace

TEST_CASE("time_protocol_seconds counts from 1900 and wraps in 2036", "[services][time]") {
  using coronet::services::time_protocol_seconds;
  CHECK(time_protocol_seconds(unix_time(0)) == 2'208'988'800U);
  CHECK(time_protocol_seconds(unix_time(-2'208'988'800)) == 0U);  // 1900-01-01
  CHECK(time_protocol_seconds(unix_time(1'527'457'438) + std::chrono::milliseconds(999)) == 3'736'446'238U);
  CHECK(time_protocol_seconds(unix_time(2'085'978'495)) == 0xFFFF'FFFFU);  // 2036-02-07T06:28:15Z
  CHECK(time_protocol_seconds(unix_time(2'085'978'496)) == 0U);            // the wrap
}

TEST_CASE("encode_time_protocol is big-endian", "[services][time]") {
  const auto bytes = coronet::services::encode_time_protocol(unix_time(0));  // 0x83AA7E80
  CHECK(bytes == std::array<std::byte, 4>{std::byte{0x83}, std::byte{0xAA}, std::byte{0x7E}, std::byte{0x80}});
}

TEST_CASE("the time handler answers any datagram with 4 bytes of the arrival time", "[services][time]") {
  auto handler = coronet::services::time_protocol_handler();
  std::array<std::byte, 16> reply{};
  coronet::datagram d;
  d.received_at = unix_time(0);
  d.reply = reply;
  const std::optional<std::size_t> n = coronet::sync_wait(handler(d));
  REQUIRE(n == std::optional<std::size_t>(4));
  CHECK(reply[0] == std::byte{0x83});
  CHECK(reply[3] == std::byte{0x80});
}

}  // namespace services_time_protocol_test
