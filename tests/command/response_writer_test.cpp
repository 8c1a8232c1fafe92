// coronet::response_writer: what a writing handler writes is byte for byte what the same reply
// returned from a plain handler would give, in every encoding; and writing handlers through
// the router.
#include <catch2/catch.hpp>

#include <cstdint>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/command/response_writer.hpp"
#include "coronet/command/router.hpp"
#include "coronet/core/sync_wait.hpp"
#include "coronet/protocol/line/line_codec.hpp"
#include "coronet/protocol/resp/resp_codec.hpp"

namespace command_response_writer_test {

namespace {

using coronet::reply;
using coronet::reply_encoding;
using coronet::response_writer;

std::string encoded(const reply& r, reply_encoding e) {
  std::string out = "prefix:";
  if (e == reply_encoding::line)
    coronet::encode_line_reply(r, out);
  else
    coronet::encode_resp_reply(r, out, e == reply_encoding::resp3 ? 3 : 2);
  return out;
}

// Writes with `write` into an output in `e` and into a reply; both must match `expected`.
void check_same(const std::function<void(response_writer&)>& write, const reply& expected) {
  for (reply_encoding e : {reply_encoding::resp2, reply_encoding::resp3, reply_encoding::line}) {
    coronet::output_buffer out;
    out = "prefix:";
    response_writer w(out, e);
    write(w);
    CHECK(w.written());
    CHECK(w.wrote_error() == (expected.kind() == coronet::reply_kind::error));
    CHECK(out == encoded(expected, e));
  }
  reply captured = reply::text("before");
  response_writer w(captured);
  write(w);
  CHECK(captured == expected);
}

}  // namespace

TEST_CASE("response_writer writes what encoding the equivalent reply writes", "[response_writer]") {
  const std::string long_text(200, 'x');
  const std::string with_breaks = "a\r\nb\\c";
  // 64 and 65 bytes: the last built on the stack, the first appended piece by piece.
  const std::string at_limit(64, 'y');
  const std::string over_limit(65, 'z');
  for (std::string_view s : {std::string_view("PONG"), std::string_view(""), std::string_view(long_text),
                             std::string_view(with_breaks), std::string_view(at_limit), std::string_view(over_limit)}) {
    INFO(s);
    check_same([s](response_writer& w) { w.text(s); }, reply::text(s));
    check_same([s](response_writer& w) { w.bulk(s); }, reply::bulk(s));
    check_same([s](response_writer& w) { w.error_line(s); }, reply::error_line(s));
    check_same([s](response_writer& w) { w.err(s); }, reply::err(s));
  }
  for (std::int64_t v : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{42}, std::numeric_limits<std::int64_t>::min(),
                         std::numeric_limits<std::int64_t>::max()})
    check_same([v](response_writer& w) { w.integer(v); }, reply::integer(v));
  check_same([](response_writer& w) { w.null(); }, reply::null());
  std::vector<reply> elements;
  elements.push_back(reply::bulk("a"));
  elements.push_back(reply::integer(7));
  const reply array = reply::array(std::move(elements));
  check_same([&array](response_writer& w) { w.value(array); }, array);
  check_same([](response_writer& w) { w.value(reply::boolean(true)); }, reply::boolean(true));
  check_same([](response_writer& w) { w.value(reply::error_line("NOPE x")); }, reply::error_line("NOPE x"));
}

TEST_CASE("response_writer keeps the first reply written and ignores later ones", "[response_writer]") {
  coronet::output_buffer out;
  response_writer w(out, reply_encoding::resp2);
  CHECK_FALSE(w.written());
  w.integer(1);
  w.text("ignored");
  w.err("ignored");
  CHECK(out == ":1\r\n");
  CHECK_FALSE(w.wrote_error());
}

TEST_CASE("response_writer's inline status text is a first reply like any other", "[response_writer]") {
  coronet::output_buffer out;
  response_writer w(out, reply_encoding::resp3);
  w.text("OK");
  w.text("x");
  w.err("y");
  w.integer(2);
  CHECK(out == "+OK\r\n");
  CHECK(w.written());
  CHECK_FALSE(w.wrote_error());
  // After an error, a status text is ignored too, and the error stays the reply.
  coronet::output_buffer after_error;
  response_writer e(after_error, reply_encoding::resp2);
  e.err("first");
  e.text("OK");
  CHECK(after_error == "-ERR first\r\n");
  CHECK(e.wrote_error());
}

TEST_CASE("router dispatches writing handlers: the reply written, null when none, failures as for others",
          "[response_writer][router]") {
  coronet::router r;
  r.add("hi", "", coronet::writing_command_handler([](coronet::request& req, response_writer& w) {
          if (req.size() == 0)
            w.text("HI");
          else
            w.bulk(req.arg(0));
        }));
  r.add("nothing", "", coronet::writing_command_handler([](coronet::request&, response_writer&) {}));
  r.add("throws", "", coronet::writing_command_handler([](coronet::request&, response_writer&) {
          throw std::runtime_error("boom");
        }));
  r.add("late", "", coronet::writing_command_handler([](coronet::request&, response_writer& w) {
          w.integer(5);
          throw std::runtime_error("after the reply");
        }));
  const auto dispatch = [&r](std::vector<std::string_view> words) {
    coronet::request req = coronet::request::from_words(words);
    return coronet::sync_wait(r.dispatch(req));
  };
  CHECK(dispatch({"HI"}) == reply::text("HI"));
  CHECK(dispatch({"hi", "there"}) == reply::bulk("there"));
  CHECK(dispatch({"nothing"}) == reply::null());
  CHECK(dispatch({"throws"}) == reply::err("internal error"));
  CHECK(dispatch({"late"}) == reply::integer(5));
  const coronet::command* c = r.find("hi");
  REQUIRE(c != nullptr);
  CHECK(c->writing_handler);
  CHECK_FALSE(c->plain_handler);
  CHECK_FALSE(c->handler);
}

TEST_CASE("response_writer finds CR and LF at every place of a short text", "[response_writer]") {
  // Bytes one bit away from CR and LF too, which a word-at-a-time test could confuse with them.
  const char specials[] = {'\r', '\n', '\x8d', '\x8a', '\x0c', '\x0e', '\x0b', '\x09', '\x2d', '\0'};
  for (std::size_t n = 1; n <= 10; ++n) {
    for (std::size_t at = 0; at < n; ++at) {
      for (char c : specials) {
        std::string s(n, 'p');
        s[at] = c;
        INFO("length " << n << ", byte " << static_cast<int>(static_cast<unsigned char>(c)) << " at " << at);
        check_same([&s](response_writer& w) { w.text(s); }, reply::text(s));
        check_same([&s](response_writer& w) { w.error_line(s); }, reply::error_line(s));
      }
    }
  }
}

}  // namespace command_response_writer_test
