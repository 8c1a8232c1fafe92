// CONFIG: the glob matching of its patterns (Redis's rules), what GET answers outside a server
// and over a real connection, in RESP2 and RESP3, and the errors of what it does not do.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/detail/glob_match.hpp"
#include "coronet/client/client.hpp"
#include "coronet/command/connection.hpp"
#include "coronet/command/router.hpp"
#include "coronet/protocol/reply.hpp"
#include "coronet/server/server.hpp"
#include "support/router_calls.hpp"
#include "support/run_client.hpp"
#include "support/running_server.hpp"

namespace commands_redis_config_test {

using namespace std::chrono_literals;
using coronet::reply;
using coronet::detail::glob_match;
using coronet_test::call;
using coronet_test::run_client;

namespace {

// The keys of a CONFIG GET map, in order.
std::vector<std::string> keys_of(const reply& r) {
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < r.elements().size(); i += 2)
    keys.emplace_back(r.elements()[i].str());
  return keys;
}

// The value of `key` in a CONFIG GET map; "<absent>" when it is not there.
std::string value_of(const reply& r, std::string_view key) {
  for (std::size_t i = 0; i + 1 < r.elements().size(); i += 2)
    if (r.elements()[i].str() == key)
      return std::string(r.elements()[i + 1].str());
  return "<absent>";
}

}  // namespace

TEST_CASE("glob patterns match as Redis's stringmatchlen", "[redis][config]") {
  CHECK(glob_match("*", ""));
  CHECK(glob_match("*", "maxclients"));
  CHECK(glob_match("max*", "maxclients"));
  CHECK_FALSE(glob_match("max*", "port"));
  CHECK(glob_match("*port", "tls-port"));
  CHECK(glob_match("?ort", "port"));
  CHECK_FALSE(glob_match("?ort", "sport"));
  CHECK(glob_match("[pt]ort", "tort"));
  CHECK_FALSE(glob_match("[^pt]ort", "port"));
  CHECK(glob_match("[^pt]ort", "sort"));
  CHECK(glob_match("[a-c]x", "bx"));
  CHECK(glob_match("[c-a]x", "bx"));  // a reversed range is the same range, as in Redis
  CHECK_FALSE(glob_match("[a-c]x", "dx"));
  CHECK(glob_match("a\\*b", "a*b"));
  CHECK_FALSE(glob_match("a\\*b", "axb"));
  CHECK(glob_match("[\\]]", "]"));
  CHECK(glob_match("[ab", "a"));   // a class left open ends with the pattern
  CHECK(glob_match("ab\\", "ab\\"));  // a final backslash is itself
  CHECK(glob_match("*-max-*-entries", "hash-max-listpack-entries"));
  CHECK(glob_match("MAX*", "maxclients", true));
  CHECK_FALSE(glob_match("MAX*", "maxclients", false));
  CHECK(glob_match("[A-Z]ort", "port", true));
}

TEST_CASE("a pattern of many stars against a long text that does not match is answered at once",
          "[redis][config]") {
  // A recursive matcher takes exponential time here (Redis caps its recursion for it).
  const std::string pattern = std::string(40, '*').replace(1, 0, "a*a*a*a*a*a*a*a*a*a*a*a*") + "b";
  const std::string text(20000, 'a');
  const auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(glob_match(pattern, text));
  CHECK(std::chrono::steady_clock::now() - start < 2s);
}

TEST_CASE("CONFIG GET outside a server answers server_options' defaults, each parameter once", "[redis][config]") {
  const coronet::router r = coronet_test::builtins();
  const reply all = call(r, {"config", "get", "*"});
  REQUIRE(all.kind() == coronet::reply_kind::map);
  CHECK(keys_of(all) == std::vector<std::string>{"save", "appendonly", "databases", "maxmemory", "maxmemory-policy",
                                                 "bind", "port", "tls-port", "maxclients", "timeout", "tcp-keepalive",
                                                 "proto-max-bulk-len", "client-query-buffer-limit", "io-threads"});
  const coronet::server_options defaults;
  CHECK(value_of(all, "maxclients") == std::to_string(defaults.max_connections));
  CHECK(value_of(all, "port") == "0");
  CHECK(value_of(all, "save").empty());
  CHECK(value_of(all, "appendonly") == "no");

  // Two patterns that match the same parameter: it comes once; names fold case as Redis's.
  const reply two = call(r, {"CONFIG", "GET", "save", "SAVE", "appendonly"});
  CHECK(keys_of(two) == std::vector<std::string>{"save", "appendonly"});
  CHECK(call(r, {"config", "get", "no-such-parameter"}) == reply::map({}));
}

TEST_CASE("CONFIG's errors: no pattern, SET and friends, an unknown subcommand", "[redis][config]") {
  const coronet::router r = coronet_test::builtins();
  CHECK(call(r, {"config", "get"}) ==
        reply::error_line("ERR wrong number of arguments for 'config|get' command"));
  CHECK(call(r, {"config", "set", "maxclients", "5"}) ==
        reply::error_line("ERR CONFIG SET is not supported: the server is configured when it starts"));
  CHECK(call(r, {"config", "resetstat"}) ==
        reply::error_line("ERR CONFIG RESETSTAT is not supported: the server is configured when it starts"));
  CHECK(call(r, {"config", "frob"}) == reply::error_line("ERR unknown subcommand 'frob'. Try CONFIG HELP."));
  CHECK(call(r, {"config"}).kind() == coronet::reply_kind::error);  // arity: a subcommand is needed
  const reply help = call(r, {"config", "help"});
  REQUIRE(help.kind() == coronet::reply_kind::array);
  CHECK(help.elements().front().str() == "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
}

TEST_CASE("CONFIG GET over a real connection shows the server's own settings, in RESP2 and RESP3",
          "[redis][config][server]") {
  coronet::server_options o = coronet_test::test_server_options();
  o.max_connections = 123;
  o.idle_timeout = 7s;
  o.tcp_keepalive = 42s;
  o.max_bulk_bytes = 4096;
  coronet_test::running_server srv(o, coronet_test::builtins());
  run_client([&](auto ex) -> coronet::task<void> {
    coronet::client c = co_await coronet::client::connect(ex, "127.0.0.1", srv.port());
    const reply flat = co_await c.call("config", "get", "maxclients", "timeout", "tcp-keepalive", "port",
                                       "proto-max-bulk-len", "bind");
    // RESP2: the map arrives as a flat array of names and values, as redis-server sends it.
    REQUIRE(flat.kind() == coronet::reply_kind::array);
    // In the order of the patterns, as redis-server keeps it.
    const std::vector<reply> expected{reply::bulk("maxclients"),         reply::bulk("123"),
                                      reply::bulk("timeout"),            reply::bulk("7"),
                                      reply::bulk("tcp-keepalive"),      reply::bulk("42"),
                                      reply::bulk("port"),               reply::bulk(std::to_string(srv.port())),
                                      reply::bulk("proto-max-bulk-len"), reply::bulk("4096"),
                                      reply::bulk("bind"),               reply::bulk("127.0.0.1")};
    CHECK(std::vector<reply>(flat.elements().begin(), flat.elements().end()) == expected);
    co_await c.call("hello", "3");
    const reply map = co_await c.call("config", "get", "save");
    CHECK(map.kind() == coronet::reply_kind::map);
    CHECK(std::vector<reply>(map.elements().begin(), map.elements().end()) ==
          std::vector<reply>{reply::bulk("save"), reply::bulk("")});
  });
}

}  // namespace commands_redis_config_test
