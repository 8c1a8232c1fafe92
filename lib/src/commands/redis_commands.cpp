#include "coronet/commands/redis_commands.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "coronet/core/detail/log_limiter.hpp"
#include "coronet/command/connection.hpp"
#include "coronet/protocol/detail/quoted_name.hpp"
#include "coronet/server/server.hpp"
#include "coronet/core/log.hpp"
#include "coronet/core/version.hpp"
#include "commands/detail/ascii_case.hpp"
#include "commands/detail/serving_router.hpp"

namespace coronet::commands {
namespace {

using detail::equals_lower;
using detail::routes_of;

detail::log_limiter auth_failure_log;

// Redis's string2ll: an optional '-', then digits without a leading zero
// ("0" alone excepted), no blanks, no '+', within a signed 64-bit integer.
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

// An error whose message is `prefix`, `text` (odd bytes as \xHH, see
// append_quoted_name) and `suffix`.
reply error_with(std::string_view prefix, std::string_view text, std::string_view suffix,
                 std::size_t limit = std::string_view::npos) {
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

// Redis's addReplyHelp: a header, the lines, then HELP, as simple strings.
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
  std::string out = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  out += ':';
  out += std::to_string(e.port());
  return out;
}

// -------------------------------------------------------------------- AUTH

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

// ------------------------------------------------------------------- HELLO

// Redis's validateClientAttr: printable ASCII without blanks.
bool valid_client_attribute(std::string_view value) noexcept {
  for (char c : value)
    if (c < '!' || c > '~')
      return false;
  return true;
}

reply bad_client_name() {
  return reply::error_line("ERR Client names cannot contain spaces, newlines or special characters.");
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

// ------------------------------------------------------------------ CLIENT

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
  out += " name=" + conn.name;
  out += " age=" + std::to_string(age);
  out +=
      " idle=0 flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0"
      " obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=";
  out += command;
  out += " user=default redir=-1 resp=" + std::to_string(conn.protover);
  out += " lib-name=" + conn.lib_name;
  out += " lib-ver=" + conn.lib_version;
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
  std::string* field = nullptr;
  if (equals_lower(attribute, "lib-name"))
    field = &conn.lib_name;
  else if (equals_lower(attribute, "lib-ver"))
    field = &conn.lib_version;
  else
    return error_with("ERR Unrecognized option '", attribute, "'");
  if (!valid_client_attribute(value))
    return error_with("ERR ", attribute, " cannot contain spaces, newlines or special characters.");
  field->assign(value);
  return ok();
}

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
    conn.name = req.arg(1);
    return ok();
  }
  if (equals_lower(sub, "getname")) {
    if (!arity_fits(2))
      return subcommand_arity_error("client", sub);
    return conn.name.empty() ? reply::null() : reply::bulk(conn.name);
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

// ------------------------------------------------------------------ SELECT

reply select_command(request& req) {
  std::int64_t index = 0;
  if (!parse_integer(req.arg(0), index) || index < std::numeric_limits<int>::min() ||
      index > std::numeric_limits<int>::max())
    return reply::error_line("ERR value is not an integer or out of range");
  if (index != 0)
    return reply::error_line("ERR DB index is out of range");
  return ok();
}

// -------------------------------------------------------------------- INFO

enum info_section : unsigned {
  server_section = 1u << 0,
  clients_section = 1u << 1,
  persistence_section = 1u << 2,
  stats_section = 1u << 3,
  replication_section = 1u << 4,
  cluster_section = 1u << 5,
  keyspace_section = 1u << 6,
  every_section = (1u << 7) - 1,
};

struct named_section {
  std::string_view name;
  info_section bit;
};

constexpr named_section info_sections[] = {
    {"server", server_section},     {"clients", clients_section},         {"persistence", persistence_section},
    {"stats", stats_section},       {"replication", replication_section}, {"cluster", cluster_section},
    {"keyspace", keyspace_section},
};

// Redis's genInfoSectionDict: no argument means the default sections, as
// does `default`; `all` and `everything` mean every section we have.
unsigned chosen_sections(const request& req) noexcept {
  if (req.size() == 0)
    return every_section;
  unsigned chosen = 0;
  for (std::string_view arg : req.args) {
    if (equals_lower(arg, "default") || equals_lower(arg, "all") || equals_lower(arg, "everything")) {
      chosen |= every_section;
      continue;
    }
    for (const named_section& s : info_sections)
      if (equals_lower(arg, s.name))
        chosen |= s.bit;
  }
  return chosen;
}

// 40 random hex digits, drawn once per process, as Redis's run_id.
const std::string& run_id() {
  static const std::string id = [] {
    std::random_device device;
    std::mt19937_64 bits(static_cast<std::uint64_t>(device()) << 32 | device());
    static constexpr char hex[] = "0123456789abcdef";
    std::string out(40, '0');
    for (char& c : out)
      c = hex[bits() & 0xf];
    return out;
  }();
  return id;
}

void add_field(std::string& out, std::string_view key, std::string_view value) {
  out += key;
  out += ':';
  out += value;
  out += "\r\n";
}

void add_field(std::string& out, std::string_view key, std::uint64_t value) {
  add_field(out, key, std::to_string(value));
}

std::string os_name() {
  utsname name{};
  if (uname(&name) != 0)
    return "unknown";
  return std::string(name.sysname) + " " + name.release + " " + name.machine;
}

std::string compiler_version() {
#if defined(__GNUC__)
  return std::to_string(__GNUC__) + "." + std::to_string(__GNUC_MINOR__) + "." + std::to_string(__GNUC_PATCHLEVEL__);
#else
  return "0.0.0";
#endif
}

reply info_command(const router* registered_on, request& req) {
  const unsigned chosen = chosen_sections(req);
  const server* srv = req.conn != nullptr ? req.conn->owner : nullptr;
  const server_stats stats = srv != nullptr ? srv->stats() : server_stats{};
  const auto uptime = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(stats.uptime).count());
  std::string out;
  const auto begin = [&out](std::string_view title) {
    if (!out.empty())
      out += "\r\n";
    out += title;
    out += "\r\n";
  };
  if ((chosen & server_section) != 0) {
    begin("# Server");
    add_field(out, "redis_version", redis_compatible_version);
    add_field(out, "redis_git_sha1", "00000000");
    add_field(out, "redis_git_dirty", "0");
    add_field(out, "redis_build_id", "0");
    add_field(out, "redis_mode", "standalone");
    add_field(out, "os", os_name());
    add_field(out, "arch_bits", static_cast<std::uint64_t>(sizeof(void*) * 8));
    add_field(out, "multiplexing_api", "asio");
    add_field(out, "gcc_version", compiler_version());
    add_field(out, "process_id", static_cast<std::uint64_t>(getpid()));
    add_field(out, "process_supervised", "no");
    add_field(out, "run_id", run_id());
    add_field(out, "tcp_port", static_cast<std::uint64_t>(srv != nullptr ? srv->port() : 0));
    add_field(out, "server_time_usec",
              static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count()));
    add_field(out, "uptime_in_seconds", uptime);
    add_field(out, "uptime_in_days", uptime / (3600 * 24));
    add_field(out, "hz", "10");
    add_field(out, "configured_hz", "10");
    add_field(out, "executable", "");
    add_field(out, "config_file", "");
    add_field(out, "io_threads_active", "0");
    add_field(out, "coronet_version", version_string);
    add_field(out, "coronet_threads", static_cast<std::uint64_t>(srv != nullptr ? srv->options().threads : 0));
  }
  if ((chosen & clients_section) != 0) {
    begin("# Clients");
    add_field(out, "connected_clients", stats.connections_now);
    add_field(out, "cluster_connections", "0");
    add_field(out, "maxclients", static_cast<std::uint64_t>(srv != nullptr ? srv->options().max_connections : 0));
    add_field(out, "client_recent_max_input_buffer", "0");
    add_field(out, "client_recent_max_output_buffer", "0");
    add_field(out, "blocked_clients", "0");
    add_field(out, "tracking_clients", "0");
    add_field(out, "clients_in_timeout_table", "0");
    add_field(out, "total_blocking_keys", "0");
    add_field(out, "total_blocking_keys_on_nokey", "0");
  }
  if ((chosen & persistence_section) != 0) {
    begin("# Persistence");
    add_field(out, "loading", "0");
    add_field(out, "async_loading", "0");
    add_field(out, "rdb_changes_since_last_save", "0");
    add_field(out, "rdb_bgsave_in_progress", "0");
    add_field(out, "rdb_last_bgsave_status", "ok");
    add_field(out, "aof_enabled", "0");
    add_field(out, "aof_rewrite_in_progress", "0");
    add_field(out, "aof_last_bgrewrite_status", "ok");
    add_field(out, "aof_last_write_status", "ok");
  }
  if ((chosen & stats_section) != 0) {
    begin("# Stats");
    add_field(out, "total_connections_received", stats.connections_total);
    add_field(out, "total_commands_processed", stats.requests);
    add_field(out, "instantaneous_ops_per_sec", "0");
    add_field(out, "total_net_input_bytes", stats.bytes_in);
    add_field(out, "total_net_output_bytes", stats.bytes_out);
    add_field(out, "total_net_repl_input_bytes", "0");
    add_field(out, "total_net_repl_output_bytes", "0");
    add_field(out, "instantaneous_input_kbps", "0.00");
    add_field(out, "instantaneous_output_kbps", "0.00");
    add_field(out, "rejected_connections", stats.connections_rejected);
    add_field(out, "expired_keys", "0");
    add_field(out, "evicted_keys", "0");
    add_field(out, "keyspace_hits", "0");
    add_field(out, "keyspace_misses", "0");
    add_field(out, "pubsub_channels", "0");
    add_field(out, "pubsub_patterns", "0");
    add_field(out, "total_error_replies", stats.errors);
    add_field(out, "acl_access_denied_auth", routes_of(registered_on, req).auth_failures());
  }
  if ((chosen & replication_section) != 0) {
    begin("# Replication");
    add_field(out, "role", "master");
    add_field(out, "connected_slaves", "0");
    add_field(out, "master_failover_state", "no-failover");
    add_field(out, "master_repl_offset", "0");
    add_field(out, "repl_backlog_active", "0");
  }
  if ((chosen & cluster_section) != 0) {
    begin("# Cluster");
    add_field(out, "cluster_enabled", "0");
  }
  if ((chosen & keyspace_section) != 0)
    begin("# Keyspace");
  return reply::verbatim(out);
}

