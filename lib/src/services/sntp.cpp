#include "coronet/services/sntp.hpp"

#include <algorithm>
#include <optional>

#include "coronet/services/time_protocol.hpp"

namespace coronet::services {
namespace {

constexpr unsigned mode_client = 3;
constexpr unsigned mode_server = 4;
constexpr unsigned max_version = 4;

// Field offsets in an NTP packet (RFC 4330 section 4).
constexpr std::size_t originate_offset = 24;
constexpr std::size_t receive_offset = 32;
constexpr std::size_t transmit_offset = 40;
constexpr std::size_t reference_offset = 16;

void put32(std::span<std::byte> out, std::size_t at, std::uint32_t v) noexcept {
  out[at] = std::byte(v >> 24);
  out[at + 1] = std::byte(v >> 16);
  out[at + 2] = std::byte(v >> 8);
  out[at + 3] = std::byte(v);
}

void put_timestamp(std::span<std::byte> out, std::size_t at, ntp_timestamp t) noexcept {
  put32(out, at, t.seconds);
  put32(out, at + 4, t.fraction);
}

bool is_client_request(std::span<const std::byte> request) noexcept {
  if (request.size() < sntp_packet_size)
    return false;
  const auto first = std::to_integer<unsigned>(request[0]);
  const unsigned mode = first & 0x7;
  const unsigned version = (first >> 3) & 0x7;
  return mode == mode_client && version != 0 && version <= max_version;
}

}  // namespace

bool sntp_should_answer(std::span<const std::byte> request, std::uint16_t source_port) noexcept {
  return source_port != 0 && is_client_request(request);
}

ntp_timestamp to_ntp_timestamp(std::chrono::system_clock::time_point t) noexcept {
  using namespace std::chrono;
  const auto since_epoch = duration_cast<nanoseconds>(t.time_since_epoch());
  const auto whole = floor<seconds>(since_epoch);
  const auto ns = static_cast<std::uint64_t>((since_epoch - whole).count());  // 0 .. 999'999'999
  return {static_cast<std::uint32_t>(static_cast<std::uint64_t>(whole.count() + seconds_from_1900_to_1970)),
          static_cast<std::uint32_t>((ns << 32) / 1'000'000'000)};
}

std::chrono::system_clock::time_point from_ntp_timestamp(ntp_timestamp t) noexcept {
  using namespace std::chrono;
  // Era 0 for the top bit set (1968..2036), era 1 (2036..2104) otherwise.
  const std::int64_t era_start = (t.seconds & 0x8000'0000U) != 0 ? 0 : (std::int64_t{1} << 32);
  const std::int64_t unix_seconds = era_start + t.seconds - seconds_from_1900_to_1970;
  const auto ns = static_cast<std::int64_t>((static_cast<std::uint64_t>(t.fraction) * 1'000'000'000) >> 32);
  return system_clock::time_point(duration_cast<system_clock::duration>(seconds(unix_seconds) + nanoseconds(ns)));
}

std::size_t make_sntp_reply(std::span<const std::byte> request, std::span<std::byte> reply,
                            std::chrono::system_clock::time_point received,
                            std::chrono::system_clock::time_point transmit, const sntp_options& opts) noexcept {
  if (reply.size() < sntp_packet_size || !is_client_request(request))
    return 0;
  const unsigned version = (std::to_integer<unsigned>(request[0]) >> 3) & 0x7;

  std::fill_n(reply.begin(), sntp_packet_size, std::byte{0});
  reply[0] = std::byte((version << 3) | mode_server);  // leap indicator 0: no warning
  reply[1] = std::byte(opts.stratum);
  reply[2] = request[2];  // poll interval, as the client sent it
  reply[3] = std::byte(static_cast<std::uint8_t>(opts.precision));
  put32(reply, 8, opts.root_dispersion);  // root delay (bytes 4..7) stays 0
  for (std::size_t i = 0; i < opts.reference_id.size(); ++i)
    reply[12 + i] = std::byte(static_cast<unsigned char>(opts.reference_id[i]));
  const ntp_timestamp receive = to_ntp_timestamp(received);
  put_timestamp(reply, reference_offset, receive);
  std::copy_n(request.begin() + transmit_offset, 8, reply.begin() + originate_offset);
  put_timestamp(reply, receive_offset, receive);
  put_timestamp(reply, transmit_offset, to_ntp_timestamp(transmit));
  return sntp_packet_size;
}

datagram_handler sntp_handler(sntp_options opts) {
  return [opts](datagram& d) -> task<std::optional<std::size_t>> {
    if (!sntp_should_answer(d.payload, d.source.port()))
      co_return std::nullopt;
    const std::size_t n = make_sntp_reply(d.payload, d.reply, d.received_at, std::chrono::system_clock::now(), opts);
    if (n == 0)
      co_return std::nullopt;
    co_return n;
  };
}

}  // namespace coronet::services
