// Time formats of the `timestamp` command: ctime, Unix seconds, ISO-8601.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string>

#include "coronet/core/time_format.hpp"

namespace coronet::commands {

/// The formatting lives in the core layer (`coronet/core/time_format.hpp`) so the
/// services can share it; these names keep code written against this header
/// working.
inline constexpr std::size_t timestamp_buffer_size = time_format_buffer_size;
using coronet::format_ctime;
using coronet::format_iso;

/// The current local time as `format_ctime` writes it. Throws as
/// `format_ctime`, or `std::bad_alloc`.
std::string ctime_now();

/// Seconds since the Unix epoch (1970-01-01T00:00:00Z), now. Never throws.
std::int64_t unix_now() noexcept;

/// The current UTC time as `format_iso` writes it. Throws as `format_iso`,
/// or `std::bad_alloc`.
std::string iso_now();

}  // namespace coronet::commands
