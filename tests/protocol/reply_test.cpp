#include "coronet/protocol/reply.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "support/nested_reply.hpp"

namespace protocol_reply_test {

using namespace std::string_literals;
using coronet::reply;
using coronet::reply_kind;

TEST_CASE("each factory makes its kind with the given value", "[framework][reply]") {
  CHECK(reply::text("OK").kind() == reply_kind::text);
  CHECK(reply::text("OK").str() == "OK");
  CHECK(reply::error_line("ERR timeout").kind() == reply_kind::error);
  CHECK(reply::error_line("ERR timeout").str() == "ERR timeout");
  CHECK(reply::err("timeout") == reply::error_line("ERR timeout"));
  CHECK(reply::integer(-5).kind() == reply_kind::integer);
  CHECK(reply::integer(-5).integer() == -5);
  CHECK(reply::bulk("a\0b"s).kind() == reply_kind::bulk);
  CHECK(reply::bulk("a\0b"s).str() == "a\0b"s);
  CHECK(reply::null().kind() == reply_kind::null);
  CHECK(reply{}.kind() == reply_kind::null);
  std::vector<reply> elements;
  elements.push_back(reply::integer(1));
  elements.push_back(reply::text("two"));
  const reply array = reply::array(std::move(elements));
  CHECK(array.kind() == reply_kind::array);
  REQUIRE(array.elements().size() == 2);
  CHECK(array.elements()[1].str() == "two");
}

TEST_CASE("accessors of another kind return neutral values", "[framework][reply]") {
  CHECK(reply::text("7").integer() == 0);
  CHECK(reply::text("7").elements().empty());
  CHECK(reply::null().str().empty());
  CHECK_FALSE(reply::integer(7).stored_inline());
}

TEST_CASE("strings up to 64 bytes are stored inline, longer ones on the heap", "[framework][reply]") {
  const std::string at_limit(reply::inline_capacity, 'x');
  const std::string over_limit(reply::inline_capacity + 1, 'y');
  CHECK(reply::text(at_limit).stored_inline());
  CHECK(reply::text(at_limit).str() == at_limit);
  CHECK_FALSE(reply::bulk(over_limit).stored_inline());
  CHECK(reply::bulk(over_limit).str() == over_limit);
  CHECK(reply::err(std::string(60, 'e')).stored_inline());
  CHECK_FALSE(reply::err(std::string(61, 'e')).stored_inline());
  CHECK(reply::err(std::string(61, 'e')).str() == "ERR " + std::string(61, 'e'));
  CHECK(reply::text("").stored_inline());
}

TEST_CASE("moving a reply transfers the value and leaves null", "[framework][reply]") {
  static_assert(std::is_nothrow_move_constructible_v<reply>);
  static_assert(std::is_nothrow_move_assignable_v<reply>);
  for (const std::string& value : {std::string("short"), std::string(200, 'h')}) {
    reply source = reply::bulk(value);
    const char* heap = source.str().data();
    reply target(std::move(source));
    CHECK(target.str() == value);
    CHECK(source.kind() == reply_kind::null);  // NOLINT(bugprone-use-after-move)
    if (value.size() > reply::inline_capacity)
      CHECK(target.str().data() == heap);
    reply assigned = reply::integer(3);
    assigned = std::move(target);
    CHECK(assigned.str() == value);
    CHECK(target.kind() == reply_kind::null);  // NOLINT(bugprone-use-after-move)
  }
}

TEST_CASE("copying a reply is deep", "[framework][reply]") {
  std::vector<reply> elements;
  elements.push_back(reply::bulk(std::string(100, 'a')));
  elements.push_back(reply::text("b"));
  const reply original = reply::array(std::move(elements));
  reply copy = original;
  CHECK(copy == original);
  CHECK(copy.elements()[0].str().data() != original.elements()[0].str().data());
  copy = reply::text("other");
  CHECK_FALSE(copy == original);
  copy = original;
  CHECK(copy == original);
  reply& self = copy;
  copy = self;
  CHECK(copy == original);
}

TEST_CASE("a reply can be assigned from one of its own elements", "[framework][reply]") {
  std::vector<reply> elements;
  elements.push_back(reply::bulk(std::string(100, 'z')));
  reply r = reply::array(std::move(elements));
  r = r.elements()[0];
  CHECK(r == reply::bulk(std::string(100, 'z')));
}

TEST_CASE("equality compares kind and value", "[framework][reply]") {
  CHECK(reply::text("a") == reply::text("a"));
  CHECK_FALSE(reply::text("a") == reply::bulk("a"));
  CHECK_FALSE(reply::text("a") == reply::error_line("a"));
  CHECK_FALSE(reply::integer(1) == reply::integer(2));
  CHECK(reply::null() == reply{});
  CHECK(reply::array({}) == reply::array({}));
  CHECK_FALSE(reply::array({}) == reply::null());
}

namespace {

// One reply of every kind, the strings both inline and on the heap.
std::vector<reply> one_of_each() {
  std::vector<reply> all;
  all.push_back(reply::text("OK"));
  all.push_back(reply::error_line("WRONGPASS invalid password"));
  all.push_back(reply::integer(-3));
  all.push_back(reply::bulk(std::string(100, 'b')));
  all.push_back(reply::null());
  all.push_back(reply::boolean(true));
  all.push_back(reply::boolean(false));
  all.push_back(reply::real(3.25));
  all.push_back(reply::real(std::numeric_limits<double>::quiet_NaN()));
  all.push_back(reply::verbatim("short"));
  all.push_back(reply::verbatim(std::string(100, 'v')));
  std::vector<reply> pairs;
  pairs.push_back(reply::bulk("server"));
  pairs.push_back(reply::bulk("coronet"));
  pairs.push_back(reply::bulk("proto"));
  pairs.push_back(reply::integer(3));
  all.push_back(reply::map(std::move(pairs)));
  std::vector<reply> members;
  members.push_back(reply::bulk(std::string(80, 's')));
  members.push_back(reply::text("t"));
  all.push_back(reply::set(std::move(members)));
  std::vector<reply> copy = all;
  all.push_back(reply::array(std::move(copy)));
  return all;
}

}  // namespace

TEST_CASE("the RESP3 kinds: map, set, boolean, real, verbatim", "[framework][reply]") {
  CHECK(reply::error_line("ERR x").kind() == reply_kind::error);
  CHECK(reply::error_line("ERR x").str() == "ERR x");
  CHECK(reply::err("x") == reply::error_line("ERR x"));
  CHECK(reply::boolean(true).kind() == reply_kind::boolean);
  CHECK(reply::boolean(true).boolean());
  CHECK_FALSE(reply::boolean(false).boolean());
  CHECK(reply::real(-0.5).kind() == reply_kind::real);
  CHECK(reply::real(-0.5).real() == -0.5);
  CHECK(reply::verbatim("a\r\nb").kind() == reply_kind::verbatim);
  CHECK(reply::verbatim("a\r\nb").str() == "a\r\nb");
  CHECK(reply::verbatim("abc").stored_inline());
  CHECK_FALSE(reply::verbatim(std::string(65, 'v')).stored_inline());
  std::vector<reply> kv;
  kv.push_back(reply::bulk("k"));
  kv.push_back(reply::integer(1));
  const reply map = reply::map(std::move(kv));
  CHECK(map.kind() == reply_kind::map);
  REQUIRE(map.elements().size() == 2);
  CHECK(map.elements()[0] == reply::bulk("k"));
  CHECK(map.elements()[1] == reply::integer(1));
  CHECK(reply::map({}).elements().empty());
  std::vector<reply> odd;
  odd.push_back(reply::bulk("k"));
  CHECK_THROWS_AS(reply::map(std::move(odd)), std::invalid_argument);
  std::vector<reply> members;
  members.push_back(reply::integer(1));
  const reply set = reply::set(std::move(members));
  CHECK(set.kind() == reply_kind::set);
  CHECK(set.elements().size() == 1);
  // Accessors of another kind stay neutral.
  CHECK_FALSE(reply::integer(1).boolean());
  CHECK(reply::integer(1).real() == 0.0);
  CHECK(reply::boolean(true).integer() == 0);
  CHECK(reply::real(1.5).elements().empty());
  CHECK_FALSE(reply::real(1.5).stored_inline());
}

TEST_CASE("every kind copies, moves and compares by value", "[framework][reply]") {
  const std::vector<reply> all = one_of_each();
  for (std::size_t i = 0; i < all.size(); ++i) {
    INFO("reply " << i);
    const reply& original = all[i];
    reply copy = original;
    CHECK(copy == original);
    reply assigned = reply::bulk(std::string(90, 'x'));
    assigned = original;
    CHECK(assigned == original);
    reply moved = std::move(copy);
    CHECK(moved == original);
    CHECK(copy.kind() == reply_kind::null);  // NOLINT(bugprone-use-after-move)
    reply target = reply::verbatim(std::string(90, 'y'));
    target = std::move(moved);
    CHECK(target == original);
    for (std::size_t j = 0; j < all.size(); ++j) {
      if (j != i)
        CHECK_FALSE(all[j] == original);
    }
  }
}

TEST_CASE("equality of the RESP3 kinds", "[framework][reply]") {
  CHECK_FALSE(reply::boolean(true) == reply::integer(1));
  CHECK_FALSE(reply::boolean(true) == reply::boolean(false));
  CHECK(reply::real(1.0) == reply::real(1.0));
  CHECK_FALSE(reply::real(1.0) == reply::real(2.0));
  CHECK(reply::real(0.0) == reply::real(-0.0));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(reply::real(nan) == reply::real(nan));
  CHECK_FALSE(reply::real(nan) == reply::real(1.0));
  CHECK_FALSE(reply::verbatim("a") == reply::bulk("a"));
  CHECK_FALSE(reply::verbatim("a") == reply::text("a"));
  CHECK_FALSE(reply::map({}) == reply::array({}));
  CHECK_FALSE(reply::set({}) == reply::array({}));
  CHECK_FALSE(reply::set({}) == reply::map({}));
}

TEST_CASE("the deprecated reply::error still builds the same reply as error_line", "[reply]") {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  const coronet::reply old = coronet::reply::error("ERR x");
#pragma GCC diagnostic pop
  CHECK(old == coronet::reply::error_line("ERR x"));
  CHECK(old == coronet::reply::err("x"));
}

TEST_CASE("str() gives the string of string kinds, empty for null, and throws for every other kind",
          "[protocol][reply]") {
  CHECK(reply::text("OK").str() == "OK");
  CHECK(reply::error_line("ERR boom").str() == "ERR boom");
  CHECK(reply::bulk("").str().empty());
  CHECK(reply::verbatim("shown").str() == "shown");
  CHECK(reply::null().str().empty());

  const auto message_of = [](const reply& r) {
    try {
      (void)r.str();
    } catch (const std::logic_error& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  CHECK(message_of(reply::integer(42)) ==
        "coronet::reply::str: an integer reply has no string; use to_string() or integer()");
  CHECK(message_of(reply::real(3.14)) == "coronet::reply::str: a real reply has no string; use to_string() or real()");
  CHECK(message_of(reply::boolean(false)) ==
        "coronet::reply::str: a boolean reply has no string; use to_string() or boolean()");
  CHECK(message_of(reply::array({})) ==
        "coronet::reply::str: an array reply has no string; use to_string() or elements()");
  CHECK(message_of(reply::map({})) == "coronet::reply::str: a map reply has no string; use to_string() or elements()");
  CHECK(message_of(reply::set({})) == "coronet::reply::str: a set reply has no string; use to_string() or elements()");
}

TEST_CASE("to_string() gives every kind as text, as the line protocol shows it unescaped", "[protocol][reply]") {
  CHECK(reply::text("OK").to_string() == "OK");
  CHECK(reply::error_line("ERR boom").to_string() == "ERR boom");
  CHECK(reply::bulk("a\r\nb\0c"s).to_string() == "a\r\nb\0c"s);
  CHECK(reply::bulk(std::string(200, 'x')).to_string() == std::string(200, 'x'));
  CHECK(reply::verbatim("shown").to_string() == "shown");
  CHECK(reply::integer(42).to_string() == "42");
  CHECK(reply::integer(std::numeric_limits<std::int64_t>::min()).to_string() == "-9223372036854775808");
  CHECK(reply::real(3.14).to_string() == "3.14");
  CHECK(reply::real(1.5).to_string() == "1.5");
  CHECK(reply::real(-0.0).to_string() == "-0");
  CHECK(reply::real(std::numeric_limits<double>::infinity()).to_string() == "inf");
  CHECK(reply::boolean(true).to_string() == "true");
  CHECK(reply::boolean(false).to_string() == "false");
  CHECK(reply::null().to_string() == "(nil)");
  CHECK(reply::array({}).to_string().empty());

  CHECK(coronet_test::nested_reply(reply::boolean(true)).to_string() == "x 1 y (nil) true");

  std::vector<reply> members;
  members.push_back(reply::real(2.5));
  members.push_back(reply::bulk("b"));
  CHECK(reply::set(std::move(members)).to_string() == "2.5 b");

  std::vector<reply> pairs;
  pairs.push_back(reply::bulk("price"));
  pairs.push_back(reply::real(9.5));
  pairs.push_back(reply::bulk("stock"));
  pairs.push_back(reply::integer(3));
  CHECK(reply::map(std::move(pairs)).to_string() == "price=9.5 stock=3");
}

}  // namespace protocol_reply_test
