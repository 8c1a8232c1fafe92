#include "coronet/core/log.hpp"

#include <cstdio>
#include <mutex>
#include <utility>

namespace coronet {
namespace {

std::mutex& sink_mutex() {
  static std::mutex m;
  return m;
}

log_handler& sink() {
  static log_handler h;
  return h;
}

void write_stderr(log_level level, std::string_view message) noexcept {
  if (level < log_level::info)
    return;
  const std::string_view name = to_string(level);
  std::fprintf(stderr, "coronet %.*s: %.*s\n", static_cast<int>(name.size()), name.data(),
               static_cast<int>(message.size()), message.data());
}

}  // namespace

std::string_view to_string(log_level level) noexcept {
  switch (level) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warning: return "warning";
    case log_level::error: return "error";
  }
  return "unknown";
}

void set_log_handler(log_handler handler) {
  std::lock_guard lock(sink_mutex());
  sink() = std::move(handler);
}

void log(log_level level, std::string_view message) noexcept {
  // Held while the sink runs so that replacing the sink cannot destroy it mid-call.
  std::lock_guard lock(sink_mutex());
  if (!sink()) {
    write_stderr(level, message);
    return;
  }
  try {
    sink()(level, message);
  } catch (...) {
    write_stderr(log_level::error, "the log handler threw; message follows");
    write_stderr(level, message);
  }
}

}  // namespace coronet
