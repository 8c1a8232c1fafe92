// Tests for the io_uring transport's ring per io_context (lib/src/net/uring/uring_service.hpp):
// completions arrive on the io_context's thread through Asio's reactor, one turn's requests
// reach the kernel in one io_uring_enter, cancellation and multishot requests end as the
// kernel says, and a shutdown abandons (never completes) what is still in flight.
#include "net/uring/uring_service.hpp"

#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/post.hpp>

namespace net_uring_service_test {

namespace {

using coronet::detail::uring::operation;
using coronet::detail::uring::service;

// A connected pair of local stream sockets, closed at the end.
struct socket_pair {
  int fd[2] = {-1, -1};
  socket_pair() { REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fd) == 0); }
  ~socket_pair() {
    for (const int f : fd)
      if (f >= 0)
        ::close(f);
  }
  socket_pair(const socket_pair&) = delete;
  socket_pair& operator=(const socket_pair&) = delete;
  void send(std::string_view s) const { REQUIRE(::write(fd[1], s.data(), s.size()) == static_cast<ssize_t>(s.size())); }
};

// An operation that records its completions.
struct recorded : operation {
  struct completion {
    int res;
    std::uint32_t flags;
    std::thread::id thread;
  };
  std::vector<completion> completions;
  int abandoned = 0;
  char buffer[64] = {};

  recorded() {
    complete = [](operation& op, int res, std::uint32_t flags) noexcept {
      static_cast<recorded&>(op).completions.push_back({res, flags, std::this_thread::get_id()});
    };
    abandon = [](operation& op) noexcept { ++static_cast<recorded&>(op).abandoned; };
  }
  bool finished() const { return !completions.empty() && (completions.back().flags & IORING_CQE_F_MORE) == 0; }
};

// Runs `ctx` until `done()` (at most 5 s of handlers; fails the test otherwise).
template <class Done>
void run_until(asio::io_context& ctx, Done done) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  ctx.restart();
  while (!done() && std::chrono::steady_clock::now() < give_up)
    ctx.run_one_for(std::chrono::milliseconds(100));
  REQUIRE(done());
}

// An io_context with its ring, a socket pair and an operation to submit.
struct ring_fixture {
  asio::io_context ctx{1};
  service& ring = asio::use_service<service>(ctx);
  socket_pair pair;
  recorded op;

  // Submits a receive on the pair's first socket into op's buffer (on ctx's thread).
  void submit_recv() {
    ring.submit(op, [this](io_uring_sqe& sqe) { io_uring_prep_recv(&sqe, pair.fd[0], op.buffer, sizeof op.buffer, 0); });
  }
  // Cancels op (on ctx's thread).
  void cancel() {
    ring.submit_detached([this](io_uring_sqe& sqe) { io_uring_prep_cancel64(&sqe, reinterpret_cast<std::uintptr_t>(&op), 0); });
  }
};

bool usable() {
  const auto& k = coronet::detail::uring::probe();
  if (!k.usable)
    WARN("io_uring is not usable here: " << k.why);
  return k.usable;
}

}  // namespace

TEST_CASE("the probe says whether io_uring is usable, and why not") {
  const auto& k = coronet::detail::uring::probe();
  CHECK(&k == &coronet::detail::uring::probe());
  if (k.usable)
    CHECK(k.why.empty());
  else
    CHECK(!k.why.empty());
}

TEST_CASE_METHOD(ring_fixture, "a receive completes on the io_context's thread with the bytes") {
  if (!usable())
    return;
  asio::post(ctx, [&] {
    submit_recv();
    CHECK(ring.in_flight() == 1);
    CHECK(op.completions.empty());  // never inside submit
  });
  run_until(ctx, [&] { return ring.in_flight() == 1; });
  pair.send("hello");
  run_until(ctx, [&] { return op.finished(); });
  REQUIRE(op.completions.size() == 1);
  CHECK(op.completions[0].res == 5);
  CHECK(std::string_view(op.buffer, 5) == "hello");
  CHECK(op.completions[0].thread == std::this_thread::get_id());
  CHECK(ring.in_flight() == 0);
  CHECK(ring.stats().completions == 1);
  CHECK(ring.stats().wakeups >= 1);
  CHECK(op.abandoned == 0);
}

TEST_CASE("what one turn submits reaches the kernel in one io_uring_enter") {
  if (!usable())
    return;
  asio::io_context ctx(1);
  auto& ring = asio::use_service<service>(ctx);
  std::vector<recorded> ops(10);
  std::optional<coronet::detail::uring::service_stats> after_turn;
  asio::post(ctx, [&] {
    for (auto& op : ops)
      ring.submit(op, [](io_uring_sqe& sqe) { io_uring_prep_nop(&sqe); });
    CHECK(ring.stats().enters == 0);  // nothing yet: at the end of the turn
    // Posted after the service's own submission, so it runs once that is done.
    asio::post(ctx, [&] { after_turn = ring.stats(); });
  });
  run_until(ctx, [&] { return after_turn.has_value(); });
  CHECK(after_turn->enters == 1);
  CHECK(after_turn->submitted == 10);
  run_until(ctx, [&] { return ring.in_flight() == 0; });
  for (const auto& op : ops) {
    REQUIRE(op.completions.size() == 1);
    CHECK(op.completions[0].res == 0);
  }
}

