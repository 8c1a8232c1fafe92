// The Redis handshake commands: reply shapes in RESP2 and RESP3, AUTH's rules
// and Redis's error texts, through a router as a server calls them, and INFO
// and CLIENT over a real connection.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <asio/io_context.hpp>

#include "coronet/commands/builtins.hpp"
#include "coronet/commands/redis_commands.hpp"
#include "coronet/client/client.hpp"
#include "coronet/command/connection.hpp"
#include "coronet/protocol/resp/resp_codec.hpp"
#include "coronet/command/router.hpp"
#include "coronet/server/server.hpp"
#include "coronet/core/sync_wait.hpp"
#include "support/router_calls.hpp"
#include "coronet/core/version.hpp"
#include "support/run_client.hpp"
#include "support/running_server.hpp"

namespace commands_redis_commands_test {

using namespace std::chrono_literals;
using coronet::reply;
using coronet::reply_kind;

namespace {

using coronet_test::call;

std::string resp(const reply& r, int protover) {
  std::string out;
  coronet::encode_resp_reply(r, out, protover);
  return out;
}

using coronet_test::builtins;

coronet::server_options options(std::string password = {}) {
  coronet::server_options o = coronet_test::quick_stop_options();
  o.password = std::move(password);
  return o;
}

// The built-ins, a server (not running) with the password s3cret they
// belong to, and a connection of that server.
struct password_fixture {
  const coronet::router r = builtins();
  coronet::server srv{r, options("s3cret")};
  coronet::connection conn;
  password_fixture() {
    conn.owner = &srv;
    conn.password = srv.options().password;  // as the server's session sets it
  }
};

// A bulk string in RESP.
std::string bulk(std::string_view s) { return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n"; }

// The flat keys and values of HELLO's map, encoded.
std::string hello_fields(int proto, std::uint64_t id) {
  return bulk("server") + bulk("redis") + bulk("version") + bulk(coronet::redis_compatible_version) + bulk("proto") +
         ":" + std::to_string(proto) + "\r\n" + bulk("id") + ":" + std::to_string(id) + "\r\n" + bulk("mode") +
         bulk("standalone") + bulk("role") + bulk("master") + bulk("modules") + "*0\r\n";
}

}  // namespace

TEST_CASE("HELLO 3 switches the connection to RESP3 and replies a map", "[redis]") {
  const coronet::router r = builtins();
  coronet::connection conn;
  conn.id = 42;
  const reply rep = call(r, {"HELLO", "3"}, &conn);
  CHECK(conn.protover == 3);
  REQUIRE(rep.kind() == reply_kind::map);
  CHECK(resp(rep, 3) == "%7\r\n" + hello_fields(3, 42));
  CHECK(resp(rep, 2) == "*14\r\n" + hello_fields(3, 42));
}

TEST_CASE("HELLO 2 and HELLO alone reply the map in RESP2's flat array", "[redis]") {
  const coronet::router r = builtins();
  coronet::connection conn;
  conn.id = 7;
  conn.protover = 3;
  CHECK(resp(call(r, {"hello"}, &conn), 3) == "%7\r\n" + hello_fields(3, 7));
  CHECK(conn.protover == 3);
  CHECK(resp(call(r, {"hello", "2"}, &conn), 2) == "*14\r\n" + hello_fields(2, 7));
  CHECK(conn.protover == 2);
}

TEST_CASE("HELLO's errors are Redis's", "[redis]") {
  const coronet::router r = builtins();
  coronet::connection conn;
  CHECK(call(r, {"hello", "4"}, &conn) == reply::error_line("NOPROTO unsupported protocol version"));
  CHECK(call(r, {"hello", "1"}, &conn) == reply::error_line("NOPROTO unsupported protocol version"));
  CHECK(call(r, {"hello", "-3"}, &conn) == reply::error_line("NOPROTO unsupported protocol version"));
  for (std::string_view bad : {"x", "3.0", " 3", "+3", "03", "", "99999999999999999999"})
    CHECK(call(r, {"hello", bad}, &conn) ==
          reply::error_line("ERR Protocol version is not an integer or out of range"));
  CHECK(call(r, {"hello", "3", "foo"}, &conn) == reply::error_line("ERR Syntax error in HELLO option 'foo'"));
  CHECK(call(r, {"hello", "3", "AUTH", "default"}, &conn) ==
        reply::error_line("ERR Syntax error in HELLO option 'AUTH'"));
  CHECK(call(r, {"hello", "3", "setname"}, &conn) == reply::error_line("ERR Syntax error in HELLO option 'setname'"));
  CHECK(call(r, {"hello", "3", "setname", "a b"}, &conn) ==
        reply::error_line("ERR Client names cannot contain spaces, newlines or special characters."));
  CHECK(conn.protover == 2);  // nothing changed by a failed HELLO
  CHECK(conn.name().empty());
}

TEST_CASE("HELLO SETNAME names the connection", "[redis]") {
  const coronet::router r = builtins();
  coronet::connection conn;
  CHECK(call(r, {"hello", "3", "SETNAME", "worker-1"}, &conn).kind() == reply_kind::map);
  CHECK(conn.name() == "worker-1");
  CHECK(call(r, {"client", "getname"}, &conn) == reply::bulk("worker-1"));
}

TEST_CASE("CLIENT SETNAME, GETNAME, ID and SETINFO act on this connection", "[redis]") {
  const coronet::router r = builtins();
  coronet::connection conn;
  conn.id = 9;
  CHECK(call(r, {"client", "getname"}, &conn) == reply::null());
  CHECK(resp(call(r, {"client", "getname"}, &conn), 2) == "$-1\r\n");
  CHECK(resp(call(r, {"client", "getname"}, &conn), 3) == "_\r\n");
  CHECK(call(r, {"CLIENT", "SETNAME", "app"}, &conn) == reply::text("OK"));
  CHECK(call(r, {"client", "GetName"}, &conn) == reply::bulk("app"));
  CHECK(call(r, {"client", "setname", ""}, &conn) == reply::text("OK"));
  CHECK(call(r, {"client", "getname"}, &conn) == reply::null());
  CHECK(call(r, {"client", "setname", "a\nb"}, &conn) ==
        reply::error_line("ERR Client names cannot contain spaces, newlines or special characters."));
  CHECK(call(r, {"client", "id"}, &conn) == reply::integer(9));
  CHECK(call(r, {"client", "setinfo", "LIB-NAME", "redis-py"}, &conn) == reply::text("OK"));
  CHECK(call(r, {"client", "setinfo", "lib-ver", "5.0.1"}, &conn) == reply::text("OK"));
  CHECK(conn.lib_name() == "redis-py");
  CHECK(conn.lib_version() == "5.0.1");
  CHECK(call(r, {"client", "setinfo", "lib-color", "x"}, &conn) ==
        reply::error_line("ERR Unrecognized option 'lib-color'"));
  CHECK(call(r, {"client", "setinfo", "lib-ver", "1 2"}, &conn) ==
        reply::error_line("ERR lib-ver cannot contain spaces, newlines or special characters."));
}

TEST_CASE("CLIENT's wrong counts and unknown subcommands are Redis's errors", "[redis]") {
  const coronet::router r = builtins();
  coronet::connection conn;
  CHECK(call(r, {"client"}, &conn) == reply::error_line("ERR wrong number of arguments for 'client' command"));
  CHECK(call(r, {"client", "SETNAME"}, &conn) ==
        reply::error_line("ERR wrong number of arguments for 'client|setname' command"));
  CHECK(call(r, {"client", "id", "x"}, &conn) ==
        reply::error_line("ERR wrong number of arguments for 'client|id' command"));
  CHECK(call(r, {"client", "setinfo", "lib-name"}, &conn) ==
        reply::error_line("ERR wrong number of arguments for 'client|setinfo' command"));
  CHECK(call(r, {"client", "kill", "x"}, &conn) ==
        reply::error_line("ERR unknown subcommand 'kill'. Try CLIENT HELP."));
  CHECK(call(r, {"client", "list", "x"}, &conn) == reply::error_line("ERR syntax error"));
  CHECK(call(r, {"client", "list", "type", "weird"}, &conn) == reply::error_line("ERR Unknown client type 'weird'"));
  CHECK(call(r, {"client", "list", "id", "x"}, &conn) == reply::error_line("ERR Invalid client ID"));
  const reply help = call(r, {"client", "help"}, &conn);
  REQUIRE(help.kind() == reply_kind::array);
  CHECK(help.elements().front() == reply::text("CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"));
  CHECK(help.elements().back() == reply::text("    Print this help."));
}

TEST_CASE("CLIENT INFO and LIST give Redis's line for this connection, verbatim in RESP3", "[redis]") {
  const coronet::router r = builtins();
  coronet::connection conn;
  conn.id = 12;
  conn.peer = coronet::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 50000);
  conn.local = coronet::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 6379);
  conn.fd = 8;
  conn.set_name("app");
  conn.set_lib_name("go-redis");
  conn.set_lib_version("9.0");
  conn.protover = 3;
  conn.created = std::chrono::steady_clock::now() - 5s;
  const std::string tail =
      " idle=0 flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 "
      "oll=0 omem=0 tot-mem=0 events=r cmd=";
  const std::string head = "id=12 addr=127.0.0.1:50000 laddr=127.0.0.1:6379 fd=8 name=app age=";
  const reply info = call(r, {"client", "info"}, &conn);
  REQUIRE(info.kind() == reply_kind::verbatim);
  const std::string expected_info = head + "5" + tail +
                                    "client|info user=default redir=-1 resp=3 lib-name=go-redis lib-ver=9.0\n";
  const std::string line(info.str());
  // The age may have ticked once while the test ran.
  CHECK((line == expected_info || line == head + "6" + tail + expected_info.substr(head.size() + 1 + tail.size())));
  CHECK(resp(info, 3) == "=" + std::to_string(line.size() + 4) + "\r\ntxt:" + line + "\r\n");
  CHECK(resp(info, 2) == bulk(line));

