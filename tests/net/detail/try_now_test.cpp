// coronet::detail::write_now and would_block: the try-now write, on TCP loopback
// and on a scripted stream that says exactly what the kernel took.
#include "coronet/net/detail/try_now.hpp"
#include "coronet/net/detail/sys_io.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/socket_base.hpp>

#include "coronet/core/sync_wait.hpp"
#include "coronet/core/task.hpp"

// Never co_await inside a Catch macro: the macro repeats its expression in a
// short-circuited `false && (...)`, and g++ 12 still runs a co_await there.

#include "support/loopback_pair.hpp"

namespace net_detail_try_now_test {

namespace {

using coronet::task;
using coronet::detail::write_now;
using coronet_test::connected_pair;
using coronet_test::make_pair;
using coronet_test::patterned_bytes;
using coronet_test::read_exactly;

// A stream whose writes take `takes[i]` bytes on the i-th call, then fail with `then`.
struct scripted_stream {
  std::vector<std::size_t> takes;
  std::error_code then = asio::error::would_block;
  bool non_blocking_mode = false;
  int mode_changes = 0;
  int writes = 0;
  std::string received;

  bool non_blocking() const noexcept { return non_blocking_mode; }
  void non_blocking(bool on, std::error_code& ec) noexcept {
    non_blocking_mode = on;
    ++mode_changes;
    ec = {};
  }
  std::size_t write_some(asio::const_buffer b, std::error_code& ec) {
    const auto call = static_cast<std::size_t>(writes++);
    if (call >= takes.size()) {
      ec = then;
      return 0;
    }
    const std::size_t n = std::min(takes[call], b.size());
    received.append(static_cast<const char*>(b.data()), n);
    ec = {};
    return n;
  }
};

}  // namespace

TEST_CASE("would_block is true for would_block and try_again only", "[try_now]") {
  CHECK(coronet::detail::would_block(asio::error::would_block));
  CHECK(coronet::detail::would_block(asio::error::try_again));
  CHECK(coronet::detail::would_block(std::error_code(asio::error::would_block)));
  CHECK_FALSE(coronet::detail::would_block(std::error_code{}));
  CHECK_FALSE(coronet::detail::would_block(asio::error::connection_reset));
  CHECK_FALSE(coronet::detail::would_block(asio::error::broken_pipe));
  CHECK_FALSE(coronet::detail::would_block(asio::error::eof));
}

TEST_CASE("write_now writes everything when the send buffer has room", "[try_now]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    const std::string out = patterned_bytes(1000);
    std::error_code ec;
    const std::size_t n = write_now(p.server.native(), asio::buffer(out), true, ec);
    CHECK(n == out.size());
    CHECK(!ec);
    CHECK(p.server.native().non_blocking());
    const std::string got = co_await read_exactly(p.client, out.size());
    CHECK(got == out);

    // With `all` false, a write the kernel takes whole is whole too.
    std::error_code ec2;
    CHECK(write_now(p.server.native(), asio::buffer(out), false, ec2) == out.size());
    CHECK(!ec2);
    const std::string again = co_await read_exactly(p.client, out.size());
    CHECK(again == out);
  }());
}

TEST_CASE("write_now stops with would_block when both socket buffers are full", "[try_now]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    p.server.native().set_option(asio::socket_base::send_buffer_size(8 * 1024));
    p.client.native().set_option(asio::socket_base::receive_buffer_size(8 * 1024));
    const std::string out = patterned_bytes(8 * 1024 * 1024);
    std::error_code ec;
    const std::size_t n = write_now(p.server.native(), asio::buffer(out), true, ec);
    INFO("wrote " << n << " bytes, then: " << ec.message());
    CHECK(n > 0);
    CHECK(n < out.size());
    CHECK(coronet::detail::would_block(ec));

    // What was taken arrives, in order.
    const std::string got = co_await read_exactly(p.client, n);
    CHECK(got == out.substr(0, n));
  }());
}

TEST_CASE("write_now with all=false returns after the first write that took bytes", "[try_now]") {
  SECTION("on loopback, with far more than the buffers hold") {
    asio::io_context ctx(1);
    coronet::sync_wait(ctx, [&]() -> task<void> {
      connected_pair p = co_await make_pair(ctx);
      p.server.native().set_option(asio::socket_base::send_buffer_size(8 * 1024));
      const std::string out = patterned_bytes(8 * 1024 * 1024);
      std::error_code ec;
      const std::size_t n = write_now(p.server.native(), asio::buffer(out), false, ec);
      CHECK(n > 0);
      CHECK(n < out.size());
      CHECK(!ec);  // it stopped by choice, not because the kernel refused
      const std::string got = co_await read_exactly(p.client, n);
      CHECK(got == out.substr(0, n));
    }());
  }
  SECTION("on a stream taking a few bytes per write") {
    scripted_stream s;
    s.takes = {3, 4, 5};
    std::error_code ec;
    CHECK(write_now(s, asio::buffer(std::string_view("abcdefghijkl")), false, ec) == 3);
    CHECK(!ec);
    CHECK(s.writes == 1);
    CHECK(s.received == "abc");
  }
}

