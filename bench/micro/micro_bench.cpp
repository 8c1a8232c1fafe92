// Micro benchmarks: each case as coronet, as asio::awaitable + use_awaitable,
// and as plain Asio completion callbacks, measured in the same run.
//
// Every variant runs on an `asio::io_context(1)` on the benchmark thread
// (coronet: spawn + run; awaitable: co_spawn + run; callbacks: run) and
// warms up for `warmup_iterations` before the timed loop, so first-use
// allocations (Asio's op recycling cache, coronet's frame pool) are not
// counted. `allocs/op` is the number of global `operator new` calls made
// inside the timed loop divided by the iterations.
//
// Names: <case>/<variant>[/<socket kind>]. Ratios are computed by bench/micro/run.
#include <benchmark/benchmark.h>

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/connect_pair.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "coronet/protocol/line/line_codec.hpp"
#include "coronet/protocol/resp/resp_codec.hpp"
#include "coronet/net/acceptor.hpp"
#include "coronet/net/socket.hpp"
#include "coronet/net/timer.hpp"
#include "coronet/core/spawn.hpp"
#include "coronet/core/task.hpp"
#include "coronet/net/yield.hpp"

// ---------------------------------------------------------------------------
// Counting global operator new. The benchmark thread is the only one that
// allocates while a case runs; a relaxed load+store (no locked RMW) keeps the
// counting cost out of the baselines that do allocate.

namespace {
std::atomic<std::size_t> g_new_calls{0};

inline void count_new() noexcept {
  g_new_calls.store(g_new_calls.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}
}  // namespace

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

[[gnu::noinline]] void* operator new(std::size_t size) {
  count_new();
  if (void* p = std::malloc(size == 0 ? 1 : size))
    return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return ::operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  count_new();
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return ::operator new(size, tag); }
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

using namespace std::chrono_literals;
using asio::awaitable;
using asio::use_awaitable;

constexpr int warmup_iterations = 64;

// Counts operator new calls between the start and the end of a timed loop.
class alloc_meter {
public:
  void start() noexcept { start_ = g_new_calls.load(std::memory_order_relaxed); }
  void stop(benchmark::State& state) const {
    const double calls = static_cast<double>(g_new_calls.load(std::memory_order_relaxed) - start_);
    state.counters["allocs/op"] = benchmark::Counter(calls, benchmark::Counter::kAvgIterations);
  }

private:
  std::size_t start_ = 0;
};

// Runs a coronet task the way a server does (spawn, then io_context::run),
// as co_spawn + run drives the asio::awaitable variants; an exception is rethrown.
void run_coronet(asio::io_context& ctx, coronet::task<void> t) {
  std::exception_ptr failure;
  coronet::spawn(ctx, std::move(t), [&failure](std::exception_ptr e) { failure = e; });
  ctx.run();
  if (failure)
    std::rethrow_exception(failure);
}

void check(const std::error_code& ec, const char* what) {
  if (ec)
    throw std::system_error(ec, what);
}

// ===========================================================================
// Nested call: await a child that completes at once.

coronet::task<int> coronet_child(int v) { co_return v + 1; }

coronet::task<void> coronet_nested(benchmark::State& state) {
  int v = 0;
  for (int i = 0; i < warmup_iterations; ++i)
    v = co_await coronet_child(v);
  alloc_meter m;
  m.start();
  for (auto _ : state) {
    v = co_await coronet_child(v);
    benchmark::DoNotOptimize(v);
  }
  m.stop(state);
}

void nested_coronet(benchmark::State& state) {
  asio::io_context ctx(1);
  run_coronet(ctx, coronet_nested(state));
}

awaitable<int> awaitable_child(int v) { co_return v + 1; }

awaitable<void> awaitable_nested(benchmark::State& state) {
  int v = 0;
  for (int i = 0; i < warmup_iterations; ++i)
    v = co_await awaitable_child(v);
  alloc_meter m;
  m.start();
  for (auto _ : state) {
    v = co_await awaitable_child(v);
    benchmark::DoNotOptimize(v);
  }
  m.stop(state);
}

void nested_awaitable(benchmark::State& state) {
  asio::io_context ctx(1);
  asio::co_spawn(ctx, awaitable_nested(state), asio::detached);
  ctx.run();
}

// The callback form of "a child that completes at once": a function that
// invokes its completion handler before returning (not inlined, like a call
// into another translation unit).
template <class Handler>
[[gnu::noinline]] void callback_child(int v, Handler&& h) {
  std::forward<Handler>(h)(v + 1);
}

void nested_callback(benchmark::State& state) {
  int v = 0;
  for (int i = 0; i < warmup_iterations; ++i)
    callback_child(v, [&v](int r) { v = r; });
  alloc_meter m;
  m.start();
  for (auto _ : state) {
    callback_child(v, [&v](int r) { v = r; });
    benchmark::DoNotOptimize(v);
  }
  m.stop(state);
}

// ===========================================================================
// Yield through the executor (post).

coronet::task<void> coronet_yield(benchmark::State& state) {
  for (int i = 0; i < warmup_iterations; ++i)
    co_await coronet::yield();
  alloc_meter m;
  m.start();
  for (auto _ : state)
    co_await coronet::yield();
  m.stop(state);
}

void yield_coronet(benchmark::State& state) {
  asio::io_context ctx(1);
  run_coronet(ctx, coronet_yield(state));
}

awaitable<void> awaitable_yield(benchmark::State& state) {
  auto ex = co_await asio::this_coro::executor;
  for (int i = 0; i < warmup_iterations; ++i)
    co_await asio::post(ex, use_awaitable);
  alloc_meter m;
  m.start();
  for (auto _ : state)
    co_await asio::post(ex, use_awaitable);
  m.stop(state);
}

void yield_awaitable(benchmark::State& state) {
  asio::io_context ctx(1);
  asio::co_spawn(ctx, awaitable_yield(state), asio::detached);
  ctx.run();
}

// Re-posts itself: one loop iteration per handler run.
struct callback_poster {
  benchmark::State& state;
  asio::io_context& ctx;
  alloc_meter meter;
  int warmup = warmup_iterations;

