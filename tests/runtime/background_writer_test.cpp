// coronet::background_writer<Stream> over TCP and TLS loopback: synchronous
// flushes where the stream allows them, the background write and its drain,
// failures, and the owning handles.
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
#include <asio/ssl/error.hpp>

#include "coronet/core/detail/thread_counter.hpp"
#include "coronet/core/spawn.hpp"
#include "coronet/core/sync_wait.hpp"
#include "coronet/core/task.hpp"
#include "coronet/core/when_all.hpp"
#include "coronet/net/timeout.hpp"
#include "coronet/net/yield.hpp"
#include "coronet/tls/context.hpp"
#include "coronet/tls/stream.hpp"

// Never co_await inside a Catch macro: the macro repeats its expression in a
// short-circuited `false && (...)`, and g++ 12 still runs a co_await there.

#include "support/loopback_pair.hpp"
#include "support/test_certs.hpp"
#include "support/wait_helpers.hpp"

namespace runtime_background_writer_test {

namespace {

using namespace std::chrono_literals;
using coronet::task;
using coronet::detail::thread_counter;
using coronet_test::destroy_counter;
using coronet_test::patterned_bytes;
using coronet_test::wait_until;

template <class Stream>
using writer = coronet::background_writer<Stream>;
template <class Stream>
using writer_ptr = coronet::writer_ptr<Stream>;

// Far more than the socket buffers of a small-buffer pair hold.
constexpr std::size_t large_output = 4 * 1024 * 1024;

// The stream handed to the writer (`server`) and the peer reading from it.
template <class Stream>
struct stream_pair {
  Stream client;
  Stream server;
};

// Small server send and client receive buffers, so that a few MB cannot all
// be taken by the kernel.
void shrink_buffers(coronet::tcp::socket& client, coronet::tcp::socket& server) {
  server.native().set_option(asio::socket_base::send_buffer_size(16 * 1024));
  client.native().set_option(asio::socket_base::receive_buffer_size(64 * 1024));
}

using coronet_test::certs;

// Contexts for every TLS pair of the test program (streams must not outlive them).
asio::ssl::context& server_tls() {
  static asio::ssl::context ctx = coronet::tls::make_server_context(
      {.certificate_file = certs().path("server.pem"), .key_file = certs().path("server.key")});
  return ctx;
}
asio::ssl::context& client_tls() {
  static asio::ssl::context ctx = coronet::tls::make_client_context({.ca_file = certs().path("ca.pem")});
  return ctx;
}

// A connected pair of `Stream`s (TLS: with both handshakes done).
template <class Stream>
task<stream_pair<Stream>> make_stream_pair(asio::io_context& ctx, bool small_buffers = false) {
  auto [c, s] = co_await coronet_test::make_pair(ctx);
  if (small_buffers)
    shrink_buffers(c, s);
  if constexpr (std::is_same_v<Stream, coronet::tcp::socket>) {
    co_return stream_pair<Stream>{std::move(c), std::move(s)};
  } else {
    using coronet::tls::stream;
    stream_pair<Stream> p{stream(std::move(c), client_tls()), stream(std::move(s), server_tls())};
    p.client.set_server_name("localhost");
    auto client_side = [&]() -> task<void> { co_await p.client.handshake(stream::client); };
    auto server_side = [&]() -> task<void> { co_await p.server.handshake(stream::server); };
    co_await coronet::with_timeout(coronet::when_all(client_side(), server_side()), 10s);
    co_return std::move(p);
  }
}

template <class Stream>
task<stream_pair<Stream>> make_small_buffer_pair(asio::io_context& ctx) {
  return make_stream_pair<Stream>(ctx, true);
}

// Reads exactly `n` bytes from `s`; throws if they take longer than 30 s.
template <class Stream>
task<std::string> read_exactly(Stream& s, std::size_t n) {
  std::string got(n, '\0');
  co_await coronet::with_timeout(
      [&]() -> task<std::size_t> {
        co_return co_await s.read_exact(asio::buffer(got));
      }(),
      30s);
  co_return got;
}

// Resets the connection beneath `s`: the peer sees an RST instead of a FIN.
template <class Stream>
void reset(Stream& s) {
  s.lowest_layer().set_option(asio::socket_base::linger(true, 0));
  std::error_code ignored;
  s.close(ignored);
}

// Flushes `output` through `w`; returns the bytes not taken at once.
template <class Stream>
std::size_t flush_output(writer<Stream>& w, const std::string& output) {
  w.pending() = output;
  w.flush();
  return w.buffered();
}

template <class Stream>
task<void> mark_when_below(writer<Stream>& w, std::size_t limit, bool& below, std::size_t& buffered,
                           std::uint64_t& written) {
  co_await w.drained_below(limit);
  below = true;
  buffered = w.buffered();
  written = w.written();
}

template <class Stream>
task<void> mark_when_drained(writer<Stream>& w, bool& drained) {
  co_await w.drained();
  drained = true;
}

// What the next read on `s` ends with.
template <class Stream>
task<std::error_code> next_read_error(Stream& s) {
  std::array<char, 64> buf{};
  std::error_code ec;
  co_await coronet::with_timeout(
      [&]() -> task<std::size_t> {
        co_return co_await s.read_some(asio::buffer(buf), ec);
      }(),
      5s);
  co_return ec;
}

// True when `ec` is how a read learns that the writer's side closed: eof for
// TCP, and for TLS (closed without close_notify) stream_truncated.
bool closed_by_peer(const std::error_code& ec) {
  return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
}

}  // namespace

// TCP writes at once what the kernel takes; TLS never writes synchronously
// (try_write_first is false), so its flush leaves a write in flight.
TEMPLATE_TEST_CASE("a small flush is written at once where the stream allows it, and counted", "[background_writer]",
                   coronet::tcp::socket, coronet::tls::stream) {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    auto p = co_await make_stream_pair<TestType>(ctx);
    thread_counter written;
    writer_ptr<TestType> w = writer<TestType>::create(std::move(p.server), &written);
    CHECK(w->stream().is_open());
    CHECK(w->buffered() == 0);

    w->pending() = "+PONG\r\n";
    CHECK(w->buffered() == 7);
    w->flush();
    CHECK(w->pending().empty());
    CHECK_FALSE(w->failed());
    if constexpr (TestType::try_write_first) {
      CHECK(w->buffered() == 0);
      CHECK(written.get() == 7);
      CHECK(w->drained().await_ready());  // no write in flight
    } else {
      CHECK(w->buffered() == 7);
      CHECK(written.get() == 0);
      CHECK_FALSE(w->drained().await_ready());
    }

    co_await w->drained();
    CHECK(w->buffered() == 0);
    CHECK(written.get() == 7);

    const std::string got = co_await read_exactly(p.client, 7);
    CHECK(got == "+PONG\r\n");

    w->pending() += "a";
    w->pending() += "bc";
    w->flush();
    co_await w->drained();
    CHECK(written.get() == 10);
    const std::string more = co_await read_exactly(p.client, 3);
    CHECK(more == "abc");
  }());
}

