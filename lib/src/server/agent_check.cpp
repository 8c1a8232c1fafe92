#include "server/agent_check.hpp"

#include <chrono>
#include <string>
#include <system_error>

#include "coronet/core/log.hpp"
#include "runtime/listener.hpp"
#include "coronet/net/timer.hpp"

namespace coronet::detail {
namespace {

// Whatever HAProxy sends (agent-send) is read and dropped before the close,
// so that the close is not a reset that could destroy the answer.
constexpr auto agent_linger = std::chrono::milliseconds(200);

task<void> answer_one(tcp::socket sock, std::string line) {
  std::error_code ec;
  co_await sock.write_all(asio::buffer(line), ec);
  co_await tcp::lingering_close(sock, agent_linger);
}

tcp::acceptor bind_agent(asio::io_context& ctx, const asio::ip::address& address, std::uint16_t port, bool reuse_port) {
  tcp::acceptor_options opts;
  opts.reuse_port = reuse_port;
  return tcp::acceptor(ctx, tcp::endpoint(address, port), opts);
}

}  // namespace

agent_check::agent_check(asio::io_context& ctx, const asio::ip::address& address, std::uint16_t port, bool reuse_port)
    : acceptor_(bind_agent(ctx, address, port, reuse_port)), port_(acceptor_.port()) {}

std::string_view agent_check::answer(bool draining, bool maintenance) noexcept {
  // "ready" as well as "up": HAProxy lets only the agent undo the drain or
  // maint it set, and "up" alone does not.
  if (maintenance)
    return "maint";
  return draining ? "drain" : "up ready";
}

task<void> agent_check::serve(std::function<std::string_view()> state, task_group& group) {
  tcp::listener_options opts;
  opts.log_name = "agent-check";
  co_await tcp::accept_loop(
      acceptor_,
      [this, &state, &group](tcp::socket sock) {
        const std::string_view now = state();
        if (now != last_answer_) {
          log(log_level::info, "agent-check: answering '" + std::string(now) + "' on port " + std::to_string(port_));
          last_answer_ = now;
        }
        std::string line(now);
        line += '\n';
        group.spawn(answer_one(std::move(sock), std::move(line)));
      },
      std::move(opts));
}

task<void> agent_check::close_when_drained(const std::atomic<std::uint64_t>& connections_now) {
  while (acceptor_.is_open() && connections_now.load(std::memory_order_relaxed) > 0) {
    std::error_code ec;
    co_await sleep_for(std::chrono::milliseconds(20), ec);
    if (ec)
      break;  // cancelled at the drain deadline
  }
  close();
}

}  // namespace coronet::detail
