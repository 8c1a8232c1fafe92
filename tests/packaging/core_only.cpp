// Uses the core layer only and links coronet::core alone: the core layer must
// not need the framework or services to link.
#include <cstddef>

#include <coronet/core/sync_wait.hpp>
#include <coronet/core/task.hpp>
#include <coronet/core/time_format.hpp>

coronet::task<std::size_t> formatted_length() {
  char buf[coronet::time_format_buffer_size];
  co_return coronet::format_iso(buf, {});
}

int main() { return coronet::sync_wait(formatted_length()) == 24 ? 0 : 1; }