TEMPLATE_TEST_CASE("flushing nothing writes nothing; the counter may be null", "[background_writer]",
                   coronet::tcp::socket, coronet::tls::stream) {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    auto p = co_await make_stream_pair<TestType>(ctx);
    writer_ptr<TestType> w = writer<TestType>::create(std::move(p.server), nullptr);
    w->flush();
    CHECK(w->buffered() == 0);
    CHECK(w->drained().await_ready());  // nothing was started
    w->pending() = "x";
    w->flush();
    co_await w->drained();
    CHECK(w->buffered() == 0);
    CHECK(w->written() == 1);
    const std::string got = co_await read_exactly(p.client, 1);
    CHECK(got == "x");
  }());
}

TEMPLATE_TEST_CASE("output not taken at once goes on in the background until the peer reads it", "[background_writer]",
                   coronet::tcp::socket, coronet::tls::stream) {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    auto p = co_await make_small_buffer_pair<TestType>(ctx);
    thread_counter written;
    writer_ptr<TestType> w = writer<TestType>::create(std::move(p.server), &written);
    const std::string output = patterned_bytes(large_output);

    const std::size_t left = flush_output(*w, output);
    CHECK(left > 0);
    if constexpr (TestType::try_write_first)
      CHECK(left < large_output);
    else
      CHECK(left == large_output);
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

TEMPLATE_TEST_CASE("output appended during a background write follows it, in order", "[background_writer]",
                   coronet::tcp::socket, coronet::tls::stream) {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    auto p = co_await make_small_buffer_pair<TestType>(ctx);
    thread_counter written;
    writer_ptr<TestType> w = writer<TestType>::create(std::move(p.server), &written);
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

TEMPLATE_TEST_CASE("writing to a peer that is gone fails the writer and closes its stream", "[background_writer]",
                   coronet::tcp::socket, coronet::tls::stream) {
  const bool reset_peer = GENERATE(false, true);
  INFO((reset_peer ? "peer reset" : "peer closed"));
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    auto p = co_await make_stream_pair<TestType>(ctx);
    thread_counter written;
    writer_ptr<TestType> w = writer<TestType>::create(std::move(p.server), &written);
    if (reset_peer)
      reset(p.client);
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

TEMPLATE_TEST_CASE("a failed background write fails the writer and resumes the drain", "[background_writer]",
                   coronet::tcp::socket, coronet::tls::stream) {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    auto p = co_await make_small_buffer_pair<TestType>(ctx);
    writer_ptr<TestType> w = writer<TestType>::create(std::move(p.server), nullptr);
    REQUIRE(flush_output(*w, patterned_bytes(large_output)) > 0);
    bool drained = false;
    coronet::spawn(ctx, mark_when_drained(*w, drained));

    reset(p.client);
    const bool resumed = co_await wait_until([&] { return drained; });
    CHECK(resumed);
    CHECK(w->failed());
    CHECK_FALSE(w->stream().is_open());
  }());
}

TEMPLATE_TEST_CASE("the last handle to go frees the writer and closes its stream", "[background_writer]",
                   coronet::tcp::socket, coronet::tls::stream) {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    auto p = co_await make_stream_pair<TestType>(ctx);
    writer_ptr<TestType> w = writer<TestType>::create(std::move(p.server), nullptr);
    {
      writer_ptr<TestType> copy = w;
      CHECK(copy.get() == w.get());
      writer_ptr<TestType> moved = std::move(copy);
      CHECK(copy == nullptr);
      CHECK(moved.get() == w.get());
    }
    CHECK(w->stream().is_open());  // one handle left
    w->pending() = "still here";
    w->flush();
    const std::string got = co_await read_exactly(p.client, 10);
    CHECK(got == "still here");
    co_await w->drained();

    writer_ptr<TestType> last = std::move(w);
    CHECK(w == nullptr);
    CHECK(static_cast<bool>(last));
    last = nullptr;
    CHECK_FALSE(static_cast<bool>(last));
    const std::error_code ec = co_await next_read_error(p.client);
    CHECK(closed_by_peer(ec));
  }());
}

