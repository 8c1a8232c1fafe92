// coronet::tcp::background_writer over TCP loopback: synchronous flushes, the
// background write and its drain, failures and the reference count.
#include "coronet/runtime/background_writer.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>

#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/socket_base.hpp>

#include "coronet/core/detail/thread_counter.hpp"
#include "coronet/net/timeout.hpp"
#include "coronet/core/spawn.hpp"
#include "coronet/core/sync_wait.hpp"
#include "coronet/core/task.hpp"
#include "coronet/net/yield.hpp"

// Never co_await inside a Catch macro: the macro repeats its expression in a
// short-circuited `false && (...)`, and g++ 12 still runs a co_await there.

#include "support/loopback_pair.hpp"
#include "support/wait_helpers.hpp"

namespace {

using namespace std::chrono_literals;
using coronet::task;
using coronet::detail::thread_counter;
using coronet::tcp::background_writer;
using coronet_test::connected_pair;
using coronet_test::destroy_counter;
using coronet_test::make_pair;
using coronet_test::patterned_bytes;
using coronet_test::read_exactly;
using coronet_test::wait_until;

// Far more than the socket buffers of a `make_small_buffer_pair` hold.
constexpr std::size_t large_output = 4 * 1024 * 1024;

// A pair with small server send and client receive buffers, so that a few
// MB cannot all be taken by the kernel.
task<connected_pair> make_small_buffer_pair(asio::io_context& ctx) {
  connected_pair p = co_await make_pair(ctx);
  p.server.native().set_option(asio::socket_base::send_buffer_size(16 * 1024));
  p.client.native().set_option(asio::socket_base::receive_buffer_size(16 * 1024));
  co_return p;
}

// Flushes `output` through `w`; returns the bytes the kernel did not take at once.
std::size_t flush_output(background_writer& w, const std::string& output) {
  w.pending() = output;
  w.flush();
  return w.buffered();
}

// Releases the writer's reference when the test ends, however it ends.
class writer_ref {
public:
  explicit writer_ref(background_writer* w) noexcept : writer_(w) {}
  writer_ref(const writer_ref&) = delete;
  writer_ref& operator=(const writer_ref&) = delete;
  ~writer_ref() {
    if (writer_ != nullptr)
      writer_->release();
  }
  background_writer* operator->() const noexcept { return writer_; }
  background_writer& operator*() const noexcept { return *writer_; }

private:
  background_writer* writer_;
};

task<void> mark_when_below(background_writer& w, std::size_t limit, bool& below, std::size_t& buffered,
                           std::uint64_t& written) {
  co_await w.drained_below(limit);
  below = true;
  buffered = w.buffered();
  written = w.written();
}

task<void> mark_when_drained(background_writer& w, bool& drained) {
  co_await w.drained();
  drained = true;
}

// What the next read on `s` ends with (eof once the peer closed).
task<std::error_code> next_read_error(coronet::tcp::socket& s) {
  std::array<char, 64> buf{};
  std::error_code ec;
  co_await coronet::with_timeout(
      [&]() -> task<std::size_t> {
        co_return co_await s.read_some(asio::buffer(buf), ec);
      }(),
      5s);
  co_return ec;
}

}  // namespace

TEST_CASE("a small flush is written at once and counted", "[background_writer]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    thread_counter written;
    writer_ref w(background_writer::create(std::move(p.server), &written));
    CHECK(w->stream().is_open());
    CHECK(w->buffered() == 0);

    w->pending() = "+PONG\r\n";
    CHECK(w->buffered() == 7);
    w->flush();
    CHECK(w->buffered() == 0);
    CHECK(w->pending().empty());
    CHECK(written.get() == 7);
    CHECK_FALSE(w->failed());

    bool resumed = false;
    co_await w->drained();  // no write in flight: does not suspend
    resumed = true;
    CHECK(resumed);

    const std::string got = co_await read_exactly(p.client, 7);
    CHECK(got == "+PONG\r\n");

    w->pending() += "a";
    w->pending() += "bc";
    w->flush();
    CHECK(written.get() == 10);
    const std::string more = co_await read_exactly(p.client, 3);
    CHECK(more == "abc");
  }());
}

