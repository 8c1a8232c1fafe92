// Malformed and odd inputs over a real socket, per protocol: the exact bytes
// the peer gets back and whether its connection stays open.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/time.h>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <string>
#include <thread>
#include <vector>

#include "coronet/server/server.hpp"
#include "support/blocking_peer.hpp"
#include "support/test_commands.hpp"

namespace robustness_malformed_input_test {

using namespace std::string_literals;

namespace {

struct malformed_case {
  std::string input;
  std::string reply;  // exact bytes before the probe's reply (open) or before EOF (closed)
  bool stays_open;
};

class serving {
public:
  explicit serving(coronet::wire_protocol p) : router_(coronet_test::make_test_router()), server_(router_, options(p)) {
    thread_ = std::thread([this] { server_.run(); });
  }
  ~serving() {
    server_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return server_.port(); }

private:
  static coronet::server_options options(coronet::wire_protocol p) {
    coronet::server_options o;
    o.port = 0;
    o.threads = 1;
    o.protocol = p;
    return o;
  }
  coronet::router router_;
  coronet::server server_;
  std::thread thread_;
};

// Sends the case's input (then, for cases that keep the connection, a
// probe) and returns everything up to the probe's reply or EOF.
std::string exchange(std::uint16_t port, const malformed_case& c, const std::string& probe,
                     const std::string& probe_reply) {
  coronet_test::blocking_peer peer(port);
  asio::ip::tcp::socket& s = peer.socket();
  std::error_code ec;
  asio::write(s, asio::buffer(c.input), ec);
  std::string got;
  if (c.stays_open) {
    asio::write(s, asio::buffer(probe));
    const std::size_t want = c.reply.size() + probe_reply.size();
    got.resize(want);
    std::size_t n = asio::read(s, asio::buffer(got), ec);
    got.resize(n);
    return got;
  }
  char chunk[4096];
  for (;;) {
    std::size_t n = s.read_some(asio::buffer(chunk), ec);
    got.append(chunk, n);
    if (ec)
      break;
  }
  if (ec != asio::error::eof && ec != asio::error::connection_reset)
    FAIL("connection not closed: " << ec.message());
  return got;
}

void run_table(coronet::wire_protocol p, const std::vector<malformed_case>& cases, const std::string& probe,
               const std::string& probe_reply) {
  serving srv(p);
  for (const malformed_case& c : cases) {
    INFO("input: " << (c.input.size() > 80 ? c.input.substr(0, 80) + "..." : c.input));
    const std::string got = exchange(srv.port(), c, probe, probe_reply);
    if (c.stays_open)
      CHECK(got == c.reply + probe_reply);
    else
      CHECK(got == c.reply);
  }
}

}  // namespace

TEST_CASE("line protocol: malformed inputs, exact replies", "[robustness][line]") {
  // Error texts name odd bytes as \xHH, and the line encoding leaves error
  // texts as they are (escaped once): the peer reads \xHH.
  const std::string long_name(200, 'n');
  std::vector<malformed_case> cases = {
      {"\n", "", true},
      {"   \n", "", true},
      {"\t\t\n", "", true},
      {"\r\n", "", true},
      {"nope\n", "ERR unknown command 'nope', with args beginning with: \r\n", true},
      {"NOPE arg\n", "ERR unknown command 'NOPE', with args beginning with: 'arg' \r\n", true},
      {"ping a b\n", "ERR wrong number of arguments for 'ping' command\r\n", true},
      {"pi\0ng\n"s, "ERR unknown command 'pi\\x00ng', with args beginning with: \r\n", true},
      {"\xff\xfe\n", "ERR unknown command '\\xff\\xfe', with args beginning with: \r\n", true},
      {"ping \xff\n", "\xff\r\n", true},
      {"ping a\rb\n", "a\\rb\r\n", true},
      {"ping a\\b\n", "a\\\\b\r\n", true},
      {"PING\r\r\n", "ERR unknown command 'PING\\x0d', with args beginning with: \r\n", true},
      {"ping    spaced\n", "spaced\r\n", true},
      {"ping\tTAB\n", "TAB\r\n", true},
      {"fail\n", "ERR internal error\r\n", true},
      {"big\n", "ERR wrong number of arguments for 'big' command\r\n", true},
      {"*\n", "ERR unknown command '*', with args beginning with: \r\n", true},
      {"ping\x01\n", "ERR unknown command 'ping\\x01', with args beginning with: \r\n", true},
      {"\x1b[A\n", "ERR unknown command '\\x1b[A', with args beginning with: \r\n", true},
      {"ping ''\n", "''\r\n", true},
      {"ping \"a b\"\n", "ERR wrong number of arguments for 'ping' command\r\n", true},
      {long_name + "\n", "ERR unknown command '" + std::string(128, 'n') + "', with args beginning with: \r\n", true},
      {"ping " + std::string(64 * 1024 - 5, 'y') + "\n", std::string(64 * 1024 - 5, 'y') + "\r\n", true},
      {"ping first\nping second\n", "first\r\nsecond\r\n", true},
      {"caf\xc3\xa9\n", "ERR unknown command 'caf\\xc3\\xa9', with args beginning with: \r\n", true},
      {"'\n", "ERR unknown command '\\x27', with args beginning with: \r\n", true},
      {"\\\n", "ERR unknown command '\\x5c', with args beginning with: \r\n", true},
      {std::string(64 * 1024 + 1, 'a'), "ERR request too large\r\n", false},
      {std::string(64 * 1024 + 1, 'a') + "\n", "ERR request too large\r\n", false},
      {"ping" + std::string(1100, ' ') +
           [] {
             std::string s;
             for (int i = 0; i < 1025; ++i)
               s += "a ";
             return s;
           }() +
           "\n",
       "ERR too many arguments\r\n", false},
  };
  run_table(coronet::wire_protocol::line, cases, "ping\n", "PONG\r\n");
}

TEST_CASE("RESP protocol: malformed inputs, exact replies", "[robustness][resp]") {
  std::vector<malformed_case> cases = {
      {"*1\r\n$4\r\nPING\r\n", "+PONG\r\n", true},
      {"*-1\r\n", "", true},
      {"*-2\r\n", "", true},  // any negative count is ignored, as Redis does (docs/protocols.md)
      {"*0\r\n", "", true},
      {"*2\r\n$4\r\nPING\r\n$0\r\n\r\n", "$0\r\n\r\n", true},
      {"*2\r\n$4\r\nping\r\n$3\r\na\0b\r\n"s, "$3\r\na\0b\r\n"s, true},
      {"*2\r\n$4\r\nping\r\n$4\r\na\r\nb\r\n", "$4\r\na\r\nb\r\n", true},
      {"*1\r\n$4\r\nNOPE\r\n", "-ERR unknown command 'NOPE', with args beginning with: \r\n", true},
      {"*1\r\n$4\r\nPI\xffG\r\n", "-ERR unknown command 'PI\\xffG', with args beginning with: \r\n", true},
      {"*1\r\n$0\r\n\r\n", "-ERR unknown command '', with args beginning with: \r\n", true},
      {"*1\r\n$4\r\nfail\r\n", "-ERR internal error\r\n", true},
      {"*3\r\n$4\r\nping\r\n$1\r\na\r\n$1\r\nb\r\n", "-ERR wrong number of arguments for 'ping' command\r\n", true},
      {"*2\r\n$4\r\nping\r\n$5\r\nhello\r\n*1\r\n$4\r\nping\r\n", "$5\r\nhello\r\n+PONG\r\n", true},
      {"PING\r\n", "+PONG\r\n", true},
      {"ping \"a b\"\r\n", "$3\r\na b\r\n", true},
      {"ping 'a\\'b'\r\n", "$3\r\na'b\r\n", true},
      {"ping \"\\x41\\n\"\r\n", "$2\r\nA\n\r\n", true},
      {"\r\n", "", true},
      {"   \r\n", "", true},
      {"*1\r\n$4\r\nping\r\n", "+PONG\r\n", true},
      {"*99999999\r\n", "-ERR protocol error: invalid multibulk length\r\n", false},
      {"*1025\r\n", "-ERR protocol error: invalid multibulk length\r\n", false},
      {"*abc\r\n", "-ERR protocol error: invalid multibulk length\r\n", false},
      {"*1\r\n$-5\r\n", "-ERR protocol error: invalid bulk length\r\n", false},
      {"*1\r\n$abc\r\n", "-ERR protocol error: invalid bulk length\r\n", false},
      {"*1\r\n$1048577\r\n", "-ERR protocol error: invalid bulk length\r\n", false},
      {"*1\r\n:4\r\n", "-ERR protocol error: expected '$', got ':'\r\n", false},
      {"*1\r\n\x01", "-ERR protocol error: expected '$', got '\\x01'\r\n", false},
      {"*1\r\n$4\r\nPINGxx", "-ERR protocol error: bulk not terminated by CRLF\r\n", false},
      {"*1\r\n$2\r\nPING\r\n", "-ERR protocol error: bulk not terminated by CRLF\r\n", false},
      {"ping \"a\r\n", "-ERR protocol error: unbalanced quotes\r\n", false},
      {"ping \"a\"b\r\n", "-ERR protocol error: unbalanced quotes\r\n", false},
      {std::string(64 * 1024 + 1, 'a'), "-ERR request too large\r\n", false},
      {"*1\r\n$" + std::string(64 * 1024 + 1, '1'), "-ERR request too large\r\n", false},
  };
  run_table(coronet::wire_protocol::resp, cases, "*1\r\n$4\r\nping\r\n", "+PONG\r\n");
  // The default protocol is RESP for every connection, whatever its first byte.
  run_table(coronet::wire_protocol::resp, cases, "*1\r\n$4\r\nping\r\n", "+PONG\r\n");
}

TEST_CASE("raw protocol: one read, an unframed reply or none, always closed", "[robustness][raw]") {
  std::vector<malformed_case> cases = {
      {"ping", "PONG", false},
      {"PING", "PONG", false},
      {"PiNg", "PONG", false},
      {"ping\r\n", "PONG", false},
      {"ping\n", "PONG", false},
      {" ping", "PONG", false},
      {"ping ", "PONG", false},
      {"ping\t", "PONG", false},
      {"ping hi", "hi", false},
      {"ping \xff", "\xff", false},
      {"ping a\r\nb", "", false},
      {"ping a b", "", false},
      {"nope", "", false},
      {"nope\n", "", false},
      {"fail", "", false},
      {"big", "", false},
      {"big 10", "xxxxxxxxxx", false},
      {"big 0", "", false},
      {"\0"s, "", false},
      {"\xff", "", false},
      {"   ", "", false},
      {"\r\n", "", false},
      {"*1\r\n$4\r\nping\r\n", "", false},
      {"ping" + std::string(1016, ' ') + "x", "x", false},
      {"ping " + std::string(1019, 'z'), std::string(1019, 'z'), false},
      {"timetampe", "", false},
      {"pingpong", "", false},
      {"'ping'", "", false},
      {"\"ping\"", "", false},
      {"ping\0x"s, "", false},
  };
  run_table(coronet::wire_protocol::raw, cases, "", "");
}

}  // namespace robustness_malformed_input_test
