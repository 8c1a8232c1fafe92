// CONFIG: the parameters client libraries and tools read (redis-benchmark reads `save` and
// `appendonly` before it starts), answered with what the server really does; nothing can be
// set.
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "commands/detail/ascii_case.hpp"
#include "commands/detail/redis_common.hpp"
#include "core/detail/glob_match.hpp"
#include "coronet/command/connection.hpp"
#include "coronet/server/server.hpp"

namespace coronet::commands::redis {
namespace {

using detail::equals_lower;

// The port of the first listener of `owner` that serves TLS (`tls` true) or not; 0 for none.
std::string first_port(const server* owner, bool tls) {
  if (owner == nullptr)
    return "0";
  for (std::size_t i = 0; i < owner->listener_count(); ++i) {
    const listener_config& l = owner->listener(i);
    if ((l.tls || owner->options().tls_only) == tls && l.protocol == wire_protocol::resp)
      return std::to_string(l.port);
  }
  return "0";
}

// Every parameter CONFIG GET knows, in Redis's names, with the value in force.
// Outside a server (no connection, or one no server owns): server_options' defaults, and no port.
std::vector<std::pair<std::string_view, std::string>> parameters(const server* owner) {
  static const server_options defaults{};
  const server_options& o = owner != nullptr ? owner->options() : defaults;
  const auto seconds = [](std::chrono::milliseconds d) {
    return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count());
  };
  return {
      // Nothing is persisted and there is one database (SELECT takes 0 only).
      {"save", ""},
      {"appendonly", "no"},
      {"databases", "1"},
      {"maxmemory", "0"},
      {"maxmemory-policy", "noeviction"},
      {"bind", o.host},
      {"port", first_port(owner, false)},
      {"tls-port", first_port(owner, true)},
      {"maxclients", std::to_string(o.max_connections)},
      {"timeout", seconds(o.idle_timeout)},
      {"tcp-keepalive", std::to_string(o.tcp_keepalive.count())},
      {"proto-max-bulk-len", std::to_string(o.max_bulk_bytes)},
      {"client-query-buffer-limit", std::to_string(o.max_query_buffer_bytes)},
      {"io-threads", std::to_string(o.threads)},
  };
}

reply config_get(request& req) {
  if (req.size() < 2)
    return subcommand_arity_error("config", "get");
  const auto all = parameters(req.conn != nullptr ? req.conn->owner : nullptr);
  std::vector<reply> out;
  std::vector<bool> taken(all.size(), false);  // a parameter two patterns match comes once
  for (std::size_t a = 1; a < req.size(); ++a) {
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (!taken[i] && ::coronet::detail::glob_match(req.arg(a), all[i].first, true)) {
        taken[i] = true;
        out.push_back(reply::bulk(all[i].first));
        out.push_back(reply::bulk(all[i].second));
      }
    }
  }
  return reply::map(std::move(out));
}

}  // namespace

reply config_command(request& req) {
  const std::string_view sub = req.arg(0);
  if (equals_lower(sub, "get"))
    return config_get(req);
  if (equals_lower(sub, "set") || equals_lower(sub, "resetstat") || equals_lower(sub, "rewrite")) {
    std::string msg = "ERR CONFIG ";
    for (char c : sub)
      msg += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    msg += " is not supported: the server is configured when it starts";
    return reply::error_line(msg);
  }
  if (equals_lower(sub, "help") && req.size() == 1)
    return help_reply("CONFIG", {"GET <pattern> [<pattern> ...]",
                                 "    Return parameters matching the glob-like <pattern> and their values.",
                                 "SET, RESETSTAT, REWRITE", "    Not supported: answer an error."});
  return unknown_subcommand(sub, "CONFIG");
}

}  // namespace coronet::commands::redis
