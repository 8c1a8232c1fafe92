// The request path's direct lane (plain and writing handlers answered with no awaiter) and
// the dispatch awaiter it declines to must answer alike: plain handlers here, under short
// and long names, in RESP2, RESP3 and the line protocol, failing, and counted in the metrics.
// (Writing handlers registered both ways: server_writing_handler_test.)
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

#include "coronet/commands/builtins.hpp"
#include "coronet/server/server.hpp"
#include "coronet/server/server_metrics.hpp"
#include "support/blocking_peer.hpp"
#include "support/running_server.hpp"

namespace server_server_direct_lane_test {

namespace {

using peer = coronet_test::blocking_peer;

// `p kind` and `plainlonger kind` (a name over 8 bytes, found in the router's other table):
// plain handlers returning a reply of `kind`, or throwing.
coronet::reply plain_kind(coronet::request& req) {
  const std::string_view kind = req.arg(0);
  if (kind == "null")
    return coronet::reply::null();
  if (kind == "err")
    return coronet::reply::err("plain said no");
  if (kind == "throw")
    throw std::runtime_error("plain failed");
  if (kind == "drop") {
    // As the server does to HTTP sent to a command port: the connection closes, this
    // error reply unsent.
    req.conn->close_without_reply();
    return coronet::reply::err("never sent");
  }
  return coronet::reply::text(kind);
}

coronet::router make_router() {
  coronet::router r;
  coronet::commands::register_builtins(r);
  r.add("p", "a plain reply of the kind named", coronet::plain_command_handler(&plain_kind), coronet::arity::exactly(1));
  r.add("plainlonger", "the same, under a long name", coronet::plain_command_handler(&plain_kind),
        coronet::arity::exactly(1));
  return r;
}

const coronet::command_metrics& metrics_of(const coronet::server_metrics& m, const coronet::server& srv,
                                           std::string_view name) {
  const coronet::command* c = srv.routes().find(name);
  REQUIRE(c != nullptr);
  return m.commands[static_cast<std::size_t>(c - srv.routes().commands().data())];
}

}  // namespace

TEST_CASE("plain handlers answer alike under short and long names, in RESP2, RESP3 and the line protocol",
          "[server][direct_lane]") {
  const std::string name = GENERATE(std::string("p"), std::string("plainlonger"));
  SECTION("RESP") {
    coronet::server_options o = coronet_test::test_server_options(coronet::wire_protocol::resp);
    o.latency_sample_every = 1;
    coronet_test::running_server s(o, make_router());
    peer p(s.port());
    CHECK(p.call(name + " hi") == "+hi");
    CHECK(p.call(name + " null") == "$-1");
    CHECK(p.call(name + " err") == "-ERR plain said no");
    CHECK(p.call(name + " throw") == "-ERR internal error");
    CHECK(p.call(name) == "-ERR wrong number of arguments for '" + name + "' command");
    // HELLO (a plain handler itself) answers in the version it chooses; so do the next ones.
    p.send("HELLO 3\r\n");
    CHECK(p.line() == "%7");
    p.until("$7\r\nmodules\r\n*0\r\n");
    CHECK(p.call(name + " null") == "_");
    p.send("HELLO 2\r\n");
    CHECK(p.line() == "*14");
    p.until("$7\r\nmodules\r\n*0\r\n");
    CHECK(p.call(name + " null") == "$-1");
    const coronet::server_metrics m = s.get().metrics();
    const coronet::command_metrics& c = metrics_of(m, s.get(), name);
    CHECK(c.calls == 7);
    CHECK(c.errors == 3);  // the error reply, the failure and the refused call
    CHECK(c.latency.total() == 7);
  }
  SECTION("line") {
    coronet_test::running_server s(coronet_test::test_server_options(coronet::wire_protocol::line), make_router());
    peer p(s.port());
    CHECK(p.call(name + " a\\b") == "a\\\\b");
    CHECK(p.call(name + " null") == "(nil)");
    CHECK(p.call(name + " err") == "ERR plain said no");
    CHECK(p.call(name + " throw") == "ERR internal error");
  }
}

TEST_CASE("a plain handler's error reply is not sent after close_without_reply; the connection closes",
          "[server][direct_lane]") {
  const std::string name = GENERATE(std::string("p"), std::string("plainlonger"));
  coronet_test::running_server s(coronet_test::test_server_options(coronet::wire_protocol::resp), make_router());
  peer p(s.port());
  CHECK(p.call(name + " hi") == "+hi");
  p.send(name + " drop\r\n" + name + " after\r\n");
  CHECK(p.until_closed().empty());
  CHECK(s.get().stats().security_attacks == 1);
}

}  // namespace server_server_direct_lane_test
