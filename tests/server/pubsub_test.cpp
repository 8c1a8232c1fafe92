// Pub/Sub's hub in a running server: server::publish from threads that are not the server's,
// subscribers spread over two workers, Redis's receiver count, and a closed subscriber
// leaving the hub. Deliveries cross threads, so these also run under TSan.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "coronet/server/server.hpp"
#include "server/pubsub/pubsub_hub.hpp"
#include "support/blocking_peer.hpp"
#include "support/eventually.hpp"
#include "support/router_calls.hpp"
#include "support/running_server.hpp"

namespace server_pubsub_test {

using coronet_test::blocking_peer;
using coronet_test::eventually;
using coronet_test::running_server;

namespace {

coronet::server_options two_workers() {
  coronet::server_options o = coronet_test::quick_stop_options(coronet::wire_protocol::resp);
  o.threads = 2;
  return o;
}

std::string bulk(const std::string& s) { return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n"; }

std::string message(const std::string& channel, const std::string& payload) {
  return "*3\r\n$7\r\nmessage\r\n" + bulk(channel) + bulk(payload);
}

std::string confirmation(const std::string& kind, const std::string& name, int count) {
  return "*3\r\n" + bulk(kind) + bulk(name) + ":" + std::to_string(count) + "\r\n";
}

// A subscriber to `channel`, once the server confirmed it.
std::unique_ptr<blocking_peer> subscriber(std::uint16_t port, const std::string& channel) {
  auto p = std::make_unique<blocking_peer>(port);
  p->send("SUBSCRIBE " + channel + "\r\n");
  const std::string want = confirmation("subscribe", channel, 1);
  REQUIRE(p->exactly(want.size()) == want);
  return p;
}

}  // namespace

TEST_CASE("server::publish from another thread reaches the subscribers of both workers", "[pubsub]") {
  running_server srv(two_workers(), coronet_test::builtins());
  // Connections are spread over the workers by the kernel: eight of them land on both.
  std::vector<std::unique_ptr<blocking_peer>> subs;
  for (int i = 0; i < 8; ++i)
    subs.push_back(subscriber(srv.port(), "news"));
  auto pattern = std::make_unique<blocking_peer>(srv.port());
  pattern->send("PSUBSCRIBE n*\r\n");
  const std::string confirmed = confirmation("psubscribe", "n*", 1);
  REQUIRE(pattern->exactly(confirmed.size()) == confirmed);

  CHECK(srv.get().pubsub_numsub("news") == 8);
  CHECK(srv.get().pubsub_numpat() == 1);
  CHECK(srv.get().publish("news", "hello") == 9);
  CHECK(srv.get().publish("nobody-here", "x") == 1);  // the pattern matches it
  CHECK(srv.get().publish("other", "x") == 0);
  for (auto& p : subs)
    CHECK(p->exactly(message("news", "hello").size()) == message("news", "hello"));
  const std::string pm1 = "*4\r\n$8\r\npmessage\r\n" + bulk("n*") + bulk("news") + bulk("hello");
  const std::string pm2 = "*4\r\n$8\r\npmessage\r\n" + bulk("n*") + bulk("nobody-here") + bulk("x");
  CHECK(pattern->exactly(pm1.size() + pm2.size()) == pm1 + pm2);

  const coronet::server_stats st = srv.get().stats();
  CHECK(st.pubsub_channels == 1);
  CHECK(st.pubsub_patterns == 1);
}

TEST_CASE("a closed subscriber leaves the hub", "[pubsub]") {
  running_server srv(two_workers(), coronet_test::builtins());
  auto a = subscriber(srv.port(), "news");
  auto b = subscriber(srv.port(), "news");
  CHECK(srv.get().publish("news", "1") == 2);
  a->close();
  CHECK(eventually([&] { return srv.get().pubsub_numsub("news") == 1; }));
  CHECK(srv.get().publish("news", "2") == 1);
  CHECK(b->exactly(2 * message("news", "1").size()) == message("news", "1") + message("news", "2"));
  b->close();
  CHECK(eventually([&] { return srv.get().pubsub_channels().empty(); }));
  CHECK(srv.get().publish("news", "3") == 0);
}

TEST_CASE("messages from several publishing threads all arrive, each thread's in order", "[pubsub]") {
  running_server srv(two_workers(), coronet_test::builtins());
  std::vector<std::unique_ptr<blocking_peer>> subs;
  for (int i = 0; i < 4; ++i)
    subs.push_back(subscriber(srv.port(), "c"));
  constexpr int per_thread = 200;
  std::vector<std::thread> publishers;
  std::vector<std::size_t> receivers(2, 0);
  for (int t = 0; t < 2; ++t)
    publishers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i)
        receivers[t] += srv.get().publish("c", std::to_string(t) + ":" + std::to_string(i));
    });
  for (auto& p : publishers)
    p.join();
  CHECK(receivers[0] == 4 * per_thread);
  CHECK(receivers[1] == 4 * per_thread);
  for (auto& s : subs) {
    int next[2] = {0, 0};
    bool in_order = true;
    for (int n = 0; n < 2 * per_thread; ++n) {
      REQUIRE(s->line() == "*3");
      REQUIRE(s->bulk() == "message");
      REQUIRE(s->bulk() == "c");
      const std::string payload = s->bulk();
      const int t = payload[0] - '0';
      REQUIRE((t == 0 || t == 1));
      in_order = in_order && payload == std::to_string(t) + ":" + std::to_string(next[t]);
      ++next[t];
    }
    CHECK(in_order);
  }
}

