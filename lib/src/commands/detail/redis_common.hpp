// What the Redis connection commands share: their handlers (one file per
// concern: redis_handshake.cpp, redis_client.cpp, redis_info.cpp,
// redis_command_table.cpp, redis_config.cpp) and the reply shapes and argument checks they
// have in common (redis_common.cpp), as Redis spells them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "coronet/command/request.hpp"
#include "coronet/command/response_writer.hpp"
#include "coronet/command/router.hpp"
#include "coronet/net/socket.hpp"
#include "coronet/core/task.hpp"
#include "coronet/protocol/reply.hpp"

namespace coronet::commands::redis {

// The handlers. `registered_on` is the router they were registered on, for
// a request dispatched without a server (see routes_of).
task<reply> hello_command(const router* registered_on, request& req);
task<reply> auth_command(const router* registered_on, request& req);
reply select_command(request& req);
reply reset_command(request& req);
reply client_command(request& req);
reply info_command(const router* registered_on, request& req);
reply command_command(const router* registered_on, request& req);
reply config_command(request& req);
void subscribe_command(request& req, response_writer& out);
void unsubscribe_command(request& req, response_writer& out);
void psubscribe_command(request& req, response_writer& out);
void punsubscribe_command(request& req, response_writer& out);
void publish_command(request& req, response_writer& out);
reply pubsub_command(request& req);

// Redis's string2ll: an optional '-', then digits without a leading zero
// ("0" alone excepted), no blanks, no '+', within a signed 64-bit integer.
bool parse_integer(std::string_view s, std::int64_t& out) noexcept;

// An error whose message is `prefix`, `text` (odd bytes as \xHH, see
// append_quoted_name, cut at `limit`) and `suffix`.
reply error_with(std::string_view prefix, std::string_view text, std::string_view suffix,
                 std::size_t limit = std::string_view::npos);

reply ok();
reply syntax_error();

// `ERR wrong number of arguments for 'container|sub' command`.
reply subcommand_arity_error(std::string_view container, std::string_view sub);

// `ERR unknown subcommand 'sub'. Try CONTAINER HELP.`
reply unknown_subcommand(std::string_view sub, std::string_view container);

// Redis's addReplyHelp: a header, the lines, then HELP, as simple strings.
reply help_reply(std::string_view container, std::initializer_list<std::string_view> lines);

// `host:port`, an IPv6 host in brackets.
std::string format_address(const tcp::endpoint& e);

// Redis's validateClientAttr: printable ASCII without blanks.
bool valid_client_attribute(std::string_view value) noexcept;

// What CLIENT SETNAME and HELLO SETNAME answer to a name that is not.
reply bad_client_name();

}  // namespace coronet::commands::redis
