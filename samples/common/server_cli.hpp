// The command-line options every sample server built on coronet::server takes,
// with the library's defaults: samples/timestamp and samples/custom_commands.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>
#include <coronet/server/server.hpp>

#include "common/backend_cli.hpp"

namespace samples {

/// Adds `--host`, `--port`, `--protocol`, `--threads`, `--password` (alias
/// `--requirepass`, as redis-server spells it), the timeouts in seconds
/// (`--idle-timeout`, `--partial-request-timeout`, `--request-timeout`,
/// `--output-stall-timeout`, `--drain-timeout`, `--tcp-keepalive`), the size
/// limits, `--backend`, `--verbose`, what running behind a load balancer takes
/// (`--reuse-port`, `--proxy-protocol`, `--proxy-trusted`, `--agent-port`),
/// and `--http-port` (an HTTP/1.1 listener beside the command port) with its
/// limits, and TLS (`--tls-port`, `--tls-cert`, `--tls-key`, `--tls-ca`,
/// `--tls-key-password`, `--tls-only`, `--tls-ciphers`, `--tls-ciphersuites`,
/// as redis-server's), `--https-port` (HTTP/1.1 over TLS) and
/// `--pubsub-backplane` (Pub/Sub shared through a redis-server) to `app`. Call
/// `apply` after parsing.
class server_cli {
public:
  server_cli(CLI::App& app, coronet::server_options& o) : options_(o) {
    idle_ = seconds(o.idle_timeout);
    partial_ = seconds(o.partial_request_timeout);
    request_ = seconds(o.request_timeout);
    drain_ = seconds(o.drain_timeout);
    keepalive_ = o.tcp_keepalive.count();
    stall_ = seconds(o.output_stall_timeout);
    http_header_ = seconds(o.http.header_timeout);
    http_idle_ = seconds(o.http.idle_timeout);
    app.add_option("--host", o.host, "address to listen on")->capture_default_str();
    app.add_option("--port", o.port, "port to listen on (0 = any free port)")->capture_default_str();
    app.add_option("--protocol", protocol_,
                   "resp = Redis RESP2/RESP3, inline commands included (redis-cli, redis-benchmark, nc); "
                   "line = plain text lines for people; raw = the seed's one-shot mode; auto = old name of resp; "
                   "http = HTTP/1.1 (see --http-port for HTTP beside the command port)")
        ->check(CLI::IsMember({"resp", "line", "raw", "http", "auto"}))
        ->capture_default_str();
    app.add_option("--threads", o.threads,
                   "worker threads (0 = one per hardware thread); handlers keeping shared state need 1 or a lock")
        ->capture_default_str();
    app.add_option("--password,--requirepass", o.password, "password clients must give with AUTH (empty = none)");
    app.add_option("--max-connections", o.max_connections, "connections open at once")->capture_default_str();
    app.add_option("--idle-timeout", idle_, "seconds before an idle connection is closed (0 = never)")
        ->capture_default_str();
    app.add_option("--partial-request-timeout", partial_,
                   "seconds a started request may take to arrive in full (0 = no limit)")
        ->capture_default_str();
    app.add_option("--request-timeout", request_, "seconds a command may run (0 = no limit)")->capture_default_str();
    app.add_option("--tcp-keepalive", keepalive_, "seconds of silence before TCP keepalive probes (0 = off)")
        ->capture_default_str();
    app.add_option("--max-request-bytes", o.max_request_bytes, "longest request line")->capture_default_str();
    app.add_option("--max-output-bytes", o.max_output_bytes,
                   "unsent reply bytes per connection; above half of it, its requests wait (backpressure)")
        ->capture_default_str();
    app.add_option("--output-stall-timeout", stall_,
                   "seconds a peer may read none of its pending replies before it is closed (0 = never)")
        ->capture_default_str();
    app.add_option("--drain-timeout", drain_, "seconds in-flight requests get on shutdown")->capture_default_str();
    app.add_option("--http-port", http_port_,
                   "also serve HTTP/1.1 on this port of --host (0 = any free port; -1 = no HTTP listener): "
                   "GET /<command>/<arg>..., the status page at /")
        ->check(CLI::Range(-1, 65535))
        ->capture_default_str();
    app.add_option("--http-header-timeout", http_header_,
                   "seconds an HTTP request's headers (then its body) may take to arrive; then 408 (0 = no limit)")
        ->capture_default_str();
    app.add_option("--http-idle-timeout", http_idle_, "seconds before an idle HTTP keep-alive connection is closed")
        ->capture_default_str();
    app.add_option("--http-max-body-bytes", o.http.max_body_bytes, "largest HTTP request body; larger: 413")
        ->capture_default_str();
    add_backend_option(app, o);
    app.add_flag("--verbose", o.log_connections, "log each connection");
    app.add_flag("--reuse-port", o.reuse_port,
                 "SO_REUSEPORT: a new process may bind the same port while this one drains (zero-downtime restart)");
    app.add_option("--proxy-protocol", proxy_,
                   "PROXY protocol header expected from the load balancer: off, v1, v2 or any")
        ->check(CLI::IsMember({"off", "v1", "v2", "any"}))
        ->capture_default_str();
    app.add_option("--proxy-trusted", o.proxy_trusted,
                   "addresses or prefixes allowed to send a PROXY header (default: loopback)")
        ->capture_default_str();
    app.add_option("--agent-port", agent_port_,
                   "port of an HAProxy agent-check listener answering up/drain/maint (0 = any free port; "
                   "-1 = none)")
        ->check(CLI::Range(-1, 65535))
        ->capture_default_str();
    app.add_option("--tls-port", tls_port_,
                   "also serve TLS on this port (0 = any free port), as redis-server's tls-port")
        ->check(CLI::Range(0, 65535));
    app.add_option("--tls-cert", o.tls.certificate_file, "TLS certificate chain (PEM), leaf first");
    app.add_option("--tls-key", o.tls.key_file, "TLS private key (PEM)");
    app.add_option("--tls-ca", o.tls.client_ca_file, "require client certificates signed by these CAs (PEM)");
    app.add_option("--tls-key-password", o.tls.key_password, "password of an encrypted --tls-key");
    app.add_flag("--tls-only", o.tls_only, "serve TLS on --port too (and on every port)");
    app.add_option("--tls-ciphers", o.tls.cipher_list,
                   "TLS 1.2 cipher suites, OpenSSL syntax (default: ECDHE with AES-GCM or ChaCha20-Poly1305 "
                   "only), as redis-server's tls-ciphers");
    app.add_option("--tls-ciphersuites", o.tls.ciphersuites,
                   "TLS 1.3 cipher suites, OpenSSL syntax (default: OpenSSL's), as redis-server's "
                   "tls-ciphersuites");
    app.add_option("--https-port", https_port_,
                   "also serve HTTP/1.1 over TLS (with --tls-cert and --tls-key) on this port of --host "
                   "(0 = any free port): the routes of --http-port and the status page")
        ->check(CLI::Range(0, 65535));
    app.add_option("--pubsub-backplane", o.pubsub_backplane,
                   "share Pub/Sub with other instances through this redis-server, as redis://HOST:PORT "
                   "(default: none; see docs/deploy.md)");
    app.footer(signals_help);
  }

