#include "server/pubsub/backplane.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <system_error>

#include <asio/buffer.hpp>
#include <asio/post.hpp>

#include "coronet/core/log.hpp"
#include "coronet/net/connect.hpp"
#include "coronet/net/io_context_executor.hpp"
#include "coronet/net/timeout.hpp"
#include "coronet/net/timer.hpp"
#include "coronet/protocol/resp/resp_codec.hpp"
#include "coronet/runtime/read_buffer.hpp"
#include "coronet/server/server.hpp"
#include "server/pubsub/pubsub_hub.hpp"

namespace coronet::detail {

// One RESP connection to the backplane's redis-server. The server layer does not use
// coronet::client (a sibling layer, see docs/architecture.md); this is the little of a client
// the backplane needs: requests queued then written at once, replies read in order.
class backplane_link {
public:
  explicit backplane_link(tcp::socket s) : socket_(std::move(s)) {}

  void send(std::span<const std::string_view> words) { resp_codec::encode_request(words, out_); }

  task<void> flush() {
    std::error_code ec;
    co_await socket_.write_all(asio::buffer(out_.view()), ec);
    if (ec)
      throw std::system_error(ec, "write");
    out_.clear();
  }

  task<reply> read() {
    for (;;) {
      if (in_.size() > 0) {
        reply r;
        const parse_result p = codec_.parse_reply(in_.data(), r, limits_);
        if (p.status == parse_status::complete) {
          in_.consume(p.consumed);
          co_return r;
        }
        if (p.status == parse_status::error)
          throw std::runtime_error("protocol error: " + std::string(p.error));
      }
      const asio::mutable_buffer room = in_.prepare(max_reply_bytes);
      if (room.size() == 0)
        throw std::runtime_error("protocol error: reply too large");
      std::error_code ec;
      const std::size_t n = co_await socket_.read_some(room, ec);
      in_.commit(n);
      if (ec)
        throw std::system_error(ec, "read");
    }
  }

  void close() noexcept {
    std::error_code ignored;
    socket_.close(ignored);
  }

private:
  static constexpr std::size_t max_reply_bytes = 520 * 1024 * 1024;
  tcp::socket socket_;
  output_buffer out_;
  read_buffer in_{4096};
  resp_codec codec_;
  codec_limits limits_{};
};

namespace {

// Connecting and the subscription's confirmation; a batch's replies.
constexpr std::chrono::seconds link_timeout{5};
// Requests of one pipelined write.
constexpr std::size_t batch_size = 256;

std::string random_instance_id() {
  std::random_device device;
  std::mt19937_64 gen((static_cast<std::uint64_t>(device()) << 32) ^ device());
  const std::uint64_t v = gen();
  static constexpr char hex[] = "0123456789abcdef";
  std::string id(16, '0');
  for (std::size_t i = 0; i < 16; ++i)
    id[i] = hex[(v >> (60 - 4 * i)) & 0xf];
  return id;
}

bool is_bulk(const reply& r) noexcept { return r.kind() == reply_kind::bulk; }

bool is_bulk(const reply& r, std::string_view value) { return is_bulk(r) && r.str() == value; }

}  // namespace

backplane_endpoint backplane_endpoint::parse(std::string_view url) {
  const auto bad = [url](std::string_view why) {
    return std::invalid_argument("pubsub_backplane '" + std::string(url) + "': " + std::string(why) +
                                 " (expected redis://HOST:PORT)");
  };
  constexpr std::string_view scheme = "redis://";
  if (url.substr(0, scheme.size()) != scheme)
    throw bad("not a redis:// URL");
  std::string_view rest = url.substr(scheme.size());
  if (!rest.empty() && rest.back() == '/')
    rest.remove_suffix(1);
  const std::size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos)
    throw bad("no port");
  std::string_view host = rest.substr(0, colon);
  const std::string_view port = rest.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  else if (host.find_first_of("[]:") != std::string_view::npos)
    throw bad("an IPv6 address goes in brackets");
  if (host.empty() || host.find_first_of("/@?#[] ") != std::string_view::npos)
    throw bad("no host, or a user, path or query");
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
    throw bad("the port is not a number from 1 to 65535");
  return {std::string(host), static_cast<std::uint16_t>(value)};
}

