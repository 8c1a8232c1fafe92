// The seed's timestamp service, grown up: line, RESP and the seed's raw mode,
// with the built-in commands, limits and a graceful shutdown on SIGINT/SIGTERM.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <coronet/commands/builtins.hpp>
#include <coronet/coronet.hpp>
#include <coronet/server/server.hpp>

#include "common/server_cli.hpp"

namespace {

// SIGUSR1 puts the server in maintenance (its agent-check answers "maint"),
// SIGUSR2 takes it out; set_maintenance is a lock-free store, safe here.
std::atomic<coronet::server*> serving{nullptr};

extern "C" void on_maintenance_signal(int sig) {
  if (coronet::server* s = serving.load())
    s->set_maintenance(sig == SIGUSR1);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Serves the current time (command `timestamp`, alias `timetampe`) and the other built-in\n"
      "commands over the Redis protocol (inline commands included, so nc works too), plain lines\n"
      "(--protocol line), or the seed's raw one-shot mode (--protocol raw); with --http-port, also\n"
      "over HTTP/1.1 (curl http://127.0.0.1:8080/timestamp/iso) with a live status page at /, and\n"
      "with --https-port the same over HTTPS."};
  coronet::server_options o;
  samples::server_cli cli(app, o);
  app.footer(std::string(samples::server_cli::signals_help) +
             "\n  SIGUSR1          maintenance: the --agent-port check answers 'maint'\n"
             "  SIGUSR2          back to ready: the check answers 'up ready'");
  CLI11_PARSE(app, argc, argv);
  cli.apply();
  const std::string& protocol = cli.protocol();

  coronet::router router;
  coronet::commands::register_builtins(router);
  try {
    coronet::server server(router, o);
    std::printf("timestamp_server listening on %s port %u, protocol %s, %u thread%s", o.host.c_str(), server.port(),
                protocol.c_str(), server.options().threads, server.options().threads == 1 ? "" : "s");
    if (cli.http_listener() != 0)
      std::printf("; http port %u (status page: %s)", server.port(cli.http_listener()),
                  samples::server_cli::http_url(server.listener(cli.http_listener()).host,
                                                server.port(cli.http_listener()))
                      .c_str());
    if (cli.https_listener() != 0)
      std::printf("; https port %u (status page: %s)", server.port(cli.https_listener()),
                  samples::server_cli::http_url(server.listener(cli.https_listener()).host,
                                                server.port(cli.https_listener()), true)
                      .c_str());
    std::printf("\n");
    if (server.agent_port() != 0)
      std::printf("timestamp_server agent-check on port %u (SIGUSR1: maintenance, SIGUSR2: back to ready)\n",
                  server.agent_port());
    for (std::size_t i = 1; i < server.listener_count(); ++i)
      if (server.listener(i).tls && server.listener(i).protocol != coronet::wire_protocol::http)
        std::printf("timestamp_server TLS on %s tls port %u\n", server.listener(i).host.c_str(), server.port(i));
    std::fflush(stdout);
    serving.store(&server);
    std::signal(SIGUSR1, on_maintenance_signal);
    std::signal(SIGUSR2, on_maintenance_signal);
    const int rc = server.run();
    serving.store(nullptr);
    const coronet::server_stats s = server.stats();
    std::printf("timestamp_server stopped: %llu requests, %llu errors, %llu connections, up %.1f s\n",
                static_cast<unsigned long long>(s.requests), static_cast<unsigned long long>(s.errors),
                static_cast<unsigned long long>(s.connections_total), std::chrono::duration<double>(s.uptime).count());
    return rc;
  } catch (const std::exception& e) {
    // Any listener may be the one that failed: all are named.
    std::fprintf(stderr, "timestamp_server: cannot listen on %s: %s\n",
                 samples::server_cli::describe_listeners(o).c_str(), e.what());
    return 1;
  }
}