  /// What the signals do to a server whose options went through `apply()`.
  static constexpr const char* signals_help =
      "Signals:\n"
      "  SIGINT, SIGTERM  drain: stop accepting, finish the requests in flight, exit 0 within\n"
      "                   --drain-timeout; a second one during the drain exits 1 at once\n"
      "  SIGHUP           reload --tls-cert and --tls-key for new connections when a TLS port is\n"
      "                   served (a broken pair is logged and the old one kept); otherwise only\n"
      "                   logged. Never stops the server";

  /// Copies what was parsed into the options; also turns signal handling on.
  void apply() const {
    coronet::parse_wire_protocol(protocol_, options_.protocol);
    options_.idle_timeout = millis(idle_);
    options_.partial_request_timeout = millis(partial_);
    options_.request_timeout = millis(request_);
    options_.drain_timeout = millis(drain_);
    options_.tcp_keepalive = std::chrono::seconds(keepalive_);
    options_.output_stall_timeout = millis(stall_);
    options_.http.header_timeout = millis(http_header_);
    options_.http.idle_timeout = millis(http_idle_);
    if (http_port_ >= 0)
      options_.listeners.push_back(
          {options_.host, static_cast<std::uint16_t>(http_port_), coronet::wire_protocol::http});
    options_.handle_signals = true;
    coronet::parse_proxy_protocol_mode(proxy_, options_.proxy_protocol);
    if (agent_port_ >= 0)
      options_.agent_port = static_cast<std::uint16_t>(agent_port_);
    if (tls_port_ >= 0) {
      coronet::listener_config tls_listener;
      tls_listener.port = static_cast<std::uint16_t>(tls_port_);
      tls_listener.protocol = options_.protocol;
      tls_listener.tls = true;
      options_.listeners.push_back(tls_listener);
    }
    if (https_port_ >= 0)
      options_.listeners.push_back(
          {options_.host, static_cast<std::uint16_t>(https_port_), coronet::wire_protocol::http, true});
  }

