// A small REST service on coronet::http_routes: named items kept in memory,
// created or replaced with PUT, read with GET, removed with DELETE, listed by
// prefix. The server parses, routes, limits and drains; this file only says
// what each route does.
#include <charconv>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>

#include <CLI/CLI.hpp>
#include <coronet/coronet.hpp>
#include <coronet/server/http_routes.hpp>

#include "common/server_cli.hpp"

namespace {

// `s` as a JSON string literal (quotes, backslashes and control bytes escaped).
void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

coronet::http_response json_error(int status, std::string_view text) {
  std::string body = "{\"error\":";
  append_json_string(body, text);
  body += '}';
  return coronet::http_response::json(status, std::move(body));
}

// The items, by name in order. With --threads above 1, handlers on several
// workers run at once, hence the mutex; with the default one thread it is
// never contended.
class store {
public:
  // True when `name` is new.
  bool put(std::string_view name, std::string_view value) {
    const std::lock_guard lock(mutex_);
    auto [it, created] = items_.try_emplace(std::string(name));
    it->second.assign(value);
    return created;
  }

  bool get(std::string_view name, std::string& value) const {
    const std::lock_guard lock(mutex_);
    const auto it = items_.find(name);
    if (it == items_.end())
      return false;
    value = it->second;
    return true;
  }

  bool erase(std::string_view name) {
    const std::lock_guard lock(mutex_);
    const auto it = items_.find(name);
    if (it == items_.end())
      return false;
    items_.erase(it);
    return true;
  }

  // A JSON array of the names beginning with `prefix`, in order, at most `limit`.
  std::string names(std::string_view prefix, std::size_t limit) const {
    const std::lock_guard lock(mutex_);
    std::string out = "[";
    std::size_t n = 0;
    for (auto it = items_.lower_bound(prefix); it != items_.end() && n < limit && it->first.starts_with(prefix);
         ++it, ++n) {
      if (n != 0)
        out += ',';
      append_json_string(out, it->first);
    }
    out += ']';
    return out;
  }

private:
  mutable std::mutex mutex_;
  std::map<std::string, std::string, std::less<>> items_;
};

std::string item_json(std::string_view name, std::string_view value) {
  std::string body = "{\"name\":";
  append_json_string(body, name);
  body += ",\"value\":";
  append_json_string(body, value);
  body += '}';
  return body;
}

void add_routes(coronet::http_routes& routes, store& items, std::size_t max_limit) {
  using coronet::http_request;
  using coronet::http_response;
  routes.add("PUT", "/items/{name}", [&items](http_request& req) {
    const bool created = items.put(req.param("name"), req.body);
    http_response r = http_response::json(created ? 201 : 200, item_json(req.param("name"), req.body));
    if (created)
      r.with_header("Location", std::string(req.path));
    return r;
  });
  routes.add("GET", "/items/{name}", [&items](http_request& req) {
    std::string value;
    if (!items.get(req.param("name"), value))
      return json_error(404, "no such item");
    return http_response::json(200, item_json(req.param("name"), value));
  });
  routes.add("DELETE", "/items/{name}", [&items](http_request& req) {
    return items.erase(req.param("name")) ? http_response::text(204, "") : json_error(404, "no such item");
  });
  routes.add("GET", "/items", [&items, max_limit](http_request& req) {
    std::size_t limit = 100;
    if (const auto text = req.query_value("limit")) {
      const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
      if (ec != std::errc() || end != text->data() + text->size() || limit > max_limit)
        return json_error(400, "limit must be a whole number from 0 to " + std::to_string(max_limit));
    }
    return http_response::json(200, items.names(req.query_value("prefix").value_or(""), limit));
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "A REST service keeping named items in memory:\n"
      "  PUT /items/NAME (body = value; 201 created, 200 replaced), GET /items/NAME (JSON, or 404),\n"
      "  DELETE /items/NAME (204, or 404), GET /items?prefix=P&limit=N (JSON array of names, in order).\n"
      "Try: curl -X PUT --data-binary hello http://127.0.0.1:8080/items/greeting"};
  coronet::server_options o;
  o.port = 8080;
  o.protocol = coronet::wire_protocol::http;
  o.handle_signals = true;
  std::size_t max_limit = 10000;
  app.add_option("--host", o.host, "address to listen on")->capture_default_str();
  app.add_option("--port", o.port, "port to listen on (0 = any free port)")->capture_default_str();
  app.add_option("--threads", o.threads, "worker threads (0 = one per hardware thread)")->capture_default_str();
  app.add_option("--password,--requirepass", o.password,
                 "password every request must carry (curl -u default:PASSWORD, or Authorization: Bearer); "
                 "empty = none");
  app.add_option("--max-body-bytes", o.http.max_body_bytes, "largest value; larger: 413")->capture_default_str();
  app.add_option("--max-limit", max_limit, "largest limit= a listing accepts")->capture_default_str();
  samples::add_backend_option(app, o);
  app.add_flag("--verbose", o.log_connections, "log each connection");
  app.footer(samples::server_cli::signals_help);
  CLI11_PARSE(app, argc, argv);

  store items;
  coronet::http_routes routes;
  add_routes(routes, items, max_limit);
  try {
    coronet::server server(routes, o);
    std::printf("rest_server listening on %s port %u, %u thread%s (status page: /, health: /healthz)\n", o.host.c_str(),
                server.port(), server.options().threads, server.options().threads == 1 ? "" : "s");
    std::fflush(stdout);
    const int rc = server.run();
    const coronet::server_stats s = server.stats();
    std::printf("rest_server stopped: %llu requests, %llu errors\n", static_cast<unsigned long long>(s.requests),
                static_cast<unsigned long long>(s.errors));
    return rc;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rest_server: cannot listen on %s port %u: %s\n", o.host.c_str(), o.port, e.what());
    return 1;
  }
}
