// RFC 868 time: seconds since 1900 as a 32-bit big-endian number, over TCP and UDP.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "coronet/datagram/datagram_server.hpp"

namespace coronet::services {

/// Seconds from 1900-01-01T00:00:00Z (the RFC 868 and NTP epoch) to the Unix epoch.
inline constexpr std::int64_t seconds_from_1900_to_1970 = 2'208'988'800;

/// Size of an RFC 868 reply.
inline constexpr std::size_t time_protocol_reply_size = 4;

/// Whole seconds from 1900-01-01T00:00:00Z to `t` (rounded down), modulo
/// 2^32 as RFC 868 carries them: the count wraps on 2036-02-07T06:28:16Z,
/// where RFC 868 clients are expected to take the nearest era. Never throws.
std::uint32_t time_protocol_seconds(std::chrono::system_clock::time_point t) noexcept;

/// `time_protocol_seconds(t)` as the 4 big-endian bytes RFC 868 sends.
std::array<std::byte, time_protocol_reply_size> encode_time_protocol(std::chrono::system_clock::time_point t) noexcept;

/// A `datagram_server` handler for RFC 868 time over UDP: answers every
/// datagram (RFC 868 clients send an empty one) with the 4-byte time of its
/// arrival. Yields no reply if the reply room is smaller than 4 bytes.
datagram_handler time_protocol_handler();

}  // namespace coronet::services
