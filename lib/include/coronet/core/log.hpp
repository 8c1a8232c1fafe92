// The one place where coronet reports what it cannot return to a caller.
#pragma once

#include <functional>
#include <string_view>

namespace coronet {

/// Severity of a log message.
enum class log_level { debug, info, warning, error };

/// Receives every message the library logs. Called from whichever thread
/// logs, possibly concurrently; it must not throw.
using log_handler = std::function<void(log_level, std::string_view)>;

/// Replaces the log sink (stderr by default, messages below `info` dropped).
/// Passing an empty function restores the default. Thread-safe.
void set_log_handler(log_handler handler);

/// Sends `message` to the current sink. Thread-safe; never throws (a sink
/// that throws has its exception swallowed, as there is nowhere to report it).
void log(log_level level, std::string_view message) noexcept;

/// Human-readable name of `level` ("debug", "info", "warning", "error").
std::string_view to_string(log_level level) noexcept;

}  // namespace coronet