  void step() {
    if (warmup > 0) {
      if (--warmup == 0)
        meter.start();
    } else if (!state.KeepRunning()) {
      meter.stop(state);
      return;
    }
    asio::post(ctx, [this] { step(); });
  }
};

void yield_callback(benchmark::State& state) {
  asio::io_context ctx(1);
  callback_poster p{state, ctx, {}};
  p.step();
  ctx.run();
}

// ===========================================================================
// 1-byte ping-pong round trip over a connected pair of stream sockets, both
// ends on the same io_context. Kind 0: an AF_UNIX socketpair; kind 1: two
// TCP loopback sockets (TCP_NODELAY).

enum socket_kind : int { unix_pair = 0, tcp_loopback = 1 };

// Connects `a` and `b` over 127.0.0.1 with blocking calls.
template <class Socket>
void tcp_connect_pair(asio::io_context& ctx, Socket& a, Socket& b) {
  asio::ip::tcp::acceptor acc(ctx, {asio::ip::address_v4::loopback(), 0});
  a.connect(acc.local_endpoint());
  acc.accept(b);
  a.set_option(asio::ip::tcp::no_delay(true));
  b.set_option(asio::ip::tcp::no_delay(true));
}

// coronet::tcp::socket wraps a TCP-protocol Asio socket; an AF_UNIX stream
// descriptor is assigned to it as is (reads and writes do not look at the protocol).
std::pair<coronet::tcp::socket, coronet::tcp::socket> coronet_pair(asio::io_context& ctx, int kind) {
  using coronet::tcp::asio_socket;
  asio_socket a(ctx.get_executor()), b(ctx.get_executor());
  if (kind == unix_pair) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
      throw std::system_error(errno, std::generic_category(), "socketpair");
    a.assign(asio::ip::tcp::v4(), fds[0]);
    b.assign(asio::ip::tcp::v4(), fds[1]);
  } else {
    tcp_connect_pair(ctx, a, b);
  }
  return {coronet::tcp::socket(std::move(a)), coronet::tcp::socket(std::move(b))};
}

coronet::task<void> coronet_echoer(coronet::tcp::socket& s) {
  char byte = 0;
  for (;;) {
    std::error_code ec;
    co_await s.read_some(asio::buffer(&byte, 1), ec);
    if (ec)
      co_return;
    co_await s.write_all(asio::buffer(&byte, 1), ec);
    if (ec)
      co_return;
  }
}

