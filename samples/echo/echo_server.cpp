// The smallest complete coronet server: echoes every byte back, using only the awaitables.
#include <array>
#include <cstdio>

#include <CLI/CLI.hpp>
#include <coronet/coronet.hpp>

coronet::task<void> echo(coronet::tcp::socket s) {
  std::array<char, 4096> buf;
  std::error_code ec;
  for (;;) {
    std::size_t n = co_await s.read_some(asio::buffer(buf), ec);
    if (ec)
      co_return;  // peer closed or reset
    co_await s.write_all(asio::buffer(buf.data(), n), ec);
    if (ec)
      co_return;
  }
}

coronet::task<void> accept_loop(coronet::tcp::acceptor& acceptor) {
  for (;;)
    coronet::spawn(acceptor.get_executor(), echo(co_await acceptor.accept()));
}

int main(int argc, char** argv) {
  CLI::App app{"Echoes back whatever each client sends."};
  std::string host = "127.0.0.1";
  std::uint16_t port = 7007;
  app.add_option("--host", host, "address to listen on")->capture_default_str();
  app.add_option("--port", port, "port to listen on (0 = any free port)")->capture_default_str();
  app.footer(
      "Signals: none handled (the smallest server, with no coronet::server around it): SIGINT,\n"
      "SIGTERM and SIGHUP end it at once, as for any program that does not catch them.");
  CLI11_PARSE(app, argc, argv);

  asio::io_context ctx(1);
  coronet::tcp::acceptor acceptor(ctx, {asio::ip::make_address(host), port});
  std::printf("echo server listening on %s port %u\n", host.c_str(), acceptor.port());
  std::fflush(stdout);
  coronet::spawn(ctx, accept_loop(acceptor));
  ctx.run();
}
