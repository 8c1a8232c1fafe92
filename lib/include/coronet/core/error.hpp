// coronet's own error codes: the failures that are coronet's, not the OS's.
#pragma once

#include <system_error>
#include <type_traits>

namespace coronet {

/// Error codes that coronet itself reports, in `coronet::error_category()`.
///
/// They make `std::error_code`s: `ec == coronet::errc::timeout`. Each also
/// compares equal to the portable `std::errc` condition it is a case of, so
/// code written against the standard conditions keeps working.
enum class errc {
  /// An operation did not finish within the time it was given
  /// (`with_timeout`). Message "operation timed out"; compares equal to
  /// `std::errc::timed_out`, but not to `asio::error::timed_out`, which is
  /// an `error_code` of the system category (the OS's ETIMEDOUT) rather than a condition.
  timeout = 1,
};

/// The category of `coronet::errc` codes, named "coronet". One object for the
/// whole program (codes compare by category address); never throws.
const std::error_category& error_category() noexcept;

/// Makes `e` an error code of `coronet::error_category()`; lets
/// `std::error_code ec = coronet::errc::timeout;` compile.
std::error_code make_error_code(errc e) noexcept;

}  // namespace coronet

// Marks `coronet::errc` as an error code enumeration for `std::error_code`.
// (Hidden from Doxygen, which cannot place a std:: specialisation.)
/// @cond
template <>
struct std::is_error_code_enum<coronet::errc> : std::true_type {};
/// @endcond
