#include "server/pubsub/pubsub_client.hpp"

#include <new>

#include <algorithm>
#include <string>

#include "coronet/core/detail/log_limiter.hpp"
#include "coronet/core/log.hpp"
#include "server/pubsub/pubsub_frames.hpp"

namespace coronet::detail {
namespace {

// What UNSUBSCRIBE and PUNSUBSCRIBE share: `one` for each name given or, with none given,
// for each current one (copied out first: each is erased as it is answered), or `none` once
// when there are neither.
template <class Current, class One, class None>
void for_each_leaving(std::span<const std::string_view> names, const Current& current, One one, None none) {
  if (!names.empty()) {
    for (const std::string_view name : names)
      one(name);
    return;
  }
  if (current.empty()) {
    none();
    return;
  }
  const std::vector<std::string> all(current.begin(), current.end());
  for (const std::string& name : all)
    one(name);
}

log_limiter output_limit_log;

}  // namespace

pubsub_client::pubsub_client(pubsub_hub& hub, std::size_t worker, asio::io_context& ctx, connection& conn,
                             const pubsub_output_limit_options& limit) noexcept
    : conn_(conn), hub_(hub), worker_(worker), ctx_(ctx), limit_(limit) {
  conn_.pubsub = this;
}

pubsub_client::~pubsub_client() {
  drop_all();
  conn_.pubsub = nullptr;
}

void pubsub_client::subscribe(std::span<const std::string_view> channels, output_buffer& out) {
  for (const std::string_view channel : channels) {
    if (channels_.find(channel) == channels_.end()) {
      channels_.emplace(channel);
      try {
        hub_.subscribe(worker_, ctx_, *this, channel);
      } catch (...) {
        channels_.erase(std::string(channel));
        counted();
        throw;
      }
    }
    counted();
    append_confirmation(out, resp3(), "subscribe", &channel, subscriptions());
  }
}

void pubsub_client::leave_one(bool pattern, std::string_view name, output_buffer& out) {
  bool dropped = false;
  if (pattern) {
    if (const auto it = std::find(patterns_.begin(), patterns_.end(), name); it != patterns_.end()) {
      hub_.punsubscribe(worker_, *this, name);
      patterns_.erase(it);
      dropped = true;
    }
  } else if (const auto it = channels_.find(name); it != channels_.end()) {
    hub_.unsubscribe(worker_, *this, name);
    channels_.erase(it);
    dropped = true;
  }
  if (dropped)
    counted();
  append_confirmation(out, resp3(), pattern ? "punsubscribe" : "unsubscribe", &name, subscriptions());
}

void pubsub_client::unsubscribe(std::span<const std::string_view> channels, output_buffer& out) {
  for_each_leaving(
      channels, channels_, [&](std::string_view c) { leave_one(false, c, out); },
      [&] { append_confirmation(out, resp3(), "unsubscribe", nullptr, subscriptions()); });
}

void pubsub_client::psubscribe(std::span<const std::string_view> patterns, output_buffer& out) {
  for (const std::string_view pattern : patterns) {
    if (std::find(patterns_.begin(), patterns_.end(), pattern) == patterns_.end()) {
      patterns_.emplace_back(pattern);
      try {
        hub_.psubscribe(worker_, ctx_, *this, pattern);
      } catch (...) {
        patterns_.pop_back();
        counted();
        throw;
      }
    }
    counted();
    append_confirmation(out, resp3(), "psubscribe", &pattern, subscriptions());
  }
}

void pubsub_client::punsubscribe(std::span<const std::string_view> patterns, output_buffer& out) {
  for_each_leaving(
      patterns, patterns_, [&](std::string_view p) { leave_one(true, p, out); },
      [&] { append_confirmation(out, resp3(), "punsubscribe", nullptr, subscriptions()); });
}

void pubsub_client::drop_all() noexcept {
  for (const std::string& channel : channels_)
    hub_.unsubscribe(worker_, *this, channel);
  for (const std::string& pattern : patterns_)
    hub_.punsubscribe(worker_, *this, pattern);
  channels_.clear();
  patterns_.clear();
  counted();
}

bool pubsub_client::over_output_limit(std::size_t buffered) noexcept {
  bool over = limit_.hard_bytes != 0 && buffered > limit_.hard_bytes;
  if (!over && limit_.soft_bytes != 0 && buffered > limit_.soft_bytes) {
    const auto now = std::chrono::steady_clock::now();
    if (!soft_since_)
      soft_since_ = now;
    else
      over = now - *soft_since_ > limit_.soft_time;
  } else if (!over) {
    soft_since_.reset();
  }
  if (!over)
    return false;
  cut_off_ = true;
  drop_all();
  hub_.output_limit_disconnections.fetch_add(1, std::memory_order_relaxed);
  try {
    output_limit_log.log(log_level::info,
                         "closing a Pub/Sub subscriber whose unread output went over pubsub_output_limit (" +
                             std::to_string(buffered) + " bytes)");
  } catch (const std::bad_alloc&) {
    output_limit_log.log(log_level::info, "closing a Pub/Sub subscriber whose unread output went over its limit");
  }
  return true;
}

}  // namespace coronet::detail