TEST_CASE("the io_context's run() returns once nothing is in flight, not before") {
  if (!usable())
    return;
  asio::io_context ctx(1);
  auto& ring = asio::use_service<service>(ctx);
  socket_pair pair;
  recorded first;
  recorded second;
  asio::post(ctx, [&] {
    ring.submit(first, [&](io_uring_sqe& sqe) { io_uring_prep_nop(&sqe); });
    // Only completes once the data below is sent: run() must wait for it.
    ring.submit(second,
                [&](io_uring_sqe& sqe) { io_uring_prep_recv(&sqe, pair.fd[0], second.buffer, sizeof second.buffer, 0); });
  });
  run_until(ctx, [&] { return first.finished(); });
  CHECK(ring.in_flight() == 1);
  // (Catch2's assertions are for the test's own thread: the sender only writes.)
  ssize_t sent = 0;
  std::thread sender([&] { sent = ::write(pair.fd[1], "late", 4); });
  ctx.restart();
  ctx.run();  // returns by itself: no stop(), no deadline
  sender.join();
  CHECK(sent == 4);
  CHECK(second.finished());
  CHECK(second.completions.back().res == 4);
  CHECK(ring.in_flight() == 0);
  // And again, with the ring already open.
  recorded third;
  asio::post(ctx, [&] { ring.submit(third, [](io_uring_sqe& sqe) { io_uring_prep_nop(&sqe); }); });
  ctx.restart();
  ctx.run();
  CHECK(third.finished());
}

TEST_CASE_METHOD(ring_fixture, "a cancelled request completes with ECANCELED") {
  if (!usable())
    return;
  asio::post(ctx, [&] {
    submit_recv();
    ring.flush();
    cancel();
  });
  run_until(ctx, [&] { return op.finished(); });
  REQUIRE(op.completions.size() == 1);
  CHECK(op.completions[0].res == -ECANCELED);
  CHECK(ring.in_flight() == 0);
}

TEST_CASE_METHOD(ring_fixture, "a multishot request stays in flight until its last completion") {
  if (!usable())
    return;
  asio::post(ctx, [&] {
    ring.submit(op, [&](io_uring_sqe& sqe) { io_uring_prep_poll_multishot(&sqe, pair.fd[0], POLLIN); });
  });
  run_until(ctx, [&] { return ring.in_flight() == 1; });
  pair.send("x");
  run_until(ctx, [&] { return !op.completions.empty(); });
  CHECK((op.completions[0].flags & IORING_CQE_F_MORE) != 0);
  CHECK((op.completions[0].res & POLLIN) != 0);
  CHECK(ring.in_flight() == 1);
  // Drain the byte so that the next readiness is a new edge, then end the request.
  char c = 0;
  REQUIRE(::read(pair.fd[0], &c, 1) == 1);
  asio::post(ctx, [&] { cancel(); });
  run_until(ctx, [&] { return op.finished(); });
  CHECK(op.completions.back().res == -ECANCELED);
  CHECK(ring.in_flight() == 0);
  CHECK(op.abandoned == 0);
}

TEST_CASE("destroying the io_context abandons what is still in flight, without completing it") {
  if (!usable())
    return;
  socket_pair pair;
  recorded op;
  {
    asio::io_context ctx(1);
    auto& ring = asio::use_service<service>(ctx);
    asio::post(ctx, [&] {
      ring.submit(op, [&](io_uring_sqe& sqe) { io_uring_prep_recv(&sqe, pair.fd[0], op.buffer, sizeof op.buffer, 0); });
    });
    run_until(ctx, [&] { return ring.stats().enters >= 1; });
    CHECK(ring.in_flight() == 1);
  }
  // The io_context (and its ring) is gone; the operation outlives it here.
  CHECK(op.abandoned == 1);
  CHECK(op.completions.empty());
  // The kernel let go of the buffer: data sent now is still there for a plain read.
  pair.send("after");
  CHECK(::read(pair.fd[0], op.buffer, sizeof op.buffer) == 5);
}

TEST_CASE("an io_context destroyed on another thread closes its ring, then abandons what is in flight") {
  if (!usable())
    return;
  socket_pair pair;
  recorded op;
  auto ctx = std::make_unique<asio::io_context>(1);
  auto& ring = asio::use_service<service>(*ctx);
  asio::post(*ctx, [&] {
    ring.submit(op, [&](io_uring_sqe& sqe) { io_uring_prep_recv(&sqe, pair.fd[0], op.buffer, sizeof op.buffer, 0); });
  });
  run_until(*ctx, [&] { return ring.stats().enters >= 1; });
  const auto started = std::chrono::steady_clock::now();
  std::thread([&ctx] { ctx.reset(); }).join();
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::milliseconds(500));  // no wait for a cancel it cannot send
  CHECK(op.abandoned == 1);
  CHECK(op.completions.empty());
  pair.send("after");
  CHECK(::read(pair.fd[0], op.buffer, sizeof op.buffer) == 5);
}

TEST_CASE_METHOD(ring_fixture, "the ring is refused to a thread that does not run its io_context") {
  if (!usable())
    return;
  CHECK_THROWS_AS(ring.submit(op, [](io_uring_sqe& sqe) { io_uring_prep_nop(&sqe); }), std::logic_error);
  CHECK(ring.in_flight() == 0);
}

}  // namespace net_uring_service_test
