// coronet::detail::lazy_read: a read that takes its buffer only once the socket has data (the
// caller commits what it read, as with read_buffer::prepare), on TCP loopback: what it reads,
// what it holds while it waits, cancellation, close, the end of the stream (also when it
// comes in the wake-up of the last data), the io_context's destruction, and the ring's path.
#include "coronet/net/detail/lazy_read.hpp"

#include <catch2/catch.hpp>

#include <sys/epoll.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/socket_base.hpp>
#include <asio/write.hpp>

#include "coronet/core/error.hpp"
#include "coronet/core/spawn.hpp"
#include "coronet/core/sync_wait.hpp"
#include "coronet/core/task.hpp"
#include "coronet/core/when_all.hpp"
#include "coronet/net/timeout.hpp"
#include "coronet/runtime/read_buffer.hpp"

// Never co_await inside a Catch macro: the macro repeats its expression in a
// short-circuited `false && (...)`, and g++ 12 still runs a co_await there.

#include "support/loopback_pair.hpp"
#include "support/wait_helpers.hpp"

namespace net_detail_lazy_read_test {

namespace {

using namespace std::chrono_literals;
using coronet::task;
using coronet_test::connected_pair;
using coronet_test::destroy_counter;
using coronet_test::make_pair;
using coronet_test::run_until;
using coronet_test::wait_until;
using lazy = coronet::detail::lazy_read<coronet::read_buffer>;

std::string_view view(coronet::read_buffer& in) { return {in.data().data(), in.data().size()}; }

// What read_while_sending saw.
struct waited_read {
  std::size_t n = 0;
  std::error_code ec;
  // in.capacity() while the read waited.
  std::size_t held_while_waiting = 0;
};

// Starts a lazy read from p.server into `in` (committing what it reads); once it waits,
// notes what `in` holds, then `act()`s (sends bytes, closes) on the other side.
template <class Act>
task<waited_read> read_while(connected_pair& p, coronet::read_buffer& in, Act act) {
  waited_read r;
  bool waiting = false;
  auto reader = [&]() -> task<void> {
    waiting = true;
    r.n = co_await lazy(p.server.native(), in, 1024, &r.ec);
    in.commit(r.n);
  };
  auto actor = [&]() -> task<void> {
    co_await wait_until([&] { return waiting; });
    r.held_while_waiting = in.capacity();
    co_await act();
  };
  co_await coronet::with_timeout(coronet::when_all(reader(), actor()), 5s);
  co_return r;
}

// The events an epoll set of this process watches `fd` for, from /proc/self/fdinfo
// (`tfd: FD events: HEX`); none when no epoll set watches it.
std::optional<unsigned> epoll_events_of(int fd) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fdinfo")) {
    std::ifstream info(entry.path());
    std::string line;
    while (std::getline(info, line)) {
      unsigned watched = 0;
      unsigned events = 0;
      if (std::sscanf(line.c_str(), "tfd: %u events: %x", &watched, &events) == 2 &&
          watched == static_cast<unsigned>(fd))
        return events;
    }
  }
  return std::nullopt;
}

// read_while, sending `bytes` from p.client.
task<waited_read> read_while_sending(connected_pair& p, coronet::read_buffer& in, std::string bytes) {
  co_return co_await read_while(p, in, [&]() -> task<void> { co_await p.client.write_all(asio::buffer(bytes)); });
}

}  // namespace

TEST_CASE("a lazy read holds no buffer while it waits, then reads what arrives into one", "[lazy_read]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    coronet::read_buffer in;
    const waited_read r = co_await read_while_sending(p, in, "PING\r\n");
    // The read tried the socket once when it started (nothing there) and gave the buffer
    // it took for that back.
    CHECK(r.held_while_waiting == 0);
    CHECK_FALSE(r.ec);
    CHECK(r.n == 6);
    CHECK(view(in) == "PING\r\n");
    CHECK(in.capacity() == 256);
  }());
}

