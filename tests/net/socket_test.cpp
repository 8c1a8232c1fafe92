// Tests for coronet/net/socket.hpp: reads, writes, errors and cancellation on TCP loopback.
#include "coronet/net/socket.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/address_v4.hpp>
#include <asio/socket_base.hpp>

#include "coronet/core/error.hpp"
#include "coronet/net/acceptor.hpp"
#include "coronet/net/timeout.hpp"
#include "coronet/core/spawn.hpp"
#include "coronet/core/sync_wait.hpp"
#include "coronet/core/task.hpp"
#include "coronet/core/task_group.hpp"
#include "coronet/core/when_all.hpp"
#include "coronet/net/yield.hpp"

// Never co_await inside a Catch macro: the macro repeats its expression in a
// short-circuited `false && (...)`, and g++ 12 still runs a co_await there.

#include "support/loopback_pair.hpp"
#include "support/wait_helpers.hpp"

namespace net_socket_test {

namespace {

using namespace std::chrono_literals;
using coronet::task;
namespace tcp = coronet::tcp;
using clock_type = std::chrono::steady_clock;

using coronet_test::connected_pair;
using coronet_test::destroy_counter;
using coronet_test::loopback_v4_any_port;
using coronet_test::make_pair;
using coronet_test::reset;
using coronet_test::run_until;
using coronet_test::wait_until;

std::uint8_t pattern_byte(std::size_t i) { return static_cast<std::uint8_t>((i * 7) ^ (i >> 8) ^ (i >> 16)); }

}  // namespace

TEST_CASE("read_some, write_some, write_all and read_exact carry bytes both ways", "[socket]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    CHECK(p.client.is_open());
    CHECK(p.server.remote_endpoint() == p.client.local_endpoint());
    CHECK(p.client.remote_endpoint() == p.server.local_endpoint());

    const std::string hello = "hello";
    std::size_t n = co_await p.client.write_some(asio::buffer(hello));
    CHECK(n >= 1);
    CHECK(n <= hello.size());
    if (n < hello.size())
      co_await p.client.write_all(asio::buffer(hello.data() + n, hello.size() - n));

    std::array<char, 5> got{};
    const std::size_t n_read = co_await p.server.read_exact(asio::buffer(got));
    CHECK(n_read == got.size());
    CHECK(std::string(got.data(), got.size()) == hello);

    const std::string reply = "world, and more";
    const std::size_t n_written = co_await p.server.write_all(asio::buffer(reply));
    CHECK(n_written == reply.size());
    std::string received;
    while (received.size() < reply.size()) {
      std::array<char, 64> buf{};
      std::size_t r = co_await p.client.read_some(asio::buffer(buf));
      REQUIRE(r >= 1);
      received.append(buf.data(), r);
    }
    CHECK(received == reply);

    // The error_code forms clear a stale error on success.
    std::error_code ec = asio::error::eof;
    const std::size_t n_written2 = co_await p.client.write_all(asio::buffer(hello), ec);
    CHECK(n_written2 == hello.size());
    CHECK(!ec);
    ec = asio::error::eof;
    const std::size_t n_read2 = co_await p.server.read_exact(asio::buffer(got), ec);
    CHECK(n_read2 == got.size());
    CHECK(!ec);
    ec = asio::error::eof;
    const std::size_t n_written3 = co_await p.server.write_some(asio::buffer(hello), ec);
    CHECK(n_written3 >= 1);
    CHECK(!ec);
    ec = asio::error::eof;
    const std::size_t n_read3 = co_await p.client.read_some(asio::buffer(got), ec);
    CHECK(n_read3 >= 1);
    CHECK(!ec);
  }());
}

