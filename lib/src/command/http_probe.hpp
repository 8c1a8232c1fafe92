// HTTP sent to a command port: a browser or a forged cross-site request (a page posting to
// 127.0.0.1:6379) arriving as inline commands. Recognised, as redis-server does, from
// command names no command has (`POST`, `Host:`) or a request line (`GET / HTTP/1.1`), on
// the path of an unknown command only: the known commands pay nothing for it.
#pragma once

#include "coronet/command/request.hpp"

namespace coronet::detail {

// True if `req`, whose name no command has, is a line of an HTTP request: the name is
// `POST` or `Host:` (any case), or the request is `<method> <target> HTTP/<version>`.
bool looks_like_http(const request& req) noexcept;

// On a RESP or line connection, asks for the connection to be closed without a reply
// when `req` (an unknown command) looks like HTTP. Call on the unknown-command path only.
void refuse_http_probe(const request& req) noexcept;

}  // namespace coronet::detail