TEST_CASE("a lazy read of bytes already there completes with them; a partial message stays held", "[lazy_read]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    coronet::read_buffer in;
    co_await p.client.write_all(asio::buffer(std::string("*1\r\n$4\r")));
    const bool sent = co_await wait_until([&] { return p.server.native().available() == 7; });
    REQUIRE(sent);
    std::size_t n = co_await lazy(p.server.native(), in, 1024, nullptr);
    in.commit(n);
    CHECK(n == 7);
    in.consume(4);
    // The next read waits with the unconsumed "$4\r" kept where it is.
    const waited_read r = co_await read_while_sending(p, in, "\nPING\r\n");
    CHECK(r.held_while_waiting == 256);
    CHECK(r.n == 7);
    CHECK(view(in) == "$4\r\nPING\r\n");
  }());
}

TEST_CASE("a lazy read with limit bytes held completes at once with 0", "[lazy_read]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    coronet::read_buffer in;
    const asio::mutable_buffer room = in.prepare(4);
    std::memcpy(room.data(), "abcd", 4);
    in.commit(4);
    std::error_code ec;
    const std::size_t n = co_await lazy(p.server.native(), in, 4, &ec);
    CHECK(n == 0);
    CHECK_FALSE(ec);
    CHECK(view(in) == "abcd");
  }());
}

TEST_CASE("a lazy read ends with eof when the peer closes, and throws it without an error_code", "[lazy_read]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    coronet::read_buffer in;
    co_await p.client.write_all(asio::buffer(std::string("QUIT\r\n")));
    p.client.close();
    std::error_code ec;
    std::size_t n = co_await lazy(p.server.native(), in, 1024, &ec);
    in.commit(n);
    CHECK(n == 6);
    CHECK_FALSE(ec);
    n = co_await lazy(p.server.native(), in, 1024, &ec);
    CHECK(n == 0);
    CHECK(ec == asio::error::eof);
    std::error_code thrown;
    try {
      co_await lazy(p.server.native(), in, 1024, nullptr);
    } catch (const std::system_error& e) {
      thrown = e.code();
    }
    CHECK(thrown == asio::error::eof);
    CHECK(view(in) == "QUIT\r\n");
  }());
}

TEST_CASE("a lazy read ends with connection_reset when the peer resets, holding no buffer", "[lazy_read]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    coronet::read_buffer in;
    const waited_read r = co_await read_while(p, in, [&]() -> task<void> {
      p.client.native().set_option(asio::socket_base::linger(true, 0));
      p.client.close();  // a reset, not a FIN
      co_return;
    });
    CHECK(r.held_while_waiting == 0);
    CHECK(r.n == 0);
    CHECK(r.ec == asio::error::connection_reset);
    CHECK(r.ec.category() == asio::error::get_system_category());  // as Asio's own reads
    CHECK(in.size() == 0);
  }());
}

TEST_CASE("after a read that drained the socket, the next one waits holding no buffer", "[lazy_read]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    coronet::read_buffer in;
    for (const char* request : {"PING\r\n", "PING hello\r\n", "QUIT\r\n"}) {
      INFO(request);
      const waited_read r = co_await read_while_sending(p, in, request);
      CHECK(r.held_while_waiting == 0);
      CHECK_FALSE(r.ec);
      CHECK(view(in) == request);
#if CORONET_DETAIL_REACTOR_READS
      // The receive did not fill its room: the next read waits without trying the socket.
      CHECK(coronet::detail::next_read_waits(p.server.native().reactor_state().reactor_data_));
#endif
      in.consume(in.size());
    }
  }());
}

TEST_CASE("data and the peer's shutdown in one wake-up: the read after the data sees the end", "[lazy_read]") {
  // A receive that does not fill its room lets the next read wait for the next wake-up
  // (no receive that would block), unless the wake-up said the peer shut down: here the
  // data and the shutdown come in one, and there is no other.
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    coronet::read_buffer in;
    // The first read waits; the peer sends, then closes, before the reactor looks.
    const waited_read r = co_await read_while(p, in, [&]() -> task<void> {
      co_await p.client.write_all(asio::buffer(std::string("PING\r\n")));
      p.client.close();
    });
    CHECK(r.n == 6);
    CHECK_FALSE(r.ec);
    std::error_code ec;
    const std::size_t n = co_await coronet::with_timeout(
        [&]() -> task<std::size_t> { co_return co_await lazy(p.server.native(), in, 1024, &ec); }(), 5s);
    CHECK(n == 0);
    CHECK(ec == asio::error::eof);
  }());
}