coronet::task<void> coronet_pinger(coronet::tcp::socket& s, benchmark::State& state) {
  char byte = 'x';
  for (int i = 0; i < warmup_iterations; ++i) {
    co_await s.write_all(asio::buffer(&byte, 1));
    co_await s.read_some(asio::buffer(&byte, 1));
  }
  alloc_meter m;
  m.start();
  for (auto _ : state) {
    co_await s.write_all(asio::buffer(&byte, 1));
    co_await s.read_some(asio::buffer(&byte, 1));
  }
  m.stop(state);
  s.close();
}

void pingpong_coronet(benchmark::State& state) {
  asio::io_context ctx(1);
  auto [a, b] = coronet_pair(ctx, static_cast<int>(state.range(0)));
  coronet::spawn(ctx, coronet_echoer(b));
  run_coronet(ctx, coronet_pinger(a, state));  // the echoer ends too: the pinger closes its end
}

template <class Socket>
awaitable<void> awaitable_echoer(Socket& s) {
  char byte = 0;
  for (;;) {
    std::error_code ec;
    co_await s.async_read_some(asio::buffer(&byte, 1), asio::redirect_error(use_awaitable, ec));
    if (ec)
      co_return;
    co_await asio::async_write(s, asio::buffer(&byte, 1), asio::redirect_error(use_awaitable, ec));
    if (ec)
      co_return;
  }
}

template <class Socket>
awaitable<void> awaitable_pinger(Socket& s, benchmark::State& state) {
  char byte = 'x';
  for (int i = 0; i < warmup_iterations; ++i) {
    co_await asio::async_write(s, asio::buffer(&byte, 1), use_awaitable);
    co_await s.async_read_some(asio::buffer(&byte, 1), use_awaitable);
  }
  alloc_meter m;
  m.start();
  for (auto _ : state) {
    co_await asio::async_write(s, asio::buffer(&byte, 1), use_awaitable);
    co_await s.async_read_some(asio::buffer(&byte, 1), use_awaitable);
  }
  m.stop(state);
  s.close();
}

template <class Socket>
void run_awaitable_pingpong(benchmark::State& state, asio::io_context& ctx, Socket& a, Socket& b) {
  asio::co_spawn(ctx, awaitable_echoer(b), asio::detached);
  asio::co_spawn(ctx, awaitable_pinger(a, state), asio::detached);
  ctx.run();
}

void pingpong_awaitable(benchmark::State& state) {
  asio::io_context ctx(1);
  if (state.range(0) == unix_pair) {
    asio::local::stream_protocol::socket a(ctx), b(ctx);
    asio::local::connect_pair(a, b);
    run_awaitable_pingpong(state, ctx, a, b);
  } else {
    asio::ip::tcp::socket a(ctx), b(ctx);
    tcp_connect_pair(ctx, a, b);
    run_awaitable_pingpong(state, ctx, a, b);
  }
}

template <class Socket>
struct callback_pingpong {
  benchmark::State& state;
  Socket& a;
  Socket& b;
  alloc_meter meter;
  int warmup = warmup_iterations;
  char ping = 'x';
  char pong = 0;

  void start() {
    echo_read();
    ping_write();
  }
  void echo_read() {
    b.async_read_some(asio::buffer(&pong, 1), [this](std::error_code ec, std::size_t) {
      if (!ec)
        echo_write();
    });
  }
  void echo_write() {
    asio::async_write(b, asio::buffer(&pong, 1), [this](std::error_code ec, std::size_t) {
      if (!ec)
        echo_read();
    });
  }
  void ping_write() {
    asio::async_write(a, asio::buffer(&ping, 1), [this](std::error_code ec, std::size_t) {
      check(ec, "ping write");
      a.async_read_some(asio::buffer(&ping, 1), [this](std::error_code rec, std::size_t) {
        check(rec, "ping read");
        next();
      });
    });
  }
  void next() {
    if (warmup > 0) {
      if (--warmup == 0) {
        meter.start();
        if (!state.KeepRunning())
          return finish();
      }
    } else if (!state.KeepRunning()) {
      return finish();
    }
    ping_write();
  }
  void finish() {
    meter.stop(state);
    a.close();
  }
};

