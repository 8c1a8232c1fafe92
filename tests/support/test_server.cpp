// A coronet server for tests that need one in its own process (signals,
// descriptor limits, CPU and memory readings). Prints "port N" once listening.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>
#include <coronet/coronet.hpp>
#include <coronet/server/server.hpp>

#include "support/server_router.hpp"

namespace {

// `spawn_sleeper`: what issue 13 saw hang a server's shutdown, a handler
// starting a task on its executor that the server does not own.
void add_spawn_sleeper(coronet::router& r) {
  r.add(
      "spawn_sleeper", "spawns a task that sleeps an hour outside the server's tasks, then OK",
      [](coronet::request&) -> coronet::task<coronet::reply> {
        coronet::spawn(co_await coronet::this_executor,
                       []() -> coronet::task<void> { co_await coronet::sleep_for(std::chrono::hours(1)); });
        co_return coronet::reply::text("OK");
      },
      coronet::arity::exactly(0));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"coronet test server"};
  coronet::server_options o;
  o.port = 0;
  o.threads = 1;
  o.handle_signals = true;
  std::string protocol = "auto";
  long idle_ms = -1, partial_ms = -1, request_ms = -1, drain_ms = -1, stall_ms = -1;
  rlim_t nofile = 0;
  bool spawn_sleeper = false;
  app.add_option("--port", o.port);
  app.add_option("--threads", o.threads);
  app.add_option("--protocol", protocol);
  app.add_option("--max-connections", o.max_connections);
  app.add_option("--max-output-bytes", o.max_output_bytes);
  app.add_option("--max-request-bytes", o.max_request_bytes);
  app.add_option("--idle-timeout-ms", idle_ms);
  app.add_option("--partial-request-timeout-ms", partial_ms);
  app.add_option("--request-timeout-ms", request_ms);
  app.add_option("--output-stall-timeout-ms", stall_ms);
  app.add_option("--drain-timeout-ms", drain_ms);
  app.add_option("--nofile", nofile, "RLIMIT_NOFILE for this process");
  app.add_flag("--spawn-sleeper", spawn_sleeper,
               "registers spawn_sleeper: spawns a task that sleeps an hour outside the server's tasks");
  CLI11_PARSE(app, argc, argv);
  if (!coronet::parse_wire_protocol(protocol, o.protocol)) {
    std::fprintf(stderr, "unknown protocol %s\n", protocol.c_str());
    return 2;
  }
  if (idle_ms >= 0)
    o.idle_timeout = std::chrono::milliseconds(idle_ms);
  if (partial_ms >= 0)
    o.partial_request_timeout = std::chrono::milliseconds(partial_ms);
  if (stall_ms >= 0)
    o.output_stall_timeout = std::chrono::milliseconds(stall_ms);
  if (request_ms >= 0)
    o.request_timeout = std::chrono::milliseconds(request_ms);
  if (drain_ms >= 0)
    o.drain_timeout = std::chrono::milliseconds(drain_ms);
  if (nofile > 0) {
    rlimit lim{nofile, nofile};
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) {
      std::perror("setrlimit");
      return 2;
    }
  }
  coronet::router r = coronet_test::make_server_router();
  if (spawn_sleeper)
    add_spawn_sleeper(r);
  coronet::server srv(r, o);
  std::printf("port %u\n", srv.port());
  std::fflush(stdout);
  const int rc = srv.run();
  const auto s = srv.stats();
  std::printf("exit %d requests %llu errors %llu\n", rc, static_cast<unsigned long long>(s.requests),
              static_cast<unsigned long long>(s.errors));
  return rc;
}
