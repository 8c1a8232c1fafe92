// Tests for coronet/services/daytime.hpp: the RFC 867 text and its UDP handler.
#include "coronet/services/daytime.hpp"
#include "coronet/core/time_format.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <ctime>
#include <optional>
#include <string>

#include "coronet/core/sync_wait.hpp"

namespace services_daytime_test {

namespace {

std::string daytime_of(std::time_t t) {
  char buf[coronet::services::daytime_buffer_size];
  return std::string(buf, coronet::services::format_daytime(buf, t));
}

std::string ctime_of(std::time_t t) {
  char buf[coronet::time_format_buffer_size];
  return std::string(buf, coronet::format_ctime(buf, t));
}

}  // namespace

TEST_CASE("format_daytime is the ctime text followed by CR LF", "[services][daytime]") {
  const std::time_t t = 1'527'457'438;  // 2018-05-27T21:43:58Z
  const std::string text = daytime_of(t);
  CHECK(text.size() == 26);
  CHECK(text == ctime_of(t) + "\r\n");
  CHECK(text.substr(20, 4) == "2018");
}

TEST_CASE("the daytime handler answers any datagram, an empty one included", "[services][daytime]") {
  auto handler = coronet::services::daytime_handler();
  std::array<std::byte, 64> reply{};
  coronet::datagram d;
  d.received_at = std::chrono::system_clock::from_time_t(1'527'457'438);
  d.reply = reply;
  const std::optional<std::size_t> n = coronet::sync_wait(handler(d));
  REQUIRE(n.has_value());
  CHECK(std::string(reinterpret_cast<const char*>(reply.data()), *n) == daytime_of(1'527'457'438));

  // No room for the text: no reply rather than a truncated one.
  std::array<std::byte, 8> small{};
  d.reply = small;
  CHECK_FALSE(coronet::sync_wait(handler(d)).has_value());
}

}  // namespace services_daytime_test
