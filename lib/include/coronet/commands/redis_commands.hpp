// The Redis connection-handshake commands: HELLO, AUTH, CLIENT, SELECT, INFO,
// COMMAND, RESET, CONFIG and Pub/Sub, in Redis 7.2's reply shapes (RESP2 and RESP3).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "coronet/command/router.hpp"

namespace coronet::commands {

/// The names `register_redis_commands` registers.
inline constexpr std::array<std::string_view, 14> redis_command_names = {
    "hello", "auth",      "client",      "select",     "info",         "command", "reset",
    "config", "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "publish", "pubsub"};

/// The transaction commands `register_redis_commands` registers too.
inline constexpr std::array<std::string_view, 5> redis_transaction_command_names = {"multi", "exec", "discard", "watch",
                                                                                    "unwatch"};

/// Registers the commands a Redis client library sends on connect, so that
/// any client connects with its default options (`register_builtins` calls
/// it; call it directly only on a router without the built-ins). Replies
/// follow Redis 7.2 and are encoded in the RESP version the connection chose
/// (`connection::protover`); below, "map" is a RESP3 map and a flat array
/// of keys and values in RESP2, "verbatim" a RESP3 verbatim string and a
/// bulk string in RESP2. Errors are Redis's texts.
///
/// - `HELLO [protover [AUTH user pass] [SETNAME name]]` — switches to RESP
///   `protover` (2 or 3; `NOPROTO unsupported protocol version` otherwise,
///   `ERR Protocol version is not an integer or out of range` for a
///   non-number), authenticates as `AUTH` does, names the connection, then
///   replies (already in the new version) a map: `server` "redis",
///   `version` `redis_compatible_version`, `proto`, `id` (integers), `mode`
///   "standalone", `role` "master", `modules` (empty array). Without
///   protover it only replies. An unknown option: `ERR Syntax error in HELLO
///   option 'x'`; unauthenticated without AUTH: Redis's `NOAUTH HELLO must be
///   called with the client already authenticated...`.
/// - `AUTH [user] pass` — `OK`, or `WRONGPASS invalid username-password pair
///   or user is disabled.`; the only user is `default`. `AUTH pass` on a
///   server without a password: `ERR AUTH <password> called without any
///   password configured for the default user. Are you sure your
///   configuration is correct?` (`AUTH default x` is then `OK`, as Redis's
///   `nopass` user). Passwords are compared in constant time; failures are
///   counted (`router::count_auth_failure`) and logged at most once a second.
/// - `CLIENT SETNAME name` (`OK`; an empty name clears it), `CLIENT GETNAME`
///   (bulk, or null), `CLIENT ID` (integer), `CLIENT SETINFO LIB-NAME|LIB-VER
///   value` (`OK`), `CLIENT INFO` (verbatim: one line, `id=.. addr=..
///   laddr=.. fd=.. name=.. age=.. idle=0 flags=N db=0 ... resp=..
///   lib-name=.. lib-ver=..` and `\n`), `CLIENT LIST [TYPE type | ID id...]`
///   (verbatim, the same line) and `CLIENT HELP`. LIST shows the calling
///   connection only: the others live on other threads, and the server
///   keeps no list of them. Fields the server does not track have Redis's
///   values for an idle client (`qbuf=0`, `multi=-1`, `user=default`...).
/// - `SELECT index` — `OK` for 0 (the only database); `ERR DB index is out of
///   range` for another integer; `ERR value is not an integer or out of
///   range` otherwise.
/// - `INFO [section...]` — verbatim: `# Server`, `# Clients`,
///   `# Persistence`, `# Stats`, `# Replication`, `# Cluster` and
///   `# Keyspace` sections of `key:value` lines ending CRLF, an empty line
///   between sections, with `server::stats()`, `server::port()` and
///   `coronet_version`; sections chosen case-insensitively, `default`,
///   `all` and `everything` as Redis. Outside a server the counters are 0.
/// - `COMMAND` / `COMMAND INFO [name...]` — an array of 10-element entries:
///   name, arity (Redis's sign: n arguments exactly -> n+1, at least n ->
///   -(n+1)), flags (set of simple strings), first key, last key, step (0),
///   ACL categories (set of `@x` simple strings), tips, key specs,
///   subcommands (empty sets); null for an unknown name. `COMMAND COUNT`
///   (integer), `COMMAND LIST` (array of bulk names), `COMMAND DOCS
///   [name...]` (map of name -> map `summary`, `group`), `COMMAND GETKEYS`
///   (Redis's errors: no command has keys) and `COMMAND HELP`. Commands
///   are those of the serving router (aliases excluded).
/// - `RESET` — `RESET` (simple string): back to RESP2, no name, and not
///   authenticated if the server has a password.
/// - `CONFIG GET pattern [pattern...]` — a map of the parameters whose
///   names match any of the glob patterns (Redis's `*`, `?`, `[...]`,
///   case-insensitive), each once, with the value in force: `save` "" and
///   `appendonly` "no" (nothing is persisted), `databases` 1, `maxmemory` 0,
///   `maxmemory-policy` "noeviction", `bind` (`server_options::host`),
///   `port` and `tls-port` (the first RESP listener without and with TLS; 0
///   for none), `maxclients`, `timeout` (`idle_timeout`, seconds),
///   `tcp-keepalive`, `proto-max-bulk-len` (`max_bulk_bytes`),
///   `client-query-buffer-limit` (`max_query_buffer_bytes`), `io-threads`
///   (`threads`). No match: an empty map. Outside a server: the defaults of
///   `server_options`, ports 0. `CONFIG SET`, `RESETSTAT` and `REWRITE`:
///   `ERR CONFIG SET is not supported: the server is configured when it
///   starts` (with the subcommand's name); `CONFIG HELP` as Redis.
/// - `SUBSCRIBE channel...`, `UNSUBSCRIBE [channel...]`, `PSUBSCRIBE
///   pattern...`, `PUNSUBSCRIBE [pattern...]`, `PUBLISH channel message`,
///   `PUBSUB CHANNELS [pattern] | NUMSUB [channel...] | NUMPAT | HELP` —
///   Pub/Sub in redis-server 7.0's shapes (docs/protocols.md): a
///   confirmation frame per name (RESP3: a push), messages delivered through
///   the server (`server::publish`), `PUBLISH` answering the number of
///   subscriptions reached; while subscribed in RESP2 only these, `PING`,
///   `QUIT` and `RESET` run. Subscribing needs a RESP connection of a
///   server (`ERR Pub/Sub subscriptions need a RESP connection to a
///   server` elsewhere); outside a server `PUBLISH` answers 0 and `PUBSUB`
///   empty results.
///
/// - `MULTI`, `EXEC`, `DISCARD` (`redis_transaction_command_names`) — a
///   transaction as Redis 7.0 runs one: see docs/guide.md, "Transactions".
///   A RESP or line session queues the commands after `MULTI` (`QUEUED`)
///   and runs them at `EXEC`; errors as Redis's (`ERR MULTI calls can not be
///   nested`, `ERR EXEC without MULTI`, `ERR DISCARD without MULTI`,
///   `EXECABORT Transaction discarded because of previous errors.`). Over
///   HTTP and raw, `MULTI` answers `ERR MULTI is not available over this
///   protocol`. `WATCH` answers `ERR WATCH is not supported: this server keeps
///   no keys to watch` (inside a transaction Redis's `ERR WATCH inside MULTI
///   is not allowed`); `UNWATCH` answers `OK`. `RESET` discards a transaction.
///
/// Subcommands are case-insensitive; an unknown one is `ERR unknown
/// subcommand 'x'. Try CLIENT HELP.`, a wrong count `ERR wrong number of
/// arguments for 'client|setname' command`, as Redis says. With no
/// connection (`request::conn` null) the commands act on a scratch one.
///
/// Throws `command_error`, leaving `r` unchanged, if one of
/// `redis_command_names` or `redis_transaction_command_names` is taken;
/// `std::bad_alloc` if memory runs out.
void register_redis_commands(router& r);

/// True when `attempt` equals `secret`, in a time that depends only on
/// `attempt`'s length (not on where the two differ, nor on `secret`), so that
/// timing tells a peer nothing about the password.
bool constant_time_equal(std::string_view secret, std::string_view attempt) noexcept;

/// A command's arity as Redis counts it (the name included): `n + 1` for
/// exactly `n` arguments, `-(min + 1)` for a range or no upper bound.
std::int64_t redis_arity(const arity& args) noexcept;

}  // namespace coronet::commands
