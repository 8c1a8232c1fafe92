// coronet::router::find for names of every length: one word compare for names of up to 8
// bytes, exact in every byte that is not a letter.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "coronet/command/router.hpp"

namespace command_router_lookup_test {

namespace {

coronet::reply ok(coronet::request&) { return coronet::reply::text("OK"); }

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z')
      c = static_cast<char>(c - 'a' + 'A');
  return out;
}

}  // namespace

TEST_CASE("find matches every registered name of 1 to 12 bytes in any case, and nothing else", "[router]") {
  coronet::router r;
  const std::string names[] = {"a", "bc", "d3f", "ping", "get-x", "zz:top", "x_y.zw1", "abcdefgh", "abcdefghi",
                               "timestamp0ab"};
  for (const std::string& n : names)
    r.add(n, "", &ok);
  for (const std::string& n : names) {
    INFO(n);
    const coronet::command* c = r.find(n);
    REQUIRE(c != nullptr);
    CHECK(c->name == n);
    CHECK(r.find(upper(n)) == c);
    // Mixed case: every other letter upper.
    std::string mixed = n;
    for (std::size_t i = 0; i < mixed.size(); i += 2)
      if (mixed[i] >= 'a' && mixed[i] <= 'z')
        mixed[i] = static_cast<char>(mixed[i] - 'a' + 'A');
    CHECK(r.find(mixed) == c);
    // One byte longer or shorter, or one byte changed: not the same name.
    CHECK(r.find(n + "a") == nullptr);
    CHECK(r.find(n + std::string(1, '\0')) == nullptr);
    if (n.size() > 1)  // "abcdefgh" is registered too, as itself
      CHECK(r.find(std::string_view(n).substr(0, n.size() - 1)) != c);
    for (std::size_t i = 0; i < n.size(); ++i) {
      std::string changed = n;
      changed[i] = static_cast<char>(changed[i] ^ 0x01);
      CHECK(r.find(changed) == nullptr);
    }
  }
  CHECK(r.find("") == nullptr);
  CHECK(r.find("x") == nullptr);
  CHECK(r.find(std::string(65, 'a')) == nullptr);
}

TEST_CASE("find folds the case of letters only: bytes 0x20 apart that are not letters differ", "[router]") {
  coronet::router r;
  r.add("a-b", "", &ok);     // '-' is 0x2d; CR is 0x0d
  r.add("x[", "", &ok);      // '[' is 0x5b; '{' is 0x7b
  r.add("k@y", "", &ok);     // '@' is 0x40; '`' is 0x60
  r.add("n1", "", &ok);      // '1' is 0x31; 0x11 is a control byte
  CHECK(r.find("A-B") != nullptr);
  CHECK(r.find("a\rb") == nullptr);
  CHECK(r.find("X[") != nullptr);
  CHECK(r.find("x{") == nullptr);
  CHECK(r.find("K@Y") != nullptr);
  CHECK(r.find("k`y") == nullptr);
  CHECK(r.find("N1") != nullptr);
  CHECK(r.find(std::string("n\x11")) == nullptr);
}

TEST_CASE("find keeps finding every name as the table grows past many rebuilds", "[router]") {
  coronet::router r;
  std::string added[300];
  for (int i = 0; i < 300; ++i) {
    added[i] = "c" + std::to_string(i);
    r.add(added[i], "", &ok);
    if (i % 3 == 0)
      r.alias("al" + std::to_string(i), added[i]);
  }
  for (int i = 0; i < 300; ++i) {
    INFO(added[i]);
    const coronet::command* c = r.find(upper(added[i]));
    REQUIRE(c != nullptr);
    CHECK(c->name == added[i]);
    if (i % 3 == 0)
      CHECK(r.find("AL" + std::to_string(i)) == c);
    else
      CHECK(r.find("al" + std::to_string(i)) == nullptr);
  }
}

}  // namespace command_router_lookup_test
