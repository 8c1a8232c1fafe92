// HTTP routes over real sockets: matching (404, 405 with Allow, parameters,
// the most specific pattern), what a handler sees (query, headers, body) and
// answers (status, headers, HEAD, 204), plain and coroutine handlers, a
// handler that throws or times out, routes beside a router's commands, and
// authentication per request (Basic, Bearer, 401, on one shared connection,
// with curl), that a request that authenticates allocates nothing in
// steady state, and streamed responses (chunked, Server-Sent Events, HTTP/1.0,
// HEAD, failures, the peer leaving, the drain, a peer that reads nothing).
#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "coronet/net/timer.hpp"
#include "coronet/server/http_routes.hpp"
#include "coronet/server/server.hpp"
#include "support/alloc_round_trips.hpp"
#include "support/blocking_peer.hpp"
#include "support/counting_new.hpp"
#include "support/running_server.hpp"
#include "support/server_thread.hpp"
#include "support/test_commands.hpp"

using namespace std::chrono_literals;
using coronet::http_request;
using coronet::http_response;

namespace {

// A head and body as a test reads them.
struct reply_seen {
  int status = 0;
  std::string head;  // every header line, each ending "\r\n"
  std::string body;

  bool has(std::string_view header_line) const {
    return head.find(std::string(header_line) + "\r\n") != std::string::npos;
  }
};

class http_peer : public coronet_test::blocking_peer {
public:
  using blocking_peer::blocking_peer;

  // Sends `raw`, reads one response (no body for HEAD or 204).
  reply_seen ask(std::string_view raw, bool no_body = false) {
    send(raw);
    reply_seen r;
    r.head = until("\r\n\r\n");
    REQUIRE(r.head.starts_with("HTTP/1.1 "));
    r.status = std::stoi(r.head.substr(9, 3));
    const std::size_t at = r.head.find("\r\nContent-Length: ");
    if (!no_body && at != std::string::npos)
      r.body = exactly(std::stoul(r.head.substr(at + 18)));
    return r;
  }
};

std::string request(std::string_view method, std::string_view target, std::string_view extra = "",
                    std::string_view body = "") {
  std::string r(method);
  r += ' ';
  r += target;
  r += " HTTP/1.1\r\nHost: t\r\n";
  r += extra;
  if (!body.empty() || method == "PUT" || method == "POST")
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  r += "\r\n";
  r += body;
  return r;
}

coronet::http_routes test_routes() {
  coronet::http_routes routes;
  routes.add("GET", "/items/{name}",
             [](http_request& req) { return http_response::text(200, "item " + std::string(req.param("name"))); });
  routes.add("GET", "/items/special", [](http_request&) { return http_response::text(200, "special"); });
  routes.add("DELETE", "/items/{name}", [](http_request&) { return http_response::text(204, "ignored"); });
  routes.add("PUT", "/items/{name}", [](http_request& req) {
    return http_response::json(201, "{\"stored\":\"" + std::string(req.body) + "\"}")
        .with_header("Location", "/items/" + std::string(req.param("name")));
  });
  routes.add("GET", "/files/{path...}",
             [](http_request& req) { return http_response::text(200, "[" + std::string(req.param("path")) + "]"); });
  routes.add("GET", "/query", [](http_request& req) {
    std::string out;
    for (const coronet::http_field& f : req.query)
      out += std::string(f.name) + "=" + std::string(f.value) + ";";
    out += req.query_value("missing") ? "missing?" : "";
    return http_response::text(200, out);
  });
  routes.add("GET", "/echo-header", [](http_request& req) {
    return http_response::text(200, std::string(req.header("x-thing").value_or("none")) + " " + std::string(req.path));
  });
  routes.add("GET", "/slow", [](http_request&) -> coronet::task<http_response> {
    co_await coronet::sleep_for(5ms);
    co_return http_response::text(200, "slept");
  });
  routes.add("GET", "/forever", [](http_request&) -> coronet::task<http_response> {
    co_await coronet::sleep_for(60s);
    co_return http_response::text(200, "never");
  });
  routes.add("GET", "/throws", [](http_request&) -> http_response { throw std::runtime_error("boom"); });
  routes.add("GET", "/throws-later", [](http_request&) -> coronet::task<http_response> {
    co_await coronet::sleep_for(1ms);
    throw std::runtime_error("boom later");
  });
  routes.add("GET", "/bad-header", [](http_request&) {
    return http_response::text(200, "x").with_header("X-Split", "a\r\nSet-Cookie: evil=1");
  });
  return routes;
}

// A server of routes alone, running on another thread.
struct routes_server {
  explicit routes_server(coronet::server_options o = coronet_test::quick_stop_options(coronet::wire_protocol::http))
      : routes(test_routes()), srv(routes, std::move(o)), thread(srv) {}
  coronet::http_routes routes;
  coronet::server srv;
  coronet_test::server_thread<coronet::server> thread;
};

coronet::server_options with_password(std::string password) {
  coronet::server_options o = coronet_test::quick_stop_options(coronet::wire_protocol::http);
  o.password = std::move(password);
  return o;
}

}  // namespace

