// The Pub/Sub hub of a server: who is subscribed to what, and the delivery of published
// messages to each subscriber on its own worker thread.
//
// Extension point: anything that can take messages for one connection -- a RESP session
// today; a Server-Sent Events stream or a WebSocket session later -- implements
// pubsub_sink and subscribes through the hub on its worker's thread. The hub never writes a
// socket: it hands each sink, on the sink's own worker, the shared message (with its RESP
// frame already encoded), and the sink appends it to its own output in its own framing, then
// writes once per delivery batch in flush().
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <asio/io_context.hpp>

namespace coronet::detail {

// Whether `channel` matches the glob `pattern` as Redis 7.0's stringmatchlen decides for
// PSUBSCRIBE and PUBSUB CHANNELS: core/detail/glob_match.hpp's rules, except that an empty
// channel matches the empty pattern only (stringmatchlen never looks at a pattern's stars
// when the string is empty, so even `*` does not match it).
bool pubsub_glob_match(std::string_view pattern, std::string_view channel) noexcept;

// One published message, shared (never copied) by every worker that delivers it.
class pubsub_message {
public:
  pubsub_message(std::string_view channel, std::string_view payload);
  std::string_view channel() const noexcept { return {frame_.data() + channel_at_, channel_size_}; }
  std::string_view payload() const noexcept { return {frame_.data() + payload_at_, payload_size_}; }
  // The RESP2 `message` frame (an array of 3); RESP3's push frame differs only in its first
  // byte, '>' for '*'.
  std::string_view frame() const noexcept { return frame_; }

private:
  std::string frame_;
  std::size_t channel_at_ = 0;
  std::size_t channel_size_ = 0;
  std::size_t payload_at_ = 0;
  std::size_t payload_size_ = 0;
};

// What a sink is handed for one message it subscribed to.
struct pubsub_delivery {
  std::string_view channel;
  std::string_view payload;
  // The pattern that matched, for a pattern subscription (`pattern_match` true).
  std::string_view pattern;
  bool pattern_match = false;
  // The whole RESP2 frame (`message` or `pmessage`); a RESP3 push is the same with '>' first.
  std::string_view resp_frame;
};

// A subscriber: one connection, on one worker. deliver() and flush() are called on that
// worker's thread only, deliver() once per message and subscription, flush() once after a
// batch of deliveries. Neither may subscribe or unsubscribe anything (flush() may close the
// connection and call pubsub_hub::drop, which is safe there).
class pubsub_sink {
public:
  pubsub_sink() = default;
  pubsub_sink(const pubsub_sink&) = delete;
  pubsub_sink& operator=(const pubsub_sink&) = delete;

  // Appends the message to the connection's output, without writing it yet.
  virtual void deliver(const pubsub_delivery& d) = 0;
  // Writes what deliver() appended since the last flush.
  virtual void flush() noexcept = 0;

  // The hub's: listed among the sinks to flush after the current batch.
  bool to_flush = false;

protected:
  ~pubsub_sink() = default;
};

class pubsub_hub {
public:
  explicit pubsub_hub(std::size_t workers);
  pubsub_hub(const pubsub_hub&) = delete;
  pubsub_hub& operator=(const pubsub_hub&) = delete;
  ~pubsub_hub();

  // Any thread: queues the message for every worker with a matching subscriber and returns
  // how many subscriptions matched (channel subscribers plus pattern matches, as Redis counts).
  std::size_t publish(std::string_view channel, std::string_view payload);

  // On worker `w`'s thread, whose io_context is `ctx`. The sink keeps its own list of what it
  // subscribed to: subscribing twice to one name, or unsubscribing from one it is not
  // subscribed to, is the caller's to avoid.
  void subscribe(std::size_t w, asio::io_context& ctx, pubsub_sink& s, std::string_view channel);
  void unsubscribe(std::size_t w, pubsub_sink& s, std::string_view channel);
  void psubscribe(std::size_t w, asio::io_context& ctx, pubsub_sink& s, std::string_view pattern);
  void punsubscribe(std::size_t w, pubsub_sink& s, std::string_view pattern);

  // Any thread: PUBSUB CHANNELS / NUMSUB / NUMPAT and INFO's figures.
  std::vector<std::string> channels(std::string_view pattern, bool all) const;
  std::size_t numsub(std::string_view channel) const;
  std::size_t numpat() const;
  std::size_t channel_count() const;

  // Subscribers closed for going over server_options::pubsub_output_limit.
  std::atomic<std::uint64_t> output_limit_disconnections{0};

private:
  struct worker;
  struct counts {
    std::size_t total = 0;
    std::vector<std::uint32_t> per_worker;
  };
  struct name_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  using count_table = std::unordered_map<std::string, counts, name_hash, std::equal_to<>>;

  void count(count_table& table, std::size_t w, asio::io_context& ctx, std::string_view name);
  void uncount(count_table& table, std::size_t w, std::string_view name);
  // Delivers the messages of w's inbox, writing to each subscriber once.
  void deliver_batch(worker& w);
  // deliver_batch for a batch whose messages all have one channel, and a worker with no
  // pattern subscriptions: subscriber by subscriber.
  static void deliver_one_channel(worker& w);
  // deliver_batch otherwise: message by message, then the writes.
  static void deliver_each_message(worker& w);
  static void unsubscribe_local(worker& k, pubsub_sink& s, std::string_view channel) noexcept;

  mutable std::mutex mutex_;
  count_table channels_;
  count_table patterns_;
  std::vector<std::unique_ptr<worker>> workers_;
};

}  // namespace coronet::detail
