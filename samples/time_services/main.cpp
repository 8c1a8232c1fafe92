// Daytime (RFC 867), time (RFC 868) and SNTP (RFC 4330) servers for real clients:
//   time_services --time-port 8037 &  rdate -p -o 8037 127.0.0.1
#include <coronet/services/time_services.hpp>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <optional>

namespace {

// -1 turns a service off; 0 picks a free port.
std::optional<std::uint16_t> port_option(int port) {
  if (port < 0)
    return std::nullopt;
  return static_cast<std::uint16_t>(port);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Serves daytime (RFC 867, TCP+UDP), time (RFC 868, TCP+UDP) and SNTP (RFC 4330, UDP)."};
  coronet::services::time_services_options opts;
  opts.handle_signals = true;
  app.footer(
      "Signals:\n"
      "  SIGINT, SIGTERM  drain: stop accepting, let TCP connections and UDP replies finish, exit 0\n"
      "                   within 5 s; a second one during the drain exits 1 at once\n"
      "  SIGHUP           logged and ignored (nothing to reload); never stops the server");
  int daytime_port = 8013;
  int time_port = 8037;
  int sntp_port = 8123;
  app.add_option("--host", opts.host, "numeric address to bind")->capture_default_str();
  app.add_option("--daytime-port", daytime_port, "daytime port, TCP and UDP (0: a free port, -1: off)")
      ->capture_default_str()
      ->check(CLI::Range(-1, 65535));
  app.add_option("--time-port", time_port, "time port, TCP and UDP (0: a free port, -1: off)")
      ->capture_default_str()
      ->check(CLI::Range(-1, 65535));
  app.add_option("--sntp-port", sntp_port, "SNTP port, UDP (0: a free port, -1: off)")
      ->capture_default_str()
      ->check(CLI::Range(-1, 65535));
  app.add_option("--udp-threads", opts.udp_threads, "threads answering UDP")->capture_default_str();
  app.add_option("--rate", opts.rate_limit.per_second, "UDP replies per second per source address (0: no limit)")
      ->capture_default_str();
  app.add_option("--burst", opts.rate_limit.burst, "UDP replies a quiet source address may get at once")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  opts.daytime_port = port_option(daytime_port);
  opts.time_port = port_option(time_port);
  opts.sntp_port = port_option(sntp_port);

  try {
    coronet::services::time_services services(opts);
    if (services.daytime_port() != 0)
      std::printf("daytime port %u (tcp, udp)\n", static_cast<unsigned>(services.daytime_port()));
    if (services.time_port() != 0)
      std::printf("time port %u (tcp, udp)\n", static_cast<unsigned>(services.time_port()));
    if (services.sntp_port() != 0)
      std::printf("sntp port %u (udp)\n", static_cast<unsigned>(services.sntp_port()));
    std::printf("serving on %s; Ctrl-C to stop\n", opts.host.c_str());
    std::fflush(stdout);
    const int code = services.run();
    const auto s = services.stats();
    std::printf("stopped: %llu tcp answers, %llu udp replies, %llu datagrams dropped\n",
                static_cast<unsigned long long>(s.tcp_connections), static_cast<unsigned long long>(s.udp.replies),
                static_cast<unsigned long long>(s.udp.dropped_oversize + s.udp.dropped_source +
                                                s.udp.dropped_rate_limited + s.udp.unanswered));
    return code;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "time_services: %s\n", e.what());
    return 1;
  }
}
