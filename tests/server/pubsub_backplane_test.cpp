// server_options::pubsub_backplane without its redis-server: the URL is checked by the
// constructor, local delivery goes on, and stats and INFO say the backplane is not
// connected and count the publishes it could not share. The delivery with a real
// redis-server is tests/interop/pubsub_backplane_test.py's.
#include <catch2/catch.hpp>

#include <chrono>
#include <stdexcept>
#include <string>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "coronet/server/server.hpp"
#include "support/blocking_peer.hpp"
#include "support/eventually.hpp"
#include "support/router_calls.hpp"
#include "support/running_server.hpp"

namespace server_pubsub_backplane_test {

using coronet_test::blocking_peer;
using coronet_test::eventually;
using coronet_test::running_server;

namespace {

coronet::server_options with_backplane(std::string url) {
  coronet::server_options o = coronet_test::quick_stop_options(coronet::wire_protocol::resp);
  o.pubsub_backplane = std::move(url);
  return o;
}

// The INFO field `name`'s value, read over RESP.
std::string info_field(std::uint16_t port, const std::string& name) {
  blocking_peer p(port);
  p.send("INFO stats\r\n");
  const std::string header = p.line();
  REQUIRE(header.size() > 1);
  const std::string body = p.exactly(std::stoul(header.substr(1)) + 2);
  const std::size_t at = body.find("\r\n" + name + ":");
  if (at == std::string::npos)
    return "<missing>";
  const std::size_t from = at + 2 + name.size() + 1;
  return body.substr(from, body.find("\r\n", from) - from);
}

}  // namespace

TEST_CASE("pubsub_backplane takes redis://HOST:PORT only", "[pubsub][backplane]") {
  const coronet::router r = coronet_test::builtins();
  for (const char* bad : {"127.0.0.1:6379", "redis://127.0.0.1", "redis://:6379", "redis://127.0.0.1:0",
                          "redis://127.0.0.1:65536", "redis://127.0.0.1:6379/0", "redis://u:p@127.0.0.1:6379",
                          "rediss://127.0.0.1:6379", "redis://::1:6379", "redis://127.0.0.1:63x9"}) {
    INFO(bad);
    CHECK_THROWS_AS(coronet::server(r, with_backplane(bad)), std::invalid_argument);
  }
  for (const char* good : {"redis://127.0.0.1:6379", "redis://localhost:6379/", "redis://[::1]:6379"}) {
    INFO(good);
    CHECK_NOTHROW(coronet::server(r, with_backplane(good)));
  }
}

TEST_CASE("without its redis-server the backplane retries while local delivery goes on", "[pubsub][backplane]") {
  // A bound socket that does not listen: connecting to it is refused, and no other test can
  // take its port meanwhile.
  asio::io_context ctx;
  asio::ip::tcp::acceptor nobody(ctx);
  nobody.open(asio::ip::tcp::v4());
  nobody.bind({asio::ip::address_v4::loopback(), 0});
  const std::string url = "redis://127.0.0.1:" + std::to_string(nobody.local_endpoint().port());

  running_server srv(with_backplane(url), coronet_test::builtins());
  CHECK(srv.get().stats().pubsub_backplane == coronet::pubsub_backplane_state::connecting);

  blocking_peer sub(srv.port());
  sub.send("SUBSCRIBE news\r\n");
  const std::string confirmed = "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n";
  REQUIRE(sub.exactly(confirmed.size()) == confirmed);

  blocking_peer pub(srv.port());
  CHECK(pub.call("PUBLISH news hello") == ":1");
  CHECK(srv.get().publish("news", "again") == 1);
  const std::string m1 = "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n";
  const std::string m2 = "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nagain\r\n";
  CHECK(sub.exactly(m1.size() + m2.size()) == m1 + m2);

  const coronet::server_stats st = srv.get().stats();
  CHECK(st.pubsub_backplane == coronet::pubsub_backplane_state::connecting);
  CHECK(st.pubsub_backplane_dropped == 2);
  CHECK(st.pubsub_backplane_forwarded == 0);
  CHECK(st.pubsub_backplane_received == 0);
  CHECK(info_field(srv.port(), "coronet_pubsub_backplane") == "connecting");
  CHECK(info_field(srv.port(), "coronet_pubsub_backplane_dropped") == "2");
  // The retries go on in the background, and the drain ends them at once.
  CHECK(srv.stop_within(std::chrono::seconds(2)) == 0);
}

TEST_CASE("a server without a backplane says off", "[pubsub][backplane]") {
  running_server srv(coronet_test::quick_stop_options(coronet::wire_protocol::resp), coronet_test::builtins());
  CHECK(srv.get().stats().pubsub_backplane == coronet::pubsub_backplane_state::off);
  CHECK(srv.get().publish("news", "x") == 0);
  CHECK(srv.get().stats().pubsub_backplane_dropped == 0);
  CHECK(info_field(srv.port(), "coronet_pubsub_backplane") == "off");
}

}  // namespace server_pubsub_backplane_test