#if CORONET_DETAIL_REACTOR_READS
TEST_CASE("a lazy read has its socket watched for the peer's shutdown (EPOLLRDHUP)", "[lazy_read]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    const int fd = p.server.native().native_handle();
    const std::optional<unsigned> registered = epoll_events_of(fd);
    REQUIRE(registered.has_value());
    CHECK((*registered & EPOLLRDHUP) == 0);  // Asio registers without it
    coronet::read_buffer in;
    const waited_read r = co_await read_while_sending(p, in, "PING\r\n");
    CHECK(r.n == 6);
    const std::optional<unsigned> events = epoll_events_of(fd);
    REQUIRE(events.has_value());
    CHECK((*events & EPOLLRDHUP) != 0);
    CHECK((*events & EPOLLIN) != 0);  // as Asio registered it
    // The socket goes on reading as before.
    const waited_read again = co_await read_while_sending(p, in, "PONG\r\n");
    CHECK(again.n == 6);
    CHECK(view(in) == "PING\r\nPONG\r\n");
  }());
}
#endif

TEST_CASE("with_timeout cancels a waiting lazy read with timed_out; the socket stays usable", "[lazy_read][cancel]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    coronet::read_buffer in;
    std::error_code ec;
    const std::size_t n = co_await coronet::with_timeout(
        [&]() -> task<std::size_t> {
          co_return co_await lazy(p.server.native(), in, 1024, &ec);
        }(),
        20ms);
    CHECK(n == 0);
    CHECK(ec == coronet::errc::timeout);
    CHECK(in.capacity() == 0);
    co_await p.client.write_all(asio::buffer(std::string("x")));
    const std::size_t after = co_await lazy(p.server.native(), in, 1024, nullptr);
    in.commit(after);
    CHECK(after == 1);
    CHECK(view(in) == "x");
  }());
}

TEST_CASE("a lazy read's cancellation handler, left in the slot once it completed, does nothing",
          "[lazy_read][cancel][lifetime]") {
  // The completed read leaves its handler installed, disarmed (no clear and allocation per
  // read): a cancellation emitted after its socket is gone must not reach the socket's
  // state. Only a sanitizer build (CI's ASan pass) sees the freed memory read if it did.
  asio::io_context ctx(1);
  asio::cancellation_signal signal;
  bool installed_after_read = false;
  bool finished = false;
  std::exception_ptr failure;
  coronet::spawn(
      ctx,
      [&]() -> task<void> {
        {
          // On the heap: freed after the read, not kept in the frame as a local would be.
          auto p = std::make_unique<connected_pair>(co_await make_pair(ctx));
          coronet::read_buffer in;
          co_await p->client.write_all(asio::buffer(std::string("x")));
          std::error_code ec;
          const std::size_t n = co_await lazy(p->server.native(), in, 1024, &ec);
          CHECK(n == 1);
          CHECK_FALSE(ec);
        }  // both sockets closed, and their memory freed
        installed_after_read = signal.slot().has_handler();
        signal.emit(asio::cancellation_type::terminal);
        // The chain goes on: the next read on it installs its own handler in that memory.
        connected_pair q = co_await make_pair(ctx);
        coronet::read_buffer in;
        co_await q.client.write_all(asio::buffer(std::string("yz")));
        const std::size_t n = co_await lazy(q.server.native(), in, 1024, nullptr);
        CHECK(n == 2);
        finished = true;
      },
      asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e) { failure = e; }));
  ctx.run();
#if CORONET_DETAIL_REACTOR_READS
  CHECK(installed_after_read);  // the path under test: the handler stayed, disarmed