TEST_CASE("a socket built from a connected Asio socket works", "[socket]") {
  asio::io_context ctx(1);
  tcp::acceptor acceptor(ctx, loopback_v4_any_port());
  // A plain blocking Asio socket, as other code might hand over.
  tcp::asio_socket raw(ctx.get_executor());
  raw.connect(acceptor.local_endpoint());
  tcp::socket client(std::move(raw));
  CHECK(client.native().non_blocking());
  coronet::sync_wait(ctx, [&]() -> task<void> {
    tcp::socket server = co_await acceptor.accept();
    co_await client.write_all(asio::buffer(std::string("hi")));
    std::array<char, 2> buf{};
    co_await server.read_exact(asio::buffer(buf));
    CHECK(std::string(buf.data(), 2) == "hi");
  }());
}

TEST_CASE("socket::connect to a port nobody listens on fails with connection_refused", "[socket]") {
  asio::io_context ctx(1);
  // Bound but not listening: the port stays ours, and connecting to it is refused.
  asio::ip::tcp::socket holder(ctx, loopback_v4_any_port());
  const tcp::endpoint closed = holder.local_endpoint();
  coronet::sync_wait(ctx, [&]() -> task<void> {
    tcp::socket s(ctx);
    std::error_code thrown;
    try {
      co_await s.connect(closed);
    } catch (const std::system_error& e) {
      thrown = e.code();
    }
    CHECK(thrown == asio::error::connection_refused);

    tcp::socket s2(ctx);
    std::error_code ec;
    co_await s2.connect(closed, ec);
    CHECK(ec == asio::error::connection_refused);
  }());
}

TEST_CASE("read_some throws eof once the peer closed; the error_code form reports it", "[socket]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    co_await p.server.write_all(asio::buffer(std::string("ab")));
    p.server.close();

    std::array<char, 16> buf{};
    // Data sent before the FIN is still delivered.
    std::size_t n = co_await p.client.read_exact(asio::buffer(buf.data(), 2));
    CHECK(n == 2);
    std::error_code thrown;
    try {
      co_await p.client.read_some(asio::buffer(buf));
    } catch (const std::system_error& e) {
      thrown = e.code();
    }
    CHECK(thrown == asio::error::eof);

    std::error_code ec;
    const std::size_t n_at_eof = co_await p.client.read_some(asio::buffer(buf), ec);
    CHECK(n_at_eof == 0);
    CHECK(ec == asio::error::eof);
  }());
}

TEST_CASE("read_exact stops at eof: throws, or yields the partial count in the error_code form", "[socket]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    {
      connected_pair p = co_await make_pair(ctx);
      co_await p.server.write_all(asio::buffer(std::string("abc")));
      p.server.shutdown(asio::socket_base::shutdown_send);
      std::array<char, 10> buf{};
      std::error_code ec;
      const std::size_t n = co_await p.client.read_exact(asio::buffer(buf), ec);
      CHECK(ec == asio::error::eof);
      CHECK(n == 3);
      CHECK(std::string(buf.data(), 3) == "abc");
    }
    {
      connected_pair p = co_await make_pair(ctx);
      co_await p.server.write_all(asio::buffer(std::string("abc")));
      p.server.close();
      std::array<char, 10> buf{};
      std::error_code thrown;
      try {
        co_await p.client.read_exact(asio::buffer(buf));
      } catch (const std::system_error& e) {
        thrown = e.code();
      }
      CHECK(thrown == asio::error::eof);
    }
  }());
}

TEST_CASE("a peer reset fails a read with connection_reset", "[socket]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    std::array<char, 16> buf{};
    {
      connected_pair p = co_await make_pair(ctx);
      bool reading = false;
      std::error_code thrown;
      auto reader = [&]() -> task<void> {
        reading = true;
        try {
          co_await p.client.read_some(asio::buffer(buf));
        } catch (const std::system_error& e) {
          thrown = e.code();
        }
      };
      auto resetter = [&]() -> task<void> {
        // The reader is suspended on its read before this branch starts.
        CHECK(reading);
        reset(p.server);
        co_return;
      };
      co_await coronet::when_all(reader(), resetter());
      CHECK(thrown == asio::error::connection_reset);
    }
    {
      // The reset arrives before the read starts: same error, error_code form.
      connected_pair p = co_await make_pair(ctx);
      reset(p.server);
      std::error_code ec;
      const std::size_t n_reset = co_await p.client.read_some(asio::buffer(buf), ec);
      CHECK(n_reset == 0);
      CHECK(ec == asio::error::connection_reset);
    }
  }());
}

