// coronet::router: maps command names to handlers (plain functions or coroutines).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "coronet/protocol/reply.hpp"
#include "coronet/command/request.hpp"
#include "coronet/command/response_writer.hpp"
#include "coronet/core/task.hpp"

namespace coronet {

/// A coroutine command handler: from a request to its reply. It may await
/// anything (timers, other servers); while it runs, the connection's next
/// requests wait. An exception escaping it becomes `ERR internal error`.
using command_handler = std::function<task<reply>(request&)>;

/// A plain-function command handler, for commands that never wait: it is
/// called directly, with no coroutine frame, so it is the cheapest kind. An
/// exception escaping it becomes `ERR internal error`.
using plain_command_handler = std::function<reply(request&)>;

/// A writing command handler, for commands that never wait: it writes its
/// reply through a `response_writer`, which in a line or RESP session of a
/// server encodes it straight into the connection's output, with no `reply`
/// object built and destroyed; the cheapest kind. Called directly, with no
/// coroutine frame. An exception escaping it before it wrote becomes `ERR
/// internal error`; after, it is logged and the reply stands.
using writing_command_handler = std::function<void(request&, response_writer&)>;

/// How many arguments (not counting the command name) a command accepts.
struct arity {
  /// Fewest arguments.
  std::size_t min = 0;
  /// Most arguments; `arity::unlimited` for no bound.
  std::size_t max = unlimited;
  /// No upper bound.
  static constexpr std::size_t unlimited = std::numeric_limits<std::size_t>::max();

  /// Exactly `n` arguments.
  static constexpr arity exactly(std::size_t n) noexcept { return {n, n}; }
  /// At least `n` arguments.
  static constexpr arity at_least(std::size_t n) noexcept { return {n, unlimited}; }
  /// Between `lo` and `hi` arguments, inclusive.
  static constexpr arity between(std::size_t lo, std::size_t hi) noexcept { return {lo, hi}; }
};

/// Redis's command flags, as `COMMAND INFO` shows them (a bit set; combine
/// with `|`). Only `noauth` changes what the router does: a command with it
/// runs before the connection has authenticated (see `router::dispatch`).
/// The others are documentation for clients that read the command table.
enum class command_flags : std::uint32_t {
  none = 0,
  write = 1u << 0,     ///< `write`: may modify data.
  readonly = 1u << 1,  ///< `readonly`: reads data only.
  admin = 1u << 2,     ///< `admin`: an administrative command.
  noscript = 1u << 3,  ///< `noscript`: not allowed from scripts.
  loading = 1u << 4,   ///< `loading`: allowed while a dataset loads.
  stale = 1u << 5,     ///< `stale`: allowed on a stale replica.
  fast = 1u << 6,      ///< `fast`: constant time, never blocks (ACL category `@fast`, else `@slow`).
  noauth = 1u << 7,    ///< `no_auth`: runs before AUTH; the router lets it through the NOAUTH gate.
};

/// The union of two flag sets.
constexpr command_flags operator|(command_flags a, command_flags b) noexcept {
  return static_cast<command_flags>(static_cast<std::uint32_t>(a) | static_cast<std::uint32_t>(b));
}

/// True when every flag of `wanted` is in `flags`.
constexpr bool has_flags(command_flags flags, command_flags wanted) noexcept {
  return (static_cast<std::uint32_t>(flags) & static_cast<std::uint32_t>(wanted)) == static_cast<std::uint32_t>(wanted);
}

/// One registered command.
struct command {
  /// Name in lower case, as registered.
  std::string name;
  /// One-line description, shown by `help`.
  std::string description;
  /// Accepted argument counts.
  arity args;
  /// The handler, when it is a coroutine; empty for a plain function.
  command_handler handler;
  /// The handler, when it is a plain function; empty for a coroutine.
  plain_command_handler plain_handler;
  /// Other names for the same command, in lower case.
  std::vector<std::string> aliases;
  /// Redis flags (`router::set_flags`); `none` unless set.
  command_flags flags = command_flags::none;
  /// ACL categories without the `@` (e.g. `connection`), shown by `COMMAND
  /// INFO` after those the flags imply (`router::set_acl_categories`).
  std::vector<std::string> acl_categories;
  /// The handler, when it writes through a `response_writer`; empty otherwise.
  writing_command_handler writing_handler;
};

/// Thrown by `router::add` and `router::alias` for a name already taken or
/// not acceptable (empty, longer than `router::max_name_length`, or
/// containing blanks or control characters).
class command_error : public std::invalid_argument {
public:
  using std::invalid_argument::invalid_argument;
};

namespace detail {
// One spelling of a command name in the router's hash tables.
struct router_name {
  std::string name;
  std::size_t index;  // into the router's commands
};
// A name of at most 8 bytes as the router compares it: its bytes in one word
// (lower case), and the case bit of each letter, so that `(word | case_bits)
// == lower` holds for exactly the spellings that differ in case.
struct router_short_name {
  std::uint64_t lower = 0;
  std::uint64_t case_bits = 0;
  std::uint32_t length = 0;  // 0: an empty slot
  std::uint32_t index = 0;   // into the router's commands
  // The command's writing handler when it is a plain function, called by the
  // direct lane without going through std::function; null otherwise.
  void (*direct)(request&, response_writer&) = nullptr;
  // The command's argument counts (arity), the largest clamped to 32 bits.
  std::uint32_t min_args = 0;
  std::uint32_t max_args = 0;
};
class dispatch_awaiter;
struct direct_lane;
}  // namespace detail

/// Maps case-insensitive command names (and aliases) to handlers.
///
/// Build it before a server starts; it is then only read (lookups take no
/// lock and allocate nothing), so one router may serve many threads.
class router {
public:
  /// Longest accepted command name.
  static constexpr std::size_t max_name_length = 64;