#endif
  (void)installed_after_read;
  CHECK(finished);
  CHECK_FALSE(failure);
}

TEST_CASE("a lazy read whose handler another operation replaced in the slot completes without touching it",
          "[lazy_read][cancel][lifetime]") {
  // Another operation bound to the same slot (a second spawn given it, say) takes the slot
  // while the read waits; its larger handler makes the slot free the read's. The read's
  // completion must not write into that memory (ASan would see it).
  asio::io_context ctx(1);
  asio::cancellation_signal signal;
  std::unique_ptr<connected_pair> p;
  coronet::read_buffer in;
  bool waiting = false;
  std::size_t got = 0;
  coronet::spawn(
      ctx,
      [&]() -> task<void> {
        p = std::make_unique<connected_pair>(co_await make_pair(ctx));
        waiting = true;
        got = co_await lazy(p->server.native(), in, 1024, nullptr);
      },
      asio::bind_cancellation_slot(signal.slot(), [](std::exception_ptr) {}));
  REQUIRE(run_until(ctx, [&] { return waiting; }));
  ctx.poll();
  struct other_handler {
    char state[256] = {};
    void operator()(asio::cancellation_type) noexcept {}
  };
  signal.slot().emplace<other_handler>();
  const std::string bytes = "xy";
  asio::write(p->client.native(), asio::buffer(bytes));
  REQUIRE(run_until(ctx, [&] { return got != 0; }));
  CHECK(got == 2);
}

TEST_CASE("closing the socket aborts a waiting lazy read with operation_aborted", "[lazy_read][cancel]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    coronet::read_buffer in;
    const waited_read r = co_await read_while(p, in, [&]() -> task<void> {
      p.server.close();
      co_return;
    });
    CHECK(r.ec == asio::error::operation_aborted);
    CHECK(r.n == 0);
  }());
}

TEST_CASE("destroying the io_context frees a task suspended on a lazy read", "[lazy_read][lifetime]") {
  int destroyed = 0;
  bool reading = false;
  bool resumed = false;
  {
    asio::io_context ctx(1);
    coronet::spawn(ctx, [&]() -> task<void> {
      destroy_counter counter(&destroyed);
      connected_pair p = co_await make_pair(ctx);
      coronet::read_buffer in;
      reading = true;
      co_await lazy(p.server.native(), in, 1024, nullptr);
      resumed = true;
    });
    REQUIRE(run_until(ctx, [&] { return reading; }));
    ctx.poll();
    CHECK(destroyed == 0);
  }
  CHECK_FALSE(resumed);
  CHECK(destroyed == 1);
}

TEST_CASE("lazy reads on io_contexts made one after another each reach their own reactor", "[lazy_read][lifetime]") {
  // Each io_context is likely made where the last one was: nothing of the last one's
  // reactor may be used again.
  for (int round = 0; round < 3; ++round) {
    asio::io_context ctx(1);
    coronet::sync_wait(ctx, [&]() -> task<void> {
      connected_pair p = co_await make_pair(ctx);
      coronet::read_buffer in;
      const waited_read r = co_await read_while_sending(p, in, "PING\r\n");
      CHECK(r.held_while_waiting == 0);
      CHECK(r.n == 6);
      CHECK(view(in) == "PING\r\n");
    }());
  }
}

TEST_CASE("on an io_uring ring a lazy read takes its buffer up front and reads as the socket's", "[lazy_read][uring]") {
  if (const char* why = coronet::detail::uring::unavailable_reason()) {
    WARN("no io_uring transport here: " << why);
    return;
  }
  asio::io_context ctx(1);
  coronet::detail::uring::service* ring = coronet::detail::uring::ring_of(ctx);
  REQUIRE(ring != nullptr);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    p.server.native().use_ring(ring);
    coronet::read_buffer in;
    const waited_read r = co_await read_while_sending(p, in, "PING\r\n");
    CHECK(r.held_while_waiting == 256);
    CHECK(r.n == 6);
    CHECK(view(in) == "PING\r\n");
  }());
}

}  // namespace net_detail_lazy_read_test