// Asio 1.22's epoll reactor stops trying reads speculatively after one that
// returned no bytes (eof or an error) and then waits for an edge-triggered
// event that never comes: a second read after a reported reset or eof hangs.
// Linux itself answers that read at once (ECONNRESET once, then 0 = eof).
// Kept as a known failure so a fix (in Asio or coronet) shows up here.
TEST_CASE("a read after a reported reset completes with eof instead of hanging", "[socket][!shouldfail]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    std::array<char, 16> buf{};
    std::error_code first;
    auto reader = [&]() -> task<void> {
      co_await p.client.read_some(asio::buffer(buf), first);
    };
    auto resetter = [&]() -> task<void> {
      reset(p.server);
      co_return;
    };
    co_await coronet::when_all(reader(), resetter());
    REQUIRE(first == asio::error::connection_reset);

    // The error_code form: a read still pending at the guard's deadline ends with errc::timeout.
    std::error_code second;
    co_await coronet::with_timeout(
        [&]() -> task<std::size_t> {
          co_return co_await p.client.read_some(asio::buffer(buf), second);
        }(),
        500ms);
    INFO("second read: " << second.message());
    CHECK(second == asio::error::eof);
  }());
}

TEST_CASE("writing to a peer that reset fails with broken_pipe or connection_reset", "[socket]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    const std::string data(1024, 'x');
    {
      // Once a read has reported the reset, writes fail with EPIPE.
      connected_pair p = co_await make_pair(ctx);
      reset(p.server);
      std::array<char, 16> buf{};
      std::error_code ec;
      co_await p.client.read_some(asio::buffer(buf), ec);
      REQUIRE(ec == asio::error::connection_reset);

      std::error_code thrown;
      try {
        co_await p.client.write_all(asio::buffer(data));
      } catch (const std::system_error& e) {
        thrown = e.code();
      }
      CHECK(thrown == asio::error::broken_pipe);
      const std::size_t n_broken = co_await p.client.write_some(asio::buffer(data), ec);
      CHECK(n_broken == 0);
      CHECK(ec == asio::error::broken_pipe);
    }
    {
      // Without a read, the first write may report the pending reset itself or EPIPE.
      connected_pair p = co_await make_pair(ctx);
      reset(p.server);
      std::error_code ec;
      for (int i = 0; i < 1000 && !ec; ++i) {
        co_await p.client.write_all(asio::buffer(data), ec);
        if (!ec)
          co_await coronet::yield();
      }
      const bool reset_or_pipe = ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
      INFO(ec.message());
      CHECK(reset_or_pipe);
    }
  }());
}

TEST_CASE("zero-length buffers complete with 0 without waiting for the peer", "[socket]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    std::array<char, 4> buf{};
    // The peer never writes: an operation that waited for data would time out.
    auto zero_reads = [&]() -> task<void> {
      const std::size_t n_read_some = co_await p.client.read_some(asio::buffer(buf.data(), 0));
      CHECK(n_read_some == 0);
      const std::size_t n_read_exact = co_await p.client.read_exact(asio::buffer(buf.data(), 0));
      CHECK(n_read_exact == 0);
      const std::size_t n_write_all = co_await p.client.write_all(asio::buffer(buf.data(), 0));
      CHECK(n_write_all == 0);
      const std::size_t n_write_some = co_await p.client.write_some(asio::buffer(buf.data(), 0));
      CHECK(n_write_some == 0);
      std::error_code ec = asio::error::eof;
      const std::size_t n_read_some_ec = co_await p.client.read_some(asio::buffer(buf.data(), 0), ec);
      CHECK(n_read_some_ec == 0);
      CHECK(!ec);
      ec = asio::error::eof;
      const std::size_t n_read_exact_ec = co_await p.client.read_exact(asio::buffer(buf.data(), 0), ec);
      CHECK(n_read_exact_ec == 0);
      CHECK(!ec);
      ec = asio::error::eof;
      const std::size_t n_write_all_ec = co_await p.client.write_all(asio::buffer(buf.data(), 0), ec);
      CHECK(n_write_all_ec == 0);
      CHECK(!ec);
    };
    co_await coronet::with_timeout(zero_reads(), 2s);
  }());
}

