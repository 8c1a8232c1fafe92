// HTTP routes over real sockets: matching (404, 405 with Allow, parameters,
// the most specific pattern), what a handler sees (query, headers, body) and
// answers (status, headers, HEAD, 204), plain and coroutine handlers, a
// handler that throws or times out, routes beside a router's commands, and
// authentication per request (Basic, Bearer, 401, on one shared connection,
// with curl), and that a request that authenticates allocates nothing in
// steady state.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
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
