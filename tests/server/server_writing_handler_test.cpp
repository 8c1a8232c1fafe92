// Writing handlers (`void(request&, response_writer&)`) through a server: their replies are
// written into the connection's output in its protocol and RESP version, counted in the
// metrics like any reply; and server_options::track_latency.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

#include "coronet/command/response_writer.hpp"
#include "coronet/commands/builtins.hpp"
#include "coronet/server/server.hpp"
#include "coronet/server/server_metrics.hpp"
#include "support/blocking_peer.hpp"
#include "support/running_server.hpp"

namespace server_server_writing_handler_test {

namespace {

using coronet::response_writer;
using peer = coronet_test::blocking_peer;

// `w kind [value]`: writes one reply of `kind`; `twice` writes two (the second is ignored).
void write_kind(coronet::request& req, response_writer& w) {
  const std::string_view kind = req.arg(0);
  if (kind == "text")
    w.text(req.arg(1));
  else if (kind == "bulk")
    w.bulk(req.arg(1));
  else if (kind == "int")
    w.integer(-42);
  else if (kind == "err")
    w.err("writer said no");
  else if (kind == "null")
    w.null();
  else if (kind == "twice") {
    w.text("first");
    w.text("second");
  } else if (kind == "throw")
    throw std::runtime_error("writer failed");
  // "none": nothing written, answered null
}

// How `w` is registered: as a function pointer, which a server calls in its direct lane
// (no awaiter), or as a lambda, which goes through the dispatch awaiter. Both must answer
// alike.
enum class registered_as { function, lambda };

// The built-in commands (HELLO among them) and `w`.
coronet::router make_router(registered_as how = registered_as::function) {
  coronet::router r;
  coronet::commands::register_builtins(r);
  if (how == registered_as::function)
    r.add("w", "writes a reply of the kind named", &write_kind, coronet::arity::between(1, 2));
  else
    r.add("w", "writes a reply of the kind named",
          coronet::writing_command_handler([](coronet::request& req, response_writer& w) { write_kind(req, w); }),
          coronet::arity::between(1, 2));
  return r;
}

}  // namespace

TEST_CASE("writing handlers answer in RESP2, in RESP3 after HELLO 3, and in the line protocol",
          "[server][response_writer]") {
  const registered_as how = GENERATE(registered_as::function, registered_as::lambda);
  SECTION("RESP") {
    coronet_test::running_server s(coronet_test::test_server_options(coronet::wire_protocol::resp), make_router(how));
    peer p(s.port());
    CHECK(p.call("w text hello") == "+hello");
    p.send("*3\r\n$1\r\nw\r\n$4\r\ntext\r\n$4\r\na\r\nb\r\n");
    CHECK(p.line() == "+a  b");  // CR and LF become spaces, as in a simple string reply
    p.send("*3\r\n$1\r\nw\r\n$4\r\nbulk\r\n$4\r\na\r\nb\r\n");
    CHECK(p.exactly(10) == "$4\r\na\r\nb\r\n");
    CHECK(p.call("w int") == ":-42");
    CHECK(p.call("w err") == "-ERR writer said no");
    CHECK(p.call("w null") == "$-1");
    CHECK(p.call("w none") == "$-1");
    CHECK(p.call("w twice") == "+first");
    CHECK(p.call("w throw") == "-ERR internal error");
    CHECK(p.call("PING") == "+PONG");  // the connection goes on
    p.send("HELLO 3\r\n");
    CHECK(p.line() == "%7");  // HELLO's own reply is a RESP3 map, ending with an empty modules array
    p.until("$7\r\nmodules\r\n*0\r\n");
    CHECK(p.call("w null") == "_");
    CHECK(p.call("w int") == ":-42");
  }
  SECTION("line") {
    coronet_test::running_server s(coronet_test::test_server_options(coronet::wire_protocol::line), make_router(how));
    peer p(s.port());
    CHECK(p.call("w text a\\b") == "a\\\\b");  // the line protocol's escapes
    CHECK(p.call("w bulk x") == "x");
    CHECK(p.call("w int") == "-42");
    CHECK(p.call("w err") == "ERR writer said no");
    CHECK(p.call("w null") == "(nil)");
  }
}

TEST_CASE("writing handlers are counted in the metrics; track_latency off counts calls without timing them",
          "[server][response_writer][metrics]") {
  const bool track = GENERATE(true, false);
  const registered_as how = GENERATE(registered_as::function, registered_as::lambda);
  coronet::server_options o = coronet_test::test_server_options(coronet::wire_protocol::resp);
  o.track_latency = track;
  o.latency_sample_every = 1;
  coronet_test::running_server s(o, make_router(how));
  peer p(s.port());
  for (int i = 0; i < 5; ++i)
    REQUIRE(p.call("w int") == ":-42");
  REQUIRE(p.call("w err") == "-ERR writer said no");
  REQUIRE(p.call("w throw") == "-ERR internal error");
  const coronet::server_metrics m = s.get().metrics();
  // Metrics list the commands in registration order.
  const coronet::command* c = s.get().routes().find("w");
  REQUIRE(c != nullptr);
  const auto& w = m.commands[static_cast<std::size_t>(c - s.get().routes().commands().data())];
  CHECK(w.name == "w");
  CHECK(w.calls == 7);
  CHECK(w.errors == 2);
  CHECK(w.latency.total() == (track ? 7u : 0u));
  CHECK(s.get().stats().requests >= 7);
}

TEST_CASE("writing handlers get the checks of every command: arity, NOAUTH, RESP2's subscribed mode",
          "[server][response_writer]") {
  const registered_as how = GENERATE(registered_as::function, registered_as::lambda);
  coronet::server_options o = coronet_test::test_server_options(coronet::wire_protocol::resp);
  o.password = "sesame";
  o.latency_sample_every = 1;
  coronet_test::running_server s(o, make_router(how));
  peer p(s.port());
  CHECK(p.call("w") == "-ERR wrong number of arguments for 'w' command");
  CHECK(p.call("w int") == "-NOAUTH Authentication required.");
  CHECK(p.call("AUTH sesame") == "+OK");
  CHECK(p.call("w int") == ":-42");
  CHECK(p.call("w text a b") == "-ERR wrong number of arguments for 'w' command");
  const std::string subscribed = "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n";
  p.send("SUBSCRIBE news\r\n");
  CHECK(p.exactly(subscribed.size()) == subscribed);
  CHECK(p.call("w int").rfind("-ERR Can't execute 'w'", 0) == 0);
  const std::string unsubscribed = "*3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:0\r\n";
  p.send("UNSUBSCRIBE\r\n");
  CHECK(p.exactly(unsubscribed.size()) == unsubscribed);
  CHECK(p.call("w int") == ":-42");
  // Refused calls count as calls of `w` that failed, in either lane: 2 answered, 4 refused.
  const coronet::server_metrics m = s.get().metrics();
  const coronet::command* c = s.get().routes().find("w");
  REQUIRE(c != nullptr);
  const auto& w = m.commands[static_cast<std::size_t>(c - s.get().routes().commands().data())];
  CHECK(w.calls == 6);
  CHECK(w.errors == 4);
}

}  // namespace server_server_writing_handler_test
