// MULTI, EXEC, DISCARD, WATCH and UNWATCH. A RESP or line session queues the
// commands of an open transaction and runs EXEC itself (server/session_transaction.hpp):
// these handlers answer what is left, in Redis 7.0's words.
#include <vector>

#include "commands/detail/redis_common.hpp"
#include "commands/detail/redis_transaction.hpp"
#include "commands/detail/unregistered.hpp"
#include "coronet/command/connection.hpp"
#include "coronet/commands/redis_commands.hpp"

namespace coronet::commands {
namespace redis {
namespace {

reply multi_command(request& req) {
  if (req.conn == nullptr)
    return reply::error_line("ERR MULTI needs a connection");
  connection& conn = *req.conn;
  // Each HTTP request is answered on its own: nothing could be queued.
  if (conn.protocol == wire_protocol::http || conn.protocol == wire_protocol::raw)
    return reply::error_line("ERR MULTI is not available over this protocol");
  if (conn.in_transaction())
    return reply::error_line("ERR MULTI calls can not be nested");
  conn.begin_transaction();
  return ok();
}

reply exec_command(request& req) {
  if (req.size() > 0) {
    // Redis refuses EXEC's arguments by aborting the transaction, open or not.
    if (req.conn != nullptr)
      req.conn->discard_transaction();
    return reply::error_line(
        "EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command");
  }
  if (req.conn == nullptr || !req.conn->in_transaction())
    return reply::error_line("ERR EXEC without MULTI");
  // Reached only where no session runs the queue (router::dispatch).
  req.conn->discard_transaction();
  return reply::error_line("EXECABORT Transaction discarded because of: no session runs it");
}

reply discard_command(request& req) {
  if (req.conn == nullptr || !req.conn->in_transaction())
    return reply::error_line("ERR DISCARD without MULTI");
  req.conn->discard_transaction();
  return ok();
}

reply watch_command(request& req) {
  if (req.conn != nullptr && req.conn->in_transaction())
    return reply::error_line("ERR WATCH inside MULTI is not allowed");
  return reply::error_line("ERR WATCH is not supported: this server keeps no keys to watch");
}

}  // namespace

void register_transaction_commands(router& r) {
  using enum command_flags;
  const std::vector<std::string> transaction_category = {"transaction"};
  r.add("multi", "starts a transaction: the next commands are queued until EXEC", &multi_command, arity::exactly(0));
  r.set_flags("multi", noscript | loading | stale | fast).set_acl_categories("multi", transaction_category);
  r.add("exec", "runs the commands queued since MULTI, replying with an array of their replies", &exec_command,
        arity::at_least(0));
  r.set_flags("exec", noscript | loading | stale).set_acl_categories("exec", transaction_category);
  r.add("discard", "drops the commands queued since MULTI", &discard_command, arity::exactly(0));
  r.set_flags("discard", noscript | loading | stale | fast).set_acl_categories("discard", transaction_category);
  r.add("watch", "not supported: answers an error", &watch_command, arity::at_least(1));
  r.set_flags("watch", noscript | loading | stale | fast).set_acl_categories("watch", transaction_category);
  // Nothing is ever watched, so UNWATCH has nothing to forget.
  r.add(
      "unwatch", "forgets watched keys: none ever are", [](request&) { return ok(); }, arity::exactly(0));
  r.set_flags("unwatch", noscript | loading | stale | fast).set_acl_categories("unwatch", transaction_category);
}

}  // namespace redis
}  // namespace coronet::commands