template <class Socket>
void run_callback_pingpong(benchmark::State& state, asio::io_context& ctx, Socket& a, Socket& b) {
  callback_pingpong<Socket> p{state, a, b, {}};
  p.start();
  ctx.run();
}

void pingpong_callback(benchmark::State& state) {
  asio::io_context ctx(1);
  if (state.range(0) == unix_pair) {
    asio::local::stream_protocol::socket a(ctx), b(ctx);
    asio::local::connect_pair(a, b);
    run_callback_pingpong(state, ctx, a, b);
  } else {
    asio::ip::tcp::socket a(ctx), b(ctx);
    tcp_connect_pair(ctx, a, b);
    run_callback_pingpong(state, ctx, a, b);
  }
}

// ===========================================================================
// A timer with zero duration (one reusable timer object per variant).

coronet::task<void> coronet_timer(benchmark::State& state, asio::io_context& ctx) {
  coronet::timer t(ctx);
  for (int i = 0; i < warmup_iterations; ++i) {
    t.expires_after(0s);
    co_await t.wait();
  }
  alloc_meter m;
  m.start();
  for (auto _ : state) {
    t.expires_after(0s);
    co_await t.wait();
  }
  m.stop(state);
}

void timer_coronet(benchmark::State& state) {
  asio::io_context ctx(1);
  run_coronet(ctx, coronet_timer(state, ctx));
}

awaitable<void> awaitable_timer(benchmark::State& state) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  for (int i = 0; i < warmup_iterations; ++i) {
    t.expires_after(0s);
    co_await t.async_wait(use_awaitable);
  }
  alloc_meter m;
  m.start();
  for (auto _ : state) {
    t.expires_after(0s);
    co_await t.async_wait(use_awaitable);
  }
  m.stop(state);
}

void timer_awaitable(benchmark::State& state) {
  asio::io_context ctx(1);
  asio::co_spawn(ctx, awaitable_timer(state), asio::detached);
  ctx.run();
}

struct callback_timer {
  benchmark::State& state;
  asio::steady_timer timer;
  alloc_meter meter;
  int warmup = warmup_iterations;

  void step() {
    if (warmup > 0) {
      if (--warmup == 0)
        meter.start();
    } else if (!state.KeepRunning()) {
      meter.stop(state);
      return;
    }
    timer.expires_after(0s);
    timer.async_wait([this](std::error_code ec) {
      check(ec, "timer");
      step();
    });
  }
};

void timer_callback(benchmark::State& state) {
  asio::io_context ctx(1);
  callback_timer t{state, asio::steady_timer(ctx), {}};
  t.step();
  ctx.run();
}

// ===========================================================================
// Accept + connect of a loopback connection. One iteration: async connect to
// a listening acceptor, async accept of that connection (already queued),
// then both closed; the client with SO_LINGER 0 so no TIME_WAIT piles up.

const asio::socket_base::linger abortive_close(true, 0);

coronet::task<void> coronet_accept(benchmark::State& state, coronet::tcp::acceptor& acc) {
  const coronet::tcp::endpoint ep = acc.local_endpoint();
  const coronet::tcp::executor_type ex = acc.get_executor();
  auto once = [&]() -> coronet::task<void> {
    coronet::tcp::socket client(ex);
    co_await client.connect(ep);
    coronet::tcp::socket peer = co_await acc.accept();
    client.native().set_option(abortive_close);
    client.close();
    peer.close();
  };
  for (int i = 0; i < warmup_iterations; ++i)
    co_await once();
  alloc_meter m;
  m.start();
  for (auto _ : state)
    co_await once();
  m.stop(state);
}

void accept_coronet(benchmark::State& state) {
  asio::io_context ctx(1);
  coronet::tcp::acceptor acc(ctx, {asio::ip::address_v4::loopback(), 0});
  run_coronet(ctx, coronet_accept(state, acc));
}

awaitable<void> awaitable_accept_once(asio::ip::tcp::acceptor& acc, const asio::ip::tcp::endpoint& ep) {
  asio::ip::tcp::socket client(acc.get_executor());
  co_await client.async_connect(ep, use_awaitable);
  asio::ip::tcp::socket peer = co_await acc.async_accept(use_awaitable);
  client.set_option(abortive_close);
  client.close();
  peer.close();
}

