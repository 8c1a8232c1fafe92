// The smallest complete coronet client: sends each argument as a line and prints the echo.
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <coronet/coronet.hpp>

coronet::task<void> run(std::string host, std::uint16_t port, std::vector<std::string> messages) {
  coronet::tcp::socket s = co_await coronet::tcp::connect(host, port);
  for (std::string& m : messages) {
    m += '\n';
    co_await s.write_all(asio::buffer(m));
    std::string echoed(m.size(), '\0');
    co_await coronet::with_timeout(
        [&]() -> coronet::task<void> {
          co_await s.read_exact(asio::buffer(echoed));
        }(),
        std::chrono::seconds(5));
    std::printf("%s", echoed.c_str());
  }
}

int main(int argc, char** argv) {
  CLI::App app{"Sends each message to an echo server and prints what comes back."};
  std::string host = "127.0.0.1";
  std::uint16_t port = 7007;
  std::vector<std::string> messages{"hello"};
  app.add_option("--host", host, "server address or name")->capture_default_str();
  app.add_option("--port", port, "server port")->capture_default_str();
  app.add_option("messages", messages, "lines to send")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    coronet::sync_wait(run(host, port, messages));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo_client: %s\n", e.what());
    return 1;
  }
}