TEST_CASE("read_until finds a delimiter split across two writes", "[socket][read_until]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    std::string line;
    std::size_t n = 0;
    auto reader = [&]() -> task<void> {
      n = co_await p.client.read_until(asio::dynamic_buffer(line), "\r\n");
    };
    auto writer = [&]() -> task<void> {
      co_await p.server.write_all(asio::buffer(std::string("abc\r")));
      // The "\n" goes out only once the reader holds "abc\r" in its buffer.
      const bool first_part_read = co_await wait_until([&] { return line.compare(0, 4, "abc\r") == 0; });
      REQUIRE(first_part_read);
      co_await p.server.write_all(asio::buffer(std::string("\ndef")));
    };
    co_await coronet::with_timeout(coronet::when_all(reader(), writer()), 5s);
    CHECK(n == 5);
    // Bytes after the delimiter stay in the buffer for the next call.
    CHECK(line == "abc\r\ndef");

    line.erase(0, n);
    co_await p.server.write_all(asio::buffer(std::string("\r\n")));
    n = co_await p.client.read_until(asio::dynamic_buffer(line), "\r\n");
    CHECK(n == 5);
    CHECK(line == "def\r\n");
  }());
}

TEST_CASE("read_until returns at the first delimiter and keeps the rest buffered", "[socket][read_until]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    co_await p.server.write_all(asio::buffer(std::string("one\ntwo\nthr")));
    std::string buf;
    std::size_t n = co_await p.client.read_until(asio::dynamic_buffer(buf), "\n");
    CHECK(n == 4);
    CHECK(buf.substr(0, n) == "one\n");
    buf.erase(0, n);
    // Already buffered: completes without new data from the peer.
    std::error_code ec = asio::error::eof;
    n = co_await coronet::with_timeout(
        [&]() -> task<std::size_t> {
          co_return co_await p.client.read_until(asio::dynamic_buffer(buf), "\n", ec);
        }(),
        2s);
    CHECK(!ec);
    CHECK(n == 4);
    CHECK(buf == "two\nthr");
    buf.erase(0, n);
    // The stream ends before the next delimiter.
    p.server.close();
    std::error_code thrown;
    try {
      co_await p.client.read_until(asio::dynamic_buffer(buf), "\n");
    } catch (const std::system_error& e) {
      thrown = e.code();
    }
    CHECK(thrown == asio::error::eof);
    CHECK(buf == "thr");
  }());
}

TEST_CASE("read_until fails with not_found when the buffer is full without a delimiter", "[socket][read_until]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    co_await p.server.write_all(asio::buffer(std::string(32, 'x')));

    std::string buf;
    std::error_code thrown;
    try {
      co_await p.client.read_until(asio::dynamic_buffer(buf, 8), "\r\n");
    } catch (const std::system_error& e) {
      thrown = e.code();
    }
    CHECK(thrown == asio::error::not_found);
    CHECK(buf.size() == 8);

    std::string buf2;
    std::error_code ec;
    const std::size_t n_not_found = co_await p.client.read_until(asio::dynamic_buffer(buf2, 8), "\r\n", ec);
    CHECK(n_not_found == 0);
    CHECK(ec == asio::error::not_found);
    CHECK(buf2.size() == 8);
  }());
}

