#include "server/security_attack.hpp"

#include <exception>
#include <string>

#include "coronet/core/detail/log_limiter.hpp"
#include "coronet/core/log.hpp"
#include "server/session.hpp"

namespace coronet::detail {
namespace {

log_limiter attack_log{"Possible SECURITY ATTACK detected"};

}  // namespace

void security_attack(session& s) noexcept {
  s.worker.metrics.security_attacks.add();
  try {
    std::string text =
        "Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: commands to a command "
        "port. This is likely due to an attacker attempting to use Cross Protocol Scripting to compromise the "
        "server. Connection from ";
    text += s.conn.peer.address().to_string();
    text += ':';
    text += std::to_string(s.conn.peer.port());
    text += " aborted.";
    attack_log.log(log_level::warning, text);
  } catch (const std::exception&) {
    attack_log.log(log_level::warning, "Possible SECURITY ATTACK detected: HTTP sent to a command port");
  }
}

}  // namespace coronet::detail
