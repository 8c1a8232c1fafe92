#include "coronet/framework/resp_codec.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/framework/codec.hpp"

using namespace std::string_literals;
using coronet::codec_limits;
using coronet::parse_status;
using coronet::reply;

namespace {

struct resp_case {
  std::string input;
  parse_status status;
  std::size_t consumed;
  std::vector<std::string> words;
  std::string error;
};

std::vector<std::string> to_strings(const std::vector<std::string_view>& words) { return {words.begin(), words.end()}; }

std::string multibulk(const std::vector<std::string>& words) {
  std::string out = "*" + std::to_string(words.size()) + "\r\n";
  for (const std::string& w : words)
    out += "$" + std::to_string(w.size()) + "\r\n" + w + "\r\n";
  return out;
}

std::vector<resp_case> cases() {
  const auto ok = parse_status::complete;
  const auto more = parse_status::incomplete;
  const auto bad = parse_status::error;
  const std::string mb = "protocol error: invalid multibulk length";
  const std::string bl = "protocol error: invalid bulk length";
  const std::string crlf = "protocol error: bulk not terminated by CRLF";
  const std::string quotes = "protocol error: unbalanced quotes";
  const std::string huge(64 * 1024 + 1, 'a');
  return {
      // multibulk
      {"*1\r\n$4\r\nPING\r\n", ok, 14, {"PING"}, ""},
      {"*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n", ok, 25, {"ECHO", "hello"}, ""},
      {"*1\r\n$0\r\n\r\n", ok, 10, {""}, ""},
      {"*1\r\n$3\r\na\0b\r\n"s, ok, 13, {"a\0b"s}, ""},
      {"*1\r\n$2\r\n\r\n\r\n", ok, 12, {"\r\n"}, ""},
      {"*1\r\n$2\r\n\xff\xc3\r\n", ok, 12, {"\xff\xc3"}, ""},
      {"*0\r\n", ok, 4, {}, ""},
      {"*-1\r\n", ok, 5, {}, ""},
      {"*-10\r\n", ok, 6, {}, ""},
      {"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n", ok, 14, {"PING"}, ""},
      {"*1\r\n$4\r\nPING\r\nextra", ok, 14, {"PING"}, ""},
      {"*", more, 0, {}, ""},
      {"*1\r", more, 0, {}, ""},
      {"*2\r\n$4\r\nECHO\r\n", more, 0, {}, ""},
      {"*1\r\n$4\r\nPI", more, 0, {}, ""},
      {"*1\r\n$4\r\nPING", more, 0, {}, ""},
      {"*1024\r\n", more, 0, {}, ""},
      {"*1\r\n$1048576\r\n", more, 0, {}, ""},
      {"*1025\r\n", bad, 0, {}, mb},
      {"*99999999\r\n", bad, 0, {}, mb},
      {"*9223372036854775808\r\n", bad, 0, {}, mb},
      {"*abc\r\n", bad, 0, {}, mb},
      {"*\r\n", bad, 0, {}, mb},
      {"*01\r\n", bad, 0, {}, mb},
      {"*+1\r\n", bad, 0, {}, mb},
      {"*-0\r\n", bad, 0, {}, mb},
      {"* 1\r\n", bad, 0, {}, mb},
      {"*1\rx", bad, 0, {}, mb},
      {"*1\r\n$-5\r\n", bad, 0, {}, bl},
      {"*1\r\n$-1\r\n", bad, 0, {}, bl},
      {"*1\r\n$abc\r\n", bad, 0, {}, bl},
      {"*1\r\n$\r\n", bad, 0, {}, bl},
      {"*1\r\n$1048577\r\n", bad, 0, {}, bl},
      {"*1\r\n$4\rx", bad, 0, {}, bl},
      {"*1\r\n$4\r\nPINGX\r\n", bad, 0, {}, crlf},
      {"*1\r\n$4\r\nPING\rX", bad, 0, {}, crlf},
      {"*1\r\n$4\r\nPING\n\r", bad, 0, {}, crlf},
      {"*1\r\nfoo\r\n", bad, 0, {}, "protocol error: expected '$', got 'f'"},
      {"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n", bad, 0, {}, "protocol error: expected '$', got 'f'"},
      {"*1\r\n\x01", bad, 0, {}, "protocol error: expected '$', got '\\x01'"},
      {"*1\r\n\xff", bad, 0, {}, "protocol error: expected '$', got '\\xff'"},
      {"*1\r\n:1\r\n", bad, 0, {}, "protocol error: expected '$', got ':'"},
      {"*" + huge, bad, 0, {}, "request too large"},
      {"*1\r\n$" + std::string(64 * 1024, '1'), bad, 0, {}, "request too large"},
      // inline
      {"PING\r\n", ok, 6, {"PING"}, ""},
      {"PING\n", ok, 5, {"PING"}, ""},
      {"\r\n", ok, 2, {}, ""},
      {"  \t \r\n", ok, 6, {}, ""},
      {"PING", more, 0, {}, ""},
      {"set k \"a b\"\r\n", ok, 13, {"set", "k", "a b"}, ""},
      {"set k 'a b'\r\n", ok, 13, {"set", "k", "a b"}, ""},
      {"echo \"\\x41\\n\\t\\\\\\\"\\r\\b\\a\\q\"\r\n", ok, 29, {"echo", "A\n\t\\\"\r\b\aq"}, ""},
      {"echo \"\\xZZ\" \"\\x4\"\r\n", ok, 19, {"echo", "xZZ", "x4"}, ""},
      {"echo \"\\x00\\xff\"\r\n", ok, 17, {"echo", "\0\xff"s}, ""},
      {"echo 'it\\'s' 'a\\nb'\n", ok, 20, {"echo", "it's", "a\\nb"}, ""},
      {"echo '' \"\"\r\n", ok, 12, {"echo", "", ""}, ""},
      {"ab\"c d\"\r\n", ok, 9, {"abc d"}, ""},
      {"a\0b c\r\n"s, ok, 7, {"a\0b"s, "c"}, ""},
      {"a\vb\n", ok, 4, {"a\vb"}, ""},
      {"\v\fa\f\n", ok, 5, {"a\f"}, ""},
      {"echo \"abc\r\n", bad, 0, {}, quotes},
      {"echo 'abc\r\n", bad, 0, {}, quotes},
      {"echo \"a\"b\r\n", bad, 0, {}, quotes},
      {"echo 'a'b\r\n", bad, 0, {}, quotes},
      {"echo \"abc\\\"\r\n", bad, 0, {}, quotes},
      {huge, bad, 0, {}, "request too large"},
      {huge + "\r\n", bad, 0, {}, "request too large"},
      {std::string(64 * 1024, 'a') + "\r\n", ok, 64 * 1024 + 2, {std::string(64 * 1024, 'a')}, ""},
      {multibulk(std::vector<std::string>(1024, "x")), ok, 7 + 1024 * 7, std::vector<std::string>(1024, "x"), ""},
  };
}

// Feeds `input` one more byte at a time to one parser, copying the bytes to a
// fresh buffer each call so that any address kept between calls would break.
coronet::parse_result feed_bytewise(coronet::resp_request_parser& parser, const std::string& input,
                                    std::vector<std::string_view>& words, std::vector<char>& buffer) {
  const codec_limits limits;
  coronet::parse_result result;
  for (std::size_t n = 1; n <= input.size(); ++n) {
    buffer.assign(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(n));
    result = parser.parse(buffer, words, limits);
    if (result.status != parse_status::incomplete)
      return result;
  }
  return result;
}

}  // namespace