  const reply list = call(r, {"client", "list"}, &conn);
  REQUIRE(list.kind() == reply_kind::verbatim);
  CHECK(std::string(list.str()).find("cmd=client|list user=default") != std::string::npos);
  CHECK(std::string(list.str()).rfind(head, 0) == 0);
  CHECK(call(r, {"client", "list", "TYPE", "normal"}, &conn).str() == list.str());
  CHECK(call(r, {"client", "list", "type", "pubsub"}, &conn) == reply::verbatim(""));
  CHECK(call(r, {"client", "list", "id", "12"}, &conn).str() == list.str());
  CHECK(call(r, {"client", "list", "id", "3", "4"}, &conn) == reply::verbatim(""));

  coronet::connection v6;
  v6.peer = coronet::tcp::endpoint(asio::ip::make_address("::1"), 4000);
  CHECK(std::string(call(r, {"client", "info"}, &v6).str()).find(" addr=[::1]:4000 ") != std::string::npos);
}

TEST_CASE("SELECT 0 is OK; another index or a non-number is Redis's error", "[redis]") {
  const coronet::router r = builtins();
  CHECK(call(r, {"select", "0"}) == reply::text("OK"));
  CHECK(call(r, {"SELECT", "1"}) == reply::error_line("ERR DB index is out of range"));
  CHECK(call(r, {"select", "-1"}) == reply::error_line("ERR DB index is out of range"));
  CHECK(call(r, {"select", "x"}) == reply::error_line("ERR value is not an integer or out of range"));
  CHECK(call(r, {"select", "00"}) == reply::error_line("ERR value is not an integer or out of range"));
  CHECK(call(r, {"select", "4294967296"}) == reply::error_line("ERR value is not an integer or out of range"));
  CHECK(call(r, {"select"}) == reply::error_line("ERR wrong number of arguments for 'select' command"));
}

