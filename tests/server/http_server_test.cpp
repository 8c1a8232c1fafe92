// The HTTP/1.1 protocol end to end over loopback: the mapping, status codes,
// keep-alive, pipelining, HEAD, 100-continue, chunked bodies, every limit
// with its status code, the deadlines, /healthz while draining, and the
// request-smuggling shapes (tag [smuggling]), each refused and closed.
#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "coronet/server/server.hpp"
#include "support/blocking_peer.hpp"
#include "support/eventually.hpp"
#include "support/running_server.hpp"
#include "support/server_router.hpp"

namespace server_http_server_test {

using namespace std::chrono_literals;
using namespace std::string_literals;
using steady = std::chrono::steady_clock;

namespace {

coronet::server_options http_options() { return coronet_test::test_server_options(coronet::wire_protocol::http); }

// The shared running server, with this file's router.
struct running_server : coronet_test::running_server {
  explicit running_server(coronet::server_options o = http_options())
      : coronet_test::running_server(std::move(o), coronet_test::make_server_router()) {}
};

struct response {
  int status = 0;
  std::string status_line;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The value of header `name` (case-insensitive), or nullopt.
  std::optional<std::string> header(std::string_view name) const {
    for (const auto& [k, v] : headers)
      if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
          }))
        return v;
    return std::nullopt;
  }
};

// A blocking HTTP client whose reads give up after 5 s.
class peer : public coronet_test::blocking_peer {
public:
  using blocking_peer::blocking_peer;

  // One response; a HEAD response has no body whatever its Content-Length.
  response read(bool head = false) {
    response r;
    r.status_line = line();
    REQUIRE(r.status_line.starts_with("HTTP/1.1 "));
    r.status = std::stoi(r.status_line.substr(9, 3));
    for (std::string l = line(); !l.empty(); l = line()) {
      const auto colon = l.find(':');
      REQUIRE(colon != std::string::npos);
      std::string value = l.substr(colon + 1);
      while (!value.empty() && value.front() == ' ')
        value.erase(0, 1);
      r.headers.emplace_back(l.substr(0, colon), value);
    }
    if (!head && r.status >= 200) {
      const auto length = r.header("Content-Length");
      REQUIRE(length);
      r.body = exactly(std::stoul(*length));
    }
    return r;
  }

  response request(std::string_view raw, bool head = false) {
    send(raw);
    return read(head);
  }
};

std::string get(std::string_view target, std::string_view extra = "") {
  std::string r = "GET ";
  r += target;
  r += " HTTP/1.1\r\nHost: test\r\n";
  r += extra;
  r += "\r\n";
  return r;
}

std::string post(std::string_view target, std::string_view body, std::string_view extra = "") {
  std::string r = "POST ";
  r += target;
  r += " HTTP/1.1\r\nHost: test\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  r += extra;
  r += "\r\n";
  r += body;
  return r;
}

using coronet_test::eventually;

}  // namespace

TEST_CASE("http: GET maps the path to a command; JSON replies with Date, Server, Content-Length", "[http]") {
  running_server s;
  peer p(s.port());
  response r = p.request(get("/ping"));
  CHECK(r.status == 200);
  CHECK(r.status_line == "HTTP/1.1 200 OK");
  CHECK(r.body == R"({"ping":"PONG"})");
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(r.header("Server") == "coronet");
  REQUIRE(r.header("Date"));
  CHECK(r.header("Date")->ends_with(" GMT"));
  CHECK(!r.header("Connection"));
  // Percent-decoded arguments, binary-safe.
  r = p.request(get("/echo/a%20b%2F%22%00"));
  CHECK(r.body == R"({"echo":"a b/\"\u0000"})");
  r = p.request(get("/args/x/y/z"));
  CHECK(r.body == R"({"args":["x","y","z"]})");
  CHECK(p.request(get("/nil")).body == R"({"nil":null})");
  CHECK(p.request(get("/num")).body == R"({"num":42})");
}

