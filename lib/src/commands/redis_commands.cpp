#include "coronet/commands/redis_commands.hpp"

#include <string>
#include <string_view>
#include <vector>

#include "commands/detail/redis_common.hpp"
#include "commands/detail/redis_transaction.hpp"
#include "commands/detail/unregistered.hpp"

namespace coronet::commands {

void register_redis_commands(router& r) {
  detail::require_unregistered(r, redis_command_names, "coronet::commands::register_redis_commands");
  detail::require_unregistered(r, redis_transaction_command_names, "coronet::commands::register_redis_commands");
  using enum command_flags;
  const std::vector<std::string> connection_category = {"connection"};
  r.add(
      "hello", "handshakes: chooses RESP2 or RESP3, authenticates, names the connection",
      [registered_on = &r](request& req) { return redis::hello_command(registered_on, req); }, arity::at_least(0));
  r.set_flags("hello", noscript | loading | stale | fast | noauth).set_acl_categories("hello", connection_category);
  r.add(
      "auth", "authenticates the connection with the server's password",
      [registered_on = &r](request& req) { return redis::auth_command(registered_on, req); }, arity::at_least(1));
  r.set_flags("auth", noscript | loading | stale | fast | noauth).set_acl_categories("auth", connection_category);
  r.add("client", "this connection: SETNAME, GETNAME, ID, SETINFO, INFO, LIST, HELP", &redis::client_command,
        arity::at_least(1));
  r.set_flags("client", noscript | loading | stale).set_acl_categories("client", connection_category);
  r.add("select", "selects database 0, the only one", &redis::select_command, arity::exactly(1));
  r.set_flags("select", loading | stale | fast).set_acl_categories("select", connection_category);
  r.add(
      "info", "server information and counters, by section, as Redis's INFO",
      [registered_on = &r](request& req) { return redis::info_command(registered_on, req); }, arity::at_least(0));
  r.set_flags("info", loading | stale).set_acl_categories("info", {"dangerous"});
  r.add(
      "command", "the command table: COUNT, LIST, INFO, DOCS, GETKEYS, HELP",
      [registered_on = &r](request& req) { return redis::command_command(registered_on, req); }, arity::at_least(0));
  r.set_flags("command", loading | stale).set_acl_categories("command", connection_category);
  r.add("reset", "resets the connection: RESP2, no name, not authenticated", &redis::reset_command, arity::exactly(0));
  r.set_flags("reset", noscript | loading | stale | fast | noauth).set_acl_categories("reset", connection_category);
  r.add("config", "server parameters: GET (glob patterns, as Redis's names); SET answers an error",
        &redis::config_command, arity::at_least(1));
  r.set_flags("config", admin | noscript | loading | stale).set_acl_categories("config", {"dangerous"});
  const std::vector<std::string> pubsub_category = {"pubsub"};
  r.add("subscribe", "subscribes the connection to channels", &redis::subscribe_command, arity::at_least(1));
  r.add("unsubscribe", "unsubscribes the connection from channels (all without names)", &redis::unsubscribe_command,
        arity::at_least(0));
  r.add("psubscribe", "subscribes the connection to glob patterns of channels", &redis::psubscribe_command,
        arity::at_least(1));
  r.add("punsubscribe", "unsubscribes the connection from patterns (all without names)",
        &redis::punsubscribe_command, arity::at_least(0));
  for (const char* name : {"subscribe", "unsubscribe", "psubscribe", "punsubscribe"})
    r.set_flags(name, noscript | loading | stale).set_acl_categories(name, pubsub_category);
  r.add("publish", "publishes a message on a channel; replies how many subscriptions received it",
        &redis::publish_command, arity::exactly(2));
  r.set_flags("publish", loading | stale | fast).set_acl_categories("publish", pubsub_category);
  r.add("pubsub", "Pub/Sub state: CHANNELS, NUMSUB, NUMPAT, HELP", &redis::pubsub_command, arity::at_least(1));
  r.set_flags("pubsub", loading | stale).set_acl_categories("pubsub", pubsub_category);
  redis::register_transaction_commands(r);
}

}  // namespace coronet::commands
