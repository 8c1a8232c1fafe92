// `--backend` for every sample server: how its plain TCP connections do their I/O.
#pragma once

#include <string>

#include <CLI/CLI.hpp>
#include <coronet/server/connection_options.hpp>

namespace samples {

/// Adds `--backend epoll|io_uring|auto` to `app`, setting `o.backend`; without it the server
/// takes `CORONET_BACKEND` from the environment, else epoll.
inline void add_backend_option(CLI::App& app, coronet::connection_options& o) {
  app.add_option_function<std::string>(
         "--backend", [&o](const std::string& name) { o.backend = *coronet::parse_io_backend(name); },
         "how plain TCP connections do their I/O: epoll, io_uring (the worker's own ring; fails where the "
         "kernel forbids it) or auto (io_uring where usable); default: $CORONET_BACKEND, else epoll")
      ->check(CLI::IsMember({"epoll", "io_uring", "auto"}));
}

}  // namespace samples