  /// The index of the `--http-port` listener (`server::port(i)`), or 0 when
  /// there is none. Found by its protocol: the TLS listener may come after it.
  std::size_t http_listener() const noexcept { return find_http(false); }

  /// The index of the `--https-port` listener, or 0 when there is none.
  std::size_t https_listener() const noexcept { return find_http(true); }

  /// `http://host:port/` (`https://` with `tls`), an IPv6 host in brackets
  /// (`http://[::1]:8080/`).
  static std::string http_url(const std::string& host, std::uint16_t port, bool tls = false) {
    std::string url = tls ? "https://" : "http://";
    if (host.find(':') != std::string::npos)
      url += "[" + host + "]";
    else
      url += host;
    url += ":" + std::to_string(port) + "/";
    return url;
  }

  /// The `--protocol` value as given.
  const std::string& protocol() const noexcept { return protocol_; }

  /// Every listener of `o` as `host port P (protocol[, TLS])`, for a message about all of
  /// them (such as a failure to listen, which may be any one's).
  static std::string describe_listeners(const coronet::server_options& o) {
    std::string text = o.host + " port " + std::to_string(o.port) + " (" + std::string(coronet::to_string(o.protocol)) +
                       (o.tls_only ? ", TLS)" : ")");
    for (const coronet::listener_config& l : o.listeners) {
      text += ", port " + std::to_string(l.port) + " (" + std::string(coronet::to_string(l.protocol));
      text += l.tls || o.tls_only ? ", TLS)" : ")";
    }
    return text;
  }

private:
  std::size_t find_http(bool tls) const noexcept {
    for (std::size_t i = 0; i < options_.listeners.size(); ++i)
      if (options_.listeners[i].protocol == coronet::wire_protocol::http && options_.listeners[i].tls == tls)
        return i + 1;
    return 0;
  }

  static double seconds(std::chrono::milliseconds d) { return std::chrono::duration<double>(d).count(); }
  static std::chrono::milliseconds millis(double s) {
    return std::chrono::milliseconds(static_cast<long long>(s * 1000));
  }

  coronet::server_options& options_;
  std::string protocol_ = "resp";
  std::string proxy_ = "off";
  int agent_port_ = -1;
  double idle_ = 0, partial_ = 0, request_ = 0, drain_ = 0, stall_ = 0, http_header_ = 0, http_idle_ = 0;
  int http_port_ = -1;
  long long keepalive_ = 0;
  int tls_port_ = -1;
  int https_port_ = -1;
};

}  // namespace samples
