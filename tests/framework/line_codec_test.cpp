#include "coronet/framework/line_codec.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

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

std::vector<std::string> to_strings(const std::vector<std::string_view>& words) {
  return {words.begin(), words.end()};
}

std::string words_line(std::size_t count) {
  std::string line;
  for (std::size_t i = 0; i < count; ++i) line += "w ";
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
    CHECK(result.status == c.status);
    CHECK(result.consumed == c.consumed);
    CHECK(to_strings(words) == c.words);
    CHECK(result.error == c.error);
    CHECK(buffer == c.input);
    for (std::string_view w : words) {
      CHECK(w.data() >= buffer.data());
      CHECK(w.data() + w.size() <= buffer.data() + buffer.size());
    }
  }
}

TEST_CASE("a line request split at every byte is incomplete until its newline arrives", "[framework][line]") {
  const codec_limits limits;
  std::vector<std::string_view> words;
  for (const line_case& c : cases()) {
    if (c.status != parse_status::complete || c.consumed > 4096) continue;
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
  std::vector<std::vector<std::string>> seen;
  for (;;) {
    const auto result = coronet::parse_line_request(rest, words, limits);
    if (result.status != parse_status::complete) {
      CHECK(result.status == parse_status::incomplete);
      break;
    }
    seen.push_back(to_strings(words));
    rest = rest.subspan(result.consumed);
  }
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
  CHECK(encode(reply::error("ERR unknown command 'x'")) == "prefix|ERR unknown command 'x'\r\n");
  CHECK(encode(reply::err("bad\nthing")) == "prefix|ERR bad\\nthing\r\n");
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
