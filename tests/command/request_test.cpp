#include "coronet/command/request.hpp"

#include <catch2/catch.hpp>

#include <string_view>
#include <vector>

namespace command_request_test {

TEST_CASE("a request views the name and arguments of a parsed word list", "[framework][request]") {
  const std::vector<std::string_view> words{"echo", "hello", ""};
  const coronet::request r = coronet::request::from_words(words);
  CHECK(r.name == "echo");
  CHECK(r.name.data() == words[0].data());
  CHECK(r.size() == 2);
  CHECK(r.arg(0) == "hello");
  CHECK(r.arg(1).empty());
  CHECK(r.arg(2).empty());
}

TEST_CASE("an empty word list gives an empty request", "[framework][request]") {
  const coronet::request r = coronet::request::from_words({});
  CHECK(r.name.empty());
  CHECK(r.size() == 0);
  CHECK(r.arg(0).empty());
}

}  // namespace command_request_test
