// Per-connection user state and close hooks (coronet::connection): a command keeps state for
// its connection and cleans it up in a close hook, which runs once, on the connection's
// thread, when the peer closes, when the server stops (drain, or a forced close of a handler
// still running), and over HTTP as over RESP. No test sleeps: each waits on the hook with a
// deadline.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "coronet/command/connection.hpp"
#include "coronet/core/log.hpp"
#include "coronet/server/server.hpp"
#include "support/blocking_peer.hpp"
#include "support/running_server.hpp"
#include "support/test_commands.hpp"

namespace robustness_connection_state_fault_test {

using namespace std::chrono_literals;

namespace {

// What the close hooks saw, shared with the test thread.
struct recorder {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> closes;  // one entry per hook run: the values the connection kept
  std::vector<std::thread::id> hook_threads;
  std::thread::id handler_thread;
  bool hanging = false;  // `hang` has started

  void add(std::string entry) {
    {
      std::lock_guard lock(mutex);
      closes.push_back(std::move(entry));
      hook_threads.push_back(std::this_thread::get_id());
    }
    changed.notify_all();
  }
  // Waits up to 10 s for `n` hook runs; true if they came.
  bool wait_for(std::size_t n) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 10s, [&] { return closes.size() >= n; });
  }
  std::vector<std::string> snapshot() {
    std::lock_guard lock(mutex);
    return closes;
  }
  void started_hanging() {
    {
      std::lock_guard lock(mutex);
      hanging = true;
    }
    changed.notify_all();
  }
  // Waits up to 10 s for `hang` to start; true if it did.
  bool wait_hanging() {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 10s, [&] { return hanging; });
  }
};

// What `remember` keeps for its connection.
struct remembered {
  std::vector<std::string> values;
};

// The values kept, joined by commas.
std::string joined(const remembered* kept) {
  std::string out;
  if (kept != nullptr)
    for (const std::string& v : kept->values)
      out += (out.empty() ? "" : ",") + v;
  return out;
}

// `remember x`: keeps x for the connection; the first call adds the hook that reports them.
// `recall`: the values kept so far, joined by commas. `hang`: remembers "hang", then waits
// 60 s (a server stop cancels it).
coronet::router make_router(recorder& rec) {
  coronet::router r = coronet_test::make_test_router();
  const auto keep = [&rec](coronet::connection& conn, std::string_view value) {
    if (conn.find_state<remembered>() == nullptr)
      conn.on_close([&rec](coronet::connection& c) { rec.add(joined(c.find_state<remembered>())); });
    conn.state<remembered>().values.emplace_back(value);
    std::lock_guard lock(rec.mutex);
    rec.handler_thread = std::this_thread::get_id();
  };
  r.add(
      "remember", "keeps its argument for the connection",
      [keep](coronet::request& req) {
        keep(*req.conn, req.arg(0));
        return coronet::reply::text("OK");
      },
      coronet::arity::exactly(1));
  r.add(
      "recall", "the values kept",
      [](coronet::request& req) { return coronet::reply::bulk(joined(req.conn->find_state<remembered>())); },
      coronet::arity::exactly(0));
  r.add(
      "hang", "keeps 'hang', then waits 60 s",
      [keep, &rec](coronet::request& req) -> coronet::task<coronet::reply> {
        keep(*req.conn, "hang");
        rec.started_hanging();
        co_await coronet::sleep_for(60s);
        co_return coronet::reply::text("WOKE");
      },
      coronet::arity::exactly(0));
  return r;
}

// A server of make_router()'s commands, and what their hooks saw.
struct state_server {
  explicit state_server(coronet::wire_protocol p = coronet::server_options{}.protocol)
      : server(coronet_test::quick_stop_options(p), make_router(rec)) {}
  std::uint16_t port() const { return server.port(); }
  recorder rec;
  coronet_test::running_server server;
};

}  // namespace

TEST_CASE("a command's per-connection state lasts across requests and its close hook runs when the peer closes",
          "[connection][fault]") {
  state_server s;
  recorder& rec = s.rec;
  {
    coronet_test::blocking_peer a(s.port());
    coronet_test::blocking_peer b(s.port());
    CHECK(a.call("remember one") == "+OK");
    CHECK(a.call("remember two") == "+OK");
    CHECK(b.call("remember other") == "+OK");
    a.send("recall\r\n");
    CHECK(a.bulk() == "one,two");
    b.send("recall\r\n");
    CHECK(b.bulk() == "other");
    a.close();
    REQUIRE(rec.wait_for(1));
    CHECK(rec.snapshot() == std::vector<std::string>{"one,two"});
    b.shutdown_send();  // end of stream: the session ends once its replies are out
    REQUIRE(rec.wait_for(2));
  }
  CHECK(rec.snapshot() == std::vector<std::string>{"one,two", "other"});
  std::lock_guard lock(rec.mutex);
  for (const std::thread::id t : rec.hook_threads)
    CHECK(t == rec.handler_thread);  // the connection's thread
  CHECK(rec.handler_thread != std::this_thread::get_id());
}