TEST_CASE("RESET goes back to RESP2 without a name and answers RESET", "[redis]") {
  const coronet::router r = builtins();
  coronet::connection conn;
  conn.protover = 3;
  conn.set_name("x");
  conn.set_lib_name("lib");
  conn.authenticated = true;
  const reply rep = call(r, {"reset"}, &conn);
  CHECK(rep == reply::text("RESET"));
  CHECK(resp(rep, 2) == "+RESET\r\n");
  CHECK(conn.protover == 2);
  CHECK(conn.name().empty());
  CHECK(conn.lib_name() == "lib");
  CHECK(conn.authenticated);  // no password: nothing to forget
  CHECK(call(r, {"reset", "x"}) == reply::error_line("ERR wrong number of arguments for 'reset' command"));
}

TEST_CASE("ECHO is a bulk string in both versions", "[redis]") {
  const coronet::router r = builtins();
  CHECK(resp(call(r, {"echo", "hi"}), 2) == "$2\r\nhi\r\n");
  CHECK(resp(call(r, {"echo", "hi"}), 3) == "$2\r\nhi\r\n");
}

TEST_CASE("AUTH without a password configured answers as Redis's nopass default user", "[redis][auth]") {
  const coronet::router r = builtins();
  coronet::connection conn;
  CHECK(call(r, {"auth", "x"}, &conn) ==
        reply::error_line("ERR AUTH <password> called without any password configured for the default user. Are you "
                          "sure your configuration is correct?"));
  CHECK(call(r, {"auth", "default", "anything"}, &conn) == reply::text("OK"));
  CHECK(call(r, {"auth", "bob", "anything"}, &conn) ==
        reply::error_line("WRONGPASS invalid username-password pair or user is disabled."));
  CHECK(call(r, {"auth", "a", "b", "c"}, &conn) == reply::error_line("ERR syntax error"));
  CHECK(call(r, {"auth"}, &conn) == reply::error_line("ERR wrong number of arguments for 'auth' command"));
}

