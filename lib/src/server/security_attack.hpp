// What a command session does with HTTP sent to its port (see command/http_probe.hpp).
#pragma once

namespace coronet::detail {

struct session;

// Counts the attempt (server_stats::security_attacks), logs it at most once a second, as
// redis-server's "Possible SECURITY ATTACK detected", and leaves the connection to close
// without a reply (the session ends once its earlier replies are out). Never throws.
void security_attack(session& s) noexcept;

}  // namespace coronet::detail