TEST_CASE("flushing nothing writes nothing; the counter may be null", "[background_writer]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    writer_ref w(background_writer::create(std::move(p.server), nullptr));
    w->flush();
    CHECK(w->buffered() == 0);
    w->pending() = "x";
    w->flush();
    CHECK(w->buffered() == 0);
    const std::string got = co_await read_exactly(p.client, 1);
    CHECK(got == "x");
  }());
}

TEST_CASE("output the kernel cannot take goes on in the background until the peer reads it", "[background_writer]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_small_buffer_pair(ctx);
    thread_counter written;
    writer_ref w(background_writer::create(std::move(p.server), &written));
    const std::string output = patterned_bytes(large_output);

    const std::size_t left = flush_output(*w, output);
    CHECK(left > 0);
    CHECK(left < large_output);
    CHECK(written.get() == large_output - left);
    CHECK(w->pending().empty());
    CHECK_FALSE(w->failed());

    bool drained = false;
    coronet::spawn(ctx, mark_when_drained(*w, drained));
    co_await coronet::yield();
    co_await coronet::yield();
    CHECK_FALSE(drained);  // the peer has read nothing yet

    const std::string got = co_await read_exactly(p.client, large_output);
    CHECK(got == output);
    const bool resumed = co_await wait_until([&] { return drained; });
    CHECK(resumed);
    CHECK(w->buffered() == 0);
    CHECK(written.get() == large_output);
    CHECK_FALSE(w->failed());
  }());
}

TEST_CASE("output appended during a background write follows it, in order", "[background_writer]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_small_buffer_pair(ctx);
    thread_counter written;
    writer_ref w(background_writer::create(std::move(p.server), &written));
    const std::string first = patterned_bytes(large_output);

    const std::size_t left = flush_output(*w, first);
    REQUIRE(left > 0);
    w->pending() = "second";
    w->flush();  // a write is in flight: this joins the queue
    CHECK(w->buffered() == left + 6);
    w->pending() += " third";
    w->flush();
    CHECK(w->buffered() == left + 12);

    bool drained = false;
    coronet::spawn(ctx, mark_when_drained(*w, drained));
    const std::string got = co_await read_exactly(p.client, large_output + 12);
    CHECK(got.compare(0, large_output, first) == 0);
    CHECK(got.substr(large_output) == "second third");
    const bool resumed = co_await wait_until([&] { return drained; });
    CHECK(resumed);
    CHECK(w->buffered() == 0);
    CHECK(written.get() == large_output + 12);
  }());
}

TEST_CASE("writing to a peer that is gone fails the writer and closes its socket", "[background_writer]") {
  const bool reset_peer = GENERATE(false, true);
  INFO((reset_peer ? "peer reset" : "peer closed"));
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    thread_counter written;
    writer_ref w(background_writer::create(std::move(p.server), &written));
    if (reset_peer)
      coronet_test::reset(p.client);
    else
      p.client.close();

    const std::string chunk(64 * 1024, 'x');
    const bool failed = co_await wait_until([&] {
      if (!w->failed() && w->buffered() < 4 * chunk.size()) {
        w->pending() += chunk;
        w->flush();
      }
      return w->failed();
    });
    REQUIRE(failed);
    CHECK_FALSE(w->stream().is_open());

    // Later output is dropped, never written.
    const std::uint64_t before = written.get();
    w->pending() = "late";
    w->flush();
    CHECK(written.get() == before);
    CHECK(w->failed());
  }());
}

TEST_CASE("a failed background write fails the writer and resumes the drain", "[background_writer]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_small_buffer_pair(ctx);
    writer_ref w(background_writer::create(std::move(p.server), nullptr));
    REQUIRE(flush_output(*w, patterned_bytes(large_output)) > 0);
    bool drained = false;
    coronet::spawn(ctx, mark_when_drained(*w, drained));

    coronet_test::reset(p.client);
    const bool resumed = co_await wait_until([&] { return drained; });
    CHECK(resumed);
    CHECK(w->failed());
    CHECK_FALSE(w->stream().is_open());
  }());
}

