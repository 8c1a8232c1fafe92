// The command-line options the samples built on coronet::stream_server share:
// samples/chat and samples/relay.
#pragma once

#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <coronet/server/stream_server.hpp>

#include "common/backend_cli.hpp"

namespace samples {

/// Adds `--host`, `--port`, `--threads`, `--max-connections`, `--backend` and `--verbose`
/// to `app`, with the library's defaults, and turns signal handling on: the
/// stream server drains on SIGINT/SIGTERM and logs SIGHUP (no TLS to reload),
/// so a sample has no signal or drain code of its own; `--help` says so.
inline void add_stream_server_options(CLI::App& app, coronet::stream_server_options& o) {
  o.handle_signals = true;
  app.footer(
      "Signals:\n"
      "  SIGINT, SIGTERM  drain: stop accepting, let the connections finish, exit 0 within 10 s;\n"
      "                   a second one during the drain exits 1 at once\n"
      "  SIGHUP           logged and ignored (nothing to reload); never stops the server");
  app.add_option("--host", o.host, "address to listen on")->capture_default_str();
  app.add_option("--port", o.port, "port to listen on (0 = any free port)")->capture_default_str();
  app.add_option("--threads", o.threads, "worker threads (0 = one per hardware thread)")->capture_default_str();
  app.add_option("--max-connections", o.max_connections, "connections open at once")->capture_default_str();
  samples::add_backend_option(app, o);
  app.add_flag("--verbose", o.log_connections, "log each connection");
}

/// Prints `<name> listening on <host> port <port>, <details>` on one line and
/// flushes it: scripts (and tests) start a sample on port 0 and read the
/// port it got from this line.
inline void print_listening(const char* name, const coronet::stream_server_options& o,
                            const coronet::stream_server& server, const std::string& details) {
  const std::string threads = o.threads == 0   ? std::string("a thread per core")
                              : o.threads == 1 ? std::string("1 thread")
                                               : std::to_string(o.threads) + " threads";
  std::printf("%s listening on %s port %u, %s, %s\n", name, o.host.c_str(), server.port(), threads.c_str(),
              details.c_str());
  std::fflush(stdout);
}

}  // namespace samples
