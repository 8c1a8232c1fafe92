#include "coronet/protocol/wire_protocol.hpp"

#include <catch2/catch.hpp>

namespace protocol_wire_protocol_test {

TEST_CASE("protocol names round-trip through to_string and parse_wire_protocol", "[protocol]") {
  using coronet::wire_protocol;
  for (wire_protocol p : {wire_protocol::resp, wire_protocol::line, wire_protocol::raw, wire_protocol::http}) {
    wire_protocol parsed = p == wire_protocol::resp ? wire_protocol::line : wire_protocol::resp;
    REQUIRE(coronet::parse_wire_protocol(coronet::to_string(p), parsed));
    CHECK(parsed == p);
  }
  wire_protocol untouched = wire_protocol::raw;
  CHECK_FALSE(coronet::parse_wire_protocol("redis", untouched));
  CHECK(untouched == wire_protocol::raw);
}

TEST_CASE("the old name 'auto' is RESP, as it always was", "[protocol]") {
  using coronet::wire_protocol;
  wire_protocol parsed = wire_protocol::line;
  REQUIRE(coronet::parse_wire_protocol("auto", parsed));
  CHECK(parsed == wire_protocol::resp);
  CHECK(coronet::to_string(wire_protocol::resp) == "resp");
  // The deprecated enumerator still compiles (with a warning) and is resp.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  CHECK(wire_protocol::auto_detect == wire_protocol::resp);
#pragma GCC diagnostic pop
}

}  // namespace protocol_wire_protocol_test
