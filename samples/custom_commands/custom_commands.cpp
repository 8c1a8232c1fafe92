// Adding your own commands: a plain function, a coroutine that awaits a timer, and
// one that calls another server through coronet's client.
#include <charconv>
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <coronet/commands/builtins.hpp>
#include <coronet/coronet.hpp>
#include <coronet/client/client.hpp>
#include <coronet/server/server.hpp>

#include "common/server_cli.hpp"

using coronet::reply;
using coronet::request;
using coronet::task;

namespace {

bool to_int(std::string_view s, long long& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

// sum 1 2 3 -> 6. It never waits, so it is a plain function: the cheapest
// kind of handler, called with no coroutine frame.
reply sum(request& req) {
  long long total = 0;
  for (std::string_view a : req.args) {
    long long v = 0;
    if (!to_int(a, v))
      return reply::err("not an integer: " + std::string(a));
    total += v;
  }
  return reply::integer(total);
}

// sleep 100 -> waits 100 ms without blocking other connections: a coroutine
task<reply> sleep_ms(request& req) {
  long long ms = 0;
  if (!to_int(req.arg(0), ms) || ms < 0 || ms > 60'000)
    co_return reply::err("sleep takes 0 to 60000 milliseconds");
  co_await coronet::sleep_for(std::chrono::milliseconds(ms));
  co_return reply::text("slept " + std::to_string(ms) + " ms");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"A server with custom commands: sum, sleep, upstream (and the built-ins)."};
  coronet::server_options o;
  o.port = 8100;
  samples::server_cli cli(app, o);
  std::string upstream_host = "127.0.0.1";
  std::uint16_t upstream_port = 8099;
  app.add_option("--upstream-host", upstream_host, "server `upstream` calls")->capture_default_str();
  app.add_option("--upstream-port", upstream_port, "its port (0 = this server itself)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  cli.apply();

  coronet::router r;
  coronet::commands::register_builtins(r);
  r.add("sum", "adds integers: sum 1 2 3", sum, coronet::arity::at_least(1));
  r.add("sleep", "waits N milliseconds, then replies", sleep_ms, coronet::arity::exactly(1));
  std::uint16_t self_port = 0;
  // upstream CMD [ARGS...] -> runs CMD on another server and returns its reply.
  r.add(
      "upstream", "runs a command on the upstream server: upstream timestamp",
      [&](request& req) -> task<reply> {
        auto ex = (co_await coronet::this_executor).target<coronet::tcp::executor_type>();
        const std::uint16_t port = upstream_port != 0 ? upstream_port : self_port;
        coronet::client c = co_await coronet::client::connect(*ex, upstream_host, port);
        co_return co_await c.call(req.args);
      },
      coronet::arity::at_least(1));

  try {
    coronet::server server(r, o);
    self_port = server.port();
    std::printf("custom_commands listening on %s port %u\n", o.host.c_str(), server.port());
    std::fflush(stdout);
    return server.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "custom_commands: %s\n", e.what());
    return 1;
  }
}