TEST_CASE("http: text/plain on Accept or a .txt suffix", "[http]") {
  running_server s;
  peer p(s.port());
  response r = p.request(get("/echo/hi.txt"));
  CHECK(r.status == 200);
  CHECK(r.header("Content-Type") == "text/plain; charset=utf-8");
  CHECK(r.body == "hi");
  r = p.request(get("/ping", "Accept: text/plain\r\n"));
  CHECK(r.body == "PONG");
  r = p.request(get("/ping", "Accept: text/plain, application/json\r\n"));
  CHECK(r.body == R"({"ping":"PONG"})");
  r = p.request(get("/nope.txt"));
  CHECK(r.status == 404);
  CHECK(r.body.starts_with("ERR unknown command 'nope'"));
}

TEST_CASE("http: status codes for unknown command, arity, handler error, timeout, method", "[http]") {
  auto o = http_options();
  o.request_timeout = 200ms;
  running_server s(o);
  peer p(s.port());
  response r = p.request(get("/nope/x"));
  CHECK(r.status == 404);
  CHECK(r.body == R"({"error":"ERR unknown command 'nope', with args beginning with: 'x' "})");
  r = p.request(get("/echo"));
  CHECK(r.status == 400);
  CHECK(r.body == R"({"error":"ERR wrong number of arguments for 'echo' command"})");
  r = p.request(get("/fail"));
  CHECK(r.status == 500);
  CHECK(r.body == R"({"error":"ERR internal error"})");
  r = p.request(get("/bad"));
  CHECK(r.status == 500);
  CHECK(r.body == R"({"error":"ERR no such thing"})");
  r = p.request(get("/sleep/5000"));
  CHECK(r.status == 504);
  CHECK(r.body == R"({"error":"ERR timeout"})");
  r = p.request("DELETE /ping HTTP/1.1\r\nHost: t\r\n\r\n");
  CHECK(r.status == 405);
  CHECK(r.header("Allow") == "GET, HEAD, POST");
  r = p.request("POST /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
  CHECK(r.status == 405);
  CHECK(r.header("Allow") == "GET, HEAD");
  // Each kept the connection.
  CHECK(p.request(get("/ping")).status == 200);
}

TEST_CASE("http: POST with a binary body or a JSON array of strings", "[http]") {
  running_server s;
  peer p(s.port());
  const std::string binary = "\x00\x01\xff\r\n\r\nPOST / HTTP/1.1\r\n"s;
  response r = p.request(post("/echo.txt", binary, "Content-Type: application/octet-stream\r\n"));
  CHECK(r.status == 200);
  CHECK(r.body == binary);
  r = p.request(post("/args/a", R"(["b", "c\n", "\u00e9"])", "Content-Type: application/json\r\n"));
  CHECK(r.body == "{\"args\":[\"a\",\"b\",\"c\\n\",\"\xc3\xa9\"]}");
  r = p.request(post("/args", R"(["b", 1])", "Content-Type: application/json\r\n"));
  CHECK(r.status == 400);
  CHECK(r.body == R"({"error":"ERR the body is not a JSON array of strings"})");
  // An empty body adds no argument.
  r = p.request(post("/ping", ""));
  CHECK(r.body == R"({"ping":"PONG"})");
  // A chunked body.
  r = p.request(
      "POST /echo.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  CHECK(r.status == 200);
  CHECK(r.body == "hello world");
}

TEST_CASE("http: keep-alive, Connection: close, HTTP/1.0 with and without keep-alive", "[http]") {
  running_server s;
  {
    peer p(s.port());
    CHECK(p.request(get("/ping")).status == 200);
    CHECK(p.request(get("/ping")).status == 200);
    response r = p.request(get("/ping", "Connection: close\r\n"));
    CHECK(r.header("Connection") == "close");
    CHECK(p.closed());
  }
  {
    peer p(s.port());
    response r = p.request("GET /ping HTTP/1.0\r\n\r\n");
    CHECK(r.status == 200);
    CHECK(r.header("Connection") == "close");
    CHECK(p.closed());
  }
  {
    peer p(s.port());
    response r = p.request("GET /ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    CHECK(r.header("Connection") == "keep-alive");
    r = p.request("GET /echo/again HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    CHECK(r.body == R"({"echo":"again"})");
  }
  {
    peer p(s.port());
    response r = p.request(get("/bye"));
    CHECK(r.body == R"({"bye":"OK"})");
    CHECK(p.closed());
  }
}

TEST_CASE("http: pipelined requests are answered in order; HEAD has no body", "[http]") {
  running_server s;
  peer p(s.port());
  p.send(get("/sleep/50") + get("/echo/1") + "HEAD /echo/22 HTTP/1.1\r\nHost: t\r\n\r\n" + post("/echo", "3") +
         get("/echo/4"));
  CHECK(p.read().body == R"({"sleep":"SLEPT"})");
  CHECK(p.read().body == R"({"echo":"1"})");
  response head = p.read(true);
  CHECK(head.status == 200);
  CHECK(head.header("Content-Length") == std::to_string(std::string_view(R"({"echo":"22"})").size()));
  CHECK(p.read().body == R"({"echo":"3"})");
  CHECK(p.read().body == R"({"echo":"4"})");
}

TEST_CASE("http: Expect: 100-continue is answered before the body is sent", "[http]") {
  running_server s;
  peer p(s.port());
  p.send("POST /echo.txt HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  CHECK(p.line() == "HTTP/1.1 100 Continue");
  CHECK(p.line().empty());
  p.send("hello");
  response r = p.read();
  CHECK(r.status == 200);
  CHECK(r.body == "hello");
  // Too large: refused at once, and the body is never read.
  p.send("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 2000000\r\n\r\n");
  r = p.read();
  CHECK(r.status == 413);
  CHECK(r.header("Connection") == "close");
}

TEST_CASE("http: each limit has its status code, then the connection closes", "[http][limits]") {
  running_server s;
  struct row {
    std::string request;
    int status;
  };
  std::string many_fields;
  for (int i = 0; i < 101; ++i)
    many_fields += "X-F" + std::to_string(i) + ": v\r\n";
  const std::vector<row> rows{
      {get("/echo/" + std::string(9000, 'a')), 414},
      {get("/ping", "X-Big: " + std::string(9000, 'b') + "\r\n"), 431},
      {get("/ping", many_fields), 431},
      {post("/echo", std::string(1024 * 1024 + 1, 'c')), 413},
      {"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\n" + std::string(0x100000, 'd') +
           "\r\n1\r\nd\r\n0\r\n\r\n",
       413},
      {"GARBAGE\r\n\r\n", 400},
      {"GET /ping HTTP/1.1\r\nHost: t\r\nNo colon here\r\n\r\n", 400},
      {get("/echo/%zz"), 400},
  };
  for (const auto& [request, status] : rows) {
    INFO(request.substr(0, 60) << " -> " << status);
    peer p(s.port());
    // The server may close before reading all of a large request.
    try {
      p.send(request);
    } catch (const std::system_error&) {
    }
    response r = p.read();
    CHECK(r.status == status);
    CHECK(r.header("Connection") == "close");
    CHECK(r.body.starts_with(R"({"error":"ERR )"));
    CHECK(p.closed());
  }
  // At the limits: served.
  peer p(s.port());
  CHECK(p.request(post("/echo.txt", std::string(1024 * 1024, 'e'))).body.size() == 1024 * 1024);
  CHECK(p.request(get("/echo/" + std::string(8000, 'f'))).status == 200);
}

TEST_CASE("http: the header deadline answers 408 then closes; idle keep-alive connections close", "[http][limits]") {
  auto o = http_options();
  o.http.header_timeout = 200ms;
  o.http.idle_timeout = 400ms;
  running_server s(o);
  {
    // A slowloris peer: headers that never end.
    peer p(s.port());
    const auto start = steady::now();
    p.send("GET /ping HTTP/1.1\r\nHost: t\r\nX-Slow: ");
    response r = p.read();
    CHECK(r.status == 408);
    CHECK(r.header("Connection") == "close");
    CHECK(steady::now() - start >= 200ms);
    CHECK(p.closed());
  }
  {
    // A body that never completes.
    peer p(s.port());
    p.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
    CHECK(p.read().status == 408);
    CHECK(p.closed());
  }
  {
    // Idle after a reply: closed without a reply after idle_timeout.
    peer p(s.port());
    CHECK(p.request(get("/ping")).status == 200);
    const auto start = steady::now();
    CHECK(p.closed());
    CHECK(steady::now() - start >= 400ms);
  }
}

TEST_CASE("http: /healthz is 200 while serving and 503 while draining", "[http]") {
  running_server s;
  peer p(s.port());
  response r = p.request(get("/healthz"));
  CHECK(r.status == 200);
  CHECK(r.body == "ok\n");
  CHECK(r.header("Content-Type") == "text/plain; charset=utf-8");
  CHECK(r.header("Cache-Control") == "no-store");
  // A request in flight when the drain begins; the next one, already
  // pipelined, sees the server draining.
  p.send(get("/sleep/300") + get("/healthz"));
  REQUIRE(eventually([&] { return s.get().stats().requests >= 2; }));
  std::thread stopper([&] { s.stop(); });
  CHECK(p.read().status == 200);
  r = p.read();
  CHECK(r.status == 503);
  CHECK(r.body == "draining\n");
  CHECK(p.closed());
  stopper.join();
}

TEST_CASE("http: the status page, /stats.json and /events", "[http]") {
  running_server s;
  peer p(s.port());
  response r = p.request(get("/"));
  CHECK(r.status == 200);
  CHECK(r.header("Content-Type") == "text/html; charset=utf-8");
  CHECK(r.body.find("<") != std::string::npos);
  r = p.request(get("/stats.json"));
  CHECK(r.status == 200);
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(r.header("Cache-Control") == "no-store");
  CHECK(r.body.starts_with("{"));
  p.send(get("/events"));
  r = p.read(true);
  CHECK(r.status == 200);
  CHECK(r.header("Content-Type") == "text/event-stream");
  CHECK(!r.header("Content-Length"));
  // One event at once, the next a second later.
  const auto start = steady::now();
  for (int i = 0; i < 2; ++i) {
    const std::string event = p.until("\n\n");
    CHECK(event.starts_with("data: {"));
    CHECK(event.find('\n') == event.size() - 2);
  }
  CHECK(steady::now() - start >= 900ms);
}

TEST_CASE("http: a listener beside the command port; over max_connections, 503", "[http]") {
  coronet::server_options o;
  o.port = 0;
  o.threads = 1;
  o.max_connections = 1;
  o.listeners.push_back({"127.0.0.1", 0, coronet::wire_protocol::http});
  running_server s(o);
  REQUIRE(s.get().listener_count() == 2);
  CHECK(s.get().listener(1).protocol == coronet::wire_protocol::http);
  {
    peer p(s.port(1));
    CHECK(p.request(get("/ping")).body == R"({"ping":"PONG"})");
    // The second connection is one too many.
    peer over(s.port(1));
    response r = over.read();
    CHECK(r.status == 503);
    CHECK(r.header("Connection") == "close");
    CHECK(r.body == R"({"error":"ERR max number of clients reached"})");
  }
  // The command port still speaks RESP, where `GET /ping` is an inline command.
  REQUIRE(eventually([&] { return s.get().stats().connections_now == 0; }));
  peer resp(s.port());
  resp.send("PING\r\n");
  CHECK(resp.line() == "+PONG");
}

TEST_CASE("http: a request still arriving when the drain begins is read and answered", "[http]") {
  running_server s;
  peer idle(s.port());
  CHECK(idle.request(get("/ping")).status == 200);
  peer p(s.port());
  p.send("POST /echo.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\nabc");
  REQUIRE(eventually([&] { return s.get().stats().bytes_in >= 50; }));
  std::thread stopper([&] { s.stop(); });
  // The idle keep-alive connection is closed at once...
  CHECK(idle.closed());
  // ...the one with a request in progress gets its reply, the last one.
  p.send("def");
  response r = p.read();
  CHECK(r.status == 200);
  CHECK(r.body == "abcdef");
  CHECK(r.header("Connection") == "close");
  CHECK(p.closed());
  stopper.join();
}

TEST_CASE("http: the protocol's name", "[http]") {
  CHECK(coronet::to_string(coronet::wire_protocol::http) == "http");
  coronet::wire_protocol p = coronet::wire_protocol::line;
  CHECK(coronet::parse_wire_protocol("http", p));
  CHECK(p == coronet::wire_protocol::http);
  CHECK(!coronet::parse_wire_protocol("HTTP/1.1", p));
  CHECK(p == coronet::wire_protocol::http);
}

namespace {

// Sends `raw` on a new connection and checks the refusal: `status`,
// `Connection: close`, an error body, then the close with nothing after it
// (so a request smuggled behind `raw` was not served). Returns the response.
response refused(std::uint16_t port, std::string_view raw, int status) {
  peer p(port);
  p.send(raw);
  response r = p.read();
  CHECK(r.status == status);
  CHECK(r.header("Connection") == "close");
  CHECK(r.body.starts_with(R"({"error":"ERR )"));
  CHECK(p.closed());
  return r;
}

// A request the server must serve when it arrives after a refused one.
const std::string smuggled = get("/echo/smuggled");

}  // namespace

// The request-smuggling shapes of issue 24 (RFC 9112): each is refused and the
// connection closed, so no request hidden behind it is served.
TEST_CASE("http: whitespace before the colon of Content-Length is 400", "[http][smuggling]") {
  running_server s;
  refused(s.port(), "POST /echo.txt HTTP/1.1\r\nHost: t\r\nContent-Length : 5\r\n\r\nhello" + smuggled, 400);
}

TEST_CASE("http: whitespace before the colon of Transfer-Encoding is 400", "[http][smuggling]") {
  running_server s;
  refused(s.port(),
          "POST /echo.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding : chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + smuggled,
          400);
  refused(
      s.port(),
      "POST /echo.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding : gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + smuggled,
      400);
}

TEST_CASE("http: a transfer coding before chunked is 501", "[http][smuggling]") {
  running_server s;
  const response r = refused(
      s.port(),
      "POST /echo.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + smuggled,
      501);
  CHECK(r.body == R"x({"error":"ERR transfer coding not implemented (only chunked)"})x");
}

TEST_CASE("http: chunk data not followed by CRLF is 400 and the request behind it is not served", "[http][smuggling]") {
  running_server s;
  refused(s.port(),
          "POST /echo.txt HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcZZ0\r\n\r\n" + smuggled,
          400);
}

TEST_CASE("http: a chunked body in HTTP/1.0 is served, then the connection closes despite keep-alive",
          "[http][smuggling]") {
  running_server s;
  peer p(s.port());
  p.send(
      "POST /echo.txt HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" +
      smuggled);
  const response r = p.read();
  CHECK(r.status == 200);
  CHECK(r.body == "abc");
  CHECK(r.header("Connection") == "close");
  CHECK(p.closed());
}

TEST_CASE("http: an HTTP/1.1 request without Host, or with two, is 400", "[http][smuggling]") {
  running_server s;
  refused(s.port(), "GET /ping HTTP/1.1\r\n\r\n" + smuggled, 400);
  refused(s.port(), "GET /ping HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n" + smuggled, 400);
  // HTTP/1.0 needs none.
  peer p(s.port());
  CHECK(p.request("GET /ping HTTP/1.0\r\n\r\n").status == 200);
}

TEST_CASE("http: CONNECT and OPTIONS * are 405 with Allow, then the connection closes", "[http][smuggling]") {
  running_server s;
  response r = refused(s.port(), "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n" + smuggled, 405);
  CHECK(r.header("Allow") == "GET, HEAD, POST");
  r = refused(s.port(), "OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n" + smuggled, 405);
  CHECK(r.header("Allow") == "GET, HEAD, POST");
}

TEST_CASE("http: the HTTP/2 connection preface is 505", "[http][smuggling]") {
  running_server s;
  refused(s.port(), "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + smuggled, 505);
}

}  // namespace server_http_server_test