TEST_CASE("http routes: registration refuses bad patterns, methods and duplicates", "[http][routes]") {
  coronet::http_routes r;
  auto ok = [](http_request&) {
    return http_response{};
  };
  r.add("GET", "/a/{x}", ok);
  CHECK_THROWS_AS(r.add("GET", "/a/{y}", ok), std::invalid_argument);  // the same paths
  CHECK_NOTHROW(r.add("POST", "/a/{x}", ok));
  CHECK_NOTHROW(r.add("GET", "/a/b", ok));
  CHECK_NOTHROW(r.add("GET", "/", ok));
  for (std::string_view bad :
       {"", "a", "/a//b", "/a/", "/{}", "/{x", "/a{x}", "/{x...}/b", "/{x}/{x}", "/{a-b}", "/a?q", "/a%20b"})
    CHECK_THROWS_AS(r.add("GET", bad, ok), std::invalid_argument);
  CHECK_THROWS_AS(r.add("get", "/c", ok), std::invalid_argument);
  CHECK_THROWS_AS(r.add("", "/c", ok), std::invalid_argument);
  CHECK_THROWS_AS(r.add("GET", "/c", coronet::plain_http_handler{}), std::invalid_argument);
  CHECK(r.routes().size() == 4);
}

TEST_CASE("http routes: 404, 405 with Allow, parameters, the most specific pattern, HEAD", "[http][routes]") {
  routes_server s;
  http_peer p(s.srv.port());
  reply_seen r = p.ask(request("GET", "/nothing/here"));
  CHECK(r.status == 404);
  CHECK(r.body == R"({"error":"ERR not found"})");
  r = p.ask(request("POST", "/items/a"));
  CHECK(r.status == 405);
  CHECK(r.has("Allow: GET, HEAD, DELETE, PUT"));
  r = p.ask(request("GET", "/items/a%20b"));
  CHECK(r.body == "item a b");
  CHECK(r.has("Content-Type: text/plain; charset=utf-8"));
  CHECK(p.ask(request("GET", "/items/special")).body == "special");
  // A `{name}` takes one non-empty segment: none of these is an item.
  CHECK(p.ask(request("GET", "/items/")).status == 404);
  CHECK(p.ask(request("GET", "/items/a/b")).status == 404);
  CHECK(p.ask(request("GET", "/files/a/b%2Fc")).body == "[a/b/c]");
  CHECK(p.ask(request("GET", "/files/")).body == "[]");
  r = p.ask(request("HEAD", "/items/x"), true);
  CHECK(r.status == 200);
  CHECK(r.has("Content-Length: 6"));
  r = p.ask(request("DELETE", "/items/x"), true);
  CHECK(r.status == 204);
  CHECK(r.head.find("Content-Length") == std::string::npos);
  // The built-in endpoints are there too, and a path it knows with another method is 405.
  CHECK(p.ask(request("GET", "/healthz")).body == "ok\n");
  r = p.ask(request("DELETE", "/healthz"));
  CHECK(r.status == 405);
  CHECK(r.has("Allow: GET, HEAD"));
  // No router: the command mapping is not mounted.
  CHECK(p.ask(request("GET", "/ping")).status == 404);
  CHECK(p.ask(request("GET", "/items/x%zz")).status == 400);
}

