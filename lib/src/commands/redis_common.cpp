#include "commands/detail/redis_common.hpp"

#include <limits>
#include <utility>
#include <vector>

#include "coronet/protocol/detail/quoted_name.hpp"

namespace coronet::commands::redis {

bool parse_integer(std::string_view s, std::int64_t& out) noexcept {
  if (s.empty() || s.size() > 20)
    return false;
  if (s == "0") {
    out = 0;
    return true;
  }
  std::size_t i = 0;
  const bool negative = s[0] == '-';
  if (negative && ++i == s.size())
    return false;
  if (s[i] < '1' || s[i] > '9')
    return false;
  std::uint64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    const auto digit = static_cast<std::uint64_t>(s[i] - '0');
    if (v > (std::numeric_limits<std::uint64_t>::max() - digit) / 10)
      return false;
    v = v * 10 + digit;
  }
  constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (negative) {
    if (v > max + 1)
      return false;
    out = v == max + 1 ? std::numeric_limits<std::int64_t>::min() : -static_cast<std::int64_t>(v);
  } else {
    if (v > max)
      return false;
    out = static_cast<std::int64_t>(v);
  }
  return true;
}

reply error_with(std::string_view prefix, std::string_view text, std::string_view suffix, std::size_t limit) {
  std::string msg(prefix);
  detail::append_quoted_name(msg, text, limit);
  msg += suffix;
  return reply::error_line(msg);
}

reply ok() { return reply::text("OK"); }

reply syntax_error() { return reply::error_line("ERR syntax error"); }

reply subcommand_arity_error(std::string_view container, std::string_view sub) {
  std::string name(container);
  name += '|';
  for (char c : sub)
    name += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return wrong_arity_reply(name);
}

reply unknown_subcommand(std::string_view sub, std::string_view container) {
  std::string msg = "ERR unknown subcommand '";
  detail::append_quoted_name(msg, sub);
  msg += "'. Try ";
  msg += container;
  msg += " HELP.";
  return reply::error_line(msg);
}

reply help_reply(std::string_view container, std::initializer_list<std::string_view> lines) {
  std::vector<reply> out;
  out.reserve(lines.size() + 3);
  out.push_back(reply::text(std::string(container) + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"));
  for (std::string_view line : lines)
    out.push_back(reply::text(line));
  out.push_back(reply::text("HELP"));
  out.push_back(reply::text("    Print this help."));
  return reply::array(std::move(out));
}

std::string format_address(const tcp::endpoint& e) {
  const auto address = e.address();
  // Appended, not `"[" + std::string&&`: g++ 12 at -O3 reports a false -Wrestrict
  // inside that operator+ (GCC bug 105329), which fails the Release build.
  std::string out;
  if (address.is_v6()) {
    out += '[';
    out += address.to_string();
    out += ']';
  } else {
    out = address.to_string();
  }
  out += ':';
  out += std::to_string(e.port());
  return out;
}

bool valid_client_attribute(std::string_view value) noexcept {
  for (char c : value)
    if (c < '!' || c > '~')
      return false;
  return true;
}

reply bad_client_name() {
  return reply::error_line("ERR Client names cannot contain spaces, newlines or special characters.");
}

}  // namespace coronet::commands::redis
