// Which router a built-in command describes: the one serving the request.
#pragma once

#include "coronet/command/connection.hpp"
#include "coronet/command/request.hpp"
#include "coronet/command/router.hpp"
#include "coronet/server/server.hpp"

namespace coronet::detail {

// The router of the server the request came through, else the one the
// commands were registered on (a request dispatched without a server).
inline const router& routes_of(const router* registered_on, const request& req) noexcept {
  return req.conn != nullptr && req.conn->owner != nullptr ? req.conn->owner->routes() : *registered_on;
}

}  // namespace coronet::detail
