// The HTTP adapter over llhttp and the HTTP mapping, without sockets:
// request framing and limits, targets and bodies to words, replies to JSON
// and text.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "protocol/http/http_codec.hpp"
#include "protocol/http/http_parser_adapter.hpp"

namespace protocol_http_http_codec_test {

using coronet::reply;
using coronet::detail::http_parse_outcome;
using coronet::detail::http_request_parser;
using state = http_parse_outcome::state;

namespace {

// Parses `bytes` in one call.
http_parse_outcome parse_all(http_request_parser& p, std::string& bytes) {
  return p.parse({bytes.data(), bytes.size()});
}

// Parses `bytes` given one more byte at a time, as a trickling peer sends them.
http_parse_outcome parse_bytewise(http_request_parser& p, std::string& bytes) {
  http_parse_outcome r;
  for (std::size_t n = 1; n <= bytes.size(); ++n) {
    r = p.parse({bytes.data(), n});
    if (r.status != state::incomplete)
      return r;
  }
  return r;
}

std::string_view view(std::span<char> s) { return {s.data(), s.size()}; }

std::vector<std::string> words_of(std::string target, bool* text = nullptr,
                                  coronet::detail::http_target* kind = nullptr) {
  std::vector<std::string_view> words;
  bool t = false;
  const auto k = coronet::detail::map_target({target.data(), target.size()}, words, t);
  if (text != nullptr)
    *text = t;
  if (kind != nullptr)
    *kind = k;
  return {words.begin(), words.end()};
}

std::string json(const reply& r) {
  std::string out;
  coronet::detail::append_json_value(r, out);
  return out;
}

std::string text(const reply& r) {
  std::string out;
  coronet::detail::append_text_reply(r, out);
  return out;
}

}  // namespace

TEST_CASE("http adapter: a GET request, whole or byte by byte", "[http]") {
  coronet::http_options limits;
  for (bool bytewise : {false, true}) {
    http_request_parser p(limits);
    std::string req = "GET /timestamp/iso?x=1 HTTP/1.1\r\nHost: a\r\nAccept: text/plain\r\n\r\nGET /next";
    const auto r = bytewise ? parse_bytewise(p, req) : parse_all(p, req);
    REQUIRE(r.status == state::complete);
    CHECK(r.consumed == req.find("GET /next"));
    const auto& m = p.message();
    CHECK(m.method == coronet::detail::http_method::get);
    CHECK(m.method_name == "GET");
    CHECK(view(m.target) == "/timestamp/iso?x=1");
    CHECK(m.version_major == 1);
    CHECK(m.version_minor == 1);
    CHECK(m.keep_alive);
    CHECK(m.wants_text);
    CHECK(m.body.empty());
  }
}

TEST_CASE("http adapter: keep-alive by version and Connection header", "[http]") {
  coronet::http_options limits;
  struct row {
    std::string request;
    bool keep_alive;
  };
  for (auto [request, keep] :
       {row{"GET / HTTP/1.1\r\nHost: a\r\n\r\n", true},
        row{"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false}, row{"GET / HTTP/1.0\r\n\r\n", false},
        row{"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true}}) {
    http_request_parser p(limits);
    REQUIRE(parse_all(p, request).status == state::complete);
    CHECK(p.message().keep_alive == keep);
  }
}

TEST_CASE("http adapter: bodies by Content-Length and chunked, pipelined after reset", "[http]") {
  coronet::http_options limits;
  http_request_parser p(limits);
  using namespace std::string_literals;
  std::string two =
      "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Type: application/json\r\n\r\nhello"
      "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4;ext=1\r\n\r\n\0z\r\n0\r\nTrailer: x\r\n\r\n"s;
  auto r = parse_all(p, two);
  REQUIRE(r.status == state::complete);
  CHECK(p.message().method == coronet::detail::http_method::post);
  CHECK(view(p.message().body) == "hello");
  CHECK(p.message().json_body);
  const std::size_t first = r.consumed;
  p.reset();
  std::span<char> rest(two.data() + first, two.size() - first);
  r = p.parse(rest);
  REQUIRE(r.status == state::complete);
  CHECK(r.consumed == rest.size());
  CHECK(!p.message().json_body);
  CHECK(view(p.message().body) == std::string_view("abc\r\n\0z", 7));
}

TEST_CASE("http adapter: a chunked body trickled byte by byte is joined in place", "[http]") {
  coronet::http_options limits;
  http_request_parser p(limits);
  std::string req =
      "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n2\r\nbc\r\n3\r\ndef\r\n0\r\n\r\n";
  const auto r = parse_bytewise(p, req);
  REQUIRE(r.status == state::complete);
  CHECK(view(p.message().body) == "abcdef");
}

TEST_CASE("http adapter: Expect: 100-continue is seen once the headers are complete", "[http]") {
  coronet::http_options limits;
  http_request_parser p(limits);
  std::string req = "POST /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n";
  CHECK(parse_all(p, req).status == state::incomplete);
  CHECK(p.expects_continue());
  req += "abc";
  CHECK(parse_all(p, req).status == state::complete);
  CHECK(!p.expects_continue());

  http_request_parser old(limits);
  std::string req10 = "POST /x HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n";
  CHECK(parse_all(old, req10).status == state::incomplete);
  CHECK(!old.expects_continue());
}

TEST_CASE("http adapter: limits and malformed requests give their status codes", "[http]") {
  coronet::http_options limits;
  limits.max_request_line = 100;
  limits.max_header_bytes = 200;
  limits.max_header_fields = 5;
  limits.max_body_bytes = 50;
  struct row {
    std::string request;
    int status;
  };
  const std::string long_target = "/" + std::string(120, 'a');
  std::string many_fields;
  for (int i = 0; i < 6; ++i)
    many_fields += "X-" + std::to_string(i) + ": v\r\n";
  const std::vector<row> rows{
      {"GET " + long_target + " HTTP/1.1\r\nHost: a\r\n\r\n", 414},
      {"GET " + long_target, 414},  // still coming: refused as soon as it is too long
      {"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(250, 'v') + "\r\n\r\n", 431},
      {"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(250, 'v'), 431},
      {"GET / HTTP/1.1\r\nHost: a\r\n" + many_fields + "\r\n", 431},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 51\r\n\r\n", 413},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n" + std::string(64, 'x') +
           "\r\n0\r\n\r\n",
       413},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501},
      {"POST / HTTP/1.1\r\nHost: a\r\nExpect: something-else\r\nContent-Length: 1\r\n\r\nx", 417},
      {"GET / HTTP/2.0\r\n\r\n", 505},
      {"hello world\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
      // The request-smuggling shapes (RFC 9112, issue 24).
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 3\r\n\r\nabc", 400},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcZZ0\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
      {"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 405},
      {"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 405},
      {"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505},
  };
  for (const auto& [request, status] : rows) {
    for (bool bytewise : {false, true}) {
      INFO(request << (bytewise ? " (byte by byte)" : ""));
      http_request_parser p(limits);
      std::string copy = request;
      const auto r = bytewise ? parse_bytewise(p, copy) : parse_all(p, copy);
      REQUIRE(r.status == state::error);
      CHECK(r.http_status == status);
      CHECK(!r.error.empty());
    }
  }
  // Exactly at the limits: accepted.
  http_request_parser p(limits);
  std::string at_limits = "POST /" + std::string(100 - 15, 'a') + " HTTP/1.1\r\nHost: a\r\nContent-Length: 50\r\n\r\n" +
                          std::string(50, 'b');
  CHECK(parse_all(p, at_limits).status == state::complete);
}

TEST_CASE("http adapter: HTTP/1.0 with Transfer-Encoding is not kept alive; HTTP/1.2 is served as 1.1", "[http]") {
  coronet::http_options limits;
  http_request_parser p(limits);
  std::string req =
      "POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n";
  REQUIRE(parse_all(p, req).status == state::complete);
  CHECK(view(p.message().body) == "a");
  CHECK(!p.message().keep_alive);
  http_request_parser q(limits);
  std::string minor = "GET / HTTP/1.2\r\nHost: a\r\n\r\n";
  REQUIRE(parse_all(q, minor).status == state::complete);
  CHECK(q.message().keep_alive);
}

TEST_CASE("http adapter: an Upgrade request is served as HTTP/1.1; an empty header value ends its field", "[http]") {
  coronet::http_options limits;
  for (bool bytewise : {false, true}) {
    http_request_parser p(limits);
    std::string req =
        "GET /ping HTTP/1.1\r\nX-Empty:\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n"
        "Accept: text/plain\r\n\r\nGET /next";
    const auto r = bytewise ? parse_bytewise(p, req) : parse_all(p, req);
    REQUIRE(r.status == state::complete);
    CHECK(r.consumed == req.find("GET /next"));
    CHECK(p.message().wants_text);
    CHECK(p.message().keep_alive);
  }
}

TEST_CASE("http mapping: targets to words", "[http]") {
  using coronet::detail::http_target;
  bool text = false;
  http_target kind{};
  CHECK(words_of("/timestamp/iso", &text, &kind) == std::vector<std::string>{"timestamp", "iso"});
  CHECK(kind == http_target::command);
  CHECK(!text);
  CHECK(words_of("/timestamp/iso.txt", &text) == std::vector<std::string>{"timestamp", "iso"});
  CHECK(text);
  CHECK(words_of("/ping.txt?x=1", &text) == std::vector<std::string>{"ping"});
  CHECK(text);
  CHECK(words_of("/echo/a%20b%2Fc%00d", &text) == std::vector<std::string>{"echo", std::string("a b/c\0d", 7)});
  CHECK(words_of("/echo/%2Etxt", &text) == std::vector<std::string>{"echo", ".txt"});
  CHECK(!text);
  CHECK(words_of("/echo//x/") == std::vector<std::string>{"echo", "", "x"});
  CHECK(words_of("/set/k/a+b#frag") == std::vector<std::string>{"set", "k", "a+b"});
  CHECK(words_of("http://example.com:80/ping/x") == std::vector<std::string>{"ping", "x"});
  words_of("/echo/%zz", nullptr, &kind);
  CHECK(kind == http_target::bad);
  words_of("/echo/%4", nullptr, &kind);
  CHECK(kind == http_target::bad);
  words_of("*", nullptr, &kind);
  CHECK(kind == http_target::bad);
  words_of("/", nullptr, &kind);
  CHECK(kind == http_target::status_page);
  words_of("http://example.com", nullptr, &kind);
  CHECK(kind == http_target::status_page);
  words_of("/stats.json?t=1", nullptr, &kind);
  CHECK(kind == http_target::stats_json);
  words_of("/events", nullptr, &kind);
  CHECK(kind == http_target::events);
  words_of("/healthz", nullptr, &kind);
  CHECK(kind == http_target::healthz);
}

TEST_CASE("http mapping: a JSON array of strings as arguments", "[http]") {
  const auto parse = [](std::string body, std::vector<std::string>& out) {
    std::vector<std::string_view> words{"cmd"};
    const bool ok = coronet::detail::append_json_words({body.data(), body.size()}, words);
    out.assign(words.begin() + 1, words.end());
    return ok && words.front() == "cmd";
  };
  std::vector<std::string> w;
  CHECK(parse(R"( [ "a" , "b c", "" ] )", w));
  CHECK(w == std::vector<std::string>{"a", "b c", ""});
  CHECK(parse("[]", w));
  CHECK(w.empty());
  CHECK(parse(R"(["q\"\\\/\b\f\n\r\t", "\u00e9\u20ac\ud83d\ude00\u0000"])", w));
  CHECK(w == std::vector<std::string>{"q\"\\/\b\f\n\r\t", std::string("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\0", 10)});
  for (const char* bad : {"", "[", "[\"a\"", "[\"a\",]", "[1]", "[\"a\"] x", "{\"a\":1}", "[\"\\x\"]", "[\"\\ud800\"]",
                          "[\"\\udc00\"]", "[\"a\nb\"]", "[null]", "\"a\""}) {
    INFO(bad);
    CHECK(!parse(bad, w));
  }
}

TEST_CASE("http mapping: every reply kind has a JSON form", "[http]") {
  CHECK(json(reply::text("OK")) == R"("OK")");
  CHECK(json(reply::bulk(std::string_view("a\"\\\n\x01\x7f\xc3\xa9\xff", 9))) == R"("a\"\\\n\u0001)"
                                                                                 "\x7f\xc3\xa9"
                                                                                 R"(\u00ff")");
  CHECK(json(reply::integer(-42)) == "-42");
  CHECK(json(reply::real(1.5)) == "1.5");
  CHECK(json(reply::real(1.0 / 0.0)) == R"("inf")");
  CHECK(json(reply::boolean(true)) == "true");
  CHECK(json(reply::null()) == "null");
  CHECK(json(reply::verbatim("v")) == R"("v")");
  CHECK(json(reply::err("bad")) == R"({"error":"ERR bad"})");
  std::vector<reply> arr;
  arr.push_back(reply::integer(1));
  arr.push_back(reply::null());
  arr.push_back(reply::bulk("x"));
  CHECK(json(reply::array(std::move(arr))) == R"([1,null,"x"])");
  std::vector<reply> kv;
  kv.push_back(reply::bulk("k"));
  kv.push_back(reply::integer(1));
  kv.push_back(reply::integer(7));
  kv.push_back(reply::boolean(false));
  CHECK(json(reply::map(std::move(kv))) == R"({"k":1,"7":false})");
  std::vector<reply> set;
  set.push_back(reply::text("a"));
  CHECK(json(reply::set(std::move(set))) == R"(["a"])");

  std::string out;
  coronet::detail::append_json_reply("timestamp", reply::bulk("Mon Nov 30 22:32:13 2026"), out);
  CHECK(out == R"({"timestamp":"Mon Nov 30 22:32:13 2026"})");
  out.clear();
  coronet::detail::append_json_reply("x", reply::err("no"), out);
  CHECK(out == R"({"error":"ERR no"})");
}

TEST_CASE("http mapping: the text/plain form", "[http]") {
  CHECK(text(reply::bulk(std::string_view("a\0b", 3))) == std::string_view("a\0b", 3));
  CHECK(text(reply::integer(5)) == "5");
  CHECK(text(reply::null()).empty());
  CHECK(text(reply::boolean(false)) == "false");
  CHECK(text(reply::err("x")) == "ERR x");
  std::vector<reply> inner;
  inner.push_back(reply::bulk("b"));
  inner.push_back(reply::integer(2));
  std::vector<reply> outer;
  outer.push_back(reply::text("a"));
  outer.push_back(reply::array(std::move(inner)));
  CHECK(text(reply::array(std::move(outer))) == "a\nb\n2\n");
}

TEST_CASE("http response head: status line, Server, Date, Content-Length, Connection", "[http]") {
  coronet::detail::http_head h;
  h.status = 405;
  h.content_length = 12;
  h.allow = "GET, HEAD";
  h.connection = coronet::detail::http_connection::keep_alive_1_0;
  coronet::output_buffer buffer;
  coronet::detail::append_http_head(h, buffer);
  const std::string out = buffer.str();
  CHECK(out.starts_with("HTTP/1.1 405 Method Not Allowed\r\nServer: coronet\r\nDate: "));
  CHECK(out.find("\r\nContent-Type: application/json\r\nContent-Length: 12\r\nAllow: GET, HEAD\r\n"
                 "Connection: keep-alive\r\n\r\n") != std::string::npos);
  const std::string_view date = coronet::detail::http_date();
  CHECK(date.size() == 29);
  CHECK(date.ends_with(" GMT"));
  CHECK(date[3] == ',');
}

}  // namespace protocol_http_http_codec_test
