#include "coronet/core/time_format.hpp"

#include <charconv>
#include <system_error>

namespace coronet {
namespace {

constexpr char day_names[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr char month_names[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Writes `value` (0..99) as two digits, or with a leading `pad` below 10.
char* put2(char* p, int value, char pad = '0') noexcept {
  *p++ = value < 10 ? pad : static_cast<char>('0' + value / 10);
  *p++ = static_cast<char>('0' + value % 10);
  return p;
}

char* put3(char* p, const char (&name)[4]) noexcept {
  *p++ = name[0];
  *p++ = name[1];
  *p++ = name[2];
  return p;
}

// The year as C's `%d` would (ctime), or zero-padded to four digits (ISO).
char* put_year(char* p, char* end, long long year, bool pad4) noexcept {
  if (pad4 && year >= 0 && year < 1000) {
    for (int div = 1000; div > 0; div /= 10)
      *p++ = static_cast<char>('0' + (year / div) % 10);
    return p;
  }
  return std::to_chars(p, end, year).ptr;
}

[[noreturn]] void throw_unrepresentable() {
  throw std::system_error(std::make_error_code(std::errc::value_too_large),
                          "coronet: time cannot be converted to a calendar time");
}

}  // namespace

std::size_t format_ctime(char (&buf)[time_format_buffer_size], std::time_t t) {
  std::tm tm{};
  if (::localtime_r(&t, &tm) == nullptr || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 || tm.tm_mon > 11)
    throw_unrepresentable();
  char* p = buf;
  p = put3(p, day_names[tm.tm_wday]);
  *p++ = ' ';
  p = put3(p, month_names[tm.tm_mon]);
  *p++ = ' ';
  p = put2(p, tm.tm_mday, ' ');
  *p++ = ' ';
  p = put2(p, tm.tm_hour);
  *p++ = ':';
  p = put2(p, tm.tm_min);
  *p++ = ':';
  p = put2(p, tm.tm_sec);
  *p++ = ' ';
  p = put_year(p, buf + time_format_buffer_size, 1900LL + tm.tm_year, false);
  return static_cast<std::size_t>(p - buf);
}

std::size_t format_iso(char (&buf)[time_format_buffer_size], std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  // Floor, not truncate, so instants before 1970 keep their milliseconds right.
  const auto ms = floor<milliseconds>(t.time_since_epoch()).count();
  const auto whole = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  const auto millis = static_cast<int>(ms - static_cast<long long>(whole) * 1000);
  std::tm tm{};
  if (::gmtime_r(&whole, &tm) == nullptr)
    throw_unrepresentable();
  char* p = buf;
  p = put_year(p, buf + time_format_buffer_size - 20, 1900LL + tm.tm_year, true);
  *p++ = '-';
  p = put2(p, tm.tm_mon + 1);
  *p++ = '-';
  p = put2(p, tm.tm_mday);
  *p++ = 'T';
  p = put2(p, tm.tm_hour);
  *p++ = ':';
  p = put2(p, tm.tm_min);
  *p++ = ':';
  p = put2(p, tm.tm_sec);
  *p++ = '.';
  *p++ = static_cast<char>('0' + millis / 100);
  p = put2(p, millis % 100);
  *p++ = 'Z';
  return static_cast<std::size_t>(p - buf);
}

}  // namespace coronet
