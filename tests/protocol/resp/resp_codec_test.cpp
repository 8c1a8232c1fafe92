#include "coronet/protocol/resp/resp_codec.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <limits>
#include <memory>
#include <span>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/protocol/codec.hpp"
#include "support/parse_checks.hpp"

namespace protocol_resp_resp_codec_test {

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

using coronet_test::to_strings;

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
      {"*-2\r\n", ok, 5, {}, ""},
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

// How the incremental parser (whose one-pass path takes a whole line of plain words) and
// the general parser (parse_resp_request) disagree on `input`, in words; empty if they agree.
std::string one_pass_differs(const std::string& input, const codec_limits& limits) {
  std::string general_buffer = input;
  std::vector<std::string_view> general_words;
  const auto general = coronet::parse_resp_request(general_buffer, general_words, limits);
  coronet::resp_request_parser parser;
  std::string buffer = input;
  std::vector<std::string_view> words;
  const auto r = parser.parse(buffer, words, limits);
  if (r.status != general.status)
    return "status";
  if (r.consumed != general.consumed)
    return "consumed " + std::to_string(r.consumed) + " against " + std::to_string(general.consumed);
  if (r.error != general.error)
    return "error '" + std::string(r.error) + "' against '" + std::string(general.error) + "'";
  if (r.status == parse_status::complete && to_strings(words) != to_strings(general_words))
    return "words";
  return {};
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
    coronet_test::check_parsed(result, words, c);
    coronet_test::check_words_inside(words, buffer);
    // The incremental parser, given the whole buffer at once, agrees.
    parser.reset();
    std::string again = c.input;
    const auto incremental = parser.parse(again, words, limits);
    coronet_test::check_parsed(incremental, words, c);
  }
}

TEST_CASE("whole inline lines parse alike in the incremental parser's one-pass path and the general parser",
          "[framework][resp]") {
  // The incremental parser takes a line of plain words, whole in its buffer, in one pass,
  // and leaves anything else to the general parser (which parse_resp_request is).
  const std::vector<std::string> inputs = {
      "PING\r\n", "PING\n", "PING", "PING\r", "\r\n", "\n", "   \t \r\n", "a b  c\r\n", " a\r\n",
      "a\rb\r\n", "a\r\rb\r\n", "a\vb\r\n", "\va\r\n", "a\fb\n", "\fa\n", "a \"b c\" d\r\n",
      "a\"b\"\r\n", "'x'\n", std::string("a\0b c\r\n", 7), "PING\r\nPING\r\n", "x y z w v\r\n", "1234567890\r\n",
      "123456789012\r\n", "abc\r\r\n", "a b\r", "$3\r\n",
      // Words read eight bytes at a time: long ones, ones with plain bytes below '(' (the
      // scan's bound) or above 0x7f, and ones a delimiter ends past the first eight bytes.
      "abcdefghijklmnopq\r\n", "a!#$%&b c\x01\x1f\x7f\r\n", "\x80\xff\xc3\xa9t\xe9 x\r\n",
      "abcdefghij\"x\"\r\n", "abcdefghi\vj\r\n", "abcdefgh\tijklmnop\r\n", "abcdefg'h'\r\n",
      "abcdefghijklmnop\n", "abcdefghijklmnop", "SET key:000000000001 valuevaluevalue\r\nPING\r\n"};
  for (const std::size_t max_request : {std::size_t{8}, std::size_t{10}, std::size_t{11}, std::size_t{1024}}) {
    for (const std::size_t max_args : {std::size_t{2}, std::size_t{3}, std::size_t{1024}}) {
      codec_limits limits;
      limits.max_request_bytes = max_request;
      limits.max_args = max_args;
      for (const std::string& input : inputs) {
        INFO("input: " << input << " max_request_bytes " << max_request << " max_args " << max_args);
        CHECK(one_pass_differs(input, limits).empty());
      }
    }
  }
}

