// Tests for runtime/listener.hpp: the accept loop (hand-over, stop, backoff on EMFILE) and lingering_close.
#include "runtime/listener.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <exception>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/address_v4.hpp>

#include "coronet/net/socket.hpp"
#include "coronet/net/timeout.hpp"
#include "coronet/core/spawn.hpp"
#include "coronet/core/sync_wait.hpp"
#include "coronet/core/task.hpp"
#include "coronet/net/yield.hpp"

// Never co_await inside a Catch macro: the macro repeats its expression in a
// short-circuited `false && (...)`, and g++ 12 still runs a co_await there.

#include "support/wait_helpers.hpp"

namespace runtime_listener_test {

namespace {

using namespace std::chrono_literals;
using coronet::task;
namespace tcp = coronet::tcp;
using coronet_test::clock_type;
using coronet_test::wait_until;

tcp::endpoint loopback_any_port() { return {asio::ip::address_v4::loopback(), 0}; }

// One read, given up after five seconds (the error goes to `ec`).
task<std::size_t> read_some_within_5s(tcp::socket& s, asio::mutable_buffer b, std::error_code& ec) {
  co_return co_await coronet::with_timeout(
      [&]() -> task<std::size_t> {
        co_return co_await s.read_some(b, ec);
      }(),
      5s);
}

// Both ends of one loopback connection.
struct connection_pair {
  tcp::socket client;
  tcp::socket server;
};

task<connection_pair> connect_pair(asio::io_context& ctx, tcp::acceptor& a) {
  tcp::socket client(ctx);
  co_await client.connect(a.local_endpoint());
  tcp::socket server = co_await a.accept();
  co_return connection_pair{std::move(client), std::move(server)};
}

// An accept loop spawned on its own, with its outcome recorded.
struct spawned_loop {
  bool ended = false;
  std::exception_ptr error;
  asio::cancellation_signal cancel;

  void start(asio::io_context& ctx, tcp::acceptor& a, tcp::accept_handler on_accepted,
             tcp::listener_options opts = {}) {
    coronet::spawn(ctx, tcp::accept_loop(a, std::move(on_accepted), std::move(opts)),
                   asio::bind_cancellation_slot(cancel.slot(), [this](std::exception_ptr e) {
                     error = e;
                     ended = true;
                   }));
  }
};

// Makes every new descriptor of this process fail with EMFILE until destroyed:
// the soft RLIMIT_NOFILE goes down to the lowest free descriptor number.
class descriptors_exhausted {
public:
  descriptors_exhausted() {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    const int lowest_free = ::open("/dev/null", O_RDONLY);
    REQUIRE(lowest_free >= 0);
    ::close(lowest_free);
    rlimit lowered = saved_;
    lowered.rlim_cur = static_cast<rlim_t>(lowest_free);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &lowered) == 0);
  }
  descriptors_exhausted(const descriptors_exhausted&) = delete;
  descriptors_exhausted& operator=(const descriptors_exhausted&) = delete;
  ~descriptors_exhausted() { ::setrlimit(RLIMIT_NOFILE, &saved_); }

private:
  rlimit saved_{};
};

}  // namespace

TEST_CASE("accept_loop hands each accepted socket over and returns when the acceptor closes", "[listener]") {
  asio::io_context ctx(1);
  tcp::acceptor acceptor(ctx, loopback_any_port());
  std::vector<tcp::socket> accepted;
  spawned_loop loop;
  loop.start(ctx, acceptor, [&](tcp::socket s) { accepted.push_back(std::move(s)); });
  coronet::sync_wait(ctx, [&]() -> task<void> {
    std::vector<tcp::socket> clients;
    for (int i = 0; i < 3; ++i) {
      clients.emplace_back(ctx);
      co_await clients.back().connect(acceptor.local_endpoint());
    }
    const bool all_accepted = co_await wait_until([&] { return accepted.size() == 3; });
    REQUIRE(all_accepted);
    for (std::size_t i = 0; i < clients.size(); ++i)
      CHECK(accepted[i].remote_endpoint() == clients[i].local_endpoint());

    acceptor.close();
    const bool ended = co_await wait_until([&] { return loop.ended; });
    CHECK(ended);
    CHECK(!loop.error);
  }());
}

TEST_CASE("accept_loop on an acceptor closed before it starts returns at once", "[listener]") {
  asio::io_context ctx(1);
  tcp::acceptor acceptor(ctx, loopback_any_port());
  acceptor.close();
  int errors = 0;
  tcp::listener_options opts;
  opts.on_error = [&](const std::error_code&) {
    ++errors;
  };
  coronet::sync_wait(ctx, tcp::accept_loop(
                              acceptor, [](tcp::socket) {}, std::move(opts)));
  CHECK(errors == 0);
}

TEST_CASE("accept_loop closes the connection and returns once stop_requested holds", "[listener]") {
  asio::io_context ctx(1);
  tcp::acceptor acceptor(ctx, loopback_any_port());
  int handed_over = 0;
  bool stop = false;
  tcp::listener_options opts;
  opts.stop_requested = [&] {
    return stop;
  };
  spawned_loop loop;
  loop.start(
      ctx, acceptor, [&](tcp::socket) { ++handed_over; }, std::move(opts));
  coronet::sync_wait(ctx, [&]() -> task<void> {
    stop = true;
    tcp::socket client(ctx);
    co_await client.connect(acceptor.local_endpoint());
    std::array<char, 16> buf{};
    std::error_code ec;
    co_await read_some_within_5s(client, asio::buffer(buf), ec);
    CHECK(ec == asio::error::eof);
    const bool ended = co_await wait_until([&] { return loop.ended; });
    CHECK(ended);
    CHECK(handed_over == 0);
    CHECK(acceptor.is_open());
  }());
}

