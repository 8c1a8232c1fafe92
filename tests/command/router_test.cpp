// coronet::router: registration rules, case-insensitive lookup and dispatch replies.
#include <catch2/catch.hpp>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <asio/error.hpp>
#include <asio/io_context.hpp>

#include "coronet/command/connection.hpp"
#include "coronet/command/router.hpp"
#include "coronet/core/log.hpp"
#include "coronet/core/sync_wait.hpp"
#include "coronet/net/yield.hpp"

namespace command_router_test {

namespace {

coronet::task<coronet::reply> ok_handler(coronet::request&) { co_return coronet::reply::text("OK"); }

coronet::task<coronet::reply> count_args(coronet::request& req) {
  co_return coronet::reply::integer(static_cast<std::int64_t>(req.size()));
}

coronet::reply dispatch(const coronet::router& r, std::vector<std::string_view> words) {
  coronet::request req = coronet::request::from_words(words);
  return coronet::sync_wait(r.dispatch(req));
}

// Collects log messages while alive, then restores the default sink.
class log_capture {
public:
  log_capture() {
    coronet::set_log_handler([this](coronet::log_level, std::string_view msg) {
      std::lock_guard<std::mutex> lock(mutex_);
      messages_.emplace_back(msg);
    });
  }
  ~log_capture() { coronet::set_log_handler({}); }
  std::vector<std::string> messages() {
    std::lock_guard<std::mutex> lock(mutex_);
    return messages_;
  }

private:
  std::mutex mutex_;
  std::vector<std::string> messages_;
};

}  // namespace

TEST_CASE("commands are found case-insensitively and stored in lower case", "[router]") {
  coronet::router r;
  r.add("Ping", "replies PONG", ok_handler);
  r.alias("P", "PING");
  const coronet::command* c = r.find("ping");
  REQUIRE(c != nullptr);
  CHECK(c->name == "ping");
  CHECK(c->description == "replies PONG");
  CHECK(r.find("PING") == c);
  CHECK(r.find("pInG") == c);
  CHECK(r.find("p") == c);
  CHECK(r.find("P") == c);
  CHECK(c->aliases == std::vector<std::string>{"p"});
  CHECK(r.find("pin") == nullptr);
  CHECK(r.find("pings") == nullptr);
  CHECK(r.find("") == nullptr);
  CHECK(r.find(std::string(200, 'p')) == nullptr);
}

TEST_CASE("commands are listed in registration order", "[router]") {
  coronet::router r;
  r.add("zeta", "", ok_handler).add("alpha", "", ok_handler).add("mid", "", ok_handler);
  REQUIRE(r.commands().size() == 3);
  CHECK(r.commands()[0].name == "zeta");
  CHECK(r.commands()[1].name == "alpha");
  CHECK(r.commands()[2].name == "mid");
}

TEST_CASE("a name already taken by a command or an alias is refused", "[router]") {
  coronet::router r;
  r.add("get", "", ok_handler);
  r.alias("fetch", "get");
  CHECK_THROWS_AS(r.add("get", "", ok_handler), coronet::command_error);
  CHECK_THROWS_AS(r.add("GET", "", ok_handler), coronet::command_error);
  CHECK_THROWS_AS(r.add("fetch", "", ok_handler), coronet::command_error);
  CHECK_THROWS_AS(r.alias("Fetch", "get"), coronet::command_error);
  CHECK_THROWS_AS(r.alias("get", "get"), coronet::command_error);
  CHECK_THROWS_AS(r.alias("other", "unknown"), coronet::command_error);
  CHECK(r.commands().size() == 1);
  CHECK(r.find("other") == nullptr);
}

TEST_CASE("command_error is an invalid_argument naming the problem", "[router]") {
  coronet::router r;
  r.add("get", "", ok_handler);
  try {
    r.add("get", "", ok_handler);
    FAIL("no exception");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("'get'") != std::string::npos);
  }
}

