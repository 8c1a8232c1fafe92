#include "coronet/protocol/raw/raw_codec.hpp"

#include <catch2/catch.hpp>

#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/protocol/codec.hpp"
#include "support/parse_checks.hpp"

namespace protocol_raw_raw_codec_test {

using namespace std::string_literals;
using coronet::codec_limits;
using coronet::parse_status;
using coronet::reply;

namespace {

struct raw_case {
  std::string input;
  parse_status status;
  std::vector<std::string> words;
  std::string error;
};

using coronet_test::to_strings;

std::vector<raw_case> cases() {
  const auto ok = parse_status::complete;
  const auto bad = parse_status::error;
  return {
      {"timetampe", ok, {"timetampe"}, ""},
      {"timestamp", ok, {"timestamp"}, ""},
      {"timestamp\n", ok, {"timestamp"}, ""},
      {"timestamp\r\n", ok, {"timestamp"}, ""},
      {"timestamp unix", ok, {"timestamp", "unix"}, ""},
      {"  timestamp\t iso  ", ok, {"timestamp", "iso"}, ""},
      {"ping\r\nping\r\n", ok, {"ping", "ping"}, ""},
      {"", parse_status::incomplete, {}, ""},
      {" ", ok, {}, ""},
      {"\r\n", ok, {}, ""},
      {"\t \r \n", ok, {}, ""},
      {"a\0b"s, ok, {"a\0b"s}, ""},
      {"\0"s, ok, {"\0"s}, ""},
      {"\xff\xfe", ok, {"\xff\xfe"}, ""},
      {"echo \xc3\x28", ok, {"echo", "\xc3\x28"}, ""},
      {"a\vb", ok, {"a\vb"}, ""},
      {"*1\r\n$4\r\nPING\r\n", ok, {"*1", "$4", "PING"}, ""},
      {"echo \"a b\"", ok, {"echo", "\"a", "b\""}, ""},
      {"echo 'x'", ok, {"echo", "'x'"}, ""},
      {"x\\y", ok, {"x\\y"}, ""},
      {"A", ok, {"A"}, ""},
      {"UNKNOWN-cmd arg", ok, {"UNKNOWN-cmd", "arg"}, ""},
      {std::string(1024, 'a'), ok, {std::string(1024, 'a')}, ""},
      {std::string(1024, ' '), ok, {}, ""},
      {std::string(1023, 'a') + "\n", ok, {std::string(1023, 'a')}, ""},
      {std::string(1025, 'a'), bad, {}, "request too large"},
      {std::string(1025, ' '), bad, {}, "request too large"},
      {std::string(4096, 'a'), bad, {}, "request too large"},
      {"a b c d e f", ok, {"a", "b", "c", "d", "e", "f"}, ""},
      {"quit", ok, {"quit"}, ""},
  };
}

}  // namespace

TEST_CASE("raw requests take the whole read as the command", "[framework][raw]") {
  const codec_limits limits;
  std::vector<std::string_view> words;
  const auto table = cases();
  REQUIRE(table.size() >= 30);
  for (const raw_case& c : table) {
    INFO("input: " << c.input.substr(0, 40) << " (" << c.input.size() << " bytes)");
    std::string buffer = c.input;
    const auto result = coronet::parse_raw_request(buffer, words, limits);
    coronet_test::check_parsed(result, words, c, c.status == parse_status::complete ? c.input.size() : 0);
    CHECK(buffer == c.input);
  }
}

TEST_CASE("raw requests obey max_args and a smaller max_request_bytes", "[framework][raw]") {
  codec_limits limits;
  limits.max_args = 2;
  std::vector<std::string_view> words;
  std::string two = "a b";
  CHECK(coronet::parse_raw_request(two, words, limits).status == parse_status::complete);
  std::string three = "a b c";
  const auto result = coronet::parse_raw_request(three, words, limits);
  CHECK(result.error == "too many arguments");
  CHECK(words.empty());
  limits.max_request_bytes = 3;
  std::string four = "abcd";
  CHECK(coronet::parse_raw_request(four, words, limits).error == "request too large");
}

TEST_CASE("raw replies are the bare value; errors and null write nothing", "[framework][raw]") {
  auto encode = [](const reply& r) {
    std::string out;
    coronet::encode_raw_reply(r, out);
    return out;
  };
  CHECK(encode(reply::text("Sun May 27 21:43:58 2018\n")) == "Sun May 27 21:43:58 2018\n");
  CHECK(encode(reply::bulk("a\r\n\0b"s)) == "a\r\n\0b"s);
  CHECK(encode(reply::integer(-42)) == "-42");
  CHECK(encode(reply::error_line("ERR unknown command 'x'")).empty());
  CHECK(encode(reply::null()).empty());
  std::vector<reply> elements;
  elements.push_back(reply::text("a"));
  elements.push_back(reply::integer(1));
  CHECK(encode(reply::array(std::move(elements))) == "a 1");
  CHECK(encode(reply::array({})).empty());
}

static_assert(coronet::request_codec<coronet::raw_codec>);
static_assert(!coronet::reply_codec<coronet::raw_codec>);
static_assert(coronet::raw_codec::protocol == coronet::wire_protocol::raw);

TEST_CASE("raw_codec::parse takes the one read whole, as parse_raw_request", "[framework][raw]") {
  const codec_limits limits;
  coronet::raw_codec codec;
  std::vector<std::string_view> words;
  std::string nothing;
  CHECK(codec.parse(nothing, words, limits).status == parse_status::incomplete);
  std::string read = "timestamp unix\r\n";
  const auto r = codec.parse(read, words, limits);
  CHECK(r.status == parse_status::complete);
  CHECK(r.consumed == read.size());
  CHECK(to_strings(words) == std::vector<std::string>{"timestamp", "unix"});
  std::string oversized(coronet::raw_max_request_bytes + 1, 'a');
  CHECK(codec.parse(oversized, words, limits).error == "request too large");
}

TEST_CASE("raw_codec::encode_request joins the words with no terminator", "[framework][raw]") {
  std::string out;
  const std::vector<std::string_view> words{"a", "b"};
  coronet::raw_codec::encode_request(words, out);
  CHECK(out == "a b");
  std::string seed;
  const std::vector<std::string_view> one{"timetampe"};
  coronet::raw_codec::encode_request(one, seed);
  CHECK(seed == "timetampe");
  std::string encoded;
  coronet::raw_codec::encode(reply::text("Sun May 27 21:43:58 2018\n"), encoded);
  CHECK(encoded == "Sun May 27 21:43:58 2018\n");
}

TEST_CASE("raw_codec::reply_at_close is ERR no reply for nothing, else the bytes as text", "[framework][raw]") {
  CHECK(coronet::raw_codec::reply_at_close("") == reply::err("no reply"));
  CHECK(coronet::raw_codec::reply_at_close("").str() == "ERR no reply");
  CHECK(coronet::raw_codec::reply_at_close("1527457438") == reply::text("1527457438"));
  CHECK(coronet::raw_codec::reply_at_close("ERR no reply") == reply::text("ERR no reply"));
  CHECK(coronet::raw_codec::reply_at_close("a\r\n\0b"s) == reply::text("a\r\n\0b"s));
}

TEST_CASE("raw replies write the RESP3 kinds as their text", "[framework][raw]") {
  auto encode = [](const reply& r) {
    std::string out;
    coronet::encode_raw_reply(r, out);
    return out;
  };
  CHECK(encode(reply::boolean(true)) == "true");
  CHECK(encode(reply::boolean(false)) == "false");
  CHECK(encode(reply::real(2.5)) == "2.5");
  CHECK(encode(reply::real(-std::numeric_limits<double>::infinity())) == "-inf");
  CHECK(encode(reply::verbatim("Sun May 27 21:43:58 2018\n")) == "Sun May 27 21:43:58 2018\n");
  std::vector<reply> kv;
  kv.push_back(reply::bulk("a"));
  kv.push_back(reply::integer(1));
  kv.push_back(reply::bulk("b"));
  kv.push_back(reply::real(0.25));
  CHECK(encode(reply::map(std::move(kv))) == "a=1 b=0.25");
  std::vector<reply> members;
  members.push_back(reply::text("x"));
  members.push_back(reply::boolean(false));
  CHECK(encode(reply::set(std::move(members))) == "x false");
  CHECK(encode(reply::error_line("ERR x")).empty());
  CHECK(encode(reply::null()).empty());
}

}  // namespace protocol_raw_raw_codec_test