TEMPLATE_TEST_CASE("a write in flight keeps the writer alive after its owner released it", "[background_writer]",
                   coronet::tcp::socket, coronet::tls::stream) {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    auto p = co_await make_small_buffer_pair<TestType>(ctx);
    thread_counter written;
    writer_ptr<TestType> w = writer<TestType>::create(std::move(p.server), &written);
    const std::string output = patterned_bytes(large_output);
    REQUIRE(flush_output(*w, output) > 0);
    w.reset();

    const std::string got = co_await read_exactly(p.client, large_output);
    CHECK(got == output);
    CHECK(written.get() == large_output);
    // Its write done, the writer went away and closed the stream.
    const std::error_code ec = co_await next_read_error(p.client);
    CHECK(closed_by_peer(ec));
  }());
}

TEMPLATE_TEST_CASE("destroying the io_context with a write in flight frees the writer and its drain waiter",
                   "[background_writer]", coronet::tcp::socket, coronet::tls::stream) {
  int waiters_destroyed = 0;
  bool drained = false;
  {
    asio::io_context ctx(1);
    coronet::sync_wait(ctx, [&]() -> task<void> {
      auto p = co_await make_small_buffer_pair<TestType>(ctx);
      writer_ptr<TestType> w = writer<TestType>::create(std::move(p.server), nullptr);
      REQUIRE(flush_output(*w, patterned_bytes(large_output)) > 0);
      coronet::spawn(ctx, [raw = w.get(), &waiters_destroyed, &drained]() -> task<void> {
        destroy_counter guard(&waiters_destroyed);
        co_await raw->drained();
        drained = true;
      });
      co_await coronet::yield();
      co_await coronet::yield();
      w.reset();  // the write in flight holds the last reference
    }());
    CHECK(waiters_destroyed == 0);
  }
  CHECK_FALSE(drained);
  CHECK(waiters_destroyed == 1);
}

TEMPLATE_TEST_CASE("drained_below resumes once the unsent output is down to a limit, while writing goes on",
                   "[background_writer]", coronet::tcp::socket, coronet::tls::stream) {
  asio::io_context ctx(1);
  coronet::sync_wait(ctx, [&]() -> task<void> {
    auto p = co_await make_small_buffer_pair<TestType>(ctx);
    writer_ptr<TestType> w = writer<TestType>::create(std::move(p.server), nullptr);
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

}  // namespace runtime_background_writer_test
