// coronet::commands time formats: ctime (as C and Python print it), Unix seconds, ISO-8601.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <regex>
#include <string>

#include "coronet/commands/timestamp.hpp"

namespace commands_timestamp_test {

namespace {

// Runs the body with TZ set to `tz`, restoring the previous value after.
class scoped_tz {
public:
  explicit scoped_tz(const char* tz) {
    if (const char* old = std::getenv("TZ")) {
      had_ = true;
      old_ = old;
    }
    ::setenv("TZ", tz, 1);
    ::tzset();
  }
  ~scoped_tz() {
    if (had_)
      ::setenv("TZ", old_.c_str(), 1);
    else
      ::unsetenv("TZ");
    ::tzset();
  }
  scoped_tz(const scoped_tz&) = delete;
  scoped_tz& operator=(const scoped_tz&) = delete;

private:
  bool had_ = false;
  std::string old_;
};

std::string ctime_of(std::time_t t) {
  char buf[coronet::commands::timestamp_buffer_size];
  return std::string(buf, coronet::commands::format_ctime(buf, t));
}

std::string iso_of(std::chrono::system_clock::time_point t) {
  char buf[coronet::commands::timestamp_buffer_size];
  return std::string(buf, coronet::commands::format_iso(buf, t));
}

}  // namespace

TEST_CASE("format_ctime writes local time exactly as C's ctime, without the newline", "[timestamp]") {
  scoped_tz utc("UTC");
  CHECK(ctime_of(0) == "Thu Jan  1 00:00:00 1970");
  CHECK(ctime_of(1527457438) == "Sun May 27 21:43:58 2018");
  CHECK(ctime_of(1525640400) == "Sun May  6 21:00:00 2018");
  for (std::time_t t : {std::time_t{0}, std::time_t{951782400}, std::time_t{1527457438}, std::time_t{4102444799}}) {
    char c_buf[32];
    const std::string expected(::ctime_r(&t, c_buf), 24);
    CHECK(ctime_of(t) == expected);
  }
}

TEST_CASE("format_ctime follows the local time zone", "[timestamp]") {
  scoped_tz cst("CST-8");
  CHECK(ctime_of(1527428638) == "Sun May 27 21:43:58 2018");
  std::time_t now = std::time(nullptr);
  char c_buf[32];
  CHECK(ctime_of(now) == std::string(::ctime_r(&now, c_buf), 24));
}

TEST_CASE("format_iso writes UTC with milliseconds", "[timestamp]") {
  using namespace std::chrono;
  scoped_tz cst("CST-8");
  CHECK(iso_of(system_clock::time_point(milliseconds(1527428638123))) == "2018-05-27T13:43:58.123Z");
  CHECK(iso_of(system_clock::time_point(milliseconds(0))) == "1970-01-01T00:00:00.000Z");
  CHECK(iso_of(system_clock::time_point(milliseconds(-1))) == "1969-12-31T23:59:59.999Z");
  CHECK(iso_of(system_clock::time_point(microseconds(1527428638123999))) == "2018-05-27T13:43:58.123Z");
}

TEST_CASE("the _now functions agree with the system clock", "[timestamp]") {
  // system_clock, as the _now functions: std::time() reads glibc's coarse
  // clock, which can lag it by a tick (this failed once under ASan).
  const auto seconds_now = [] {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  const std::int64_t before = seconds_now();
  const std::int64_t unix_seconds = coronet::commands::unix_now();
  const std::string ctime_text = coronet::commands::ctime_now();
  const std::string iso_text = coronet::commands::iso_now();
  const std::int64_t after = seconds_now();
  CHECK(unix_seconds >= before);
  CHECK(unix_seconds <= after);
  CHECK(ctime_text.size() == 24);
  CHECK(std::regex_match(
      ctime_text,
      std::regex(
          R"(^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 1-3][0-9] \d\d:\d\d:\d\d \d{4}$)")));
  CHECK(std::regex_match(iso_text, std::regex(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$)")));
}

}  // namespace commands_timestamp_test
