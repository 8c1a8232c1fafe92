// CLIENT: what a connection may learn and set about itself.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "commands/detail/ascii_case.hpp"
#include "commands/detail/redis_common.hpp"
#include "coronet/command/connection.hpp"

namespace coronet::commands::redis {
namespace {

using detail::equals_lower;

// Redis's catClientInfoString, with what the server knows; `command` is the
// running one (Redis's `cmd`, the last command, is the running one for the
// calling connection, whose `idle` is 0 for the same reason).
void append_client_line(std::string& out, const connection& conn, std::string_view command) {
  std::int64_t age = 0;
  if (conn.created != std::chrono::steady_clock::time_point{})
    age = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - conn.created).count();
  out += "id=" + std::to_string(conn.id);
  out += " addr=" + format_address(conn.peer);
  out += " laddr=" + format_address(conn.local);
  out += " fd=" + std::to_string(conn.fd);
  out += " name=";
  out += conn.name();
  out += " age=" + std::to_string(age);
  out +=
      " idle=0 flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0"
      " obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=";
  out += command;
  out += " user=default redir=-1 resp=" + std::to_string(conn.protover);
  out += " lib-name=";
  out += conn.lib_name();
  out += " lib-ver=";
  out += conn.lib_version();
  out += '\n';
}

reply client_list(const connection& conn, request& req) {
  std::string out;
  if (req.size() == 3 && equals_lower(req.arg(1), "type")) {
    const std::string_view type = req.arg(2);
    if (equals_lower(type, "normal"))
      append_client_line(out, conn, "client|list");
    else if (!equals_lower(type, "master") && !equals_lower(type, "replica") && !equals_lower(type, "slave") &&
             !equals_lower(type, "pubsub"))
      return error_with("ERR Unknown client type '", type, "'");
  } else if (req.size() > 2 && equals_lower(req.arg(1), "id")) {
    for (std::size_t i = 2; i < req.size(); ++i) {
      std::int64_t id = 0;
      if (!parse_integer(req.arg(i), id))
        return reply::error_line("ERR Invalid client ID");
      if (static_cast<std::uint64_t>(id) == conn.id && id > 0)
        append_client_line(out, conn, "client|list");
    }
  } else if (req.size() != 1) {
    return syntax_error();
  } else {
    append_client_line(out, conn, "client|list");
  }
  return reply::verbatim(out);
}

reply client_setinfo(connection& conn, std::string_view attribute, std::string_view value) {
  const bool lib_name = equals_lower(attribute, "lib-name");
  if (!lib_name && !equals_lower(attribute, "lib-ver"))
    return error_with("ERR Unrecognized option '", attribute, "'");
  if (!valid_client_attribute(value))
    return error_with("ERR ", attribute, " cannot contain spaces, newlines or special characters.");
  if (lib_name)
    conn.set_lib_name(value);
  else
    conn.set_lib_version(value);
  return ok();
}

}  // namespace

reply client_command(request& req) {
  connection scratch;
  connection& conn = req.conn != nullptr ? *req.conn : scratch;
  const std::string_view sub = req.arg(0);
  const std::size_t argc = req.size() + 1;  // as Redis counts: CLIENT and the subcommand included
  // Each subcommand with its arity in Redis's sign convention.
  const auto arity_fits = [argc](int redis) {
    return redis > 0 ? argc == static_cast<std::size_t>(redis) : argc >= static_cast<std::size_t>(-redis);
  };
  if (equals_lower(sub, "setname")) {
    if (!arity_fits(3))
      return subcommand_arity_error("client", sub);
    if (!valid_client_attribute(req.arg(1)))
      return bad_client_name();
    conn.set_name(req.arg(1));
    return ok();
  }
  if (equals_lower(sub, "getname")) {
    if (!arity_fits(2))
      return subcommand_arity_error("client", sub);
    return conn.name().empty() ? reply::null() : reply::bulk(conn.name());
  }
  if (equals_lower(sub, "id")) {
    if (!arity_fits(2))
      return subcommand_arity_error("client", sub);
    return reply::integer(static_cast<std::int64_t>(conn.id));
  }
  if (equals_lower(sub, "setinfo")) {
    if (!arity_fits(4))
      return subcommand_arity_error("client", sub);
    return client_setinfo(conn, req.arg(1), req.arg(2));
  }
  if (equals_lower(sub, "info")) {
    if (!arity_fits(2))
      return subcommand_arity_error("client", sub);
    std::string line;
    append_client_line(line, conn, "client|info");
    return reply::verbatim(line);
  }
  if (equals_lower(sub, "list"))
    return client_list(conn, req);
  if (equals_lower(sub, "help")) {
    if (!arity_fits(2))
      return subcommand_arity_error("client", sub);
    return help_reply("CLIENT", {"GETNAME", "    Return the name of the current connection.", "ID",
                                 "    Return the ID of the current connection.", "INFO",
                                 "    Return information about the current client connection.", "LIST [options ...]",
                                 "    Return information about the current connection (the only one listed). Options:",
                                 "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)", "      Return clients of specified type.",
                                 "    * ID <id> [<id> ...]", "      Return clients of specified IDs.", "SETNAME <name>",
                                 "    Assign the name <name> to the current connection.", "SETINFO <option> <value>",
                                 "    Set client meta attr. Options are:", "    * LIB-NAME: the client lib name.",
                                 "    * LIB-VER: the client lib version."});
  }
  return unknown_subcommand(sub, "CLIENT");
}

}  // namespace coronet::commands::redis