TEST_CASE("RESP requests parse to the exact words, length and error", "[framework][resp]") {
  const codec_limits limits;
  std::vector<std::string_view> words;
  const auto table = cases();
  REQUIRE(table.size() >= 30);
  coronet::resp_request_parser parser;
  for (const resp_case& c : table) {
    INFO("input: " << c.input.substr(0, 48) << " (" << c.input.size() << " bytes)");
    std::string buffer = c.input;
    const auto result = coronet::parse_resp_request(buffer, words, limits);
    CHECK(result.status == c.status);
    CHECK(result.consumed == c.consumed);
    CHECK(to_strings(words) == c.words);
    CHECK(result.error == c.error);
    for (std::string_view w : words) {
      CHECK(w.data() >= buffer.data());
      CHECK(w.data() + w.size() <= buffer.data() + buffer.size());
    }
    // The incremental parser, given the whole buffer at once, agrees.
    parser.reset();
    std::string again = c.input;
    const auto incremental = parser.parse(again, words, limits);
    CHECK(incremental.status == c.status);
    CHECK(incremental.consumed == c.consumed);
    CHECK(to_strings(words) == c.words);
    CHECK(incremental.error == c.error);
  }
}

TEST_CASE("a RESP request split at every byte is incomplete until its last byte", "[framework][resp]") {
  const codec_limits limits;
  std::vector<std::string_view> words;
  std::vector<char> buffer;
  for (const resp_case& c : cases()) {
    if (c.status != parse_status::complete || c.consumed > 4096)
      continue;
    INFO("input: " << c.input);
    const std::string whole = c.input.substr(0, c.consumed);
    for (std::size_t cut = 0; cut < c.consumed; ++cut) {
      std::string prefix = whole.substr(0, cut);
      const auto partial = coronet::parse_resp_request(prefix, words, limits);
      CHECK(partial.status == parse_status::incomplete);
      CHECK(partial.consumed == 0);
      CHECK(words.empty());
    }
    coronet::resp_request_parser parser;
    const auto result = feed_bytewise(parser, whole, words, buffer);
    CHECK(result.status == parse_status::complete);
    CHECK(result.consumed == c.consumed);
    CHECK(to_strings(words) == c.words);
    CHECK_FALSE(parser.in_progress());
  }
}

