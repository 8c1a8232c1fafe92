// One router for the end-to-end server tests (and the test server process):
// the test commands plus the probes those tests ask a live connection.
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <utility>
#include <vector>

#include "coronet/server/server.hpp"
#include "support/test_commands.hpp"

namespace coronet_test {

/// The integer value of socket option (`level`, `name`) on `fd`, -1 if it
/// cannot be read.
inline int socket_option(int fd, int level, int name) {
  int v = -1;
  socklen_t len = sizeof v;
  ::getsockopt(fd, level, name, &v, &len);
  return v;
}

/// `make_test_router` plus: `echo x` (x), `args ...` (the arguments as an
/// array), `nil`, `num` (42), `bad` (an error reply), `bye` (OK, then the
/// server closes), `connid`, `resp3` (switches to RESP3), `worker` (the
/// serving worker's index), `nodelay` (TCP_NODELAY of the connection's
/// socket), `keepalive` (SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL,
/// TCP_KEEPCNT), `owned_sleeper` (server::spawn of an hour's sleep, then OK)
/// and `conns` (connections open now).
inline coronet::router make_server_router() {
  using coronet::arity;
  using coronet::reply;
  using coronet::request;
  coronet::router r = make_test_router();
  r.add("echo", "the argument", [](request& q) { return reply::bulk(q.arg(0)); }, arity::exactly(1));
  r.add(
      "args", "the arguments as an array",
      [](request& q) {
        std::vector<reply> v;
        for (auto a : q.args)
          v.push_back(reply::bulk(a));
        return reply::array(std::move(v));
      },
      arity::at_least(0));
  r.add("nil", "a null reply", [](request&) { return reply::null(); }, arity::exactly(0));
  r.add("num", "an integer", [](request&) { return reply::integer(42); }, arity::exactly(0));
  r.add("bad", "an error reply", [](request&) { return reply::err("no such thing"); }, arity::exactly(0));
  r.add(
      "bye", "OK, then the server closes",
      [](request& q) {
        q.conn->close_after_reply();
        return reply::text("OK");
      },
      arity::exactly(0));
  r.add("connid", "this connection's id", [](request& q) { return reply::integer(static_cast<std::int64_t>(q.conn->id)); },
        arity::exactly(0));
  r.add(
      "resp3", "switches this connection to RESP3, as HELLO 3 does",
      [](request& q) {
        q.conn->protover = 3;
        return reply::boolean(true);
      },
      arity::exactly(0));
  r.add("worker", "the index of the worker serving this connection",
        [](request&) { return reply::integer(static_cast<std::int64_t>(coronet::server::current_worker())); },
        arity::exactly(0));
  r.add("nodelay", "TCP_NODELAY of this connection's socket",
        [](request& q) { return reply::integer(socket_option(q.conn->fd, IPPROTO_TCP, TCP_NODELAY)); },
        arity::exactly(0));
  r.add(
      "keepalive", "SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT of this connection's socket",
      [](request& q) {
        std::vector<reply> values;
        using option = std::pair<int, int>;
        for (auto [level, name] : {option{SOL_SOCKET, SO_KEEPALIVE}, option{IPPROTO_TCP, TCP_KEEPIDLE},
                                   option{IPPROTO_TCP, TCP_KEEPINTVL}, option{IPPROTO_TCP, TCP_KEEPCNT}})
          values.push_back(reply::integer(socket_option(q.conn->fd, level, name)));
        return reply::array(std::move(values));
      },
      arity::exactly(0));
  // The supported way to do what the test server's spawn_sleeper does: the
  // server owns the task.
  r.add(
      "owned_sleeper", "server::spawn of a task that sleeps an hour, then OK",
      [](request& q) {
        q.conn->owner->spawn([]() -> coronet::task<void> { co_await coronet::sleep_for(std::chrono::hours(1)); }());
        return reply::text("OK");
      },
      arity::exactly(0));
  r.add(
      "conns", "connections open now",
      [](request& q) { return reply::integer(static_cast<std::int64_t>(q.conn->owner->stats().connections_now)); },
      arity::exactly(0));
  return r;
}

}  // namespace coronet_test
