// Time formats of the `timestamp` command: ctime, Unix seconds, ISO-8601.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string>

namespace coronet::commands {

/// Size of the buffers the `format_*` functions write into; enough for any
/// year an `int` can hold, so they never truncate.
inline constexpr std::size_t timestamp_buffer_size = 32;

/// Writes `t` as local time in the form of C's `ctime` and Python's
/// `time.ctime()`, e.g. `Sun May 27 21:43:58 2018` (day of month padded with
/// a space: `Sun May  6 ...`; English names whatever the locale; no newline)
/// into `buf`, and returns the length (24 for years 1000 to 9999). No NUL is
/// written. Allocates nothing (after the C library loaded the time zone
/// once). Throws `std::system_error` (`std::errc::value_too_large`) if `t`
/// cannot be converted to a calendar time.
std::size_t format_ctime(char (&buf)[timestamp_buffer_size], std::time_t t);

/// Writes `t` as UTC ISO-8601 with milliseconds, e.g.
/// `2018-05-27T13:43:58.123Z` (24 characters for years 0 to 9999), into
/// `buf` and returns the length. No NUL is written; allocates nothing.
/// Throws as `format_ctime`.
std::size_t format_iso(char (&buf)[timestamp_buffer_size], std::chrono::system_clock::time_point t);

/// The current local time as `format_ctime` writes it. Throws as
/// `format_ctime`, or `std::bad_alloc`.
std::string ctime_now();

/// Seconds since the Unix epoch (1970-01-01T00:00:00Z), now. Never throws.
std::int64_t unix_now() noexcept;

/// The current UTC time as `format_iso` writes it. Throws as `format_iso`,
/// or `std::bad_alloc`.
std::string iso_now();

}  // namespace coronet::commands