TEST_CASE_METHOD(password_fixture, "with a password, only AUTH, HELLO, PING, QUIT and RESET run before authentication",
                 "[redis][auth]") {
  const reply noauth = reply::error_line("NOAUTH Authentication required.");
  CHECK(call(r, {"echo", "x"}, &conn) == noauth);
  CHECK(call(r, {"timestamp"}, &conn) == noauth);
  CHECK(call(r, {"client", "id"}, &conn) == noauth);
  CHECK(call(r, {"command"}, &conn) == noauth);
  CHECK(call(r, {"info"}, &conn) == noauth);
  CHECK(call(r, {"select", "0"}, &conn) == noauth);
  CHECK(resp(noauth, 2) == "-NOAUTH Authentication required.\r\n");
  // Redis checks the name and the argument count first.
  CHECK(call(r, {"nosuch"}, &conn) == reply::error_line("ERR unknown command 'nosuch', with args beginning with: "));
  CHECK(call(r, {"echo"}, &conn) == reply::error_line("ERR wrong number of arguments for 'echo' command"));
  CHECK(call(r, {"ping"}, &conn) == reply::text("PONG"));
  CHECK(call(r, {"reset"}, &conn) == reply::text("RESET"));
  CHECK(call(r, {"hello"}, &conn) ==
        reply::error_line("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
                          "<proto> AUTH <user> <pass> option can be used to authenticate the client and select the "
                          "RESP protocol version at the same time"));
  CHECK(call(r, {"quit"}, &conn) == reply::text("OK"));
  CHECK_FALSE(conn.authenticated);
}

TEST_CASE_METHOD(password_fixture, "AUTH pass and AUTH default pass authenticate; a wrong one is WRONGPASS and counted",
                 "[redis][auth]") {
  const reply wrongpass = reply::error_line("WRONGPASS invalid username-password pair or user is disabled.");
  CHECK(call(r, {"auth", "wrong"}, &conn) == wrongpass);
  CHECK(call(r, {"auth", "s3cre"}, &conn) == wrongpass);
  CHECK(call(r, {"auth", "s3cret!"}, &conn) == wrongpass);
  CHECK(call(r, {"auth", "bob", "s3cret"}, &conn) == wrongpass);
  CHECK(call(r, {"auth", "DEFAULT", "s3cret"}, &conn) == wrongpass);
  CHECK_FALSE(conn.authenticated);
  CHECK(r.auth_failures() == 5);
  CHECK(call(r, {"auth", "s3cret"}, &conn) == reply::text("OK"));
  CHECK(conn.authenticated);
  CHECK(call(r, {"echo", "x"}, &conn) == reply::bulk("x"));
  // A later failure does not take the authentication away, as in Redis.
  CHECK(call(r, {"auth", "nope"}, &conn) == wrongpass);
  CHECK(conn.authenticated);

  coronet::connection other;
  other.owner = &srv;
  other.password = srv.options().password;  // as the server's session sets it
  CHECK(call(r, {"AUTH", "default", "s3cret"}, &other) == reply::text("OK"));
  CHECK(other.authenticated);
  CHECK(r.auth_failures() == 6);
}