pubsub_backplane::pubsub_backplane(backplane_endpoint at, pubsub_hub& hub, const server& srv)
    : at_(std::move(at)), hub_(hub), srv_(srv), id_(random_instance_id()) {}

pubsub_backplane::~pubsub_backplane() = default;

void pubsub_backplane::forward(std::string_view channel, std::string_view payload) {
  if (state_.load(std::memory_order_relaxed) != backplane_state::connected) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const std::size_t bytes = channel.size() + payload.size();
  bool post = false;
  {
    const std::lock_guard lock(queue_mutex_);
    if (queued_bytes_ + bytes > max_queued_bytes) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    queue_.push_back({std::string(channel), std::string(payload)});
    queued_bytes_ += bytes;
    post = !std::exchange(posted_, true);
  }
  // run() set it before the state could read connected.
  if (post)
    asio::post(*ctx_.load(std::memory_order_acquire), [this] { start_batch(); });
}

void pubsub_backplane::start_batch() {
  if (batch_running_)
    return;
  batch_running_ = true;
  try {
    srv_.spawn(write_batches());
  } catch (const std::bad_alloc&) {
    batch_running_ = false;
    log(log_level::error, "pubsub backplane: out of memory; queued messages wait for the next publish");
  }
}

// Worker 0: writes what was queued, `batch_size` PUBLISHes per write, and reads their
// replies, until the queue is empty. A failure drops what was not acknowledged and closes
// both connections, which makes run() reconnect.
task<void> pubsub_backplane::write_batches() {
  std::vector<queued> batch;
  for (;;) {
    {
      const std::lock_guard lock(queue_mutex_);
      batch.swap(queue_);
      queued_bytes_ = 0;
      posted_ = false;
    }
    if (batch.empty())
      break;
    const std::shared_ptr<backplane_link> link = publisher_;
    std::size_t done = 0;
    std::string failure;
    if (!link) {
      failure = "not connected";
    } else {
      try {
        std::string key(channel_prefix);
        std::string value;
        while (done < batch.size()) {
          const std::size_t n = std::min(batch_size, batch.size() - done);
          for (std::size_t i = done; i < done + n; ++i) {
            key.resize(channel_prefix.size());
            key += batch[i].channel;
            value = id_;
            value += ':';
            value += batch[i].payload;
            const std::array<std::string_view, 3> words{"PUBLISH", key, value};
            link->send(words);
          }
          co_await with_timeout(link->flush(), link_timeout);
          for (std::size_t i = 0; i < n; ++i) {
            const reply r = co_await with_timeout(link->read(), link_timeout);
            if (r.kind() == reply_kind::error)
              dropped_.fetch_add(1, std::memory_order_relaxed);
            else
              forwarded_.fetch_add(1, std::memory_order_relaxed);
          }
          done += n;
        }
      } catch (const std::exception& e) {
        failure = e.what();
      }
    }
    if (done < batch.size()) {
      dropped_.fetch_add(batch.size() - done, std::memory_order_relaxed);
      if (srv_.draining())
        break;
      if (link)
        lost(failure);
    }
    batch.clear();
  }
  batch_running_ = false;
}

void pubsub_backplane::lost(std::string_view why) noexcept {
  // Closing the subscriber ends run()'s read, and run() reconnects both.
  if (publisher_)
    publisher_->close();
  if (subscriber_ != nullptr)
    subscriber_->close();
  if (state_.load(std::memory_order_relaxed) == backplane_state::connected)
    set_state(backplane_state::connecting, why);
}

