// A connection's Pub/Sub subscriptions (connection::pubsub): what SUBSCRIBE, UNSUBSCRIBE,
// PSUBSCRIBE, PUNSUBSCRIBE and RESET do to it, and the output limit its deliveries are held to.
// A protocol's session derives its sink from it (resp_subscriber.hpp for RESP).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <asio/io_context.hpp>

#include "coronet/command/connection.hpp"
#include "coronet/server/server.hpp"
#include "server/pubsub/pubsub_hub.hpp"

namespace coronet::detail {

class pubsub_client : public pubsub_sink {
public:
  pubsub_client(pubsub_hub& hub, std::size_t worker, asio::io_context& ctx, connection& conn,
                const pubsub_output_limit_options& limit) noexcept;
  pubsub_client(const pubsub_client&) = delete;
  pubsub_client& operator=(const pubsub_client&) = delete;

  // Each appends Redis 7.0's confirmations to `out`, in the connection's RESP version: one per
  // name, or for UNSUBSCRIBE / PUNSUBSCRIBE without names one per subscription dropped (one
  // with a null name if there was none).
  void subscribe(std::span<const std::string_view> channels, output_buffer& out);
  void unsubscribe(std::span<const std::string_view> channels, output_buffer& out);
  void psubscribe(std::span<const std::string_view> patterns, output_buffer& out);
  void punsubscribe(std::span<const std::string_view> patterns, output_buffer& out);

  // RESET and the connection's end: every subscription dropped, without a reply.
  void drop_all() noexcept;

  std::size_t subscriptions() const noexcept { return channels_.size() + patterns_.size(); }
  pubsub_hub& hub() const noexcept { return hub_; }

protected:
  ~pubsub_client();

  // After a flush with `buffered` bytes unsent: true once the output is over the hard limit,
  // or over the soft one for longer than its time; the subscriber is then counted, logged and
  // its subscriptions dropped, and the caller closes the connection.
  bool over_output_limit(std::size_t buffered) noexcept;

  // Called as the connection enters (`on`) and leaves subscribed mode.
  virtual void subscribed(bool on) noexcept { static_cast<void>(on); }

  connection& conn_;
  // Set once the connection is being closed for its output: nothing more is delivered.
  bool cut_off_ = false;

private:
  struct name_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };

  void counted() noexcept {
    const bool was = conn_.subscriptions != 0;
    conn_.subscriptions = subscriptions();
    if (was != (conn_.subscriptions != 0))
      subscribed(!was);
  }
  bool resp3() const noexcept { return conn_.protover >= 3; }
  // UNSUBSCRIBE (`pattern` false) or PUNSUBSCRIBE of one name: dropped if subscribed, then
  // confirmed either way.
  void leave_one(bool pattern, std::string_view name, output_buffer& out);

  pubsub_hub& hub_;
  std::size_t worker_;
  asio::io_context& ctx_;
  const pubsub_output_limit_options& limit_;
  // As Redis: channels in a hash set, patterns in subscription order.
  std::unordered_set<std::string, name_hash, std::equal_to<>> channels_;
  std::vector<std::string> patterns_;
  // Since when the output has been over the soft limit.
  std::optional<std::chrono::steady_clock::time_point> soft_since_;
};

}  // namespace coronet::detail
