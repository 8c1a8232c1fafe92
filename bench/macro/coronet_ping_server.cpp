// The full coronet framework as a benchmark target: coronet::server with a
// router holding the built-in commands (`ping`, `timestamp`, ...), one thread,
// the default protocol (`auto`: RESP for every connection, inline commands
// included, so loadgen's "line" PING is a RESP inline command answered `+PONG`
// since issue 12), default limits. With `http` as third argument, the port
// speaks HTTP/1.1 instead (`GET /ping` answers `{"ping":"PONG"}`), for the
// comparison with nginx. With `tls CERT KEY`, the port speaks TLS only (the
// TLS rows of bench/compare); with `https CERT KEY`, HTTP/1.1 over TLS only.
//
// Usage: coronet_ping_server [port] [max_connections] [http | tls CERT KEY | https CERT KEY]
// Prints the bound port on stdout, serves 127.0.0.1 until SIGINT/SIGTERM.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

#include "coronet/commands/builtins.hpp"
#include "coronet/command/router.hpp"
#include "coronet/server/server.hpp"

int main(int argc, char** argv) {
  try {
    coronet::router r;
    coronet::commands::register_builtins(r);
    coronet::server_options opts;
    opts.host = "127.0.0.1";
    opts.port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 0);
    opts.threads = 1;
    // Room for the idle-connection measurement (10 000) plus the load generator.
    if (argc > 2)
      opts.max_connections = static_cast<std::size_t>(std::strtoull(argv[2], nullptr, 10));
    const bool https = argc > 5 && std::strcmp(argv[3], "https") == 0;
    if ((argc > 3 && std::strcmp(argv[3], "http") == 0) || https)
      opts.protocol = coronet::wire_protocol::http;
    if (argc > 5 && (std::strcmp(argv[3], "tls") == 0 || https)) {
      opts.tls_only = true;
      opts.tls.certificate_file = argv[4];
      opts.tls.key_file = argv[5];
    }
    opts.handle_signals = true;
    coronet::server srv(r, opts);
    std::printf("%u\n", static_cast<unsigned>(srv.port()));
    std::fflush(stdout);
    return srv.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "coronet_ping_server: %s\n", e.what());
    return 1;
  }
}