TEST_CASE("write_now with all=true writes until the stream refuses, and says why", "[try_now]") {
  const std::string_view out = "abcdefghijklmnop";
  SECTION("would_block after partial writes") {
    scripted_stream s;
    s.takes = {3, 4, 5};
    std::error_code ec;
    CHECK(write_now(s, asio::buffer(out), true, ec) == 12);
    CHECK(ec == asio::error::would_block);
    CHECK(s.writes == 4);
    CHECK(s.received == "abcdefghijkl");
  }
  SECTION("everything in several writes") {
    scripted_stream s;
    s.takes = {10, 10};
    std::error_code ec;
    CHECK(write_now(s, asio::buffer(out), true, ec) == out.size());
    CHECK(!ec);
    CHECK(s.writes == 2);
    CHECK(s.received == out);
  }
  SECTION("a hard error is returned as it is") {
    scripted_stream s;
    s.takes = {5};
    s.then = asio::error::connection_reset;
    std::error_code ec;
    CHECK(write_now(s, asio::buffer(out), true, ec) == 5);
    CHECK(ec == asio::error::connection_reset);
    CHECK_FALSE(coronet::detail::would_block(ec));
  }
  SECTION("nothing taken with all=false is would_block too") {
    scripted_stream s;
    std::error_code ec;
    CHECK(write_now(s, asio::buffer(out), false, ec) == 0);
    CHECK(coronet::detail::would_block(ec));
    CHECK(s.received.empty());
  }
}

TEST_CASE("write_now to a peer that reset the connection reports it, raising no SIGPIPE", "[try_now]") {
  // The send is made directly (net/detail/sys_io.hpp) with MSG_NOSIGNAL: a signal would end
  // this process, which does not ignore SIGPIPE.
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    p.client.native().set_option(asio::socket_base::linger(true, 0));
    p.client.close();  // a reset, not a FIN
    const std::string out = patterned_bytes(100);
    std::error_code ec;
    std::size_t n = 0;
    // The reset may still be on its way through loopback: at most a few sends go out first.
    for (int i = 0; i < 1000 && !ec; ++i)
      n = write_now(p.server.native(), asio::buffer(out), true, ec);
    CHECK(n == 0);
    CHECK((ec == asio::error::connection_reset || ec == asio::error::broken_pipe));
    // The next send fails as well, now with a broken pipe.
    std::error_code again;
    CHECK(write_now(p.server.native(), asio::buffer(out), true, again) == 0);
    CHECK(again == asio::error::broken_pipe);
  }());
}

TEST_CASE("sys_send and sys_recv report a bad descriptor as the calls they replace do", "[try_now]") {
  char byte = 'x';
  errno = 0;
  CHECK(coronet::detail::sys_send(-1, &byte, 1) == -1);
  CHECK(errno == EBADF);
  errno = 0;
  CHECK(coronet::detail::sys_recv(-1, &byte, 1) == -1);
  CHECK(errno == EBADF);
  // As an error code, what write_now and the lazy read make of it: Asio's own.
  const std::error_code ec(EBADF, asio::error::get_system_category());
  CHECK(ec == asio::error::bad_descriptor);
}

TEST_CASE("write_now on a closed socket fails with bad_descriptor", "[try_now]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    p.server.close();
    std::error_code ec;
    CHECK(write_now(p.server.native(), asio::buffer(std::string_view("x")), true, ec) == 0);
    CHECK(ec == asio::error::bad_descriptor);
  }());
}

TEST_CASE("write_now switches the stream to non-blocking mode only once", "[try_now]") {
  scripted_stream s;
  s.takes = {2, 2};
  std::error_code ec;
  CHECK(write_now(s, asio::buffer(std::string_view("ab")), true, ec) == 2);
  CHECK(write_now(s, asio::buffer(std::string_view("cd")), true, ec) == 2);
  CHECK(s.non_blocking_mode);
  CHECK(s.mode_changes == 1);
  CHECK(s.received == "abcd");
}

}  // namespace net_detail_try_now_test
