// The check every set of built-in commands makes before it registers any:
// all or nothing, so a clash leaves the router as it was.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "coronet/command/router.hpp"

namespace coronet::detail {

// Throws command_error, naming `who` and the name, if any of `names` is
// registered on `r` already.
inline void require_unregistered(const router& r, std::span<const std::string_view> names, std::string_view who) {
  for (std::string_view name : names)
    if (r.find(name) != nullptr)
      throw command_error(std::string(who) + ": command name '" + std::string(name) + "' is already registered");
}

}  // namespace coronet::detail
