// The ping server as it is usually written with asio::awaitable: one
// coroutine per connection (co_spawn, use_awaitable), one thread. It reads
// what has arrived, answers every complete `PING` line with `+PONG\r\n` (any
// other line: `-ERR unknown command`), and writes all the replies of one read
// at once — the same batching coronet's server does, so the comparison is of
// the coroutine machinery, not of a naive write per line.
//
// Usage: awaitable_ping_server [port]
// Prints the bound port on stdout, serves 127.0.0.1 until SIGINT/SIGTERM.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <system_error>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/signal_set.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

namespace {

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

awaitable<void> session(tcp::socket s) {
  std::string in;
  std::string out;
  std::size_t used = 0;
  try {
    for (;;) {
      if (in.size() - used < 512)
        in.resize(std::max<std::size_t>(in.size() * 2, 4096));
      const std::size_t n = co_await s.async_read_some(asio::buffer(in.data() + used, in.size() - used), use_awaitable);
      used += n;
      std::size_t start = 0;
      for (;;) {
        const void* nl = std::memchr(in.data() + start, '\n', used - start);
        if (nl == nullptr)
          break;
        const std::size_t end = static_cast<std::size_t>(static_cast<const char*>(nl) - in.data());
        std::string_view line(in.data() + start, end - start);
        if (!line.empty() && line.back() == '\r')
          line.remove_suffix(1);
        out += line == "PING" ? "+PONG\r\n" : "-ERR unknown command\r\n";
        start = end + 1;
      }
      if (used - start > 64 * 1024)
        co_return;  // a line longer than any request: give up on the peer
      std::memmove(in.data(), in.data() + start, used - start);
      used -= start;
      if (!out.empty()) {
        co_await asio::async_write(s, asio::buffer(out), use_awaitable);
        out.clear();
      }
    }
  } catch (const std::system_error&) {
    // The peer went away.
  }
}

awaitable<void> listener(tcp::acceptor& acc) {
  for (;;) {
    std::error_code ec;
    tcp::socket s = co_await acc.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec == asio::error::operation_aborted)
      co_return;
    if (ec)
      continue;
    s.set_option(tcp::no_delay(true));
    asio::co_spawn(acc.get_executor(), session(std::move(s)), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    asio::io_context ctx(1);
    const auto port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 0);
    tcp::acceptor acc(ctx, {asio::ip::address_v4::loopback(), port});
    std::printf("%u\n", static_cast<unsigned>(acc.local_endpoint().port()));
    std::fflush(stdout);
    asio::signal_set signals(ctx, SIGINT, SIGTERM);
    signals.async_wait([&](std::error_code, int) { ctx.stop(); });
    asio::co_spawn(ctx, listener(acc), asio::detached);
    ctx.run();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "awaitable_ping_server: %s\n", e.what());
    return 1;
  }
}