  /// Registers `name` with its description, coroutine handler and accepted
  /// argument counts. Throws `command_error` if `name` (compared
  /// case-insensitively) is already a command or an alias, or is not
  /// acceptable, if `handler` is empty, or if `args.min > args.max`.
  router& add(std::string_view name, std::string_view description, command_handler handler, arity args = {});

  /// As above, for a plain-function handler (`reply(request&)`), which runs
  /// without a coroutine frame. Throws as above.
  router& add(std::string_view name, std::string_view description, plain_command_handler handler, arity args = {});

  /// As above, for a writing handler (`void(request&, response_writer&)`),
  /// which writes its reply straight into the connection's output. Throws as above.
  router& add(std::string_view name, std::string_view description, writing_command_handler handler, arity args = {});

  /// Makes `alias` another name for the registered command `target`. Throws
  /// `command_error` if `target` is unknown or `alias` is taken or not acceptable.
  router& alias(std::string_view alias, std::string_view target);

  /// Sets the Redis flags of the registered command `name` (or alias),
  /// replacing its former flags. Throws `command_error` if `name` is unknown.
  router& set_flags(std::string_view name, command_flags flags);

  /// Sets the ACL categories (without `@`) of the registered command `name`
  /// (or alias), shown by `COMMAND INFO` and used as the `group` of `COMMAND
  /// DOCS`. Throws `command_error` if `name` is unknown.
  router& set_acl_categories(std::string_view name, std::vector<std::string> categories);

  /// The command called `name` (or aliased so), compared case-insensitively;
  /// null if none.
  const command* find(std::string_view name) const noexcept;

  /// Every command, in registration order.
  std::span<const command> commands() const noexcept { return commands_; }

  /// Runs the request's command and yields its reply, exactly as a server
  /// does (it is the same code). Never throws for a bad request; the checks
  /// run in Redis's order:
  /// 1. an unknown name: `unknown_command_reply` (`ERR unknown command 'x',
  ///    with args beginning with: 'a' `);
  /// 2. a wrong argument count: `wrong_arity_reply` (`ERR wrong number of
  ///    arguments for 'x' command`, with the registered name);
  /// 3. a connection that has not authenticated (`connection::authenticated`
  ///    false) to a server with a password (`server_options::password`),
  ///    for a command without `command_flags::noauth`: `NOAUTH
  ///    Authentication required.` (no gate for a request without a connection
  ///    or a server);
  /// 4. a connection subscribed to channels or patterns in RESP2
  ///    (`connection::subscriptions` not 0, `protover` 2), for a command other
  ///    than `subscribe`, `unsubscribe`, `psubscribe`, `punsubscribe`, `ping`,
  ///    `quit` and `reset`: Redis's `ERR Can't execute 'x': only (P|S)SUBSCRIBE
  ///    / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`;
  /// 5. the handler; `ERR internal error` when it throws (the exception is
  ///    logged, rate-limited).
  /// Cancellation (`operation_aborted`) propagates as an exception, so the
  /// caller can tell a timeout from a failure.
  task<reply> dispatch(request& req) const;