void pubsub_backplane::take_message(std::string_view channel, std::string_view payload) {
  if (channel.substr(0, channel_prefix.size()) != channel_prefix || payload.size() < id_.size() + 1 ||
      payload[id_.size()] != ':')
    return;
  // Our own publishes were delivered here already.
  if (payload.substr(0, id_.size()) == id_)
    return;
  received_.fetch_add(1, std::memory_order_relaxed);
  hub_.publish(channel.substr(channel_prefix.size()), payload.substr(id_.size() + 1));
}

void pubsub_backplane::set_state(backplane_state s, std::string_view why) {
  const backplane_state was = state_.exchange(s, std::memory_order_relaxed);
  // Failing again while retrying is no news; the first failure is.
  if (was == s && s == backplane_state::connecting && logged_once_)
    return;
  logged_once_ = true;
  std::string line = "pubsub backplane redis://" + at_.host + ":" + std::to_string(at_.port) + ": ";
  line += to_string(s);
  if (s == backplane_state::connected)
    line += " (instance " + id_ + ")";
  else if (!why.empty())
    line += std::string(" after: ") + std::string(why) + "; retrying with back-off";
  log(s == backplane_state::connected ? log_level::info : log_level::warning, line);
}

task<void> pubsub_backplane::run() {
  const io_context_executor ex(co_await this_executor);
  ctx_.store(&ex.get().context(), std::memory_order_release);
  std::chrono::milliseconds backoff = first_backoff;
  std::string failure;
  std::optional<std::chrono::steady_clock::time_point> connected_at;
  while (!srv_.draining()) {
    std::optional<backplane_link> sub;
    try {
      tcp::socket s = co_await with_timeout(tcp::connect(ex, at_.host, at_.port), link_timeout);
      sub.emplace(std::move(s));
      const std::array<std::string_view, 2> words{"PSUBSCRIBE", "coronet:pubsub:*"};
      sub->send(words);
      co_await with_timeout(sub->flush(), link_timeout);
      const reply confirmed = co_await with_timeout(sub->read(), link_timeout);
      if (confirmed.kind() != reply_kind::array || confirmed.elements().empty() ||
          !is_bulk(confirmed.elements()[0], "psubscribe"))
        throw std::runtime_error("PSUBSCRIBE was refused: " + confirmed.to_string());
      tcp::socket p = co_await with_timeout(tcp::connect(ex, at_.host, at_.port), link_timeout);
      publisher_ = std::make_shared<backplane_link>(std::move(p));
      subscriber_ = &*sub;
      connected_at = std::chrono::steady_clock::now();
      set_state(backplane_state::connected, {});
      for (;;) {
        const reply m = co_await sub->read();
        const auto e = m.elements();
        if (m.kind() == reply_kind::array && e.size() == 4 && is_bulk(e[0], "pmessage") && is_bulk(e[2]) &&
            is_bulk(e[3]))
          take_message(e[2].str(), e[3].str());
      }
    } catch (const std::exception& e) {
      failure = e.what();
    }
    subscriber_ = nullptr;
    if (publisher_) {
      publisher_->close();
      publisher_.reset();
    }
    if (sub)
      sub->close();
    if (srv_.draining())
      break;
    // The back-off starts over after a connection that lasted; one that a redis-server drops
    // at once keeps doubling it, so that a flapping one cannot flood the log.
    if (connected_at && std::chrono::steady_clock::now() - *connected_at >= std::chrono::seconds(1))
      backoff = first_backoff;
    connected_at.reset();
    set_state(backplane_state::connecting, failure);
    std::error_code ec;
    co_await sleep_for(backoff, ec);
    backoff = std::min(backoff * 2, max_backoff);
  }
  state_.store(backplane_state::connecting, std::memory_order_relaxed);
}

}  // namespace coronet::detail

namespace coronet {

std::string_view to_string(pubsub_backplane_state s) noexcept {
  switch (s) {
    case pubsub_backplane_state::off: return "off";
    case pubsub_backplane_state::connecting: return "connecting";
    case pubsub_backplane_state::connected: return "connected";
  }
  return "off";
}

}  // namespace coronet