TEST_CASE("unacceptable names, handlers and arities are refused", "[router]") {
  coronet::router r;
  CHECK_THROWS_AS(r.add("", "", ok_handler), coronet::command_error);
  CHECK_THROWS_AS(r.add(std::string(coronet::router::max_name_length + 1, 'a'), "", ok_handler),
                  coronet::command_error);
  CHECK_NOTHROW(r.add(std::string(coronet::router::max_name_length, 'a'), "", ok_handler));
  CHECK_THROWS_AS(r.add("two words", "", ok_handler), coronet::command_error);
  CHECK_THROWS_AS(r.add("tab\there", "", ok_handler), coronet::command_error);
  CHECK_THROWS_AS(r.add("new\nline", "", ok_handler), coronet::command_error);
  CHECK_THROWS_AS(r.add(std::string("nul\0x", 5), "", ok_handler), coronet::command_error);
  CHECK_THROWS_AS(r.add("del\x7f", "", ok_handler), coronet::command_error);
  CHECK_THROWS_AS(r.add("nohandler", "", coronet::command_handler{}), coronet::command_error);
  CHECK_THROWS_AS(r.add("backwards", "", ok_handler, coronet::arity::between(2, 1)), coronet::command_error);
  r.add("target", "", ok_handler);
  CHECK_THROWS_AS(r.alias("", "target"), coronet::command_error);
  CHECK_THROWS_AS(r.alias("bad alias", "target"), coronet::command_error);
  CHECK(r.commands().size() == 2);
}

TEST_CASE("dispatch runs the handler with the request", "[router]") {
  coronet::router r;
  r.add("count", "", count_args);
  CHECK(dispatch(r, {"count"}) == coronet::reply::integer(0));
  CHECK(dispatch(r, {"COUNT", "a", "b"}) == coronet::reply::integer(2));
}

TEST_CASE("an unknown command gets Redis's ERR unknown command 'x', with args beginning with: ", "[router]") {
  coronet::router r;
  r.add("known", "", ok_handler);
  const coronet::reply rep = dispatch(r, {"nosuch", "arg"});
  CHECK(rep.kind() == coronet::reply_kind::error);
  CHECK(rep.str() == "ERR unknown command 'nosuch', with args beginning with: 'arg' ");
  CHECK(dispatch(r, {"NoSuch"}).str() == "ERR unknown command 'NoSuch', with args beginning with: ");
  CHECK(dispatch(r, {"x", "a", "", "b c"}).str() == "ERR unknown command 'x', with args beginning with: 'a' '' 'b c' ");
  CHECK(coronet::unknown_command_reply("x") ==
        coronet::reply::error_line("ERR unknown command 'x', with args beginning with: "));
}

TEST_CASE("an unknown command's name is cut at 128 bytes, without a mark, as Redis's %.128s", "[router]") {
  coronet::router r;
  const std::string name(300, 'a');
  CHECK(dispatch(r, {name}).str() == "ERR unknown command '" + std::string(128, 'a') + "', with args beginning with: ");
  const std::string exact(128, 'b');
  CHECK(dispatch(r, {exact}).str() == "ERR unknown command '" + exact + "', with args beginning with: ");
}

TEST_CASE("an unknown command's arguments are listed while their text is under 128 bytes", "[router]") {
  coronet::router r;
  // Redis: each argument adds "'arg' " while the list is shorter than 128
  // bytes, the argument cut to what is left of the 128.
  const std::string a(100, 'a');
  const std::string b(100, 'b');
  const std::string expected_args = "'" + a + "' '" + std::string(128 - 103, 'b') + "' ";
  CHECK(dispatch(r, {"x", a, b, "c"}).str() == "ERR unknown command 'x', with args beginning with: " + expected_args);
  const std::string big(300, 'z');
  CHECK(dispatch(r, {"x", big, "c"}).str() ==
        "ERR unknown command 'x', with args beginning with: '" + std::string(128, 'z') + "' ");
  // 125 bytes of list after the first: the second gets 3 bytes.
  const std::string first(122, 'f');
  CHECK(dispatch(r, {"x", first, "second"}).str() ==
        "ERR unknown command 'x', with args beginning with: '" + first + "' 'sec' ");
}

