// The built-in commands, called through a router as a server would.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <ctime>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/commands/builtins.hpp"
#include "coronet/command/connection.hpp"
#include "coronet/command/router.hpp"
#include "coronet/core/sync_wait.hpp"
#include "support/router_calls.hpp"

namespace commands_builtins_test {

namespace {

using coronet_test::call;

using coronet_test::builtins;

// The text of `words`' reply through the built-ins; fails the test unless
// the reply is a bulk string.
std::string bulk_text(std::vector<std::string_view> words) {
  const coronet::reply rep = call(builtins(), std::move(words));
  REQUIRE(rep.kind() == coronet::reply_kind::bulk);
  return std::string(rep.str());
}

// Parses `Sun May 27 21:43:58 2018` (local time) back to a time_t.
std::time_t parse_ctime(const std::string& s) {
  static const std::string months = "JanFebMarAprMayJunJulAugSepOctNovDec";
  std::tm tm{};
  tm.tm_mon = static_cast<int>(months.find(s.substr(4, 3)) / 3);
  tm.tm_mday = std::stoi(s.substr(8, 2));
  tm.tm_hour = std::stoi(s.substr(11, 2));
  tm.tm_min = std::stoi(s.substr(14, 2));
  tm.tm_sec = std::stoi(s.substr(17, 2));
  tm.tm_year = std::stoi(s.substr(20, 4)) - 1900;
  tm.tm_isdst = -1;
  return std::mktime(&tm);
}

const std::regex ctime_form(
    R"(^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 1-3][0-9] \d\d:\d\d:\d\d \d{4}$)");

}  // namespace

TEST_CASE("timestamp replies the local time in ctime form", "[builtins]") {
  const std::string text = bulk_text({"timestamp"});
  CHECK(text.size() == 24);
  REQUIRE(std::regex_match(text, ctime_form));
  CHECK(std::abs(static_cast<double>(parse_ctime(text) - std::time(nullptr))) <= 2);
}

TEST_CASE("timetampe, the seed's spelling, is timestamp", "[builtins]") {
  const coronet::router r = builtins();
  CHECK(r.find("timetampe") == r.find("timestamp"));
  CHECK(std::regex_match(bulk_text({"timetampe"}), ctime_form));
  CHECK(call(r, {"TIMETAMPE", "unix"}).kind() == coronet::reply_kind::bulk);
}

TEST_CASE("timestamp unix replies the epoch seconds in decimal, as a bulk string", "[builtins]") {
  const coronet::router r = builtins();
  const std::string digits = bulk_text({"timestamp", "unix"});
  REQUIRE(std::regex_match(digits, std::regex("[1-9][0-9]*")));
  CHECK(std::abs(static_cast<double>(std::stoll(digits) - std::time(nullptr))) <= 2);
  CHECK(call(r, {"TIMESTAMP", "UNIX"}).kind() == coronet::reply_kind::bulk);
}

TEST_CASE("timestamp iso replies UTC ISO-8601 with milliseconds", "[builtins]") {
  const std::string text = bulk_text({"timestamp", "iso"});
  REQUIRE(std::regex_match(text, std::regex(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$)")));
  std::tm tm{};
  tm.tm_year = std::stoi(text.substr(0, 4)) - 1900;
  tm.tm_mon = std::stoi(text.substr(5, 2)) - 1;
  tm.tm_mday = std::stoi(text.substr(8, 2));
  tm.tm_hour = std::stoi(text.substr(11, 2));
  tm.tm_min = std::stoi(text.substr(14, 2));
  tm.tm_sec = std::stoi(text.substr(17, 2));
  CHECK(std::abs(static_cast<double>(::timegm(&tm) - std::time(nullptr))) <= 2);
}

TEST_CASE("timestamp with another format is an error naming it", "[builtins]") {
  const coronet::router r = builtins();
  CHECK(call(r, {"timestamp", "x"}) == coronet::reply::error_line("ERR unknown format 'x'"));
  CHECK(call(r, {"timestamp", "rfc'3339\n"}) == coronet::reply::error_line("ERR unknown format 'rfc\\x273339\\x0a'"));
  CHECK(call(r, {"timestamp", std::string(200, 'f')}).str() == "ERR unknown format '" + std::string(128, 'f') + "'");
  CHECK(call(r, {"timestamp", "unix", "iso"}) ==
        coronet::reply::error_line("ERR wrong number of arguments for 'timestamp' command"));
}

TEST_CASE("ping replies PONG, or its argument", "[builtins]") {
  const coronet::router r = builtins();
  CHECK(call(r, {"ping"}) == coronet::reply::text("PONG"));
  CHECK(call(r, {"PING", "hello world"}) == coronet::reply::bulk("hello world"));
  CHECK(call(r, {"ping", std::string_view("a\0\r\nb", 5)}) == coronet::reply::bulk(std::string_view("a\0\r\nb", 5)));
  CHECK(call(r, {"ping", "a", "b"}) == coronet::reply::error_line("ERR wrong number of arguments for 'ping' command"));
}

TEST_CASE("echo replies its argument as a bulk string", "[builtins]") {
  const coronet::router r = builtins();
  CHECK(call(r, {"echo", "hi"}) == coronet::reply::bulk("hi"));
  const std::string big(1000, 'z');
  CHECK(call(r, {"echo", big}) == coronet::reply::bulk(big));
  CHECK(call(r, {"echo"}) == coronet::reply::error_line("ERR wrong number of arguments for 'echo' command"));
  CHECK(call(r, {"echo", "a", "b"}) == coronet::reply::error_line("ERR wrong number of arguments for 'echo' command"));
}

TEST_CASE("help lists every command with its description and aliases, as bulk strings", "[builtins]") {
  coronet::router r = builtins();
  r.add("custom", "a command of the application",
        [](coronet::request&) -> coronet::task<coronet::reply> { co_return coronet::reply::null(); });
  r.alias("c1", "custom").alias("c2", "custom");
  const coronet::reply rep = call(r, {"help"});
  REQUIRE(rep.kind() == coronet::reply_kind::array);
  std::vector<std::string> entries;
  for (const coronet::reply& e : rep.elements()) {
    CHECK(e.kind() == coronet::reply_kind::bulk);
    entries.emplace_back(e.str());
  }
  REQUIRE(entries.size() == r.commands().size());
  CHECK(entries.size() == 21 + coronet::commands::redis_transaction_command_names.size());
  CHECK(entries[0].rfind("timestamp - ", 0) == 0);
  CHECK(entries[0].find("(alias: timetampe)") != std::string::npos);
  CHECK(entries[1] == "ping - replies PONG, or the message given");
  CHECK(entries[3] == "help - lists the commands, or describes the one named");
  CHECK(entries[6].rfind("hello - ", 0) == 0);
  CHECK(entries[11].rfind("command - ", 0) == 0);
  CHECK(entries[13].rfind("config - ", 0) == 0);
  CHECK(entries[14].rfind("subscribe - ", 0) == 0);
  CHECK(entries[19].rfind("pubsub - ", 0) == 0);
  CHECK(entries[20].rfind("multi - ", 0) == 0);
  CHECK(entries.back() == "custom - a command of the application (aliases: c1, c2)");
  // COMMAND is Redis's command table now, not an alias of help.
  CHECK(call(r, {"COMMAND"}) != rep);
  CHECK(call(r, {"COMMAND"}).elements().size() == r.commands().size());
}

TEST_CASE("help with a name describes that command", "[builtins]") {
  const coronet::router r = builtins();
  CHECK(call(r, {"help", "PING"}) == coronet::reply::bulk("ping - replies PONG, or the message given"));
  CHECK(call(r, {"help", "timetampe"}).str().rfind("timestamp - ", 0) == 0);
  CHECK(call(r, {"help", "nosuch"}) == coronet::reply::error_line("ERR unknown command 'nosuch'"));
  CHECK(call(r, {"help", "a", "b"}) == coronet::reply::error_line("ERR wrong number of arguments for 'help' command"));
}

TEST_CASE("quit replies OK and asks for the connection to close", "[builtins]") {
  const coronet::router r = builtins();
  coronet::connection conn;
  CHECK(!conn.closing());
  CHECK(call(r, {"quit"}, &conn) == coronet::reply::text("OK"));
  CHECK(conn.closing());
  CHECK(call(r, {"quit"}) == coronet::reply::text("OK"));
  // Any arguments, as Redis's QUIT.
  coronet::connection other;
  CHECK(call(r, {"quit", "now"}, &other) == coronet::reply::text("OK"));
  CHECK(other.closing());
}

TEST_CASE("stats outside a server is an error", "[builtins]") {
  const coronet::router r = builtins();
  CHECK(call(r, {"stats"}) == coronet::reply::error_line("ERR stats unavailable"));
  coronet::connection conn;
  CHECK(call(r, {"stats"}, &conn) == coronet::reply::error_line("ERR stats unavailable"));
}

TEST_CASE("register_builtins refuses a router that already has one of its names, changing nothing", "[builtins]") {
  coronet::router r;
  r.add("mine", "", [](coronet::request&) -> coronet::task<coronet::reply> { co_return coronet::reply::null(); });
  r.add("Stats", "", [](coronet::request&) -> coronet::task<coronet::reply> { co_return coronet::reply::null(); });
  CHECK_THROWS_AS(coronet::commands::register_builtins(r), coronet::command_error);
  CHECK(r.commands().size() == 2);
  CHECK(r.find("ping") == nullptr);

  coronet::router twice = builtins();
  CHECK_THROWS_AS(coronet::commands::register_builtins(twice), coronet::command_error);

  coronet::router redis_name;
  redis_name.add("Hello", "", [](coronet::request&) { return coronet::reply::null(); });
  CHECK_THROWS_AS(coronet::commands::register_builtins(redis_name), coronet::command_error);
  CHECK(redis_name.commands().size() == 1);
  CHECK(redis_name.find("ping") == nullptr);
}

TEST_CASE("every built-in value is a bulk string; status replies stay simple strings", "[builtins]") {
  const coronet::router r = builtins();
  CHECK(call(r, {"timestamp"}).kind() == coronet::reply_kind::bulk);
  CHECK(call(r, {"timestamp", "iso"}).kind() == coronet::reply_kind::bulk);
  CHECK(call(r, {"timestamp", "unix"}).kind() == coronet::reply_kind::bulk);
  CHECK(call(r, {"echo", "x"}).kind() == coronet::reply_kind::bulk);
  CHECK(call(r, {"ping", "x"}).kind() == coronet::reply_kind::bulk);
  CHECK(call(r, {"help", "ping"}).kind() == coronet::reply_kind::bulk);
  const coronet::reply help = call(r, {"help"});
  for (const coronet::reply& e : help.elements())
    CHECK(e.kind() == coronet::reply_kind::bulk);
  CHECK(call(r, {"ping"}).kind() == coronet::reply_kind::text);
  CHECK(call(r, {"quit"}).kind() == coronet::reply_kind::text);
}

TEST_CASE("the built-ins carry Redis's flags; PING, QUIT, HELLO, AUTH and RESET run before AUTH", "[builtins]") {
  using coronet::command_flags;
  const coronet::router r = builtins();
  std::vector<std::string> before_auth;
  for (const coronet::command& c : r.commands())
    if (coronet::has_flags(c.flags, command_flags::noauth))
      before_auth.push_back(c.name);
  CHECK(before_auth == std::vector<std::string>{"ping", "quit", "hello", "auth", "reset"});
  CHECK(coronet::has_flags(r.find("echo")->flags, command_flags::fast | command_flags::loading | command_flags::stale));
  CHECK(r.find("echo")->acl_categories == std::vector<std::string>{"connection"});
}

}  // namespace commands_builtins_test