TEST_CASE("accept_loop returns when its chain is cancelled", "[listener]") {
  asio::io_context ctx(1);
  tcp::acceptor acceptor(ctx, loopback_any_port());
  spawned_loop loop;
  loop.start(ctx, acceptor, [](tcp::socket) {});
  coronet::sync_wait(ctx, [&]() -> task<void> {
    co_await coronet::yield();  // the loop is now waiting in accept
    loop.cancel.emit(asio::cancellation_type::terminal);
    const bool ended = co_await wait_until([&] { return loop.ended; });
    CHECK(ended);
    CHECK(!loop.error);
  }());
}

TEST_CASE("accept_loop pauses for the backoff on EMFILE, then accepts the waiting connection", "[listener][emfile]") {
  constexpr auto backoff = 50ms;
  asio::io_context ctx(1);
  tcp::acceptor acceptor(ctx, loopback_any_port());
  // Opened before the descriptors run out: connecting needs none.
  tcp::socket client(ctx);
  client.native().open(asio::ip::tcp::v4());
  std::vector<tcp::socket> accepted;
  std::vector<std::error_code> errors;
  std::vector<clock_type::time_point> error_times;
  tcp::listener_options opts;
  opts.backoff = backoff;
  opts.on_error = [&](const std::error_code& ec) {
    errors.push_back(ec);
    error_times.push_back(clock_type::now());
  };
  opts.log_name = "listener test";
  spawned_loop loop;
  loop.start(
      ctx, acceptor, [&](tcp::socket s) { accepted.push_back(std::move(s)); }, std::move(opts));
  coronet::sync_wait(ctx, [&]() -> task<void> {
    errors.reserve(16);
    error_times.reserve(16);
    bool three_errors = false;
    {
      descriptors_exhausted exhausted;
      co_await client.connect(acceptor.local_endpoint());
      three_errors = co_await wait_until([&] { return errors.size() >= 3; });
    }
    REQUIRE(three_errors);
    CHECK(errors[0] == asio::error::no_descriptors);
    // Two pauses lie between the first and the third failure; retrying at
    // once would have failed thousands of times by now.
    CHECK(error_times[2] - error_times[0] >= 2 * backoff);
    CHECK(accepted.empty());

    const bool handed_over = co_await wait_until([&] { return accepted.size() == 1; });
    REQUIRE(handed_over);
    CHECK(accepted[0].remote_endpoint() == client.local_endpoint());
    acceptor.close();
    const bool ended = co_await wait_until([&] { return loop.ended; });
    CHECK(ended);
  }());
}

TEST_CASE("lingering_close sends end of stream, drains the peer and closes when the peer does", "[listener][linger]") {
  asio::io_context ctx(1);
  tcp::acceptor acceptor(ctx, loopback_any_port());
  coronet::sync_wait(ctx, [&]() -> task<void> {
    auto [client, server] = co_await connect_pair(ctx, acceptor);
    co_await server.write_all(asio::buffer(std::string("reply")));
    bool closed = false;
    coronet::spawn(ctx, tcp::lingering_close(server, 60s), [&](std::exception_ptr) { closed = true; });

    // The peer still sends while the server lingers: it must not cause a reset.
    co_await client.write_all(asio::buffer(std::string("late request")));
    std::string received;
    std::array<char, 64> buf{};
    std::error_code ec;
    while (!ec) {
      const std::size_t n = co_await read_some_within_5s(client, asio::buffer(buf), ec);
      received.append(buf.data(), n);
    }
    CHECK(ec == asio::error::eof);
    CHECK(received == "reply");
    CHECK(!closed);

    client.close();
    const bool done = co_await wait_until([&] { return closed; });
    CHECK(done);
    CHECK(!server.is_open());
  }());
}

TEST_CASE("lingering_close gives up after linger when the peer keeps the connection open", "[listener][linger]") {
  constexpr auto linger = 50ms;
  asio::io_context ctx(1);
  tcp::acceptor acceptor(ctx, loopback_any_port());
  coronet::sync_wait(ctx, [&]() -> task<void> {
    connection_pair kept_open = co_await connect_pair(ctx, acceptor);
    tcp::socket& server = kept_open.server;
    const auto start = clock_type::now();
    co_await tcp::lingering_close(server, linger);
    const auto elapsed = clock_type::now() - start;
    CHECK(elapsed >= linger);
    CHECK(elapsed < 5s);
    CHECK(!server.is_open());

    connection_pair no_linger = co_await connect_pair(ctx, acceptor);
    const auto no_linger_start = clock_type::now();
    co_await tcp::lingering_close(no_linger.server, 0ms);
    CHECK(clock_type::now() - no_linger_start < linger);
    CHECK(!no_linger.server.is_open());
  }());
}

}  // namespace runtime_listener_test
