// server::metrics(): per-command counts, errors and latency histograms,
// connections per protocol and requests per second, read while requests run.
#include "coronet/server/server_metrics.hpp"

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/time.h>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "coronet/server/server.hpp"
#include "support/blocking_peer.hpp"
#include "support/eventually.hpp"
#include "support/running_server.hpp"
#include "support/test_commands.hpp"

namespace server_server_metrics_test {

using namespace std::chrono_literals;
using coronet::latency_histogram;
using steady = std::chrono::steady_clock;

namespace {

coronet::router make_router() {
  coronet::router r = coronet_test::make_test_router();
  r.add(
      "deny", "an error reply", [](coronet::request&) { return coronet::reply::err("denied"); },
      coronet::arity::exactly(0));
  r.alias("pong", "ping");
  return r;
}

// The shared running server with `threads` workers and this file's router.
// Times every call unless told otherwise: most checks here count the histograms' samples.
struct running_server : coronet_test::running_server {
  explicit running_server(unsigned threads = 1, std::uint32_t sample_every = 1)
      : coronet_test::running_server(options(threads, sample_every), make_router()) {}
  static coronet::server_options options(unsigned threads, std::uint32_t sample_every) {
    coronet::server_options o = coronet_test::test_server_options();
    o.threads = threads;
    o.latency_sample_every = sample_every;
    return o;
  }
};

using peer = coronet_test::blocking_peer;
using coronet_test::eventually;

const coronet::command_metrics& find(const coronet::server_metrics& m, std::string_view name) {
  for (const auto& c : m.commands)
    if (c.name == name)
      return c;
  throw std::runtime_error("no metrics for " + std::string(name));
}

}  // namespace

TEST_CASE("latency_histogram: buckets tile the range, each at most 12.5% wide", "[metrics]") {
  CHECK(latency_histogram::bucket_of(0) == 0);
  CHECK(latency_histogram::bucket_of(7) == 7);
  CHECK(latency_histogram::upper_bound(latency_histogram::bucket_count - 1) ==
        (std::uint64_t{1} << latency_histogram::max_exponent) - 1);
  CHECK(latency_histogram::bucket_of(std::uint64_t{1} << latency_histogram::max_exponent) ==
        latency_histogram::bucket_count - 1);
  CHECK(latency_histogram::bucket_of(~std::uint64_t{0}) == latency_histogram::bucket_count - 1);
  for (std::size_t i = 0; i < latency_histogram::bucket_count; ++i) {
    const std::uint64_t lo = latency_histogram::lower_bound(i);
    const std::uint64_t hi = latency_histogram::upper_bound(i);
    INFO("bucket " << i << " [" << lo << ", " << hi << "]");
    REQUIRE(lo <= hi);
    REQUIRE(latency_histogram::bucket_of(lo) == i);
    REQUIRE(latency_histogram::bucket_of(hi) == i);
    if (i + 1 < latency_histogram::bucket_count)
      REQUIRE(latency_histogram::lower_bound(i + 1) == hi + 1);
    if (lo >= 8)
      REQUIRE(static_cast<double>(hi + 1 - lo) <= 0.125 * static_cast<double>(lo));
  }
}

TEST_CASE("latency_histogram: percentiles within bucket precision", "[metrics]") {
  latency_histogram h;
  CHECK(h.percentile(0.5) == 0ns);
  // 1..100000 ns, each once, in random order: the rank-k value is k.
  std::vector<std::uint64_t> values(100000);
  for (std::size_t i = 0; i < values.size(); ++i)
    values[i] = i + 1;
  std::shuffle(values.begin(), values.end(), std::mt19937(42));
  for (std::uint64_t v : values)
    ++h.counts[latency_histogram::bucket_of(v)];
  REQUIRE(h.total() == values.size());
  for (double q : {0.01, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    const auto exact = static_cast<double>(std::ceil(q * 100000));
    const auto got = static_cast<double>(h.percentile(q).count());
    INFO("q=" << q << " exact " << exact << " got " << got);
    CHECK(got >= exact);
    CHECK(got <= exact * 1.125);
  }
  CHECK(h.percentile(-1) == std::chrono::nanoseconds(1));
  CHECK(h.percentile(2) == h.percentile(1));

  latency_histogram twice = h;
  twice += h;
  CHECK(twice.total() == 2 * h.total());
  CHECK(twice.percentile(0.5) == h.percentile(0.5));
}

TEST_CASE("metrics: calls, errors, unknown commands and latencies per command", "[metrics][server]") {
  running_server s;
  CHECK(s.get().metrics().requests_per_second.empty());
  peer p(s.port());
  for (int i = 0; i < 20; ++i)
    REQUIRE(p.call("PING") == "+PONG");
  REQUIRE(p.call("pong") == "+PONG");  // an alias counts as its command
  REQUIRE(p.call("PING a b").rfind("-ERR wrong number of arguments", 0) == 0);
  REQUIRE(p.call("deny") == "-ERR denied");
  REQUIRE(p.call("deny") == "-ERR denied");
  REQUIRE(p.call("fail") == "-ERR internal error");
  REQUIRE(p.call("nosuch").rfind("-ERR unknown command", 0) == 0);
  for (int i = 0; i < 4; ++i)
    REQUIRE(p.call("sleep 30") == "+SLEPT");

  const coronet::server_metrics m = s.get().metrics();
  REQUIRE(m.commands.size() == s.get().routes().commands().size());
  const auto& ping = find(m, "ping");
  CHECK(ping.calls == 22);
  CHECK(ping.errors == 1);
  CHECK(ping.latency.total() == 22);
  CHECK(ping.p50() > 0ns);
  CHECK(ping.p50() < 30ms);
  const auto& deny = find(m, "deny");
  CHECK(deny.calls == 2);
  CHECK(deny.errors == 2);
  const auto& fail = find(m, "fail");
  CHECK(fail.calls == 1);
  CHECK(fail.errors == 1);
  CHECK(find(m, "big").calls == 0);
  CHECK(find(m, "big").p99() == 0ns);
  CHECK(m.unknown_commands == 1);
  // A 30 ms sleep takes at least 30 ms; the reported bucket bound is at most
  // 12.5% above the slowest call, which a loaded machine may delay.
  const auto& sleep = find(m, "sleep");
  CHECK(sleep.calls == 4);
  CHECK(sleep.errors == 0);
  CHECK(sleep.p50() >= 30ms);
  CHECK(sleep.p99() >= sleep.p50());
  CHECK(sleep.p99() < 2s);

  const coronet::server_stats st = s.get().stats();
  std::uint64_t counted = m.unknown_commands;
  for (const auto& c : m.commands)
    counted += c.calls;
  CHECK(counted == st.requests);
}

TEST_CASE("metrics: connections now and total per protocol", "[metrics][server]") {
  running_server s;
  auto resp_of = [&s] {
    const auto m = s.get().metrics();
    for (const auto& c : m.connections)
      if (c.protocol == coronet::wire_protocol::resp)
        return c;
    return coronet::protocol_connections{coronet::wire_protocol::resp, 0, 0};
  };
  CHECK(s.get().metrics().connections.empty());
  {
    peer a(s.port());
    peer b(s.port());
    REQUIRE(a.call("PING") == "+PONG");
    REQUIRE(b.call("PING") == "+PONG");
    const auto c = resp_of();
    CHECK(c.now == 2);
    CHECK(c.total == 2);
    b.close();
    CHECK(eventually([&] { return resp_of().now == 1; }));
  }
  CHECK(eventually([&] { return resp_of().now == 0; }));
  CHECK(resp_of().total == 2);
  CHECK(s.get().metrics().connections.size() == 1);
}

TEST_CASE("metrics: requests per second over the last minute", "[metrics][server]") {
  running_server s;
  peer p(s.port());
  for (int i = 0; i < 10; ++i)
    REQUIRE(p.call("PING") == "+PONG");
  // The ring ticks once a second: within ~2 s every request is in a closed
  // second (a tick may fall between two of them).
  std::vector<std::uint64_t> seen;
  std::uint64_t sum = 0;
  CHECK(eventually(
      [&] {
        seen = s.get().metrics().requests_per_second;
        sum = 0;
        for (auto n : seen)
          sum += n;
        return sum == 10;
      },
      4s));
  CHECK(!seen.empty());
  CHECK(seen.size() <= 60);
  CHECK(sum == 10);
}

TEST_CASE("metrics: latency_sample_every times a command's first call, then one in N; calls stay exact",
          "[metrics][server]") {
  const std::uint32_t every = GENERATE(4u, 16u);
  running_server s(1, every);
  peer p(s.port());
  for (int i = 0; i < 10; ++i)
    REQUIRE(p.call("PING") == "+PONG");
  REQUIRE(p.call("deny") == "-ERR denied");
  const coronet::server_metrics m = s.get().metrics();
  const auto& ping = find(m, "ping");
  CHECK(ping.calls == 10);
  // One worker: calls 1, 5 and 9 with N=4; only the first with N=16.
  CHECK(ping.latency.total() == (every == 4 ? 3u : 1u));
  CHECK(ping.p50() > 0ns);
  // Each command has its own count: deny's first call is timed.
  const auto& deny = find(m, "deny");
  CHECK(deny.calls == 1);
  CHECK(deny.errors == 1);
  CHECK(deny.latency.total() == 1);
}

TEST_CASE("metrics: read from other threads while requests run", "[metrics][server]") {
  running_server s(2);
  std::atomic<bool> done{false};
  std::atomic<int> snapshots{0};
  std::atomic<bool> went_back{false};
  std::thread reader([&] {
    std::uint64_t last = 0;
    while (!done.load()) {
      const auto m = s.get().metrics();
      std::uint64_t calls = find(m, "ping").calls;
      // Counters never go back.
      if (calls < last)
        went_back = true;
      last = calls;
      snapshots.fetch_add(1);
    }
  });
  constexpr int clients = 4;
  constexpr int per_client = 300;
  std::vector<std::thread> load;
  for (int c = 0; c < clients; ++c)
    load.emplace_back([&s] {
      peer p(s.port());
      for (int i = 0; i < per_client; ++i)
        if (p.call("PING") != "+PONG")
          return;
    });
  for (auto& t : load)
    t.join();
  done = true;
  reader.join();
  CHECK(snapshots.load() > 0);
  CHECK_FALSE(went_back.load());
  const auto m = s.get().metrics();
  CHECK(find(m, "ping").calls == clients * per_client);
  CHECK(find(m, "ping").latency.total() == clients * per_client);
}

}  // namespace server_server_metrics_test
