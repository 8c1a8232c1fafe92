// INFO: the server's information and counters, by section, in Redis's
// field names (fields coronet has no counterpart for hold Redis's idle values).
// `redis-cli --stat` reads used_memory, connected_clients, blocked_clients,
// total_commands_processed, total_connections_received, bgsave_in_progress
// (found inside rdb_bgsave_in_progress), aof_rewrite_in_progress, loading and
// db<N>:keys; a field it misses prints as LONG_MIN.
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <initializer_list>
#include <random>
#include <string>
#include <string_view>

#include "commands/detail/ascii_case.hpp"
#include "commands/detail/redis_common.hpp"
#include "commands/detail/serving_router.hpp"
#include "coronet/command/auth_throttle.hpp"
#include "coronet/command/connection.hpp"
#include "coronet/commands/redis_commands.hpp"
#include "coronet/core/version.hpp"
#include "coronet/server/server.hpp"

namespace coronet::commands::redis {
namespace {

using detail::equals_lower;
using detail::routes_of;

enum info_section : unsigned {
  server_section = 1u << 0,
  clients_section = 1u << 1,
  persistence_section = 1u << 2,
  stats_section = 1u << 3,
  replication_section = 1u << 4,
  cluster_section = 1u << 5,
  keyspace_section = 1u << 6,
  memory_section = 1u << 7,
  every_section = (1u << 8) - 1,
};

struct named_section {
  std::string_view name;
  info_section bit;
};

constexpr named_section info_sections[] = {
    {"server", server_section},     {"clients", clients_section},         {"memory", memory_section},
    {"persistence", persistence_section},
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

// One INFO field; a number is written in decimal.
struct info_field {
  info_field(std::string_view k, std::string_view v) : key(k), value(v) {}
  info_field(std::string_view k, std::uint64_t v) : key(k), value(std::to_string(v)) {}

  std::string_view key;
  std::string value;
};

// Appends a section: its title and its `key:value` lines, a blank line
// before it unless it is the first.
void add_section(std::string& out, std::string_view title, std::initializer_list<info_field> fields) {
  if (!out.empty())
    out += "\r\n";
  out += title;
  out += "\r\n";
  for (const info_field& f : fields) {
    out += f.key;
    out += ':';
    out += f.value;
    out += "\r\n";
  }
}

// The process's resident set (Linux: /proc/self/statm's second field, in
// pages), as Redis's used_memory_rss; 0 when unknown.
std::uint64_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr)
    return 0;
  unsigned long long size = 0;
  unsigned long long resident = 0;
  const int read = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  const long page = sysconf(_SC_PAGESIZE);
  if (read != 2 || page <= 0)
    return 0;
  return resident * static_cast<std::uint64_t>(page);
}

// The peak resident set (getrusage's ru_maxrss, in KiB on Linux); 0 when unknown.
std::uint64_t peak_resident_bytes() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0 || usage.ru_maxrss < 0)
    return 0;
  return static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;
}

