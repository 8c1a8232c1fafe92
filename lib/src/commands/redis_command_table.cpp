// COMMAND: the router's command table in Redis's shapes (COMMAND INFO's
// arity, flags and ACL categories; COMMAND DOCS's summary and group).
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "commands/detail/ascii_case.hpp"
#include "commands/detail/redis_common.hpp"
#include "commands/detail/serving_router.hpp"
#include "coronet/commands/redis_commands.hpp"

namespace coronet::commands {
namespace redis {
namespace {

using detail::equals_lower;
using detail::routes_of;

// Redis's flag names, in the order COMMAND INFO lists them.
constexpr std::pair<command_flags, std::string_view> flag_names[] = {
    {command_flags::write, "write"},       {command_flags::readonly, "readonly"}, {command_flags::admin, "admin"},
    {command_flags::noscript, "noscript"}, {command_flags::loading, "loading"},   {command_flags::stale, "stale"},
    {command_flags::fast, "fast"},         {command_flags::noauth, "no_auth"},
};

// Redis's ACL categories, in the order COMMAND INFO lists them.
constexpr std::string_view category_order[] = {
    "keyspace", "read",   "write",       "set",       "sortedset",  "list",        "hash",
    "string",   "bitmap", "hyperloglog", "geo",       "stream",     "pubsub",      "admin",
    "fast",     "slow",   "blocking",    "dangerous", "connection", "transaction", "scripting"};

std::vector<std::string_view> categories_of(const command& c) {
  std::vector<std::string_view> names(c.acl_categories.begin(), c.acl_categories.end());
  if (has_flags(c.flags, command_flags::write))
    names.push_back("write");
  if (has_flags(c.flags, command_flags::readonly))
    names.push_back("read");
  if (has_flags(c.flags, command_flags::admin)) {
    names.push_back("admin");
    names.push_back("dangerous");
  }
  names.push_back(has_flags(c.flags, command_flags::fast) ? "fast" : "slow");
  const auto contains = [&names](std::string_view n) {
    for (std::string_view x : names)
      if (x == n)
        return true;
    return false;
  };
  std::vector<std::string_view> ordered;
  for (std::string_view known : category_order)
    if (contains(known))
      ordered.push_back(known);
  for (std::string_view n : names) {
    bool known = false;
    for (std::string_view k : category_order)
      known = known || k == n;
    bool seen = false;
    for (std::string_view o : ordered)
      seen = seen || o == n;
    if (!known && !seen)
      ordered.push_back(n);
  }
  return ordered;
}

reply command_info(const command& c) {
  std::vector<reply> flags;
  for (const auto& [flag, name] : flag_names)
    if (has_flags(c.flags, flag))
      flags.push_back(reply::text(name));
  std::vector<reply> categories;
  for (std::string_view name : categories_of(c)) {
    // Built by appending: g++ 12 at -O3 reports a false -Wrestrict inside
    // `"literal" + std::string&&` (GCC bug 105329).
    std::string category = "@";
    category += name;
    categories.push_back(reply::text(category));
  }
  std::vector<reply> entry;
  entry.reserve(10);
  entry.push_back(reply::bulk(c.name));
  entry.push_back(reply::integer(redis_arity(c.args)));
  entry.push_back(reply::set(std::move(flags)));
  entry.push_back(reply::integer(0));
  entry.push_back(reply::integer(0));
  entry.push_back(reply::integer(0));
  entry.push_back(reply::set(std::move(categories)));
  entry.push_back(reply::set({}));
  entry.push_back(reply::set({}));
  entry.push_back(reply::set({}));
  return reply::array(std::move(entry));
}

reply command_docs(const command& c) {
  std::vector<reply> fields;
  if (!c.description.empty()) {
    fields.push_back(reply::bulk("summary"));
    fields.push_back(reply::bulk(c.description));
  }
  bool connection_group = false;
  for (const std::string& category : c.acl_categories)
    connection_group = connection_group || category == "connection";
  fields.push_back(reply::bulk("group"));
  fields.push_back(reply::bulk(connection_group ? "connection" : "generic"));
  return reply::map(std::move(fields));
}

}  // namespace

reply command_command(const router* registered_on, request& req) {
  const router& routes = routes_of(registered_on, req);
  const auto all = routes.commands();
  if (req.size() == 0) {
    std::vector<reply> out;
    out.reserve(all.size());
    for (const command& c : all)
      out.push_back(command_info(c));
    return reply::array(std::move(out));
  }
  const std::string_view sub = req.arg(0);
  const std::size_t argc = req.size() + 1;
  const auto names = req.args.subspan(1);
  if (equals_lower(sub, "count")) {
    if (argc != 2)
      return subcommand_arity_error("command", sub);
    return reply::integer(static_cast<std::int64_t>(all.size()));
  }
  if (equals_lower(sub, "list")) {
    if (argc != 2)
      return syntax_error();  // Redis's FILTERBY is not offered
    std::vector<reply> out;
    out.reserve(all.size());
    for (const command& c : all)
      out.push_back(reply::bulk(c.name));
    return reply::array(std::move(out));
  }
  if (equals_lower(sub, "info")) {
    std::vector<reply> out;
    if (names.empty()) {
      for (const command& c : all)
        out.push_back(command_info(c));
    } else {
      for (std::string_view name : names) {
        const command* c = routes.find(name);
        out.push_back(c != nullptr ? command_info(*c) : reply::null());
      }
    }
    return reply::array(std::move(out));
  }
  if (equals_lower(sub, "docs")) {
    std::vector<reply> out;
    if (names.empty()) {
      for (const command& c : all) {
        out.push_back(reply::bulk(c.name));
        out.push_back(command_docs(c));
      }
    } else {
      for (std::string_view name : names) {
        const command* c = routes.find(name);
        if (c == nullptr)
          continue;
        out.push_back(reply::bulk(c->name));
        out.push_back(command_docs(*c));
      }
    }
    return reply::map(std::move(out));
  }
  if (equals_lower(sub, "getkeys") || equals_lower(sub, "getkeysandflags")) {
    if (argc < 3)
      return subcommand_arity_error("command", sub);
    if (routes.find(req.arg(1)) == nullptr)
      return reply::error_line("ERR Invalid command specified");
    return reply::error_line("ERR The command has no key arguments");
  }
  if (equals_lower(sub, "help")) {
    if (argc != 2)
      return subcommand_arity_error("command", sub);
    return help_reply(
        "COMMAND", {"(no subcommand)", "    Return details about all commands.", "COUNT",
                    "    Return the total number of commands in this server.", "LIST",
                    "    Return a list of all commands in this server.", "INFO [<command-name> ...]",
                    "    Return details about multiple commands.",
                    "    If no command names are given, documentation details for all", "    commands are returned.",
                    "DOCS [<command-name> ...]", "    Return documentation details about multiple commands.",
                    "    If no command names are given, documentation details for all", "    commands are returned.",
                    "GETKEYS <full-command>", "    Return the keys from a full command.",
                    "GETKEYSANDFLAGS <full-command>", "    Return the keys and the access flags from a full command."});
  }
  return unknown_subcommand(sub, "COMMAND");
}

}  // namespace redis

std::int64_t redis_arity(const arity& args) noexcept {
  constexpr std::size_t cap = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max() - 1);
  const auto min = static_cast<std::int64_t>(args.min < cap ? args.min : cap);
  return args.min == args.max ? min + 1 : -(min + 1);
}

}  // namespace coronet::commands
