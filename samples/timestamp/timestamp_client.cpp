// Asks a timestamp server for the time and prints it, like the seed's client.
#include <cstdio>
#include <regex>
#include <string>

#include <CLI/CLI.hpp>
#include <asio/ssl/error.hpp>
#include <coronet/coronet.hpp>
#include <coronet/client/client.hpp>

namespace {

struct settings {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8099;
  coronet::wire_protocol protocol = coronet::wire_protocol::resp;
  int count = 1;
  bool raw = false;
  double timeout = 5;
  bool tls = false;
  std::string tls_ca;
  bool insecure = false;
};

bool looks_like_ctime(const std::string& s) {
  static const std::regex ctime(R"(^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d \d{4}$)");
  return std::regex_match(s, ctime);
}

coronet::task<void> ask(const settings& opt) {
  coronet::client_options copts;
  copts.request_timeout = std::chrono::milliseconds(static_cast<long long>(opt.timeout * 1000));
  const coronet::tls::client_config tls{.ca_file = opt.tls_ca, .insecure = opt.insecure};
  if (opt.tls)
    copts.tls = &tls;
  const auto protocol = opt.raw ? coronet::wire_protocol::raw : opt.protocol;
  auto ex = (co_await coronet::this_executor).target<coronet::tcp::executor_type>();
  coronet::client c = co_await coronet::client::connect(*ex, opt.host, opt.port, protocol, copts);
  for (int i = 0; i < opt.count; ++i) {
    // The seed's server knows only its own spelling, sent with no newline.
    coronet::reply r = co_await c.call(opt.raw ? "timetampe" : "timestamp");
    if (r.kind() == coronet::reply_kind::error)
      throw std::runtime_error("server error: " + std::string(r.str()));
    const std::string time(r.str());
    if (!looks_like_ctime(time))
      throw std::runtime_error("bad reply: '" + time + "'");
    std::printf("current timestamp: %s\n", time.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Prints the time of a timestamp server (coronet's, or the seed's with --raw)."};
  settings opt;
  std::string protocol = "resp";
  app.add_option("--host", opt.host, "server address or name")->capture_default_str();
  app.add_option("--port", opt.port, "server port")->capture_default_str();
  app.add_option("--protocol", protocol, "line | resp")->check(CLI::IsMember({"line", "resp"}))->capture_default_str();
  app.add_option("--count", opt.count, "requests over one connection")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--raw", opt.raw, "talk to the original Python service: `timetampe`, no newline, one reply");
  app.add_option("--timeout", opt.timeout, "seconds to wait for each reply")->capture_default_str();
  app.add_flag("--tls", opt.tls, "connect over TLS, verifying the server's certificate and host name");
  app.add_option("--tls-ca", opt.tls_ca, "CAs to trust (PEM; default: the system's trust store)");
  app.add_flag("--insecure", opt.insecure,
               "with --tls, do not verify the server at all (anyone in the middle can read and change the traffic)");
  CLI11_PARSE(app, argc, argv);
  coronet::parse_wire_protocol(protocol, opt.protocol);
  if ((opt.insecure || !opt.tls_ca.empty()) && !opt.tls) {
    std::fprintf(stderr, "timestamp_client: --tls-ca and --insecure go with --tls\n");
    return 2;
  }
  if (opt.raw && opt.count != 1) {
    std::fprintf(stderr, "timestamp_client: --raw makes one request per connection; drop --count\n");
    return 2;
  }
  try {
    coronet::sync_wait(ask(opt));
    return 0;
  } catch (const std::system_error& e) {
    // A TLS failure says why in the exception's text; others are their error.
    const bool tls_failure = e.code().category() == asio::error::get_ssl_category();
    std::fprintf(stderr, "timestamp_client: %s:%u: %s\n", opt.host.c_str(), opt.port,
                 tls_failure ? e.what() : e.code().message().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "timestamp_client: %s:%u: %s\n", opt.host.c_str(), opt.port, e.what());
  }
  return 1;
}