// ----------------------------------------------------------------- COMMAND

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

// ------------------------------------------------------------------- RESET

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

}  // namespace

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

std::int64_t redis_arity(const arity& args) noexcept {
  constexpr std::size_t cap = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max() - 1);
  const auto min = static_cast<std::int64_t>(args.min < cap ? args.min : cap);
  return args.min == args.max ? min + 1 : -(min + 1);
}

void register_redis_commands(router& r) {
  for (std::string_view name : redis_command_names)
    if (r.find(name) != nullptr)
      throw command_error("coronet::commands::register_redis_commands: command name '" + std::string(name) +
                          "' is already registered");
  using enum command_flags;
  const std::vector<std::string> connection_category = {"connection"};
  r.add(
      "hello", "handshakes: chooses RESP2 or RESP3, authenticates, names the connection",
      [registered_on = &r](request& req) { return hello_command(registered_on, req); }, arity::at_least(0));
  r.set_flags("hello", noscript | loading | stale | fast | noauth).set_acl_categories("hello", connection_category);
  r.add(
      "auth", "authenticates the connection with the server's password",
      [registered_on = &r](request& req) { return auth_command(registered_on, req); }, arity::at_least(1));
  r.set_flags("auth", noscript | loading | stale | fast | noauth).set_acl_categories("auth", connection_category);
  r.add("client", "this connection: SETNAME, GETNAME, ID, SETINFO, INFO, LIST, HELP", &client_command,
        arity::at_least(1));
  r.set_flags("client", noscript | loading | stale).set_acl_categories("client", connection_category);
  r.add("select", "selects database 0, the only one", &select_command, arity::exactly(1));
  r.set_flags("select", loading | stale | fast).set_acl_categories("select", connection_category);
  r.add(
      "info", "server information and counters, by section, as Redis's INFO",
      [registered_on = &r](request& req) { return info_command(registered_on, req); }, arity::at_least(0));
  r.set_flags("info", loading | stale).set_acl_categories("info", {"dangerous"});
  r.add(
      "command", "the command table: COUNT, LIST, INFO, DOCS, GETKEYS, HELP",
      [registered_on = &r](request& req) { return command_command(registered_on, req); }, arity::at_least(0));
  r.set_flags("command", loading | stale).set_acl_categories("command", connection_category);
  r.add("reset", "resets the connection: RESP2, no name, not authenticated", &reset_command, arity::exactly(0));
  r.set_flags("reset", noscript | loading | stale | fast | noauth).set_acl_categories("reset", connection_category);
}

}  // namespace coronet::commands