TEST_CASE("http routes: what a handler sees and answers", "[http][routes]") {
  routes_server s;
  http_peer p(s.srv.port());
  reply_seen r = p.ask(request("GET", "/query?a=1&b=x+y%26z&&flag&a=2"));
  CHECK(r.body == "a=1;b=x y&z;flag=;a=2;");
  CHECK(p.ask(request("GET", "/query?bad=%G1")).status == 400);
  r = p.ask(request("GET", "/echo-header", "X-Thing:   value  \r\n"));
  CHECK(r.body == "value /echo-header");
  CHECK(p.ask(request("GET", "/echo-header")).body == "none /echo-header");
  r = p.ask(request("PUT", "/items/k", "Content-Type: text/plain\r\n", "v1"));
  CHECK(r.status == 201);
  CHECK(r.body == R"({"stored":"v1"})");
  CHECK(r.has("Content-Type: application/json"));
  CHECK(r.has("Location: /items/k"));
  // A chunked body arrives decoded.
  r = p.ask("PUT /items/c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n");
  CHECK(r.body == R"({"stored":"abc"})");
  CHECK(p.ask(request("GET", "/slow")).body == "slept");
}

TEST_CASE("http routes: a handler that throws or sends a bad header is 500, the connection goes on", "[http][routes]") {
  coronet::server_options o = coronet_test::quick_stop_options(coronet::wire_protocol::http);
  o.request_timeout = 100ms;
  routes_server s(o);
  http_peer p(s.srv.port());
  reply_seen r = p.ask(request("GET", "/throws"));
  CHECK(r.status == 500);
  CHECK(r.body == R"({"error":"ERR internal error"})");
  CHECK(p.ask(request("GET", "/throws-later")).status == 500);
  r = p.ask(request("GET", "/bad-header"));
  CHECK(r.status == 500);
  CHECK(r.head.find("evil") == std::string::npos);
  r = p.ask(request("GET", "/forever"));
  CHECK(r.status == 504);
  CHECK(r.body == R"({"error":"ERR timeout"})");
  CHECK(p.ask(request("GET", "/items/still")).body == "item still");
  CHECK(s.srv.stats().errors >= 4);
}

TEST_CASE("http routes: beside a router, routes come first, then the commands; /auth/<password> is 404",
          "[http][routes]") {
  coronet::router commands = coronet_test::make_test_router();
  coronet::http_routes routes = test_routes();
  coronet::server_options o = coronet_test::quick_stop_options(coronet::wire_protocol::http);
  o.password = "pw";
  coronet::server srv(commands, routes, o);
  coronet_test::server_thread<coronet::server> thread(srv);
  http_peer p(srv.port());
  const std::string auth = "Authorization: Bearer pw\r\n";
  CHECK(p.ask(request("GET", "/items/x", auth)).body == "item x");
  CHECK(p.ask(request("GET", "/ping", auth)).body == R"({"ping":"PONG"})");
  CHECK(p.ask(request("GET", "/auth/pw", auth)).status == 404);
  CHECK(p.ask(request("GET", "/AUTH/pw")).status == 401);
  CHECK(p.ask(request("GET", "/ping")).status == 401);
}

TEST_CASE("http routes: with a password every request but /healthz authenticates, each on its own",
          "[http][routes][auth]") {
  routes_server s(with_password("s3cret"));
  http_peer p(s.srv.port());
  // "default:s3cret" and "default:wrong", "other:s3cret" in base64.
  const std::string basic = "Authorization: Basic ZGVmYXVsdDpzM2NyZXQ=\r\n";
  const std::string wrong = "Authorization: Basic ZGVmYXVsdDp3cm9uZw==\r\n";
  const std::string other_user = "Authorization: Basic b3RoZXI6czNjcmV0\r\n";
  reply_seen r = p.ask(request("GET", "/items/a"));
  CHECK(r.status == 401);
  CHECK(r.has("WWW-Authenticate: Basic realm=\"coronet\""));
  for (const char* page : {"/", "/stats.json", "/metrics", "/events", "/nothing"})
    CHECK(p.ask(request("GET", page)).status == 401);
  CHECK(p.ask(request("GET", "/healthz")).status == 200);
  CHECK(p.ask(request("GET", "/items/a", basic)).body == "item a");
  // The same connection, the next request without credentials: refused (a
  // proxy's shared connection carries other clients' requests).
  CHECK(p.ask(request("GET", "/items/a")).status == 401);
  CHECK(p.ask(request("GET", "/items/b", "Authorization: Bearer s3cret\r\n")).body == "item b");
  CHECK(p.ask(request("GET", "/", basic)).status == 200);
  CHECK(p.ask(request("GET", "/metrics", basic)).status == 200);
  CHECK(p.ask(request("GET", "/items/a", other_user)).status == 401);
  CHECK(p.ask(request("GET", "/items/a", "Authorization: Bearer s3cre\r\n")).status == 401);
  // The third wrong password of the connection is its last (auth_throttle's budget).
  r = p.ask(request("GET", "/items/a", wrong));
  CHECK(r.status == 401);
  CHECK(r.has("Connection: close"));
  CHECK(p.closed());
  http_peer again(s.srv.port());
  CHECK(again.ask(request("GET", "/items/c", basic)).body == "item c");
}

