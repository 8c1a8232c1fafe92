// HELLO, AUTH, SELECT and RESET: what a client sends as it connects, and
// the password check HELLO and AUTH share.
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "commands/detail/ascii_case.hpp"
#include "commands/detail/redis_common.hpp"
#include "commands/detail/serving_router.hpp"
#include "coronet/command/auth_throttle.hpp"
#include "coronet/command/connection.hpp"
#include "coronet/commands/redis_commands.hpp"
#include "coronet/core/detail/log_limiter.hpp"
#include "coronet/core/log.hpp"
#include "coronet/core/task.hpp"
#include "coronet/core/version.hpp"
#include "coronet/net/timer.hpp"
#include "coronet/protocol/detail/quoted_name.hpp"
#include "server/pubsub/pubsub_client.hpp"

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

const reply& too_many_failures() {
  static const reply r =
      reply::error_line("ERR too many failed authentications from this address, try again later");
  return r;
}

enum class auth_result { accepted, wrong, refused };

// One line per source address and throttle window, at most ten a second in all (the
// throttle says when), with how many failed since the address's last line.
void log_failure(const connection& conn, std::string_view user, const auth_throttle::failure& f) {
  if (!f.log)
    return;
  std::string msg = "authentication failed for user '";
  detail::append_quoted_name(msg, user);
  msg += "' from ";
  msg += format_address(conn.peer);
  if (f.unlogged > 1) {
    msg += " (";
    msg += std::to_string(f.unlogged);
    msg += " failures from this address since its last such line)";
  }
  if (f.delay.count() > 0) {
    msg += "; its authentications are now ";
    msg += std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(f.delay).count());
    msg += " ms apart";
  }
  coronet::log(log_level::warning, msg);
}

// Checks `user`/`pass` as Redis's ACLAuthenticateUser does for its one user,
// `default`; on success the connection is authenticated. On a server, an
// address with many failures first waits its turn (conn.throttle), and a
// connection that reaches its failure budget is closed after the reply.
task<auth_result> authenticate(connection& conn, const router& routes, std::string_view user,
                               std::string_view pass) {
  auth_throttle* const throttle = conn.throttle;
  const asio::ip::address source = conn.peer.address();
  if (throttle != nullptr) {
    const auth_throttle::admission admission = throttle->admit(source, auth_throttle::clock::now());
    if (admission.refused) {
      conn.close_after_reply();
      co_return auth_result::refused;
    }
    // The request's words stay valid: its session reads nothing more while its handler runs.
    if (admission.wait > auth_throttle::clock::duration::zero())
      co_await sleep_for(admission.wait);
  }
  const std::string_view password = conn.password;
  // Both compared in full, whatever the first one says.
  const bool right_user = constant_time_equal("default", user);
  const bool right_pass = password.empty() || constant_time_equal(password, pass);
  if (right_user && right_pass) {
    conn.authenticated = true;
    co_return auth_result::accepted;
  }
  routes.count_auth_failure();
  ++conn.auth_failures;
  if (throttle == nullptr) {
    std::string msg = "authentication failed for user '";
    detail::append_quoted_name(msg, user);
    msg += "'";
    auth_failure_log.log(log_level::warning, msg);
    co_return auth_result::wrong;
  }
  log_failure(conn, user, throttle->failed(source, auth_throttle::clock::now()));
  const unsigned budget = throttle->options().max_failures_per_connection;
  if (budget != 0 && conn.auth_failures >= budget)
    conn.close_after_reply();
  co_return auth_result::wrong;
}

const reply& refusal(auth_result r) { return r == auth_result::refused ? too_many_failures() : wrongpass(); }

}  // namespace

task<reply> auth_command(const router* registered_on, request& req) {
  if (req.size() > 2)
    co_return syntax_error();
  connection scratch;
  connection& conn = req.conn != nullptr ? *req.conn : scratch;
  std::string_view user = "default";
  std::string_view pass = req.arg(0);
  if (req.size() == 1) {
    if (conn.password.empty())
      co_return reply::error_line(
          "ERR AUTH <password> called without any password configured for the default user. Are you sure your "
          "configuration is correct?");
  } else {
    user = req.arg(0);
    pass = req.arg(1);
  }
  const auth_result result = co_await authenticate(conn, routes_of(registered_on, req), user, pass);
  if (result != auth_result::accepted)
    co_return refusal(result);
  co_return ok();
}

task<reply> hello_command(const router* registered_on, request& req) {
  connection scratch;
  connection& conn = req.conn != nullptr ? *req.conn : scratch;
  std::int64_t version = 0;
  std::size_t next = 0;
  if (req.size() >= 1) {
    if (!parse_integer(req.arg(0), version))
      co_return reply::error_line("ERR Protocol version is not an integer or out of range");
    if (version < 2 || version > 3)
      co_return reply::error_line("NOPROTO unsupported protocol version");
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
        co_return bad_client_name();
      ++j;
    } else {
      co_return error_with("ERR Syntax error in HELLO option '", option, "'");
    }
  }
  if (has_auth) {
    const auth_result result = co_await authenticate(conn, routes_of(registered_on, req), user, pass);
    if (result != auth_result::accepted)
      co_return refusal(result);
  }
  if (conn.needs_auth())
    co_return reply::error_line(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH "
        "<user> <pass> option can be used to authenticate the client and select the RESP protocol version at the "
        "same time");
  if (has_name)
    conn.set_name(name);
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
  co_return reply::map(std::move(fields));
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
    if (conn.pubsub != nullptr)
      conn.pubsub->drop_all();
    conn.protover = 2;
    conn.set_name({});
    conn.discard_transaction();
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
