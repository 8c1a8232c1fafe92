// coronet's version, and the Redis version it answers as.
#pragma once

#include <string_view>

namespace coronet {

/// coronet's version, `major.minor.patch`: the CMake project version (a test
/// keeps the two equal). Shown as `coronet_version` by `INFO`.
inline constexpr std::string_view version_string = "0.1.0";

/// The Redis version the built-in Redis commands report (`HELLO`'s `version`,
/// `INFO`'s `redis_version`). Client libraries choose features by it; 7.2 is
/// the version whose reply shapes (RESP3, `CLIENT SETINFO`, `COMMAND DOCS`)
/// the commands follow.
inline constexpr std::string_view redis_compatible_version = "7.2.0";

}  // namespace coronet