TEST_CASE("an unknown command's non-printable bytes, quote and backslash are written \\xHH", "[router]") {
  coronet::router r;
  const std::string name("a\x01\r\n'\\\x7f\xff z", 10);
  CHECK(dispatch(r, {name}).str() ==
        "ERR unknown command 'a\\x01\\x0d\\x0a\\x27\\x5c\\x7f\\xff z', with args beginning with: ");
  CHECK(dispatch(r, {std::string_view("\0", 1), "x\r\ny"}).str() ==
        "ERR unknown command '\\x00', with args beginning with: 'x\\x0d\\x0ay' ");
}

TEST_CASE("a wrong argument count gets ERR wrong number of arguments for 'x' command", "[router]") {
  coronet::router r;
  r.add("Pair", "", count_args, coronet::arity::exactly(2));
  r.add("some", "", count_args, coronet::arity::between(1, 2));
  r.add("many", "", count_args, coronet::arity::at_least(1));
  r.alias("couple", "pair");
  CHECK(dispatch(r, {"pair", "a"}).str() == "ERR wrong number of arguments for 'pair' command");
  CHECK(dispatch(r, {"PAIR", "a", "b", "c"}).str() == "ERR wrong number of arguments for 'pair' command");
  CHECK(dispatch(r, {"couple", "a"}).str() == "ERR wrong number of arguments for 'pair' command");
  CHECK(dispatch(r, {"pair", "a", "b"}) == coronet::reply::integer(2));
  CHECK(dispatch(r, {"some"}).str() == "ERR wrong number of arguments for 'some' command");
  CHECK(dispatch(r, {"some", "1", "2"}) == coronet::reply::integer(2));
  CHECK(dispatch(r, {"some", "1", "2", "3"}).kind() == coronet::reply_kind::error);
  CHECK(dispatch(r, {"many"}).str() == "ERR wrong number of arguments for 'many' command");
  std::vector<std::string_view> lots(501, "x");
  lots[0] = "many";
  CHECK(dispatch(r, lots) == coronet::reply::integer(500));
  CHECK(coronet::wrong_arity_reply("x") == coronet::reply::error_line("ERR wrong number of arguments for 'x' command"));
}

TEST_CASE("flags and ACL categories are set on a command through any of its names", "[router]") {
  using coronet::command_flags;
  coronet::router r;
  r.add("cmd", "", ok_handler);
  r.alias("other", "cmd");
  CHECK(r.find("cmd")->flags == command_flags::none);
  CHECK(r.find("cmd")->acl_categories.empty());
  r.set_flags("OTHER", command_flags::fast | command_flags::noauth).set_acl_categories("cmd", {"connection"});
  CHECK(r.find("cmd")->flags == (command_flags::fast | command_flags::noauth));
  CHECK(coronet::has_flags(r.find("cmd")->flags, command_flags::noauth));
  CHECK_FALSE(coronet::has_flags(r.find("cmd")->flags, command_flags::noauth | command_flags::write));
  CHECK(r.find("cmd")->acl_categories == std::vector<std::string>{"connection"});
  CHECK_THROWS_AS(r.set_flags("nosuch", command_flags::fast), coronet::command_error);
  CHECK_THROWS_AS(r.set_acl_categories("nosuch", {}), coronet::command_error);
}

TEST_CASE("the router counts authentication failures, and a copy keeps the count", "[router]") {
  coronet::router r;
  CHECK(r.auth_failures() == 0);
  r.count_auth_failure();
  r.count_auth_failure();
  CHECK(r.auth_failures() == 2);
  const coronet::router copy = r;
  CHECK(copy.auth_failures() == 2);
}

