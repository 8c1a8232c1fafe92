#include "net/detail/source_table.hpp"

#include <catch2/catch.hpp>

#include <asio/ip/address.hpp>

namespace net_detail_source_table_test {

namespace {

using coronet::detail::source_key_of;

struct record {
  int value = 0;
  int last_used = 0;
};

}  // namespace

TEST_CASE("an IPv4 address is one source in both of its spellings", "[source_table]") {
  CHECK(source_key_of(asio::ip::make_address("192.0.2.7")) == source_key_of(asio::ip::make_address("::ffff:192.0.2.7")));
  CHECK(source_key_of(asio::ip::make_address("192.0.2.7")) != source_key_of(asio::ip::make_address("192.0.2.8")));
}

TEST_CASE("IPv6 addresses count per /64", "[source_table]") {
  CHECK(source_key_of(asio::ip::make_address("2001:db8:1:2::1")) ==
        source_key_of(asio::ip::make_address("2001:db8:1:2:ffff:ffff:ffff:ffff")));
  CHECK(source_key_of(asio::ip::make_address("2001:db8:1:2::1")) != source_key_of(asio::ip::make_address("2001:db8:1:3::1")));
  // ::ffff:0:0/96 is IPv4, not a /64 of IPv6.
  CHECK(source_key_of(asio::ip::make_address("::ffff:192.0.2.7")) != source_key_of(asio::ip::make_address("::ffff:192.0.2.8")));
}

TEST_CASE("a source table finds what it added and nothing before it is allocated", "[source_table]") {
  coronet::detail::source_table<record, 4> table;
  const auto a = source_key_of(asio::ip::make_address("127.0.0.1"));
  CHECK_FALSE(table.allocated());
  CHECK(table.find(a) == nullptr);

  table.allocate(16);
  REQUIRE(table.allocated());
  CHECK(table.find(a) == nullptr);
  bool added = false;
  table.find_or_add(a, added).value = 42;
  CHECK(added);
  REQUIRE(table.find(a) != nullptr);
  CHECK(table.find(a)->value == 42);
  CHECK(table.find_or_add(a, added).value == 42);
  CHECK_FALSE(added);
}

TEST_CASE("a full source table forgets the least recently used address of a set", "[source_table]") {
  // One set of two ways: every address competes for the same two slots.
  coronet::detail::source_table<record, 2> table;
  table.allocate(2);
  const auto a = source_key_of(asio::ip::make_address("10.0.0.1"));
  const auto b = source_key_of(asio::ip::make_address("10.0.0.2"));
  const auto c = source_key_of(asio::ip::make_address("10.0.0.3"));
  bool added = false;
  table.find_or_add(a, added).last_used = 2;
  table.find_or_add(b, added).last_used = 1;
  table.find_or_add(c, added).last_used = 3;
  CHECK(added);
  CHECK(table.find(a) != nullptr);
  CHECK(table.find(b) == nullptr);  // the older of the two
  CHECK(table.find(c) != nullptr);
}

}  // namespace net_detail_source_table_test