TEST_CASE("http routes: curl -u default:PASSWORD reads the status page", "[http][routes][auth][curl]") {
  if (std::system("curl --version >/dev/null 2>&1") != 0) {
    WARN("curl is not installed (scripts/setup installs it): skipped");
    return;
  }
  routes_server s(with_password("pw"));
  const std::string url = "http://127.0.0.1:" + std::to_string(s.srv.port());
  auto status_of = [&](const std::string& args) {
    const std::string cmd = "curl -s -o /dev/null -w '%{http_code}' --max-time 5 " + args;
    std::FILE* f = ::popen(cmd.c_str(), "r");
    REQUIRE(f != nullptr);
    char buf[16] = {};
    const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    ::pclose(f);
    return std::string(buf, n);
  };
  CHECK(status_of("-u default:pw " + url + "/") == "200");
  CHECK(status_of("-u default:pw " + url + "/items/x") == "200");
  CHECK(status_of(url + "/") == "401");
  CHECK(status_of("-u default:nope " + url + "/") == "401");
  CHECK(status_of(url + "/healthz") == "200");
}

TEST_CASE("http routes: an address over its authentication budget gets 429 and is closed", "[http][routes][auth]") {
  coronet::server_options o = with_password("pw");
  o.auth_throttle.max_failures_per_connection = 0;
  o.auth_throttle.failures_before_delay = 1;
  o.auth_throttle.first_delay = 2s;
  o.auth_throttle.max_delay = 2s;
  o.auth_throttle.max_wait = 50ms;
  routes_server s(o);
  http_peer p(s.srv.port());
  const std::string wrong = "Authorization: Bearer nope\r\n";
  CHECK(p.ask(request("GET", "/items/a", wrong)).status == 401);
  CHECK(p.ask(request("GET", "/items/a", wrong)).status == 401);
  // The next turn of this address is 2 s away, past max_wait: refused unchecked.
  const reply_seen r = p.ask(request("GET", "/items/a", "Authorization: Bearer pw\r\n"));
  CHECK(r.status == 429);
  CHECK(r.has("Connection: close"));
  CHECK(p.closed());
  // /healthz needs no credentials, so no turn.
  http_peer q(s.srv.port());
  CHECK(q.ask(request("GET", "/healthz")).status == 200);
}

TEST_CASE("http routes: steady-state authenticated command requests allocate nothing in the server",
          "[http][routes][auth][alloc]") {
  coronet_test::running_server s(with_password("pw"), coronet_test::builtins());
  const std::string ping = request("GET", "/ping", "Authorization: Basic ZGVmYXVsdDpwdw==\r\nAccept: */*\r\n");
  http_peer first(s.port());
  const reply_seen r = first.ask(ping);
  REQUIRE(r.status == 200);
  std::string reply(r.head.size() + r.body.size(), '\0');
  asio::io_context ctx;
  asio::ip::tcp::socket sock(ctx);
  coronet_test::connect_no_delay(sock, s.port());
  CHECK(coronet_test::count_round_trip_allocations(sock, ping, reply, 200, 2000) == 0);
  CHECK(reply.ends_with("\r\n\r\n{\"ping\":\"PONG\"}"));
}

// ---- Streaming routes (http_routes::stream) ----
namespace {

// What a streaming handler saw, for a test to wait on: set once, from the server's thread.
struct seen_flag {
  std::mutex m;
  std::condition_variable cv;
  bool set = false;
  void raise() {
    std::lock_guard lock(m);
    set = true;
    cv.notify_all();
  }
  bool wait(std::chrono::milliseconds limit) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, limit, [&] { return set; });
  }
};

using coronet::http_stream;

