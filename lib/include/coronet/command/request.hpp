// A parsed command as a handler sees it.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace coronet {

class connection;

/// A command name and its arguments, as views into the connection's read
/// buffer (nothing is copied).
///
/// Lifetime: the views stay valid only while the session keeps the request's
/// bytes in its buffer, i.e. until the handler's reply has been produced. A
/// handler that needs a value after that must copy it.
struct request {
  /// The command name exactly as the peer sent it (not case-folded).
  std::string_view name;

  /// The arguments after the name, in order; may contain any bytes.
  std::span<const std::string_view> args;

  /// The connection the request arrived on; null when the request was not
  /// made by a server (e.g. a handler called directly in a test).
  connection* conn = nullptr;

  /// Number of arguments, not counting the name.
  std::size_t size() const noexcept { return args.size(); }

  /// Argument `i` (0 is the first after the name); an empty view when
  /// `i >= size()`, so check `size()` where an empty argument is meaningful.
  std::string_view arg(std::size_t i) const noexcept { return i < args.size() ? args[i] : std::string_view{}; }

  /// The request whose name is `words[0]` and whose arguments are the rest,
  /// as a codec's parser produces them; empty `words` give an empty name and
  /// no arguments.
  static request from_words(std::span<const std::string_view> words) noexcept {
    if (words.empty())
      return {};
    return {words.front(), words.subspan(1), nullptr};
  }
};

}  // namespace coronet
