// MULTI, EXEC, DISCARD, WATCH and UNWATCH (redis_transaction.cpp).
#pragma once

#include "coronet/command/router.hpp"

namespace coronet::commands::redis {

// Registers `redis_transaction_command_names`; the caller has checked that
// none is taken.
void register_transaction_commands(router& r);

}  // namespace coronet::commands::redis
