// SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH and PUBSUB, in redis-server 7.0's
// reply shapes. The subscriptions are the connection's (server/pubsub/pubsub_client.hpp);
// their confirmations are several frames for one request, appended straight to the output.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "commands/detail/ascii_case.hpp"
#include "commands/detail/redis_common.hpp"
#include "coronet/command/connection.hpp"
#include "coronet/command/response_writer.hpp"
#include "coronet/server/server.hpp"
#include "server/pubsub/pubsub_client.hpp"

namespace coronet::commands::redis {
namespace {

using detail::equals_lower;

enum class pubsub_op { subscribe, unsubscribe, psubscribe, punsubscribe };

// The connection's subscriptions, or null (and an error written) where there are none to
// keep: outside a server's RESP connections.
coronet::detail::pubsub_client* subscriptions_of(request& req, response_writer& out) {
  coronet::detail::pubsub_client* client = req.conn != nullptr ? req.conn->pubsub_state() : nullptr;
  if (client == nullptr || out.output() == nullptr) {
    out.err("Pub/Sub subscriptions need a RESP connection to a server");
    return nullptr;
  }
  return client;
}

void run(pubsub_op op, request& req, response_writer& out) {
  coronet::detail::pubsub_client* client = subscriptions_of(req, out);
  if (client == nullptr)
    return;
  output_buffer& into = *out.output();
  switch (op) {
    case pubsub_op::subscribe: client->subscribe(req.args, into); break;
    case pubsub_op::unsubscribe: client->unsubscribe(req.args, into); break;
    case pubsub_op::psubscribe: client->psubscribe(req.args, into); break;
    case pubsub_op::punsubscribe: client->punsubscribe(req.args, into); break;
  }
  out.claim();
}

const server* owner_of(const request& req) noexcept { return req.conn != nullptr ? req.conn->owner : nullptr; }

// Redis 7.0's addReplyHelp (its last line says "Prints", 7.2's "Print").
reply pubsub_help() {
  std::vector<reply> lines;
  for (const std::string_view line :
       {"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').", "NUMPAT",
        "    Return number of subscriptions to patterns.", "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).", "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)", "HELP",
        "    Prints this help."})
    lines.push_back(reply::text(line));
  return reply::array(std::move(lines));
}

// NUMSUB and SHARDNUMSUB: each channel and its count, flat.
reply numsub(const server* srv, std::span<const std::string_view> channels, bool shard) {
  std::vector<reply> out;
  out.reserve(channels.size() * 2);
  for (const std::string_view channel : channels) {
    out.push_back(reply::bulk(channel));
    const std::size_t n = srv != nullptr && !shard ? srv->pubsub_numsub(channel) : 0;
    out.push_back(reply::integer(static_cast<std::int64_t>(n)));
  }
  return reply::array(std::move(out));
}

}  // namespace

void subscribe_command(request& req, response_writer& out) { run(pubsub_op::subscribe, req, out); }
void unsubscribe_command(request& req, response_writer& out) { run(pubsub_op::unsubscribe, req, out); }
void psubscribe_command(request& req, response_writer& out) { run(pubsub_op::psubscribe, req, out); }
void punsubscribe_command(request& req, response_writer& out) { run(pubsub_op::punsubscribe, req, out); }

void publish_command(request& req, response_writer& out) {
  const server* srv = owner_of(req);
  out.integer(srv != nullptr ? static_cast<std::int64_t>(srv->publish(req.arg(0), req.arg(1))) : 0);
}

reply pubsub_command(request& req) {
  const std::string_view sub = req.arg(0);
  const std::size_t argc = req.size() + 1;
  const server* srv = owner_of(req);
  if (equals_lower(sub, "help")) {
    if (argc != 2)
      return subcommand_arity_error("pubsub", sub);
    return pubsub_help();
  }
  if (equals_lower(sub, "channels") || equals_lower(sub, "shardchannels")) {
    if (argc > 3)  // Redis 7.0's addReplySubcommandSyntaxError
      return error_with("ERR unknown subcommand or wrong number of arguments for '", sub, "'. Try PUBSUB HELP.", 128);
    std::vector<reply> out;
    // No sharded channel ever has a subscriber here: SSUBSCRIBE is not offered.
    if (srv != nullptr && equals_lower(sub, "channels")) {
      const std::string_view pattern = argc == 3 ? req.arg(1) : std::string_view();
      for (std::string& name : srv->pubsub_channels(argc == 3 ? &pattern : nullptr))
        out.push_back(reply::bulk(name));
    }
    return reply::array(std::move(out));
  }
  if (equals_lower(sub, "numsub") || equals_lower(sub, "shardnumsub"))
    return numsub(srv, req.args.subspan(1), !equals_lower(sub, "numsub"));
  if (equals_lower(sub, "numpat")) {
    if (argc != 2)
      return subcommand_arity_error("pubsub", sub);
    return reply::integer(static_cast<std::int64_t>(srv != nullptr ? srv->pubsub_numpat() : 0));
  }
  return unknown_subcommand(sub, "PUBSUB");
}

}  // namespace coronet::commands::redis