TEST_CASE("write_all delivers 16 MiB intact to a reader that reads slowly", "[socket][slow]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    constexpr std::size_t total = std::size_t{16} << 20;
    std::vector<std::uint8_t> out(total);
    for (std::size_t i = 0; i < total; ++i)
      out[i] = pattern_byte(i);

    std::size_t written = 0;
    std::size_t received = 0;
    std::size_t bad_chunks = 0;
    std::size_t received_when_written = 0;
    auto writer = [&]() -> task<void> {
      written = co_await p.server.write_all(asio::buffer(out));
      received_when_written = received;
    };
    auto reader = [&]() -> task<void> {
      std::array<std::uint8_t, 4096> chunk{};
      while (received < total) {
        const std::size_t n = co_await p.client.read_some(asio::buffer(chunk));
        if (received + n > total || std::memcmp(chunk.data(), out.data() + received, n) != 0)
          ++bad_chunks;
        received += n;
        co_await coronet::yield();
      }
    };
    co_await coronet::with_timeout(coronet::when_all(writer(), reader()), 60s);
    CHECK(written == total);
    CHECK(received == total);
    CHECK(bad_chunks == 0);
    // The socket buffers hold far less than 16 MiB: write_all had to wait for the reader.
    CHECK(received_when_written > 0);
  }());
}

TEST_CASE("shutdown(send) makes the peer read eof while the other direction still works", "[socket]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    p.client.shutdown(asio::socket_base::shutdown_send);
    std::array<char, 8> buf{};
    std::error_code thrown;
    try {
      co_await p.server.read_some(asio::buffer(buf));
    } catch (const std::system_error& e) {
      thrown = e.code();
    }
    CHECK(thrown == asio::error::eof);

    co_await p.server.write_all(asio::buffer(std::string("late")));
    const std::size_t n_late = co_await p.client.read_exact(asio::buffer(buf.data(), 4));
    CHECK(n_late == 4);
    CHECK(std::string(buf.data(), 4) == "late");

    std::error_code ec;
    p.server.shutdown(asio::socket_base::shutdown_send, ec);
    CHECK(!ec);
    const std::size_t n_eof = co_await p.client.read_some(asio::buffer(buf), ec);
    CHECK(n_eof == 0);
    CHECK(ec == asio::error::eof);
  }());
}

TEST_CASE("with_timeout cancels a pending read with timed_out; the socket stays usable", "[socket][cancel]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    std::array<char, 8> buf{};
    const auto start = clock_type::now();
    std::error_code thrown;
    try {
      co_await coronet::with_timeout(
          [&]() -> task<std::size_t> {
            co_return co_await p.client.read_some(asio::buffer(buf));
          }(),
          20ms);
    } catch (const std::system_error& e) {
      thrown = e.code();
    }
    CHECK(thrown == coronet::errc::timeout);
    CHECK(clock_type::now() - start >= 20ms);
    CHECK(clock_type::now() - start < 2s);

    // The inner read, in the error_code form, learns that the deadline cancelled it.
    std::error_code inner_ec;
    const std::size_t n = co_await coronet::with_timeout(
        [&]() -> task<std::size_t> {
          co_return co_await p.client.read_some(asio::buffer(buf), inner_ec);
        }(),
        20ms);
    CHECK(n == 0);
    CHECK(inner_ec == coronet::errc::timeout);

    co_await p.server.write_all(asio::buffer(std::string("x")));
    const std::size_t n_after = co_await p.client.read_some(asio::buffer(buf));
    CHECK(n_after == 1);
    CHECK(buf[0] == 'x');
  }());
}

