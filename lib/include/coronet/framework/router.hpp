// coronet::router: maps command names to coroutine handlers.
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

/// A command handler: a coroutine from a request to its reply. It may await
/// anything (timers, other servers); while it runs, the connection's next
/// requests wait. An exception escaping it becomes `ERR internal error`.
using command_handler = std::function<task<reply>(request&)>;

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
  /// The handler.
  command_handler handler;
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

/// Maps case-insensitive command names (and aliases) to handlers.
///
/// Build it before a server starts; it is then only read (lookups take no
/// lock and allocate nothing), so one router may serve many threads.
class router {
public:
  /// Longest accepted command name.
  static constexpr std::size_t max_name_length = 64;

  /// Registers `name` with its description, handler and accepted argument
  /// counts. Throws `command_error` if `name` (compared case-insensitively)
  /// is already a command or an alias, or is not acceptable.
  router& add(std::string_view name, std::string_view description, command_handler handler, arity args = {});

  /// Makes `alias` another name for the registered command `target`. Throws
  /// `command_error` if `target` is unknown or `alias` is taken or not acceptable.
  router& alias(std::string_view alias, std::string_view target);

  /// The command called `name` (or aliased so), compared case-insensitively;
  /// null if none.
  const command* find(std::string_view name) const noexcept;

  /// Every command, in registration order.
  std::span<const command> commands() const noexcept { return commands_; }

  /// Runs the request's command and yields its reply. Never throws for a
  /// bad request: yields `ERR unknown command 'x'` (name truncated to 128
  /// bytes, non-printable bytes escaped), `ERR wrong number of arguments for
  /// 'x'`, or `ERR internal error` when the handler throws (the exception is
  /// logged). Cancellation (`operation_aborted`) propagates as an exception
  /// so the caller can report a timeout.
  task<reply> dispatch(request& req) const;

  /// The first half of `dispatch`, for servers that run handlers themselves:
  /// the command to run for `req`, or null after setting `error` to the
  /// unknown-command or wrong-arity reply. Allocates only for that reply.
  const command* route(const request& req, reply& error) const;

  /// The reply for a handler of `c` that threw `failure`: logs it
  /// (rate-limited) and returns `ERR internal error`.
  static reply handler_failed(const command& c, std::exception_ptr failure);

  /// True if `failure` is a cancellation (`operation_aborted`), which
  /// `dispatch` propagates instead of turning into an error reply.
  static bool is_cancellation(std::exception_ptr failure) noexcept;

private:
  struct entry {
    std::string name;  // lower case
    std::size_t index;
  };

  void check_new_name(std::string_view name) const;
  void insert(std::string lower, std::size_t index);

  std::vector<command> commands_;
  std::vector<entry> names_;
  // Open-addressing hash of names_ (case-folded FNV-1a): slot = index + 1,
  // 0 = empty; a power of two at least twice names_.size().
  std::vector<std::uint32_t> table_;
};

/// The error reply for an unknown command, e.g. `ERR unknown command 'x'`.
reply unknown_command_reply(std::string_view name);

/// The error reply for a wrong argument count, e.g.
/// `ERR wrong number of arguments for 'x'`.
reply wrong_arity_reply(std::string_view name);

}  // namespace coronet
