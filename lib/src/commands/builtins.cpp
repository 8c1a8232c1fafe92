#include "coronet/commands/builtins.hpp"

#include <array>
#include <charconv>
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "commands/detail/ascii_case.hpp"
#include "commands/detail/serving_router.hpp"
#include "commands/detail/unregistered.hpp"
#include "coronet/command/connection.hpp"
#include "coronet/commands/redis_commands.hpp"
#include "coronet/protocol/detail/quoted_name.hpp"
#include "coronet/server/server.hpp"

namespace coronet::commands {
namespace {

using detail::equals_lower;

reply timestamp_command(request& req) {
  char buf[timestamp_buffer_size];
  if (req.size() == 0)
    return reply::bulk(std::string_view(buf, format_ctime(buf, std::time(nullptr))));
  const std::string_view format = req.arg(0);
  if (equals_lower(format, "unix")) {
    // A value, so a bulk string of digits, as Redis's TIME sends its numbers.
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, unix_now());
    return reply::bulk(std::string_view(buf, ec == std::errc{} ? static_cast<std::size_t>(end - buf) : 0));
  }
  if (equals_lower(format, "iso"))
    return reply::bulk(std::string_view(buf, format_iso(buf, std::chrono::system_clock::now())));
  std::string msg = "ERR unknown format '";
  detail::append_quoted_name(msg, format);
  msg += '\'';
  return reply::error_line(msg);
}

// Subscribed in RESP2, Redis answers PING with a Pub/Sub-shaped array. Out of line: the
// reply it builds would make every PING save and restore registers for it.
[[gnu::noinline]] void subscribed_ping(request& req, response_writer& out) {
  out.value(reply::array({reply::bulk("pong"), reply::bulk(req.arg(0))}));
}

void ping_command(request& req, response_writer& out) {
  if (req.conn != nullptr && req.conn->subscriptions != 0 && req.conn->protover < 3 &&
      req.conn->protocol == wire_protocol::resp)
    return subscribed_ping(req, out);
  if (req.size() == 0)
    out.text("PONG");
  else
    out.bulk(req.arg(0));
}

void echo_command(request& req, response_writer& out) { out.bulk(req.arg(0)); }

std::string help_entry(const command& c) {
  std::string entry = c.name;
  entry += " - ";
  entry += c.description;
  if (!c.aliases.empty()) {
    entry += c.aliases.size() == 1 ? " (alias: " : " (aliases: ";
    for (std::size_t i = 0; i < c.aliases.size(); ++i) {
      if (i > 0)
        entry += ", ";
      entry += c.aliases[i];
    }
    entry += ')';
  }
  return entry;
}

reply help_command(const router* registered_on, request& req) {
  const router& routes = detail::routes_of(registered_on, req);
  if (req.size() == 1) {
    const command* c = routes.find(req.arg(0));
    if (c == nullptr) {
      std::string msg = "ERR unknown command '";
      detail::append_quoted_name(msg, req.arg(0));
      msg += '\'';
      return reply::error_line(msg);
    }
    return reply::bulk(help_entry(*c));
  }
  std::vector<reply> entries;
  entries.reserve(routes.commands().size());
  for (const command& c : routes.commands())
    entries.push_back(reply::bulk(help_entry(c)));
  return reply::array(std::move(entries));
}

reply quit_command(request& req) {
  if (req.conn != nullptr)
    req.conn->close_after_reply();
  return reply::text("OK");
}

reply stats_command(request& req) {
  if (req.conn == nullptr || req.conn->owner == nullptr)
    return reply::err("stats unavailable");
  const server_stats s = req.conn->owner->stats();
  const std::pair<std::string_view, std::uint64_t> fields[] = {
      {"connections_now", s.connections_now},
      {"connections_total", s.connections_total},
      {"connections_rejected", s.connections_rejected},
      {"requests", s.requests},
      {"errors", s.errors},
      {"bytes_in", s.bytes_in},
      {"bytes_out", s.bytes_out},
      {"uptime_seconds",
       static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(s.uptime).count())},
      {"proxy_header_errors", s.proxy_header_errors},
      {"draining", s.draining ? 1u : 0u},
      {"maintenance", s.maintenance ? 1u : 0u},
      {"proxy_health_checks", s.proxy_health_checks},
      {"security_attacks", s.security_attacks},
  };
  std::vector<reply> out;
  out.reserve(2 * std::size(fields));
  for (const auto& [name, value] : fields) {
    out.push_back(reply::bulk(name));
    out.push_back(reply::integer(static_cast<std::int64_t>(value)));
  }
  return reply::array(std::move(out));
}

}  // namespace

void register_builtins(router& r) {
  static constexpr std::array<std::string_view, 7> names = {"timestamp", "timetampe", "ping", "echo",
                                                            "help",      "quit",      "stats"};
  detail::require_unregistered(r, names, "coronet::commands::register_builtins");
  detail::require_unregistered(r, redis_command_names, "coronet::commands::register_builtins");
  detail::require_unregistered(r, redis_transaction_command_names, "coronet::commands::register_builtins");

  using enum command_flags;
  const std::vector<std::string> connection_category = {"connection"};
  r.add("timestamp", "server time: local ctime form; 'unix' for epoch seconds, 'iso' for UTC ISO-8601",
        &timestamp_command, arity::between(0, 1));
  r.alias("timetampe", "timestamp");
  r.set_flags("timestamp", loading | stale | fast);
  // PING runs before AUTH here (Redis refuses it), so that health checks
  // work without the password.
  r.add("ping", "replies PONG, or the message given", &ping_command, arity::between(0, 1));
  r.set_flags("ping", fast | noauth).set_acl_categories("ping", connection_category);
  r.add("echo", "replies with the message given", &echo_command, arity::exactly(1));
  r.set_flags("echo", loading | stale | fast).set_acl_categories("echo", connection_category);
  r.add(
      "help", "lists the commands, or describes the one named",
      [registered_on = &r](request& req) { return help_command(registered_on, req); }, arity::between(0, 1));
  r.set_flags("help", loading | stale);
  // Any arguments, as Redis's QUIT (arity -1) takes.
  r.add("quit", "replies OK, then closes the connection", &quit_command, arity::at_least(0));
  r.set_flags("quit", noscript | loading | stale | fast | noauth).set_acl_categories("quit", connection_category);
  r.add("stats", "server counters: connections, requests, errors, bytes, uptime", &stats_command, arity::exactly(0));
  r.set_flags("stats", loading | stale);
  register_redis_commands(r);
}

}  // namespace coronet::commands