TEST_CASE("RESP2 subscribed mode refuses other commands; RESP3 pushes interleave with replies", "[pubsub]") {
  running_server srv(coronet_test::quick_stop_options(coronet::wire_protocol::resp), coronet_test::builtins());
  auto a = subscriber(srv.port(), "news");
  CHECK(a->call("ECHO hi") ==
        "-ERR Can't execute 'echo': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in "
        "this context");
  a->send("PING\r\n");
  CHECK(a->exactly(20) == "*2\r\n$4\r\npong\r\n$0\r\n\r\n");

  blocking_peer b(srv.port());
  b.send("HELLO 3\r\n");
  b.until("modules\r\n*0\r\n");
  b.send("SUBSCRIBE news\r\n");
  CHECK(b.until(":1\r\n") == ">3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n");
  CHECK(srv.get().publish("news", "m") == 2);
  CHECK(b.until("$1\r\nm\r\n") == ">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$1\r\nm\r\n");
  CHECK(b.call("ECHO hi") == "$2");
  CHECK(b.line() == "hi");
  CHECK(b.call("RESET") == "+RESET");
  CHECK(srv.get().publish("news", "n") == 1);
  CHECK(a->exactly(message("news", "m").size() + message("news", "n").size()) ==
        message("news", "m") + message("news", "n"));
}

TEST_CASE("a RESP connection's subscriber is made at its first SUBSCRIBE, not at accept", "[pubsub]") {
  coronet::router r = coronet_test::builtins();
  r.add(
      "hassub", "1 once the connection has its Pub/Sub state",
      [](coronet::request& req) { return coronet::reply::integer(req.conn->pubsub != nullptr ? 1 : 0); },
      coronet::arity::exactly(0));
  running_server srv(coronet_test::quick_stop_options(coronet::wire_protocol::resp), std::move(r));
  blocking_peer p(srv.port());
  p.send("HELLO 3\r\n");
  p.until("modules\r\n*0\r\n");
  CHECK(p.call("HASSUB") == ":0");
  CHECK(p.call("RESET") == "+RESET");  // drops nothing, makes nothing
  CHECK(p.call("HASSUB") == ":0");
  p.send("HELLO 3\r\n");
  p.until("modules\r\n*0\r\n");
  p.send("SUBSCRIBE news\r\n");
  CHECK(p.until(":1\r\n") == ">3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n");
  CHECK(p.call("HASSUB") == ":1");
  CHECK(srv.get().publish("news", "m") == 1);
  CHECK(p.until("$1\r\nm\r\n") == ">3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$1\r\nm\r\n");
  p.send("UNSUBSCRIBE\r\n");
  CHECK(p.until(":0\r\n") == ">3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:0\r\n");
  CHECK(srv.get().publish("news", "n") == 0);
}

TEST_CASE("PSUBSCRIBE patterns match as redis-server 7.0's stringmatchlen", "[pubsub]") {
  struct row {
    const char* pattern;
    const char* channel;
    bool matches;
  };
  // What redis-server 7.0.15 answered, row by row (PSUBSCRIBE the pattern, PUBLISH on the channel).
  const row table[] = {
      {"*", "anything", true},
      {"*", "", false},
      {"h?llo", "hello", true},
      {"h?llo", "hllo", false},
      {"h*llo", "heeeello", true},
      {"h[ae]llo", "hallo", true},
      {"h[ae]llo", "hillo", false},
      {"h[^e]llo", "hallo", true},
      {"h[^e]llo", "hello", false},
      {"h[a-b]llo", "hbllo", true},
      {"h[a-b]llo", "hcllo", false},
      {"h[b-a]llo", "hallo", true},
      {"h\\*llo", "h*llo", true},
      {"h\\*llo", "hello", false},
      {"news.*", "news.sport", true},
      {"news.*", "news", false},
      {"[abc", "a", true},
      {"[abc", "b", true},
      {"a[", "a", false},
      {"a[", "a[", false},
      {"\\", "\\", true},
      {"a\\", "a\\", true},
      {"[\\]]", "]", true},
      {"[a-]", "-", false},
      {"[a-]", "a", true},
      {"*a*b", "xaxxb", true},
      {"*a*b", "xaxxbc", false},
      {"??", "ab", true},
      {"??", "a", false},
      {"[^]", "x", true},
      {"[]", "x", false},
      {"a*", "A", false},
      {"ab[c", "abc", true},
      {"[!a]", "b", false},
      {"[]a]", "a", false},
      {"[]a]", "]", false},
  };
  for (const row& r : table) {
    INFO(r.pattern << " against " << r.channel);
    CHECK(coronet::detail::pubsub_glob_match(r.pattern, r.channel) == r.matches);
  }
}

}  // namespace server_pubsub_test