TEST_CASE("a bad RESP request fed byte by byte fails with the same error", "[framework][resp]") {
  std::vector<std::string_view> words;
  std::vector<char> buffer;
  for (const resp_case& c : cases()) {
    if (c.status != parse_status::error || c.input.size() > 4096)
      continue;
    INFO("input: " << c.input);
    coronet::resp_request_parser parser;
    const auto result = feed_bytewise(parser, c.input, words, buffer);
    CHECK(result.status == parse_status::error);
    CHECK(result.error == c.error);
    CHECK_FALSE(parser.in_progress());
  }
}

TEST_CASE("pipelined RESP requests are parsed one after another", "[framework][resp]") {
  const codec_limits limits;
  std::vector<std::string_view> words;
  std::string buffer = "*1\r\n$4\r\nPING\r\nECHO \"a b\"\r\n*0\r\n\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPI";
  std::span<char> rest(buffer);
  coronet::resp_request_parser parser;
  std::vector<std::vector<std::string>> seen;
  for (;;) {
    const auto result = parser.parse(rest, words, limits);
    if (result.status != parse_status::complete) {
      CHECK(result.status == parse_status::incomplete);
      break;
    }
    seen.push_back(to_strings(words));
    rest = rest.subspan(result.consumed);
  }
  const std::vector<std::vector<std::string>> expected{{"PING"}, {"ECHO", "a b"}, {}, {}, {"GET", "k"}};
  CHECK(seen == expected);
  CHECK(parser.in_progress());
  CHECK(std::string(rest.data(), rest.size()) == "*1\r\n$4\r\nPI");
}

