// The Prometheus text of a server's metrics: the formatter on a made-up snapshot (escaping,
// cumulative buckets, +Inf equal to the count), and GET /metrics over a socket.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "coronet/server/server.hpp"
#include "server/metrics_text.hpp"
#include "support/blocking_peer.hpp"
#include "support/eventually.hpp"
#include "support/running_server.hpp"

namespace server_metrics_text_test {

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    out.push_back(l);
  return out;
}

// The value of the sample line that starts with `name_and_labels` followed by a space.
std::string value_of(const std::string& text, const std::string& name_and_labels) {
  for (const std::string& l : lines_of(text))
    if (l.size() > name_and_labels.size() && l.compare(0, name_and_labels.size(), name_and_labels) == 0 &&
        l[name_and_labels.size()] == ' ')
      return l.substr(name_and_labels.size() + 1);
  return "<missing " + name_and_labels + ">";
}

coronet::detail::metrics_snapshot made_up() {
  coronet::detail::metrics_snapshot m;
  m.stats.connections_now = 3;
  m.stats.connections_total = 10;
  m.stats.requests = 42;
  m.stats.bytes_in = 1000;
  m.stats.security_attacks = 2;
  coronet::command_metrics c;
  c.name = "we\"ird\\na\nme";
  using h = coronet::latency_histogram;
  c.latency.counts[h::bucket_of(500)] = 4;            // 0.5 us
  c.latency.counts[h::bucket_of(1'500)] = 3;          // 1.5 us
  c.latency.counts[h::bucket_of(3'000'000)] = 2;      // 3 ms
  c.latency.counts[h::bucket_of(60'000'000'000)] = 1;  // a minute: only +Inf
  c.calls = 10;
  c.errors = 1;
  m.metrics.commands.push_back(c);
  m.metrics.connections.push_back({coronet::wire_protocol::resp, 3, 9});
  m.listeners.push_back({"127.0.0.1", 6379, coronet::wire_protocol::resp, false});
  m.listeners.push_back({"::1", 443, coronet::wire_protocol::http, true});
  return m;
}

}  // namespace

TEST_CASE("metrics text: label values are escaped, HELP and TYPE precede every family", "[server][metrics]") {
  std::string text;
  coronet::detail::append_metrics_text(made_up(), text);
  const std::string label = R"({command="we\"ird\\na\nme"})";
  CHECK(value_of(text, "coronet_command_calls_total" + label) == "10");
  CHECK(value_of(text, "coronet_command_errors_total" + label) == "1");
  CHECK(value_of(text, "coronet_requests_total") == "42");
  CHECK(value_of(text, "coronet_connections_open") == "3");
  CHECK(value_of(text, "coronet_security_attacks_total") == "2");
  CHECK(value_of(text, R"(coronet_protocol_connections_total{protocol="resp"})") == "9");
  CHECK(value_of(text, R"(coronet_listener_up{host="::1",port="443",protocol="http",tls="true"})") == "1");
  // Every sample's family was announced just before, once.
  std::string current;
  std::vector<std::string> seen;
  for (const std::string& l : lines_of(text)) {
    REQUIRE_FALSE(l.empty());
    if (l.rfind("# HELP ", 0) == 0) {
      current = l.substr(7, l.find(' ', 7) - 7);
      CHECK(std::find(seen.begin(), seen.end(), current) == seen.end());
      seen.push_back(current);
    } else if (l.rfind("# TYPE ", 0) == 0) {
      CHECK(l.substr(7, current.size()) == current);
    } else {
      CHECK(l.rfind(current, 0) == 0);
    }
  }
  CHECK(text.back() == '\n');
  CHECK(coronet::detail::metrics_content_type == "text/plain; version=0.0.4; charset=utf-8");
}

TEST_CASE("metrics text: the latency histogram is cumulative and its +Inf bucket is its count",
          "[server][metrics]") {
  std::string text;
  coronet::detail::append_metrics_text(made_up(), text);
  const std::string name = "coronet_command_duration_seconds";
  const std::string labels = R"(command="we\"ird\\na\nme")";
  const auto bucket = [&](const char* le) {
    return value_of(text, name + "_bucket{" + labels + ",le=\"" + le + "\"}");
  };
  CHECK(bucket("1e-06") == "4");
  CHECK(bucket("2.5e-06") == "7");
  CHECK(bucket("0.0025") == "7");
  CHECK(bucket("0.005") == "9");
  CHECK(bucket("10") == "9");
  CHECK(bucket("+Inf") == "10");
  CHECK(value_of(text, name + "_count{" + labels + "}") == "10");
  const double sum = std::stod(value_of(text, name + "_sum{" + labels + "}"));
  CHECK(sum > 60.0 * 0.85);
  CHECK(sum < 60.0 * 1.15 + 0.01);
  // Non-decreasing all the way up.
  std::uint64_t last = 0;
  for (const std::string& l : lines_of(text))
    if (l.rfind(name + "_bucket{", 0) == 0) {
      const std::uint64_t v = std::stoull(l.substr(l.rfind(' ') + 1));
      CHECK(v >= last);
      last = v;
    }
}

TEST_CASE("GET /metrics on an HTTP listener counts the calls made", "[server][metrics][http]") {
  coronet::server_options o = coronet_test::quick_stop_options(coronet::wire_protocol::resp);
  o.listeners.push_back({.host = "", .port = 0, .protocol = coronet::wire_protocol::http, .tls = false});
  o.latency_sample_every = 1;  // every call in the histogram
  coronet_test::running_server s(std::move(o));
  {
    coronet_test::blocking_peer resp(s.port());
    for (int i = 0; i < 5; ++i)
      REQUIRE(resp.call("PING") == "+PONG");
    REQUIRE(resp.call("NOPE").starts_with("-ERR"));
  }
  coronet_test::blocking_peer http(s.port(1));
  http.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string head = http.until("\r\n\r\n");
  CHECK(head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(head.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n") != std::string::npos);
  const std::size_t at = head.find("Content-Length: ");
  REQUIRE(at != std::string::npos);
  const std::string body = http.exactly(std::stoul(head.substr(at + 16)));
  CHECK(value_of(body, R"(coronet_command_calls_total{command="ping"})") == "5");
  CHECK(value_of(body, R"(coronet_command_duration_seconds_count{command="ping"})") == "5");
  CHECK(value_of(body, "coronet_unknown_commands_total") == "1");
  CHECK(value_of(body, R"(coronet_protocol_connections_open{protocol="http"})") == "1");
  CHECK(value_of(body, "coronet_draining") == "0");
  // HEAD: the same headers, no body; POST: 405.
  http.send("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(http.until("\r\n\r\n").find("version=0.0.4") != std::string::npos);
  http.send("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  CHECK(http.line() == "HTTP/1.1 405 Method Not Allowed");
}

}  // namespace server_metrics_text_test
