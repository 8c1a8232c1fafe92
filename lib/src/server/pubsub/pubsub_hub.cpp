#include "server/pubsub/pubsub_hub.hpp"

#include <algorithm>
#include <new>
#include <utility>

#include <asio/post.hpp>

#include "coronet/core/detail/log_limiter.hpp"
#include "coronet/core/log.hpp"
#include "core/detail/glob_match.hpp"
#include "server/pubsub/pubsub_frames.hpp"

namespace coronet::detail {

bool pubsub_glob_match(std::string_view pattern, std::string_view channel) noexcept {
  return channel.empty() ? pattern.empty() : glob_match(pattern, channel);
}

pubsub_message::pubsub_message(std::string_view channel, std::string_view payload) {
  frame_.reserve(channel.size() + payload.size() + 48);
  frame_ += "*3\r\n$7\r\nmessage\r\n";
  append_bulk_header(frame_, channel.size());
  channel_at_ = frame_.size();
  channel_size_ = channel.size();
  frame_.append(channel);
  frame_ += "\r\n";
  append_bulk_header(frame_, payload.size());
  payload_at_ = frame_.size();
  payload_size_ = payload.size();
  frame_.append(payload);
  frame_ += "\r\n";
}

// What one worker's thread keeps, and its inbox, the one part other threads touch.
struct pubsub_hub::worker {
  struct pattern_sinks {
    std::string pattern;
    std::vector<pubsub_sink*> sinks;
  };

  // Set once, under the hub's mutex, by the first subscription on this worker.
  asio::io_context* ctx = nullptr;

  std::mutex inbox_mutex;
  std::vector<std::shared_ptr<const pubsub_message>> inbox;
  bool posted = false;

