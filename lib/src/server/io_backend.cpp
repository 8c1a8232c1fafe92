// io_backend (coronet/server/connection_options.hpp): its names, and which one a server runs.
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "coronet/core/log.hpp"
#include "coronet/net/detail/ring_transport.hpp"
#include "coronet/server/connection_options.hpp"
#include "server/stream_runtime.hpp"

namespace coronet {

const char* to_string(io_backend b) noexcept {
  switch (b) {
    case io_backend::environment:
      return "environment";
    case io_backend::epoll:
      return "epoll";
    case io_backend::io_uring:
      return "io_uring";
    case io_backend::automatic:
      return "auto";
  }
  return "unknown";
}

std::optional<io_backend> parse_io_backend(std::string_view name) noexcept {
  if (name == "epoll")
    return io_backend::epoll;
  if (name == "io_uring" || name == "io-uring" || name == "uring")
    return io_backend::io_uring;
  if (name == "auto")
    return io_backend::automatic;
  return std::nullopt;
}

namespace detail {

io_backend resolve_io_backend(io_backend requested) {
  if (requested == io_backend::environment) {
    const char* env = std::getenv("CORONET_BACKEND");
    if (env == nullptr || *env == '\0')
      return io_backend::epoll;
    const std::optional<io_backend> named = parse_io_backend(env);
    if (!named) {
      log(log_level::warning,
          std::string("stream_server: CORONET_BACKEND='") + env + "' is not epoll, io_uring or auto; serving with epoll");
      return io_backend::epoll;
    }
    requested = *named;
  }
  if (requested == io_backend::epoll)
    return requested;
  const char* why = uring::unavailable_reason();
  if (why == nullptr)
    return io_backend::io_uring;
  if (requested == io_backend::io_uring)
    throw std::system_error(std::make_error_code(std::errc::operation_not_supported),
                            std::string("stream_server: backend io_uring: ") + why);
  log(log_level::info, std::string("stream_server: backend auto: serving with epoll, io_uring is not usable: ") + why);
  return io_backend::epoll;
}

}  // namespace detail

}  // namespace coronet
