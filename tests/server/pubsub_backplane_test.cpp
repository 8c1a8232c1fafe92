// server_options::pubsub_backplane without its redis-server: the URL is checked by the
// constructor, local delivery goes on, and stats and INFO say the backplane is not
// connected and count the publishes it could not share. A server destroyed while its
// backplane writes (to a stand-in for redis-server) stops its workers first. The delivery
// with a real redis-server is tests/interop/pubsub_backplane_test.py's.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

#include <sys/socket.h>

#include <asio/buffer.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

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

// A stand-in for the backplane's redis-server, on its own thread with blocking sockets:
// it confirms the first connection's PSUBSCRIBE, answers each PUBLISH on the second with
// `:0`, and notes when each connection ends.
class fake_redis {
public:
  fake_redis() : acceptor_(ctx_, {asio::ip::address_v4::loopback(), 0}), thread_([this] { serve(); }) {}
  fake_redis(const fake_redis&) = delete;
  fake_redis& operator=(const fake_redis&) = delete;
  ~fake_redis() {
    // shutdown() wakes an accept() that waits (close() alone would not, on Linux).
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    std::error_code ignored;
    acceptor_.close(ignored);
    thread_.join();
  }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }
  std::size_t publishes() const { return publishes_.load(); }
  // Both connections ended (the peer closed them).
  bool links_closed() const { return links_closed_.load() == 2; }

private:
  void serve() {
    std::error_code ec;
    asio::ip::tcp::socket sub(ctx_);
    acceptor_.accept(sub, ec);
    if (ec)
      return;
    const std::string request = "*2\r\n$10\r\nPSUBSCRIBE\r\n$16\r\ncoronet:pubsub:*\r\n";
    std::string got(request.size(), '\0');
    asio::read(sub, asio::buffer(got), ec);
    if (ec || got != request)
      return;
    asio::write(sub, asio::buffer(std::string_view("*3\r\n$10\r\npsubscribe\r\n$16\r\ncoronet:pubsub:*\r\n:1\r\n")), ec);
    asio::ip::tcp::socket pub(ctx_);
    acceptor_.accept(pub, ec);
    if (ec)
      return;
    std::thread until_closed([&] {
      char b[256];
      std::error_code e;
      while (!e)
        sub.read_some(asio::buffer(b), e);
      links_closed_.fetch_add(1);
    });
    // A PUBLISH is a 3-element array; the payloads hold no `*`.
    char b[4096];
    std::string replies;
    for (;;) {
      const std::size_t n = pub.read_some(asio::buffer(b), ec);
      if (ec)
        break;
      replies.clear();
      for (std::size_t i = 0; i < n; ++i)
        if (b[i] == '*')
          replies += ":0\r\n";
      publishes_.fetch_add(replies.size() / 4);
      asio::write(pub, asio::buffer(replies), ec);
    }
    links_closed_.fetch_add(1);
    until_closed.join();
  }

  asio::io_context ctx_;
  asio::ip::tcp::acceptor acceptor_;
  std::atomic<std::size_t> publishes_{0};
  std::atomic<int> links_closed_{0};
  std::thread thread_;
};

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

TEST_CASE("a server destroyed while its backplane writes stops its workers first", "[pubsub][backplane]") {
  // The backplane belongs to the server and runs on worker 0. ~server used to destroy it
  // while run() went on on another thread, so that worker 0 could resume a write of the
  // freed backplane (AddressSanitizer's heap-use-after-free).
  fake_redis redis;
  const coronet::router r = coronet_test::builtins();
  // Declared before the server: if a check fails, the server goes first (stopping run())
  // and the future's destructor then has nothing to wait for.
  std::future<int> ran;
  auto srv = std::make_unique<coronet::server>(r, with_backplane(redis.url()));
  ran = std::async(std::launch::async, [&s = *srv] { return s.run(); });
  REQUIRE(eventually([&] { return srv->stats().pubsub_backplane == coronet::pubsub_backplane_state::connected; }));
  // Enough that worker 0 is still writing and reading replies when the server goes.
  for (int i = 0; i < 20000; ++i)
    srv->publish("news", "payload");
  REQUIRE(eventually([&] { return redis.publishes() > 0; }));
  srv.reset();
  // ~server waited for run() to return (force-stopped: 0).
  REQUIRE(ran.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  CHECK(ran.get() == 0);
  CHECK(eventually([&] { return redis.links_closed(); }));
}

TEST_CASE("a server without a backplane says off", "[pubsub][backplane]") {
  running_server srv(coronet_test::quick_stop_options(coronet::wire_protocol::resp), coronet_test::builtins());
  CHECK(srv.get().stats().pubsub_backplane == coronet::pubsub_backplane_state::off);
  CHECK(srv.get().publish("news", "x") == 0);
  CHECK(srv.get().stats().pubsub_backplane_dropped == 0);
  CHECK(info_field(srv.port(), "coronet_pubsub_backplane") == "off");
}

}  // namespace server_pubsub_backplane_test
