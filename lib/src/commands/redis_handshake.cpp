// HELLO, AUTH, SELECT and RESET: what a client sends as it connects, and
// the password check HELLO and AUTH share.
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "commands/detail/ascii_case.hpp"
#include "commands/detail/redis_common.hpp"
#include "commands/detail/serving_router.hpp"
#include "coronet/command/connection.hpp"
#include "coronet/commands/redis_commands.hpp"
#include "coronet/core/detail/log_limiter.hpp"
#include "coronet/core/log.hpp"
#include "coronet/core/version.hpp"
#include "coronet/protocol/detail/quoted_name.hpp"

namespace coronet::commands {
namespace redis {
namespace {

using detail::equals_lower;
using detail::routes_of;

detail::log_limiter auth_failure_log;

const reply& wrongpass() {
  static const reply r = reply::error_line("WRONGPASS invalid username-password pair or user is disabled.");
  return r;
}

// Checks `user`/`pass` as Redis's ACLAuthenticateUser does for its one user,
// `default`; on success the connection is authenticated.
bool authenticate(connection& conn, const router& routes, std::string_view user, std::string_view pass) {
  const std::string_view password = conn.password;
  // Both compared in full, whatever the first one says.
  const bool right_user = constant_time_equal("default", user);
  const bool right_pass = password.empty() || constant_time_equal(password, pass);
  if (right_user && right_pass) {
    conn.authenticated = true;
    return true;
  }
  routes.count_auth_failure();
  std::string msg = "authentication failed for user '";
  detail::append_quoted_name(msg, user);
  msg += "'";
  if (conn.owner != nullptr)
    msg += " from " + format_address(conn.peer);
  auth_failure_log.log(log_level::warning, msg);
  return false;
}

}  // namespace

reply auth_command(const router* registered_on, request& req) {
  if (req.size() > 2)
    return syntax_error();
  connection scratch;
  connection& conn = req.conn != nullptr ? *req.conn : scratch;
  std::string_view user = "default";
  std::string_view pass = req.arg(0);
  if (req.size() == 1) {
    if (conn.password.empty())
      return reply::error_line(
          "ERR AUTH <password> called without any password configured for the default user. Are you sure your "
          "configuration is correct?");
  } else {
    user = req.arg(0);
    pass = req.arg(1);
  }
  if (!authenticate(conn, routes_of(registered_on, req), user, pass))
    return wrongpass();
  return ok();
}

reply hello_command(const router* registered_on, request& req) {
  connection scratch;
  connection& conn = req.conn != nullptr ? *req.conn : scratch;
  std::int64_t version = 0;
  std::size_t next = 0;
  if (req.size() >= 1) {
    if (!parse_integer(req.arg(0), version))
      return reply::error_line("ERR Protocol version is not an integer or out of range");
    if (version < 2 || version > 3)
      return reply::error_line("NOPROTO unsupported protocol version");
    next = 1;
  }
  bool has_auth = false;
  std::string_view user;
  std::string_view pass;
  bool has_name = false;
  std::string_view name;
  for (std::size_t j = next; j < req.size(); ++j) {
    const std::size_t more = req.size() - 1 - j;
    const std::string_view option = req.arg(j);
    if (equals_lower(option, "auth") && more >= 2) {
      has_auth = true;
      user = req.arg(j + 1);
      pass = req.arg(j + 2);
      j += 2;
    } else if (equals_lower(option, "setname") && more >= 1) {
      has_name = true;
      name = req.arg(j + 1);
      if (!valid_client_attribute(name))
        return bad_client_name();
      ++j;
    } else {
      return error_with("ERR Syntax error in HELLO option '", option, "'");
    }
  }
  if (has_auth && !authenticate(conn, routes_of(registered_on, req), user, pass))
    return wrongpass();
  if (conn.needs_auth())
    return reply::error_line(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH "
        "<user> <pass> option can be used to authenticate the client and select the RESP protocol version at the "
        "same time");
  if (has_name)
    conn.name = name;
  if (version != 0)
    conn.protover = static_cast<int>(version);

  std::vector<reply> fields;
  fields.reserve(14);
  fields.push_back(reply::bulk("server"));
  fields.push_back(reply::bulk("redis"));
  fields.push_back(reply::bulk("version"));
  fields.push_back(reply::bulk(redis_compatible_version));
  fields.push_back(reply::bulk("proto"));
  fields.push_back(reply::integer(conn.protover));
  fields.push_back(reply::bulk("id"));
  fields.push_back(reply::integer(static_cast<std::int64_t>(conn.id)));
  fields.push_back(reply::bulk("mode"));
  fields.push_back(reply::bulk("standalone"));
  fields.push_back(reply::bulk("role"));
  fields.push_back(reply::bulk("master"));
  fields.push_back(reply::bulk("modules"));
  fields.push_back(reply::array({}));
  return reply::map(std::move(fields));
}

reply select_command(request& req) {
  std::int64_t index = 0;
  if (!parse_integer(req.arg(0), index) || index < std::numeric_limits<int>::min() ||
      index > std::numeric_limits<int>::max())
    return reply::error_line("ERR value is not an integer or out of range");
  if (index != 0)
    return reply::error_line("ERR DB index is out of range");
  return ok();
}

reply reset_command(request& req) {
  if (req.conn != nullptr) {
    connection& conn = *req.conn;
    conn.protover = 2;
    conn.name.clear();
    // lib_name and lib_version stay: they describe the library behind the connection.
    if (!conn.password.empty())
      conn.authenticated = false;
  }
  return reply::text("RESET");
}

}  // namespace redis

bool constant_time_equal(std::string_view secret, std::string_view attempt) noexcept {
  // Every byte of the attempt is compared with some byte of the secret, so
  // the loop's length is the attempt's; the lengths are compared apart.
  unsigned difference = secret.size() == attempt.size() ? 0u : 1u;
  const std::size_t n = secret.size();
  for (std::size_t i = 0; i < attempt.size(); ++i) {
    const auto s = n == 0 ? 0u : static_cast<unsigned char>(secret[i % n]);
    difference |= s ^ static_cast<unsigned char>(attempt[i]);
  }
  return difference == 0;
}

}  // namespace coronet::commands