  /// Counts a failed authentication (AUTH or HELLO AUTH with a wrong
  /// password) on a connection this router serves. Thread-safe.
  void count_auth_failure() const noexcept { auth_failures_.count.fetch_add(1, std::memory_order_relaxed); }

  /// Failed authentications counted so far (INFO's `acl_access_denied_auth`).
  /// Thread-safe.
  std::uint64_t auth_failures() const noexcept { return auth_failures_.count.load(std::memory_order_relaxed); }

private:
  // Open addressing over `names`: slot = index + 1, 0 = empty; a power of two
  // at least twice names.size().
  struct hash_table {
    std::vector<detail::router_name> names;
    std::vector<std::uint32_t> slots;
  };

  // A counter that copies its value, so the router stays copyable.
  struct relaxed_counter {
    relaxed_counter() = default;
    relaxed_counter(const relaxed_counter& other) noexcept : count(other.count.load(std::memory_order_relaxed)) {}
    relaxed_counter& operator=(const relaxed_counter& other) noexcept {
      count.store(other.count.load(std::memory_order_relaxed), std::memory_order_relaxed);
      return *this;
    }
    mutable std::atomic<std::uint64_t> count{0};
  };

  void check_new_name(std::string_view name) const;
  command& registered(std::string_view name);
  router& add_command(std::string_view name, std::string_view description, command_handler handler,
                      plain_command_handler plain_handler, arity args,
                      writing_command_handler writing_handler = {});
  void insert(std::string_view name, std::size_t index);
  // The dispatch path probes the short names itself, without a call.
  friend class detail::dispatch_awaiter;
  friend struct detail::direct_lane;
  void insert_short(std::string_view name, std::size_t index);
  const detail::router_short_name* find_short_entry(std::string_view name) const noexcept;
  const command* find_short(std::string_view name) const noexcept;

  std::vector<command> commands_;
  // Every name of at most 8 bytes, found in any case by one word compare
  // (open addressing, a power of two at least twice the names); longer names
  // are in the two tables below.
  std::vector<detail::router_short_name> short_;
  std::size_t short_count_ = 0;
  std::size_t short_mask_ = 0;  // short_.size() - 1
  unsigned short_shift_ = 64;
  // Lower- and upper-case spellings, hashed as they are: most peers send one
  // of the two, found without case folding.
  hash_table exact_;
  // Lower-case names, hashed case-folded: any other mix of cases.
  hash_table folded_;
  relaxed_counter auth_failures_;
};

/// The error reply for an unknown command, built as Redis 7 builds it:
/// `ERR unknown command 'x', with args beginning with: 'a' 'b' ` (each
/// argument quoted and followed by a space; none: the line ends with `: `).
/// The name is cut at 128 bytes; arguments are added while the list is
/// shorter than 128 bytes, each cut so that the list stays within 128 bytes
/// of argument text. Bytes outside printable ASCII, `'` and `\` are written
/// `\xHH` (Redis sends them raw), so the line stays readable and unambiguous.
/// Throws only `std::bad_alloc`.
reply unknown_command_reply(std::string_view name, std::span<const std::string_view> args = {});

/// The error reply for a wrong argument count, as Redis words it:
/// `ERR wrong number of arguments for 'x' command`. Throws only `std::bad_alloc`.
reply wrong_arity_reply(std::string_view name);

/// The error reply for a command refused before authentication:
/// `NOAUTH Authentication required.` (Redis's text).
reply noauth_reply();

}  // namespace coronet