TEST_CASE_METHOD(password_fixture, "HELLO AUTH authenticates and switches protocol in one step", "[redis][auth]") {
  conn.id = 3;
  CHECK(call(r, {"hello", "3", "auth", "default", "wrong", "setname", "n"}, &conn) ==
        reply::error_line("WRONGPASS invalid username-password pair or user is disabled."));
  CHECK(conn.protover == 2);
  CHECK(conn.name().empty());
  CHECK_FALSE(conn.authenticated);
  const reply rep = call(r, {"HELLO", "3", "AUTH", "default", "s3cret", "SETNAME", "n"}, &conn);
  CHECK(resp(rep, 3) == "%7\r\n" + hello_fields(3, 3));
  CHECK(conn.authenticated);
  CHECK(conn.protover == 3);
  CHECK(conn.name() == "n");
  CHECK(call(r, {"echo", "x"}, &conn) == reply::bulk("x"));
  CHECK(r.auth_failures() == 1);
}

TEST_CASE_METHOD(password_fixture, "RESET takes the authentication away when the server has a password",
                 "[redis][auth]") {
  CHECK(call(r, {"hello", "3", "auth", "default", "s3cret"}, &conn).kind() == reply_kind::map);
  CHECK(conn.authenticated);
  CHECK(call(r, {"reset"}, &conn) == reply::text("RESET"));
  CHECK_FALSE(conn.authenticated);
  CHECK(conn.protover == 2);
  CHECK(call(r, {"echo", "x"}, &conn) == reply::error_line("NOAUTH Authentication required."));
}