TEST_CASE("a 1 MiB bulk arriving in 4 KiB pieces completes once", "[framework][resp]") {
  const codec_limits limits;
  const std::string payload(1024 * 1024, 'z');
  const std::string request = multibulk({"SET", "key", payload});
  std::vector<std::string_view> words;
  std::string buffer;
  coronet::resp_request_parser parser;
  coronet::parse_result result;
  std::size_t calls = 0;
  for (std::size_t sent = 0; sent < request.size();) {
    const std::size_t piece = std::min<std::size_t>(4096, request.size() - sent);
    buffer.append(request, sent, piece);
    sent += piece;
    buffer.shrink_to_fit();  // likely moves the bytes, which the parser must tolerate
    result = parser.parse(buffer, words, limits);
    ++calls;
    if (sent < request.size())
      REQUIRE(result.status == parse_status::incomplete);
  }
  CHECK(calls > 256);
  REQUIRE(result.status == parse_status::complete);
  CHECK(result.consumed == request.size());
  REQUIRE(words.size() == 3);
  CHECK(words[0] == "SET");
  CHECK(words[2] == payload);
}

TEST_CASE("RESP limits come from codec_limits", "[framework][resp]") {
  codec_limits limits;
  limits.max_args = 2;
  limits.max_bulk_bytes = 3;
  limits.max_request_bytes = 8;
  std::vector<std::string_view> words;
  auto parse = [&](std::string input) {
    return coronet::parse_resp_request(input, words, limits);
  };
  CHECK(parse("*2\r\n$3\r\nabc\r\n$0\r\n\r\n").status == parse_status::complete);
  CHECK(parse("*3\r\n").error == "protocol error: invalid multibulk length");
  CHECK(parse("*1\r\n$4\r\n").error == "protocol error: invalid bulk length");
  CHECK(parse("a b c\r\n").error == "too many arguments");
  CHECK(parse("abcdefghi").error == "request too large");
  CHECK(parse("abcdefgh\r").status == parse_status::incomplete);
  CHECK(parse("*000000001\r\n").error == "request too large");
}

TEST_CASE("encode_resp_request round-trips random binary words", "[framework][resp]") {
  std::mt19937 rng(20240611);
  const codec_limits limits;
  std::vector<std::string_view> parsed;
  std::string wire;
  for (int iteration = 0; iteration < 2000; ++iteration) {
    std::vector<std::string> words(std::uniform_int_distribution<std::size_t>(1, 16)(rng));
    for (std::string& w : words) {
      w.resize(std::uniform_int_distribution<std::size_t>(0, 40)(rng));
      for (char& c : w)
        c = static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
    }
    const std::vector<std::string_view> views(words.begin(), words.end());
    wire.clear();
    coronet::encode_resp_request(views, wire);
    const auto result = coronet::parse_resp_request(wire, parsed, limits);
    REQUIRE(result.status == parse_status::complete);
    REQUIRE(result.consumed == wire.size());
    REQUIRE(to_strings(parsed) == words);
  }
}

TEST_CASE("RESP replies encode every kind", "[framework][resp]") {
  auto encode = [](const reply& r) {
    std::string out;
    coronet::encode_resp_reply(r, out);
    return out;
  };
  CHECK(encode(reply::text("PONG")) == "+PONG\r\n");
  CHECK(encode(reply::text("a\r\nb")) == "+a  b\r\n");
  CHECK(encode(reply::error("ERR unknown command 'x'")) == "-ERR unknown command 'x'\r\n");
  CHECK(encode(reply::err("bad\nline")) == "-ERR bad line\r\n");
  CHECK(encode(reply::integer(-7)) == ":-7\r\n");
  CHECK(encode(reply::integer(0)) == ":0\r\n");
  CHECK(encode(reply::bulk("a\r\n\0"s)) == "$4\r\na\r\n\0\r\n"s);
  CHECK(encode(reply::bulk("")) == "$0\r\n\r\n");
  CHECK(encode(reply::null()) == "$-1\r\n");
  CHECK(encode(reply::array({})) == "*0\r\n");
  std::vector<reply> inner;
  inner.push_back(reply::integer(1));
  std::vector<reply> outer;
  outer.push_back(reply::bulk("x"));
  outer.push_back(reply::array(std::move(inner)));
  outer.push_back(reply::null());
  CHECK(encode(reply::array(std::move(outer))) == "*3\r\n$1\r\nx\r\n*1\r\n:1\r\n$-1\r\n");
}