coronet::http_routes stream_routes(std::shared_ptr<seen_flag> ended) {
  coronet::http_routes routes;
  routes.stream("GET", "/count/{n}", [](http_request& req, http_stream& s) -> coronet::task<void> {
    const int n = std::stoi(std::string(req.param("n")));
    for (int i = 0; i < n; ++i)
      if (!co_await s.write("part " + std::to_string(i) + "\n"))
        co_return;
  });
  routes.stream("GET", "/sse", [](http_request&, http_stream& s) -> coronet::task<void> {
    co_await s.send_event("line1\nline2\r\nline3", "tick", "7");
    co_await s.send_event("x");
  });
  routes.stream("GET", "/status", [](http_request&, http_stream& s) -> coronet::task<void> {
    s.head().status = 201;
    s.head().content_type = "application/x-ndjson";
    s.head().with_header("X-A", "b");
    co_await s.write("{}\n");
  });
  routes.stream("GET", "/empty", [](http_request&, http_stream&) -> coronet::task<void> { co_return; });
  routes.stream("GET", "/throws-before", [](http_request&, http_stream&) -> coronet::task<void> {
    co_await coronet::sleep_for(1ms);
    throw std::runtime_error("stream boom");
  });
  routes.stream("GET", "/throws-after", [](http_request&, http_stream& s) -> coronet::task<void> {
    co_await s.write("a");
    throw std::runtime_error("stream boom later");
  });
  routes.stream("GET", "/bad-head", [](http_request&, http_stream& s) -> coronet::task<void> {
    s.head().with_header("X-Split", "a\r\nSet-Cookie: evil=1");
    const bool went = co_await s.write("never");
    co_await s.write(went ? "went" : "refused");
  });
  routes.stream("GET", "/bad-event", [](http_request&, http_stream& s) -> coronet::task<void> {
    co_await s.send_event("data", "two\nlines");
  });
  // Writes, waits while the peer may send its next request, writes again.
  routes.stream("GET", "/pause", [](http_request&, http_stream& s) -> coronet::task<void> {
    co_await s.write("first");
    co_await s.wait_for(100ms);
    co_await s.write("second");
  });
  // Waits until the stream closes (the peer left, the server drains), then says so.
  routes.stream("GET", "/until-gone", [ended](http_request&, http_stream& s) -> coronet::task<void> {
    co_await s.write("waiting");
    while (co_await s.wait_for(10ms)) {
    }
    ended->raise();
  });
  // Writes as fast as the peer takes it, until it cannot.
  routes.stream("GET", "/flood", [ended](http_request&, http_stream& s) -> coronet::task<void> {
    const std::string block(64 * 1024, 'f');
    while (co_await s.write(block)) {
    }
    ended->raise();
  });
  routes.add("GET", "/after", [](http_request&) { return http_response::text(200, "after"); });
  return routes;
}

struct stream_server {
  explicit stream_server(coronet::server_options o = coronet_test::quick_stop_options(coronet::wire_protocol::http))
      : routes(stream_routes(ended)), srv(routes, std::move(o)), thread(srv) {}
  std::shared_ptr<seen_flag> ended = std::make_shared<seen_flag>();
  coronet::http_routes routes;
  coronet::server srv;
  coronet_test::server_thread<coronet::server> thread;
};

// Reads a chunked body to its last chunk; the chunks' data, concatenated.
std::string read_chunked(http_peer& p) {
  std::string body;
  for (;;) {
    const std::size_t n = std::stoul(p.line(), nullptr, 16);
    if (n == 0) {
      REQUIRE(p.line().empty());
      return body;
    }
    body += p.exactly(n);
    REQUIRE(p.line().empty());
  }
}

}  // namespace

TEST_CASE("http streams: a chunked body written in parts, then the next request on the connection",
          "[http][routes][stream]") {
  stream_server s;
  http_peer p(s.srv.port());
  reply_seen r = p.ask(request("GET", "/count/3"));
  CHECK(r.status == 200);
  CHECK(r.has("Transfer-Encoding: chunked"));
  CHECK(r.head.find("Content-Length") == std::string::npos);
  CHECK(read_chunked(p) == "part 0\npart 1\npart 2\n");
  r = p.ask(request("GET", "/status"));
  CHECK(r.status == 201);
  CHECK(r.has("Content-Type: application/x-ndjson"));
  CHECK(r.has("X-A: b"));
  CHECK(read_chunked(p) == "{}\n");
  // A handler that writes nothing: an empty chunked body.
  r = p.ask(request("GET", "/empty"));
  CHECK(r.status == 200);
  CHECK(read_chunked(p).empty());
  // HEAD: the head alone (the handler's first write ends it).
  r = p.ask(request("HEAD", "/count/3"), true);
  CHECK(r.status == 200);
  CHECK(r.has("Transfer-Encoding: chunked"));
  CHECK(p.ask(request("GET", "/after")).body == "after");
}

