#include "coronet/protocol/line/line_codec.hpp"

#include <catch2/catch.hpp>

#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/protocol/codec.hpp"
#include "support/parse_checks.hpp"

namespace protocol_line_line_codec_test {

using namespace std::string_literals;
using coronet::codec_limits;
using coronet::parse_status;
using coronet::reply;

namespace {

struct line_case {
  std::string input;
  parse_status status;
  std::size_t consumed;
  std::vector<std::string> words;
  std::string error;
};

using coronet_test::to_strings;

std::string words_line(std::size_t count) {
  std::string line;
  for (std::size_t i = 0; i < count; ++i)
    line += "w ";
  return line + "\n";
}

std::vector<line_case> cases() {
  const std::string big(64 * 1024, 'a');
  const auto ok = parse_status::complete;
  const auto more = parse_status::incomplete;
  const auto bad = parse_status::error;
  return {
      {"PING\n", ok, 5, {"PING"}, ""},
      {"PING\r\n", ok, 6, {"PING"}, ""},
      {"ping hello world\r\n", ok, 18, {"ping", "hello", "world"}, ""},
      {"\n", ok, 1, {}, ""},
      {"\r\n", ok, 2, {}, ""},
      {"   \t  \r\n", ok, 8, {}, ""},
      {"\t\n", ok, 2, {}, ""},
      {"", more, 0, {}, ""},
      {"PING", more, 0, {}, ""},
      {"PING\r", more, 0, {}, ""},
      {"  \r", more, 0, {}, ""},
      {"  echo   a\t\tb  \n", ok, 16, {"echo", "a", "b"}, ""},
      {"echo a\0b\n"s, ok, 9, {"echo", "a\0b"s}, ""},
      {"\0\n"s, ok, 2, {"\0"s}, ""},
      {"echo \xff\xfe\xc3\n", ok, 9, {"echo", "\xff\xfe\xc3"}, ""},
      {"PI\rNG\n", ok, 6, {"PI\rNG"}, ""},
      {"PING\r\r\n", ok, 7, {"PING\r"}, ""},
      {"\rPING\n", ok, 6, {"\rPING"}, ""},
      {"a\nb\n", ok, 2, {"a"}, ""},
      {"get key\r\nset", ok, 9, {"get", "key"}, ""},
      {"echo \"a b\"\n", ok, 11, {"echo", "\"a", "b\""}, ""},
      {"x\\y 'q'\n", ok, 8, {"x\\y", "'q'"}, ""},
      {"*1\r\n$4\r\nPING\r\n", ok, 4, {"*1"}, ""},
      {"a\v\fb\n", ok, 5, {"a\v\fb"}, ""},
      {big + "\n", ok, big.size() + 1, {big}, ""},
      {big + "\r\n", ok, big.size() + 2, {big}, ""},
      {big, more, 0, {}, ""},
      {big + "\r", more, 0, {}, ""},
      {big + "a", bad, 0, {}, "request too large"},
      {big + "a\n", bad, 0, {}, "request too large"},
      {big + "a\r\n", bad, 0, {}, "request too large"},
      {big + "\r\r\n", bad, 0, {}, "request too large"},
      {std::string(64 * 1024 + 1, ' ') + "\n", bad, 0, {}, "request too large"},
      {big + big + "\n", bad, 0, {}, "request too large"},
      {words_line(1024), ok, 2049, std::vector<std::string>(1024, "w"), ""},
      {words_line(1025), bad, 0, {}, "too many arguments"},
  };
}

}  // namespace

TEST_CASE("line requests parse to the exact words, length and error", "[framework][line]") {
  const codec_limits limits;
  std::vector<std::string_view> words;
  const auto table = cases();
  REQUIRE(table.size() >= 30);
  for (const line_case& c : table) {
    INFO("input: " << c.input.substr(0, 40) << " (" << c.input.size() << " bytes)");
    std::string buffer = c.input;
    const auto result = coronet::parse_line_request(buffer, words, limits);
    coronet_test::check_parsed(result, words, c);
    CHECK(buffer == c.input);
    coronet_test::check_words_inside(words, buffer);
    // The codec type, given the whole buffer at once, agrees.
    coronet::line_codec codec;
    const auto from_codec = codec.parse(buffer, words, limits);
    coronet_test::check_parsed(from_codec, words, c);
  }
}

TEST_CASE("a line request split at every byte is incomplete until its newline arrives", "[framework][line]") {
  const codec_limits limits;
  std::vector<std::string_view> words;
  for (const line_case& c : cases()) {
    if (c.status != parse_status::complete || c.consumed > 4096)
      continue;
    INFO("input: " << c.input);
    for (std::size_t cut = 0; cut < c.consumed; ++cut) {
      std::string prefix = c.input.substr(0, cut);
      const auto partial = coronet::parse_line_request(prefix, words, limits);
      CHECK(partial.status == parse_status::incomplete);
      CHECK(partial.consumed == 0);
    }
    std::string whole = c.input.substr(0, c.consumed);
    const auto result = coronet::parse_line_request(whole, words, limits);
    CHECK(result.status == parse_status::complete);
    CHECK(result.consumed == c.consumed);
    CHECK(to_strings(words) == c.words);
  }
}

TEST_CASE("pipelined line requests are parsed one after another", "[framework][line]") {
  const codec_limits limits;
  std::vector<std::string_view> words;
  std::string buffer = "PING\r\necho a b\n\r\ntimestamp unix\r\nTAIL";
  std::span<char> rest(buffer);
  const auto seen = coronet_test::parse_pipelined(
      rest, words,
      [&](std::span<char> in, std::vector<std::string_view>& w) { return coronet::parse_line_request(in, w, limits); });
  const std::vector<std::vector<std::string>> expected{{"PING"}, {"echo", "a", "b"}, {}, {"timestamp", "unix"}};
  CHECK(seen == expected);
  CHECK(std::string(rest.data(), rest.size()) == "TAIL");
}

TEST_CASE("line limits come from codec_limits", "[framework][line]") {
  codec_limits limits;
  limits.max_request_bytes = 4;
  limits.max_args = 2;
  std::vector<std::string_view> words;
  std::string fits = "ab c\r\n";
  CHECK(coronet::parse_line_request(fits, words, limits).status == parse_status::complete);
  std::string longer = "ab cd\n";
  CHECK(coronet::parse_line_request(longer, words, limits).error == "request too large");
  std::string waiting = "abcd\r";
  CHECK(coronet::parse_line_request(waiting, words, limits).status == parse_status::incomplete);
  limits.max_request_bytes = 64;
  std::string many = "a b c\n";
  CHECK(coronet::parse_line_request(many, words, limits).error == "too many arguments");
  CHECK(words.empty());
}

TEST_CASE("line replies encode every kind as exactly one CRLF line", "[framework][line]") {
  auto encode = [](const reply& r) {
    std::string out = "prefix|";
    coronet::encode_line_reply(r, out);
    return out;
  };
  CHECK(encode(reply::text("PONG")) == "prefix|PONG\r\n");
  CHECK(encode(reply::text("")) == "prefix|\r\n");
  CHECK(encode(reply::text("a\r\nb\\c")) == "prefix|a\\r\\nb\\\\c\r\n");
  CHECK(encode(reply::bulk("x\ny\0z"s)) == "prefix|x\\ny\0z\r\n"s);
  CHECK(encode(reply::bulk(std::string(100, 'b'))) == "prefix|" + std::string(100, 'b') + "\r\n");
  CHECK(encode(reply::error_line("ERR unknown command 'x'")) == "prefix|ERR unknown command 'x'\r\n");
  // Error lines go out as they are: CR/LF become spaces, backslashes stay single.
  CHECK(encode(reply::err("bad\nthing\r")) == "prefix|ERR bad thing \r\n");
  CHECK(encode(reply::error_line("ERR unknown command 'nope\\x01\\xff'")) ==
        "prefix|ERR unknown command 'nope\\x01\\xff'\r\n");
  CHECK(encode(reply::err("a\\b")) == "prefix|ERR a\\b\r\n");
  CHECK(encode(reply::integer(0)) == "prefix|0\r\n");
  CHECK(encode(reply::integer(-9223372036854775807LL - 1)) == "prefix|-9223372036854775808\r\n");
  CHECK(encode(reply::integer(1527457438)) == "prefix|1527457438\r\n");
  CHECK(encode(reply::null()) == "prefix|(nil)\r\n");
  CHECK(encode(reply::array({})) == "prefix|\r\n");
  std::vector<reply> inner;
  inner.push_back(reply::integer(2));
  inner.push_back(reply::null());
  std::vector<reply> outer;
  outer.push_back(reply::text("a b"));
  outer.push_back(reply::array(std::move(inner)));
  outer.push_back(reply::bulk("c\r"));
  CHECK(encode(reply::array(std::move(outer))) == "prefix|a b 2 (nil) c\\r\r\n");
}

static_assert(coronet::request_codec<coronet::line_codec>);
static_assert(coronet::reply_codec<coronet::line_codec>);
static_assert(coronet::line_codec::protocol == coronet::wire_protocol::line);

TEST_CASE("line_codec::parse of a request arriving byte by byte completes at its newline", "[framework][line]") {
  const codec_limits limits;
  coronet::line_codec codec;
  std::vector<std::string_view> words;
  const std::string wire = "SET key  value\r\nGET key\n";
  const std::size_t first_end = wire.find('\n') + 1;
  std::string arrived;
  for (std::size_t i = 0; i + 1 < first_end; ++i) {
    arrived += wire[i];
    const auto partial = codec.parse(arrived, words, limits);
    CHECK(partial.status == parse_status::incomplete);
    CHECK(partial.consumed == 0);
    CHECK(words.empty());
  }
  arrived += wire[first_end - 1];
  const auto first = codec.parse(arrived, words, limits);
  REQUIRE(first.status == parse_status::complete);
  CHECK(first.consumed == first_end);
  CHECK(to_strings(words) == std::vector<std::string>{"SET", "key", "value"});

  // The next request starts from scratch, at the byte after the newline.
  std::string second_arrived;
  for (std::size_t i = first_end; i < wire.size(); ++i) {
    second_arrived += wire[i];
    const auto r = codec.parse(second_arrived, words, limits);
    CHECK(r.status == (i + 1 == wire.size() ? parse_status::complete : parse_status::incomplete));
  }
  CHECK(to_strings(words) == std::vector<std::string>{"GET", "key"});
}

TEST_CASE("line_codec::parse finds a newline that arrives among many bytes after an incomplete call",
          "[framework][line]") {
  const codec_limits limits;
  coronet::line_codec codec;
  std::vector<std::string_view> words;
  std::string buffer = "echo hel";
  CHECK(codec.parse(buffer, words, limits).status == parse_status::incomplete);
  buffer += "lo\r\nPING\r\n";
  const auto r = codec.parse(buffer, words, limits);
  REQUIRE(r.status == parse_status::complete);
  CHECK(r.consumed == 12);
  CHECK(to_strings(words) == std::vector<std::string>{"echo", "hello"});
}

TEST_CASE("line_codec::parse reports request too large once a line without newline passes the limit",
          "[framework][line]") {
  codec_limits limits;
  limits.max_request_bytes = 8;
  coronet::line_codec codec;
  std::vector<std::string_view> words;
  std::string arrived;
  for (char c : std::string("abcdefgh")) {
    arrived += c;
    CHECK(codec.parse(arrived, words, limits).status == parse_status::incomplete);
  }
  arrived += 'i';
  const auto r = codec.parse(arrived, words, limits);
  CHECK(r.status == parse_status::error);
  CHECK(r.error == "request too large");
  CHECK(r.consumed == 0);

  // The same codec parses the connection's next request from scratch.
  std::string next = "PING\n";
  const auto after = codec.parse(next, words, limits);
  CHECK(after.status == parse_status::complete);
  CHECK(to_strings(words) == std::vector<std::string>{"PING"});
}

TEST_CASE("line_codec::parse_reply: ERR lines are errors taken as they are, others text with escapes decoded",
          "[framework][line]") {
  const codec_limits limits;
  struct reply_case {
    std::string input;
    std::size_t consumed;
    reply expected;
  };
  const std::vector<reply_case> table{
      {"PONG\r\n", 6, reply::text("PONG")},
      {"PONG\n", 5, reply::text("PONG")},
      {"\r\n", 2, reply::text("")},
      {"ERR unknown command 'x'\r\n", 25, reply::error_line("ERR unknown command 'x'")},
      {"ERR\r\n", 5, reply::error_line("ERR")},
      {"ERROR here\r\n", 12, reply::text("ERROR here")},
      {"err lower\r\n", 11, reply::text("err lower")},
      {"a\\r\\nb\\\\c\r\n", 11, reply::text("a\r\nb\\c")},
      {"ERR bad\\nthing\r\n", 16, reply::error_line("ERR bad\\nthing")},
      {"ERR unknown command 'nope\\x01\\xff'\r\n", 36, reply::error_line("ERR unknown command 'nope\\x01\\xff'")},
      {"\\\\n\r\n", 5, reply::text("\\n")},
      {"trailing\\\r\n", 11, reply::text("trailing\\")},
      {"1527457438\r\nnext\r\n", 12, reply::text("1527457438")},
  };
  for (const reply_case& c : table) {
    INFO("input: " << c.input);
    coronet::line_codec codec;
    reply out = reply::text("untouched");
    const auto result = codec.parse_reply(c.input, out, limits);
    CHECK(result.status == parse_status::complete);
    CHECK(result.consumed == c.consumed);
    CHECK(result.error.empty());
    CHECK(out == c.expected);
  }
}

TEST_CASE("line_codec::parse_reply is incomplete until the newline and round-trips encode", "[framework][line]") {
  const codec_limits limits;
  coronet::line_codec codec;
  std::string wire;
  coronet::line_codec::encode(reply::text("a\r\nb\\c"), wire);
  coronet::line_codec::encode(reply::err("timeout"), wire);
  reply out = reply::text("untouched");
  std::string arrived;
  std::vector<reply> seen;
  for (char c : wire) {
    arrived += c;
    const auto r = codec.parse_reply(arrived, out, limits);
    if (r.status == parse_status::incomplete) {
      CHECK(r.consumed == 0);
      continue;
    }
    REQUIRE(r.status == parse_status::complete);
    CHECK(r.consumed == arrived.size());
    seen.push_back(out);
    arrived.clear();
  }
  CHECK(arrived.empty());
  REQUIRE(seen.size() == 2);
  CHECK(seen[0] == reply::text("a\r\nb\\c"));
  CHECK(seen[1] == reply::err("timeout"));
  std::string nothing;
  CHECK(codec.parse_reply(nothing, out, limits).status == parse_status::incomplete);
}

TEST_CASE("line_codec::encode_request joins the words with one space and ends with CRLF", "[framework][line]") {
  std::string out = "prefix|";
  const std::vector<std::string_view> words{"a", "b"};
  coronet::line_codec::encode_request(words, out);
  CHECK(out == "prefix|a b\r\n");
  std::string single;
  const std::vector<std::string_view> one{"PING"};
  coronet::line_codec::encode_request(one, single);
  CHECK(single == "PING\r\n");
  std::string encoded;
  coronet::line_codec::encode(reply::integer(5), encoded);
  CHECK(encoded == "5\r\n");
}

TEST_CASE("line replies render the RESP3 kinds on one line", "[framework][line]") {
  auto encode = [](const reply& r) {
    std::string out;
    coronet::encode_line_reply(r, out);
    return out;
  };
  CHECK(encode(reply::boolean(true)) == "true\r\n");
  CHECK(encode(reply::boolean(false)) == "false\r\n");
  CHECK(encode(reply::real(3.14)) == "3.14\r\n");
  CHECK(encode(reply::real(-0.0)) == "-0\r\n");
  CHECK(encode(reply::real(1e-7)) == "1e-7\r\n");
  CHECK(encode(reply::real(std::numeric_limits<double>::infinity())) == "inf\r\n");
  CHECK(encode(reply::real(std::numeric_limits<double>::quiet_NaN())) == "nan\r\n");
  CHECK(encode(reply::verbatim("a\r\nb\\c")) == "a\\r\\nb\\\\c\r\n");
  std::vector<reply> kv;
  kv.push_back(reply::bulk("server"));
  kv.push_back(reply::bulk("coronet"));
  kv.push_back(reply::bulk("proto"));
  kv.push_back(reply::integer(3));
  kv.push_back(reply::bulk("modules"));
  kv.push_back(reply::array({}));
  CHECK(encode(reply::map(std::move(kv))) == "server=coronet proto=3 modules=\r\n");
  CHECK(encode(reply::map({})) == "\r\n");
  std::vector<reply> members;
  members.push_back(reply::text("a"));
  members.push_back(reply::null());
  members.push_back(reply::boolean(true));
  CHECK(encode(reply::set(std::move(members))) == "a (nil) true\r\n");
  std::vector<reply> nested;
  nested.push_back(reply::error_line("ERR in\\side\r\n"));
  nested.push_back(reply::real(0.5));
  CHECK(encode(reply::array(std::move(nested))) == "ERR in\\side   0.5\r\n");
}

TEST_CASE("an error line with backslashes crosses the line protocol unchanged", "[framework][line]") {
  // What the router answers to `printf 'nope\x01\xff\n'`: the name is already escaped once.
  const reply sent = reply::error_line("ERR unknown command 'nope\\x01\\xff'");
  std::string wire;
  coronet::encode_line_reply(sent, wire);
  CHECK(wire == "ERR unknown command 'nope\\x01\\xff'\r\n");
  coronet::line_codec codec;
  reply back;
  const auto r = codec.parse_reply(wire, back, codec_limits{});
  REQUIRE(r.status == parse_status::complete);
  CHECK(r.consumed == wire.size());
  CHECK(back == sent);
  // A text reply still has its backslashes escaped and unescaped.
  wire.clear();
  coronet::encode_line_reply(reply::text("C:\\x"), wire);
  CHECK(wire == "C:\\\\x\r\n");
  REQUIRE(codec.parse_reply(wire, back, codec_limits{}).status == parse_status::complete);
  CHECK(back == reply::text("C:\\x"));
}

}  // namespace protocol_line_line_codec_test
