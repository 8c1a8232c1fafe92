// SNTP server (RFC 4330): answers client-mode NTP requests with the system clock.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

#include "coronet/datagram/datagram_server.hpp"

namespace coronet::services {

/// Size of an NTP packet without extension fields or authenticator.
inline constexpr std::size_t sntp_packet_size = 48;

/// An NTP timestamp: seconds since 1900-01-01T00:00:00Z modulo 2^32, and the
/// fraction of a second in units of 2^-32 s.
struct ntp_timestamp {
  /// Whole seconds since the NTP epoch, modulo 2^32 (era 0 ends in 2036).
  std::uint32_t seconds = 0;
  /// Fraction of a second, in units of 2^-32 s.
  std::uint32_t fraction = 0;

  /// Equal when both fields are.
  friend bool operator==(const ntp_timestamp&, const ntp_timestamp&) = default;
};

/// `t` as an NTP timestamp (the fraction rounded down to 2^-32 s). Never throws.
ntp_timestamp to_ntp_timestamp(std::chrono::system_clock::time_point t) noexcept;

/// The instant an NTP timestamp stands for, taking the era that puts it in
/// 1968..2104 (RFC 4330 section 3: seconds with the top bit clear are read as
/// era 1, after 2036). Nanosecond precision; never throws.
std::chrono::system_clock::time_point from_ntp_timestamp(ntp_timestamp t) noexcept;

/// What an SNTP server says about its own clock.
///
/// coronet serves the system clock and cannot know how good it is, so the
/// defaults describe it the way RFC 4330 lets a server with an "uncalibrated
/// local clock" do: stratum 1 with reference identifier `LOCL`. Clients
/// such as rdate, ntpdate and chrony accept that. Point `stratum` and
/// `reference_id` at the real upstream (e.g. stratum 3 and the upstream
/// server's IPv4 address) when the host is synchronised by NTP.
struct sntp_options {
  /// Stratum reported (1 = primary reference, 2..15 = secondary).
  std::uint8_t stratum = 1;
  /// Reference identifier: four ASCII characters at stratum 1, the upstream
  /// server's IPv4 address at stratum 2 and above.
  std::array<char, 4> reference_id = {'L', 'O', 'C', 'L'};
  /// Precision of the clock as a power of two in seconds (-20: about 1 µs).
  std::int8_t precision = -20;
  /// Root dispersion reported, in units of 2^-16 s (655: about 10 ms).
  std::uint32_t root_dispersion = 655;
};

/// Whether an SNTP server answers the datagram `request` that came from
/// `source_port`: only a client request (mode 3, version 1 to 4, at least 48
/// bytes) from a source port other than 0. Any other source port is fine,
/// 123 included (ntpd, chronyd with `acquisitionport 123` and classic
/// ntpdate send from there). The loop guard is the mode: a server only ever
/// sends mode 4, which no SNTP server answers, so two servers, or a server
/// and a forged request, cannot start a reply loop. Never throws.
bool sntp_should_answer(std::span<const std::byte> request, std::uint16_t source_port) noexcept;

/// Builds the server reply to the NTP packet `request` in `reply` and
/// returns its size (`sntp_packet_size`), or 0 when the request must be
/// dropped without a reply: shorter than 48 bytes, mode other than 3
/// (client), or version 0 or above 4 (see `sntp_should_answer`). Bytes after
/// the first 48 (extension fields, authenticator) are ignored.
///
/// The reply (RFC 4330 section 5): leap indicator 0, the request's version,
/// mode 4 (server), `opts.stratum`, the request's poll interval,
/// `opts.precision`, root delay 0, `opts.root_dispersion`,
/// `opts.reference_id`; reference and receive timestamps = `received`,
/// originate timestamp = the request's transmit timestamp (so the client can
/// match the reply and compute its delay), transmit timestamp = `transmit`.
/// `reply` must have room for 48 bytes (otherwise 0 is returned). Never throws.
std::size_t make_sntp_reply(std::span<const std::byte> request, std::span<std::byte> reply,
                            std::chrono::system_clock::time_point received,
                            std::chrono::system_clock::time_point transmit,
                            const sntp_options& opts = sntp_options{}) noexcept;

/// A `datagram_server` handler serving SNTP: `make_sntp_reply` with the
/// datagram's arrival time as receive timestamp and the time of sending as
/// transmit timestamp. Datagrams `sntp_should_answer` refuses (malformed,
/// not mode 3, from source port 0) get no reply; never throws for them.
datagram_handler sntp_handler(sntp_options opts = sntp_options{});

}  // namespace coronet::services