TEST_CASE("http streams: Server-Sent Events", "[http][routes][stream]") {
  stream_server s;
  http_peer p(s.srv.port());
  reply_seen r = p.ask(request("GET", "/sse"));
  CHECK(r.has("Content-Type: text/event-stream"));
  CHECK(r.has("Cache-Control: no-store"));
  CHECK(read_chunked(p) == "event: tick\nid: 7\ndata: line1\ndata: line2\ndata: line3\n\ndata: x\n\n");
  // An event name with a line break is refused before anything is sent: 500.
  CHECK(p.ask(request("GET", "/bad-event")).status == 500);
  CHECK(p.ask(request("GET", "/after")).body == "after");
}

TEST_CASE("http streams: an HTTP/1.0 peer gets a body that ends with the connection", "[http][routes][stream]") {
  stream_server s;
  http_peer p(s.srv.port());
  p.send("GET /count/2 HTTP/1.0\r\n\r\n");
  const std::string all = p.until_closed();
  const std::size_t end = all.find("\r\n\r\n");
  REQUIRE(end != std::string::npos);
  const std::string head = all.substr(0, end + 2);
  CHECK(head.starts_with("HTTP/1.1 200 "));
  CHECK(head.find("Connection: close\r\n") != std::string::npos);
  CHECK(head.find("Transfer-Encoding") == std::string::npos);
  CHECK(all.substr(end + 4) == "part 0\npart 1\n");
}

TEST_CASE("http streams: a handler that throws, or sets a bad head", "[http][routes][stream]") {
  stream_server s;
  http_peer p(s.srv.port());
  // Before the head went out: 500, and the connection goes on.
  reply_seen r = p.ask(request("GET", "/throws-before"));
  CHECK(r.status == 500);
  r = p.ask(request("GET", "/bad-head"));
  CHECK(r.status == 500);
  CHECK(r.head.find("evil") == std::string::npos);
  CHECK(p.ask(request("GET", "/after")).body == "after");
  // After: the body is cut short (no last chunk) and the connection closes.
  r = p.ask(request("GET", "/throws-after"));
  CHECK(r.status == 200);
  CHECK(p.until_closed() == "1\r\na\r\n");
}

TEST_CASE("http streams: a request sent while a response streams is served after it", "[http][routes][stream]") {
  stream_server s;
  http_peer p(s.srv.port());
  reply_seen r = p.ask(request("GET", "/pause"));
  CHECK(r.status == 200);
  CHECK(p.line() == "5");
  CHECK(p.line() == "first");
  p.send(request("GET", "/after"));
  CHECK(read_chunked(p) == "second");
  r = p.ask("");
  CHECK(r.body == "after");
}

TEST_CASE("http streams: the handler sees the stream close when the peer leaves and when the server drains",
          "[http][routes][stream]") {
  SECTION("the peer closes") {
    stream_server s;
    http_peer p(s.srv.port());
    CHECK(p.ask(request("GET", "/until-gone")).status == 200);
    CHECK(p.line() == "7");
    p.close();
    CHECK(s.ended->wait(5s));
  }
  SECTION("the server drains: the body ends with its last chunk, then the connection closes") {
    stream_server s;
    http_peer p(s.srv.port());
    CHECK(p.ask(request("GET", "/until-gone")).status == 200);
    CHECK(p.line() == "7");
    CHECK(p.line() == "waiting");
    s.thread.stop_within(5s);
    CHECK(s.ended->wait(5s));
    CHECK(p.until_closed() == "0\r\n\r\n");
  }
}

TEST_CASE("http streams: a peer that reads nothing holds the writer, then is closed by the output stall timeout",
          "[http][routes][stream]") {
  coronet::server_options o = coronet_test::quick_stop_options(coronet::wire_protocol::http);
  o.max_output_bytes = 256 * 1024;
  o.output_stall_timeout = 200ms;
  stream_server s(o);
  http_peer p(s.srv.port());
  p.send(request("GET", "/flood"));
  CHECK(s.ended->wait(10s));
  CHECK(p.closed_by_server());
}
