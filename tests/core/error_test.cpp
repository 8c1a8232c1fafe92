// Tests for coronet/core/error.hpp: the coronet error category and its codes.
#include "coronet/core/error.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <system_error>

#include <asio/error.hpp>

namespace core_error_test {

TEST_CASE("coronet::errc::timeout is an error code of the coronet category", "[error]") {
  const std::error_code ec = coronet::errc::timeout;
  CHECK(ec);
  CHECK(ec.value() == 1);
  CHECK(&ec.category() == &coronet::error_category());
  CHECK(std::string(ec.category().name()) == "coronet");
  CHECK(ec.message() == "operation timed out");
  CHECK(ec == coronet::make_error_code(coronet::errc::timeout));
  CHECK(ec == coronet::errc::timeout);
}

TEST_CASE("a coronet timeout compares equal to std::errc::timed_out, not to the OS's ETIMEDOUT code", "[error]") {
  const std::error_code ec = coronet::errc::timeout;
  CHECK(ec == std::errc::timed_out);
  CHECK(ec.default_error_condition() == std::errc::timed_out);
  CHECK(ec != std::errc::operation_canceled);
  // asio::error::timed_out is an error_code itself (system category): codes compare exactly.
  CHECK(ec != asio::error::timed_out);
  // The OS's code is a "Connection timed out": that was the confusing message.
  const std::error_code os_code = asio::error::timed_out;
  CHECK(os_code.message() != ec.message());
}

TEST_CASE("std::system_error from a coronet code carries its message", "[error]") {
  const std::system_error e(coronet::errc::timeout);
  CHECK(e.code() == coronet::errc::timeout);
  CHECK(std::string(e.what()).find("operation timed out") != std::string::npos);
}

TEST_CASE("an unknown coronet error value still has a message and maps to itself", "[error]") {
  const std::error_code ec(42, coronet::error_category());
  CHECK(ec.message() == "unknown coronet error 42");
  CHECK(ec.default_error_condition().category() == coronet::error_category());
  CHECK(ec != std::errc::timed_out);
}

}  // namespace core_error_test
