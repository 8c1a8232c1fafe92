#include "coronet/services/time_protocol.hpp"

#include <algorithm>
#include <optional>

namespace coronet::services {

std::uint32_t time_protocol_seconds(std::chrono::system_clock::time_point t) noexcept {
  const auto unix_seconds = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
  // Modulo 2^32 through unsigned arithmetic, also for instants before 1900.
  return static_cast<std::uint32_t>(static_cast<std::uint64_t>(unix_seconds + seconds_from_1900_to_1970));
}

std::array<std::byte, time_protocol_reply_size> encode_time_protocol(std::chrono::system_clock::time_point t) noexcept {
  const std::uint32_t s = time_protocol_seconds(t);
  return {std::byte(s >> 24), std::byte(s >> 16), std::byte(s >> 8), std::byte(s)};
}

datagram_handler time_protocol_handler() {
  return [](datagram& d) -> task<std::optional<std::size_t>> {
    if (d.reply.size() < time_protocol_reply_size)
      co_return std::nullopt;
    const auto bytes = encode_time_protocol(d.received_at);
    std::copy(bytes.begin(), bytes.end(), d.reply.begin());
    co_return bytes.size();
  };
}

}  // namespace coronet::services