TEST_CASE("task_group::cancel aborts pending reads with operation_aborted", "[socket][cancel]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    coronet::task_group group(ctx.get_executor());
    std::array<char, 8> client_buf{};
    std::array<char, 8> server_buf{};
    int waiting = 0;
    std::error_code thrown;
    std::error_code returned;
    group.spawn([&]() -> task<void> {
      ++waiting;
      try {
        co_await p.client.read_some(asio::buffer(client_buf));
      } catch (const std::system_error& e) {
        thrown = e.code();
      }
    });
    group.spawn([&]() -> task<void> {
      ++waiting;
      co_await p.server.read_some(asio::buffer(server_buf), returned);
    });
    const bool both_waiting = co_await wait_until([&] { return waiting == 2; });
    REQUIRE(both_waiting);
    const auto start = clock_type::now();
    group.cancel();
    co_await group.join();
    CHECK(clock_type::now() - start < 2s);
    CHECK(thrown == asio::error::operation_aborted);
    CHECK(returned == asio::error::operation_aborted);
    CHECK(group.failures() == 0);
  }());
}

TEST_CASE("close() aborts a pending read with operation_aborted", "[socket][cancel]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    std::array<char, 8> buf{};
    std::error_code thrown;
    auto reader = [&]() -> task<void> {
      try {
        co_await p.client.read_some(asio::buffer(buf));
      } catch (const std::system_error& e) {
        thrown = e.code();
      }
    };
    auto closer = [&]() -> task<void> {
      p.client.close();
      co_return;
    };
    co_await coronet::with_timeout(coronet::when_all(reader(), closer()), 2s);
    CHECK(thrown == asio::error::operation_aborted);
    CHECK(!p.client.is_open());
  }());
}

TEST_CASE("write_all to a peer that does not read can be cancelled; the error_code form yields the count written",
          "[socket][cancel]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    // Far more than the socket buffers hold: the server never reads.
    const std::vector<char> data(std::size_t{64} << 20, 'y');
    std::error_code ec;
    const std::size_t n = co_await coronet::with_timeout(
        [&]() -> task<std::size_t> {
          co_return co_await p.client.write_all(asio::buffer(data), ec);
        }(),
        50ms);
    CHECK(ec == coronet::errc::timeout);
    CHECK(n > 0);
    CHECK(n < data.size());

    std::error_code thrown;
    try {
      co_await coronet::with_timeout(
          [&]() -> task<std::size_t> {
            co_return co_await p.client.write_all(asio::buffer(data));
          }(),
          20ms);
    } catch (const std::system_error& e) {
      thrown = e.code();
    }
    CHECK(thrown == coronet::errc::timeout);
  }());
}

TEST_CASE("destroying the io_context frees a task suspended on a read", "[socket][lifetime]") {
  int destroyed = 0;
  bool reading = false;
  bool resumed = false;
  {
    asio::io_context ctx(1);
    coronet::spawn(ctx, [&]() -> task<void> {
      destroy_counter counter(&destroyed);
      connected_pair p = co_await make_pair(ctx);
      std::array<char, 8> buf{};
      reading = true;
      co_await p.client.read_some(asio::buffer(buf));
      resumed = true;
    });
    // A second task, suspended in a write the peer never drains.
    bool writing = false;
    coronet::spawn(ctx, [&]() -> task<void> {
      destroy_counter counter(&destroyed);
      connected_pair p = co_await make_pair(ctx);
      const std::vector<char> data(std::size_t{64} << 20, 'z');
      writing = true;
      co_await p.client.write_all(asio::buffer(data));
      resumed = true;
    });
    REQUIRE(run_until(ctx, [&] { return reading && writing; }));
    // Let anything already queued run; the two tasks stay suspended.
    ctx.poll();
    CHECK(destroyed == 0);
  }
  CHECK_FALSE(resumed);
  CHECK(destroyed == 2);
}

TEST_CASE("a task makes a socket from co_await this_executor and connects it", "[socket][executor]") {
  asio::io_context ctx(1);
  tcp::acceptor acceptor(ctx, loopback_v4_any_port());
  auto body = [&]() -> task<bool> {
    tcp::socket s(co_await coronet::this_executor);
    co_await s.connect(acceptor.local_endpoint());
    tcp::socket peer = co_await acceptor.accept();
    co_return s.is_open() && peer.is_open() && &s.get_executor().context() == &ctx;
  };
  CHECK(coronet::sync_wait(ctx, body()));
}

}  // namespace net_socket_test
