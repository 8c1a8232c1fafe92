// What a server measures about its commands and connections, readable from
// code (server::metrics()) and shown by the status page.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "coronet/command/latency_histogram.hpp"
#include "coronet/protocol/wire_protocol.hpp"

namespace coronet {

/// The calls of one registered command since the server was constructed,
/// summed over its threads. Aliases count as their command.
struct command_metrics {
  /// The command's registered name (lower case).
  std::string name;
  /// Requests routed to it, whatever their outcome (wrong argument count,
  /// NOAUTH and handler failures included).
  std::uint64_t calls = 0;
  /// Those answered with an error reply (wrong argument count, NOAUTH, an
  /// error the handler returned, `ERR internal error` when it threw, `ERR
  /// timeout`).
  std::uint64_t errors = 0;
  /// How long each call took, from routing to its reply being ready
  /// (before it is encoded and written).
  latency_histogram latency;

  /// Median latency, within bucket precision (see `latency_histogram::percentile`).
  std::chrono::nanoseconds p50() const noexcept { return latency.percentile(0.50); }
  /// 99th percentile latency, within bucket precision.
  std::chrono::nanoseconds p99() const noexcept { return latency.percentile(0.99); }
};

/// Connections of one protocol, summed over the server's threads.
struct protocol_connections {
  /// The protocol the connections were served with.
  wire_protocol protocol = wire_protocol::resp;
  /// Open now.
  std::uint64_t now = 0;
  /// Served since start (connections refused for `max_connections` are not
  /// counted here: they never got a protocol).
  std::uint64_t total = 0;
};

/// A snapshot of what a server measures (`server::metrics()`).
struct server_metrics {
  /// Every registered command, in registration order, with its calls so far.
  std::vector<command_metrics> commands;
  /// Requests whose command name is not registered (they got `ERR unknown
  /// command`); not in `commands`.
  std::uint64_t unknown_commands = 0;
  /// One entry per protocol that has served a connection, in the order of
  /// `wire_protocol`.
  std::vector<protocol_connections> connections;
  /// Requests answered in each of the last whole seconds, oldest first; the
  /// last entry is the most recent second. At most 60 entries: fewer while
  /// the server has run less than a minute, none before `run()`.
  std::vector<std::uint64_t> requests_per_second;
};

}  // namespace coronet
