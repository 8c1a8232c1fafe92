// RFC 867 daytime: the current time as a line of text, over TCP and UDP.
#pragma once

#include <cstddef>
#include <ctime>

#include "coronet/datagram/datagram_server.hpp"
#include "coronet/core/time_format.hpp"

namespace coronet::services {

/// Size of the buffer `format_daytime` writes into.
inline constexpr std::size_t daytime_buffer_size = time_format_buffer_size + 2;

/// Writes `t` as an RFC 867 daytime string into `buf` and returns its length.
///
/// RFC 867 leaves the syntax open; coronet sends what BSD inetd's built-in
/// daytime service sends: local time in C `ctime` form followed by CR LF,
/// e.g. `Sun May 27 21:43:58 2018\r\n` (26 bytes for years 1000 to 9999), the
/// same text as the `timestamp` command. No NUL is written; allocates
/// nothing. Throws `std::system_error` (`std::errc::value_too_large`) if `t`
/// cannot be converted to a calendar time.
std::size_t format_daytime(char (&buf)[daytime_buffer_size], std::time_t t);

/// A `datagram_server` handler for daytime over UDP: answers every datagram,
/// whatever it holds (an empty one included), with `format_daytime` of now.
/// Yields no reply if the reply room is smaller than `daytime_buffer_size`;
/// a clock that cannot be formatted makes it throw as `format_daytime`.
datagram_handler daytime_handler();

}  // namespace coronet::services