TEST_CASE("random inline lines parse alike in the one-pass path and the general parser", "[framework][resp]") {
  // Bytes of every class the one-pass path tells apart: plain above and below '(' (where
  // its eight-byte scan stops to look; NUL among them), blanks, quotes, \v and \f, the
  // line's end.
  static constexpr char bytes[] = "aZ09!#$%&()*~\x01\x1f\x7f\x80\xff \t\r\n\"'\v\f\0";
  const std::string alphabet(bytes, sizeof bytes - 1);
  std::mt19937 rng(20261208);
  std::uniform_int_distribution<std::size_t> length(0, 40);
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::bernoulli_distribution plain_run(0.7);
  codec_limits limits;
  limits.max_request_bytes = 32;
  limits.max_args = 4;
  for (int n = 0; n < 20000; ++n) {
    std::string input;
    const std::size_t len = length(rng);
    for (std::size_t k = 0; k < len; ++k)
      input += plain_run(rng) ? static_cast<char>('a' + k % 26) : alphabet[pick(rng)];
    INFO("input: " << input);
    REQUIRE(one_pass_differs(input, limits).empty());
  }
}

TEST_CASE("the one-pass path reads a one-digit multibulk header as one word", "[framework][resp]") {
  using coronet::detail::resp_fast::read_short_header;
  std::size_t count = 0;
  std::size_t length = 0;
  for (char n = '1'; n <= '9'; ++n) {
    for (char l = '0'; l <= '9'; ++l) {
      const std::string header = std::string("*") + n + "\r\n$" + l + "\r\n";
      INFO("header " << header);
      REQUIRE(read_short_header(header, count, length));
      CHECK(count == static_cast<std::size_t>(n - '0'));
      CHECK(length == static_cast<std::size_t>(l - '0'));
    }
  }
  // Any other byte at any of the eight places, and anything shorter, is left to the
  // line-by-line path.
  const std::string good = "*2\r\n$4\r\n";
  const std::string others = std::string("*$\r\n0:-+a ") + '\0' + '\x80' + '\xff';
  for (std::size_t at = 0; at < 8; ++at) {
    for (const char c : others) {
      std::string changed = good;
      changed[at] = c;
      const bool digit_kept = (at == 1 && c >= '1' && c <= '9') || (at == 5 && c >= '0' && c <= '9');
      if (changed == good || digit_kept)
        continue;
      INFO("byte " << at << " set to " << static_cast<int>(static_cast<unsigned char>(c)));
      CHECK_FALSE(read_short_header(changed, count, length));
    }
  }
  CHECK_FALSE(read_short_header(std::string_view(good).substr(0, 7), count, length));
}