TEST_CASE("a request without a connection, or whose connection has no server, is not gated by AUTH", "[router]") {
  coronet::router r;
  r.add("cmd", "", ok_handler);
  CHECK(dispatch(r, {"cmd"}) == coronet::reply::text("OK"));
  coronet::connection conn;  // not authenticated, but no server asks for a password
  std::vector<std::string_view> words{"cmd"};
  coronet::request req = coronet::request::from_words(words);
  req.conn = &conn;
  CHECK(coronet::sync_wait(r.dispatch(req)) == coronet::reply::text("OK"));
}

TEST_CASE("a handler that throws gives ERR internal error and is logged", "[router]") {
  log_capture logs;
  coronet::router r;
  r.add("boom", "", [](coronet::request&) -> coronet::task<coronet::reply> {
    throw std::runtime_error("kaboom");
    co_return coronet::reply::text("unreachable");
  });
  r.add("fail", "", [](coronet::request&) -> coronet::task<coronet::reply> {
    throw std::system_error(asio::error::connection_refused);
    co_return coronet::reply::text("unreachable");
  });
  CHECK(dispatch(r, {"boom"}) == coronet::reply::error_line("ERR internal error"));
  const auto messages = logs.messages();
  REQUIRE(!messages.empty());
  CHECK(messages.front().find("boom") != std::string::npos);
  CHECK(messages.front().find("kaboom") != std::string::npos);
  CHECK(dispatch(r, {"fail"}) == coronet::reply::error_line("ERR internal error"));
}

TEST_CASE("a handler that throws something not derived from std::exception still gives ERR internal error",
          "[router]") {
  log_capture logs;
  coronet::router r;
  r.add("odd", "", [](coronet::request&) -> coronet::task<coronet::reply> {
    throw 42;
    co_return coronet::reply::text("unreachable");
  });
  CHECK(dispatch(r, {"odd"}) == coronet::reply::error_line("ERR internal error"));
}

TEST_CASE("operation_aborted from a handler propagates out of dispatch", "[router]") {
  coronet::router r;
  r.add("cancelled", "", [](coronet::request&) -> coronet::task<coronet::reply> {
    throw std::system_error(asio::error::operation_aborted);
    co_return coronet::reply::text("unreachable");
  });
  try {
    dispatch(r, {"cancelled"});
    FAIL("no exception");
  } catch (const std::system_error& e) {
    CHECK(e.code() == asio::error::operation_aborted);
  }
}

TEST_CASE("a request's connection reaches the handler", "[router]") {
  coronet::router r;
  coronet::connection* seen = nullptr;
  r.add("who", "", [&seen](coronet::request& req) -> coronet::task<coronet::reply> {
    seen = req.conn;
    co_return coronet::reply::null();
  });
  coronet::connection conn;
  std::vector<std::string_view> words{"who"};
  coronet::request req = coronet::request::from_words(words);
  req.conn = &conn;
  CHECK(coronet::sync_wait(r.dispatch(req)) == coronet::reply::null());
  CHECK(seen == &conn);
}

namespace {

coronet::reply plain_count(coronet::request& req) {
  return coronet::reply::integer(static_cast<std::int64_t>(req.size()));
}

}  // namespace

TEST_CASE("plain-function handlers are dispatched and their reply returned", "[router]") {
  coronet::router r;
  int calls = 0;
  r.add("hello", "greets", [&calls](coronet::request& req) {
    ++calls;
    return coronet::reply::text("hello " + std::string(req.size() > 0 ? req.arg(0) : "world"));
  });
  r.add("count", "", &plain_count, coronet::arity::between(1, 2));
  const coronet::command* hello = r.find("hello");
  REQUIRE(hello != nullptr);
  CHECK(hello->plain_handler);
  CHECK_FALSE(hello->handler);
  CHECK(hello->description == "greets");
  CHECK(dispatch(r, {"hello"}) == coronet::reply::text("hello world"));
  CHECK(dispatch(r, {"HELLO", "you"}) == coronet::reply::text("hello you"));
  CHECK(calls == 2);
  CHECK(dispatch(r, {"count", "a", "b"}) == coronet::reply::integer(2));
  CHECK(dispatch(r, {"count"}).str() == "ERR wrong number of arguments for 'count' command");
  CHECK(dispatch(r, {"count", "a", "b", "c"}).str() == "ERR wrong number of arguments for 'count' command");
}

