// The seed's timestamp service, grown up: line, RESP and the seed's raw mode,
// with the built-in commands, limits and a graceful shutdown on SIGINT/SIGTERM.
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <coronet/commands/builtins.hpp>
#include <coronet/coronet.hpp>
#include <coronet/framework/server.hpp>

namespace {

std::chrono::milliseconds seconds_option(double s) {
  return std::chrono::milliseconds(static_cast<long long>(s * 1000));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Serves the current time (command `timestamp`, alias `timetampe`) and the other built-in\n"
      "commands over plain lines, the Redis protocol, or the seed's raw one-shot mode."};
  coronet::server_options o;
  std::string protocol = "auto";
  double idle = 300, request = 30, drain = 10;
  bool verbose = false;
  app.add_option("--host", o.host, "address to listen on")->capture_default_str();
  app.add_option("--port", o.port, "port to listen on (0 = any free port)")->capture_default_str();
  app.add_option("--protocol", protocol, "auto | line | resp | raw (raw answers the seed's client)")
      ->check(CLI::IsMember({"auto", "line", "resp", "raw"}))
      ->capture_default_str();
  app.add_option("--threads", o.threads, "worker threads (0 = one per hardware thread)")->capture_default_str();
  app.add_option("--max-connections", o.max_connections, "connections open at once")->capture_default_str();
  app.add_option("--idle-timeout", idle, "seconds before an idle connection is closed (0 = never)")
      ->capture_default_str();
  app.add_option("--request-timeout", request, "seconds a command may run (0 = no limit)")->capture_default_str();
  app.add_option("--max-request-bytes", o.max_request_bytes, "longest request line")->capture_default_str();
  app.add_option("--max-output-bytes", o.max_output_bytes, "unsent reply bytes before a connection is closed")
      ->capture_default_str();
  app.add_option("--drain-timeout", drain, "seconds in-flight requests get on shutdown")->capture_default_str();
  app.add_flag("--verbose", verbose, "log each connection");
  CLI11_PARSE(app, argc, argv);

  coronet::parse_wire_protocol(protocol, o.protocol);
  o.idle_timeout = seconds_option(idle);
  o.request_timeout = seconds_option(request);
  o.drain_timeout = seconds_option(drain);
  o.handle_signals = true;
  o.log_connections = verbose;

  coronet::router router;
  coronet::commands::register_builtins(router);
  try {
    coronet::server server(router, o);
    std::printf("timestamp_server listening on %s port %u, protocol %s, %u thread%s\n", o.host.c_str(), server.port(),
                protocol.c_str(), server.options().threads, server.options().threads == 1 ? "" : "s");
    std::fflush(stdout);
    const int rc = server.run();
    const coronet::server_stats s = server.stats();
    std::printf("timestamp_server stopped: %llu requests, %llu errors, %llu connections, up %.1f s\n",
                static_cast<unsigned long long>(s.requests), static_cast<unsigned long long>(s.errors),
                static_cast<unsigned long long>(s.connections_total), std::chrono::duration<double>(s.uptime).count());
    return rc;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "timestamp_server: cannot listen on %s port %u: %s\n", o.host.c_str(), o.port, e.what());
    return 1;
  }
}