TEST_CASE("multibulk requests parse alike in the one-pass path and the general parser", "[framework][resp]") {
  // Every byte of the one-pass path's 8-byte header varied, complete requests of 1 to 9
  // words of 0 to 10 bytes, every prefix of each (incomplete requests), limits at the
  // edges: the general parser (parse_resp_request) must agree on each. Each input sits in
  // a heap block of its exact size, so that a read past its end is an ASan error.
  const std::string base = "*2\r\n$4\r\nPING\r\n$1\r\nx\r\n";
  std::vector<std::string> inputs = {base, "*1\r\n$0\r\n\r\n", "*10\r\n$1\r\na\r\n", "*0\r\n",
                                     "*1\r\n$4\r\nPINGxx", "*1\r\n$4\r\nPING\rx"};
  for (std::size_t n = 1; n <= 9; ++n) {
    std::vector<std::string> words;
    for (std::size_t k = 0; k < n; ++k)
      words.push_back(std::string((n + k) % 11, static_cast<char>('a' + k)));
    inputs.push_back(multibulk(words));
  }
  const std::string variants = std::string("*$\r\n0123456789:-+a ") + '\0' + '\x80' + '\xff';
  for (std::size_t at = 0; at < 8; ++at) {
    for (const char c : variants) {
      std::string changed = base;
      changed[at] = c;
      inputs.push_back(changed);
    }
  }
  std::size_t compared = 0;
  std::size_t complete = 0;
  for (const std::size_t max_request : {std::size_t{9}, std::size_t{10}, std::size_t{1024}}) {
    for (const std::size_t max_args : {std::size_t{1}, std::size_t{2}, std::size_t{9}, std::size_t{1024}}) {
      for (const std::size_t max_bulk : {std::size_t{0}, std::size_t{3}, std::size_t{4}, std::size_t{512}}) {
        codec_limits limits;
        limits.max_request_bytes = max_request;
        limits.max_args = max_args;
        limits.max_bulk_bytes = max_bulk;
        for (const std::string& input : inputs) {
          for (std::size_t size = 1; size <= input.size(); ++size) {
            INFO("input: " << input.substr(0, size) << " max_request_bytes " << max_request << " max_args "
                           << max_args << " max_bulk_bytes " << max_bulk);
            const auto general_block = std::make_unique<char[]>(size);
            std::copy_n(input.data(), size, general_block.get());
            std::vector<std::string_view> general_words;
            const auto general =
                coronet::parse_resp_request(std::span<char>(general_block.get(), size), general_words, limits);
            const auto block = std::make_unique<char[]>(size);
            std::copy_n(input.data(), size, block.get());
            coronet::resp_request_parser parser;
            std::vector<std::string_view> words{"left", "over"};
            const auto r = parser.parse(std::span<char>(block.get(), size), words, limits);
            CHECK(r.status == general.status);
            CHECK(r.error == general.error);
            if (r.status == parse_status::complete) {
              CHECK(r.consumed == general.consumed);
              CHECK(to_strings(words) == to_strings(general_words));
              ++complete;
            } else {
              CHECK(words.empty());
            }
            ++compared;
          }
        }
      }
    }
  }
  CHECK(compared > 50000);
  CHECK(complete > 500);
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
  const auto seen = coronet_test::parse_pipelined(
      rest, words, [&](std::span<char> in, std::vector<std::string_view>& w) { return parser.parse(in, w, limits); });
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
  CHECK(encode(reply::error_line("ERR unknown command 'x'")) == "-ERR unknown command 'x'\r\n");
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
  table.push_back({"-ERR x\r\n", ok, 8, reply::error_line("ERR x"), ""});
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
  // RESP3.
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<reply> kv;
  kv.push_back(reply::bulk("proto"));
  kv.push_back(reply::integer(3));
  table.push_back({"%1\r\n$5\r\nproto\r\n:3\r\n", ok, 19, reply::map(kv), ""});
  table.push_back({"%0\r\n", ok, 4, reply::map({}), ""});
  std::vector<reply> members;
  members.push_back(reply::text("a"));
  members.push_back(reply::boolean(false));
  table.push_back({"~2\r\n+a\r\n#f\r\n", ok, 12, reply::set(members), ""});
  table.push_back({">2\r\n+a\r\n#f\r\n", ok, 12, reply::array(members), ""});
  table.push_back({"_\r\n", ok, 3, reply::null(), ""});
  table.push_back({"#t\r\n", ok, 4, reply::boolean(true), ""});
  table.push_back({"#f\r\n", ok, 4, reply::boolean(false), ""});
  table.push_back({",3.14\r\n", ok, 7, reply::real(3.14), ""});
  table.push_back({",-1e-7\r\n", ok, 8, reply::real(-1e-7), ""});
  table.push_back({",+2.5E3\r\n", ok, 9, reply::real(2500), ""});
  table.push_back({",10\r\n", ok, 5, reply::real(10), ""});
  table.push_back({",inf\r\n", ok, 6, reply::real(inf), ""});
  table.push_back({",-inf\r\n", ok, 7, reply::real(-inf), ""});
  table.push_back({",nan\r\n", ok, 6, reply::real(std::numeric_limits<double>::quiet_NaN()), ""});
  table.push_back({"(3492890328409238509324850943850943825024385\r\n", ok, 46,
                   reply::bulk("3492890328409238509324850943850943825024385"), ""});
  table.push_back({"(-12\r\n", ok, 6, reply::bulk("-12"), ""});
  table.push_back({"=15\r\ntxt:Some string\r\n", ok, 22, reply::verbatim("Some string"), ""});
  table.push_back({"=4\r\nmkd:\r\n", ok, 10, reply::verbatim(""), ""});
  table.push_back({"!21\r\nSYNTAX invalid syntax\r\n", ok, 28, reply::error_line("SYNTAX invalid syntax"), ""});
  // Attributes are skipped: the reply is the value after them.
  table.push_back({"|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n:7\r\n", ok, 43, reply::integer(7), ""});
  std::vector<reply> with_attribute;
  with_attribute.push_back(reply::integer(1));
  with_attribute.push_back(reply::integer(2));
  table.push_back({"*2\r\n:1\r\n|1\r\n+a\r\n+b\r\n:2\r\n", ok, 24, reply::array(with_attribute), ""});
  table.push_back({"|1\r\n+a\r\n+b\r\n", more, 0, {}, ""});
  table.push_back({"_x\r\n", bad, 0, {}, "protocol error: invalid null"});
  table.push_back({"#true\r\n", bad, 0, {}, "protocol error: invalid boolean"});
  table.push_back({"#\r\n", bad, 0, {}, "protocol error: invalid boolean"});
  table.push_back({",\r\n", bad, 0, {}, "protocol error: invalid double"});
  table.push_back({",1.5x\r\n", bad, 0, {}, "protocol error: invalid double"});
  table.push_back({",++1\r\n", bad, 0, {}, "protocol error: invalid double"});
  table.push_back({",1e999\r\n", bad, 0, {}, "protocol error: invalid double"});
  table.push_back({"(\r\n", bad, 0, {}, "protocol error: invalid big number"});
  table.push_back({"(12a\r\n", bad, 0, {}, "protocol error: invalid big number"});
  table.push_back({"=3\r\ntxt\r\n", bad, 0, {}, "protocol error: invalid verbatim string"});
  table.push_back({"=5\r\ntxt-x\r\n", bad, 0, {}, "protocol error: invalid verbatim string"});
  table.push_back({"=-1\r\n", bad, 0, {}, "protocol error: invalid bulk length"});
  table.push_back({"!-1\r\n", bad, 0, {}, "protocol error: invalid bulk length"});
  table.push_back({"%-1\r\n", bad, 0, {}, "protocol error: invalid multibulk length"});
  table.push_back({"~-1\r\n", bad, 0, {}, "protocol error: invalid multibulk length"});
  table.push_back({"%513\r\n", bad, 0, {}, "protocol error: invalid multibulk length"});
  table.push_back({"|513\r\n", bad, 0, {}, "protocol error: invalid multibulk length"});
  table.push_back({"%1\r\n+a\r\n", more, 0, {}, ""});
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

namespace {

std::string encode(const reply& r, int protover) {
  std::string out;
  coronet::encode_resp_reply(r, out, protover);
  return out;
}

reply sample_map() {
  std::vector<reply> kv;
  kv.push_back(reply::bulk("server"));
  kv.push_back(reply::bulk("coronet"));
  kv.push_back(reply::bulk("proto"));
  kv.push_back(reply::integer(3));
  return reply::map(std::move(kv));
}

reply sample_set() {
  std::vector<reply> members;
  members.push_back(reply::bulk("a"));
  members.push_back(reply::boolean(true));
  return reply::set(std::move(members));
}

}  // namespace

TEST_CASE("the RESP3 kinds in RESP2: flat arrays, 1/0, bulk doubles and texts", "[framework][resp]") {
  CHECK(encode(sample_map(), 2) == "*4\r\n$6\r\nserver\r\n$7\r\ncoronet\r\n$5\r\nproto\r\n:3\r\n");
  CHECK(encode(reply::map({}), 2) == "*0\r\n");
  CHECK(encode(sample_set(), 2) == "*2\r\n$1\r\na\r\n:1\r\n");
  CHECK(encode(reply::boolean(true), 2) == ":1\r\n");
  CHECK(encode(reply::boolean(false), 2) == ":0\r\n");
  CHECK(encode(reply::real(3.14), 2) == "$4\r\n3.14\r\n");
  CHECK(encode(reply::real(-std::numeric_limits<double>::infinity()), 2) == "$4\r\n-inf\r\n");
  CHECK(encode(reply::verbatim("a\r\nb"), 2) == "$4\r\na\r\nb\r\n");
  CHECK(encode(reply::null(), 2) == "$-1\r\n");
  // Anything below 3 is RESP2.
  CHECK(encode(reply::null(), 0) == "$-1\r\n");
  CHECK(encode(reply::boolean(true), 1) == ":1\r\n");
}

TEST_CASE("the RESP3 encoding of every kind", "[framework][resp]") {
  CHECK(encode(reply::text("OK"), 3) == "+OK\r\n");
  CHECK(encode(reply::err("bad\r\nx"), 3) == "-ERR bad  x\r\n");
  CHECK(encode(reply::integer(-2), 3) == ":-2\r\n");
  CHECK(encode(reply::bulk("ab"), 3) == "$2\r\nab\r\n");
  CHECK(encode(reply::array({}), 3) == "*0\r\n");
  CHECK(encode(reply::null(), 3) == "_\r\n");
  CHECK(encode(sample_map(), 3) == "%2\r\n$6\r\nserver\r\n$7\r\ncoronet\r\n$5\r\nproto\r\n:3\r\n");
  CHECK(encode(reply::map({}), 3) == "%0\r\n");
  CHECK(encode(sample_set(), 3) == "~2\r\n$1\r\na\r\n#t\r\n");
  CHECK(encode(reply::boolean(true), 3) == "#t\r\n");
  CHECK(encode(reply::boolean(false), 3) == "#f\r\n");
  CHECK(encode(reply::real(3.14), 3) == ",3.14\r\n");
  CHECK(encode(reply::real(std::numeric_limits<double>::infinity()), 3) == ",inf\r\n");
  CHECK(encode(reply::real(-std::numeric_limits<double>::infinity()), 3) == ",-inf\r\n");
  CHECK(encode(reply::real(std::numeric_limits<double>::quiet_NaN()), 3) == ",nan\r\n");
  CHECK(encode(reply::verbatim("Some string"), 3) == "=15\r\ntxt:Some string\r\n");
  CHECK(encode(reply::verbatim(""), 3) == "=4\r\ntxt:\r\n");
  CHECK(encode(reply::verbatim("a\r\nb"), 3) == "=8\r\ntxt:a\r\nb\r\n");
  // Nested elements use the same version.
  std::vector<reply> nested;
  nested.push_back(sample_set());
  nested.push_back(reply::null());
  CHECK(encode(reply::array(std::move(nested)), 3) == "*2\r\n~2\r\n$1\r\na\r\n#t\r\n_\r\n");
  coronet::resp_codec codec;
  CHECK(codec.protover() == 2);
  std::string wire;
  codec.encode(reply::null(), wire);
  codec.set_protover(3);
  CHECK(codec.protover() == 3);
  codec.encode(reply::null(), wire);
  codec.set_protover(2);
  codec.encode(reply::boolean(true), wire);
  CHECK(wire == "$-1\r\n_\r\n:1\r\n");
}

TEST_CASE("doubles are written as Redis 7.2+ writes them", "[framework][resp]") {
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<std::pair<double, std::string>> table{
      {0.0, "0"},
      {-0.0, "-0"},
      {1.0, "1"},
      {-42.0, "-42"},
      {3.14, "3.14"},
      {-2.5, "-2.5"},
      {0.1, "0.1"},
      {0.001, "0.001"},
      {1e-6, "0.000001"},
      {1.5e-6, "1.5e-6"},  // the exponent of the last digit is below -6
      {1e-7, "1e-7"},
      {1.25e-7, "1.25e-7"},
      {123456.789, "123456.789"},
      {1.0 / 3.0, "0.3333333333333333"},
      {4611686018427387904.0, "4611686018427387904"},  // 2^62: still an integer
      {1e19, "1e+19"},
      {1.5e19, "1.5e+19"},
      {1.2345678901234567e21, "1234567890123456800000"},  // up to 7 zeros stay plain
      {-1.0745283602159953e23, "-107452836021599530000000"},
      {0.0001234, "1.234e-4"},
      {0.1234, "0.1234"},
      {1.5e300, "1.5e+300"},
      {1e100, "1e+100"},
      {-1.7976931348623157e308, "-1.7976931348623157e+308"},
      {5e-324, "5e-324"},
      {1234567.5, "1234567.5"},
      {inf, "inf"},
      {-inf, "-inf"},
      {std::numeric_limits<double>::quiet_NaN(), "nan"},
      {-std::numeric_limits<double>::quiet_NaN(), "nan"},
  };
  for (const auto& [value, text] : table) {
    INFO("expected " << text);
    CHECK(encode(reply::real(value), 3) == "," + text + "\r\n");
    CHECK(encode(reply::real(value), 2) == "$" + std::to_string(text.size()) + "\r\n" + text + "\r\n");
    reply back;
    const std::string wire = encode(reply::real(value), 3);
    REQUIRE(coronet::parse_resp_reply(wire, back, codec_limits{}).status == parse_status::complete);
    CHECK(back == reply::real(value));
  }
}

TEST_CASE("every kind round-trips through RESP3, and through RESP2 as Redis maps it", "[framework][resp]") {
  std::vector<reply> all;
  all.push_back(reply::text("OK"));
  all.push_back(reply::error_line("WRONGPASS invalid username-password pair"));
  all.push_back(reply::integer(-9223372036854775807LL - 1));
  all.push_back(reply::bulk("\0\r\n binary"s));
  all.push_back(reply::bulk(std::string(1000, 'q')));
  all.push_back(reply::null());
  all.push_back(reply::array({}));
  all.push_back(sample_map());
  all.push_back(reply::map({}));
  all.push_back(sample_set());
  all.push_back(reply::boolean(true));
  all.push_back(reply::boolean(false));
  all.push_back(reply::real(-0.0));
  all.push_back(reply::real(2.5e-300));
  all.push_back(reply::real(std::numeric_limits<double>::infinity()));
  all.push_back(reply::verbatim("line 1\r\nline 2"));
  all.push_back(reply::verbatim(std::string(200, 'v')));
  std::vector<reply> copy = all;
  all.push_back(reply::array(std::move(copy)));
  const codec_limits limits;
  for (const reply& r : all) {
    const std::string wire = encode(r, 3);
    INFO("RESP3: " << wire.substr(0, 60));
    reply back;
    const auto result = coronet::parse_resp_reply(wire, back, limits);
    REQUIRE(result.status == parse_status::complete);
    CHECK(result.consumed == wire.size());
    CHECK(back == r);
  }
  // RESP2 loses the kind but keeps the value.
  const auto resp2 = [&](const reply& r) {
    const std::string wire = encode(r, 2);
    reply back;
    const auto result = coronet::parse_resp_reply(wire, back, limits);
    REQUIRE(result.status == parse_status::complete);
    CHECK(result.consumed == wire.size());
    return back;
  };
  std::vector<reply> flat;
  flat.push_back(reply::bulk("server"));
  flat.push_back(reply::bulk("coronet"));
  flat.push_back(reply::bulk("proto"));
  flat.push_back(reply::integer(3));
  CHECK(resp2(sample_map()) == reply::array(std::move(flat)));
  std::vector<reply> members;
  members.push_back(reply::bulk("a"));
  members.push_back(reply::integer(1));
  CHECK(resp2(sample_set()) == reply::array(std::move(members)));
  CHECK(resp2(reply::boolean(false)) == reply::integer(0));
  CHECK(resp2(reply::real(0.5)) == reply::bulk("0.5"));
  CHECK(resp2(reply::verbatim("v")) == reply::bulk("v"));
  CHECK(resp2(reply::null()) == reply::null());
}

}  // namespace protocol_resp_resp_codec_test