TEST_CASE("constant_time_equal compares whole strings", "[redis][auth]") {
  using coronet::commands::constant_time_equal;
  CHECK(constant_time_equal("", ""));
  CHECK(constant_time_equal("secret", "secret"));
  CHECK_FALSE(constant_time_equal("secret", "Secret"));
  CHECK_FALSE(constant_time_equal("secret", "secre"));
  CHECK_FALSE(constant_time_equal("secret", "secretsecret"));  // the secret repeated
  CHECK_FALSE(constant_time_equal("secret", ""));
  CHECK_FALSE(constant_time_equal("", "x"));
  CHECK_FALSE(constant_time_equal(std::string_view("a\0", 2), "a"));
  CHECK(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
}

TEST_CASE("redis_arity follows Redis's sign convention", "[redis]") {
  using coronet::arity;
  using coronet::commands::redis_arity;
  CHECK(redis_arity(arity::exactly(0)) == 1);
  CHECK(redis_arity(arity::exactly(2)) == 3);
  CHECK(redis_arity(arity::at_least(0)) == -1);
  CHECK(redis_arity(arity::at_least(1)) == -2);
  CHECK(redis_arity(arity::between(0, 1)) == -1);
  CHECK(redis_arity(arity::between(2, 5)) == -3);
}

TEST_CASE("COMMAND and COMMAND INFO describe each command in Redis 7's ten fields", "[redis]") {
  const coronet::router r = builtins();
  const reply all = call(r, {"command"});
  REQUIRE(all.kind() == reply_kind::array);
  CHECK(all.elements().size() == r.commands().size());
  CHECK(call(r, {"command", "info"}) == all);
  const reply info = call(r, {"command", "info", "GET", "echo", "timetampe"});
  REQUIRE(info.elements().size() == 3);
  CHECK(info.elements()[0] == reply::null());
  const reply& echo = info.elements()[1];
  REQUIRE(echo.elements().size() == 10);
  const std::string fields = bulk("echo") + ":2\r\n";
  const std::string rest = ":0\r\n:0\r\n:0\r\n";
  CHECK(resp(echo, 2) == "*10\r\n" + fields + "*3\r\n+loading\r\n+stale\r\n+fast\r\n" + rest +
                             "*2\r\n+@fast\r\n+@connection\r\n*0\r\n*0\r\n*0\r\n");
  CHECK(resp(echo, 3) == "*10\r\n" + fields + "~3\r\n+loading\r\n+stale\r\n+fast\r\n" + rest +
                             "~2\r\n+@fast\r\n+@connection\r\n~0\r\n~0\r\n~0\r\n");
  CHECK(info.elements()[2].elements()[0] == reply::bulk("timestamp"));
  CHECK(info.elements()[2].elements()[1] == reply::integer(-1));
  // Arity of every built-in, in Redis's convention.
  for (const auto& [name, arity] : std::vector<std::pair<std::string_view, std::int64_t>>{{"ping", -1},
                                                                                          {"quit", -1},
                                                                                          {"hello", -1},
                                                                                          {"auth", -2},
                                                                                          {"client", -2},
                                                                                          {"select", 2},
                                                                                          {"info", -1},
                                                                                          {"command", -1},
                                                                                          {"reset", 1},
                                                                                          {"stats", 1},
                                                                                          {"help", -1}}) {
    INFO(name);
    CHECK(call(r, {"command", "info", name}).elements()[0].elements()[1] == reply::integer(arity));
  }
  const reply hello = call(r, {"command", "info", "hello"}).elements()[0];
  CHECK(hello.elements()[2] == reply::set({reply::text("noscript"), reply::text("loading"), reply::text("stale"),
                                           reply::text("fast"), reply::text("no_auth")}));
  const reply info_cmd = call(r, {"command", "info", "info"}).elements()[0];
  CHECK(info_cmd.elements()[6] == reply::set({reply::text("@slow"), reply::text("@dangerous")}));
}

TEST_CASE("COMMAND COUNT, LIST and DOCS are built from the router", "[redis]") {
  coronet::router r = builtins();
  r.add("custom", "does the application's thing", [](coronet::request&) { return reply::null(); });
  r.alias("cust", "custom");
  CHECK(call(r, {"command", "count"}) == reply::integer(static_cast<std::int64_t>(r.commands().size())));
  CHECK(call(r, {"command", "count", "x"}) ==
        reply::error_line("ERR wrong number of arguments for 'command|count' command"));
  const reply list = call(r, {"command", "list"});
  REQUIRE(list.elements().size() == r.commands().size());
  CHECK(list.elements()[0] == reply::bulk("timestamp"));
  CHECK(list.elements().back() == reply::bulk("custom"));

  const reply docs = call(r, {"COMMAND", "DOCS", "cust", "nosuch", "ping"});
  REQUIRE(docs.kind() == reply_kind::map);
  const std::string custom_doc = bulk("custom") + "%2\r\n" + bulk("summary") + bulk("does the application's thing") +
                                 bulk("group") + bulk("generic");
  const std::string ping_doc = bulk("ping") + "%2\r\n" + bulk("summary") + bulk("replies PONG, or the message given") +
                               bulk("group") + bulk("connection");
  CHECK(resp(docs, 3) == "%2\r\n" + custom_doc + ping_doc);
  std::string flat = "*4\r\n" + custom_doc + ping_doc;
  for (std::size_t at = flat.find('%'); at != std::string::npos; at = flat.find('%', at))
    flat.replace(at, 2, "*4");
  CHECK(resp(docs, 2) == flat);
  CHECK(call(r, {"command", "docs"}).elements().size() == 2 * r.commands().size());
  CHECK(call(r, {"command", "docs", "nosuch"}) == reply::map({}));

  CHECK(call(r, {"command", "getkeys", "echo", "x"}) == reply::error_line("ERR The command has no key arguments"));
  CHECK(call(r, {"command", "getkeys", "nosuch"}) == reply::error_line("ERR Invalid command specified"));
  CHECK(call(r, {"command", "nope"}) == reply::error_line("ERR unknown subcommand 'nope'. Try COMMAND HELP."));
  CHECK(call(r, {"command", "help"}).elements().front() ==
        reply::text("COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"));
}

TEST_CASE("INFO outside a server has every section, counters 0", "[redis]") {
  const coronet::router r = builtins();
  const reply rep = call(r, {"info"});
  REQUIRE(rep.kind() == reply_kind::verbatim);
  const std::string text(rep.str());
  CHECK(text.rfind("# Server\r\nredis_version:" + std::string(coronet::redis_compatible_version) + "\r\n", 0) == 0);
  for (std::string_view section : {"\r\n\r\n# Clients\r\n", "\r\n\r\n# Memory\r\n", "\r\n\r\n# Persistence\r\n",
                                   "\r\n\r\n# Stats\r\n",
                                   "\r\n\r\n# Replication\r\n", "\r\n\r\n# Cluster\r\n", "\r\n\r\n# Keyspace\r\n"})
    CHECK(text.find(section) != std::string::npos);
  CHECK(text.find("\r\nredis_mode:standalone\r\n") != std::string::npos);
  CHECK(text.find("\r\ncoronet_version:" + std::string(coronet::version_string) + "\r\n") != std::string::npos);
  CHECK(text.find("\r\nloading:0\r\n") != std::string::npos);
  CHECK(text.find("\r\nrole:master\r\n") != std::string::npos);
  CHECK(text.find("\r\ntotal_connections_received:0\r\n") != std::string::npos);
  // Every line is key:value ending CRLF, or a section title, or empty between sections.
  const std::regex line(R"(^(# [A-Z][a-z]+|[a-z_0-9]+:[^\r\n]*|)$)");
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find("\r\n", start);
    REQUIRE(end != std::string::npos);
    CHECK(std::regex_match(text.substr(start, end - start), line));
    start = end + 2;
  }
  CHECK(resp(rep, 3).rfind("=" + std::to_string(text.size() + 4) + "\r\ntxt:# Server\r\n", 0) == 0);
  CHECK(resp(rep, 2).rfind("$" + std::to_string(text.size()) + "\r\n# Server\r\n", 0) == 0);
}

