// A server's HAProxy agent-check port (server_options::agent_port).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string_view>

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>

#include "coronet/net/acceptor.hpp"
#include "coronet/core/task.hpp"
#include "coronet/core/task_group.hpp"

namespace coronet::detail {

// Answers every connection with one line, the server's state as HAProxy's
// agent-check reads it, then closes it: "up ready" while serving, "drain"
// while draining, "maint" in maintenance (which wins). It keeps answering
// through the drain (HAProxy then stops routing before the health check
// fails) until the server's last connection is gone. Runs on worker 0.
class agent_check {
public:
  // Binds address:port (0 picks a free one) on `ctx`. Throws std::system_error.
  agent_check(asio::io_context& ctx, const asio::ip::address& address, std::uint16_t port, bool reuse_port);

  // The bound port.
  std::uint16_t port() const noexcept { return port_; }

  // The line (without its "\n") for a server in this state.
  static std::string_view answer(bool draining, bool maintenance) noexcept;

  // Accepts until close(); each answer is written by a task in `group`. `state` says the
  // answer now (see answer()).
  task<void> serve(std::function<std::string_view()> state, task_group& group);

  // Once the drain began: closes the port when `connections_now` is 0.
  task<void> close_when_drained(const std::atomic<std::uint64_t>& connections_now);

  // Stops accepting; on the acceptor's thread.
  void close() noexcept { acceptor_.close(); }

private:
  tcp::acceptor acceptor_;
  std::uint16_t port_;
  std::string_view last_answer_;
};

}  // namespace coronet::detail