TEST_CASE("the last release frees the writer and closes its socket", "[background_writer]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_pair(ctx);
    background_writer* w = background_writer::create(std::move(p.server), nullptr);
    w->add_ref();
    w->release();
    CHECK(w->stream().is_open());  // one reference left
    w->pending() = "still here";
    w->flush();
    const std::string got = co_await read_exactly(p.client, 10);
    CHECK(got == "still here");

    w->release();
    const std::error_code ec = co_await next_read_error(p.client);
    CHECK(ec == asio::error::eof);
  }());
}

TEST_CASE("a write in flight keeps the writer alive after its owner released it", "[background_writer]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_small_buffer_pair(ctx);
    thread_counter written;
    background_writer* w = background_writer::create(std::move(p.server), &written);
    const std::string output = patterned_bytes(large_output);
    REQUIRE(flush_output(*w, output) > 0);
    w->release();

    const std::string got = co_await read_exactly(p.client, large_output);
    CHECK(got == output);
    CHECK(written.get() == large_output);
    // Its write done, the writer went away and closed the socket.
    const std::error_code ec = co_await next_read_error(p.client);
    CHECK(ec == asio::error::eof);
  }());
}

TEST_CASE("destroying the io_context with a write in flight frees the writer and its drain waiter",
          "[background_writer]") {
  int waiters_destroyed = 0;
  bool drained = false;
  {
    asio::io_context ctx(1);
    coronet::sync_wait(ctx, [&]() -> task<void> {
      connected_pair p = co_await make_small_buffer_pair(ctx);
      background_writer* w = background_writer::create(std::move(p.server), nullptr);
      REQUIRE(flush_output(*w, patterned_bytes(large_output)) > 0);
      coronet::spawn(ctx, [w, &waiters_destroyed, &drained]() -> task<void> {
        destroy_counter guard(&waiters_destroyed);
        co_await w->drained();
        drained = true;
      });
      co_await coronet::yield();
      co_await coronet::yield();
      w->release();  // the write in flight holds the last reference
    }());
    CHECK(waiters_destroyed == 0);
  }
  CHECK_FALSE(drained);
  CHECK(waiters_destroyed == 1);
}

TEST_CASE("drained_below resumes once the unsent output is down to a limit, while writing goes on",
          "[background_writer]") {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connected_pair p = co_await make_small_buffer_pair(ctx);
    writer_ref w(background_writer::create(std::move(p.server), nullptr));
    const std::string first = patterned_bytes(large_output);
    const std::size_t left = flush_output(*w, first);
    REQUIRE(left > 0);
    CHECK(w->written() == large_output - left);
    w->pending() = std::string(1000, 's');
    w->flush();  // queued behind the write in flight

    // At or above what is unsent: no wait at all.
    CHECK(w->drained_below(left + 1000).await_ready());
    CHECK_FALSE(w->drained_below(left + 999).await_ready());

    bool below = false;
    std::size_t buffered_then = 0;
    std::uint64_t written_then = 0;
    coronet::spawn(ctx, mark_when_below(*w, 1000, below, buffered_then, written_then));
    co_await coronet::yield();
    co_await coronet::yield();
    CHECK_FALSE(below);  // the peer has read nothing yet

    const std::string got = co_await read_exactly(p.client, large_output + 1000);
    CHECK(got.compare(0, large_output, first) == 0);
    const bool resumed = co_await wait_until([&] { return below; });
    CHECK(resumed);
    CHECK(buffered_then <= 1000);
    CHECK(written_then >= large_output);
    const bool done = co_await wait_until([&] { return w->buffered() == 0; });
    CHECK(done);
    CHECK(w->written() == large_output + 1000);
  }());
}