TEST_CASE("INFO's Memory section has what redis-cli --stat reads: used_memory is the resident set", "[redis]") {
  const coronet::router r = builtins();
  const std::string text(call(r, {"info", "MEMORY"}).str());
  REQUIRE(text.rfind("# Memory\r\nused_memory:", 0) == 0);
  const auto field = [&](const std::string& key) {
    const std::size_t at = text.find("\r\n" + key + ":");
    REQUIRE(at != std::string::npos);
    const std::size_t begin = at + key.size() + 3;
    return text.substr(begin, text.find("\r\n", begin) - begin);
  };
  const std::size_t first = std::string_view("# Memory\r\nused_memory:").size();
  const std::uint64_t used = std::stoull(text.substr(first, text.find("\r\n", first) - first));
  CHECK(used > 1024 * 1024);  // this test program, resident: over 1 MiB
  CHECK(used < (std::uint64_t{1} << 40));
  CHECK(std::stoull(field("used_memory_rss")) == used);
  CHECK(std::stoull(field("used_memory_peak")) >= used);
  const std::regex human(R"(\d+(\.\d\d)?[BKMGTP])");
  CHECK(std::regex_match(field("used_memory_human"), human));
  CHECK(std::regex_match(field("used_memory_peak_human"), human));
  CHECK(field("maxmemory") == "0");
  // redis-cli finds each field as the first occurrence of its name (strstr), so used_memory must
  // come before any longer name that contains it; every other field --stat reads is there.
  const std::string all(call(r, {"info"}).str());
  CHECK(all.find("used_memory") == all.find("\r\nused_memory:") + 2);
  CHECK(all.find("\r\n\r\n# Memory\r\n") > all.find("# Clients"));
  CHECK(all.find("\r\n\r\n# Memory\r\n") < all.find("# Persistence"));
  for (std::string_view key : {"\r\nconnected_clients:", "\r\nblocked_clients:", "\r\ntotal_commands_processed:",
                               "\r\ntotal_connections_received:", "bgsave_in_progress:0\r\n",
                               "\r\naof_rewrite_in_progress:0\r\n", "\r\nloading:0\r\n"})
    CHECK(all.find(key) != std::string::npos);
}

TEST_CASE("INFO sections are chosen case-insensitively; default, all and everything give them all", "[redis]") {
  const coronet::router r = builtins();
  const std::string stats(call(r, {"info", "STATS"}).str());
  CHECK(stats.rfind("# Stats\r\ntotal_connections_received:0\r\n", 0) == 0);
  CHECK(stats.find("# Server") == std::string::npos);
  CHECK(stats.find("\r\nacl_access_denied_auth:0\r\n") != std::string::npos);
  const std::string two(call(r, {"info", "clients", "Server"}).str());
  CHECK(two.rfind("# Server\r\n", 0) == 0);  // in Redis's order, not the request's
  CHECK(two.find("\r\n\r\n# Clients\r\nconnected_clients:0\r\n") != std::string::npos);
  CHECK(two.find("# Stats") == std::string::npos);
  CHECK(call(r, {"info", "nosuch"}) == reply::verbatim(""));
  const std::string everything(call(r, {"info", "everything"}).str());
  for (std::string_view which : {"default", "all", "ALL"}) {
    const std::string text(call(r, {"info", which}).str());
    CHECK(text.find("# Keyspace") != std::string::npos);
    CHECK(text.find("# Server") == 0);
  }
  CHECK(everything.find("# Keyspace") != std::string::npos);
}