  // The worker's thread only.
  std::unordered_map<std::string, std::vector<pubsub_sink*>, name_hash, std::equal_to<>> channels;
  std::vector<pattern_sinks> patterns;
  std::vector<std::shared_ptr<const pubsub_message>> batch;
  std::vector<pubsub_sink*> to_flush;
  std::string pattern_frame;
};

namespace {

void remove_sink(std::vector<pubsub_sink*>& sinks, pubsub_sink& s) noexcept {
  const auto at = std::find(sinks.begin(), sinks.end(), &s);
  if (at != sinks.end()) {
    *at = sinks.back();
    sinks.pop_back();
  }
}

log_limiter delivery_log;

// Hands `d` to `s`; out of memory, this subscriber misses the message and the batch goes on
// for the others.
void hand_to(pubsub_sink& s, const pubsub_delivery& d) noexcept {
  try {
    s.deliver(d);
  } catch (const std::bad_alloc&) {
    delivery_log.log(log_level::error, "out of memory: a Pub/Sub subscriber misses a message");
  }
}

pubsub_delivery delivery_of(const pubsub_message& m) noexcept {
  return {m.channel(), m.payload(), {}, false, m.frame()};
}

}  // namespace

pubsub_hub::pubsub_hub(std::size_t workers) {
  workers_.reserve(workers);
  for (std::size_t i = 0; i < workers; ++i)
    workers_.push_back(std::make_unique<worker>());
}

pubsub_hub::~pubsub_hub() = default;

std::size_t pubsub_hub::publish(std::string_view channel, std::string_view payload) {
  // Which workers get the message; per publishing thread, so steady-state publishes allocate
  // nothing for it.
  thread_local std::vector<worker*> targets;
  targets.clear();
  std::size_t receivers = 0;
  {
    const std::lock_guard lock(mutex_);
    const auto mark = [&](const counts& c) {
      receivers += c.total;
      for (std::size_t w = 0; w < c.per_worker.size(); ++w)
        if (c.per_worker[w] != 0 && std::find(targets.begin(), targets.end(), workers_[w].get()) == targets.end())
          targets.push_back(workers_[w].get());
    };
    if (const auto it = channels_.find(channel); it != channels_.end())
      mark(it->second);
    for (const auto& [pattern, c] : patterns_)
      if (pubsub_glob_match(pattern, channel))
        mark(c);
  }
  if (targets.empty())
    return receivers;
  auto message = std::make_shared<const pubsub_message>(channel, payload);
  for (worker* w : targets) {
    // A worker whose loop has ended (the server stopped) takes nothing more: its inbox
    // would only grow.
    if (w->ctx->stopped())
      continue;
    bool post = false;
    {
      const std::lock_guard lock(w->inbox_mutex);
      w->inbox.push_back(message);
      post = !std::exchange(w->posted, true);
    }
    // One task per worker and batch: messages published meanwhile join the inbox.
    if (post) {
      try {
        asio::post(*w->ctx, [this, w] { deliver_batch(*w); });
      } catch (...) {
        // The next publish posts the batch again.
        const std::lock_guard lock(w->inbox_mutex);
        w->posted = false;
        throw;
      }
    }
  }
  return receivers;
}

void pubsub_hub::deliver_batch(worker& w) {
  {
    const std::lock_guard lock(w.inbox_mutex);
    w.batch.swap(w.inbox);
    w.posted = false;
  }
  if (w.batch.empty())
    return;
  const std::string_view first = w.batch.front()->channel();
  if (w.patterns.empty() && std::all_of(w.batch.begin(), w.batch.end(),
                                        [first](const auto& m) { return m->channel() == first; }))
    deliver_one_channel(w);
  else
    deliver_each_message(w);
  w.batch.clear();
}

void pubsub_hub::deliver_one_channel(worker& w) {
  const auto it = w.channels.find(w.batch.front()->channel());
  if (it == w.channels.end())
    return;
  // Each subscriber in turn gets the batch's messages and writes them at once: its output
  // grows into the block the last one's write gave back to the thread's cache, where
  // appending every message to every subscriber first would hold as many buffers as there
  // are subscribers. The list is copied: a flush may close its connection, whose
  // subscriptions then leave the channel's.
  try {
    w.to_flush.assign(it->second.begin(), it->second.end());
  } catch (const std::bad_alloc&) {
    w.to_flush.clear();
    return deliver_each_message(w);
  }
  for (pubsub_sink* s : w.to_flush) {
    for (const auto& m : w.batch)
      hand_to(*s, delivery_of(*m));
    s->flush();
  }
  w.to_flush.clear();
}

void pubsub_hub::deliver_each_message(worker& w) {
  const auto hand = [&w](pubsub_sink* s, const pubsub_delivery& d) {
    hand_to(*s, d);
    if (!s->to_flush) {
      s->to_flush = true;
      w.to_flush.push_back(s);
    }
  };
  for (const auto& m : w.batch) {
    const pubsub_delivery d = delivery_of(*m);
    if (const auto it = w.channels.find(d.channel); it != w.channels.end())
      for (pubsub_sink* s : it->second)
        hand(s, d);
    for (const auto& p : w.patterns) {
      if (!pubsub_glob_match(p.pattern, d.channel))
        continue;
      // Encoded once per pattern and message, whatever the number of its subscribers.
      w.pattern_frame.clear();
      append_pmessage(w.pattern_frame, p.pattern, d.channel, d.payload);
      const pubsub_delivery pd{d.channel, d.payload, p.pattern, true, w.pattern_frame};
      for (pubsub_sink* s : p.sinks)
        hand(s, pd);
    }
  }
  // A sink's flush may close its connection and drop its subscriptions, which touches the
  // tables above, never this list.
  for (std::size_t i = 0; i < w.to_flush.size(); ++i) {
    pubsub_sink* s = w.to_flush[i];
    s->to_flush = false;
    s->flush();
  }
  w.to_flush.clear();
}

void pubsub_hub::count(count_table& table, std::size_t w, asio::io_context& ctx, std::string_view name) {
  const std::lock_guard lock(mutex_);
  // Written once, before any count a publisher could see: publishers read it unlocked.
  if (workers_[w]->ctx == nullptr)
    workers_[w]->ctx = &ctx;
  auto it = table.find(name);
  if (it == table.end())
    it = table.emplace(std::string(name), counts{0, std::vector<std::uint32_t>(workers_.size(), 0)}).first;
  ++it->second.total;
  ++it->second.per_worker[w];
}

void pubsub_hub::uncount(count_table& table, std::size_t w, std::string_view name) {
  const std::lock_guard lock(mutex_);
  const auto it = table.find(name);
  if (it == table.end())
    return;
  --it->second.total;
  --it->second.per_worker[w];
  // As Redis: a name nobody subscribes to any more is forgotten.
  if (it->second.total == 0)
    table.erase(it);
}

void pubsub_hub::subscribe(std::size_t w, asio::io_context& ctx, pubsub_sink& s, std::string_view channel) {
  worker& k = *workers_[w];
  auto it = k.channels.find(channel);
  if (it == k.channels.end())
    it = k.channels.emplace(std::string(channel), std::vector<pubsub_sink*>{}).first;
  it->second.push_back(&s);
  try {
    count(channels_, w, ctx, channel);
  } catch (...) {
    unsubscribe_local(k, s, channel);
    throw;
  }
}

void pubsub_hub::unsubscribe_local(worker& k, pubsub_sink& s, std::string_view channel) noexcept {
  const auto it = k.channels.find(channel);
  if (it == k.channels.end())
    return;
  remove_sink(it->second, s);
  if (it->second.empty())
    k.channels.erase(it);
}

void pubsub_hub::unsubscribe(std::size_t w, pubsub_sink& s, std::string_view channel) {
  unsubscribe_local(*workers_[w], s, channel);
  uncount(channels_, w, channel);
}

void pubsub_hub::psubscribe(std::size_t w, asio::io_context& ctx, pubsub_sink& s, std::string_view pattern) {
  worker& k = *workers_[w];
  auto it = std::find_if(k.patterns.begin(), k.patterns.end(),
                         [pattern](const worker::pattern_sinks& p) { return p.pattern == pattern; });
  if (it == k.patterns.end()) {
    k.patterns.push_back({std::string(pattern), {}});
    it = k.patterns.end() - 1;
  }
  it->sinks.push_back(&s);
  try {
    count(patterns_, w, ctx, pattern);
  } catch (...) {
    remove_sink(it->sinks, s);
    if (it->sinks.empty())
      k.patterns.erase(it);
    throw;
  }
}

void pubsub_hub::punsubscribe(std::size_t w, pubsub_sink& s, std::string_view pattern) {
  worker& k = *workers_[w];
  const auto it = std::find_if(k.patterns.begin(), k.patterns.end(),
                               [pattern](const worker::pattern_sinks& p) { return p.pattern == pattern; });
  if (it != k.patterns.end()) {
    remove_sink(it->sinks, s);
    if (it->sinks.empty())
      k.patterns.erase(it);
  }
  uncount(patterns_, w, pattern);
}

std::vector<std::string> pubsub_hub::channels(std::string_view pattern, bool all) const {
  std::vector<std::string> out;
  const std::lock_guard lock(mutex_);
  for (const auto& [name, c] : channels_)
    if (all || pubsub_glob_match(pattern, name))
      out.push_back(name);
  return out;
}

std::size_t pubsub_hub::numsub(std::string_view channel) const {
  const std::lock_guard lock(mutex_);
  const auto it = channels_.find(channel);
  return it == channels_.end() ? 0 : it->second.total;
}

std::size_t pubsub_hub::numpat() const {
  const std::lock_guard lock(mutex_);
  return patterns_.size();
}

std::size_t pubsub_hub::channel_count() const {
  const std::lock_guard lock(mutex_);
  return channels_.size();
}

}  // namespace coronet::detail