awaitable<void> awaitable_accept(benchmark::State& state, asio::ip::tcp::acceptor& acc) {
  const asio::ip::tcp::endpoint ep = acc.local_endpoint();
  for (int i = 0; i < warmup_iterations; ++i)
    co_await awaitable_accept_once(acc, ep);
  alloc_meter m;
  m.start();
  for (auto _ : state)
    co_await awaitable_accept_once(acc, ep);
  m.stop(state);
}

void accept_awaitable(benchmark::State& state) {
  asio::io_context ctx(1);
  asio::ip::tcp::acceptor acc(ctx, {asio::ip::address_v4::loopback(), 0});
  asio::co_spawn(ctx, awaitable_accept(state, acc), asio::detached);
  ctx.run();
}

struct callback_accept {
  benchmark::State& state;
  asio::ip::tcp::acceptor& acc;
  asio::ip::tcp::endpoint ep;
  asio::ip::tcp::socket client;
  alloc_meter meter;
  int warmup = warmup_iterations;

  void step() {
    if (warmup > 0) {
      if (--warmup == 0)
        meter.start();
    } else if (!state.KeepRunning()) {
      meter.stop(state);
      return;
    }
    client = asio::ip::tcp::socket(acc.get_executor());
    client.async_connect(ep, [this](std::error_code ec) {
      check(ec, "connect");
      acc.async_accept([this](std::error_code aec, asio::ip::tcp::socket peer) {
        check(aec, "accept");
        client.set_option(abortive_close);
        client.close();
        peer.close();
        step();
      });
    });
  }
};

void accept_callback(benchmark::State& state) {
  asio::io_context ctx(1);
  asio::ip::tcp::acceptor acc(ctx, {asio::ip::address_v4::loopback(), 0});
  callback_accept a{state, acc, acc.local_endpoint(), asio::ip::tcp::socket(ctx), {}};
  a.step();
  ctx.run();
}

// ===========================================================================
// Parsing requests already in a buffer: `PING` as a line and as a RESP
// multibulk, 1 or 16 pipelined. "coronet" is the library's parser (full
// grammar: words split, limits checked); "minimal" is the reference server's
// loop (find the line end, compare with PING) as the floor.

std::string repeated(std::string_view request, int times) {
  std::string s;
  for (int i = 0; i < times; ++i)
    s += request;
  return s;
}

constexpr std::string_view line_ping = "PING\r\n";
constexpr std::string_view resp_ping = "*1\r\n$4\r\nPING\r\n";

void parse_line_coronet(benchmark::State& state) {
  std::string input = repeated(line_ping, static_cast<int>(state.range(0)));
  std::vector<std::string_view> words;
  words.reserve(8);
  const coronet::codec_limits limits;
  alloc_meter m;
  m.start();
  for (auto _ : state) {
    std::span<char> rest(input);
    std::size_t requests = 0;
    while (!rest.empty()) {
      const coronet::parse_result r = coronet::parse_line_request(rest, words, limits);
      if (r.status != coronet::parse_status::complete)
        state.SkipWithError("line parse failed");
      requests += words.size();
      rest = rest.subspan(r.consumed);
    }
    benchmark::DoNotOptimize(requests);
  }
  m.stop(state);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * input.size()));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void parse_resp_coronet(benchmark::State& state) {
  std::string input = repeated(resp_ping, static_cast<int>(state.range(0)));
  std::vector<std::string_view> words;
  words.reserve(8);
  const coronet::codec_limits limits;
  coronet::resp_request_parser parser;
  {
    // Warm up the parser's own offset list.
    std::span<char> rest(input);
    (void)parser.parse(rest, words, limits);
  }
  alloc_meter m;
  m.start();
  for (auto _ : state) {
    std::span<char> rest(input);
    std::size_t requests = 0;
    while (!rest.empty()) {
      const coronet::parse_result r = parser.parse(rest, words, limits);
      if (r.status != coronet::parse_status::complete)
        state.SkipWithError("resp parse failed");
      requests += words.size();
      rest = rest.subspan(r.consumed);
    }
    benchmark::DoNotOptimize(requests);
  }
  m.stop(state);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * input.size()));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

