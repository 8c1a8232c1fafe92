#include "server/reuseport_handoff.hpp"

#include <fcntl.h>
#include <linux/filter.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

#include "coronet/net/timer.hpp"
#include "server/stream_runtime.hpp"

namespace coronet::detail {
namespace {

// Accepts, without waiting, every connection queued on the listening socket
// `listening` (closing a listening socket resets them).
void accept_queued(tcp::executor_type ex, asio::ip::tcp protocol, int listening,
                   const std::function<void(tcp::socket)>& on_accepted) {
  // The listening descriptor may be in blocking mode (Asio keeps its own
  // flag); it is about to be closed, so it may as well not block from now on.
  const int flags = ::fcntl(listening, F_GETFL);
  if (flags < 0 || ::fcntl(listening, F_SETFL, flags | O_NONBLOCK) < 0)
    return;
  for (;;) {
    const int fd = ::accept4(listening, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      return;  // EAGAIN: the queue is empty; anything else ends the sweep too
    }
    tcp::asio_socket s(ex);
    std::error_code ec;
    s.assign(protocol, fd, ec);
    if (ec) {
      ::close(fd);
      continue;
    }
    on_accepted(tcp::socket(std::move(s)));
  }
}

task<void> take_late(tcp::executor_type ex, asio::ip::tcp protocol, int kept,
                     std::function<void(tcp::socket)> on_accepted) {
  struct closer {
    int fd;
    ~closer() { ::close(fd); }
  } guard{kept};
  std::error_code ec;
  co_await sleep_for(handoff_linger, ec);
  accept_queued(ex, protocol, kept, on_accepted);
}

}  // namespace

bool steer_to_next_process(tcp::acceptor& a, unsigned first_other) noexcept {
  sock_filter code[] = {{BPF_RET | BPF_K, 0, 0, first_other}};
  sock_fprog program{};
  program.len = 1;
  program.filter = code;
  return ::setsockopt(a.native().native_handle(), SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &program, sizeof program) == 0;
}

std::optional<task<void>> hand_over(tcp::acceptor& a, std::function<void(tcp::socket)> on_accepted) {
  std::error_code ec;
  const asio::ip::tcp protocol = a.native().local_endpoint(ec).protocol();
  const int listening = a.native().native_handle();
  if (ec || !a.is_open())
    return std::nullopt;
  accept_queued(a.get_executor(), protocol, listening, on_accepted);
  const int kept = ::fcntl(listening, F_DUPFD_CLOEXEC, 0);
  if (kept < 0)
    return std::nullopt;
  return take_late(a.get_executor(), protocol, kept, std::move(on_accepted));
}

}  // namespace coronet::detail
