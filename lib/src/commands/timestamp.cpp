#include "coronet/commands/timestamp.hpp"

namespace coronet::commands {

std::string ctime_now() {
  char buf[timestamp_buffer_size];
  return std::string(buf, format_ctime(buf, std::time(nullptr)));
}

std::int64_t unix_now() noexcept {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string iso_now() {
  char buf[timestamp_buffer_size];
  return std::string(buf, format_iso(buf, std::chrono::system_clock::now()));
}

}  // namespace coronet::commands
