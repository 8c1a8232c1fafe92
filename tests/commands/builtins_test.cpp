// The built-in commands, called through a router as a server would.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <ctime>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/commands/builtins.hpp"
#include "coronet/framework/connection.hpp"
#include "coronet/framework/router.hpp"
#include "coronet/sync_wait.hpp"

namespace {

coronet::reply call(const coronet::router& r, std::vector<std::string_view> words,
                    coronet::connection* conn = nullptr) {
  coronet::request req = coronet::request::from_words(words);
  req.conn = conn;
  return coronet::sync_wait(r.dispatch(req));
}

coronet::router builtins() {
  coronet::router r;
  coronet::commands::register_builtins(r);
  return r;
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
  const coronet::router r = builtins();
  const coronet::reply rep = call(r, {"timestamp"});
  REQUIRE(rep.kind() == coronet::reply_kind::text);
  const std::string text(rep.str());
  CHECK(text.size() == 24);
  REQUIRE(std::regex_match(text, ctime_form));
  CHECK(std::abs(static_cast<double>(parse_ctime(text) - std::time(nullptr))) <= 2);
}

TEST_CASE("timetampe, the seed's spelling, is timestamp", "[builtins]") {
  const coronet::router r = builtins();
  CHECK(r.find("timetampe") == r.find("timestamp"));
  const coronet::reply rep = call(r, {"timetampe"});
  REQUIRE(rep.kind() == coronet::reply_kind::text);
  CHECK(std::regex_match(std::string(rep.str()), ctime_form));
  CHECK(call(r, {"TIMETAMPE", "unix"}).kind() == coronet::reply_kind::integer);
}

TEST_CASE("timestamp unix replies the epoch seconds as an integer", "[builtins]") {
  const coronet::router r = builtins();
  const coronet::reply rep = call(r, {"timestamp", "unix"});
  REQUIRE(rep.kind() == coronet::reply_kind::integer);
  CHECK(std::abs(static_cast<double>(rep.integer() - std::time(nullptr))) <= 2);
  CHECK(call(r, {"TIMESTAMP", "UNIX"}).kind() == coronet::reply_kind::integer);
}

TEST_CASE("timestamp iso replies UTC ISO-8601 with milliseconds", "[builtins]") {
  const coronet::router r = builtins();
  const coronet::reply rep = call(r, {"timestamp", "iso"});
  REQUIRE(rep.kind() == coronet::reply_kind::text);
  const std::string text(rep.str());
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
  CHECK(call(r, {"timestamp", "x"}) == coronet::reply::error("ERR unknown format 'x'"));
  CHECK(call(r, {"timestamp", "rfc'3339\n"}) == coronet::reply::error("ERR unknown format 'rfc\\x273339\\x0a'"));
  CHECK(call(r, {"timestamp", std::string(200, 'f')}).str() == "ERR unknown format '" + std::string(128, 'f') + "...'");
  CHECK(call(r, {"timestamp", "unix", "iso"}) ==
        coronet::reply::error("ERR wrong number of arguments for 'timestamp'"));
}

TEST_CASE("ping replies PONG, or its argument", "[builtins]") {
  const coronet::router r = builtins();
  CHECK(call(r, {"ping"}) == coronet::reply::text("PONG"));
  CHECK(call(r, {"PING", "hello world"}) == coronet::reply::bulk("hello world"));
  CHECK(call(r, {"ping", std::string_view("a\0\r\nb", 5)}) == coronet::reply::bulk(std::string_view("a\0\r\nb", 5)));
  CHECK(call(r, {"ping", "a", "b"}) == coronet::reply::error("ERR wrong number of arguments for 'ping'"));
}

TEST_CASE("echo replies its argument as a bulk string", "[builtins]") {
  const coronet::router r = builtins();
  CHECK(call(r, {"echo", "hi"}) == coronet::reply::bulk("hi"));
  const std::string big(1000, 'z');
  CHECK(call(r, {"echo", big}) == coronet::reply::bulk(big));
  CHECK(call(r, {"echo"}) == coronet::reply::error("ERR wrong number of arguments for 'echo'"));
  CHECK(call(r, {"echo", "a", "b"}) == coronet::reply::error("ERR wrong number of arguments for 'echo'"));
}

TEST_CASE("help lists every command with its description and aliases", "[builtins]") {
  coronet::router r = builtins();
  r.add("custom", "a command of the application",
        [](coronet::request&) -> coronet::task<coronet::reply> { co_return coronet::reply::null(); });
  r.alias("c1", "custom").alias("c2", "custom");
  const coronet::reply rep = call(r, {"help"});
  REQUIRE(rep.kind() == coronet::reply_kind::array);
  std::vector<std::string> entries;
  for (const coronet::reply& e : rep.elements()) {
    CHECK(e.kind() == coronet::reply_kind::text);
    entries.emplace_back(e.str());
  }
  REQUIRE(entries.size() == r.commands().size());
  CHECK(entries.size() == 7);
  CHECK(entries[0].rfind("timestamp - ", 0) == 0);
  CHECK(entries[0].find("(alias: timetampe)") != std::string::npos);
  CHECK(entries[1] == "ping - replies PONG, or the message given");
  CHECK(entries[3].rfind("help - ", 0) == 0);
  CHECK(entries[3].find("(alias: command)") != std::string::npos);
  CHECK(entries[6] == "custom - a command of the application (aliases: c1, c2)");
  CHECK(call(r, {"COMMAND"}) == rep);
}

TEST_CASE("help with a name describes that command", "[builtins]") {
  const coronet::router r = builtins();
  CHECK(call(r, {"help", "PING"}) == coronet::reply::text("ping - replies PONG, or the message given"));
  CHECK(call(r, {"help", "timetampe"}).str().rfind("timestamp - ", 0) == 0);
  CHECK(call(r, {"help", "nosuch"}) == coronet::reply::error("ERR unknown command 'nosuch'"));
}

TEST_CASE("quit replies OK and asks for the connection to close", "[builtins]") {
  const coronet::router r = builtins();
  coronet::connection conn;
  CHECK(!conn.closing());
  CHECK(call(r, {"quit"}, &conn) == coronet::reply::text("OK"));
  CHECK(conn.closing());
  CHECK(call(r, {"quit"}) == coronet::reply::text("OK"));
  CHECK(call(r, {"quit", "now"}) == coronet::reply::error("ERR wrong number of arguments for 'quit'"));
}

TEST_CASE("stats outside a server is an error", "[builtins]") {
  const coronet::router r = builtins();
  CHECK(call(r, {"stats"}) == coronet::reply::error("ERR stats unavailable"));
  coronet::connection conn;
  CHECK(call(r, {"stats"}, &conn) == coronet::reply::error("ERR stats unavailable"));
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
}
