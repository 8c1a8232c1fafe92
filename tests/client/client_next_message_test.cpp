// coronet::client::next_message: a client that SUBSCRIBEs to a coronet server reads the
// messages published afterwards, with no request outstanding and no time limit.
#include <catch2/catch.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "coronet/client/client.hpp"
#include "coronet/core/sync_wait.hpp"
#include "coronet/server/server.hpp"
#include "support/eventually.hpp"
#include "support/router_calls.hpp"
#include "support/run_client.hpp"
#include "support/running_server.hpp"

namespace client_client_next_message_test {

using namespace std::chrono_literals;
using coronet::reply;
using coronet::reply_kind;

namespace {

coronet::task<coronet::client> connect(coronet::tcp::executor_type ex, std::uint16_t port,
                                       coronet::wire_protocol protocol, coronet::client_options options) {
  co_return co_await coronet::client::connect(ex, "127.0.0.1", port, protocol, options);
}

}  // namespace

TEST_CASE("next_message reads what a subscribed connection is sent unasked", "[client][pubsub]") {
  coronet_test::running_server srv(coronet_test::quick_stop_options(coronet::wire_protocol::resp),
                                   coronet_test::builtins());
  coronet::server& server = srv.get();
  coronet_test::run_client([&](coronet::tcp::executor_type ex) -> coronet::task<void> {
    coronet::client_options options;
    // Shorter than the wait below: next_message must not be bounded by it.
    options.request_timeout = 100ms;
    coronet::client c = co_await connect(ex, srv.port(), coronet::wire_protocol::resp, options);
    const reply confirmed = co_await c.call("SUBSCRIBE", "news");
    CHECK(confirmed.to_string() == "subscribe news 1");
    CHECK(c.pending() == 0);
    // Published from another thread once the subscription is counted, after longer than
    // request_timeout.
    std::thread publisher([&server] {
      CHECK(coronet_test::eventually([&] { return server.pubsub_numsub("news") == 1; }));
      std::this_thread::sleep_for(300ms);  // outlasts request_timeout on purpose
      server.publish("news", "one");
      server.publish("news", "two");
    });
    const reply first = co_await c.next_message();
    const reply second = co_await c.next_message();
    publisher.join();
    CHECK(first.kind() == reply_kind::array);
    CHECK(first.to_string() == "message news one");
    CHECK(second.to_string() == "message news two");
    CHECK(c.is_open());
  });
}

TEST_CASE("next_message refuses a line client and one with replies outstanding", "[client][pubsub]") {
  coronet_test::running_server srv(coronet_test::quick_stop_options(coronet::wire_protocol::resp),
                                   coronet_test::builtins());
  coronet_test::running_server line_srv(coronet_test::quick_stop_options(coronet::wire_protocol::line),
                                        coronet_test::builtins());
  coronet_test::run_client([&](coronet::tcp::executor_type ex) -> coronet::task<void> {
    coronet::client c = co_await connect(ex, srv.port(), coronet::wire_protocol::resp, {});
    c.send("PING");
    CHECK_THROWS_AS(c.next_message(), std::logic_error);
    const reply pong = co_await c.receive();
    CHECK(pong.to_string() == "PONG");
    coronet::client l = co_await connect(ex, line_srv.port(), coronet::wire_protocol::line, {});
    CHECK_THROWS_AS(l.next_message(), std::logic_error);
  });
}

TEST_CASE("next_message ends when the server closes the connection, and the client is closed", "[client][pubsub]") {
  coronet_test::running_server srv(coronet_test::quick_stop_options(coronet::wire_protocol::resp),
                                   coronet_test::builtins());
  coronet_test::run_client([&](coronet::tcp::executor_type ex) -> coronet::task<void> {
    coronet::client c = co_await connect(ex, srv.port(), coronet::wire_protocol::resp, {});
    const reply confirmed = co_await c.call("SUBSCRIBE", "news");
    CHECK(confirmed.kind() == reply_kind::array);
    std::thread stopper([&srv] { srv.stop(); });
    bool threw = false;
    try {
      co_await c.next_message();
    } catch (const std::system_error&) {
      threw = true;
    }
    stopper.join();
    CHECK(threw);
    CHECK_FALSE(c.is_open());
  });
}

}  // namespace client_client_next_message_test