TEST_CASE("a plain handler that throws gives ERR internal error and is logged", "[router]") {
  log_capture logs;
  coronet::router r;
  r.add("explode", "", [](coronet::request&) -> coronet::reply { throw std::runtime_error("plain kaboom"); });
  // The log is rate-limited (one message a second) and earlier tests in this
  // binary may have just used it: dispatch until a message gets through.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  std::vector<std::string> messages;
  int other_replies = 0;
  while (messages.empty() && std::chrono::steady_clock::now() < deadline) {
    if (dispatch(r, {"explode"}) != coronet::reply::error_line("ERR internal error"))
      ++other_replies;
    messages = logs.messages();
  }
  CHECK(other_replies == 0);
  REQUIRE(!messages.empty());
  CHECK(messages.front().find("explode") != std::string::npos);
  CHECK(messages.front().find("plain kaboom") != std::string::npos);
}

TEST_CASE("an empty plain handler is refused", "[router]") {
  coronet::router r;
  CHECK_THROWS_AS(r.add("nothing", "", coronet::plain_command_handler{}), coronet::command_error);
  CHECK(r.find("nothing") == nullptr);
  CHECK(r.commands().empty());
}

TEST_CASE("a mixed-case name and its aliases are found in any case", "[router]") {
  coronet::router r;
  r.add("Ping", "", &plain_count);
  r.alias("Hello", "ping");
  const coronet::command* c = r.find("Ping");
  REQUIRE(c != nullptr);
  for (const char* name : {"Ping", "PING", "ping", "PiNg", "pINg", "Hello", "HELLO", "hello", "hElLo"}) {
    INFO(name);
    CHECK(r.find(name) == c);
  }
  CHECK(dispatch(r, {"PiNg", "x"}) == coronet::reply::integer(1));
  CHECK(dispatch(r, {"hELLO"}) == coronet::reply::integer(0));
  CHECK(r.find("Pin") == nullptr);
  CHECK(r.find("HELLOS") == nullptr);
}

TEST_CASE("many commands are each found in every case", "[router]") {
  coronet::router r;
  std::vector<std::string> names;
  for (int i = 0; i < 200; ++i) {
    names.push_back("Cmd" + std::to_string(i) + "x");
    r.add(names.back(), "", &plain_count);
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    std::string upper = names[i];
    std::string lower = names[i];
    std::string mixed = names[i];
    for (std::size_t k = 0; k < upper.size(); ++k) {
      upper[k] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[k])));
      lower[k] = static_cast<char>(std::tolower(static_cast<unsigned char>(lower[k])));
      mixed[k] = k % 2 == 0 ? upper[k] : lower[k];
    }
    const coronet::command* c = r.find(names[i]);
    REQUIRE(c != nullptr);
    CHECK(c == &r.commands()[i]);
    CHECK(r.find(upper) == c);
    CHECK(r.find(lower) == c);
    CHECK(r.find(mixed) == c);
  }
}

TEST_CASE("operation_aborted from a coroutine handler after it suspended propagates out of dispatch", "[router]") {
  log_capture logs;
  coronet::router r;
  r.add("slow", "", [](coronet::request&) -> coronet::task<coronet::reply> {
    co_await coronet::yield();
    throw std::system_error(asio::error::operation_aborted);
    co_return coronet::reply::text("unreachable");
  });
  std::vector<std::string_view> words{"slow"};
  coronet::request req = coronet::request::from_words(words);
  asio::io_context ctx(1);
  std::error_code caught;
  try {
    coronet::sync_wait(ctx, r.dispatch(req));
  } catch (const std::system_error& e) {
    caught = e.code();
  }
  CHECK(caught == asio::error::operation_aborted);
  CHECK(logs.messages().empty());  // a cancellation is not a handler failure
}

}  // namespace command_router_test
