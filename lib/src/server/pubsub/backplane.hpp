// The Pub/Sub backplane: instances of a server share their publishes through a redis-server,
// as Socket.IO's Redis adapter and SignalR's Redis backplane do.
//
// Every publish on this instance is delivered locally first (the hub), then forwarded as
// `PUBLISH coronet:pubsub:<channel> <instance id>:<payload>`; a subscriber connection that
// PSUBSCRIBEs `coronet:pubsub:*` hands every other instance's message to the local hub only,
// and drops this instance's own echoes. Both redis connections live on worker 0; publishes
// from any thread are queued (bounded) and written there in pipelined batches.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <asio/io_context.hpp>

#include "coronet/core/task.hpp"
#include "coronet/server/server.hpp"

namespace coronet::detail {

class pubsub_hub;
class backplane_link;

// Where the backplane's redis-server is: `redis://HOST:PORT`, HOST a name, an IPv4 address or
// a bracketed IPv6 one, PORT 1 to 65535. Anything else (another scheme, a path, a password, no
// port) throws std::invalid_argument.
struct backplane_endpoint {
  std::string host;
  std::uint16_t port = 0;
  static backplane_endpoint parse(std::string_view url);
};

using backplane_state = pubsub_backplane_state;

class pubsub_backplane {
public:
  // The prefix of the redis channels it uses.
  static constexpr std::string_view channel_prefix = "coronet:pubsub:";
  // Messages forwarded but not yet written to redis-server, in bytes: over it, a publish is
  // counted as dropped (a slow or hung redis-server must not grow memory without bound).
  static constexpr std::size_t max_queued_bytes = 64 * 1024 * 1024;

  pubsub_backplane(backplane_endpoint at, pubsub_hub& hub, const server& srv);
  pubsub_backplane(const pubsub_backplane&) = delete;
  pubsub_backplane& operator=(const pubsub_backplane&) = delete;
  ~pubsub_backplane();

  // Any thread: queues the message for redis-server, or counts it as dropped while the
  // backplane is not connected.
  void forward(std::string_view channel, std::string_view payload);

  // The connection loop, spawned on worker 0 by server::run(); ends with the drain.
  task<void> run();

  // The first and the longest wait between two attempts to connect (doubling in between).
  std::chrono::milliseconds first_backoff{100};
  std::chrono::milliseconds max_backoff{5000};

  backplane_state state() const noexcept { return state_.load(std::memory_order_relaxed); }
  std::uint64_t forwarded() const noexcept { return forwarded_.load(std::memory_order_relaxed); }
  std::uint64_t received() const noexcept { return received_.load(std::memory_order_relaxed); }
  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
  std::string_view instance_id() const noexcept { return id_; }

private:
  struct queued {
    std::string channel;
    std::string payload;
  };

  void start_batch();
  task<void> write_batches();
  void take_message(std::string_view channel, std::string_view payload);
  void set_state(backplane_state s, std::string_view why);
  void lost(std::string_view why) noexcept;

  backplane_endpoint at_;
  pubsub_hub& hub_;
  const server& srv_;
  std::string id_;
  std::atomic<backplane_state> state_{backplane_state::connecting};
  std::atomic<std::uint64_t> forwarded_{0};
  std::atomic<std::uint64_t> received_{0};
  std::atomic<std::uint64_t> dropped_{0};

  // Worker 0's io_context, known once run() started there.
  std::atomic<asio::io_context*> ctx_{nullptr};

  std::mutex queue_mutex_;
  std::vector<queued> queue_;
  std::size_t queued_bytes_ = 0;
  bool posted_ = false;

  // Worker 0's thread only. The publisher is shared with the batch writing on it, so that a
  // reconnection never reuses a client a batch is still suspended in.
  std::shared_ptr<backplane_link> publisher_;
  backplane_link* subscriber_ = nullptr;
  bool batch_running_ = false;
  bool logged_once_ = false;
};

}  // namespace coronet::detail
