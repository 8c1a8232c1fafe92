#include "coronet/commands/builtins.hpp"

#include <array>
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "coronet/framework/connection.hpp"
#include "coronet/framework/detail/quoted_name.hpp"
#include "coronet/framework/server.hpp"

namespace coronet::commands {
namespace {

bool equals_lower(std::string_view a, std::string_view lower) noexcept {
  if (a.size() != lower.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i])
      return false;
  }
  return true;
}

reply timestamp_command(request& req) {
  char buf[timestamp_buffer_size];
  if (req.size() == 0)
    return reply::text(std::string_view(buf, format_ctime(buf, std::time(nullptr))));
  const std::string_view format = req.arg(0);
  if (equals_lower(format, "unix"))
    return reply::integer(unix_now());
  if (equals_lower(format, "iso"))
    return reply::text(std::string_view(buf, format_iso(buf, std::chrono::system_clock::now())));
  std::string msg = "ERR unknown format '";
  detail::append_quoted_name(msg, format);
  msg += '\'';
  return reply::error(msg);
}

reply ping_command(request& req) {
  if (req.size() == 0)
    return reply::text("PONG");
  return reply::bulk(req.arg(0));
}

reply echo_command(request& req) { return reply::bulk(req.arg(0)); }

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
  const router& routes = req.conn != nullptr && req.conn->owner != nullptr ? req.conn->owner->routes() : *registered_on;
  if (req.size() == 1) {
    const command* c = routes.find(req.arg(0));
    if (c == nullptr)
      return unknown_command_reply(req.arg(0));
    return reply::text(help_entry(*c));
  }
  std::vector<reply> entries;
  entries.reserve(routes.commands().size());
  for (const command& c : routes.commands())
    entries.push_back(reply::text(help_entry(c)));
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
  static constexpr std::array<std::string_view, 8> names = {"timestamp", "timetampe", "ping", "echo",
                                                            "help",      "command",   "quit", "stats"};
  for (std::string_view name : names)
    if (r.find(name) != nullptr)
      throw command_error("coronet::commands::register_builtins: command name '" + std::string(name) +
                          "' is already registered");

  r.add("timestamp", "server time: local ctime form; 'unix' for epoch seconds, 'iso' for UTC ISO-8601",
        &timestamp_command, arity::between(0, 1));
  r.alias("timetampe", "timestamp");
  r.add("ping", "replies PONG, or the message given", &ping_command, arity::between(0, 1));
  r.add("echo", "replies with the message given", &echo_command, arity::exactly(1));
  r.add(
      "help", "lists the commands, or describes the one named",
      [registered_on = &r](request& req) { return help_command(registered_on, req); }, arity::between(0, 1));
  r.alias("command", "help");
  r.add("quit", "replies OK, then closes the connection", &quit_command, arity::exactly(0));
  r.add("stats", "server counters: connections, requests, errors, bytes, uptime", &stats_command, arity::exactly(0));
}

}  // namespace coronet::commands
