// Allocation-free time formats shared by the `timestamp` command and the
// daytime service: ctime and ISO-8601.
#pragma once

#include <chrono>
#include <cstddef>
#include <ctime>

namespace coronet {

/// Size of the buffers the `format_*` functions write into; enough for any
/// year an `int` can hold, so they never truncate.
inline constexpr std::size_t time_format_buffer_size = 32;

/// Writes `t` as local time in the form of C's `ctime` and Python's
/// `time.ctime()`, e.g. `Sun May 27 21:43:58 2018` (day of month padded with
/// a space: `Sun May  6 ...`; English names whatever the locale; no newline)
/// into `buf`, and returns the length (24 for years 1000 to 9999). No NUL is
/// written. Allocates nothing (after the C library loaded the time zone
/// once). Throws `std::system_error` (`std::errc::value_too_large`) if `t`
/// cannot be converted to a calendar time.
std::size_t format_ctime(char (&buf)[time_format_buffer_size], std::time_t t);

/// Writes `t` as UTC ISO-8601 with milliseconds, e.g.
/// `2018-05-27T13:43:58.123Z` (24 characters for years 0 to 9999), into
/// `buf` and returns the length. No NUL is written; allocates nothing.
/// Throws as `format_ctime`.
std::size_t format_iso(char (&buf)[time_format_buffer_size], std::chrono::system_clock::time_point t);

}  // namespace coronet
