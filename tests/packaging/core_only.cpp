// Uses the core layer only and links coronet::core alone: the core layer must
// not need the framework or services to link.
#include <cstddef>

#include <coronet/sync_wait.hpp>
#include <coronet/task.hpp>
#include <coronet/time_format.hpp>

coronet::task<std::size_t> formatted_length() {
  char buf[coronet::time_format_buffer_size];
  co_return coronet::format_iso(buf, {});
}

int main() { return coronet::sync_wait(formatted_length()) == 24 ? 0 : 1; }
