// The status page's JSON (valid, complete, command names escaped) and its
// HTML (self-contained: nothing fetched from elsewhere).
#include "server/status_page.hpp"
#include "protocol/http/http_codec.hpp"

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/time.h>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/write.hpp>

#include <string>
#include <thread>

#include "coronet/server/server.hpp"
#include "support/blocking_peer.hpp"
#include "support/json_value.hpp"
#include "support/running_server.hpp"
#include "support/test_commands.hpp"

namespace server_status_page_test {

using coronet_test::json_reader;
using coronet_test::json_value;

namespace {

std::string json_string(std::string_view s) {
  std::string out;
  coronet::detail::append_json_quoted(s, out);
  return out;
}

const json_value* command_named(const json_value& doc, std::string_view name) {
  for (const auto& c : doc["commands"].array)
    if (c["name"].string == name)
      return &c;
  return nullptr;
}

}  // namespace

TEST_CASE("the JSON strings of the stats (append_json_quoted) escape quotes, backslashes, controls and non-UTF-8 bytes",
          "[status]") {
  CHECK(json_string("ping") == R"("ping")");
  CHECK(json_string("a\"b\\c") == R"("a\"b\\c")");
  CHECK(json_string("tab\there\nnl\r\x01\x1f\x7f") == R"("tab\there\nnl\r\u0001\u001f)"
                                                      "\x7f\"");
  CHECK(json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") == "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  // Invalid UTF-8: a lone continuation byte, a truncated sequence, an
  // overlong form, a surrogate, a byte never valid.
  CHECK(json_string("\x80") == R"("\u0080")");
  CHECK(json_string("\xe2\x82") == R"("\u00e2\u0082")");
  CHECK(json_string("\xc0\xaf") == R"("\u00c0\u00af")");
  CHECK(json_string("\xed\xa0\x80") == R"("\u00ed\u00a0\u0080")");
  CHECK(json_string("\xff") == R"("\u00ff")");
  for (std::string_view s : {"x\"y", "\\", "\x80\x81z", "\xc3\xa9", "</script>"})
    CHECK_NOTHROW(json_reader::parse(json_string(s)));
  CHECK(json_reader::parse(json_string("a\"b\\c\n")).string == "a\"b\\c\n");
}

TEST_CASE("stats JSON: valid, one line, with every documented field", "[status]") {
  coronet::router r = coronet_test::make_test_router();
  // Names a router accepts but JSON and HTML must escape.
  r.add(
      "q\"uote\\d", "odd name", [](coronet::request&) { return coronet::reply::text("OK"); },
      coronet::arity::at_least(0));
  r.add(
      "caf\xc3\xa9", "UTF-8 name", [](coronet::request&) { return coronet::reply::text("OK"); },
      coronet::arity::at_least(0));
  r.add(
      "bad\xff", "not UTF-8", [](coronet::request&) { return coronet::reply::text("OK"); },
      coronet::arity::at_least(0));
  coronet::server_options o;
  o.port = 0;
  o.max_connections = 123;
  o.request_timeout = std::chrono::milliseconds(4500);
  coronet_test::running_server s(o, r);

  coronet_test::blocking_peer sock(s.port());
  for (int i = 0; i < 3; ++i)
    REQUIRE(sock.call("PING") == "+PONG");
  REQUIRE(sock.call("*1\r\n$8\r\nq\"uote\\d") == "+OK");
  REQUIRE(sock.call("fail") == "-ERR internal error");
  REQUIRE(sock.call("nope").rfind("-ERR unknown command", 0) == 0);

  std::string text = "prefix";
  coronet::detail::append_stats_json(s.get(), text);
  REQUIRE(text.rfind("prefix{", 0) == 0);
  text.erase(0, 6);
  CHECK(text.find('\n') == std::string::npos);
  CHECK(text.find('\r') == std::string::npos);
  const json_value doc = json_reader::parse(text);

  CHECK(doc["server"].string == "coronet");
  CHECK(!doc["version"].string.empty());
  CHECK(doc["uptime_ms"].type == json_value::kind::number);
  CHECK(doc["threads"].u64() == 1);
  REQUIRE(doc["listeners"].array.size() == 1);
  CHECK(doc["listeners"][0]["host"].string == "127.0.0.1");
  CHECK(doc["listeners"][0]["port"].u64() == s.get().port());
  CHECK(doc["listeners"][0]["protocol"].string == "resp");
  CHECK(doc["connections"]["now"].u64() == 1);
  CHECK(doc["connections"]["total"].u64() == 1);
  CHECK(doc["connections"]["rejected"].u64() == 0);
  REQUIRE(doc["connections"]["protocols"].array.size() == 1);
  CHECK(doc["connections"]["protocols"][0]["protocol"].string == "resp");
  CHECK(doc["connections"]["protocols"][0]["now"].u64() == 1);
  CHECK(doc["connections"]["protocols"][0]["total"].u64() == 1);
  CHECK(doc["requests"]["total"].u64() == 6);
  CHECK(doc["requests"]["errors"].u64() == 2);
  CHECK(doc["requests"]["unknown_commands"].u64() == 1);
  CHECK(doc["requests"]["per_second"].type == json_value::kind::array);
  CHECK(doc["bytes"]["in"].u64() > 0);
  CHECK(doc["bytes"]["out"].u64() > 0);

  CHECK(doc["commands"].array.size() == r.commands().size());
  const json_value* ping = command_named(doc, "ping");
  REQUIRE(ping != nullptr);
  CHECK((*ping)["calls"].u64() == 3);
  CHECK((*ping)["errors"].u64() == 0);
  CHECK((*ping)["p50_ns"].u64() > 0);
  CHECK((*ping)["p99_ns"].u64() >= (*ping)["p50_ns"].u64());
  const json_value* fail = command_named(doc, "fail");
  REQUIRE(fail != nullptr);
  CHECK((*fail)["errors"].u64() == 1);
  const json_value* odd = command_named(doc, "q\"uote\\d");
  REQUIRE(odd != nullptr);
  CHECK((*odd)["calls"].u64() == 1);
  CHECK(command_named(doc, "caf\xc3\xa9") != nullptr);
  CHECK(command_named(doc, "bad\xc3\xbf") != nullptr);  // \u00ff read back as UTF-8

  CHECK(doc["limits"]["max_connections"].u64() == 123);
  CHECK(doc["limits"]["request_timeout_ms"].u64() == 4500);
  CHECK(doc["limits"]["max_request_bytes"].u64() == o.max_request_bytes);
  CHECK(doc["limits"]["idle_timeout_ms"].u64() == 0);
  CHECK(doc["limits"]["partial_request_timeout_ms"].u64() == 10000);
  CHECK(doc["limits"]["drain_timeout_ms"].u64() == 10000);
  CHECK(doc["limits"]["handshake_timeout_ms"].u64() == 10000);
  CHECK(doc["limits"]["http_max_request_line_bytes"].u64() == 8192);
  CHECK(doc["limits"]["http_max_header_bytes"].u64() == 8192);
  CHECK(doc["limits"]["http_max_header_fields"].u64() == 100);
  CHECK(doc["limits"]["http_max_body_bytes"].u64() == 1048576);
  CHECK(doc["limits"]["http_header_timeout_ms"].u64() == 10000);
  CHECK(doc["limits"]["http_idle_timeout_ms"].u64() == 60000);
}

TEST_CASE("stats JSON of a server that has not run yet", "[status]") {
  coronet::router r = coronet_test::make_test_router();
  coronet::server_options o;
  o.port = 0;
  coronet::server srv(r, o);
  std::string text;
  coronet::detail::append_stats_json(srv, text);
  const json_value doc = json_reader::parse(text);
  CHECK(doc["requests"]["total"].u64() == 0);
  CHECK(doc["requests"]["per_second"].array.empty());
  CHECK(doc["connections"]["protocols"].array.empty());
  CHECK((*command_named(doc, "ping"))["calls"].u64() == 0);
}

TEST_CASE("status page: one self-contained HTML document", "[status]") {
  const std::string_view html = coronet::detail::status_page_html();
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("<meta charset=\"utf-8\">") != std::string_view::npos);
  CHECK(html.find("</html>") != std::string_view::npos);
  // Nothing from elsewhere: no absolute URL, no external script, stylesheet or font.
  CHECK(html.find("http://") == std::string_view::npos);
  CHECK(html.find("https://") == std::string_view::npos);
  CHECK(html.find("//cdn") == std::string_view::npos);
  CHECK(html.find("<script src") == std::string_view::npos);
  CHECK(html.find("<link rel=\"stylesheet\"") == std::string_view::npos);
  CHECK(html.find("@import") == std::string_view::npos);
  CHECK(html.find("url(") == std::string_view::npos);
  // It reads the event stream and falls back to polling the JSON.
  CHECK(html.find("EventSource('events')") != std::string_view::npos);
  CHECK(html.find("fetch('stats.json'") != std::string_view::npos);
  // Names reach the page as text, never as markup.
  CHECK(html.find("innerHTML") == std::string_view::npos);
  CHECK(html.find("textContent") != std::string_view::npos);
}

}  // namespace server_status_page_test