TEST_CASE("close hooks run when the server stops, idle connections and a handler still running alike",
          "[connection][fault]") {
  state_server s;
  coronet_test::blocking_peer idle(s.port());
  coronet_test::blocking_peer busy(s.port());
  CHECK(idle.call("remember idle") == "+OK");
  busy.send("hang\r\n");
  REQUIRE(s.rec.wait_hanging());
  CHECK(s.server.stop_within(10s) == 0);
  REQUIRE(s.rec.wait_for(2));
  std::vector<std::string> seen = s.rec.snapshot();
  std::sort(seen.begin(), seen.end());
  CHECK(seen == std::vector<std::string>{"hang", "idle"});
  // Run by the sessions as they ended on the worker, not when the server was destroyed.
  std::lock_guard lock(s.rec.mutex);
  for (const std::thread::id t : s.rec.hook_threads)
    CHECK(t == s.rec.handler_thread);
}

TEST_CASE("close hooks run in order, once; one that throws is logged and the next still run", "[connection][fault]") {
  std::vector<std::string> logged;
  std::mutex log_mutex;
  coronet::set_log_handler([&](coronet::log_level, std::string_view line) {
    std::lock_guard lock(log_mutex);
    logged.emplace_back(line);
  });
  std::vector<int> ran;
  {
    coronet::connection conn;
    conn.on_close([&](coronet::connection&) { ran.push_back(1); });
    conn.on_close([&](coronet::connection&) {
      ran.push_back(2);
      throw std::runtime_error("hook failed");
    });
    conn.on_close([&](coronet::connection& c) {
      ran.push_back(3);
      c.on_close([&](coronet::connection&) { ran.push_back(4); });  // added while they run: runs too
    });
    conn.run_close_hooks();
    CHECK(ran == std::vector<int>{1, 2, 3, 4});
    conn.run_close_hooks();  // nothing left to run
  }
  CHECK(ran == std::vector<int>{1, 2, 3, 4});  // nor at destruction
  coronet::set_log_handler(nullptr);
  std::lock_guard lock(log_mutex);
  REQUIRE(logged.size() == 1);
  CHECK(logged[0].find("a connection's close hook threw: hook failed") != std::string::npos);
}

TEST_CASE("user state is one value per type: found, made, replaced, erased, destroyed after the hooks",
          "[connection]") {
  struct counter {
    int n = 0;
  };
  bool seen_in_hook = false;
  {
    coronet::connection conn;
    CHECK(conn.find_state<counter>() == nullptr);
    conn.state<counter>().n = 5;
    CHECK(conn.state<counter>().n == 5);
    CHECK(conn.find_state<std::string>() == nullptr);
    conn.set_state<std::string>("text");
    CHECK(*conn.find_state<std::string>() == "text");
    conn.set_state<counter>(counter{7});
    CHECK(conn.find_state<counter>()->n == 7);
    conn.erase_state<std::string>();
    CHECK(conn.find_state<std::string>() == nullptr);
    conn.on_close([&](coronet::connection& c) { seen_in_hook = c.find_state<counter>() != nullptr; });
  }
  CHECK(seen_in_hook);
}

TEST_CASE("a connection's client names: empty until set, each kept apart, cleared by an empty one",
          "[connection]") {
  coronet::connection conn;
  conn.set_name("");  // nothing to clear: still empty
  CHECK(conn.name().empty());
  CHECK(conn.lib_name().empty());
  CHECK(conn.lib_version().empty());
  conn.set_name("worker");
  conn.set_lib_name("redis-py");
  conn.set_lib_version("5.0.1");
  CHECK(conn.name() == "worker");
  CHECK(conn.lib_name() == "redis-py");
  CHECK(conn.lib_version() == "5.0.1");
  conn.set_name("");
  CHECK(conn.name().empty());
  CHECK(conn.lib_name() == "redis-py");  // the others stay
  CHECK(conn.lib_version() == "5.0.1");
}

TEST_CASE("an HTTP connection's close hook runs when the keep-alive connection closes", "[connection][fault]") {
  state_server s(coronet::wire_protocol::http);
  recorder& rec = s.rec;
  {
    coronet_test::blocking_peer p(s.port());
    p.send("GET /remember/a HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(p.until("\r\n\r\n").find("200") != std::string::npos);
    p.send("GET /recall HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK(p.until_closed().find("\"a\"") != std::string::npos);
  }
  REQUIRE(rec.wait_for(1));
  CHECK(rec.snapshot() == std::vector<std::string>{"a"});
}

}  // namespace robustness_connection_state_fault_test
