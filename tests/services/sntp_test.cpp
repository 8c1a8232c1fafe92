// Tests for coronet/services/sntp.hpp: NTP timestamps and the RFC 4330 server reply.
#include "coronet/services/sntp.hpp"

#include <catch2/catch.hpp>

#include <asio/ip/udp.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "coronet/core/sync_wait.hpp"

namespace services_sntp_test {

namespace {

using sys = std::chrono::system_clock;
namespace services = coronet::services;

std::uint32_t get32(const std::byte* p) {
  return std::to_integer<std::uint32_t>(p[0]) << 24 | std::to_integer<std::uint32_t>(p[1]) << 16 |
         std::to_integer<std::uint32_t>(p[2]) << 8 | std::to_integer<std::uint32_t>(p[3]);
}

services::ntp_timestamp get_timestamp(const std::byte* p) { return {get32(p), get32(p + 4)}; }

// A client request: leap 0, `version`, `mode`, poll 6, transmit timestamp set.
std::vector<std::byte> request(unsigned version = 4, unsigned mode = 3, std::size_t size = 48) {
  std::vector<std::byte> r(size);
  if (size > 0)
    r[0] = std::byte((version << 3) | mode);
  if (size > 2)
    r[2] = std::byte{6};
  if (size >= 48)
    for (std::size_t i = 40; i < 48; ++i)
      r[i] = std::byte(0xA0 + i);
  return r;
}

const sys::time_point received = sys::time_point(std::chrono::seconds(1'527'457'438) +
                                                 std::chrono::microseconds(250'000));

// What the SNTP handler answers `payload` from 127.0.0.1:`port` with: the
// size of its reply, or nothing.
std::optional<std::size_t> handle(std::uint16_t port, std::span<const std::byte> payload) {
  std::array<std::byte, 64> reply{};
  coronet::datagram d;
  d.payload = payload;
  d.source = coronet::udp::endpoint(asio::ip::address_v4::loopback(), port);
  d.received_at = received;
  d.reply = reply;
  return coronet::sync_wait(services::sntp_handler()(d));
}
const sys::time_point transmit = received + std::chrono::microseconds(500'000);

}  // namespace

TEST_CASE("NTP timestamps: seconds since 1900 and a 2^-32 s fraction, both ways", "[services][sntp]") {
  const auto t = services::to_ntp_timestamp(sys::time_point(std::chrono::seconds(0)) + std::chrono::milliseconds(500));
  CHECK(t.seconds == 2'208'988'800U);
  CHECK(t.fraction == 0x8000'0000U);
  const auto now = std::chrono::time_point_cast<std::chrono::microseconds>(sys::now());
  const auto back = services::from_ntp_timestamp(services::to_ntp_timestamp(now));
  CHECK(std::chrono::abs(back - now) < std::chrono::microseconds(1));
  // After the 2036 wrap, small seconds values are read as era 1.
  const auto after_wrap = services::from_ntp_timestamp({10, 0});
  CHECK(after_wrap == sys::time_point(std::chrono::seconds(2'085'978'496 + 10)));
}

TEST_CASE("a client request gets a server reply with the documented fields", "[services][sntp]") {
  for (unsigned version : {1u, 2u, 3u, 4u}) {
    const auto req = request(version);
    std::array<std::byte, 64> reply{};
    const std::size_t n = services::make_sntp_reply(req, reply, received, transmit);
    REQUIRE(n == services::sntp_packet_size);
    const auto first = std::to_integer<unsigned>(reply[0]);
    CHECK(first >> 6 == 0);                // leap indicator: no warning
    CHECK(((first >> 3) & 7) == version);  // version echoed
    CHECK((first & 7) == 4);               // server mode
    CHECK(reply[1] == std::byte{1});       // stratum
    CHECK(reply[2] == std::byte{6});       // poll copied
    CHECK(reply[3] == std::byte(static_cast<std::uint8_t>(-20)));
    CHECK(get32(&reply[4]) == 0U);    // root delay
    CHECK(get32(&reply[8]) == 655U);  // root dispersion
    CHECK(std::string(reinterpret_cast<const char*>(&reply[12]), 4) == "LOCL");
    CHECK(get_timestamp(&reply[16]) == services::to_ntp_timestamp(received));  // reference
    CHECK(get_timestamp(&reply[24]) == get_timestamp(&req[40]));               // originate
    CHECK(get_timestamp(&reply[32]) == services::to_ntp_timestamp(received));  // receive
    CHECK(get_timestamp(&reply[40]) == services::to_ntp_timestamp(transmit));  // transmit
    CHECK(get32(&reply[36]) == 0x4000'0000U);                                  // .25 s
  }
}

TEST_CASE("sntp_options set stratum, reference id, precision and dispersion", "[services][sntp]") {
  services::sntp_options o;
  o.stratum = 3;
  o.reference_id = {'\xC0', '\x00', '\x02', '\x01'};
  o.precision = -10;
  o.root_dispersion = 1;
  std::array<std::byte, 48> reply{};
  REQUIRE(services::make_sntp_reply(request(), reply, received, transmit, o) == 48);
  CHECK(reply[1] == std::byte{3});
  CHECK(get32(&reply[12]) == 0xC000'0201U);
  CHECK(reply[3] == std::byte(static_cast<std::uint8_t>(-10)));
  CHECK(get32(&reply[8]) == 1U);
}

TEST_CASE("malformed and non-client packets are dropped; extension bytes are ignored", "[services][sntp]") {
  std::array<std::byte, 48> reply{};
  CHECK(services::make_sntp_reply(request(4, 3, 0), reply, received, transmit) == 0);
  CHECK(services::make_sntp_reply(request(4, 3, 1), reply, received, transmit) == 0);
  CHECK(services::make_sntp_reply(request(4, 3, 47), reply, received, transmit) == 0);
  for (unsigned mode : {0u, 1u, 2u, 4u, 5u, 6u, 7u})
    CHECK(services::make_sntp_reply(request(4, mode), reply, received, transmit) == 0);
  CHECK(services::make_sntp_reply(request(0, 3), reply, received, transmit) == 0);
  for (unsigned version : {5u, 6u, 7u})
    CHECK(services::make_sntp_reply(request(version, 3), reply, received, transmit) == 0);
  CHECK(services::make_sntp_reply(request(4, 3, 68), reply, received, transmit) == 48);
  std::array<std::byte, 47> small{};
  CHECK(services::make_sntp_reply(request(), small, received, transmit) == 0);
}

TEST_CASE("the SNTP handler replies to a client request only", "[services][sntp]") {
  CHECK(handle(40000, request()) == std::optional<std::size_t>(48));
  CHECK_FALSE(handle(40000, request(4, 4)).has_value());
}

TEST_CASE("sntp_should_answer: client requests from any source port but 0; the mode is the loop guard",
          "[services][sntp][reflection]") {
  // Ephemeral ports, the NTP port itself (ntpd, chronyd's acquisitionport 123),
  // and the top of the range.
  for (std::uint16_t port :
       {std::uint16_t{1}, std::uint16_t{123}, std::uint16_t{1024}, std::uint16_t{40000}, std::uint16_t{65535}})
    for (unsigned version : {1u, 2u, 3u, 4u})
      CHECK(services::sntp_should_answer(request(version, 3), port));
  CHECK_FALSE(services::sntp_should_answer(request(4, 3), 0));
  // Server replies (4), symmetric (1, 2), broadcast (5), control (6), private (7), reserved (0).
  for (unsigned mode : {0u, 1u, 2u, 4u, 5u, 6u, 7u})
    CHECK_FALSE(services::sntp_should_answer(request(4, mode), 123));
  CHECK_FALSE(services::sntp_should_answer(request(0, 3), 123));
  CHECK_FALSE(services::sntp_should_answer(request(5, 3), 123));
  CHECK_FALSE(services::sntp_should_answer(request(4, 3, 47), 123));
  CHECK(services::sntp_should_answer(request(4, 3, 68), 123));
}

TEST_CASE("the SNTP handler answers source port 123 and ignores source port 0", "[services][sntp][reflection]") {
  CHECK(handle(123, request()) == std::optional<std::size_t>(48));
  CHECK_FALSE(handle(0, request()).has_value());
  // A reply sent back to port 123 (as by another server) is not answered.
  CHECK_FALSE(handle(123, request(4, 4)).has_value());
}

}  // namespace services_sntp_test
