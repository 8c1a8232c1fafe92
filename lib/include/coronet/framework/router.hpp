// coronet::router: maps command names to handlers (plain functions or coroutines).
#pragma once

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

#include "coronet/framework/reply.hpp"
#include "coronet/framework/request.hpp"
#include "coronet/task.hpp"

namespace coronet {

/// A coroutine command handler: from a request to its reply. It may await
/// anything (timers, other servers); while it runs, the connection's next
/// requests wait. An exception escaping it becomes `ERR internal error`.
using command_handler = std::function<task<reply>(request&)>;

/// A plain-function command handler, for commands that never wait: it is
/// called directly, with no coroutine frame, so it is the cheapest kind. An
/// exception escaping it becomes `ERR internal error`.
using plain_command_handler = std::function<reply(request&)>;

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

  /// Makes `alias` another name for the registered command `target`. Throws
  /// `command_error` if `target` is unknown or `alias` is taken or not acceptable.
  router& alias(std::string_view alias, std::string_view target);

  /// The command called `name` (or aliased so), compared case-insensitively;
  /// null if none.
  const command* find(std::string_view name) const noexcept;

  /// Every command, in registration order.
  std::span<const command> commands() const noexcept { return commands_; }

  /// Runs the request's command and yields its reply, exactly as a server
  /// does (it is the same code). Never throws for a bad request: yields
  /// `ERR unknown command 'x'` (name truncated to 128 bytes, non-printable
  /// bytes escaped), `ERR wrong number of arguments for 'x'`, or
  /// `ERR internal error` when the handler throws (the exception is logged,
  /// rate-limited). Cancellation (`operation_aborted`) propagates as an
  /// exception, so the caller can tell a timeout from a failure.
  task<reply> dispatch(request& req) const;

private:
  // Open addressing over `names`: slot = index + 1, 0 = empty; a power of two
  // at least twice names.size().
  struct hash_table {
    std::vector<detail::router_name> names;
    std::vector<std::uint32_t> slots;
  };

  void check_new_name(std::string_view name) const;
  router& add_command(std::string_view name, std::string_view description, command_handler handler,
                      plain_command_handler plain_handler, arity args);
  void insert(std::string_view name, std::size_t index);

  std::vector<command> commands_;
  // Lower- and upper-case spellings, hashed as they are: most peers send one
  // of the two, found without case folding.
  hash_table exact_;
  // Lower-case names, hashed case-folded: any other mix of cases.
  hash_table folded_;
};

/// The error reply for an unknown command, e.g. `ERR unknown command 'x'`.
reply unknown_command_reply(std::string_view name);

/// The error reply for a wrong argument count, e.g.
/// `ERR wrong number of arguments for 'x'`.
reply wrong_arity_reply(std::string_view name);

}  // namespace coronet