// Redis's bytesToHuman: 1023B, 1.50K, 12.25M, 1.00G.
std::string human_bytes(std::uint64_t n) {
  static constexpr char units[] = {'K', 'M', 'G', 'T', 'P'};
  if (n < 1024)
    return std::to_string(n) + "B";
  double d = static_cast<double>(n) / 1024;
  std::size_t unit = 0;
  while (d >= 1024 && unit + 1 < sizeof units) {
    d /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.2f%c", d, units[unit]);
  return text;
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

}  // namespace

reply info_command(const router* registered_on, request& req) {
  const unsigned chosen = chosen_sections(req);
  const server* srv = req.conn != nullptr ? req.conn->owner : nullptr;
  const server_stats stats = srv != nullptr ? srv->stats() : server_stats{};
  const auth_throttle* throttle = req.conn != nullptr ? req.conn->throttle : nullptr;
  const auto uptime = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(stats.uptime).count());
  const auto now_us = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  std::string out;
  if ((chosen & server_section) != 0)
    add_section(out, "# Server",
                {{"redis_version", redis_compatible_version},
                 {"redis_git_sha1", "00000000"},
                 {"redis_git_dirty", "0"},
                 {"redis_build_id", "0"},
                 {"redis_mode", "standalone"},
                 {"os", os_name()},
                 {"arch_bits", std::uint64_t{sizeof(void*) * 8}},
                 {"multiplexing_api", "asio"},
                 {"gcc_version", compiler_version()},
                 {"process_id", static_cast<std::uint64_t>(getpid())},
                 {"process_supervised", "no"},
                 {"run_id", run_id()},
                 {"tcp_port", std::uint64_t{srv != nullptr ? srv->port() : 0u}},
                 {"server_time_usec", now_us},
                 {"uptime_in_seconds", uptime},
                 {"uptime_in_days", uptime / (3600 * 24)},
                 {"hz", "10"},
                 {"configured_hz", "10"},
                 {"executable", ""},
                 {"config_file", ""},
                 {"io_threads_active", "0"},
                 {"coronet_version", version_string},
                 {"coronet_threads", static_cast<std::uint64_t>(srv != nullptr ? srv->options().threads : 0)}});
  if ((chosen & clients_section) != 0)
    add_section(out, "# Clients",
                {{"connected_clients", stats.connections_now},
                 {"cluster_connections", "0"},
                 {"maxclients", static_cast<std::uint64_t>(srv != nullptr ? srv->options().max_connections : 0)},
                 {"client_recent_max_input_buffer", "0"},
                 {"client_recent_max_output_buffer", "0"},
                 {"blocked_clients", "0"},
                 {"tracking_clients", "0"},
                 {"clients_in_timeout_table", "0"},
                 {"total_blocking_keys", "0"},
                 {"total_blocking_keys_on_nokey", "0"}});
  if ((chosen & memory_section) != 0) {
    // coronet keeps no dataset: the process's resident set is the honest figure for both.
    const std::uint64_t rss = resident_bytes();
    const std::uint64_t peak = std::max(peak_resident_bytes(), rss);
    add_section(out, "# Memory",
                {{"used_memory", rss},
                 {"used_memory_human", human_bytes(rss)},
                 {"used_memory_rss", rss},
                 {"used_memory_rss_human", human_bytes(rss)},
                 {"used_memory_peak", peak},
                 {"used_memory_peak_human", human_bytes(peak)},
                 {"maxmemory", "0"},
                 {"maxmemory_human", "0B"},
                 {"maxmemory_policy", "noeviction"},
                 {"mem_fragmentation_ratio", "1.00"},
                 {"mem_allocator", "libc"}});
  }
  if ((chosen & persistence_section) != 0)
    add_section(out, "# Persistence",
                {{"loading", "0"},
                 {"async_loading", "0"},
                 {"rdb_changes_since_last_save", "0"},
                 {"rdb_bgsave_in_progress", "0"},
                 {"rdb_last_bgsave_status", "ok"},
                 {"aof_enabled", "0"},
                 {"aof_rewrite_in_progress", "0"},
                 {"aof_last_bgrewrite_status", "ok"},
                 {"aof_last_write_status", "ok"}});
  if ((chosen & stats_section) != 0)
    add_section(out, "# Stats",
                {{"total_connections_received", stats.connections_total},
                 {"total_commands_processed", stats.requests},
                 {"instantaneous_ops_per_sec", "0"},
                 {"total_net_input_bytes", stats.bytes_in},
                 {"total_net_output_bytes", stats.bytes_out},
                 {"total_net_repl_input_bytes", "0"},
                 {"total_net_repl_output_bytes", "0"},
                 {"instantaneous_input_kbps", "0.00"},
                 {"instantaneous_output_kbps", "0.00"},
                 {"rejected_connections", stats.connections_rejected},
                 {"expired_keys", "0"},
                 {"evicted_keys", "0"},
                 {"keyspace_hits", "0"},
                 {"keyspace_misses", "0"},
                 {"pubsub_channels", stats.pubsub_channels},
                 {"pubsub_patterns", stats.pubsub_patterns},
                 {"total_error_replies", stats.errors},
                 {"acl_access_denied_auth", routes_of(registered_on, req).auth_failures()},
                 {"coronet_auth_delayed", throttle != nullptr ? throttle->delayed() : std::uint64_t{0}},
                 {"coronet_auth_refused", throttle != nullptr ? throttle->refused() : std::uint64_t{0}},
                 {"coronet_security_attacks", stats.security_attacks},
                 {"client_output_buffer_limit_disconnections", stats.pubsub_output_limit_disconnections},
                 {"coronet_pubsub_backplane", to_string(stats.pubsub_backplane)},
                 {"coronet_pubsub_backplane_forwarded", stats.pubsub_backplane_forwarded},
                 {"coronet_pubsub_backplane_received", stats.pubsub_backplane_received},
                 {"coronet_pubsub_backplane_dropped", stats.pubsub_backplane_dropped}});
  if ((chosen & replication_section) != 0)
    add_section(out, "# Replication",
                {{"role", "master"},
                 {"connected_slaves", "0"},
                 {"master_failover_state", "no-failover"},
                 {"master_repl_offset", "0"},
                 {"repl_backlog_active", "0"}});
  if ((chosen & cluster_section) != 0)
    add_section(out, "# Cluster", {{"cluster_enabled", "0"}});
  if ((chosen & keyspace_section) != 0)
    add_section(out, "# Keyspace", {});
  return reply::verbatim(out);
}

}  // namespace coronet::commands::redis
