// A chat room for browsers and Redis clients at once: the page at / reads the
// room as Server-Sent Events (GET /subscribe/<channel>, the server's own Pub/Sub
// endpoint) and posts what is typed to POST /say, which publishes it; on the
// command port, `redis-cli SUBSCRIBE chat` hears the browsers and `redis-cli
// PUBLISH chat hi` speaks to them. This file only says what the page is and
// what /say does: the server subscribes, fans out, limits and drains.
#include <cstdio>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>
#include <coronet/commands/builtins.hpp>
#include <coronet/coronet.hpp>
#include <coronet/server/http_routes.hpp>

#include "common/server_cli.hpp"

namespace {

// The page: the room's messages as they come, a name and a line to send.
std::string page(std::string_view channel) {
  std::string html = R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>coronet chat</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<style>
 body { font: 15px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 44em; padding: 1em; }
 #log { border: 1px solid #ccc; height: 60vh; overflow-y: auto; padding: .5em; margin-bottom: .5em; }
 #log p { margin: .2em 0; white-space: pre-wrap; } #state { color: #777; }
 form { display: flex; gap: .5em; } #text { flex: 1; }
</style></head>
<body><h1>coronet chat <small id="state">connecting</small></h1>
<div id="log"></div>
<form id="say"><input id="name" size="10" placeholder="name"><input id="text" placeholder="say something"
 autocomplete="off"><button>Send</button></form>
<script>
const channel = CHANNEL;
const log = document.getElementById('log');
const show = (line) => {
  const p = document.createElement('p');
  p.textContent = line;
  log.appendChild(p);
  log.scrollTop = log.scrollHeight;
  document.body.dataset.messages = log.childElementCount;
};
const events = new EventSource('/subscribe/' + encodeURIComponent(channel));
events.onopen = () => { document.getElementById('state').textContent = 'in #' + channel; };
events.onerror = () => { document.getElementById('state').textContent = 'reconnecting'; };
events.onmessage = (e) => show(e.data);
document.getElementById('say').onsubmit = async (e) => {
  e.preventDefault();
  const text = document.getElementById('text');
  const name = document.getElementById('name').value.trim() || 'anonymous';
  if (!text.value) return;
  await fetch('/say', { method: 'POST', body: name + ': ' + text.value });
  text.value = '';
};
</script></body></html>
)";
  std::string quoted = "\"";
  for (const char c : channel)
    if (c != '"' && c != '\\' && c != '<' && static_cast<unsigned char>(c) >= 0x20)
      quoted += c;
  quoted += '"';
  html.replace(html.find("CHANNEL"), 7, quoted);
  return html;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "A chat room for browsers (the page at http://HOST:HTTP_PORT/) and Redis clients\n"
      "(redis-cli -p PORT SUBSCRIBE chat; redis-cli -p PORT PUBLISH chat hello) at once."};
  coronet::server_options o;
  o.port = 6379;
  samples::server_cli cli(app, o);
  std::string channel = "chat";
  std::size_t max_message = 4096;
  app.add_option("--channel", channel, "the Pub/Sub channel of the room")->capture_default_str();
  app.add_option("--max-message", max_message, "longest line POST /say accepts (bytes); longer: 413")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  cli.apply();
  if (cli.http_listener() == 0) {
    std::fprintf(stderr, "chat_web: give --http-port for the page (e.g. --http-port 8080)\n");
    return 2;
  }

  const std::string html = page(channel);
  coronet::http_routes routes;
  routes.add("GET", "/", [&html](coronet::http_request&) {
    coronet::http_response r = coronet::http_response::text(200, html);
    r.content_type = "text/html; charset=utf-8";
    return r;
  });
  // The handler runs on the server's thread; publish() reaches every subscriber, on every
  // thread, of every protocol.
  routes.add("POST", "/say", [&channel, max_message](coronet::http_request& req) {
    if (req.body.empty())
      return coronet::http_response::text(400, "nothing to say\n");
    if (req.body.size() > max_message)
      return coronet::http_response::text(413, "too long\n");
    const std::size_t heard = req.conn->owner->publish(channel, req.body);
    return coronet::http_response::json(200, "{\"heard_by\":" + std::to_string(heard) + "}");
  });
  coronet::router router;
  coronet::commands::register_builtins(router);
  try {
    coronet::server server(router, routes, o);
    const std::size_t http = cli.http_listener();
    std::printf("chat_web listening on %s port %u; http port %u (chat page: %s), channel %s\n", o.host.c_str(),
                server.port(), server.port(http),
                samples::server_cli::http_url(server.listener(http).host, server.port(http)).c_str(),
                channel.c_str());
    std::fflush(stdout);
    return server.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chat_web: cannot listen on %s: %s\n", samples::server_cli::describe_listeners(o).c_str(),
                 e.what());
    return 1;
  }
}
