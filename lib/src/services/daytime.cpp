#include "coronet/services/daytime.hpp"

#include <cstring>
#include <optional>

namespace coronet::services {

std::size_t format_daytime(char (&buf)[daytime_buffer_size], std::time_t t) {
  char text[time_format_buffer_size];
  const std::size_t n = format_ctime(text, t);
  std::memcpy(buf, text, n);
  buf[n] = '\r';
  buf[n + 1] = '\n';
  return n + 2;
}

datagram_handler daytime_handler() {
  return [](datagram& d) -> task<std::optional<std::size_t>> {
    if (d.reply.size() < daytime_buffer_size)
      co_return std::nullopt;
    char text[daytime_buffer_size];
    const std::size_t n = format_daytime(text, std::chrono::system_clock::to_time_t(d.received_at));
    std::memcpy(d.reply.data(), text, n);
    co_return n;
  };
}

}  // namespace coronet::services
