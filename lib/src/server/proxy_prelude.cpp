#include "server/proxy_prelude.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include <asio/socket_base.hpp>

#include "coronet/net/detail/io_awaiter.hpp"
#include "coronet/core/detail/log_limiter.hpp"
#include "coronet/core/log.hpp"
#include "coronet/net/timer.hpp"

namespace coronet::detail {
namespace {

using steady = std::chrono::steady_clock;

// Resumes once the socket has bytes (or end of stream, or an error) to read,
// without reading them; ends with operation_aborted when the socket is closed.
class wait_readable_op : public io_awaiter<wait_readable_op, void> {
public:
  wait_readable_op(tcp::asio_socket& s, std::error_code* ec) noexcept : io_awaiter(ec), socket_(s) {}
  void initiate(io_handler<wait_readable_op> h) { socket_.async_wait(asio::socket_base::wait_read, std::move(h)); }
  void complete(std::error_code ec) noexcept { ec_ = ec; }

private:
  tcp::asio_socket& socket_;
};

std::string describe(const tcp::endpoint& e) { return e.address().to_string() + ":" + std::to_string(e.port()); }

// Counts and logs a refused header; the caller closes the connection.
bool refuse(proxy_prelude& p, std::string_view why) {
  p.errors.add();
  std::string message = "closing a connection from ";
  message += describe(p.peer);
  message += ": ";
  message += why;
  p.log.log(log_level::info, message);
  return false;
}

// What ended a wait that did not see bytes: the sweeper's handshake deadline
// (a late header, counted), the drain, the idle deadline of a peer not in the
// handshake, or a peer that left (none of them counted).
bool wait_ended(proxy_prelude& p) {
  const auto limit = p.handshake_timeout;
  if (p.in_handshake && !p.draining && limit.count() > 0 && steady::now() - p.since >= limit)
    return refuse(p, "no complete PROXY header within handshake_timeout");
  return false;
}

// recv() without blocking; -1 with errno as recv sets it (EINTR retried).
ssize_t receive(int fd, char* to, std::size_t n, int flags) noexcept {
  ssize_t got = 0;
  do {
    got = ::recv(fd, to, n, flags | MSG_DONTWAIT);
  } while (got < 0 && errno == EINTR);
  return got;
}

bool would_block() noexcept { return errno == EAGAIN || errno == EWOULDBLOCK; }

// Whether the peer has shut its sending side down (or the connection failed) while bytes
// it sent still wait unread, which a readiness wait cannot tell. False where the kernel
// has no POLLRDHUP.
bool peer_left(int fd) noexcept {
#ifdef POLLRDHUP
  pollfd pfd{fd, POLLRDHUP, 0};
  return ::poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
#else
  (void)fd;
  return false;
#endif
}

// SO_RCVLOWAT: the socket is ready to read (for epoll, and so for a readiness wait) once
// `bytes` wait, at end of stream or on an error (Linux since 2.6.28, the BSDs).
void set_low_water(int fd, int bytes) noexcept { (void)::setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof bytes); }

// A trusted peer: the header is required. Bytes are looked at with MSG_PEEK
// and taken only as far as they are the header's, so the first command stays
// in the socket for whoever reads next.
task<bool> take_header(proxy_prelude& p) {
  tcp::asio_socket& sock = p.socket;
  const int fd = sock.native_handle();
  const auto buf = std::make_unique<char[]>(proxy_header_max_bytes);
  std::size_t have = 0;  // header bytes already taken off the socket
  for (;;) {
    const ssize_t n = receive(fd, buf.get() + have, proxy_header_max_bytes - have, MSG_PEEK);
    if (n < 0) {
      if (!would_block())
        co_return false;  // the connection failed
      std::error_code ec;
      co_await wait_readable_op(sock, &ec);
      if (ec || !sock.is_open())
        co_return wait_ended(p);
      continue;
    }
    if (n == 0) {
      // Drained (stop_reading), or the peer left: mid-header that is a truncated header.
      if (have == 0 || p.draining)
        co_return false;
      co_return refuse(p, "truncated PROXY header (end of stream)");
    }
    const proxy_parse_result r = parse_proxy_header(
        std::span<const char>(buf.get(), have + static_cast<std::size_t>(n)), p.mode);
    if (r.status == parse_status::error)
      co_return refuse(p, r.error);
    // Every byte seen belongs to the header (all of them while incomplete).
    const std::size_t take = r.status == parse_status::complete ? r.consumed - have : static_cast<std::size_t>(n);
    if (receive(fd, buf.get() + have, take, 0) != static_cast<ssize_t>(take))
      co_return false;  // cannot happen: the bytes were peeked
    have += take;
    if (r.status == parse_status::complete) {
      if (r.header.has_addresses) {
        p.peer = r.header.source;
        p.local = r.header.destination;
      }
      // The proxy's own connection: its health check, which may well reset at once.
      if (r.header.local)
        p.health_checks.add();
      co_return true;
    }
  }
}

// Any other peer is served as it is, unless it opens with a PROXY signature:
// it must not be able to claim another address. Nothing is taken off the
// socket. Bytes that could still begin a signature ("PRO", "\r\n") begin the
// handshake; while they wait unread, the readiness to read would stay set, so
// SO_RCVLOWAT is raised past them: the wait ends with the next byte, the end
// of stream or an error, and a peer that leaves is seen when it leaves.
task<bool> check_untrusted(proxy_prelude& p) {
  tcp::asio_socket& sock = p.socket;
  const int fd = sock.native_handle();
  char first[12];
  ssize_t seen = 0;  // bytes that only began a signature at the last look
  int idle_wakes = 0;  // wakes in a row without a new byte
  auto pause = std::chrono::milliseconds(1);
  bool go_on = false;
  for (;;) {
    const ssize_t n = receive(fd, first, sizeof first, MSG_PEEK);
    if (n == 0 || (n < 0 && !would_block()))
      break;  // the peer left, the drain stopped the reading, or the connection failed
    if (n > 0) {
      const auto signature = detect_proxy_signature(std::span<const char>(first, static_cast<std::size_t>(n)));
      if (signature == proxy_signature::absent) {
        go_on = true;
        break;
      }
      if (signature == proxy_signature::present) {
        refuse(p, "PROXY header from a peer not in proxy_trusted");
        break;
      }
      // Left (or drained) mid-signature: nothing to serve, nothing to count.
      if (peer_left(fd) || p.draining)
        break;
      if (!p.in_handshake) {
        p.in_handshake = true;
        p.since = steady::now();
      }
      if (n > seen) {
        seen = n;
        idle_wakes = 0;
        set_low_water(fd, static_cast<int>(n) + 1);
      } else if (++idle_wakes > 2) {
        // One wake without a new byte is the readiness the bytes themselves raised before
        // the low-water mark was set. More, and the kernel ignores SO_RCVLOWAT for
        // readiness: look again a little later, at most every 50 ms.
        std::error_code ec;
        co_await sleep_for(pause, ec);
        pause = std::min(pause * 2, std::chrono::milliseconds(50));
        if (!sock.is_open()) {
          wait_ended(p);
          break;
        }
      }
    }
    std::error_code ec;
    co_await wait_readable_op(sock, &ec);
    if (ec || !sock.is_open()) {
      wait_ended(p);
      break;
    }
  }
  if (seen > 0 && sock.is_open())
    set_low_water(fd, 1);
  co_return go_on;
}

}  // namespace

std::vector<address_prefix> parse_trusted_proxies(const std::vector<std::string>& entries) {
  std::vector<address_prefix> out;
  out.reserve(entries.size());
  for (const std::string& e : entries) {
    address_prefix p;
    if (!address_prefix::parse(e, p))
      throw std::invalid_argument("coronet::server: proxy_trusted entry '" + e +
                                  "' is not an IP address or address/prefix-length");
    out.push_back(p);
  }
  return out;
}

task<bool> accept_proxy_header(proxy_prelude p) {
  if (p.mode == proxy_protocol_mode::off)
    co_return true;
  const asio::ip::address from = p.peer.address();
  const bool trusted = std::any_of(p.trusted.begin(), p.trusted.end(),
                                   [&](const address_prefix& a) { return a.contains(from); });
  bool go_on = false;
  try {
    if (trusted) {
      p.in_handshake = true;
      p.since = steady::now();
      go_on = co_await take_header(p);
    } else {
      go_on = co_await check_untrusted(p);
    }
  } catch (const std::exception& e) {
    p.log.log(log_level::error, std::string("PROXY header: ") + e.what());
  }
  p.in_handshake = false;
  co_return go_on;
}

}  // namespace coronet::detail
