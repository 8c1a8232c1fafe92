// The built-in commands: timestamp, ping, echo, help, quit, stats, and the
// Redis handshake commands (redis_commands.hpp).
#pragma once

#include "coronet/commands/redis_commands.hpp"
#include "coronet/commands/timestamp.hpp"
#include "coronet/protocol/reply.hpp"
#include "coronet/command/request.hpp"
#include "coronet/command/router.hpp"
#include "coronet/core/task.hpp"

namespace coronet::commands {

/// Registers the built-in commands on `r` (opt-in; call once, before the
/// server starts), then the Redis handshake commands of
/// `register_redis_commands` (HELLO, AUTH, CLIENT, SELECT, INFO, COMMAND,
/// RESET, and MULTI, EXEC, DISCARD, WATCH, UNWATCH). Data values are bulk strings; status replies (`PONG`, `OK`) are
/// simple strings, as in Redis. Replies are shown as the `line` protocol
/// prints them:
///
/// - `timestamp` (alias `timetampe`, the original service's spelling) — the server's
///   local time in `ctime` form, `Sun May 27 21:43:58 2018` (bulk);
///   `timestamp unix` — seconds since the Unix epoch, in decimal (bulk);
///   `timestamp iso` — UTC ISO-8601 with milliseconds,
///   `2018-05-27T13:43:58.123Z` (bulk). The format name is case-insensitive;
///   any other is `ERR unknown format 'x'` (cut at 128 bytes, as unknown
///   command names are). Allocates nothing in steady state.
/// - `ping [msg]` — `PONG` (simple string), or `msg` back (bulk). Allocates
///   nothing in steady state for a `msg` of up to `reply::inline_capacity`
///   bytes. Runs before AUTH (Redis would refuse it), for health checks.
/// - `echo msg` — `msg` back (bulk).
/// - `help [name]` — one bulk entry per command, in registration order:
///   `name - description`, followed by ` (alias: a)` / ` (aliases: a, b)`
///   when it has aliases; as an array. With `name`: that command's entry
///   alone (bulk), or `ERR unknown command 'x'`. Lists the commands of the
///   router serving the request (`request::conn->owner`), else of `r`, which
///   then must not have moved since this call (the same holds for HELLO,
///   AUTH, INFO and COMMAND). `COMMAND` is Redis's command table, no longer
///   an alias of `help`.
/// - `quit [anything]` — `OK` (simple string); the connection is closed once
///   the reply is sent (`connection::close_after_reply`). Runs before AUTH.
/// - `stats` — the serving server's counters (`server::stats()`) as an array
///   of name/value pairs, names as bulk strings and values as integers:
///   `connections_now`, `connections_total`, `connections_rejected`,
///   `requests`, `errors`, `bytes_in`, `bytes_out`, `uptime_seconds`,
///   `proxy_header_errors`, `draining` and `maintenance` (1 or 0: the
///   instance's state as a load balancer's agent-check sees it), then
///   `proxy_health_checks`.
///   `ERR stats unavailable` when the request did not come through a server.
///
/// Each command carries Redis's flags (`command::flags`; COMMAND INFO shows
/// them). Argument counts are enforced by the router (`ERR wrong number of
/// arguments for 'x' command`). Throws `command_error`, leaving `r`
/// unchanged, if any of these names, aliases, `redis_command_names` or
/// `redis_transaction_command_names` is already registered; `std::bad_alloc` if memory runs out (`r` may then
/// hold some of the commands).
void register_builtins(router& r);

}  // namespace coronet::commands