TEST_CASE("encode_resp_request writes a multibulk of bulk strings", "[framework][resp]") {
  std::string out;
  const std::vector<std::string_view> words{"SET", "k", ""};
  coronet::encode_resp_request(words, out);
  CHECK(out == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
}

namespace {

struct reply_case {
  std::string input;
  parse_status status;
  std::size_t consumed;
  reply expected;
  std::string error;
};

reply nested(int depth) {
  reply r = reply::integer(1);
  for (int i = 0; i < depth; ++i) {
    std::vector<reply> one;
    one.push_back(std::move(r));
    r = reply::array(std::move(one));
  }
  return r;
}

std::string nested_wire(int depth) {
  std::string wire;
  for (int i = 0; i < depth; ++i)
    wire += "*1\r\n";
  return wire + ":1\r\n";
}

std::vector<reply_case> reply_cases() {
  const auto ok = parse_status::complete;
  const auto more = parse_status::incomplete;
  const auto bad = parse_status::error;
  std::vector<reply> pair;
  pair.push_back(reply::bulk("a"));
  pair.push_back(reply::integer(1));
  std::vector<reply_case> table;
  table.push_back({"+OK\r\n", ok, 5, reply::text("OK"), ""});
  table.push_back({"-ERR x\r\n", ok, 8, reply::error("ERR x"), ""});
  table.push_back({":42\r\n", ok, 5, reply::integer(42), ""});
  table.push_back({":-1\r\n", ok, 5, reply::integer(-1), ""});
  table.push_back({"$5\r\nhello\r\n", ok, 11, reply::bulk("hello"), ""});
  table.push_back({"$0\r\n\r\n", ok, 6, reply::bulk(""), ""});
  table.push_back({"$-1\r\n", ok, 5, reply::null(), ""});
  table.push_back({"*-1\r\n", ok, 5, reply::null(), ""});
  table.push_back({"*0\r\n", ok, 4, reply::array({}), ""});
  table.push_back({"*2\r\n$1\r\na\r\n:1\r\n+rest", ok, 15, reply::array(std::move(pair)), ""});
  table.push_back({nested_wire(16), ok, 16 * 4 + 4, nested(16), ""});
  table.push_back({nested_wire(17), bad, 0, {}, "protocol error: nesting too deep"});
  table.push_back({"+OK", more, 0, {}, ""});
  table.push_back({"$5\r\nhel", more, 0, {}, ""});
  table.push_back({"*2\r\n:1\r\n", more, 0, {}, ""});
  table.push_back({"", more, 0, {}, ""});
  table.push_back({"?x\r\n", bad, 0, {}, "protocol error: invalid reply type"});
  table.push_back({":abc\r\n", bad, 0, {}, "protocol error: invalid integer"});
  table.push_back({"$-2\r\n", bad, 0, {}, "protocol error: invalid bulk length"});
  table.push_back({"$1048577\r\n", bad, 0, {}, "protocol error: invalid bulk length"});
  table.push_back({"*-2\r\n", bad, 0, {}, "protocol error: invalid multibulk length"});
  table.push_back({"*1025\r\n", bad, 0, {}, "protocol error: invalid multibulk length"});
  table.push_back({"$1\r\nab\r\n", bad, 0, {}, "protocol error: bulk not terminated by CRLF"});
  table.push_back({"+OK\rX", bad, 0, {}, "protocol error: invalid line terminator"});
  table.push_back({"+" + std::string(64 * 1024 + 1, 'a'), bad, 0, {}, "protocol error: line too long"});
  return table;
}

}  // namespace

TEST_CASE("RESP replies parse on the client side", "[framework][resp]") {
  const codec_limits limits;
  for (const reply_case& c : reply_cases()) {
    INFO("input: " << c.input.substr(0, 48));
    reply out = reply::text("untouched");
    const auto result = coronet::parse_resp_reply(c.input, out, limits);
    CHECK(result.status == c.status);
    CHECK(result.consumed == c.consumed);
    CHECK(result.error == c.error);
    if (c.status == parse_status::complete) {
      CHECK(out == c.expected);
    } else {
      CHECK(out == reply::text("untouched"));
    }
    if (c.status != parse_status::complete)
      continue;
    for (std::size_t cut = 0; cut < c.consumed; ++cut) {
      CHECK(coronet::parse_resp_reply(std::string_view(c.input).substr(0, cut), out, limits).status ==
            parse_status::incomplete);
    }
  }
}

TEST_CASE("every reply kind survives encode_resp_reply then parse_resp_reply", "[framework][resp]") {
  std::vector<reply> all;
  all.push_back(reply::text("OK"));
  all.push_back(reply::err("wrong"));
  all.push_back(reply::integer(-9223372036854775807LL - 1));
  all.push_back(reply::bulk("\0\r\n binary"s));
  all.push_back(reply::bulk(std::string(1000, 'q')));
  all.push_back(reply::null());
  all.push_back(reply::array({}));
  std::vector<reply> copy = all;
  all.push_back(reply::array(std::move(copy)));
  const codec_limits limits;
  for (const reply& r : all) {
    std::string wire;
    coronet::encode_resp_reply(r, wire);
    reply back;
    const auto result = coronet::parse_resp_reply(wire, back, limits);
    REQUIRE(result.status == parse_status::complete);
    CHECK(result.consumed == wire.size());
    CHECK(back == r);
  }
}

static_assert(coronet::request_codec<coronet::resp_codec>);
static_assert(coronet::reply_codec<coronet::resp_codec>);
static_assert(coronet::resp_codec::protocol == coronet::wire_protocol::resp);

TEST_CASE("resp_codec parses what its encode_request wrote, byte by byte, keeping progress", "[framework][resp]") {
  const codec_limits limits;
  coronet::resp_codec codec;
  std::vector<std::string_view> words;
  const std::vector<std::string_view> sent{"SET", "key", "a b\r\n"};
  std::string wire;
  coronet::resp_codec::encode_request(sent, wire);
  CHECK(wire == "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\na b\r\n\r\n");
  std::string arrived;
  for (std::size_t i = 0; i + 1 < wire.size(); ++i) {
    arrived += wire[i];
    CHECK(codec.parse(arrived, words, limits).status == parse_status::incomplete);
  }
  arrived += wire.back();
  const auto r = codec.parse(arrived, words, limits);
  REQUIRE(r.status == parse_status::complete);
  CHECK(r.consumed == wire.size());
  CHECK(to_strings(words) == std::vector<std::string>{"SET", "key", "a b\r\n"});
}

TEST_CASE("resp_codec encodes replies and parses them back on the client side", "[framework][resp]") {
  const codec_limits limits;
  coronet::resp_codec codec;
  std::string wire;
  codec.encode(reply::err("no such key"), wire);
  CHECK(wire == "-ERR no such key\r\n");
  reply out = reply::text("untouched");
  const std::string_view partial(wire.data(), wire.size() - 1);
  CHECK(codec.parse_reply(partial, out, limits).status == parse_status::incomplete);
  CHECK(out == reply::text("untouched"));
  const auto r = codec.parse_reply(wire, out, limits);
  REQUIRE(r.status == parse_status::complete);
  CHECK(r.consumed == wire.size());
  CHECK(out == reply::err("no such key"));
  const std::string bad = "?what\r\n";
  CHECK(codec.parse_reply(bad, out, limits).error == "protocol error: invalid reply type");
}
