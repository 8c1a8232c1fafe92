#include "coronet/framework/reply.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

using namespace std::string_literals;
using coronet::reply;
using coronet::reply_kind;

TEST_CASE("each factory makes its kind with the given value", "[framework][reply]") {
  CHECK(reply::text("OK").kind() == reply_kind::text);
  CHECK(reply::text("OK").str() == "OK");
  CHECK(reply::error("ERR timeout").kind() == reply_kind::error);
  CHECK(reply::error("ERR timeout").str() == "ERR timeout");
  CHECK(reply::err("timeout") == reply::error("ERR timeout"));
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
  CHECK(reply::integer(7).str().empty());
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
  CHECK_FALSE(reply::text("a") == reply::error("a"));
  CHECK_FALSE(reply::integer(1) == reply::integer(2));
  CHECK(reply::null() == reply{});
  CHECK(reply::array({}) == reply::array({}));
  CHECK_FALSE(reply::array({}) == reply::null());
}