// The reference server's line handling: memchr for '\n', drop '\r', compare.
[[gnu::noinline]] std::size_t minimal_line_requests(const char* p, std::size_t n) {
  std::size_t pings = 0;
  const char* end = p + n;
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    if (nl == nullptr)
      break;
    std::size_t len = static_cast<std::size_t>(nl - p);
    if (len > 0 && p[len - 1] == '\r')
      --len;
    if (len == 4 && std::memcmp(p, "PING", 4) == 0)
      ++pings;
    p = nl + 1;
  }
  return pings;
}

// The reference server's RESP handling: header, then each bulk by length.
[[gnu::noinline]] std::size_t minimal_resp_requests(const char* p, std::size_t n) {
  std::size_t pings = 0;
  const char* end = p + n;
  auto number = [&](const char*& q, long& out) {
    const char* nl = static_cast<const char*>(std::memchr(q, '\n', static_cast<std::size_t>(end - q)));
    if (nl == nullptr || nl - q < 2 || nl[-1] != '\r')
      return false;
    long v = 0;
    for (const char* d = q + 1; d < nl - 1; ++d)
      v = v * 10 + (*d - '0');
    out = v;
    q = nl + 1;
    return true;
  };
  while (p < end && *p == '*') {
    long count = 0;
    if (!number(p, count))
      break;
    const char* first = nullptr;
    long first_len = 0;
    for (long i = 0; i < count; ++i) {
      long len = 0;
      if (p >= end || *p != '$' || !number(p, len) || end - p < len + 2)
        return pings;
      if (i == 0) {
        first = p;
        first_len = len;
      }
      p += len + 2;
    }
    if (first_len == 4 && std::memcmp(first, "PING", 4) == 0)
      ++pings;
  }
  return pings;
}

template <std::size_t (*Parse)(const char*, std::size_t)>
void parse_minimal(benchmark::State& state, std::string_view one) {
  const std::string input = repeated(one, static_cast<int>(state.range(0)));
  alloc_meter m;
  m.start();
  for (auto _ : state) {
    std::size_t pings = Parse(input.data(), input.size());
    if (pings != static_cast<std::size_t>(state.range(0)))
      state.SkipWithError("minimal parse failed");
    benchmark::DoNotOptimize(pings);
  }
  m.stop(state);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * input.size()));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void parse_line_minimal(benchmark::State& state) { parse_minimal<minimal_line_requests>(state, line_ping); }
void parse_resp_minimal(benchmark::State& state) { parse_minimal<minimal_resp_requests>(state, resp_ping); }

}  // namespace

BENCHMARK(nested_coronet)->Name("nested/coronet");
BENCHMARK(nested_awaitable)->Name("nested/awaitable");
BENCHMARK(nested_callback)->Name("nested/callback");

BENCHMARK(yield_coronet)->Name("yield/coronet");
BENCHMARK(yield_awaitable)->Name("yield/awaitable");
BENCHMARK(yield_callback)->Name("yield/callback");

BENCHMARK(pingpong_coronet)->Name("pingpong/coronet")->ArgName("tcp")->Arg(unix_pair)->Arg(tcp_loopback);
BENCHMARK(pingpong_awaitable)->Name("pingpong/awaitable")->ArgName("tcp")->Arg(unix_pair)->Arg(tcp_loopback);
BENCHMARK(pingpong_callback)->Name("pingpong/callback")->ArgName("tcp")->Arg(unix_pair)->Arg(tcp_loopback);

BENCHMARK(timer_coronet)->Name("timer0/coronet");
BENCHMARK(timer_awaitable)->Name("timer0/awaitable");
BENCHMARK(timer_callback)->Name("timer0/callback");

BENCHMARK(accept_coronet)->Name("accept_connect/coronet");
BENCHMARK(accept_awaitable)->Name("accept_connect/awaitable");
BENCHMARK(accept_callback)->Name("accept_connect/callback");

BENCHMARK(parse_line_coronet)->Name("parse_line/coronet")->ArgName("pipelined")->Arg(1)->Arg(16);
BENCHMARK(parse_line_minimal)->Name("parse_line/minimal")->ArgName("pipelined")->Arg(1)->Arg(16);
BENCHMARK(parse_resp_coronet)->Name("parse_resp/coronet")->ArgName("pipelined")->Arg(1)->Arg(16);
BENCHMARK(parse_resp_minimal)->Name("parse_resp/minimal")->ArgName("pipelined")->Arg(1)->Arg(16);

BENCHMARK_MAIN();