TEST_CASE("version_string is the CMake project version", "[redis]") {
#ifdef CORONET_PROJECT_VERSION
  CHECK(coronet::version_string == CORONET_PROJECT_VERSION);
#else
  FAIL("tests/CMakeLists.txt does not define CORONET_PROJECT_VERSION");
#endif
}

namespace {

// The shared running server, with the built-ins.
struct running_server : coronet_test::running_server {
  explicit running_server(coronet::server_options o = options())
      : coronet_test::running_server(std::move(o), builtins()) {}
};

using coronet_test::run_client;

}  // namespace

TEST_CASE("INFO and CLIENT over a real connection show the server's port, counters and peer", "[redis][server]") {
  running_server srv;
  run_client([&](auto ex) -> coronet::task<void> {
    coronet::client c = co_await coronet::client::connect(ex, "127.0.0.1", srv.port());
    const reply ok = co_await c.call("client", "setname", "probe");
    CHECK(ok == reply::text("OK"));
    const reply info = co_await c.call("info", "server", "stats");
    const std::string text(info.str());
    CHECK(text.find("\r\ntcp_port:" + std::to_string(srv.port()) + "\r\n") != std::string::npos);
    CHECK(text.find("\r\ntotal_connections_received:1\r\n") != std::string::npos);
    CHECK(text.find("\r\ntotal_commands_processed:1\r\n") != std::string::npos);
    const reply line = co_await c.call("client", "info");
    const std::string client_line(line.str());
    CHECK(std::regex_search(client_line, std::regex(R"( addr=127\.0\.0\.1:\d+ )")));
    CHECK(client_line.find(" name=probe ") != std::string::npos);
    CHECK(client_line.find(" resp=2 ") != std::string::npos);
    const reply name = co_await c.call("client", "getname");
    CHECK(name == reply::bulk("probe"));
  });
}

TEST_CASE("a server with a password refuses commands over the wire until AUTH", "[redis][auth][server]") {
  running_server srv(options("pw"));
  run_client([&](auto ex) -> coronet::task<void> {
    coronet::client c = co_await coronet::client::connect(ex, "127.0.0.1", srv.port());
    const reply refused = co_await c.call("echo", "x");
    CHECK(refused == reply::error_line("NOAUTH Authentication required."));
    const reply pong = co_await c.call("ping");
    CHECK(pong == reply::text("PONG"));
    const reply wrong = co_await c.call("auth", "nope");
    CHECK(wrong == reply::error_line("WRONGPASS invalid username-password pair or user is disabled."));
    const reply ok = co_await c.call("auth", "pw");
    CHECK(ok == reply::text("OK"));
    const reply echo = co_await c.call("echo", "x");
    CHECK(echo == reply::bulk("x"));
    const reply info = co_await c.call("info", "stats");
    CHECK(std::string(info.str()).find("\r\nacl_access_denied_auth:1\r\n") != std::string::npos);
  });
}

TEST_CASE("HELLO 3 over the wire: the reply and what follows are RESP3; CLIENT INFO shows the session's fields",
          "[redis][server]") {
  running_server srv;
  run_client([&](auto ex) -> coronet::task<void> {
    coronet::client c = co_await coronet::client::connect(ex, "127.0.0.1", srv.port());
    const reply hello = co_await c.call("hello", "3");
    REQUIRE(hello.kind() == reply_kind::map);
    REQUIRE(hello.elements().size() == 14);
    CHECK(hello.elements()[5] == reply::integer(3));
    const std::int64_t id = hello.elements()[7].integer();
    CHECK(id >= 1);
    const reply id_reply = co_await c.call("client", "id");
    CHECK(id_reply == reply::integer(id));
    const reply info = co_await c.call("client", "info");
    REQUIRE(info.kind() == reply_kind::verbatim);
    const std::string line(info.str());
    CHECK(line.rfind("id=" + std::to_string(id) + " addr=127.0.0.1:", 0) == 0);
    CHECK(line.find(" laddr=127.0.0.1:" + std::to_string(srv.port()) + " fd=") != std::string::npos);
    CHECK(std::regex_search(line, std::regex(R"( fd=\d+ name= age=\d+ idle=0 )")));
    CHECK(line.find(" resp=3 ") != std::string::npos);
    const reply reset = co_await c.call("reset");
    CHECK(reset == reply::text("RESET"));
    const reply back = co_await c.call("client", "info");
    CHECK(back.kind() == reply_kind::bulk);  // RESP2 again
  });
}

}  // namespace commands_redis_commands_test
