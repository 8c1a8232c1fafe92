// A chat room on coronet::stream_server: every line a client sends goes to all
// the other clients. A client that stops reading is disconnected once it is
// more than --max-behind bytes behind, and the others never wait for it. The
// stream server accepts, handles SIGINT/SIGTERM and drains; this file only
// says what one connection does.
#include <array>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <coronet/coronet.hpp>
#include <coronet/server/stream_server.hpp>

#include "common/stream_cli.hpp"

namespace {

// The connected clients, by connection id. With --threads > 1 handlers on
// several workers join, leave and broadcast at once, hence the mutex. The
// sends happen outside it: a send only copies the bytes into the
// connection's queue (its own worker writes them), and no thread should wait
// for another's copying.
class room {
public:
  void join(coronet::stream_writer w) {
    const std::lock_guard lock(mutex_);
    members_.emplace(w.id(), std::move(w));
  }

  void leave(std::uint64_t id) {
    const std::lock_guard lock(mutex_);
    members_.erase(id);
  }

  // Queues `lines` (whole lines) for every member but `from`. A send that
  // would put a member more than max_output_bytes behind closes that member's
  // connection instead (on its own worker when it lives on another thread);
  // its handler then says so and leaves.
  void broadcast(std::uint64_t from, std::string_view lines) {
    std::vector<coronet::stream_writer> targets;
    {
      const std::lock_guard lock(mutex_);
      targets.reserve(members_.size());
      for (const auto& [id, writer] : members_)
        if (id != from)
          targets.push_back(writer);
    }
    for (const coronet::stream_writer& w : targets)
      w.send(lines);
  }

private:
  std::mutex mutex_;
  std::unordered_map<std::uint64_t, coronet::stream_writer> members_;
};

// Leaves the room however the handler ends.
struct membership {
  membership(room& r, coronet::stream_writer w) : room_(r), id_(w.id()) { room_.join(std::move(w)); }
  membership(const membership&) = delete;
  membership& operator=(const membership&) = delete;
  ~membership() { room_.leave(id_); }

  room& room_;
  std::uint64_t id_;
};

// One client: reads lines and broadcasts them, whole lines only, as many as
// one read brought at once. Plain TCP and TLS connections alike.
template <class Connection>
coronet::task<void> chat(Connection& conn, room& r, std::size_t max_line, std::size_t max_behind) {
  const membership member(r, conn.writer());
  std::string partial;  // the start of a line whose end has not arrived yet
  std::array<char, 16384> buf;
  for (;;) {
    std::error_code ec;
    const std::size_t n = co_await conn.read_some(asio::buffer(buf), ec);
    if (ec) {
      // End of stream or a reset: the client left. A read aborted while the
      // server is not draining: the server closed the connection under it,
      // because the client fell too far behind (a broadcast went over
      // max_output_bytes, or it took none of its output for
      // output_stall_timeout).
      const bool closed_by_server = ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor;
      if (closed_by_server && !conn.server().draining())
        coronet::log(coronet::log_level::warning, "chat_server: client " + std::to_string(conn.id()) +
                                                      " disconnected: too far behind (more than " +
                                                      std::to_string(max_behind) + " bytes not read)");
      co_return;
    }
    const std::string_view in(buf.data(), n);
    const std::size_t last_newline = in.rfind('\n');
    if (last_newline == std::string_view::npos) {
      partial.append(in);
    } else {
      partial.append(in.substr(0, last_newline + 1));
      r.broadcast(conn.id(), partial);
      partial.assign(in.substr(last_newline + 1));
    }
    if (partial.size() > max_line) {
      coronet::log(coronet::log_level::warning, "chat_server: client " + std::to_string(conn.id()) +
                                                    " disconnected: a line longer than " + std::to_string(max_line) +
                                                    " bytes");
      co_return;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "A chat room: every line a client sends goes to all the other clients (try two `nc 127.0.0.1 PORT`).\n"
      "A client that falls more than --max-behind bytes behind is disconnected; the others never wait for it.\n"
      "SIGINT/SIGTERM: stop accepting, let connected clients finish (up to the drain timeout), exit."};
  coronet::stream_server_options o;
  samples::add_stream_server_options(app, o);
  std::size_t max_behind = 1024 * 1024;
  std::size_t max_line = 64 * 1024;
  app.add_option("--max-behind", max_behind,
                 "bytes sent to a client and not yet read by it; beyond that the client is disconnected")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-line", max_line, "longest line in bytes; a client sending a longer one is disconnected")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  // The stream server closes a connection whose queued output would exceed
  // this: the whole "slow client" policy is this one option.
  o.max_output_bytes = max_behind;

  room everyone;
  try {
    coronet::stream_server server(
        o, [&everyone, max_line, max_behind](auto& conn) { return chat(conn, everyone, max_line, max_behind); });
    samples::print_listening("chat_server", o, server, "max behind " + std::to_string(max_behind) + " bytes");
    return server.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chat_server: cannot listen on %s port %u: %s\n", o.host.c_str(), o.port, e.what());
    return 1;
  }
}
